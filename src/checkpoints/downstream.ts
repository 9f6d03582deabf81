import { eq, inArray, sql } from 'drizzle-orm';
import { datasetAssets, datasets } from '../datasets/tables.ts';
import { type Queryable, queryRows } from '../db/database.ts';
import { restingLicenseRows } from '../gate/resting.ts';
import { restingLicenses } from '../gate/service.ts';
import { clearanceStanding } from '../gate/standing.ts';
import { clearances } from '../gate/tables.ts';
import type { RevocationDownstream, RevocationImpactClearance } from '../licenses/service.ts';
import { checkpointStatuses, checkpointsHitBy, taintForRevocation } from './service.ts';
import { checkpoints } from './tables.ts';

/** Datasets holding the asset, the clearances given on them, and the checkpoints built on those. */
export async function assetDownstream(q: Queryable, assetId: string) {
  const memberOf = await q.selectDistinct({ id: datasetAssets.datasetId }).from(datasetAssets).where(eq(datasetAssets.assetId, assetId));
  const datasetIds = memberOf.map((d) => d.id);
  const ds = datasetIds.length ? await q.select().from(datasets).where(inArray(datasets.id, datasetIds)) : [];
  const cs = datasetIds.length ? await q.select().from(clearances).where(inArray(clearances.datasetId, datasetIds)) : [];
  const resting = await restingLicenses(
    q,
    cs.map((c) => c.id),
  );
  const now = new Date();
  const ks = cs.length
    ? await q
        .select()
        .from(checkpoints)
        .where(
          inArray(
            checkpoints.clearanceId,
            cs.map((c) => c.id),
          ),
        )
    : [];
  const statuses = await checkpointStatuses(q, ks, now, cs);
  const checkpointItems = ks.map((k) => ({
    id: k.id,
    clearanceId: k.clearanceId,
    datasetId: k.datasetId,
    vendor: k.vendor,
    baseModel: k.baseModel,
    status: statuses.get(k.id)!.status,
  }));
  return {
    assetId,
    datasets: ds.map((d) => ({ id: d.id, name: d.name, digest: d.digest, parentId: d.parentId, assetCount: d.assetCount })),
    clearances: cs.map((c) => ({
      id: c.id,
      datasetId: c.datasetId,
      vendor: c.vendor,
      decision: c.decision,
      purpose: c.purpose,
      baseModel: c.baseModel,
      standing: clearanceStanding(c, resting.get(c.id) ?? [], now).status,
    })),
    checkpoints: checkpointItems,
  };
}

/** What a license revocation reaches: handed to the licenses capability by the composition root. */
export const revocationDownstream: RevocationDownstream = {
  taint: taintForRevocation,
  async impact(q, license) {
    const wouldRevokeClearances = await queryRows<RevocationImpactClearance>(
      q,
      sql`select distinct c.id, c.vendor, c.decision, c.dataset_id as "datasetId"
          from clearances c
          join (${restingLicenseRows}) rl on rl.clearance_id = c.id
          where rl.asset_id = ${license.assetId} and rl.chain_id = ${license.licenseId} and rl.version <= ${license.version}
          order by c.id`,
    );
    return { wouldRevokeClearances, wouldTaintCheckpoints: await checkpointsHitBy(q, license.assetId, license.licenseId, license.version) };
  },
};
