import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app-context.ts';
import { canonicalize } from '../../src/audit/canonical-json.ts';
import type { Ledger } from '../../src/audit/ledger.ts';
import { revocationDownstream } from '../../src/checkpoints/downstream.ts';
import { queryRows } from '../../src/db/database.ts';
import type { PolicySet } from '../../src/gate/policy-engine.ts';
import { type ClearanceRequest, requestClearance } from '../../src/gate/service.ts';
import { revokeLicense } from '../../src/licenses/service.ts';
import { databaseUnavailable } from '../support/db.ts';
import { licenseBody } from '../support/fixtures.ts';
import { dataset, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Outcome = { assetId: string; decision: string; reasons: { policyId: string; reason: string }[]; licenseId: string | null };
type Clearance = {
  id: string;
  decision: string;
  token: string | null;
  datasetId: string;
  requestedDatasetId: string;
  assets: Outcome[];
  leftOut: Outcome[] | null;
  decisionsDigest?: string;
};

const VENDOR = { sub: 'ml@acme', role: 'vendor' as const, vendor: 'acme-vfx' };
const ASK: ClearanceRequest = { vendor: 'acme-vfx', purpose: 'fine-tune', baseModel: 'veo-3.0-generate-001', mode: 'all' };
const sortById = (list: Outcome[]) => [...list].sort((a, b) => a.assetId.localeCompare(b.assetId));

describe.skipIf(databaseUnavailable())('clearance records', () => {
  let svc: TestService;
  let legal: string;
  let vendor: string;
  let app: AppContext;
  const ask = async (datasetId: string, body: Record<string, unknown> = {}) => {
    const res = await svc.call('POST', `/v1/datasets/${datasetId}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'veo-3.0-generate-001', ...body } });
    expect(res.status).toBe(201);
    return (await res.json()) as Clearance;
  };
  const read = async (id: string) =>
    (await (await svc.call('GET', `/v1/clearances/${id}`, { token: vendor })).json()) as Clearance & { standing: { status: string }; decisionsDigest: string };
  const stored = async (id: string) =>
    (
      await queryRows<{ asset_decisions: unknown; license_rows: number }>(
        app.database.db,
        sql`select asset_decisions, (select count(*)::int from clearance_licenses where clearance_id = ${id}) as license_rows from clearances where id = ${id}`,
      )
    )[0]!;

  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal');
    vendor = await svc.token('vendor', 'ml@acme', 'acme-vfx');
    app = svc.runtime.ctx;
  });
  afterAll(async () => svc?.close());

  it('stores decisions by member position, the largest group implicitly, and serves every asset back with its license', async () => {
    const good = await Promise.all([1, 2, 3, 4].map(() => licensedAsset(svc, legal)));
    const bad = await licensedAsset(svc, legal, { grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } });
    const none = await licensedAsset(svc, legal, null);
    const d = await dataset(
      svc,
      vendor,
      [...good, bad, none].map((a) => a.assetId),
    );

    for (const mode of ['all', 'subset'] as const) {
      const answer = await ask(d.id, { mode });
      const record = await stored(answer.id);
      // No asset or license ids in the record: positions, and no list at all for the largest group.
      expect(JSON.stringify(record.asset_decisions)).not.toMatch(/ast_|lic_/);
      expect(record.asset_decisions).toMatchObject({ format: 'positions/v1', assetCount: 6 });
      const groups = (record.asset_decisions as { groups: { decision: string; positions: number[] | null }[] }).groups;
      expect(groups.filter((g) => g.positions === null)).toHaveLength(1);
      expect(groups.find((g) => g.positions === null)!.decision).toBe('allow');
      expect(record.license_rows).toBe(0);

      const back = await read(answer.id);
      expect(sortById(back.assets)).toEqual(sortById(answer.assets));
      expect(back.assets.find((a) => a.assetId === bad.assetId)).toMatchObject({ decision: 'deny', licenseId: bad.licenseId });
      expect(back.assets.find((a) => a.assetId === none.assetId)).toMatchObject({ decision: 'deny', licenseId: null, reasons: [{ policyId: 'license-missing' }] });
      // The audit event's digest commits to exactly what is served: RFC 8785 of the outcomes in member order.
      expect(createHash('sha256').update(canonicalize(back.assets)).digest('hex')).toBe(back.decisionsDigest);
      expect(back.standing.status).toBe(mode === 'all' ? 'denied' : 'standing');
    }
  });

  it('keeps serving the license an asset was cleared on after it is amended, and falls when the amendment is revoked', async () => {
    const assets = await Promise.all([1, 2].map(() => licensedAsset(svc, legal)));
    const d = await dataset(
      svc,
      vendor,
      assets.map((a) => a.assetId),
    );
    const cleared = await ask(d.id);
    expect(cleared.decision).toBe('allow');

    const amended = await svc.call('POST', `/v1/assets/${assets[0]!.assetId}/licenses`, { token: legal, json: licenseBody({ attribution: 'amended' }) });
    const v2 = (await amended.json()) as { id: string };
    const back = await read(cleared.id);
    expect(back.assets.find((a) => a.assetId === assets[0]!.assetId)!.licenseId).toBe(assets[0]!.licenseId);
    expect(back.standing.status).toBe('standing');

    const impact = (await (await svc.call('POST', `/v1/licenses/${v2.id}/revoke?dryRun=true`, { token: legal, json: { reason: 'x' } })).json()) as {
      wouldRevokeClearances: { id: string }[];
    };
    expect(impact.wouldRevokeClearances.map((c) => c.id)).toContain(cleared.id);
    await svc.call('POST', `/v1/licenses/${v2.id}/revoke`, { token: legal, json: { reason: 'amended terms withdrawn' } });
    const after = await read(cleared.id);
    expect(after.standing.status).toBe('revoked');
    // A clearance given after the amendment rests on the new version.
    const other = await dataset(svc, vendor, [assets[1]!.assetId]);
    expect((await ask(other.id)).decision).toBe('allow');
  });

  /**
   * The app with a ledger whose next change waits behind a change that holds the queue, with a revocation
   * enqueued just before it: the clearance's facts were read before the revocation, and both land in one
   * transaction (the revocation first). Counts the policy evaluations.
   */
  function revokingFirst(licenseId: string) {
    const real = app.ledger;
    let revoked: Promise<unknown> = Promise.resolve();
    let evaluations = 0;
    const ledger = {
      get db() {
        return real.db;
      },
      change(actor: Parameters<Ledger['change']>[0], work: Parameters<Ledger['change']>[1]) {
        // The holding change lets go a little after it has started (on a busy machine its transaction
        // can take longer than any fixed delay to begin), so both changes below are queued behind it.
        const hold = real.change({ sub: 'test-hold', role: 'system' }, () => new Promise<void>((release) => setTimeout(release, 20)));
        revoked = revokeLicense(real, { sub: 'legal-user', role: 'legal' }, licenseId, 'withdrawn while the clearance was evaluated', revocationDownstream);
        const result = real.change(actor, work);
        return hold.then(() => result);
      },
    } as unknown as Ledger;
    const set = app.policies.current;
    const counted: PolicySet = { digest: set.digest, policies: set.policies, evaluate: (...args) => (evaluations++, set.evaluate(...args)) };
    const policies = {
      get current() {
        return counted;
      },
    } as unknown as AppContext['policies'];
    return { app: { ...app, ledger, policies }, revoked: () => revoked, evaluations: () => evaluations };
  }

  it('decides again under the lock when a license of the dataset was revoked after its facts were read', async () => {
    const assets = await Promise.all([1, 2, 3].map(() => licensedAsset(svc, legal)));
    const d = await dataset(
      svc,
      legal,
      assets.map((a) => a.assetId),
      'style pass',
      'acme-vfx',
    );
    const racing = revokingFirst(assets[1]!.licenseId!);
    const result = await requestClearance(racing.app, VENDOR, d.id, ASK);
    await racing.revoked();
    expect(racing.evaluations()).toBe(2);
    expect(result.decision).toBe('deny');
    expect(result.token).toBeNull();
    expect(result.assets.find((a) => a.assetId === assets[1]!.assetId)!.reasons.map((r) => r.policyId)).toContain('license-revoked');
    const back = await read(result.id);
    expect(back.decision).toBe('deny');
    expect(sortById(back.assets)).toEqual(sortById(result.assets as Outcome[]));
  });

  it('records what it evaluated when only unrelated licenses changed in between', async () => {
    const assets = await Promise.all([1, 2].map(() => licensedAsset(svc, legal)));
    const unrelated = await licensedAsset(svc, legal);
    const d = await dataset(
      svc,
      legal,
      assets.map((a) => a.assetId),
      'style pass',
      'acme-vfx',
    );
    const racing = revokingFirst(unrelated.licenseId!);
    const result = await requestClearance(racing.app, VENDOR, d.id, ASK);
    await racing.revoked();
    expect(racing.evaluations()).toBe(1);
    expect(result.decision).toBe('allow');
    expect((await read(result.id)).standing.status).toBe('standing');
  });
});
