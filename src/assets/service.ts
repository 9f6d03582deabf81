import { and, asc, eq, gt, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import { type Actor, entryColumns } from '../audit/event.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { Queryable } from '../db/database.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { newId } from '../db/ids.ts';
import { preparedOn } from '../db/prepared.ts';
import { problems } from '../http/problem.ts';
import type { Grant } from '../vocabulary/rights.ts';
import { UNVERIFIED_MANIFEST_STATES } from './embedded-terms.ts';
import type { AssetCreateInput, AssetView } from './schemas.ts';
import { assetEmbeddedOverrides, assetPreviews, assets } from './tables.ts';

type AssetRow = typeof assets.$inferSelect;
type OverrideRow = typeof assetEmbeddedOverrides.$inferSelect;

export function assetView(r: AssetRow, override: OverrideRow | null = null): AssetView {
  return {
    id: r.id,
    sha256: r.sha256,
    title: r.title,
    mediaType: r.mediaType,
    creator: r.creator,
    production: r.production,
    sourceUri: r.sourceUri,
    rightsHolder: r.rightsHolder,
    byteSize: r.byteSize,
    derivedFromOutputId: r.derivedFromOutputId,
    embeddedTrainingMining: { c2pa: r.c2paTrainingMining, cawg: r.cawgTrainingMining },
    embeddedManifest: {
      state: r.embeddedManifestState,
      codes: r.embeddedManifestCodes,
      override: override && { reason: override.reason, by: override.createdBy, at: override.createdAt.toISOString(), auditIndex: override.auditIndex },
    },
    createdAt: r.createdAt.toISOString(),
    createdBy: r.createdBy,
    auditIndex: r.auditIndex,
  };
}

function duplicate(existing: AssetRow) {
  return problems.conflict(`production "${existing.production}" already has this content as asset ${existing.id}`, {
    existingAssetId: existing.id,
    existing: `/v1/assets/${existing.id}`,
  });
}

export async function findByHash(q: Queryable, production: string, sha256: string): Promise<AssetRow | undefined> {
  const rows = await q
    .select()
    .from(assets)
    .where(and(eq(assets.production, production), eq(assets.sha256, sha256)));
  return rows[0];
}

/**
 * How registration finds the output an asset says it was made from, with its withdrawal if any. Outputs sit
 * above assets (outputs/reader.ts), so the composition root hands the reader in.
 */
export type FindOutput = (q: Queryable, id: string) => Promise<{ withdrawal: object | null } | undefined>;

/** The picture made from an uploaded file (media/preview.ts), stored beside the asset it shows. */
export type AssetPreview = { mediaType: string; width: number; height: number; bytes: Uint8Array };

export async function registerAsset(ledger: Ledger, actor: Actor, input: AssetCreateInput, findOutput: FindOutput, preview?: AssetPreview | null): Promise<AssetView> {
  try {
    // Its decision reads only this production's rows with this content (the output it derives from, if any,
    // is written once by a change that runs alone): registrations of other content run beside it in a batch.
    return await ledger.change(
      actor,
      async ({ tx, record }) => {
        const existing = await findByHash(tx, input.production, input.sha256);
        if (existing) throw duplicate(existing);
        if (input.derivedFromOutputId) {
          const output = await findOutput(tx, input.derivedFromOutputId);
          if (!output) throw problems.validation(`no output ${input.derivedFromOutputId}`, [{ field: 'derivedFromOutputId', message: 'unknown output' }]);
          // Its signed file failed the read-back and never left: nothing can have been made from it.
          if (output.withdrawal) throw problems.validation(`output ${input.derivedFromOutputId} was withdrawn`, [{ field: 'derivedFromOutputId', message: 'withdrawn output' }]);
        }
        const id = newId('ast');
        const draft = {
          id,
          sha256: input.sha256,
          title: input.title,
          mediaType: input.mediaType,
          creator: input.creator,
          production: input.production,
          sourceUri: input.sourceUri ?? null,
          rightsHolder: input.rightsHolder ?? null,
          byteSize: input.byteSize ?? null,
          c2paTrainingMining: input.embeddedTrainingMining?.c2pa ?? null,
          cawgTrainingMining: input.embeddedTrainingMining?.cawg ?? null,
          embeddedManifestState: input.embeddedManifest?.state ?? 'none',
          embeddedManifestCodes: input.embeddedManifest?.codes ?? [],
          derivedFromOutputId: input.derivedFromOutputId ?? null,
        };
        const event = record({ action: 'asset.registered', subjectId: id, content: draft });
        const [row] = await tx
          .insert(assets)
          .values({ ...draft, ...entryColumns(event) })
          .returning();
        if (preview) await tx.insert(assetPreviews).values({ assetId: id, ...preview });
        return assetView(row!);
      },
      { touches: [`asset-content:${input.production}:${input.sha256}`] },
    );
  } catch (e) {
    // Two registrations of the same content raced past the check: the unique index decided.
    if (isUniqueViolation(e, 'assets_production_sha256_key')) {
      const existing = await findByHash(ledger.db, input.production, input.sha256);
      if (existing) throw duplicate(existing);
    }
    throw e;
  }
}

export async function getAsset(q: Queryable, id: string): Promise<AssetRow> {
  const rows = await q.select().from(assets).where(eq(assets.id, id));
  if (!rows[0]) throw problems.notFound(`no asset ${id}`);
  return rows[0];
}

/** An asset's preview; 404 for an unknown asset and for one registered without a picture (by hash, or a type not decoded). */
export async function readPreview(q: Queryable, id: string): Promise<AssetPreview> {
  const rows = await q.select().from(assetPreviews).where(eq(assetPreviews.assetId, id));
  if (rows[0]) return rows[0];
  await getAsset(q, id);
  throw problems.notFound(`asset ${id} has no preview: it was registered by its hash, or its file is not an image the service decodes`);
}

/** One asset as answered: with legal's override of its embedded terms, if any (one statement, built once). */
export async function readAsset(q: Queryable, id: string): Promise<AssetView> {
  const statement = preparedOn(q, 'read_asset', (db) =>
    db
      .select({ asset: assets, override: assetEmbeddedOverrides })
      .from(assets)
      .leftJoin(assetEmbeddedOverrides, eq(assetEmbeddedOverrides.assetId, assets.id))
      .where(eq(assets.id, sql.placeholder('id')))
      .prepare('read_asset'),
  );
  const [found] = await statement.execute({ id });
  if (!found) throw problems.notFound(`no asset ${id}`);
  return assetView(found.asset, found.override);
}

/**
 * Legal's override of art whose own manifest is present but cannot be validated: the policies stop denying
 * it for that (and for the terms read from that manifest), and the reason is logged in its own entry. Only
 * for such art (409 otherwise: a valid manifest's terms, or none, are not legal's to set aside), once.
 */
export async function overrideEmbeddedTerms(ledger: Ledger, actor: Actor, id: string, reason: string): Promise<AssetView> {
  const refuseAgain = (o: { auditIndex: number }) => problems.conflict(`asset ${id} already has an override of its embedded terms (audit entry ${o.auditIndex})`, { assetId: id });
  try {
    return await ledger.change(
      actor,
      async ({ tx, record }) => {
        const row = await getAsset(tx, id);
        if (!UNVERIFIED_MANIFEST_STATES.includes(row.embeddedManifestState)) {
          throw problems.conflict(`asset ${id}'s own manifest is ${row.embeddedManifestState}: only art whose manifest is invalid, damaged or unreadable can be overridden`, {
            assetId: id,
            embeddedManifestState: row.embeddedManifestState,
          });
        }
        const [existing] = await tx.select().from(assetEmbeddedOverrides).where(eq(assetEmbeddedOverrides.assetId, id));
        if (existing) throw refuseAgain(existing);
        const content = { assetId: id, reason, embeddedManifestState: row.embeddedManifestState, embeddedManifestCodes: row.embeddedManifestCodes };
        const event = record({ action: 'asset.embedded-terms-overridden', subjectId: id, content });
        const [override] = await tx
          .insert(assetEmbeddedOverrides)
          .values({ assetId: id, reason, ...entryColumns(event) })
          .returning();
        return assetView(row, override!);
      },
      { touches: [`asset-override:${id}`] },
    );
  } catch (e) {
    if (isUniqueViolation(e, 'asset_embedded_overrides_pkey')) {
      const [existing] = await ledger.db.select().from(assetEmbeddedOverrides).where(eq(assetEmbeddedOverrides.assetId, id));
      if (existing) throw refuseAgain(existing);
    }
    throw e;
  }
}

/** What the asset list may ask of an asset's current license (licenses sit above assets). */
export type AssetLicenseFilter = {
  license?: 'licensed' | 'unlicensed' | 'revoked' | undefined;
  training?: Grant | undefined;
  derivatives?: Grant | undefined;
  commercial?: Grant | undefined;
  territory?: string | undefined;
};

/**
 * The port the licenses capability fills (licenses/service.ts#assetLicenseCondition): a condition on the
 * asset id column, or undefined when the filter asks nothing of licenses.
 */
export type AssetLicenseCondition = (assetId: typeof assets.id, f: AssetLicenseFilter) => SQL | undefined;

export async function listAssets(
  q: Queryable,
  f: { production?: string | undefined; rightsHolder?: string | undefined; q?: string | undefined; cursor?: string | undefined; limit: number } & AssetLicenseFilter,
  licenseCondition?: AssetLicenseCondition,
): Promise<{ items: AssetView[]; nextCursor: string | null }> {
  const where: SQL[] = [];
  const licensed = licenseCondition?.(assets.id, f);
  if (licensed) where.push(licensed);
  if (f.production) where.push(eq(assets.production, f.production));
  if (f.rightsHolder) where.push(eq(assets.rightsHolder, f.rightsHolder));
  if (f.q) {
    const pattern = `%${f.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    where.push(or(ilike(assets.title, pattern), ilike(assets.creator, pattern))!);
  }
  if (f.cursor) where.push(gt(assets.seq, Number(f.cursor)));
  const rows = await q
    .select()
    .from(assets)
    .where(and(...where))
    .orderBy(asc(assets.seq))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const overridden = page.some((r) => UNVERIFIED_MANIFEST_STATES.includes(r.embeddedManifestState))
    ? await q
        .select()
        .from(assetEmbeddedOverrides)
        .where(
          inArray(
            assetEmbeddedOverrides.assetId,
            page.map((r) => r.id),
          ),
        )
    : [];
  const overrideOf = new Map(overridden.map((o) => [o.assetId, o]));
  return {
    items: page.map((r) => assetView(r, overrideOf.get(r.id) ?? null)),
    nextCursor: rows.length > f.limit ? String(page[page.length - 1]!.seq) : null,
  };
}
