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
import { type ExclusiveTerms, exclusivityConflict } from './exclusivity.ts';
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
    licenseId: v.licenseId,
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

/** The asset's versions of every license, newest recorded first, each with what superseded or revoked it. */
export async function licenseHistory(q: Queryable, assetId: string, at = new Date()): Promise<LicenseView[]> {
  const versions = await q.select().from(licenseVersions).where(eq(licenseVersions.assetId, assetId)).orderBy(desc(licenseVersions.auditIndex));
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

/** The current version of each license of the asset (nothing supersedes it), oldest license first, each with its revocation. */
export async function currentVersions(q: Queryable, assetId: string): Promise<{ version: VersionRow; revocation: RevocationRow | null }[]> {
  const successor = alias(licenseVersions, 'successor');
  const rows = await q
    .select({ version: licenseVersions, revocation: licenseRevocations })
    .from(licenseVersions)
    .leftJoin(licenseRevocations, eq(licenseRevocations.licenseId, licenseVersions.id))
    .where(and(eq(licenseVersions.assetId, assetId), notExists(q.select({ one: sql`1` }).from(successor).where(eq(successor.supersedesId, licenseVersions.id)))))
    .orderBy(asc(licenseVersions.licenseId));
  // Oldest license first: a license's id is its first version's, and ids are not ordered by time.
  const firstIndex = new Map<string, number>();
  if (rows.length > 1) {
    const firsts = await q
      .select({ id: licenseVersions.id, auditIndex: licenseVersions.auditIndex })
      .from(licenseVersions)
      .where(
        inArray(
          licenseVersions.id,
          rows.map((r) => r.version.licenseId),
        ),
      );
    for (const f of firsts) firstIndex.set(f.id, f.auditIndex);
  }
  return rows.sort((a, b) => (firstIndex.get(a.version.licenseId) ?? 0) - (firstIndex.get(b.version.licenseId) ?? 0));
}

/** How a license stands for the question "which licenses stand": its current version is not revoked. */
const stands = (c: { revocation: RevocationRow | null }) => c.revocation === null;

const standingSummary = (c: { version: VersionRow }) => ({
  licenseId: c.version.licenseId,
  currentVersionId: c.version.id,
  version: c.version.version,
  licensee: c.version.licensee,
});

/**
 * The license an amendment without `licenseId` amends: the asset's only license (as before several were
 * possible), or the only one standing among several. Several standing (or several, none standing): 409
 * naming them, since guessing would amend another party's contract.
 */
function impliedLicense(current: { version: VersionRow; revocation: RevocationRow | null }[]) {
  if (current.length <= 1) return current[0];
  const standing = current.filter(stands);
  if (standing.length === 1) return standing[0];
  const named = (standing.length > 0 ? standing : current).map(standingSummary);
  throw problems.conflict(
    `this asset carries ${named.length} ${standing.length > 0 ? 'standing licenses' : 'licenses, none standing'} (${named.map((l) => `${l.licenseId}: ${l.licensee}`).join('; ')}): name the one to amend with licenseId, or add another with newLicense: true`,
    { licenses: named },
  );
}

/** The exclusive grants of other licensees standing on the asset that the proposed version overlaps. */
function exclusivityConflicts(current: { version: VersionRow; revocation: RevocationRow | null }[], amending: string | null, proposed: ExclusiveTerms, at: Date) {
  return current.flatMap((c) => {
    const v = c.version;
    if (v.licenseId === amending || !v.exclusivity || !stands(c) || v.termEnd.getTime() <= at.getTime()) return [];
    const overlap = exclusivityConflict(proposed, { licensee: v.licensee, territories: v.territories, media: v.media, term: { start: v.termStart, end: v.termEnd } });
    if (!overlap) return [];
    return [
      {
        licenseId: v.licenseId,
        currentVersionId: v.id,
        licensee: v.licensee,
        territories: overlap.territories,
        media: overlap.media,
        term: { start: overlap.term.start.toISOString(), end: overlap.term.end.toISOString() },
      },
    ];
  });
}

/**
 * A new version of one of the asset's licenses, or (`newLicense`) the first version of another license.
 * An amendment supersedes the current version of its license, which stays readable as it was; without
 * `licenseId` it amends the asset's one license (impliedLicense). A version granting exclusivity that
 * overlaps an exclusive grant standing for another licensee is refused unless `overrideConflict` says why.
 */
export async function addLicenseVersion(ledger: Ledger, actor: Actor, assetId: string, input: LicenseCreateInput): Promise<LicenseView> {
  const { newLicense, licenseId: named, overrideConflict, ...asked } = input;
  try {
    // Decided from this asset's versions alone (the asset row never changes): versions of other assets run
    // beside it in a batch; a revocation, which taints checkpoints across datasets, runs alone.
    return await ledger.change(
      actor,
      async ({ tx, record }) => {
        await getAsset(tx, assetId);
        const current = await currentVersions(tx, assetId);
        let latest: VersionRow | undefined;
        if (named !== undefined) {
          latest = current.find((c) => c.version.licenseId === named || c.version.id === named)?.version;
          if (!latest) {
            const [version] = await tx
              .select({ licenseId: licenseVersions.licenseId })
              .from(licenseVersions)
              .where(and(eq(licenseVersions.id, named), eq(licenseVersions.assetId, assetId)));
            latest = version ? current.find((c) => c.version.licenseId === version.licenseId)?.version : undefined;
          }
          if (!latest) throw problems.validation(`licenseId ${named} names no license of asset ${assetId}`, [{ field: 'licenseId', message: 'no license of this asset' }]);
        } else if (!newLicense) {
          latest = impliedLicense(current)?.version;
        }
        const id = newId('lic');
        const terms = {
          id,
          assetId,
          licenseId: latest?.licenseId ?? id,
          version: (latest?.version ?? 0) + 1,
          supersedesId: latest?.id ?? null,
          licensor: asked.licensor,
          licensee: asked.licensee,
          vendors: asked.vendors,
          grantTraining: asked.grants.training,
          grantDerivatives: asked.grants.derivatives,
          grantCommercial: asked.grants.commercial,
          territories: asked.territories,
          media: asked.media,
          baseModelFamilies: asked.baseModelFamilies ?? null,
          termStart: new Date(asked.term.start),
          termEnd: new Date(asked.term.end),
          exclusivity: asked.exclusivity,
          attribution: asked.attribution ?? null,
          contractRefId: asked.contractRef?.id ?? null,
          contractRefSha256: asked.contractRef?.sha256 ?? null,
        };
        const conflicts = terms.exclusivity
          ? exclusivityConflicts(
              current,
              latest?.licenseId ?? null,
              { licensee: terms.licensee, territories: terms.territories, media: terms.media, term: { start: terms.termStart, end: terms.termEnd } },
              new Date(),
            )
          : [];
        if (conflicts.length > 0 && !overrideConflict) {
          throw problems.conflict(
            `this exclusive grant overlaps the exclusive grant of ${conflicts.map((c) => `license ${c.licenseId} (${c.licensee}) in ${c.territories.join(', ')}, ${c.media.join(', ')}, ${c.term.start} to ${c.term.end}`).join('; ')}: record it with overrideConflict: { reason } to override`,
            { conflicts },
          );
        }
        const event = record({
          action: latest ? 'license.amended' : 'license.granted',
          subjectId: id,
          content: {
            ...terms,
            terms: asked,
            // The override is legal's decision to record both grants: kept with what it overrode.
            ...(conflicts.length > 0 && overrideConflict ? { overrideConflict: { reason: overrideConflict.reason, conflicts } } : {}),
          },
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
  /**
   * In the revocation's own change: taints every checkpoint trained on this version or an earlier one of the
   * same license (`chainId`: the license id; `licenseId`: the version revoked); their ids.
   */
  taint(
    change: Pick<ChangeContext, 'tx' | 'record'>,
    revoked: { licenseId: string; chainId: string; assetId: string; version: number; reason: string; at: Date },
  ): Promise<string[]>;
  /** What a revocation of this version would hit, without making it (`licenseId`: the license, not the version). */
  impact(
    q: Queryable,
    license: { licenseId: string; assetId: string; version: number },
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
        content: { revocationId: id, licenseId, chainId: current.licenseId, assetId: current.assetId, reason },
      });
      await tx.insert(licenseRevocations).values({
        id,
        licenseId,
        reason,
        ...recordedAs(event, 'revokedAt'),
        revokedBy: event.actor.sub,
      });
      // Everything trained on this art stops being usable in the same commit as the revocation.
      const tainted = await downstream.taint(
        { tx, record },
        { licenseId, chainId: current.licenseId, assetId: current.assetId, version: current.version, reason, at: new Date(event.time) },
      );
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
 * the current version's id; revoking that one falls on every earlier version of the same license too
 * (gate/resting.ts, checkpoints/service.ts#checkpointsHitBy), and on no other license of the asset. The
 * current version is its license's latest: every new version supersedes it (addLicenseVersion).
 */
async function refuseSuperseded(q: Queryable, license: LicenseView): Promise<void> {
  if (!license.supersededBy) return;
  const [latest] = await q
    .select({ id: licenseVersions.id, version: licenseVersions.version })
    .from(licenseVersions)
    .where(eq(licenseVersions.licenseId, license.licenseId))
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
  /** One license's current version (the license id: its first version's). */
  licenseId?: string | undefined;
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
 * The current version of every license (the one nothing supersedes; an asset with several licenses has a
 * row for each), in the order they were recorded
 * (cursor: the last one's audit index). `state`: standing (not revoked, term not ended), revoked, or ended
 * (its term over, not revoked), as of `at`.
 */
export async function listLicenses(q: Queryable, f: LicenseListFilter, at = new Date()): Promise<{ items: LicenseListItem[]; nextCursor: string | null }> {
  const successor = alias(licenseVersions, 'successor');
  const where: (SQL | undefined)[] = [
    notExists(q.select({ one: sql`1` }).from(successor).where(eq(successor.supersedesId, licenseVersions.id))),
    f.assetId === undefined ? undefined : eq(licenseVersions.assetId, f.assetId),
    f.licenseId === undefined ? undefined : eq(licenseVersions.licenseId, f.licenseId),
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
