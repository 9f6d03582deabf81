import { type AnyColumn, and, asc, desc, eq, exists, gt, gte, inArray, isNotNull, isNull, lt, not, notExists, or, type SQL, sql } from 'drizzle-orm';
import { alias, QueryBuilder } from 'drizzle-orm/pg-core';
import { type AssetLicenseFilter, getAsset } from '../assets/service.ts';
import { assets } from '../assets/tables.ts';
import { type Actor, entryColumns, recordedAs } from '../audit/event.ts';
import type { ChangeContext, Ledger } from '../audit/ledger.ts';
import type { Queryable } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { newId } from '../db/ids.ts';
import { problems } from '../http/problem.ts';
import type { Grant } from '../vocabulary/rights.ts';
import type { LicenseCreateInput, LicenseView } from './schemas.ts';
import { licenseRevocations, licenseVersions } from './tables.ts';

type VersionRow = typeof licenseVersions.$inferSelect;
type RevocationRow = typeof licenseRevocations.$inferSelect;

/** Status is derived, never stored: revoked beats superseded beats the term, as of `at`. */
export function licenseStatus(v: VersionRow, supersededBy: string | null, revocation: RevocationRow | null, at: Date) {
  if (revocation) return 'revoked' as const;
  if (supersededBy) return 'superseded' as const;
  if (at.getTime() > v.termEnd.getTime()) return 'expired' as const;
  if (at.getTime() < v.termStart.getTime()) return 'pending' as const;
  return 'active' as const;
}

function licenseView(v: VersionRow, supersededBy: string | null, revocation: RevocationRow | null, at: Date): LicenseView {
  return {
    id: v.id,
    assetId: v.assetId,
    version: v.version,
    supersedes: v.supersedesId,
    supersededBy,
    status: licenseStatus(v, supersededBy, revocation, at),
    licensor: v.licensor,
    licensee: v.licensee,
    vendors: v.vendors,
    grants: { training: v.grantTraining, derivatives: v.grantDerivatives, commercial: v.grantCommercial },
    territories: v.territories,
    media: v.media,
    baseModelFamilies: v.baseModelFamilies ?? null,
    term: { start: v.termStart.toISOString(), end: v.termEnd.toISOString() },
    exclusivity: v.exclusivity,
    attribution: v.attribution,
    contractRef: v.contractRefId && v.contractRefSha256 ? { id: v.contractRefId, sha256: v.contractRefSha256 } : null,
    createdAt: v.createdAt.toISOString(),
    createdBy: v.createdBy,
    auditIndex: v.auditIndex,
    revocation: revocation
      ? {
          id: revocation.id,
          reason: revocation.reason,
          revokedAt: revocation.revokedAt.toISOString(),
          revokedBy: revocation.revokedBy,
          auditIndex: revocation.auditIndex,
        }
      : null,
  };
}

/** The asset's versions, newest first, each with what superseded or revoked it. */
export async function licenseHistory(q: Queryable, assetId: string, at = new Date()): Promise<LicenseView[]> {
  const versions = await q.select().from(licenseVersions).where(eq(licenseVersions.assetId, assetId)).orderBy(desc(licenseVersions.version));
  return withStanding(q, versions, at);
}

async function withStanding(q: Queryable, versions: VersionRow[], at: Date): Promise<LicenseView[]> {
  if (versions.length === 0) return [];
  const ids = versions.map((v) => v.id);
  const [revocations, successors] = await Promise.all([
    q.select().from(licenseRevocations).where(inArray(licenseRevocations.licenseId, ids)),
    q.select({ id: licenseVersions.id, supersedesId: licenseVersions.supersedesId }).from(licenseVersions).where(inArray(licenseVersions.supersedesId, ids)),
  ]);
  const revokedBy = new Map(revocations.map((r) => [r.licenseId, r]));
  const successorOf = new Map(successors.map((s) => [s.supersedesId!, s.id]));
  return versions.map((v) => licenseView(v, successorOf.get(v.id) ?? null, revokedBy.get(v.id) ?? null, at));
}

export async function getLicense(q: Queryable, id: string, at = new Date()): Promise<LicenseView> {
  const rows = await q.select().from(licenseVersions).where(eq(licenseVersions.id, id));
  if (!rows[0]) throw problems.notFound(`no license ${id}`);
  return (await withStanding(q, rows, at))[0]!;
}

