import { asc, eq, inArray } from 'drizzle-orm';
import { assetEmbeddedOverrides, assets } from '../assets/tables.ts';
import { readEvent } from '../audit/log-store.ts';
import { checkpointStatus } from '../checkpoints/service.ts';
import type { checkpoints } from '../checkpoints/tables.ts';
import { datasetAssets, datasets } from '../datasets/tables.ts';
import type { Queryable } from '../db/database.ts';
import { decisionsOf, restingLicenses } from '../gate/service.ts';
import { clearances, policySets } from '../gate/tables.ts';
import { licenseVersions } from '../licenses/tables.ts';
import { tuningJobs } from '../tuning/tables.ts';
import type { Count, Entry, ExcludedAsset, LicenseReliedOn, SignalRead, TrainingSummary } from './training-summary-render.ts';

type CheckpointRow = typeof checkpoints.$inferSelect;
type AssetRow = typeof assets.$inferSelect;

export const TEMPLATE =
  'In the shape of the European Commission’s template for the public summary of training content of general-purpose AI models, Article 53(1)(d) of Regulation (EU) 2024/1689 (July 2025)';

/** The policies that honour the art's own rights reservation (policies/c2pa.cedar). */
const RESERVATION_POLICIES = new Set(['c2pa-training-mining-not-allowed', 'cawg-training-mining-not-allowed', 'embedded-manifest-unreadable']);
const UNVERIFIED = new Set(['invalid', 'damaged', 'unreadable']);

const tally = (values: Iterable<string>): Count[] => {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
};

const modalityOf = (mediaType: string) => {
  const top = mediaType.split('/')[0]!.toLowerCase();
  return top === 'image' || top === 'video' || top === 'audio' || top === 'text' ? top : 'other';
};

/** The template's size bands for images and video (its own ranges). */
function sizeRange(modality: string, n: number): string {
  if (modality === 'video') return n < 10_000 ? 'less than 10,000 hours of video' : 'at least 10,000 hours of video';
  return n < 1_000_000 ? 'less than 1 million images' : n < 1_000_000_000 ? '1 million to 1 billion images' : 'more than 1 billion images';
}

const entryOf = (action: string, row: { createdAt: Date; createdBy: string; auditIndex: number }): Entry => ({
  action,
  auditIndex: row.auditIndex,
  at: row.createdAt.toISOString(),
  by: row.createdBy,
});

/**
 * The training summary of a checkpoint, read from the ledger: checkpoint → tuning job → clearance → the
 * dataset asked for and the one trained on → their assets → the license versions the clearance rested on.
 * The exclusions are the clearance's own recorded decisions, not decided again.
 */
