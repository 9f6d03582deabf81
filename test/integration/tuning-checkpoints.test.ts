import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepTaints } from '../../src/checkpoints/service.ts';
import { databaseUnavailable } from '../support/db.ts';
import { type FakeVertex, startFakeVertex } from '../support/fake-vertex.ts';
import { dataset, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Job = {
  id: string;
  state: string;
  vertexJobName: string;
  checkpoint: { id: string; status: string } | null;
  stateHistory: { state: string }[];
  refresh: { ok: boolean } | null;
};
type Checkpoint = {
  id: string;
  status: string;
  causes: { kind: string; licenseId: string; assetIds: string[] }[];
  clearance: { id: string };
  dataset: { id: string; digest: string };
  statusHistory: { status: string; recorded: boolean }[];
  tuningJobId: string | null;
  vertex: { model: string } | null;
};

describe.skipIf(databaseUnavailable())('gated tuning on Vertex AI, checkpoints and taint', () => {
  let svc: TestService;
  let fake: FakeVertex;
  let legal: string;
  let vendor: string;

  beforeAll(async () => {
    fake = await startFakeVertex({ progression: 'manual' });
    const { port } = fake.clientOptions();
    svc = await startTestService({ VERTEX_PROJECT: 'dun-prod', VERTEX_LOCATION: 'us-central1', VERTEX_API_ENDPOINT: `http://127.0.0.1:${port}` });
    [legal, vendor] = await Promise.all([svc.token('legal'), svc.token('vendor', 'ml@acme', 'acme-vfx')]);
  });
  afterAll(async () => {
    await svc?.close();
    await fake?.close();
  });

  async function clearedDataset(n = 2, baseModel = 'veo-3.0-generate-001', term?: { start: string; end: string }) {
    const assets = [];
    for (let i = 0; i < n; i++) assets.push(await licensedAsset(svc, legal, term ? { term } : {}));
    const d = await dataset(
      svc,
      legal,
      assets.map((a) => a.assetId),
      'style pass',
      'acme-vfx',
    );
    const res = await svc.call('POST', `/v1/datasets/${d.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel } });
    const clearance = (await res.json()) as { id: string; token: string; decision: string };
    expect(clearance.decision).toBe('allow');
    return { assets, dataset: d, clearance };
  }
  const submit = (body: Record<string, unknown>, token = vendor) =>
    svc.call('POST', '/v1/tuning-jobs', { token, json: { baseModel: 'veo-3.0-generate-001', trainingDataUri: 'gs://acme-vfx-training/dun/pass1.jsonl', ...body } });
  const getJob = async (id: string) => (await (await svc.call('GET', `/v1/tuning-jobs/${id}`, { token: vendor })).json()) as Job;
  const getCheckpoint = async (id: string, token = legal) => (await (await svc.call('GET', `/v1/checkpoints/${id}`, { token })).json()) as Checkpoint;

  it('submits a job under a standing clearance, follows it to success, and registers the checkpoint', async () => {
    const { clearance, dataset: d } = await clearedDataset();
    const before = fake.requests.length;
    const res = await submit({ clearanceToken: clearance.token, hyperparameters: { epochCount: 4, adapterSize: 4 }, displayName: 'dun-style-1' });
    expect(res.status).toBe(201);
    const job = (await res.json()) as Job;
    expect(job.state).toBe('JOB_STATE_PENDING');
    const sent = fake.requests.slice(before).filter((r) => r.rpc === 'CreateTuningJob');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.parent).toBe('projects/dun-prod/locations/us-central1');
    expect(JSON.stringify(sent[0]!.tuningJob)).toContain('gs://acme-vfx-training/dun/pass1.jsonl');
    expect(JSON.stringify(sent[0]!.tuningJob)).toContain('veo-3.0-generate-001');

    fake.advance(job.vertexJobName);
    expect((await getJob(job.id)).state).toBe('JOB_STATE_RUNNING');
    fake.advance(job.vertexJobName);
    const done = await getJob(job.id);
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    expect(done.stateHistory.map((s) => s.state)).toEqual(['JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED']);
    expect(done.checkpoint).not.toBeNull();
    const ckp = await getCheckpoint(done.checkpoint!.id);
    expect(ckp).toMatchObject({ status: 'active', tuningJobId: job.id, clearance: { id: clearance.id }, dataset: { id: d.id, digest: d.digest } });
    expect(ckp.vertex!.model).toMatch(/^projects\/.+\/models\//);
    // a second read does not register it twice
    expect((await getJob(job.id)).checkpoint!.id).toBe(done.checkpoint!.id);

    const log = (await (await svc.call('GET', '/v1/audit/events?from=0&limit=1000', { token: legal })).json()) as { events: { action: string; subjectId: string }[] };
    const mine = log.events.filter((e) => e.subjectId === job.id || e.subjectId === ckp.id).map((e) => e.action);
    expect(mine).toEqual(['tuning-job.submitted', 'tuning-job.state-changed', 'tuning-job.state-changed', 'checkpoint.registered']);
  });

  // Another vendor's clearance and an unknown id are the same 404: test/integration/isolation.test.ts.
  it('refuses forged, wrong-model and revoked clearances with 403, and Vertex sees no call', async () => {
    const { clearance, assets } = await clearedDataset();
    const before = fake.requests.length;
    const forged = `${clearance.token.slice(0, -8)}AAAAAAAA`;
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ clearanceToken: forged }, vendor, /signature does not verify/],
      [{ clearanceId: clearance.id, baseModel: 'imagen-4.0-generate-001' }, vendor, /is for veo-3.0-generate-001/],
    ];
    for (const [body, token, reason] of cases) {
      const res = await submit(body, token);
      expect(res.status).toBe(403);
      const problem = (await res.json()) as { reasons: string[] };
      expect(problem.reasons.join(' ')).toMatch(reason);
    }
    await svc.call('POST', `/v1/licenses/${assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'withdrawn' } });
    const revoked = await submit({ clearanceId: clearance.id });
    expect(revoked.status).toBe(403);
    expect(((await revoked.json()) as { reasons: string[] }).reasons.join(' ')).toMatch(/was revoked/);
    expect(fake.requests.length).toBe(before);
    expect((await submit({ clearanceId: clearance.id }, legal)).status).toBe(403); // role
    expect((await submit({ clearanceId: clearance.id, trainingDataUri: 'http://example.com/x' })).status).toBe(422);
  });

  it('refuses an expired clearance token', async () => {
    const { clearance } = await clearedDataset();
    const { signClearanceToken } = await import('../../src/gate/clearance-token.ts');
    const { decodeJwt } = await import('jose');
    const claims = decodeJwt(clearance.token) as never as Parameters<typeof signClearanceToken>[1];
    const expired = await signClearanceToken(svc.runtime.ctx.keyring.clearance, { ...claims, iat: claims.iat - 7200, exp: Math.floor(Date.now() / 1000) - 60 });
    const res = await submit({ clearanceToken: expired });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { reasons: string[] }).reasons).toContain('the clearance token has expired');
  });

  it('answers 502 when Vertex refuses, records nothing; a job that fails later ends FAILED without a checkpoint', async () => {
    const { clearance } = await clearedDataset();
    fake.nextCreate({ kind: 'reject', error: { status: 'INVALID_ARGUMENT', message: 'training dataset not found' } });
    const res = await submit({ clearanceId: clearance.id });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/training dataset not found/);
    const jobs = (await (await svc.call('GET', '/v1/audit/events?from=0&limit=1000', { token: legal })).json()) as {
      events: { action: string; content: { clearanceId?: string } }[];
    };
    expect(jobs.events.filter((e) => e.action === 'tuning-job.submitted' && e.content.clearanceId === clearance.id)).toHaveLength(0);

    fake.nextCreate({ kind: 'failLater', error: { code: 3, message: 'bad examples' } });
    const later = (await (await submit({ clearanceId: clearance.id })).json()) as Job;
    fake.advance(later.vertexJobName);
    fake.advance(later.vertexJobName);
    const failed = (await (await svc.call('GET', `/v1/tuning-jobs/${later.id}`, { token: vendor })).json()) as Job & { error: { message: string } };
    expect(failed.state).toBe('JOB_STATE_FAILED');
    expect(failed.error.message).toBe('bad examples');
    expect(failed.checkpoint).toBeNull();
  });

  it('registers external checkpoints only under a standing clearance of the caller', async () => {
    const { clearance } = await clearedDataset(1, 'imagen-4.0-generate-001');
    const body = { clearanceId: clearance.id, baseModel: 'imagen-4.0-generate-001', externalRef: 's3://acme/ckpt-1200', artifactDigest: `sha256:${'ab'.repeat(32)}` };
    const other = await svc.token('vendor', 'x@other', 'other-house');
    expect((await svc.call('POST', '/v1/checkpoints', { token: other, json: body })).status).toBe(404); // as an unknown id
    expect((await svc.call('POST', '/v1/checkpoints', { token: vendor, json: { ...body, artifactDigest: 'md5:abc' } })).status).toBe(422);
    const res = await svc.call('POST', '/v1/checkpoints', { token: vendor, json: body });
    expect(res.status).toBe(201);
    const ckp = (await res.json()) as Checkpoint;
    expect(ckp.status).toBe('active');
    expect((await svc.call('GET', `/v1/checkpoints/${ckp.id}`, { token: other })).status).toBe(404);

    const retire = await svc.call('POST', `/v1/checkpoints/${ckp.id}/retire`, { token: legal, json: { reason: 'superseded by pass 2' } });
    expect(((await retire.json()) as Checkpoint).status).toBe('retired');
    expect((await svc.call('POST', `/v1/checkpoints/${ckp.id}/retire`, { token: legal, json: { reason: 'again' } })).status).toBe(409);
    expect((await svc.call('POST', `/v1/checkpoints/${ckp.id}/retire`, { token: vendor, json: { reason: 'x' } })).status).toBe(403);
  });

  it('taints exactly the checkpoints built on a revoked license, also with overlapping datasets', async () => {
    const shared = await licensedAsset(svc, legal);
    const onlyA = await licensedAsset(svc, legal);
    const onlyB = await licensedAsset(svc, legal);
    const dA = await dataset(svc, legal, [shared.assetId, onlyA.assetId], 'A', 'acme-vfx');
    const dB = await dataset(svc, legal, [shared.assetId, onlyB.assetId], 'B', 'acme-vfx');
    const dC = await dataset(svc, legal, [onlyB.assetId], 'C', 'acme-vfx');
    const register = async (datasetId: string) => {
      const c = (await (
        await svc.call('POST', `/v1/datasets/${datasetId}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001' } })
      ).json()) as { id: string };
      return (await (
        await svc.call('POST', '/v1/checkpoints', {
          token: vendor,
          json: { clearanceId: c.id, baseModel: 'imagen-4.0-generate-001', externalRef: `ref-${datasetId}`, artifactDigest: `sha256:${'cd'.repeat(32)}` },
        })
      ).json()) as Checkpoint;
    };
    const [kA, kB, kC] = [await register(dA.id), await register(dB.id), await register(dC.id)];

    const impact = (await (await svc.call('POST', `/v1/licenses/${shared.licenseId}/revoke?dryRun=true`, { token: legal, json: { reason: 'preview' } })).json()) as {
      wouldTaintCheckpoints: { id: string }[];
    };
    expect(impact.wouldTaintCheckpoints.map((k) => k.id).sort()).toEqual([kA.id, kB.id].sort());
    const downstream = (await (await svc.call('GET', `/v1/assets/${shared.assetId}/downstream`, { token: legal })).json()) as {
      datasets: { id: string }[];
      checkpoints: { id: string }[];
    };
    expect(downstream.datasets.map((d) => d.id).sort()).toEqual([dA.id, dB.id].sort());
    expect(downstream.checkpoints.map((k) => k.id).sort()).toEqual([kA.id, kB.id].sort());
    expect((await getCheckpoint(kA.id)).status).toBe('active'); // the dry run changed nothing

    const revoke = (await (await svc.call('POST', `/v1/licenses/${shared.licenseId}/revoke`, { token: legal, json: { reason: 'artist withdrew consent' } })).json()) as {
      taintedCheckpoints: string[];
    };
    expect(revoke.taintedCheckpoints.sort()).toEqual([kA.id, kB.id].sort());
    for (const k of [kA, kB]) {
      const now = await getCheckpoint(k.id);
      expect(now.status).toBe('tainted');
      expect(now.causes[0]).toMatchObject({ kind: 'license-revoked', licenseId: shared.licenseId, assetIds: [shared.assetId] });
      expect(now.statusHistory.map((h) => [h.status, h.recorded])).toEqual([
        ['active', true],
        ['tainted', true],
      ]);
    }
    expect((await getCheckpoint(kC.id)).status).toBe('active');
    // Lists read every status at once: the same answer as each checkpoint's own view, for each status.
    const kD = await register(dC.id);
    expect((await svc.call('POST', `/v1/checkpoints/${kD.id}/retire`, { token: legal, json: { reason: 'superseded' } })).status).toBe(200);
    const listed = (await (await svc.call('GET', '/v1/checkpoints?limit=200', { token: legal })).json()) as { items: { id: string; status: string }[] };
    const statusOf = new Map(listed.items.map((k) => [k.id, k.status]));
    expect([kA, kB, kC, kD].map((k) => statusOf.get(k.id))).toEqual(['tainted', 'tainted', 'active', 'retired']);
    for (const k of listed.items) expect(k.status, k.id).toBe((await getCheckpoint(k.id)).status);
    const after = (await (await svc.call('GET', `/v1/assets/${onlyB.assetId}/downstream`, { token: legal })).json()) as { checkpoints: { id: string; status: string }[] };
    expect(Object.fromEntries(after.checkpoints.map((k) => [k.id, k.status]))).toEqual({ [kB.id]: 'tainted', [kC.id]: 'active', [kD.id]: 'retired' });
    const log = (await (await svc.call('GET', '/v1/audit/events?from=0&limit=1000', { token: legal })).json()) as { events: { action: string; subjectId: string }[] };
    expect(
      log.events
        .filter((e) => e.action === 'checkpoint.tainted')
        .map((e) => e.subjectId)
        .sort(),
    ).toEqual([kA.id, kB.id].sort());
  });

  it('taints on read when a license term ends, and the sweep writes the audit event', async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const { clearance, assets } = await clearedDataset(1, 'imagen-4.0-generate-001', { start: '2026-01-01T00:00:00Z', end: soon });
    const ckp = (await (
      await svc.call('POST', '/v1/checkpoints', {
        token: vendor,
        json: { clearanceId: clearance.id, baseModel: 'imagen-4.0-generate-001', externalRef: 'x', artifactDigest: `sha256:${'ef'.repeat(32)}` },
      })
    ).json()) as Checkpoint;
    expect(ckp.status).toBe('active');
    await new Promise((r) => setTimeout(r, 1700));
    const read = await getCheckpoint(ckp.id);
    expect(read.status).toBe('tainted');
    expect(read.causes[0]).toMatchObject({ kind: 'license-expired', licenseId: assets[0]!.licenseId });
    expect(read.statusHistory.at(-1)).toMatchObject({ status: 'tainted', recorded: false });
    const swept = await sweepTaints(svc.runtime.ctx.ledger);
    expect(swept).toContain(ckp.id);
    expect((await getCheckpoint(ckp.id)).statusHistory.at(-1)).toMatchObject({ status: 'tainted', recorded: true });
    expect(await sweepTaints(svc.runtime.ctx.ledger)).not.toContain(ckp.id);
    const verdict = (await (await svc.call('POST', '/v1/clearances/verify', { token: vendor, json: { token: clearance.token } })).json()) as { standing: { status: string } };
    expect(verdict.standing.status).toBe('revoked');
  });

  it('answers 503 when Vertex is not configured', async () => {
    const bare = await startTestService();
    try {
      const v = await bare.token('vendor', 'ml@acme', 'acme-vfx');
      const l = await bare.token('legal');
      const a = await licensedAsset(bare, l);
      const d = await dataset(bare, l, [a.assetId], 'style pass', 'acme-vfx');
      const c = (await (await bare.call('POST', `/v1/datasets/${d.id}/clearances`, { token: v, json: { purpose: 'fine-tune', baseModel: 'veo-3.0-generate-001' } })).json()) as {
        id: string;
      };
      const res = await bare.call('POST', '/v1/tuning-jobs', {
        token: v,
        json: { clearanceId: c.id, baseModel: 'veo-3.0-generate-001', trainingDataUri: 'gs://dun-bucket/x.jsonl' },
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/VERTEX_PROJECT/);
    } finally {
      await bare.close();
    }
  });
});
