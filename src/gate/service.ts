import { createHash } from 'node:crypto';
import { and, desc, eq, lt, type SQL, sql } from 'drizzle-orm';
import type { AppContext } from '../app-context.ts';
import type { Principal } from '../auth/tokens.ts';
import { type Queryable, queryRows } from '../db/database.ts';
import type { Member } from '../datasets/digest.ts';
import { datasetMembers, datasetView, getDataset, insertDataset } from '../datasets/service.ts';
import { problems } from '../http/problem.ts';
import { newId } from '../ids.ts';
import { licenseRevocations, licenseVersions } from '../licenses/tables.ts';
import { type ClearanceClaims, checkClearanceToken, signClearanceToken } from './clearance-token.ts';
import { loadAssetFacts } from './facts.ts';
import type { AssetFacts, GateRequest } from './policy-input.ts';
import { type RestingLicense, type Standing, clearanceStanding, describeStandingCause } from './standing.ts';
import { type DecisionGroup, clearanceLicenses, clearances } from './tables.ts';

export type AssetOutcome = { assetId: string; decision: 'allow' | 'deny'; reasons: { policyId: string; reason: string }[]; licenseId: string | null };

export type Evaluation = {
  decision: 'allow' | 'deny';
  policyDigest: string;
  outcomes: AssetOutcome[];
  facts: AssetFacts[];
};

/** Runs the policy set over members; no record, no token. */
export async function evaluateMembers(app: AppContext, members: readonly Member[], request: GateRequest): Promise<Evaluation> {
  const policySet = app.policies.current;
  const facts = await loadAssetFacts(app.database.db, members);
  const decisions = policySet.evaluate(request, facts);
  const outcomes = decisions.map((d, i) => ({
    assetId: d.assetId,
    decision: d.decision,
    reasons: d.reasons.map((r) => ({ policyId: r.policyId, reason: r.reason })),
    licenseId: facts[i]!.license?.id ?? null,
  }));
  return { decision: outcomes.every((o) => o.decision === 'allow') ? 'allow' : 'deny', policyDigest: policySet.digest, outcomes, facts };
}

/** Thousands of assets share few outcomes: group identical (decision, reasons) together. */
export function groupOutcomes(outcomes: readonly AssetOutcome[]): DecisionGroup[] {
  const groups = new Map<string, DecisionGroup>();
  for (const o of outcomes) {
    const key = `${o.decision}\u0000${o.reasons.map((r) => `${r.policyId}\u0001${r.reason}`).join('\u0000')}`;
    let g = groups.get(key);
    if (!g) {
      g = { decision: o.decision, reasons: o.reasons, assetIds: [], licenseIds: [] };
      groups.set(key, g);
    }
    g.assetIds.push(o.assetId);
    g.licenseIds.push(o.licenseId);
  }
  return [...groups.values()];
}

export function expandGroups(groups: readonly DecisionGroup[]): AssetOutcome[] {
  return groups.flatMap((g) => g.assetIds.map((assetId, i) => ({ assetId, decision: g.decision, reasons: g.reasons, licenseId: g.licenseIds[i] ?? null })));
}

/**
 * SHA-256 of the RFC 8785 serialisation of the per-asset outcomes, written out for this one fixed shape
 * (keys already in JCS order; strings through JSON.stringify, which is JCS's string form): the generic
 * canonicaliser costs ~5 µs an asset, this a fraction. test/unit/gate-digest.test.ts holds them equal.
 */
export function outcomesDigest(outcomes: readonly AssetOutcome[]): string {
  const hash = createHash('sha256');
  hash.update('[');
  outcomes.forEach((o, i) => {
    const reasons = o.reasons.map((r) => `{"policyId":${JSON.stringify(r.policyId)},"reason":${JSON.stringify(r.reason)}}`).join(',');
    hash.update(`${i ? ',' : ''}{"assetId":${JSON.stringify(o.assetId)},"decision":${JSON.stringify(o.decision)},"licenseId":${o.licenseId === null ? 'null' : JSON.stringify(o.licenseId)},"reasons":[${reasons}]}`);
  });
  hash.update(']');
  return hash.digest('hex');
}

export type ClearanceRequest = { vendor: string; purpose: 'fine-tune' | 'evaluation'; baseModel: string; mode: 'all' | 'subset' };

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

