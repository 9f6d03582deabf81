import { and, desc, eq, lt, type SQL, sql } from 'drizzle-orm';
import { treeSize } from '../audit/log-store.ts';
import type { Principal } from '../auth/tokens.ts';
import type { Member } from '../datasets/digest.ts';
import { datasetView, getDataset, insertDataset } from '../datasets/service.ts';
import { type Queryable, queryRows } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { problems } from '../http/problem.ts';
import type { TrainingPurpose } from '../vocabulary/rights.ts';
import { type ClearancePlan, planClearance } from './clearance-plan.ts';
import { type ClearanceClaims, checkClearanceToken, signClearanceToken } from './clearance-token.ts';
import { type AssetOutcome, type DecisionReason, expandDecisions, expandGroups, isDecisionRecord, storedDecisionsSha256 } from './decision-record.ts';
import type { GateDeps } from './deps.ts';
import { loadAssetFacts, loadDatasetFacts } from './facts.ts';
import type { PolicySet } from './policy-engine.ts';
import type { AssetFacts, GateRequest } from './policy-input.ts';
import { licensesAtClearance, restingLicenses } from './resting.ts';
import { clearanceStanding, describeStandingCause, type Standing } from './standing.ts';
import { clearances } from './tables.ts';

export { type AssetOutcome, expandGroups, groupOutcomes, outcomesDigest } from './decision-record.ts';
export { restingLicenses } from './resting.ts';

export type Evaluation = {
  decision: 'allow' | 'deny';
  policyDigest: string;
  outcomes: AssetOutcome[];
  facts: AssetFacts[];
};

/** Per-asset outcomes of one policy set over facts; the reasons arrays are shared between equal decisions. */
function decide(policySet: PolicySet, request: GateRequest, facts: AssetFacts[]): Evaluation {
  const decisions = policySet.evaluate(request, facts);
  const outcomes = decisions.map((d): AssetOutcome => ({ assetId: d.assetId, decision: d.decision, reasons: d.reasons as DecisionReason[], licenseId: d.licenseId }));
  return { decision: outcomes.every((o) => o.decision === 'allow') ? 'allow' : 'deny', policyDigest: policySet.digest, outcomes, facts };
}

/** Runs the policy set over members; no record, no token. */
export async function evaluateMembers(app: GateDeps, members: readonly Member[], request: GateRequest): Promise<Evaluation> {
  const policySet = app.policies.current;
  return decide(policySet, request, await loadAssetFacts(app.database.db, members));
}

/** Runs the policy set over a dataset's members, read by the dataset's id (members in canonical order). */
export async function evaluateDataset(app: GateDeps, q: Queryable, datasetId: string, request: GateRequest, policySet = app.policies.current) {
  const { members, facts } = await loadDatasetFacts(q, datasetId);
  return { members, evaluation: decide(policySet, request, facts) };
}

/**
 * Whether a license version, revocation or approval touching the dataset's assets was recorded at or after
 * audit index `since`. Asked under the append lock, so nothing can be recorded while it is asked.
 */
async function licensesChangedSince(q: Queryable, datasetId: string, since: number): Promise<boolean> {
  const [row] = await queryRows<{ changed: boolean }>(
    q,
    sql`with members as (select asset_id from dataset_assets where dataset_id = ${datasetId})
        select exists (select 1 from license_versions lv join members m on m.asset_id = lv.asset_id where lv.audit_index >= ${since})
            or exists (select 1 from license_revocations r join license_versions lv on lv.id = r.license_id join members m on m.asset_id = lv.asset_id where r.audit_index >= ${since})
            or exists (select 1 from license_approvals a join license_versions lv on lv.id = a.license_id join members m on m.asset_id = lv.asset_id where a.audit_index >= ${since})
           as changed`,
  );
  return Boolean(row?.changed);
}

export type ClearanceRequest = { vendor: string; purpose: TrainingPurpose; baseModel: string; mode: 'all' | 'subset' };

export type ClearanceResult = {
  id: string;
  decision: 'allow' | 'deny';
  datasetId: string;
  requestedDatasetId: string;
  derivedDataset: ReturnType<typeof datasetView> | null;
  datasetDigest: string;
  policyDigest: string;
  vendor: string;
  purpose: string;
  baseModel: string;
  issuedAt: string;
  expiresAt: string | null;
  token: string | null;
  counts: { assets: number; allowed: number; denied: number };
  assets: AssetOutcome[];
  leftOut: AssetOutcome[] | null;
  auditIndex: number;
};

/** Which vendor a request is for: a vendor token speaks for its own vendor only. */
export function vendorFor(principal: Principal, asked: string | undefined): string {
  if (principal.role === 'vendor') {
    if (asked && asked !== principal.vendor) throw problems.forbidden(`a token for vendor "${principal.vendor}" cannot ask for "${asked}"`);
    return principal.vendor!;
  }
  if (!asked) throw problems.validation('say which vendor the clearance is for', [{ field: 'vendor', message: 'required for legal and admin' }]);
  return asked;
}