export async function trainingSummary(q: Queryable, row: CheckpointRow, now = new Date()): Promise<TrainingSummary> {
  const [clearance] = await q.select().from(clearances).where(eq(clearances.id, row.clearanceId));
  if (!clearance) throw new Error(`checkpoint ${row.id} names no recorded clearance`);
  const [status, job, datasetRows, policySet] = await Promise.all([
    checkpointStatus(q, row, now, { clearance }),
    row.tuningJobId ? q.select().from(tuningJobs).where(eq(tuningJobs.id, row.tuningJobId)) : Promise.resolve([]),
    q
      .select()
      .from(datasets)
      .where(inArray(datasets.id, [...new Set([row.datasetId, clearance.requestedDatasetId])])),
    q.select().from(policySets).where(eq(policySets.digest, clearance.policyDigest)),
  ]);
  const datasetOf = new Map(datasetRows.map((d) => [d.id, d]));
  const trained = datasetOf.get(row.datasetId)!;
  const requested = datasetOf.get(clearance.requestedDatasetId) ?? trained;

  // Every member asked for, with its asset; the trained dataset is the allowed part of it.
  const memberRows = await q
    .select({ asset: assets, position: datasetAssets.position })
    .from(datasetAssets)
    .innerJoin(assets, eq(assets.id, datasetAssets.assetId))
    .where(eq(datasetAssets.datasetId, requested.id))
    .orderBy(asc(datasetAssets.position));
  const trainedIds =
    trained.id === requested.id
      ? new Set(memberRows.map((m) => m.asset.id))
      : new Set((await q.select({ id: datasetAssets.assetId }).from(datasetAssets).where(eq(datasetAssets.datasetId, trained.id))).map((r) => r.id));
  const requestedAssets = memberRows.map((m) => m.asset);
  const trainedAssets = requestedAssets.filter((a) => trainedIds.has(a.id));
  const overridden = new Set(
    requestedAssets.length
      ? (
          await q
            .select({ id: assetEmbeddedOverrides.assetId })
            .from(assetEmbeddedOverrides)
            .where(
              inArray(
                assetEmbeddedOverrides.assetId,
                requestedAssets.map((a) => a.id),
              ),
            )
        ).map((r) => r.id)
      : [],
  );

  const outcomes = await decisionsOf(q, clearance);
  const outcomeOf = new Map(outcomes.map((o) => [o.assetId, o]));
  const excluded = requestedAssets.filter((a) => !trainedIds.has(a.id)).map((a) => excludedAsset(a, overridden.has(a.id), outcomeOf.get(a.id)));
  const byReservation = excluded.filter((e) => e.reasons.some((r) => RESERVATION_POLICIES.has(r.policyId)));
  const otherwise = excluded.filter((e) => !e.reasons.some((r) => RESERVATION_POLICIES.has(r.policyId)));

  const licenses = await licensesReliedOn(q, clearance.id, trainedAssets, outcomeOf, now);
  const policyEvent = policySet[0] ? await readEvent(q, policySet[0].auditIndex) : undefined;

  const registered = trainedAssets.map((a) => a.createdAt.toISOString()).sort();
  const byModality = new Map<string, AssetRow[]>();
  for (const a of trainedAssets) byModality.set(modalityOf(a.mediaType), [...(byModality.get(modalityOf(a.mediaType)) ?? []), a]);
  const sized = trainedAssets.filter((a) => a.byteSize !== null);
  const bytes = sized.reduce((n, a) => n + (a.byteSize ?? 0), 0);
  const main = [...byModality].sort((x, y) => y[1].length - x[1].length)[0]?.[0] ?? 'image';
  const synthetic = trainedAssets.filter((a) => a.derivedFromOutputId !== null);
  const datasetView = (d: typeof trained) => ({ id: d.id, name: d.name, digest: d.digest, assetCount: d.assetCount, created: entryOf('dataset.created', d) });

  return {
    document: 'training-summary',
    template: TEMPLATE,
    generatedAt: now.toISOString(),
    generalInformation: {
      provider: { name: row.vendor, description: 'the vendor that trained the checkpoint under the clearance named below' },
      model: {
        name: row.vertexModel ?? row.externalRef ?? row.id,
        checkpointId: row.id,
        baseModel: row.baseModel,
        source: row.source,
        artifactDigest: row.artifactDigest,
        tuningJob: job[0] ? { id: job[0].id, displayName: job[0].displayName, trainingDataUri: job[0].trainingDataUri, recorded: entryOf('tuning-job.submitted', job[0]) } : null,
        registered: entryOf('checkpoint.registered', row),
        statusNow: status.status,
      },
      date: row.createdAt.toISOString(),
      modalities: [...byModality].map(([modality, list]) => ({ modality, assetCount: list.length, mediaTypes: tally(list.map((a) => a.mediaType)) })),
      trainingDataSize: { assets: trainedAssets.length, bytes, bytesKnownFor: sized.length, range: sizeRange(main, trainedAssets.length) },
      latestRegistrationAt: registered.at(-1) ?? null,
    },
    dataSources: {
      publiclyAvailableDatasets: 'None: only the production’s licensed art was used.',
      licensedData: {
        description: `Concept art of the production${new Set(trainedAssets.map((a) => a.production)).size === 1 ? '' : 's'} below, each asset registered in the ledger with its own license versions from its rights holder, frozen into the dataset named (its digest is the Merkle root over the assets' SHA-256).`,
        dataset: datasetView(trained),
        requestedDataset: requested.id === trained.id ? null : datasetView(requested),
        assetCount: trainedAssets.length,
        productions: tally(trainedAssets.map((a) => a.production)),
        rightsHolders: tally(trainedAssets.map((a) => a.rightsHolder ?? '(not stated)')),
        mediaTypes: tally(trainedAssets.map((a) => a.mediaType)),
        period: { firstRegisteredAt: registered[0] ?? null, lastRegisteredAt: registered.at(-1) ?? null },
        bytes,
      },
      crawledData: 'None.',
      userData: 'None.',
      syntheticData: {
        assetCount: synthetic.length,
        description: 'assets registered as art from an output this ledger signed; their own chain of title leads back to licensed art',
      },
      otherSources: 'None.',
    },
    dataProcessing: {
      clearance: {
        id: clearance.id,
        decision: clearance.decision,
        mode: clearance.mode,
        purpose: clearance.purpose,
        vendor: clearance.vendor,
        baseModel: clearance.baseModel,
        issuedAt: clearance.issuedAt.toISOString(),
        policyDigest: clearance.policyDigest,
        datasetDigest: clearance.datasetDigest,
        decisionsDigest: clearance.decisionsDigest,
        counts: { requested: clearance.allowedCount + clearance.deniedCount, allowed: clearance.allowedCount, denied: clearance.deniedCount },
        standingNow: status.standing.status,
        granted: {
          action: `clearance.${clearance.decision === 'allow' ? 'granted' : 'denied'}`,
          auditIndex: clearance.auditIndex,
          at: clearance.issuedAt.toISOString(),
          by: clearance.createdBy,
        },
        policySetLoaded: policySet[0]
          ? { action: 'policy-set.loaded', auditIndex: policySet[0].auditIndex, at: policySet[0].firstLoadedAt.toISOString(), by: policyEvent?.actor.sub ?? '—' }
          : null,
      },
      rightsReservations: {
        description:
          'Before training, the training gate evaluated every asset asked for with the Cedar policy set named by its digest. An asset whose own C2PA manifest carries a C2PA or CAWG training-mining assertion of notAllowed, or whose manifest is present but cannot be validated (its terms cannot be known), was refused unless legal recorded an override; the clearance left it out of the dataset trained on.',
        signalsRead: signalsRead(requestedAssets, overridden, byReservation),
        excluded: byReservation,
      },
      otherExclusions: otherwise,
      licensesReliedOn: licenses,
    },
  };
}