export async function requestClearance(app: AppContext, principal: Principal, datasetId: string, req: ClearanceRequest): Promise<ClearanceResult> {
  const requested = await getDataset(app.database.db, datasetId, principal);
  const members = await datasetMembers(app.database.db, datasetId);
  const at = new Date();
  const gate: GateRequest = { vendor: req.vendor, purpose: req.purpose, baseModel: req.baseModel, at: at.toISOString() };
  const evaluation = await evaluateMembers(app, members, gate);
  const allowed = evaluation.outcomes.filter((o) => o.decision === 'allow');
  const denied = evaluation.outcomes.filter((o) => o.decision === 'deny');
  const subset = req.mode === 'subset' && denied.length > 0 && allowed.length > 0;
  const decision: 'allow' | 'deny' = denied.length === 0 || subset ? 'allow' : 'deny';
  const cleared = subset ? allowed : evaluation.outcomes;
  const allowedIds = new Set(allowed.map((o) => o.assetId));

  // The licenses an allow rests on, with how many assets each carries; its expiry is theirs at the latest.
  const resting = new Map<string, { count: number; termEnd: number }>();
  if (decision === 'allow') {
    const termEnd = new Map(evaluation.facts.filter((f) => f.license).map((f) => [f.license!.id, Date.parse(f.license!.termEnd)]));
    for (const o of cleared) {
      const r = resting.get(o.licenseId!) ?? { count: 0, termEnd: termEnd.get(o.licenseId!)! };
      r.count += 1;
      resting.set(o.licenseId!, r);
    }
  }
  const ttlEnd = at.getTime() + app.config.clearance.ttlSeconds * 1000;
  // A loop, not Math.min(...spread): a dataset can rest on 100,000 licenses, too many call arguments.
  let earliest = ttlEnd;
  for (const r of resting.values()) earliest = Math.min(earliest, r.termEnd);
  const expiresAt = decision === 'allow' ? new Date(earliest) : null;

  const groups = groupOutcomes(evaluation.outcomes);
  const decisionsDigest = outcomesDigest(evaluation.outcomes);
  const id = newId('clr');

  const result = await app.ledger.change(principal, async (ctx) => {
    const { tx, record } = ctx;
    // Evaluation ran outside the lock; a revocation or amendment that landed since would make it stale.
    const licenseIds = [...resting.keys()];
    // Every asset may rest on its own license: the ids go as one array parameter (not one bind parameter
    // each, which is slow to build and stops at 65,535).
    if (licenseIds.length > 0) {
      const ids = sql.param(licenseIds);
      const revoked = await tx.select({ id: licenseRevocations.licenseId }).from(licenseRevocations).where(sql`${licenseRevocations.licenseId} = any(${ids}::text[])`);
      const amended = await tx.select({ id: licenseVersions.supersedesId }).from(licenseVersions).where(sql`${licenseVersions.supersedesId} = any(${ids}::text[])`);
      if (revoked.length + amended.length > 0) throw problems.conflict('a license of this dataset changed while it was being evaluated; ask again');
    }
    const derived = subset
      ? await insertDataset(ctx, {
          name: `${requested.name} (cleared subset)`,
          members: members.filter((m) => allowedIds.has(m.assetId)),
          parentId: requested.id,
          ownerVendor: requested.ownerVendor,
        })
      : null;
    const clearedDataset = derived ?? datasetView(requested);
    const event = record({
      action: decision === 'allow' ? 'clearance.granted' : 'clearance.denied',
      subjectId: id,
      content: {
        id,
        decision,
        mode: req.mode,
        vendor: req.vendor,
        purpose: req.purpose,
        baseModel: req.baseModel,
        datasetId: clearedDataset.id,
        requestedDatasetId: requested.id,
        datasetDigest: clearedDataset.digest,
        policyDigest: evaluation.policyDigest,
        decisionsDigest,
        counts: { assets: members.length, allowed: allowed.length, denied: denied.length },
        licenses: [...resting].map(([licenseId, r]) => ({ licenseId, assetCount: r.count })),
        expiresAt: expiresAt?.toISOString() ?? null,
      },
    });
    await tx.insert(clearances).values({
      id,
      datasetId: clearedDataset.id,
      requestedDatasetId: requested.id,
      mode: req.mode,
      vendor: req.vendor,
      purpose: req.purpose,
      baseModel: req.baseModel,
      decision,
      datasetDigest: clearedDataset.digest,
      policyDigest: evaluation.policyDigest,
      decisionsDigest,
      assetDecisions: groups,
      allowedCount: allowed.length,
      deniedCount: denied.length,
      issuedAt: at,
      expiresAt,
      tokenKid: decision === 'allow' ? app.keyring.clearance.kid : null,
      createdBy: principal.sub,
      auditIndex: event.index,
    });
    if (resting.size > 0) {
      // One statement for any number of licenses: two array parameters, unnested by the server.
      await tx.execute(sql`insert into ${clearanceLicenses} (clearance_id, license_id, asset_count)
        select ${id}, t.license_id, t.asset_count
        from unnest(${sql.param(licenseIds)}::text[], ${sql.param(licenseIds.map((l) => resting.get(l)!.count))}::int[]) as t(license_id, asset_count)`);
    }
    return { derived, clearedDataset, auditIndex: event.index };
  });

  const token =
    decision === 'allow'
      ? await signClearanceToken(app.keyring.clearance, {
          iss: app.config.clearance.issuer,
          aud: app.config.clearance.audience,
          sub: req.vendor,
          jti: id,
          iat: Math.floor(at.getTime() / 1000),
          exp: Math.floor(expiresAt!.getTime() / 1000),
          dataset: { id: result.clearedDataset.id, digest: result.clearedDataset.digest },
          policyDigest: evaluation.policyDigest,
          purpose: req.purpose,
          baseModel: req.baseModel,
        })
      : null;

  return {
    id,
    decision,
    datasetId: result.clearedDataset.id,
    requestedDatasetId: requested.id,
    derivedDataset: result.derived,
    datasetDigest: result.clearedDataset.digest,
    policyDigest: evaluation.policyDigest,
    vendor: req.vendor,
    purpose: req.purpose,
    baseModel: req.baseModel,
    issuedAt: at.toISOString(),
    expiresAt: expiresAt?.toISOString() ?? null,
    token,
    counts: { assets: members.length, allowed: allowed.length, denied: denied.length },
    assets: evaluation.outcomes,
    leftOut: subset ? denied : null,
    auditIndex: result.auditIndex,
  };
}

