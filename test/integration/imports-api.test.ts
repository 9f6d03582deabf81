import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { readCsv as parseCsv } from '../../src/http/csv.ts';
import { makePng } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { randomSha } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const HEADER =
  'path,title,creator,rightsHolder,licensor,licensee,vendors,training,derivatives,commercial,territories,media,termStart,termEnd,exclusivity,attribution,contractId,contractSha256';
const terms = (training = 'allowed') => `Ortiz Studio,Upstairs Films,acme-vfx,${training},allowed,notAllowed,US;CA,theatrical;streaming,2026-01-01,2030-12-31,false,,,`;
const sheetOf = (...rows: string[]) => ({ name: 'terms.csv', content: Buffer.from(`\uFEFF${HEADER}\r\n${rows.join('\r\n')}\r\n`).toString('base64') });

type Job = { id: string; state: string; counts: Record<string, number>; errorRows: number; message: string | null };

describe.skipIf(databaseUnavailable())('bulk import: POST /v1/imports and its job', () => {
  let svc: TestService;
  let legal: string;
  const production = 'import-api-test';
  const files = ['env/a.png', 'env/b.png', 'chars/lead.psd'].map((path) => ({
    path,
    sha256: randomSha(),
    byteSize: 1000,
    mediaType: path.endsWith('.psd') ? 'image/vnd.adobe.photoshop' : 'image/png',
  }));
  const size = () => treeSize(svc.runtime.ctx.database.db);
  const post = async (body: Record<string, unknown>) => svc.call('POST', '/v1/imports', { token: legal, json: { production, files, ...body } });
  /** The job's event stream read to its end: every event's name and job. */
  const follow = async (id: string) => {
    const res = await svc.call('GET', `/v1/imports/${id}/events`, { token: legal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    return [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({ event: m[1]!, job: JSON.parse(m[2]!) as Job }));
  };
  const events = async (from: number) => {
    const res = await svc.call('GET', `/v1/audit/events?from=${from}&limit=1000`, { token: legal });
    return ((await res.json()) as { events: { action: string; subjectId: string; actor: { sub: string } }[] }).events;
  };

  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal', 'lee@legal');
  });
  afterAll(async () => svc?.close());

  it('a dry run plans every file and writes nothing', async () => {
    const before = await size();
    const res = await post({ sheet: sheetOf(`env/*.png,,R. Ortiz,Ortiz Studio,${terms()}`, `chars/lead.psd,Lead,M. Chen,,${terms('requiresApproval')}`), dryRun: true });
    expect(res.status).toBe(202);
    const job = (await res.json()) as Job;
    expect(job).toMatchObject({ state: 'planned', counts: { files: 3, planned: 3, created: 0, errors: 0 } });
    expect(await size()).toBe(before);
    const assets = await svc.call('GET', `/v1/assets?production=${production}`, { token: legal });
    expect(((await assets.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('imports every file with its terms, each asset and version audit-logged, with progress by Server-Sent Events', async () => {
    const before = await size();
    const res = await post({ sheet: sheetOf(`env/*.png,,R. Ortiz,Ortiz Studio,${terms()}`, `chars/lead.psd,Lead,M. Chen,,${terms('requiresApproval')}`) });
    expect(res.status).toBe(202);
    const job = (await res.json()) as Job;
    expect(res.headers.get('location')).toBe(`/v1/imports/${job.id}`);
    const stream = await follow(job.id);
    expect(stream.at(-1)).toMatchObject({ event: 'done', job: { id: job.id, state: 'done', counts: { created: 3, done: 3, errors: 0 } } });
    const got = (await (await svc.call('GET', `/v1/imports/${job.id}`, { token: legal })).json()) as Job;
    expect(got.state).toBe('done');
    const logged = await events(before);
    expect(logged.filter((e) => e.action === 'asset.registered')).toHaveLength(3);
    expect(logged.filter((e) => e.action === 'license.granted')).toHaveLength(3);
    expect(logged.every((e) => e.actor.sub === 'lee@legal')).toBe(true);
    const listed = (await (await svc.call('GET', `/v1/assets?production=${production}`, { token: legal })).json()) as { items: { id: string; title: string; sha256: string }[] };
    expect(listed.items.map((a) => a.title).sort()).toEqual(['Lead', 'a.png', 'b.png']);
    const lead = listed.items.find((a) => a.title === 'Lead')!;
    const history = (await (await svc.call('GET', `/v1/assets/${lead.id}/licenses`, { token: legal })).json()) as {
      items: { grants: { training: string }; term: { end: string } }[];
    };
    expect(history.items).toHaveLength(1);
    expect(history.items[0]).toMatchObject({ grants: { training: 'requiresApproval' }, term: { end: '2030-12-31T23:59:59.000Z' } });
  });

  it('run again, it leaves every file alone: no duplicate, no new entry', async () => {
    const before = await size();
    const res = await post({ sheet: sheetOf(`env/*.png,,R. Ortiz,Ortiz Studio,${terms()}`, `chars/lead.psd,Lead,M. Chen,,${terms('requiresApproval')}`) });
    const job = (await res.json()) as Job;
    expect(job).toMatchObject({ state: 'done', counts: { unchanged: 3, planned: 0, created: 0 } });
    expect(await size()).toBe(before);
  });

  it('other terms: refused without --amend (nothing written, the error file names the row), a new version with it', async () => {
    const before = await size();
    const changed = sheetOf(`env/*.png,,R. Ortiz,Ortiz Studio,${terms('notAllowed')}`, `chars/lead.psd,Lead,M. Chen,,${terms('requiresApproval')}`);
    const refused = (await (await post({ sheet: changed })).json()) as Job;
    expect(refused).toMatchObject({ state: 'rejected', errorRows: 1, counts: { errors: 1 } });
    expect(await size()).toBe(before);
    const errors = await svc.call('GET', `/v1/imports/${refused.id}/errors`, { token: legal });
    expect(errors.headers.get('content-type')).toMatch(/^text\/csv/);
    const [head, row] = parseCsv(await errors.text()).map((r) => r.cells);
    expect(head!.slice(-2)).toEqual(['errorColumn', 'error']);
    expect(row![0]).toBe('2');
    expect(row!.at(-1)).toMatch(/registered already .* with other terms; import with --amend/);

    const amended = (await (await post({ sheet: changed, amend: true })).json()) as Job;
    const done = (await follow(amended.id)).at(-1)!.job;
    expect(done).toMatchObject({ state: 'done', counts: { amended: 2, unchanged: 1 } });
    expect((await events(before)).map((e) => e.action)).toEqual(['license.amended', 'license.amended']);
  });

  it('a failing row stops the whole import, unless skipErrors: then the rows that pass are imported', async () => {
    const more = [
      ...files,
      { path: 'props/x.png', sha256: randomSha(), byteSize: 5, mediaType: 'image/png' },
      { path: 'props/y.png', sha256: randomSha(), byteSize: 5, mediaType: 'image/png' },
    ];
    const sheet = sheetOf(`props/x.png,,P,,${terms()}`, `props/y.png,,P,,${terms().replace('US;CA', 'US;XX')}`, `missing/*.png,,P,,${terms()}`);
    const before = await size();
    const rejected = (await (await svc.call('POST', '/v1/imports', { token: legal, json: { production, files: more, sheet } })).json()) as Job;
    expect(rejected).toMatchObject({ state: 'rejected', errorRows: 2 });
    expect(await size()).toBe(before);
    const skipping = (await (await svc.call('POST', '/v1/imports', { token: legal, json: { production, files: more, sheet, skipErrors: true } })).json()) as Job;
    const done = (await follow(skipping.id)).at(-1)!.job;
    expect(done).toMatchObject({ state: 'done', counts: { created: 1, errors: 2 } });
    const csv = await (await svc.call('GET', `/v1/imports/${skipping.id}/errors`, { token: legal })).text();
    expect(csv).toMatch(/""XX"" is not an ISO 3166-1 alpha-2 code/);
    expect(csv).toMatch(/missing\/\*\.png matches no file/);
  });

  it('takes the files themselves as multipart: the service hashes them', async () => {
    const png = makePng({ seed: 42 });
    const form = new FormData();
    form.set('production', 'import-upload');
    form.set('sheet', new File([`${HEADER}\n*.png,,R. Ortiz,,${terms()}\n`], 'terms.csv', { type: 'text/csv' }));
    form.append('files', new File([png], 'key/frame.png', { type: 'image/png' }));
    const res = await svc.call('POST', '/v1/imports', { token: legal, form });
    expect(res.status).toBe(202);
    const job = (await res.json()) as Job;
    // `*` stays within one folder: key/frame.png is not named by *.png, so the row names no file.
    expect(job).toMatchObject({ state: 'rejected', counts: { skipped: 1 } });
    const again = new FormData();
    again.set('production', 'import-upload');
    again.set('sheet', new File([`${HEADER}\n**/*.png,,R. Ortiz,,${terms()}\n`], 'terms.csv'));
    again.append('files', new File([png], 'key/frame.png', { type: 'image/png' }));
    const ok = (await (await svc.call('POST', '/v1/imports', { token: legal, form: again })).json()) as Job;
    expect((await follow(ok.id)).at(-1)!.job).toMatchObject({ state: 'done', counts: { created: 1 } });
    const listed = (await (await svc.call('GET', '/v1/assets?production=import-upload', { token: legal })).json()) as {
      items: { sha256: string; mediaType: string; byteSize: number }[];
    };
    expect(listed.items).toEqual([expect.objectContaining({ sha256: createHash('sha256').update(png).digest('hex'), mediaType: 'image/png', byteSize: png.byteLength })]);
  });

  it('runs one import of a production at a time: another while it runs is 409 naming it', async () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ path: `bulk/${i}.png`, sha256: randomSha(), byteSize: 10, mediaType: 'image/png' }));
    const body = { production: 'import-one-at-a-time', files: many, sheet: sheetOf(`bulk/*.png,,R. Ortiz,,${terms()}`) };
    const first = (await (await svc.call('POST', '/v1/imports', { token: legal, json: body })).json()) as Job;
    expect(first.state).toBe('running');
    const second = await svc.call('POST', '/v1/imports', { token: legal, json: body });
    expect(second.status).toBe(409);
    expect(await second.json()).toMatchObject({ runningImportId: first.id });
    // A dry run only reads: it is answered meanwhile.
    expect((await svc.call('POST', '/v1/imports', { token: legal, json: { ...body, dryRun: true } })).status).toBe(202);
    expect((await follow(first.id)).at(-1)!.job).toMatchObject({ state: 'done', counts: { created: 300 } });
    const after = (await (await svc.call('POST', '/v1/imports', { token: legal, json: body })).json()) as Job;
    expect(after).toMatchObject({ state: 'done', counts: { unchanged: 300 } });
  });

  it('starts one of two imports of a production sent at the same instant; the other is 409', async () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ path: `race/${i}.png`, sha256: randomSha(), byteSize: 10, mediaType: 'image/png' }));
    const body = { production: 'import-same-instant', files: many, sheet: sheetOf(`race/*.png,,R. Ortiz,,${terms()}`) };
    const answers = await Promise.all([0, 1, 2].map(() => svc.call('POST', '/v1/imports', { token: legal, json: body })));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409]);
    const started = (await answers.find((a) => a.status === 202)!.json()) as Job;
    expect((await follow(started.id)).at(-1)!.job).toMatchObject({ state: 'done', counts: { created: 200 } });
    // One license version per file: no second import recorded the same terms again.
    const listed = (await (await svc.call('GET', '/v1/assets?production=import-same-instant&limit=200', { token: legal })).json()) as { items: { id: string }[] };
    expect(listed.items).toHaveLength(200);
    const versions = await Promise.all(
      listed.items.slice(0, 20).map(async (a) => ((await (await svc.call('GET', `/v1/assets/${a.id}/licenses`, { token: legal })).json()) as { items: unknown[] }).items.length),
    );
    expect(new Set(versions)).toEqual(new Set([1]));
  });

  it('refuses a vendor (403), a bad body (422), an unreadable sheet (422) and an unknown job (404), changing nothing', async () => {
    const before = await size();
    const vendor = await svc.token('vendor', 'ops@acme');
    expect((await svc.call('POST', '/v1/imports', { token: vendor, json: { production, files, sheet: sheetOf() } })).status).toBe(403);
    const bad = await post({ sheet: sheetOf(), files: [{ path: '../x.png', sha256: 'nope', byteSize: 1, mediaType: 'image/png' }] });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toMatch(/problem\+json/);
    const unreadable = await post({ sheet: { name: 'terms.csv', content: Buffer.from('path\n"never closed').toString('base64') } });
    expect(unreadable.status).toBe(422);
    expect(((await unreadable.json()) as { detail: string }).detail).toMatch(/not valid CSV/);
    expect((await svc.call('GET', '/v1/imports/imp_unknown', { token: legal })).status).toBe(404);
    expect((await svc.call('GET', '/v1/imports/imp_unknown/errors', { token: legal })).status).toBe(404);
    expect(await size()).toBe(before);
  });
});