function excludedAsset(a: AssetRow, overridden: boolean, outcome: { licenseId: string | null; reasons: { policyId: string; reason: string }[] } | undefined): ExcludedAsset {
  return {
    assetId: a.id,
    title: a.title,
    rightsHolder: a.rightsHolder,
    signals: { c2paTrainingMining: a.c2paTrainingMining, cawgTrainingMining: a.cawgTrainingMining, embeddedManifest: a.embeddedManifestState, embeddedTermsOverridden: overridden },
    licenseId: outcome?.licenseId ?? null,
    reasons: outcome?.reasons.filter((r) => r.policyId !== 'training-permitted').map((r) => ({ policyId: r.policyId, reason: r.reason })) ?? [],
  };
}

function signalsRead(members: readonly AssetRow[], overridden: Set<string>, excluded: readonly ExcludedAsset[]): SignalRead[] {
  const countBy = (pick: (a: AssetRow) => string | null) => Object.fromEntries(tally(members.map((a) => pick(a) ?? 'absent')).map((c) => [c.name, c.count]));
  const excludedBy = (policyId: string) => excluded.filter((e) => e.reasons.some((r) => r.policyId === policyId)).length;
  return [
    {
      signal: 'c2pa.training-mining',
      standard: 'C2PA 1.x training-and-data-mining assertion in the asset’s own manifest (most restrictive AI-training use)',
      stored: true,
      counts: countBy((a) => a.c2paTrainingMining),
      excluded: excludedBy('c2pa-training-mining-not-allowed'),
      note: 'notAllowed refuses training; constrained is left to the license',
    },
    {
      signal: 'cawg.training-mining',
      standard: 'CAWG training-and-data-mining assertion (Creator Assertions Working Group)',
      stored: true,
      counts: countBy((a) => a.cawgTrainingMining),
      excluded: excludedBy('cawg-training-mining-not-allowed'),
      note: 'notAllowed refuses training; constrained is left to the license',
    },
    {
      signal: 'embedded manifest state',
      standard: 'C2PA manifest validation by c2pa-rs',
      stored: true,
      counts: countBy((a) => (UNVERIFIED.has(a.embeddedManifestState) && overridden.has(a.id) ? `${a.embeddedManifestState} (overridden)` : a.embeddedManifestState)),
      excluded: excludedBy('embedded-manifest-unreadable'),
      note: 'a manifest present but invalid, damaged or unreadable refuses training until legal records an override',
    },
    {
      signal: 'IPTC plus:DataMining',
      standard: 'IPTC Photo Metadata (PLUS DataMining) in the file’s XMP',
      stored: false,
      counts: {},
      excluded: 0,
      note: 'read by bulk import only, which refuses a row that allows training for a file whose DataMining prohibits AI training; the value is not kept per asset',
    },
  ];
}

async function licensesReliedOn(
  q: Queryable,
  clearanceId: string,
  trainedAssets: readonly AssetRow[],
  outcomeOf: Map<string, { licenseId: string | null }>,
  now: Date,
): Promise<TrainingSummary['dataProcessing']['licensesReliedOn']> {
  const ids = [...new Set(trainedAssets.map((a) => outcomeOf.get(a.id)?.licenseId).filter((id): id is string => typeof id === 'string'))];
  const [rows, resting] = await Promise.all([
    ids.length ? q.select().from(licenseVersions).where(inArray(licenseVersions.id, ids)) : Promise.resolve([]),
    restingLicenses(q, [clearanceId]),
  ]);
  const fell = new Map((resting.get(clearanceId) ?? []).map((r) => [r.licenseId, r]));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const items: LicenseReliedOn[] = [];
  for (const a of trainedAssets) {
    const id = outcomeOf.get(a.id)?.licenseId;
    const v = id ? byId.get(id) : undefined;
    if (!v) continue;
    const r = fell.get(v.id);
    items.push({
      licenseId: v.id,
      version: v.version,
      assetId: v.assetId,
      licensor: v.licensor,
      licensee: v.licensee,
      training: v.grantTraining,
      territories: v.territories,
      media: v.media,
      term: { start: v.termStart.toISOString(), end: v.termEnd.toISOString() },
      contractRef: v.contractRefId,
      standingNow: r?.revocation && r.revocation.at <= now ? 'revoked' : v.termEnd <= now ? 'ended' : 'standing',
      recorded: entryOf(v.version === 1 ? 'license.granted' : 'license.amended', v),
    });
  }
  return { count: items.length, byLicensor: tally(items.map((i) => i.licensor)), items };
}