export async function requestClearance(app: GateDeps, principal: Principal, datasetId: string, req: ClearanceRequest): Promise<ClearanceResult> {
  const db = app.database.db;
  // `readFrom` is the log's size before the facts are read: anything recorded from there on may not be in
  // them. The dataset (frozen) can be read beside it.
  const [requested, readFrom] = await Promise.all([getDataset(db, datasetId, principal), treeSize(db)]);
  const at = new Date();
  const gate: GateRequest = { vendor: req.vendor, purpose: req.purpose, baseModel: req.baseModel, at: at.toISOString() };
  const policySet = app.policies.current;
  const ttlSeconds = app.config.clearance.ttlSeconds;

  // The heavy part (facts, Cedar, the record's shape) runs before the change, so the append lock, which
  // every logged write waits for, is held only for the writes.
  let { members, evaluation } = await evaluateDataset(app, db, requested.id, gate, policySet);
  let plan: ClearancePlan = planClearance(evaluation.outcomes, evaluation.facts, req.mode, at, ttlSeconds);
  const id = newId('clr');

  const result = await app.ledger.change(principal, async (ctx) => {
    const { tx, record } = ctx;
    // Stale facts would give a decision on terms that no longer hold. Nothing was appended since the read
    // when the log has not grown and this batch's earlier changes wrote nothing (no transaction id yet);
    // otherwise, if a license version, revocation or approval of these assets was recorded since, decide
    // again from what this transaction sees (under the lock, nothing else can be recorded meanwhile).
    const [fresh] = await queryRows<{ untouched: boolean }>(tx, sql`select pg_current_xact_id_if_assigned() is null as untouched`);
    if (!(fresh?.untouched && (await treeSize(tx)) === readFrom) && (await licensesChangedSince(tx, requested.id, readFrom))) {
      ({ members, evaluation } = await evaluateDataset(app, tx, requested.id, gate, policySet));
      plan = planClearance(evaluation.outcomes, evaluation.facts, req.mode, at, ttlSeconds);
    }
    const derived = plan.subset
      ? await insertDataset(ctx, {
          name: `${requested.name} (cleared subset)`,
          members: members.filter((_, i) => evaluation.outcomes[i]!.decision === 'allow'),
          parentId: requested.id,
          // A studio dataset's cleared subset is what the vendor trains on: it is the vendor's to read.
          ownerVendor: requested.ownerVendor ?? req.vendor,
        })
      : null;
    const clearedDataset = derived ?? datasetView(requested);
    // A clearance's facts as its entry, its row and the answer all state them.
    const facts = {
      id,
      decision: plan.decision,
      vendor: req.vendor,
      purpose: req.purpose,
      baseModel: req.baseModel,
      datasetId: clearedDataset.id,
      requestedDatasetId: requested.id,
      datasetDigest: clearedDataset.digest,
      policyDigest: evaluation.policyDigest,
    };
    // Commits to every asset's decision, reasons and license (the per-asset record is stored and served by
    // GET /v1/clearances/{id}); the resting licenses are those of the allowed assets.
    const recorded = { ...facts, mode: req.mode, decisionsDigest: plan.decisionsDigest };
    const tokenKid = plan.decision === 'allow' ? app.keyring.clearance.kid : null;
    const event = record({
      action: plan.decision === 'allow' ? 'clearance.granted' : 'clearance.denied',
      subjectId: id,
      content: {
        ...recorded,
        counts: { assets: members.length, allowed: plan.allowed.length, denied: plan.denied.length },
        restingLicenseCount: plan.restingLicenseCount,
        expiresAt: plan.expiresAt?.toISOString() ?? null,
        // The rest of the row, so that every column of it can be replayed from the log (audit/state-replay.ts).
        issuedAt: at.toISOString(),
        tokenKid,
        assetDecisionsSha256: storedDecisionsSha256(plan.record),
      },
    });
    await tx.insert(clearances).values({
      ...recorded,
      assetDecisions: plan.record,
      allowedCount: plan.allowed.length,
      deniedCount: plan.denied.length,
      issuedAt: at,
      expiresAt: plan.expiresAt,
      tokenKid,
      createdBy: event.actor.sub,
      auditIndex: event.index,
    });
    // No resting-license rows: they are the allowed members' license versions as of this entry (resting.ts).
    return { facts, derived, clearedDataset, auditIndex: event.index };
  });

  const token =
    plan.decision === 'allow'
      ? await signClearanceToken(app.keyring.clearance, {
          iss: app.config.clearance.issuer,
          aud: app.config.clearance.audience,
          sub: req.vendor,
          jti: id,
          iat: Math.floor(at.getTime() / 1000),
          exp: Math.floor(plan.expiresAt!.getTime() / 1000),
          dataset: { id: result.clearedDataset.id, digest: result.clearedDataset.digest },
          policyDigest: evaluation.policyDigest,
          purpose: req.purpose,
          baseModel: req.baseModel,
        })
      : null;

  return {
    ...result.facts,
    derivedDataset: result.derived,
    issuedAt: at.toISOString(),
    expiresAt: plan.expiresAt?.toISOString() ?? null,
    token,
    counts: { assets: members.length, allowed: plan.allowed.length, denied: plan.denied.length },
    assets: evaluation.outcomes,
    leftOut: plan.subset ? plan.denied : null,
    auditIndex: result.auditIndex,
  };
}