type ClearanceRow = typeof clearances.$inferSelect;

export async function restingLicenses(q: Queryable, clearanceIds: string[]): Promise<Map<string, RestingLicense[]>> {
  const out = new Map<string, RestingLicense[]>();
  if (clearanceIds.length === 0) return out;
  const rows = await queryRows<{
    clearance_id: string; license_id: string; asset_id: string; asset_count: number; term_end: Date | string;
    revoked_license_id: string | null; revoked_at: Date | string | null; reason: string | null;
  }>(
    q,
    sql`select cl.clearance_id, cl.license_id, lv.asset_id, cl.asset_count, lv.term_end,
               r.license_id as revoked_license_id, r.revoked_at, r.reason
        from clearance_licenses cl
        join license_versions lv on lv.id = cl.license_id
        left join license_versions later on later.asset_id = lv.asset_id and later.version >= lv.version
        left join license_revocations r on r.license_id = later.id
        where cl.clearance_id in (${sql.join(clearanceIds.map((id) => sql`${id}`), sql`, `)})
        order by cl.clearance_id, cl.license_id, r.revoked_at nulls last`,
  );
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.clearance_id}/${r.license_id}`;
    if (seen.has(key)) continue; // the earliest revocation (or none) came first
    seen.add(key);
    const list = out.get(r.clearance_id) ?? [];
    list.push({
      licenseId: r.license_id,
      assetId: r.asset_id,
      assetCount: Number(r.asset_count),
      termEnd: new Date(r.term_end),
      revocation: r.revoked_license_id ? { licenseId: r.revoked_license_id, at: new Date(r.revoked_at!), reason: r.reason } : null,
    });
    out.set(r.clearance_id, list);
  }
  return out;
}

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
    assets: expandGroups(c.assetDecisions),
    createdBy: c.createdBy,
    auditIndex: c.auditIndex,
  };
}

export async function listClearances(q: Queryable, principal: Principal, f: { datasetId?: string; cursor?: string; limit: number }) {
  const where: SQL[] = [];
  if (principal.role === 'vendor') where.push(eq(clearances.vendor, principal.vendor!));
  if (f.datasetId) where.push(eq(clearances.datasetId, f.datasetId));
  if (f.cursor) where.push(lt(clearances.auditIndex, Number(f.cursor)));
  const rows = await q.select().from(clearances).where(and(...where)).orderBy(desc(clearances.auditIndex)).limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const resting = await restingLicenses(q, page.map((c) => c.id));
  const now = new Date();
  return {
    items: page.map((c) => ({
      id: c.id,
      decision: c.decision,
      datasetId: c.datasetId,
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
export async function verifyClearance(app: AppContext, token: string) {
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
  const reasons = [
    ...(check.expired ? ['the token has expired'] : []),
    ...standing.causes.map(describeStandingCause),
  ];
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
