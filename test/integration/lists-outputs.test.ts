/**
 * GET /v1/outputs: signed outputs across checkpoints with their standing, filtered by checkpoint, clearance,
 * signing date and standing, paged without duplicate or gap, as CSV too; the readers of GET /v1/outputs/{id}
 * only; an unknown filter or a bad value is a 422 naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/http/csv.ts';
import { signOutput } from '../../src/outputs/sign.ts';
import type { ManifestEngine } from '../../src/provenance/c2pa/types.ts';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Item = {
  id: string;
  checkpointId: string;
  clearanceId: string;
  generator: { name: string; version?: string } | null;
  createdAt: string;
  auditIndex: number;
  standing: { status: string; cause: { code: string } | null };
  withdrawal: unknown;
};
type Page = { items: Item[]; nextCursor: string | null };
type Problem = { errors: { field: string }[] };

const TRICKY = 'render, "farm"\nnight shift';

describe.skipIf(databaseUnavailable())('the output list', () => {
  let svc: TestService;
  let legal: string;
  let generator: string;
  let distributor: string;
  let vendor: string;
  let a: Awaited<ReturnType<typeof activeCheckpoint>>;
  let b: Awaited<ReturnType<typeof activeCheckpoint>>;
  const onA: string[] = [];
  const onB: string[] = [];
  let withdrawn = '';

  async function sign(checkpointId: string, seed: number, generatorName?: string): Promise<string> {
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpointId);
    if (generatorName) form.set('generatorName', generatorName);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status).toBe(200);
    return res.headers.get('clearframe-output-id')!;
  }

  beforeAll(async () => {
    svc = await startTestService();
    [legal, generator, distributor, vendor] = await Promise.all([
      svc.token('legal'),
      svc.token('generator', 'render@upstairs.example'),
      svc.token('distributor'),
      svc.token('vendor'),
    ]);
    a = await activeCheckpoint(svc, legal, vendor, 1);
    b = await activeCheckpoint(svc, legal, vendor, 1);
    onA.push(await sign(a.checkpoint.id, 61, TRICKY), await sign(a.checkpoint.id, 62), await sign(a.checkpoint.id, 63));
    onB.push(await sign(b.checkpoint.id, 64), await sign(b.checkpoint.id, 65));
    // An output whose signed file the read-back refuses: recorded, then withdrawn by the ledger.
    const ctx = svc.runtime.ctx;
    const damaging: ManifestEngine = {
      sign: (input) =>
        ctx.c2pa.sign({
          ...input,
          onSigned: async (s) => {
            await input.onSigned!(s);
            s.bytes[s.bytes.length - 10]! ^= 0xff;
          },
        }),
      read: (input) => ctx.c2pa.read(input),
    };
    await signOutput(
      { ...ctx, c2pa: damaging },
      { sub: 'render-farm', role: 'generator' },
      {
        bytes: makeJpeg({ seed: 66 }),
        mimeType: 'image/jpeg',
        title: 't',
        checkpointId: b.checkpoint.id,
        sourceAssetIds: [],
      },
    ).catch(() => undefined);
    // A's license revoked: its checkpoint is tainted, and with it every output it signed.
    const revoke = await svc.call('POST', `/v1/licenses/${a.assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'Contract C-17 terminated' } });
    expect(revoke.status).toBe(200);
    const all = await list('/v1/outputs?limit=200');
    withdrawn = all.items.find((o) => o.withdrawal !== null)!.id;
  });
  afterAll(async () => svc?.close());

  async function list(path: string, token = legal): Promise<Page> {
    const res = await svc.call('GET', path, { token });
    expect(res.status, path).toBe(200);
    return (await res.json()) as Page;
  }
  const ids = async (query: string) => (await list(`/v1/outputs?limit=200&${query}`)).items.map((o) => o.id).sort();
  const sorted = (...xs: string[]) => [...xs].sort();

  it('lists every output oldest first, each with its standing', async () => {
    const all = await list('/v1/outputs?limit=200');
    expect(all.items.map((o) => o.id)).toEqual([...onA, ...onB, withdrawn]);
    expect(all.nextCursor).toBeNull();
    const byId = new Map(all.items.map((o) => [o.id, o]));
    for (const id of onA) expect(byId.get(id)!.standing).toMatchObject({ status: 'tainted', cause: { code: 'license-revoked' } });
    for (const id of onB) expect(byId.get(id)!.standing).toEqual({ status: 'good', cause: null });
    expect(byId.get(withdrawn)!.standing).toMatchObject({ status: 'withdrawn', cause: { code: 'output-withdrawn' } });
    // Multipart sends a line break in a field as CRLF (the HTML form encoding): the name is stored so.
    expect(byId.get(onA[0]!)!.generator).toEqual({ name: TRICKY.replace('\n', '\r\n') });
    // The same record GET /v1/outputs/{id} answers, with the standing beside it.
    const one = (await (await svc.call('GET', `/v1/outputs/${onB[0]}`, { token: legal })).json()) as Record<string, unknown>;
    const { standing: _, ...listed } = byId.get(onB[0]!)!;
    expect(listed).toEqual(one);
  });

  it('filters by checkpoint, clearance, signing date and standing', async () => {
    expect(await ids(`checkpointId=${a.checkpoint.id}`)).toEqual(sorted(...onA));
    expect(await ids(`clearanceId=${b.clearance.id}`)).toEqual(sorted(...onB, withdrawn));
    expect(await ids('standing=tainted')).toEqual(sorted(...onA));
    expect(await ids('standing=good')).toEqual(sorted(...onB));
    expect(await ids('standing=withdrawn')).toEqual([withdrawn]);
    expect(await ids(`standing=good&checkpointId=${a.checkpoint.id}`)).toEqual([]);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(await ids(`signedAfter=${tomorrow}`)).toEqual([]);
    expect(await ids(`signedBefore=${tomorrow}`)).toEqual(sorted(...onA, ...onB, withdrawn));
    expect(await ids('signedBefore=2020-01-01')).toEqual([]);
    const all = (await list('/v1/outputs?limit=200')).items;
    const third = all[2]!.createdAt;
    // signedAfter is inclusive, signedBefore exclusive: together they split the list at one instant.
    const after = await ids(`signedAfter=${encodeURIComponent(third)}`);
    const before = await ids(`signedBefore=${encodeURIComponent(third)}`);
    expect([...after, ...before].sort()).toEqual(sorted(...all.map((o) => o.id)));
    expect(after).toContain(all[2]!.id);
  });

  it('pages through every row once, with a standing filter too', async () => {
    const walk = async (query: string, limit: number) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Page = await list(`/v1/outputs?limit=${limit}&${query}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((o) => o.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      return { seen, pages };
    };
    expect(await walk('', 2)).toEqual({ seen: [...onA, ...onB, withdrawn], pages: 3 });
    expect(await walk('standing=good', 1)).toEqual({ seen: onB, pages: 2 });
    expect(await walk('standing=tainted', 2)).toEqual({ seen: onA, pages: 2 });
  });

  it('answers the same rows as CSV for Accept: text/csv', async () => {
    const json = await list('/v1/outputs?limit=200');
    const res = await svc.call('GET', '/v1/outputs?limit=200', { token: distributor, headers: { accept: 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(await res.text());
    expect(header!.slice(0, 3)).toEqual(['id', 'checkpointId', 'clearanceId']);
    const col = (name: string) => header!.indexOf(name);
    expect(rows.map((r) => r[col('id')])).toEqual(json.items.map((o) => o.id));
    for (const [i, o] of json.items.entries()) {
      expect(rows[i]).toHaveLength(header!.length);
      expect(rows[i]![col('checkpointId')]).toBe(o.checkpointId);
      expect(rows[i]![col('standing')]).toBe(o.standing.status);
      expect(rows[i]![col('standingCause')]).toBe(o.standing.cause?.code ?? '');
      expect(rows[i]![col('generatorName')]).toBe(o.generator?.name ?? '');
      expect(rows[i]![col('auditIndex')]).toBe(String(o.auditIndex));
    }
    expect(rows[0]![col('generatorName')]).toBe(TRICKY.replace('\n', '\r\n'));
    const paged = await svc.call('GET', '/v1/outputs?limit=4', { token: legal, headers: { accept: 'text/csv' } });
    expect(parseCsv(await paged.text())).toHaveLength(5);
    expect(paged.headers.get('clearframe-next-cursor')).toBe(String(json.items[3]!.auditIndex));
  });

  it('admits the readers of GET /v1/outputs/{id}, refuses others, and refuses unknown filters and bad values', async () => {
    expect((await list('/v1/outputs', generator)).items).toHaveLength(6);
    expect((await list('/v1/outputs', distributor)).items).toHaveLength(6);
    expect((await svc.call('GET', '/v1/outputs', { token: vendor })).status).toBe(403);
    expect((await svc.call('GET', '/v1/outputs')).status).toBe(401);
    for (const [query, field] of [
      ['checkpoint=ckp_x', 'checkpoint'],
      ['status=good', 'status'],
      ['standing=standing', 'standing'],
      ['signedAfter=yesterday', 'signedAfter'],
      ['signedBefore=2026-13-01', 'signedBefore'],
      ['limit=0', 'limit'],
      ['cursor=-1', 'cursor'],
    ] as const) {
      const res = await svc.call('GET', `/v1/outputs?${query}`, { token: legal });
      expect(res.status, query).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(
        ((await res.json()) as Problem).errors.map((e) => e.field),
        query,
      ).toContain(field);
    }
  });
});
