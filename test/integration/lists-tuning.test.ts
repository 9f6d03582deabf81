/**
 * GET /v1/tuning-jobs: jobs with their last recorded state, filtered by state and clearance, paged, CSV
 * too; the roles of GET /v1/tuning-jobs/{id}, a vendor its own jobs only; an unknown filter is a 422.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/http/csv.ts';
import { databaseUnavailable } from '../support/db.ts';
import { type FakeVertex, startFakeVertex } from '../support/fake-vertex.ts';
import { dataset, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Item = { id: string; clearanceId: string; vendor: string; displayName: string | null; state: string; checkpointId: string | null; vertexJobName: string; auditIndex: number };
type Page = { items: Item[]; nextCursor: string | null };
type Problem = { errors: { field: string }[] };

const TRICKY = 'dun style, "pass 1"\nnight';

describe.skipIf(databaseUnavailable())('the tuning job list', () => {
  let svc: TestService;
  let fake: FakeVertex;
  let legal: string;
  let acme: string;
  let other: string;
  const clearances: Record<string, string> = {};
  const jobs: Record<string, Item> = {};

  async function clearance(vendorToken: string, vendor: string) {
    const asset = await licensedAsset(svc, legal, { vendors: [vendor] });
    const d = await dataset(svc, legal, [asset.assetId], 'style pass', vendor);
    const res = await svc.call('POST', `/v1/datasets/${d.id}/clearances`, { token: vendorToken, json: { purpose: 'fine-tune', baseModel: 'veo-3.0-generate-001' } });
    const c = (await res.json()) as { id: string; decision: string };
    expect(c.decision).toBe('allow');
    return c.id;
  }
  async function submit(token: string, clearanceId: string, displayName?: string) {
    const res = await svc.call('POST', '/v1/tuning-jobs', {
      token,
      json: { clearanceId, baseModel: 'veo-3.0-generate-001', trainingDataUri: 'gs://acme-vfx-training/dun/pass1.jsonl', ...(displayName ? { displayName } : {}) },
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Item;
  }

  beforeAll(async () => {
    fake = await startFakeVertex({ progression: 'manual' });
    const { port } = fake.clientOptions();
    svc = await startTestService({ VERTEX_PROJECT: 'dun-prod', VERTEX_LOCATION: 'us-central1', VERTEX_API_ENDPOINT: `http://127.0.0.1:${port}` });
    [legal, acme, other] = await Promise.all([svc.token('legal'), svc.token('vendor', 'ml@acme', 'acme-vfx'), svc.token('vendor', 'ops@other', 'other-house')]);
    clearances.one = await clearance(acme, 'acme-vfx');
    clearances.two = await clearance(acme, 'acme-vfx');
    clearances.theirs = await clearance(other, 'other-house');
    jobs.pending = await submit(acme, clearances.one, TRICKY);
    jobs.running = await submit(acme, clearances.one);
    jobs.done = await submit(acme, clearances.two);
    jobs.theirs = await submit(other, clearances.theirs);
    // Vertex moves two on; reading them records the new states (and the success registers a checkpoint).
    fake.advance(jobs.running.vertexJobName);
    fake.advance(jobs.done.vertexJobName);
    fake.advance(jobs.done.vertexJobName);
    for (const j of [jobs.running, jobs.done]) expect((await svc.call('GET', `/v1/tuning-jobs/${j.id}`, { token: acme })).status).toBe(200);
  });
  afterAll(async () => {
    await svc?.close();
    await fake?.close();
  });

  async function list(path: string, token = legal): Promise<Page> {
    const res = await svc.call('GET', path, { token });
    expect(res.status, path).toBe(200);
    return (await res.json()) as Page;
  }
  const ids = async (query: string, token = legal) => (await list(`/v1/tuning-jobs?limit=200&${query}`, token)).items.map((j) => j.id);
  const of = (...names: string[]) => names.map((n) => jobs[n]!.id);

  it('lists every job oldest first with its last recorded state and checkpoint', async () => {
    const all = await list('/v1/tuning-jobs');
    expect(all.items.map((j) => j.id)).toEqual(of('pending', 'running', 'done', 'theirs'));
    const byId = new Map(all.items.map((j) => [j.id, j]));
    expect(byId.get(jobs.pending!.id)).toMatchObject({ state: 'JOB_STATE_PENDING', displayName: TRICKY, checkpointId: null, vendor: 'acme-vfx', clearanceId: clearances.one });
    expect(byId.get(jobs.running!.id)!.state).toBe('JOB_STATE_RUNNING');
    expect(byId.get(jobs.done!.id)!.state).toBe('JOB_STATE_SUCCEEDED');
    expect(byId.get(jobs.done!.id)!.checkpointId).toMatch(/^ckp_/);
    expect(byId.get(jobs.theirs!.id)!.vendor).toBe('other-house');
  });

  it('filters by state and clearance; a vendor sees only its own', async () => {
    expect(await ids('state=JOB_STATE_RUNNING')).toEqual(of('running'));
    expect(await ids('state=JOB_STATE_PENDING')).toEqual(of('pending', 'theirs'));
    expect(await ids('state=JOB_STATE_FAILED')).toEqual([]);
    expect(await ids(`clearanceId=${clearances.one}`)).toEqual(of('pending', 'running'));
    expect(await ids(`clearanceId=${clearances.one}&state=JOB_STATE_PENDING`)).toEqual(of('pending'));
    expect(await ids('', acme)).toEqual(of('pending', 'running', 'done'));
    expect(await ids('', other)).toEqual(of('theirs'));
    expect(await ids('state=JOB_STATE_PENDING', other)).toEqual(of('theirs'));
    // Another vendor's clearance filters to nothing, as for an unknown one.
    expect(await ids(`clearanceId=${clearances.one}`, other)).toEqual([]);
    expect(await ids('', await svc.token('admin'))).toEqual(of('pending', 'running', 'done', 'theirs'));
  });

  it('pages through every row once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await list(`/v1/tuning-jobs?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(of('pending', 'running', 'done', 'theirs'));
  });

  it('answers the same rows as CSV', async () => {
    const json = await list('/v1/tuning-jobs', acme);
    const res = await svc.call('GET', '/v1/tuning-jobs', { token: acme, headers: { accept: 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(await res.text());
    const col = (name: string) => header!.indexOf(name);
    expect(header![0]).toBe('id');
    expect(rows.map((r) => r[col('id')])).toEqual(json.items.map((j) => j.id));
    for (const [i, j] of json.items.entries()) {
      expect(rows[i]).toHaveLength(header!.length);
      expect(rows[i]![col('state')]).toBe(j.state);
      expect(rows[i]![col('displayName')]).toBe(j.displayName ?? '');
      expect(rows[i]![col('checkpointId')]).toBe(j.checkpointId ?? '');
    }
    expect(rows[0]![col('displayName')]).toBe(TRICKY);
  });

  it('refuses other roles, unknown filters and bad values', async () => {
    for (const role of ['generator', 'distributor'] as const) expect((await svc.call('GET', '/v1/tuning-jobs', { token: await svc.token(role) })).status, role).toBe(403);
    expect((await svc.call('GET', '/v1/tuning-jobs')).status).toBe(401);
    for (const [query, field] of [
      ['vendor=acme-vfx', 'vendor'],
      ['state=RUNNING', 'state'],
      ['limit=1000', 'limit'],
      ['cursor=x', 'cursor'],
    ] as const) {
      const res = await svc.call('GET', `/v1/tuning-jobs?${query}`, { token: legal });
      expect(res.status, query).toBe(422);
      expect(
        ((await res.json()) as Problem).errors.map((e) => e.field),
        query,
      ).toContain(field);
    }
  });
});