type ClearanceRow = typeof clearances.$inferSelect;

export async function standingOf(q: Queryable, c: ClearanceRow, now = new Date()): Promise<Standing> {
  const licenses = (await restingLicenses(q, [c.id])).get(c.id) ?? [];
  return clearanceStanding(c, licenses, now);
}

export async function getClearanceRow(q: Queryable, id: string, principal: Principal): Promise<ClearanceRow> {
  const [row] = await q.select().from(clearances).where(eq(clearances.id, id));
  // Vendors see only their own clearances; anyone else's is "not found", not "forbidden".
  if (!row || (principal.role === 'vendor' && row.vendor !== principal.vendor)) throw problems.notFound(`no clearance ${id}`);
  return row;
}

/** Every asset's decision as recorded, in the requested dataset's member order for compact records. */
export async function decisionsOf(q: Queryable, c: ClearanceRow): Promise<AssetOutcome[]> {
  const stored = c.assetDecisions;
  if (!isDecisionRecord(stored)) return expandGroups(stored);
  return expandDecisions(stored, await licensesAtClearance(q, c));
}

export async function clearanceView(q: Queryable, c: ClearanceRow) {
  return {
    id: c.id,
    decision: c.decision,
    datasetId: c.datasetId,
    requestedDatasetId: c.requestedDatasetId,
    mode: c.mode,
    datasetDigest: c.datasetDigest,
    policyDigest: c.policyDigest,
    decisionsDigest: c.decisionsDigest,
    vendor: c.vendor,
    purpose: c.purpose,
    baseModel: c.baseModel,
    issuedAt: c.issuedAt.toISOString(),
    expiresAt: c.expiresAt?.toISOString() ?? null,
    counts: { assets: c.allowedCount + c.deniedCount, allowed: c.allowedCount, denied: c.deniedCount },
    standing: await standingOf(q, c),
    assets: await decisionsOf(q, c),
    createdBy: c.createdBy,
    auditIndex: c.auditIndex,
  };
}

export async function listClearances(q: Queryable, principal: Principal, f: { datasetId?: string; requestedDatasetId?: string; cursor?: string; limit: number }) {
  const where: SQL[] = [];
  if (principal.role === 'vendor') where.push(eq(clearances.vendor, principal.vendor!));
  if (f.datasetId) where.push(eq(clearances.datasetId, f.datasetId));
  if (f.requestedDatasetId) where.push(eq(clearances.requestedDatasetId, f.requestedDatasetId));
  if (f.cursor) where.push(lt(clearances.auditIndex, Number(f.cursor)));
  const rows = await q
    .select()
    .from(clearances)
    .where(and(...where))
    .orderBy(desc(clearances.auditIndex))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const resting = await restingLicenses(
    q,
    page.map((c) => c.id),
  );
  const now = new Date();
  return {
    items: page.map((c) => ({
      id: c.id,
      decision: c.decision,
      datasetId: c.datasetId,
      requestedDatasetId: c.requestedDatasetId,
      vendor: c.vendor,
      purpose: c.purpose,
      baseModel: c.baseModel,
      issuedAt: c.issuedAt.toISOString(),
      expiresAt: c.expiresAt?.toISOString() ?? null,
      standing: clearanceStanding(c, resting.get(c.id) ?? [], now).status,
    })),
    nextCursor: rows.length > f.limit ? String(page[page.length - 1]!.auditIndex) : null,
  };
}

/** Signature, expiry and current standing of a presented token. */
export async function verifyClearance(app: GateDeps, token: string) {
  const check = await checkClearanceToken(token, [app.keyring.clearance.publicJwk], app.config.clearance);
  if (check.signature === 'invalid') {
    return { valid: false, signature: 'invalid' as const, expired: false, standing: null, reasons: [check.error], clearance: null, claims: null };
  }
  const claims: ClearanceClaims = check.claims;
  const [row] = await app.database.db.select().from(clearances).where(eq(clearances.id, claims.jti));
  if (!row) {
    return { valid: false, signature: 'valid' as const, expired: check.expired, standing: null, reasons: ['no clearance with this id is recorded here'], clearance: null, claims };
  }
  const standing = await standingOf(app.database.db, row);
  const reasons = [...(check.expired ? ['the token has expired'] : []), ...standing.causes.map(describeStandingCause)];
  return {
    valid: !check.expired && standing.status === 'standing',
    signature: 'valid' as const,
    expired: check.expired,
    standing,
    reasons,
    clearance: { id: row.id, datasetId: row.datasetId, datasetDigest: row.datasetDigest, vendor: row.vendor, purpose: row.purpose, baseModel: row.baseModel },
    claims,
  };
}
