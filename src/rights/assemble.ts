import { asc, eq, inArray, sql } from 'drizzle-orm';
import { assets } from '../assets/tables.ts';
import { checkpointStatus } from '../checkpoints/service.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import { datasetAssets } from '../datasets/tables.ts';
import { type Queryable, queryRows } from '../db/database.ts';
import { restingLicenseRows } from '../gate/resting.ts';
import type { LicenseView } from '../licenses/schemas.ts';
import { getLicense, licenseHistory } from '../licenses/service.ts';
import { licenseApprovals } from '../licenses/tables.ts';
import { findOutput, type OutputRecord } from '../outputs/reader.ts';
import type { AssetNode, LicenseSnapshot, OutputNode } from './chain.ts';

const MAX_GENERATIONS = 32;

/**
 * Reads the chain under an output from the ledger: output → checkpoint → clearance → dataset → assets →
 * license versions (the one the clearance rested on, and the current one), then through any asset that
 * was itself registered from an earlier output. Stops at outputs already visited and past 32 generations;
 * the pure evaluator (chain.ts) reports both.
 */
export async function assembleOutputNode(q: Queryable, output: string | OutputRecord, visited = new Set<string>(), depth = 0): Promise<OutputNode> {
  // The root comes as read by the caller (its 404 already answered); outputs further down by id.
  const outputId = typeof output === 'string' ? output : output.id;
  const out = typeof output === 'string' ? await findOutput(q, output) : output;
  if (!out) throw new Error(`no output ${outputId}`);
  const withdrawal = out.withdrawal;
  visited.add(outputId);
  const [ckp] = await q.select().from(checkpoints).where(eq(checkpoints.id, out.checkpointId));
  const status = await checkpointStatus(q, ckp!);
  const cause = status.causes[0];

  const members = await q.select({ assetId: datasetAssets.assetId }).from(datasetAssets).where(eq(datasetAssets.datasetId, out.datasetId)).orderBy(asc(datasetAssets.position));
  const resting = await queryRows<{ license_id: string; asset_id: string }>(
    q,
    sql`select rl.license_id, rl.asset_id from (${restingLicenseRows}) rl where rl.clearance_id = ${out.clearanceId}`,
  );
  const restingByAsset = new Map(resting.map((r) => [r.asset_id, r.license_id]));

  const roles = new Map<string, 'training' | 'reference'>();
  for (const m of members) roles.set(m.assetId, 'training');
  for (const id of out.sourceAssetIds) if (!roles.has(id)) roles.set(id, 'reference');
  const rows = roles.size
    ? await q
        .select()
        .from(assets)
        .where(inArray(assets.id, [...roles.keys()]))
    : [];
  const byId = new Map(rows.map((a) => [a.id, a]));

  const nodes: AssetNode[] = [];
  for (const [assetId, role] of roles) {
    const a = byId.get(assetId)!;
    const atClearanceId = restingByAsset.get(assetId);
    const atClearance = role === 'training' && atClearanceId ? await getLicense(q, atClearanceId) : null;
    const current = licenseNow(await licenseHistory(q, assetId), atClearance, status.clearance.vendor);
    let derivedFrom: OutputNode | null = null;
    if (a.derivedFromOutputId) {
      derivedFrom =
        visited.has(a.derivedFromOutputId) || depth >= MAX_GENERATIONS
          ? await stubOutput(q, a.derivedFromOutputId) // the evaluator names the cycle or the depth limit
          : await assembleOutputNode(q, a.derivedFromOutputId, new Set(visited), depth + 1);
    }
    nodes.push({
      assetId,
      title: a.title,
      sha256: a.sha256,
      role,
      licenseAtClearance: atClearance ? await snapshot(q, atClearance) : null,
      licenseNow: current ? await snapshot(q, current) : null,
      derivedFrom,
    });
  }

  return {
    outputId: out.id,
    checkpoint: {
      id: ckp!.id,
      status: status.status,
      taint: cause ? { ...cause, reason: 'reason' in cause ? cause.reason : cause.kind, effectiveAt: 'at' in cause ? cause.at : null } : null,
    },
    clearance: {
      id: out.clearanceId,
      vendor: status.clearance.vendor,
      issuedAt: status.clearance.issuedAt.toISOString(),
      // A clearance token's own expiry ends new training, not what was trained in time.
      standing: status.standing.status === 'expired' ? 'standing' : status.standing.status,
    },
    dataset: { id: out.datasetId, digest: out.datasetDigest },
    assets: nodes,
    withdrawn: withdrawal ? { at: withdrawal.withdrawnAt.toISOString(), reason: withdrawal.reason } : null,
  };
}

/**
 * The license version the chain judges the asset by today, of the asset's several licenses: the current
 * version of the license the clearance rested on; for a reference, the current version of a standing
 * license naming the vendor, else of any naming it, else the asset's first current one.
 */
function licenseNow(history: LicenseView[], atClearance: LicenseView | null, vendor: string): LicenseView | undefined {
  const currents = history.filter((v) => v.supersededBy === null);
  if (atClearance) return currents.find((v) => v.licenseId === atClearance.licenseId);
  const names = (v: LicenseView) => v.licensee === vendor || v.vendors.includes(vendor);
  return currents.find((v) => names(v) && v.status !== 'revoked') ?? currents.find(names) ?? currents[currents.length - 1];
}

/** An output named again (a cycle) or too deep: only its identity, so the walk stops there. */
async function stubOutput(q: Queryable, outputId: string): Promise<OutputNode> {
  const out = await findOutput(q, outputId);
  return {
    outputId,
    checkpoint: { id: out?.checkpointId ?? 'unknown', status: 'active', taint: null },
    clearance: { id: out?.clearanceId ?? 'unknown', vendor: '', issuedAt: new Date(0).toISOString(), standing: 'standing' },
    dataset: { id: out?.datasetId ?? 'unknown', digest: out?.datasetDigest ?? '' },
    assets: [],
  };
}

async function snapshot(q: Queryable, l: LicenseView): Promise<LicenseSnapshot> {
  const approvals = await q.select().from(licenseApprovals).where(eq(licenseApprovals.licenseId, l.id));
  return {
    id: l.id,
    version: l.version,
    status: l.status,
    revokedAt: l.revocation?.revokedAt ?? null,
    grants: l.grants,
    territories: l.territories,
    media: l.media,
    term: l.term,
    approvals: approvals.map((a) => ({ grant: a.grant, vendor: a.vendor, purpose: a.purpose, validFrom: a.validFrom.toISOString(), validUntil: a.validUntil.toISOString() })),
  };
}