/** A new version of the asset's terms; it supersedes the latest one, which stays readable as it was. */
export async function addLicenseVersion(ledger: Ledger, actor: Actor, assetId: string, input: LicenseCreateInput): Promise<LicenseView> {
  try {
    // Decided from this asset's versions alone (the asset row never changes): versions of other assets run
    // beside it in a batch; a revocation, which taints checkpoints across datasets, runs alone.
    return await ledger.change(
      actor,
      async ({ tx, record }) => {
        await getAsset(tx, assetId);
        const [latest] = await tx.select().from(licenseVersions).where(eq(licenseVersions.assetId, assetId)).orderBy(desc(licenseVersions.version)).limit(1);
        const id = newId('lic');
        const terms = {
          id,
          assetId,
          version: (latest?.version ?? 0) + 1,
          supersedesId: latest?.id ?? null,
          licensor: input.licensor,
          licensee: input.licensee,
          vendors: input.vendors,
          grantTraining: input.grants.training,
          grantDerivatives: input.grants.derivatives,
          grantCommercial: input.grants.commercial,
          territories: input.territories,
          media: input.media,
          baseModelFamilies: input.baseModelFamilies ?? null,
          termStart: new Date(input.term.start),
          termEnd: new Date(input.term.end),
          exclusivity: input.exclusivity,
          attribution: input.attribution ?? null,
          contractRefId: input.contractRef?.id ?? null,
          contractRefSha256: input.contractRef?.sha256 ?? null,
        };
        const event = record({
          action: latest ? 'license.amended' : 'license.granted',
          subjectId: id,
          content: { ...terms, terms: input },
        });
        const [row] = await tx
          .insert(licenseVersions)
          .values({ ...terms, ...entryColumns(event) })
          .returning();
        return licenseView(row!, null, null, new Date());
      },
      { touches: [`asset:${assetId}`] },
    );
  } catch (e) {
    if (isUniqueViolation(e)) {
      throw problems.conflict('another version of this license was recorded at the same moment; read the history and retry');
    }
    throw e;
  }
}

/**
 * What a revocation reaches beyond the license itself: the clearances that rest on the art and the
 * checkpoints trained under them. Those belong to capabilities above this one (checkpoints/downstream.ts),
 * so the composition root hands them in.
 */
export type RevocationDownstream = {
  /** In the revocation's own change: taints every checkpoint trained on this version or an earlier one; their ids. */
  taint(change: Pick<ChangeContext, 'tx' | 'record'>, revoked: { licenseId: string; assetId: string; version: number; reason: string; at: Date }): Promise<string[]>;
  /** What a revocation of this version would hit, without making it. */
  impact(
    q: Queryable,
    license: { assetId: string; version: number },
  ): Promise<{ wouldRevokeClearances: RevocationImpactClearance[]; wouldTaintCheckpoints: { id: string; clearanceId: string }[] }>;
};

export type RevocationImpactClearance = { id: string; vendor: string; decision: string; datasetId: string };

