import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { databaseUnavailable } from '../support/db.ts';
import { licenseBody } from '../support/fixtures.ts';
import { activeCheckpoint, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type License = { id: string; licenseId: string; version: number; supersedes: string | null; licensee: string; status: string };
type Problem = { status: number; type: string; detail: string; licenses?: { licenseId: string }[]; conflicts?: { licenseId: string; territories: string[] }[] };

/** Several licenses per asset (issue 19): chains of versions, the amendment naming its license, exclusivity conflicts. */
describe.skipIf(databaseUnavailable())('several licenses on one asset', () => {
  let svc: TestService;
  let legal: string;
  let vendor: string;
  const size = () => treeSize(svc.runtime.ctx.database.db);
  const post = (assetId: string, over: Record<string, unknown> = {}) => svc.call('POST', `/v1/assets/${assetId}/licenses`, { token: legal, json: licenseBody(over) });
  const ok = async (assetId: string, over: Record<string, unknown> = {}) => {
    const res = await post(assetId, over);
    if (res.status !== 201) throw new Error(`${res.status} ${await res.text()}`);
    return (await res.json()) as License;
  };
  const merch = { licensee: 'Merch Co', vendors: [], grants: { training: 'notAllowed', derivatives: 'notAllowed', commercial: 'allowed' } };
  const evaluate = async (assetId: string) =>
    (await (
      await svc.call('POST', '/v1/gate/evaluate', {
        token: legal,
        json: { assetIds: [assetId], purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001', vendor: 'acme-vfx' },
      })
    ).json()) as { decision: string; assets: { decision: string; licenseId: string | null; reasons: { policyId: string }[] }[] };

  beforeAll(async () => {
    svc = await startTestService();
    [legal, vendor] = await Promise.all([svc.token('legal', 'lee@legal'), svc.token('vendor', 'ml@acme', 'acme-vfx')]);
  });
  afterAll(async () => svc?.close());

  it('adds another license beside the first; amending then names its license, else 409 naming those standing', async () => {
    const a = await licensedAsset(svc, legal);
    const first = (await (await svc.call('GET', `/v1/licenses/${a.licenseId}`, { token: legal })).json()) as License;
    expect(first.licenseId).toBe(first.id);

    // With one license, an amendment that names none amends it, as before.
    const v2 = await ok(a.assetId, { attribution: 'v2' });
    expect(v2).toMatchObject({ licenseId: first.id, version: 2, supersedes: first.id });

    const other = await ok(a.assetId, { ...merch, newLicense: true });
    expect(other).toMatchObject({ licenseId: other.id, version: 1, supersedes: null, status: 'active' });

    const before = await size();
    const ambiguous = await post(a.assetId, { attribution: 'which one?' });
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await ambiguous.json()) as Problem;
    expect(problem.licenses?.map((l) => l.licenseId).sort()).toEqual([first.id, other.id].sort());
    expect(problem.detail).toContain('licenseId');
    expect(await size()).toBe(before);

    const merch2 = await ok(a.assetId, { ...merch, licenseId: other.id, attribution: 'merch v2' });
    expect(merch2).toMatchObject({ licenseId: other.id, version: 2, supersedes: other.id });
    // Any version id of a license names it too: this amends the first license's current version.
    const v3 = await ok(a.assetId, { licenseId: first.id, attribution: 'v3' });
    expect(v3).toMatchObject({ licenseId: first.id, version: 3, supersedes: v2.id });

    const unknown = await post(a.assetId, { licenseId: 'lic_nope' });
    expect(unknown.status).toBe(422);
    const both = await post(a.assetId, { licenseId: first.id, newLicense: true });
    expect(both.status).toBe(422);

    // The list has one row per license: its current version; the licenseId filter picks one.
    const list = (await (await svc.call('GET', `/v1/licenses?assetId=${a.assetId}`, { token: legal })).json()) as { items: License[] };
    expect(list.items.map((l) => l.id).sort()).toEqual([v3.id, merch2.id].sort());
    const one = (await (await svc.call('GET', `/v1/licenses?licenseId=${other.id}`, { token: legal })).json()) as { items: License[] };
    expect(one.items.map((l) => l.id)).toEqual([merch2.id]);
    const history = (await (await svc.call('GET', `/v1/assets/${a.assetId}/licenses`, { token: legal })).json()) as { items: License[] };
    expect(history.items).toHaveLength(5);
  });

  it('the gate allows when any standing license allows, and names that license', async () => {
    const a = await licensedAsset(svc, legal, merch);
    const denied = await evaluate(a.assetId);
    expect(denied.assets[0]?.decision).toBe('deny');
    const vendorLicense = await ok(a.assetId, { newLicense: true, licensee: 'acme-vfx' });
    const allowed = await evaluate(a.assetId);
    expect(allowed.assets[0]).toMatchObject({ decision: 'allow', licenseId: vendorLicense.id });

    // Revoking the merchandiser's license leaves the vendor's standing.
    const rev = await svc.call('POST', `/v1/licenses/${a.licenseId}/revoke`, { token: legal, json: { reason: 'merch deal ended' } });
    expect(rev.status).toBe(200);
    expect((await evaluate(a.assetId)).assets[0]).toMatchObject({ decision: 'allow', licenseId: vendorLicense.id });
    // With one license standing among several, an amendment without licenseId amends that one.
    const v2 = await ok(a.assetId, { licensee: 'acme-vfx', attribution: 'v2' });
    expect(v2).toMatchObject({ licenseId: vendorLicense.id, version: 2 });
  });

  it('revoking another license of the art taints nothing trained under the vendor license', async () => {
    const { assets, checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const assetId = assets[0]!.assetId;
    const merchLicense = await ok(assetId, { ...merch, newLicense: true });
    const res = await svc.call('POST', `/v1/licenses/${merchLicense.id}/revoke`, { token: legal, json: { reason: 'merch deal ended' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { taintedCheckpoints: string[] }).taintedCheckpoints).toEqual([]);
    const ck = (await (await svc.call('GET', `/v1/checkpoints/${checkpoint.id}`, { token: legal })).json()) as { status: string };
    expect(ck.status).toBe('active');
    // Revoking the license the clearance rests on still taints it.
    const again = await svc.call('POST', `/v1/licenses/${assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'terminated' } });
    expect(((await again.json()) as { taintedCheckpoints: string[] }).taintedCheckpoints).toEqual([checkpoint.id]);
  });

  it('an exclusive grant overlapping another licensee is 409 naming it, unless overridden with a reason (audit-logged)', async () => {
    const exclusive = { exclusivity: true, territories: ['WORLD'], media: ['streaming'] };
    const a = await licensedAsset(svc, legal, exclusive);
    const before = await size();
    const res = await post(a.assetId, { ...merch, ...exclusive, territories: ['US'], newLicense: true });
    expect(res.status).toBe(409);
    const problem = (await res.json()) as Problem;
    expect(problem.conflicts).toEqual([expect.objectContaining({ licenseId: a.licenseId, territories: ['US'] })]);
    expect(problem.detail).toContain(a.licenseId!);
    expect(await size()).toBe(before);

    // Not overlapping: another medium, or the same licensee, or not exclusive.
    await ok(a.assetId, { ...merch, ...exclusive, media: ['print'], newLicense: true });
    await ok(a.assetId, { ...exclusive, newLicense: true, attribution: 'same licensee' });
    await ok(a.assetId, { ...merch, newLicense: true, territories: ['US'] });

    const at = await size();
    const overridden = await ok(a.assetId, {
      ...merch,
      ...exclusive,
      territories: ['US'],
      newLicense: true,
      overrideConflict: { reason: 'licensor confirmed carve-out, letter L-9' },
    });
    const res2 = await svc.call('GET', `/v1/audit/events?from=${at}&limit=10`, { token: legal });
    const events = ((await res2.json()) as { events: { subjectId: string; content: Record<string, unknown> }[] }).events;
    const event = events.find((e) => e.subjectId === overridden.id);
    // Both of Upstairs Films' exclusive streaming licenses are overridden, and named.
    const recorded = event?.content.overrideConflict as { reason: string; conflicts: { licenseId: string; licensee: string }[] };
    expect(recorded.reason).toBe('licensor confirmed carve-out, letter L-9');
    expect(recorded.conflicts.map((c) => c.licenseId)).toContain(a.licenseId);
    expect(recorded.conflicts.every((c) => c.licensee === 'Upstairs Films')).toBe(true);
    expect(recorded.conflicts).toHaveLength(2);

    // The state check still agrees with the log (replay of every license version, old and new).
    const check = await svc.call('GET', '/v1/audit/checkpoint', { token: legal });
    expect(check.status).toBe(200);
  });
});
