import { createHash } from 'node:crypto';
import { and, asc, desc, eq, lt, type SQL, sql } from 'drizzle-orm';
import { assets } from '../assets/tables.ts';
import { entryColumns } from '../audit/event.ts';
import type { ChangeContext, Ledger } from '../audit/ledger.ts';
import type { Principal } from '../auth/tokens.ts';
import { type Queryable, queryRowsPrepared } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { problems } from '../http/problem.ts';
import { canonicalOrder, datasetDigest, locateContent, type Member, membershipProofs } from './digest.ts';
import type { DatasetView } from './schemas.ts';
import { datasetAssets, datasets } from './tables.ts';

type DatasetRow = typeof datasets.$inferSelect;
export function datasetView(r: DatasetRow): DatasetView {
  return { ...r, createdAt: r.createdAt.toISOString() };
}

/** Resolves asset ids to members; 422 naming every unknown or repeated id. */
export async function resolveMembers(q: Queryable, assetIds: readonly string[]): Promise<Member[]> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const id of assetIds) (seen.has(id) ? repeated : seen).add(id);
  if (repeated.size > 0) {
    const list = [...repeated];
    throw problems.validation(
      `the asset list repeats ${list.length} id(s)`,
      list.slice(0, 100).map((id) => ({ field: 'assetIds', message: `${id} is listed more than once` })),
    );
  }
  const found = new Map<string, string>();
  const rows = await queryRowsPrepared<{ id: string; sha256: string }>(
    q,
    sql`select id, sha256 from assets where id = any(${sql.param([...assetIds])}::text[])`,
    'resolve_members',
  );
  for (const r of rows) found.set(r.id, r.sha256);
  const unknown = assetIds.filter((id) => !found.has(id));
  if (unknown.length > 0) {
    throw problems.validation(
      `${unknown.length} asset id(s) are not registered`,
      unknown.slice(0, 100).map((id) => ({ field: 'assetIds', message: `unknown asset ${id}` })),
    );
  }
  return assetIds.map((id) => ({ assetId: id, sha256: found.get(id)! }));
}

/** Writes a frozen dataset inside a change; members in any order. */
export async function insertDataset(
  ctx: Pick<ChangeContext, 'tx' | 'record' | 'actor'>,
  input: { name: string; members: readonly Member[]; parentId: string | null; ownerVendor: string | null },
): Promise<DatasetView> {
  const ordered = canonicalOrder(input.members);
  const id = newId('dst');
  const digest = datasetDigest(ordered);
  // The event commits to the exact membership: the digest covers the content, this covers the ids.
  const assetIdsDigest = createHash('sha256')
    .update(ordered.map((m) => m.assetId).join('\n'))
    .digest('hex');
  const draft = { id, name: input.name, digest, assetCount: ordered.length, parentId: input.parentId, ownerVendor: input.ownerVendor };
  const event = ctx.record({ action: 'dataset.created', subjectId: id, content: { ...draft, assetIdsDigest } });
  const [row] = await ctx.tx
    .insert(datasets)
    .values({ ...draft, ...entryColumns(event) })
    .returning();
  // As arrays: a dataset of 100,000 assets is three parameters, not 400,000.
  await ctx.tx.execute(
    sql`insert into dataset_assets (dataset_id, position, asset_id, sha256)
        select ${id}, p - 1, a, h
        from unnest(${sql.param(ordered.map((m) => m.assetId))}::text[], ${sql.param(ordered.map((m) => m.sha256))}::text[]) with ordinality as t(a, h, p)`,
  );
  return datasetView(row!);
}

/** Whose a new dataset is: a vendor freezes for itself; legal and admin for the studio, or for the vendor they name. */
export function datasetOwner(principal: Principal, asked: string | undefined): string | null {
  if (principal.role !== 'vendor') return asked ?? null;
  if (asked !== undefined && asked !== principal.vendor) throw problems.forbidden(`a token for vendor "${principal.vendor}" cannot freeze a dataset for "${asked}"`);
  return principal.vendor!;
}

export async function createDataset(ledger: Ledger, principal: Principal, input: { name: string; assetIds: string[]; vendor?: string }): Promise<DatasetView> {
  const ownerVendor = datasetOwner(principal, input.vendor);
  const members = await resolveMembers(ledger.db, input.assetIds);
  return ledger.change(principal, (ctx) => insertDataset(ctx, { name: input.name, members, parentId: null, ownerVendor }));
}

/**
 * A dataset belongs to whoever froze it: a vendor (or the vendor legal froze it for) or the studio.
 * A vendor sees only its vendor's; legal and admin see all. Member ids and hashes say what the studio
 * licensed, so a studio dataset is not shown to vendors.
 */
export function canSeeDataset(principal: Principal, d: { ownerVendor: string | null }): boolean {
  return principal.role !== 'vendor' || (d.ownerVendor !== null && d.ownerVendor === principal.vendor);
}

export async function getDataset(q: Queryable, id: string, principal: Principal): Promise<DatasetRow> {
  const [row] = await q.select().from(datasets).where(eq(datasets.id, id));
  // Another's dataset answers exactly as an unknown id: its existence is not disclosed.
  if (!row || !canSeeDataset(principal, row)) throw problems.notFound(`no dataset ${id}`);
  return row;
}

export async function datasetMembers(q: Queryable, id: string): Promise<(Member & { position: number })[]> {
  return q
    .select({ position: datasetAssets.position, assetId: datasetAssets.assetId, sha256: datasetAssets.sha256 })
    .from(datasetAssets)
    .where(eq(datasetAssets.datasetId, id))
    .orderBy(asc(datasetAssets.position));
}

export async function listDatasets(q: Queryable, principal: Principal, f: { cursor?: string; limit: number }) {
  const where: SQL[] = [];
  if (principal.role === 'vendor') where.push(eq(datasets.ownerVendor, principal.vendor!));
  if (f.cursor) where.push(lt(datasets.auditIndex, Number(f.cursor)));
  const rows = await q
    .select()
    .from(datasets)
    .where(and(...where))
    .orderBy(desc(datasets.auditIndex))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  return { items: page.map(datasetView), nextCursor: rows.length > f.limit ? String(page[page.length - 1]!.auditIndex) : null };
}

/**
 * The proof for an asset's content: the digest commits to the members' sha256, so the answer is for those
 * bytes. `memberAssetId` names the member they are listed as (the asset itself, or the same bytes registered
 * under another production); otherwise the bracketing neighbours prove the bytes absent.
 */
export async function membershipProof(q: Queryable, dataset: DatasetRow, assetId: string) {
  const [asset] = await q.select({ sha256: assets.sha256 }).from(assets).where(eq(assets.id, assetId));
  if (!asset) throw problems.notFound(`no asset ${assetId}`);
  const members = await datasetMembers(q, dataset.id);
  const found = locateContent(members, asset.sha256, assetId);
  const answer = { datasetId: dataset.id, digest: dataset.digest, assetId, sha256: asset.sha256 };
  if ('member' in found) {
    const [proof] = membershipProofs(members, [found.member]);
    return { ...answer, included: true, memberAssetId: members[found.member]!.assetId, proof: proof!, absence: null };
  }
  return { ...answer, included: false, memberAssetId: null, proof: null, absence: membershipProofs(members, found.neighbours) };
}
