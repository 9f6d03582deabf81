import { eq, inArray } from 'drizzle-orm';
import type { Queryable } from '../db/database.ts';
import { datasetAssets, datasets } from '../datasets/tables.ts';
import { restingLicenses } from '../gate/service.ts';
import { clearanceStanding } from '../gate/standing.ts';
import { clearances } from '../gate/tables.ts';
import { checkpointStatuses } from './service.ts';
import { checkpoints } from './tables.ts';

/** Datasets holding the asset, the clearances given on them, and the checkpoints built on those. */
export async function assetDownstream(q: Queryable, assetId: string) {
  const memberOf = await q.selectDistinct({ id: datasetAssets.datasetId }).from(datasetAssets).where(eq(datasetAssets.assetId, assetId));
  const datasetIds = memberOf.map((d) => d.id);
  const ds = datasetIds.length ? await q.select().from(datasets).where(inArray(datasets.id, datasetIds)) : [];
  const cs = datasetIds.length ? await q.select().from(clearances).where(inArray(clearances.datasetId, datasetIds)) : [];
  const resting = await restingLicenses(q, cs.map((c) => c.id));
  const now = new Date();
  const ks = cs.length ? await q.select().from(checkpoints).where(inArray(checkpoints.clearanceId, cs.map((c) => c.id))) : [];
  const statuses = await checkpointStatuses(q, ks, now, cs);
  const checkpointItems = ks.map((k) => ({ id: k.id, clearanceId: k.clearanceId, datasetId: k.datasetId, vendor: k.vendor, baseModel: k.baseModel, status: statuses.get(k.id)!.status }));
  return {
    assetId,
    datasets: ds.map((d) => ({ id: d.id, name: d.name, digest: d.digest, parentId: d.parentId, assetCount: d.assetCount })),
    clearances: cs.map((c) => ({ id: c.id, datasetId: c.datasetId, vendor: c.vendor, decision: c.decision, purpose: c.purpose, baseModel: c.baseModel, standing: clearanceStanding(c, resting.get(c.id) ?? [], now).status })),
    checkpoints: checkpointItems,
  };
}
