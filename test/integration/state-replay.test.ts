import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateVerification } from '../../src/audit/state-check.ts';
import { withdrawIfRecorded } from '../../src/outputs/record.ts';
import { outputs } from '../../src/outputs/tables.ts';
import { verifyState } from '../../src/state-projections.ts';
import { makeJpeg, makeMp4 } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { type FakeVertex, startFakeVertex } from '../support/fake-vertex.ts';
import { activeCheckpoint, dataset, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

/**
 * A ledger with a row in every state table a decision reads, built through the service; then one table at
 * a time is edited behind the log's back (triggers off, as a superuser would) and the replay must name
 * that table, row and column. Each forgery runs in a transaction that is rolled back after the check, so
 * the next case starts from the honest ledger again.
 */
describe.skipIf(databaseUnavailable())('the state tables replayed from the log', () => {
  let svc: TestService;
  let fake: FakeVertex;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    fake = await startFakeVertex({ progression: 'manual' });
    const { port } = fake.clientOptions();
    svc = await startTestService({ OUTPUT_SOFT_BINDING: 'pdq', VERTEX_PROJECT: 'dun-prod', VERTEX_LOCATION: 'us-central1', VERTEX_API_ENDPOINT: `http://127.0.0.1:${port}` });
    const [legal, vendor, generator] = await Promise.all([svc.token('legal'), svc.token('vendor', 'ml@acme', 'acme-vfx'), svc.token('generator')]);

    // Art, licenses, a dataset, an allowed clearance and a checkpoint trained under it.
    const made = await activeCheckpoint(svc, legal, vendor, 2, { grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' } });
    ids.asset = made.assets[0]!.assetId;
    ids.license = made.assets[0]!.licenseId!;
    ids.dataset = made.dataset.id;
    ids.clearance = made.clearance.id;
    ids.checkpoint = made.checkpoint.id;

    // An output signed from it, and withdrawn the way the sign path withdraws one its read-back refused.
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 7 })], 'frame.jpeg', { type: 'image/jpeg' }));
    form.set('checkpointId', ids.checkpoint);
    form.set('sourceAssetIds', ids.asset);
    const signed = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(signed.status).toBe(200);
    ids.output = signed.headers.get('clearframe-output-id')!;
    const db = svc.runtime.ctx.database.db;
    const [output] = await db.select().from(outputs).where(sql`${outputs.id} = ${ids.output}`);
    await withdrawIfRecorded(svc.runtime.ctx, { sub: 'generator-user', role: 'generator' }, Promise.resolve(output!), new Error('read-back refused'));

    // A video output: its sampled frames recorded beside it.
    const video = new FormData();
    video.set('file', new File([makeMp4({ frames: 25 })], 'shot.mp4', { type: 'video/mp4' }));
    video.set('checkpointId', ids.checkpoint);
    const signedVideo = await svc.call('POST', '/v1/outputs', { token: generator, form: video });
    expect(signedVideo.status).toBe(200);
    ids.video = signedVideo.headers.get('clearframe-output-id')!;

    // An approval, on a license whose derivatives grant asks for one.
    const approvable = await licensedAsset(svc, legal);
    ids.approvalLicense = approvable.licenseId!;
    ids.approvalAsset = approvable.assetId;
    const approval = await svc.call('POST', `/v1/licenses/${approvable.licenseId}/approvals`, {
      token: legal,
      json: { grant: 'derivatives', vendor: 'acme-vfx', purpose: 'fine-tune', validFrom: '2026-01-01T00:00:00Z', validUntil: '2027-01-01T00:00:00Z' },
    });
    expect(approval.status).toBe(201);
    ids.approval = ((await approval.json()) as { id: string }).id;

    // A tuning job under another clearance, followed through two states to a checkpoint of its own.
    const art = [await licensedAsset(svc, legal), await licensedAsset(svc, legal)];
    const d = await dataset(
      svc,
      legal,
      art.map((a) => a.assetId),
      'style pass',
      'acme-vfx',
    );
    const clearance = (await (
      await svc.call('POST', `/v1/datasets/${d.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'veo-3.0-generate-001' } })
    ).json()) as { id: string; token: string };
    const job = (await (
      await svc.call('POST', '/v1/tuning-jobs', {
        token: vendor,
        json: { clearanceToken: clearance.token, baseModel: 'veo-3.0-generate-001', trainingDataUri: 'gs://acme-vfx-training/dun/pass1.jsonl' },
      })
    ).json()) as { id: string; vertexJobName: string };
    ids.job = job.id;
    fake.advance(job.vertexJobName);
    expect((await svc.call('GET', `/v1/tuning-jobs/${job.id}`, { token: vendor })).status).toBe(200);

    // A revocation that taints the first checkpoint: a status row.
    const revoked = await svc.call('POST', `/v1/licenses/${ids.license}/revoke`, { token: legal, json: { reason: 'contract ended' } });
    expect(revoked.status).toBe(200);
    ids.revocation = (await db.execute(sql`select id from license_revocations where license_id = ${ids.license}`).then(rowsOf<{ id: string }>))[0]!.id;
  });
  afterAll(async () => {
    await svc?.close();
    await fake?.close();
  });

  /** The check run inside a transaction that first ran `forge` with triggers off; rolled back after. */
  async function forged(...statements: ReturnType<typeof sql>[]): Promise<StateVerification> {
    let result: StateVerification | undefined;
    await svc.runtime.ctx.database.db
      .transaction(async (tx) => {
        await tx.execute(sql`set local session_replication_role = replica`);
        for (const s of statements) await tx.execute(s);
        await tx.execute(sql`set local session_replication_role = origin`);
        result = await verifyState(tx, { window: 7 });
        throw new Rollback();
      })
      .catch((e) => {
        if (!(e instanceof Rollback)) throw e;
      });
    return result!;
  }

  it('passes the honest ledger, every table with rows', async () => {
    const r = await verifyState(svc.runtime.ctx.database.db);
    expect(r.problem).toBeUndefined();
    expect(r.ok).toBe(true);
    for (const table of [
      'service_keys',
      'assets',
      'license_versions',
      'license_revocations',
      'license_approvals',
      'datasets',
      'dataset_assets',
      'clearances',
      'policy_sets',
      'checkpoints',
      'checkpoint_status_events',
      'tuning_jobs',
      'tuning_job_states',
      'outputs',
      'output_withdrawals',
      'output_fingerprints',
      'output_manifest_stores',
      'output_video_frames',
    ]) {
      expect(r.rows[table], table).toBeGreaterThan(0);
    }
    // In windows smaller than the log too.
    expect(await verifyState(svc.runtime.ctx.database.db, { window: 3 })).toEqual(r);
  });

  const cases: [string, () => ReturnType<typeof sql>, () => string, string][] = [
    ['assets', () => sql`update assets set rights_holder = 'Someone Else' where id = ${ids.asset}`, () => ids.asset!, 'rights_holder'],
    ['license_versions', () => sql`update license_versions set grant_commercial = 'allowed' where id = ${ids.license}`, () => ids.license!, 'grant_commercial'],
    ['license_revocations', () => sql`update license_revocations set reason = 'typo' where id = ${ids.revocation}`, () => ids.revocation!, 'reason'],
    ['license_approvals', () => sql`update license_approvals set valid_until = '2099-01-01T00:00:00Z' where id = ${ids.approval}`, () => ids.approval!, 'valid_until'],
    ['datasets', () => sql`update datasets set owner_vendor = 'other-vfx' where id = ${ids.dataset}`, () => ids.dataset!, 'owner_vendor'],
    ['dataset_assets', () => sql`update dataset_assets set asset_id = ${ids.approvalAsset} where dataset_id = ${ids.dataset} and position = 1`, () => ids.dataset!, 'sha256'],
    ['clearances', () => sql`update clearances set decision = 'allow', vendor = 'other-vfx' where id = ${ids.clearance}`, () => ids.clearance!, 'vendor'],
    [
      'clearances',
      () => sql`update clearances set asset_decisions = jsonb_set(asset_decisions, '{assetCount}', '3') where id = ${ids.clearance}`,
      () => ids.clearance!,
      'asset_decisions',
    ],
    [
      'clearance_licenses',
      () => sql`insert into clearance_licenses (clearance_id, license_id, asset_count) values (${ids.clearance}, ${ids.approvalLicense}, 2)`,
      () => `${ids.clearance}/${ids.approvalLicense}`,
      '(row)',
    ],
    ['policy_sets', () => sql`update policy_sets set policies = '[]'::jsonb`, () => '', 'policies'],
    ['service_keys', () => sql`update service_keys set purpose = 'audit' where purpose = 'clearance'`, () => '', 'purpose'],
    ['checkpoints', () => sql`update checkpoints set vendor = 'other-vfx' where id = ${ids.checkpoint}`, () => ids.checkpoint!, 'vendor'],
    ['checkpoint_status_events', () => sql`delete from checkpoint_status_events where checkpoint_id = ${ids.checkpoint}`, () => `${ids.checkpoint}/1`, '(row)'],
    ['tuning_jobs', () => sql`update tuning_jobs set clearance_id = ${ids.clearance} where id = ${ids.job}`, () => ids.job!, 'clearance_id'],
    ['tuning_job_states', () => sql`update tuning_job_states set state = 'JOB_STATE_SUCCEEDED' where job_id = ${ids.job} and seq = 2`, () => `${ids.job}/2`, 'state'],
    ['outputs', () => sql`update outputs set checkpoint_id = ${ids.checkpoint}, source_asset_ids = '[]'::jsonb where id = ${ids.output}`, () => ids.output!, 'source_asset_ids'],
    ['output_withdrawals', () => sql`delete from output_withdrawals where output_id = ${ids.output}`, () => ids.output!, '(row)'],
    // A chunk that no longer agrees with the value would lead the index to another output's file.
    ['output_fingerprints', () => sql`update output_fingerprints set c3 = c3 # 1 where output_id = ${ids.output}`, () => '', 'c0..c15'],
    ['output_fingerprints', () => sql`update output_fingerprints set quality = 1 where output_id = ${ids.output}`, () => '', 'quality'],
    // Another manifest store than the one signed: the Soft Binding API would hand it out.
    ['output_manifest_stores', () => sql`update output_manifest_stores set store = store || '\\x00'::bytea where output_id = ${ids.output}`, () => ids.output!, 'sha256(store)'],
    // Likewise a video's frame, and a frame taken away would move the stretch a cut copy is matched to.
    ['output_video_frames', () => sql`update output_video_frames set c3 = c3 # 1 where output_id = ${ids.video} and at_ms = 0`, () => `${ids.video}/0`, 'c0..c15'],
    ['output_video_frames', () => sql`update output_video_frames set quality = 1 where output_id = ${ids.video}`, () => `${ids.video}/0`, 'quality'],
    ['output_video_frames', () => sql`delete from output_video_frames where output_id = ${ids.video} and at_ms = 0`, () => `${ids.video}/0`, '(row)'],
  ];
  for (const [table, forge, row, column] of cases) {
    it(`names a forged ${table} row and its column (${column})`, async () => {
      const r = await forged(forge());
      expect(r.ok).toBe(false);
      expect(r.problem).toMatchObject({ table, column });
      if (row()) expect(r.problem!.row).toBe(row());
    });
  }

  it('names the gate’s example: a license version whose training grant was turned from notAllowed to allowed', async () => {
    const legal = await svc.token('legal');
    const denied = await licensedAsset(svc, legal, { grants: { training: 'notAllowed', derivatives: 'notAllowed', commercial: 'notAllowed' } });
    const r = await forged(sql`update license_versions set grant_training = 'allowed' where id = ${denied.licenseId}`);
    expect(r.problem).toMatchObject({ table: 'license_versions', row: denied.licenseId, column: 'grant_training', inTable: 'allowed', inLog: 'notAllowed' });
  });

  it('names a row no entry states, and a row that claims another entry', async () => {
    const stray = await forged(
      sql`insert into license_approvals (id, license_id, "grant", vendor, purpose, valid_from, valid_until, created_at, created_by, audit_index)
          values ('apr_forged', ${ids.approvalLicense}, 'derivatives', 'other-vfx', 'fine-tune', now(), now() + interval '1 year', now(), 'legal-user', 3)`,
    );
    expect(stray.problem).toMatchObject({ table: 'license_approvals', row: 'apr_forged', column: '(row)', inLog: null });
    const beyond = await forged(
      sql`insert into license_approvals (id, license_id, "grant", vendor, purpose, valid_from, valid_until, created_at, created_by, audit_index)
          values ('apr_later', ${ids.approvalLicense}, 'derivatives', 'other-vfx', 'fine-tune', now(), now() + interval '1 year', now(), 'legal-user', 1000000)`,
    );
    expect(beyond.problem).toMatchObject({ table: 'license_approvals', row: 'apr_later', column: '(row)' });
    const moved = await forged(sql`update assets set audit_index = audit_index + 100000 where id = ${ids.asset}`);
    expect(moved.problem).toMatchObject({ table: 'assets', row: ids.asset, column: 'audit_index' });
  });
});

class Rollback extends Error {}

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