export async function revokeLicense(
  ledger: Ledger,
  actor: Actor,
  licenseId: string,
  reason: string,
  downstream: RevocationDownstream,
): Promise<LicenseView & { taintedCheckpoints: string[] }> {
  try {
    return await ledger.change(actor, async ({ tx, record }) => {
      const current = await getLicense(tx, licenseId);
      await refuseSuperseded(tx, current);
      if (current.revocation) {
        throw problems.conflict(`license ${licenseId} was already revoked at ${current.revocation.revokedAt}`, {
          revocation: current.revocation,
        });
      }
      const id = newId('rev');
      const event = record({
        action: 'license.revoked',
        subjectId: licenseId,
        content: { revocationId: id, licenseId, assetId: current.assetId, reason },
      });
      await tx.insert(licenseRevocations).values({
        id,
        licenseId,
        reason,
        ...recordedAs(event, 'revokedAt'),
        revokedBy: event.actor.sub,
      });
      // Everything trained on this art stops being usable in the same commit as the revocation.
      const tainted = await downstream.taint({ tx, record }, { licenseId, assetId: current.assetId, version: current.version, reason, at: new Date(event.time) });
      return { ...(await getLicense(tx, licenseId)), taintedCheckpoints: tainted };
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw problems.conflict(`license ${licenseId} was already revoked`);
    throw e;
  }
}

/**
 * Revocation applies to a license as it stands: a version that has been superseded is history, and
 * revoking it would leave the current terms standing while appearing to end the contract. Refused with
 * the current version's id; revoking that one falls on every earlier version too (gate/resting.ts,
 * checkpoints/service.ts#checkpointsHitBy). The current version is the asset's latest: every new version
 * supersedes the latest (addLicenseVersion).
 */
async function refuseSuperseded(q: Queryable, license: LicenseView): Promise<void> {
  if (!license.supersededBy) return;
  const [latest] = await q
    .select({ id: licenseVersions.id, version: licenseVersions.version })
    .from(licenseVersions)
    .where(eq(licenseVersions.assetId, license.assetId))
    .orderBy(desc(licenseVersions.version))
    .limit(1);
  const currentLicenseId = latest?.id ?? license.supersededBy;
  throw problems.conflict(
    `license ${license.id} (version ${license.version}) is superseded; the current version is ${currentLicenseId} (version ${latest?.version ?? license.version + 1}): revoke the current version, which revokes the license`,
    { licenseId: license.id, currentLicenseId },
  );
}

/** What a revocation would hit, without making it: for legal to see before deciding. */
export async function revocationImpact(q: Queryable, licenseId: string, downstream: RevocationDownstream) {
  const license = await getLicense(q, licenseId);
  await refuseSuperseded(q, license);
  const { wouldRevokeClearances, wouldTaintCheckpoints } = await downstream.impact(q, license);
  return { license, dryRun: true as const, wouldRevokeClearances, wouldTaintCheckpoints };
}

/** The filters of GET /v1/licenses. */
export type LicenseListFilter = {
  assetId?: string | undefined;
  licensee?: string | undefined;
  vendor?: string | undefined;
  training?: Grant | undefined;
  derivatives?: Grant | undefined;
  commercial?: Grant | undefined;
  state?: 'standing' | 'revoked' | 'ended' | undefined;
  endingBefore?: Date | undefined;
  cursor?: string | undefined;
  limit: number;
};

export type LicenseListItem = LicenseView & { assetTitle: string };

/**
 * The current version of every license (the one nothing supersedes), in the order they were recorded
 * (cursor: the last one's audit index). `state`: standing (not revoked, term not ended), revoked, or ended
 * (its term over, not revoked), as of `at`.
 */
export async function listLicenses(q: Queryable, f: LicenseListFilter, at = new Date()): Promise<{ items: LicenseListItem[]; nextCursor: string | null }> {
  const successor = alias(licenseVersions, 'successor');
  const where: (SQL | undefined)[] = [
    notExists(q.select({ one: sql`1` }).from(successor).where(eq(successor.supersedesId, licenseVersions.id))),
    f.assetId === undefined ? undefined : eq(licenseVersions.assetId, f.assetId),
    f.licensee === undefined ? undefined : eq(licenseVersions.licensee, f.licensee),
    f.vendor === undefined ? undefined : or(sql`${licenseVersions.vendors} @> ${JSON.stringify([f.vendor])}::jsonb`, eq(licenseVersions.licensee, f.vendor)),
    f.training === undefined ? undefined : eq(licenseVersions.grantTraining, f.training),
    f.derivatives === undefined ? undefined : eq(licenseVersions.grantDerivatives, f.derivatives),
    f.commercial === undefined ? undefined : eq(licenseVersions.grantCommercial, f.commercial),
    f.endingBefore === undefined ? undefined : lt(licenseVersions.termEnd, f.endingBefore),
    f.state === 'revoked' ? isNotNull(licenseRevocations.id) : undefined,
    f.state === 'standing' ? and(isNull(licenseRevocations.id), gte(licenseVersions.termEnd, at)) : undefined,
    f.state === 'ended' ? and(isNull(licenseRevocations.id), lt(licenseVersions.termEnd, at)) : undefined,
    f.cursor === undefined ? undefined : gt(licenseVersions.auditIndex, Number(f.cursor)),
  ];
  const rows = await q
    .select({ version: licenseVersions, revocation: licenseRevocations, assetTitle: assets.title })
    .from(licenseVersions)
    .innerJoin(assets, eq(assets.id, licenseVersions.assetId))
    .leftJoin(licenseRevocations, eq(licenseRevocations.licenseId, licenseVersions.id))
    .where(and(...where))
    .orderBy(asc(licenseVersions.auditIndex))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  return {
    // Current versions: nothing supersedes them.
    items: page.map((r) => ({ ...licenseView(r.version, null, r.revocation, at), assetTitle: r.assetTitle })),
    nextCursor: rows.length > f.limit ? String(page[page.length - 1]!.version.auditIndex) : null,
  };
}

/**
 * The condition "the asset `assetId` has a current license version like this", for the asset list
 * (assets/service.ts declares the port; the composition root hands this in). `license`: licensed (a
 * current version not revoked whose term is not over), unlicensed (none such, and none revoked), revoked
 * (a current version revoked); the grant and territory filters ask of that same version (of a standing
 * one when `license` is not given).
 */
export function assetLicenseCondition(assetId: SQL | AnyColumn, f: AssetLicenseFilter, at = new Date()): SQL | undefined {
  const { license, training, derivatives, commercial, territory } = f;
  if (license === undefined && training === undefined && derivatives === undefined && commercial === undefined && territory === undefined) return undefined;
  const successor = alias(licenseVersions, 'successor');
  const revoked = alias(licenseRevocations, 'revoked');
  const current = (...more: (SQL | undefined)[]) =>
    exists(
      new QueryBuilder()
        .select({ one: sql`1` })
        .from(licenseVersions)
        .leftJoin(revoked, eq(revoked.licenseId, licenseVersions.id))
        .where(
          and(
            eq(licenseVersions.assetId, assetId as AnyColumn),
            notExists(new QueryBuilder().select({ one: sql`1` }).from(successor).where(eq(successor.supersedesId, licenseVersions.id))),
            ...more,
          ),
        ),
    );
  const standing = and(isNull(revoked.id), gte(licenseVersions.termEnd, at));
  const terms = [
    training === undefined ? undefined : eq(licenseVersions.grantTraining, training),
    derivatives === undefined ? undefined : eq(licenseVersions.grantDerivatives, derivatives),
    commercial === undefined ? undefined : eq(licenseVersions.grantCommercial, commercial),
    territory === undefined ? undefined : sql`(${licenseVersions.territories} @> ${JSON.stringify([territory])}::jsonb or ${licenseVersions.territories} @> '["WORLD"]'::jsonb)`,
  ];
  if (license === 'unlicensed') return and(not(current(standing)), not(current(isNotNull(revoked.id))));
  return current(license === 'revoked' ? isNotNull(revoked.id) : standing, ...terms);
}
