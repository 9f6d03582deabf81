import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { databaseUnavailable } from '../support/db.ts';
import { licenseBody } from '../support/fixtures.ts';
import { activeCheckpoint, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Problem = { type: string; status: number; detail: string; currentLicenseId?: string; licenseId?: string };
type Evaluation = { decision: string; assets: { assetId: string; decision: string; licenseId: string | null; reasons: { policyId: string }[] }[] };

/** Revocation applies to a license as it stands: only its current version can be revoked (docs/training-gate.md). */
describe.skipIf(databaseUnavailable())('revoking a license version', () => {
  let svc: TestService;
  let legal: string;
  let vendor: string;
  const size = () => treeSize(svc.runtime.ctx.database.db);
  const amend = async (assetId: string, over: Record<string, unknown> = {}) => {
    const res = await svc.call('POST', `/v1/assets/${assetId}/licenses`, { token: legal, json: licenseBody(over) });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; version: number; supersedes: string };
  };
  const revoke = (licenseId: string, query = '') => svc.call('POST', `/v1/licenses/${licenseId}/revoke${query}`, { token: legal, json: { reason: 'contract terminated' } });
  const evaluate = async (assetId: string) =>
    (await (
      await svc.call('POST', '/v1/gate/evaluate', {
        token: legal,
        json: { assetIds: [assetId], purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001', vendor: 'acme-vfx' },
      })
    ).json()) as Evaluation;
  const license = async (id: string) => (await (await svc.call('GET', `/v1/licenses/${id}`, { token: legal })).json()) as { status: string; revocation: unknown };

  beforeAll(async () => {
    svc = await startTestService();
    [legal, vendor] = await Promise.all([svc.token('legal', 'lee@legal'), svc.token('vendor', 'ml@acme', 'acme-vfx')]);
  });
  afterAll(async () => svc?.close());

  it('refuses to revoke a superseded version with 409 naming the current one, and writes nothing', async () => {
    const a = await licensedAsset(svc, legal);
    const v2 = await amend(a.assetId, { contractRef: { id: 'C-17', sha256: 'ab'.repeat(32) } });
    expect(v2.supersedes).toBe(a.licenseId);
    const before = await size();

    const res = await revoke(a.licenseId!);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as Problem;
    expect(problem.type).toMatch(/\/conflict$/);
    expect(problem).toMatchObject({ licenseId: a.licenseId, currentLicenseId: v2.id });
    expect(problem.detail).toContain(v2.id);
    expect(problem.detail).toContain('revoke the current version, which revokes the license');

    // The dry run answers the same, so legal never previews a revocation that would be refused.
    const dry = await revoke(a.licenseId!, '?dryRun=true');
    expect(dry.status).toBe(409);
    expect((await dry.json()) as Problem).toMatchObject({ currentLicenseId: v2.id });

    expect(await size()).toBe(before);
    expect((await license(a.licenseId!)).revocation).toBeNull();
    expect((await license(v2.id)).status).toBe('active');
    // The license as it stands still clears the asset.
    const gate = await evaluate(a.assetId);
    expect(gate.decision).toBe('allow');
    expect(gate.assets[0]).toMatchObject({ decision: 'allow', licenseId: v2.id });
  });

  it('revoking the current version falls on the earlier ones: the gate denies and checkpoints trained on v1 are tainted', async () => {
    const legalToken = legal;
    const { assets, clearance, checkpoint } = await activeCheckpoint(svc, legalToken, vendor, 2);
    const [first] = assets;
    // Trained on version 1; the contract is then amended to version 2.
    const v2 = await amend(first!.assetId);
    const dry = (await (await revoke(v2.id, '?dryRun=true')).json()) as { wouldTaintCheckpoints: { id: string }[]; wouldRevokeClearances: { id: string }[] };
    expect(dry.wouldTaintCheckpoints.map((k) => k.id)).toEqual([checkpoint.id]);
    expect(dry.wouldRevokeClearances.map((c) => c.id)).toEqual([clearance.id]);

    const res = await revoke(v2.id);
    expect(res.status).toBe(200);
    const revoked = (await res.json()) as { status: string; taintedCheckpoints: string[] };
    expect(revoked.status).toBe('revoked');
    expect(revoked.taintedCheckpoints).toEqual([checkpoint.id]);

    const ckp = (await (await svc.call('GET', `/v1/checkpoints/${checkpoint.id}`, { token: legal })).json()) as {
      status: string;
      causes: { kind: string; licenseId: string }[];
    };
    expect(ckp.status).toBe('tainted');
    expect(ckp.causes[0]).toMatchObject({ kind: 'license-revoked', licenseId: v2.id });
    const record = (await (await svc.call('GET', `/v1/clearances/${clearance.id}`, { token: legal })).json()) as { standing: { status: string } };
    expect(record.standing.status).toBe('revoked');

    const gate = await evaluate(first!.assetId);
    expect(gate.decision).toBe('deny');
    expect(gate.assets[0]).toMatchObject({ decision: 'deny', licenseId: v2.id });
    // The superseded version 1 is now under a revoked license; revoking it again is refused too.
    const old = await revoke(first!.licenseId!);
    expect(old.status).toBe(409);
    expect((await old.json()) as Problem).toMatchObject({ currentLicenseId: v2.id });
  });
});
