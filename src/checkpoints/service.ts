import { and, desc, eq, lt, notExists, type SQL, sql } from 'drizzle-orm';
import { type Actor, entryColumns, recordedAs } from '../audit/event.ts';
import type { ChangeContext, Ledger } from '../audit/ledger.ts';
import { LAST_INDEX_SQL, treeSizeFromLastIndex } from '../audit/log-store.ts';
import type { Principal } from '../auth/tokens.ts';
import { type Queryable, queryRows, queryTextPrepared, type Tx } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { groupRestingLicenses, RESTING_LICENSES_ORDER, type RestingLicenseRow, restingLicenseRows, restingLicensesText } from '../gate/resting.ts';
import { clearanceStanding, type RestingLicense, type Standing } from '../gate/standing.ts';
import { clearances } from '../gate/tables.ts';
import { problems } from '../http/problem.ts';
import { checkpointStatusEvents, checkpoints, type StatusCause } from './tables.ts';

type CheckpointRow = typeof checkpoints.$inferSelect;
type StatusRow = typeof checkpointStatusEvents.$inferSelect;
type ClearanceRow = typeof clearances.$inferSelect;

export type CheckpointStatus = 'active' | 'tainted' | 'retired';

/** The standing of a clearance turned into taint causes for the checkpoints built on it. */
export function taintCauses(standing: Standing): StatusCause[] {
  return standing.causes.flatMap((c): StatusCause[] =>
    c.cause === 'license-revoked'
      ? [{ kind: 'license-revoked', licenseId: c.licenseId, assetIds: [c.assetId], at: c.at, reason: c.reason }]
      : c.cause === 'license-expired'
        ? [{ kind: 'license-expired', licenseId: c.licenseId, assetIds: [c.assetId], at: c.at }]
        : [],
  );
}

/**
 * A checkpoint's status now. Recorded events come first (retirement, taint written at revocation or by
 * the sweep); a term that ended since the last sweep taints on read, before any event is written.
 */
export function deriveStatus(recorded: StatusRow[], standing: Standing): { status: CheckpointStatus; causes: StatusCause[]; unrecorded: boolean } {
  const retired = recorded.find((e) => e.status === 'retired');
  if (retired) return { status: 'retired', causes: [retired.cause], unrecorded: false };
  const tainted = recorded.filter((e) => e.status === 'tainted');
  if (tainted.length > 0) return { status: 'tainted', causes: tainted.map((e) => e.cause), unrecorded: false };
  if (standing.status === 'revoked') return { status: 'tainted', causes: taintCauses(standing), unrecorded: true };
  return { status: 'active', causes: [], unrecorded: false };
}

type StatusRowJson = {
  checkpoint_id: string;
  seq: number;
  status: StatusRow['status'];
  cause: StatusCause;
  effective_at: string;
  recorded_at: string;
  audit_index: number | string;
};

let statusFactsText: string | undefined;

/**
 * What the statuses of checkpoints are derived from, in ONE statement (one round trip, one snapshot): their
 * recorded status events, the licenses their clearances rest on that were revoked or had ended by `now`
 * (all that clearanceStanding counts), and the audit log's size in that snapshot. Asked on every
 * generation gate (before every sign, whose remembered log tip the size confirms) and every verify.
 */
async function statusFacts(q: Queryable, checkpointIds: readonly string[], clearanceIds: readonly string[], now: Date) {
  statusFactsText ??= `select (${LAST_INDEX_SQL}) as last_index,
      (select coalesce(json_agg(e order by e.checkpoint_id, e.seq), '[]'::json) from checkpoint_status_events e where e.checkpoint_id = any($1::text[])) as recorded,
      (select coalesce(json_agg(f order by ${RESTING_LICENSES_ORDER}), '[]'::json) from (${restingLicensesText('$2', '$3::timestamptz')}) f) as failing`;
  const [row] = await queryTextPrepared<{ last_index: string | number | null; recorded: StatusRowJson[] | string; failing: RestingLicenseRow[] | string }>(
    q,
    statusFactsText,
    [checkpointIds, clearanceIds, now.toISOString()],
    'checkpoint_status_facts',
  );
  const json = <T>(v: T[] | string): T[] => (typeof v === 'string' ? (JSON.parse(v) as T[]) : v);
  const recorded = new Map<string, StatusRow[]>();
  for (const e of json(row!.recorded)) {
    const list = recorded.get(e.checkpoint_id) ?? [];
    list.push({
      checkpointId: e.checkpoint_id,
      seq: e.seq,
      status: e.status,
      cause: e.cause,
      effectiveAt: new Date(e.effective_at),
      recordedAt: new Date(e.recorded_at),
      auditIndex: Number(e.audit_index),
    });
    recorded.set(e.checkpoint_id, list);
  }
  return { recorded, failing: groupRestingLicenses(json(row!.failing)), logSize: treeSizeFromLastIndex(row!.last_index) };
}

/** The checkpoint's status now. `clearance`: its clearance row when the caller has it (it never changes). */
export async function checkpointStatus(q: Queryable, row: CheckpointRow, now = new Date(), known?: { clearance: ClearanceRow }) {
  return (await checkpointStatuses(q, [row], now, known ? [known.clearance] : [])).get(row.id)!;
}

/**
 * checkpointStatus for many checkpoints at once: three queries however many there are (lists, downstream).
 * `held`: clearance rows the caller already has (they never change); only the others are read.
 */
export async function checkpointStatuses(q: Queryable, rows: readonly CheckpointRow[], now = new Date(), held: readonly ClearanceRow[] = []) {
  const out = new Map<string, CheckpointStatusNow>();
  if (rows.length === 0) return out;
  const clearanceIds = [...new Set(rows.map((r) => r.clearanceId))];
  const clearanceOf = new Map(held.map((c) => [c.id, c]));
  const missing = clearanceIds.filter((id) => !clearanceOf.has(id));
  const [facts, found] = await Promise.all([
    statusFacts(
      q,
      rows.map((r) => r.id),
      clearanceIds,
      now,
    ),
    missing.length > 0
      ? q
          .select()
          .from(clearances)
          .where(sql`${clearances.id} = any(${sql.param(missing)}::text[])`)
          .prepare('checkpoint_status_clearances')
          .execute()
      : [],
  ]);
  for (const c of found) clearanceOf.set(c.id, c);
  for (const row of rows) out.set(row.id, statusFrom(row, facts.recorded.get(row.id) ?? [], clearanceOf.get(row.clearanceId)!, facts.failing, now, facts.logSize));
  return out;
}

type CheckpointStatusNow = ReturnType<typeof statusFrom>;

/** `asOfLogSize`: the audit log's size in the snapshot the status was read from. */
function statusFrom(row: CheckpointRow, recorded: StatusRow[], clearance: ClearanceRow, failing: Map<string, RestingLicense[]>, now: Date, asOfLogSize: number) {
  const standing = clearanceStanding(clearance, failing.get(row.clearanceId) ?? [], now);
  return { ...deriveStatus(recorded, standing), recorded, clearance, standing, asOfLogSize };
}

export async function checkpointView(q: Queryable, row: CheckpointRow, now = new Date()) {
  const s = await checkpointStatus(q, row, now);
  const history = [
    { status: 'active' as CheckpointStatus, at: row.createdAt.toISOString(), cause: null as StatusCause | null, recorded: true, auditIndex: row.auditIndex as number | null },
    ...s.recorded.map((e) => ({
      status: e.status as CheckpointStatus,
      at: e.effectiveAt.toISOString(),
      cause: e.cause,
      recorded: true,
      auditIndex: e.auditIndex as number | null,
    })),
    ...(s.unrecorded
      ? s.causes.map((cause) => ({ status: 'tainted' as CheckpointStatus, at: 'at' in cause ? cause.at : now.toISOString(), cause, recorded: false, auditIndex: null }))
      : []),
  ];
  return {
    id: row.id,
    status: s.status,
    causes: s.causes,
    clearance: {
      id: s.clearance.id,
      standing: s.standing.status,
      purpose: s.clearance.purpose,
      issuedAt: s.clearance.issuedAt.toISOString(),
      policyDigest: s.clearance.policyDigest,
    },
    dataset: { id: row.datasetId, digest: row.datasetDigest },
    baseModel: row.baseModel,
    vendor: row.vendor,
    source: row.source,
    tuningJobId: row.tuningJobId,
    externalRef: row.externalRef,
    artifactDigest: row.artifactDigest,
    vertex: row.vertexModel ? { model: row.vertexModel, endpoint: row.vertexEndpoint } : null,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    auditIndex: row.auditIndex,
    statusHistory: history,
  };
}

export async function getCheckpointRow(q: Queryable, id: string, principal: Principal): Promise<CheckpointRow> {
  const [row] = await q.select().from(checkpoints).where(eq(checkpoints.id, id));
  if (!row || (principal.role === 'vendor' && row.vendor !== principal.vendor)) throw problems.notFound(`no checkpoint ${id}`);
  return row;
}

export async function listCheckpoints(q: Queryable, principal: Principal, f: { clearanceId?: string; cursor?: string; limit: number }) {
  const where: SQL[] = [];
  if (principal.role === 'vendor') where.push(eq(checkpoints.vendor, principal.vendor!));
  if (f.clearanceId) where.push(eq(checkpoints.clearanceId, f.clearanceId));
  if (f.cursor) where.push(lt(checkpoints.auditIndex, Number(f.cursor)));
  const rows = await q
    .select()
    .from(checkpoints)
    .where(and(...where))
    .orderBy(desc(checkpoints.auditIndex))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const statuses = await checkpointStatuses(q, page);
  const items = page.map((r) => ({
    id: r.id,
    clearanceId: r.clearanceId,
    datasetId: r.datasetId,
    baseModel: r.baseModel,
    vendor: r.vendor,
    source: r.source,
    status: statuses.get(r.id)!.status,
    createdAt: r.createdAt.toISOString(),
  }));
  return { items, nextCursor: rows.length > f.limit ? String(page[page.length - 1]!.auditIndex) : null };
}

/** Registers a checkpoint inside a change (from a finished Vertex job, or trained elsewhere). */
export async function insertCheckpoint(
  ctx: Pick<ChangeContext, 'tx' | 'record' | 'actor'>,
  clearance: ClearanceRow,
  input: { source: 'vertex' | 'external'; baseModel: string; tuningJobId?: string; externalRef?: string; artifactDigest?: string; vertexModel?: string; vertexEndpoint?: string },
): Promise<CheckpointRow> {
  const id = newId('ckp');
  const draft = {
    id,
    clearanceId: clearance.id,
    datasetId: clearance.datasetId,
    datasetDigest: clearance.datasetDigest,
    baseModel: input.baseModel,
    vendor: clearance.vendor,
    source: input.source,
    tuningJobId: input.tuningJobId ?? null,
    externalRef: input.externalRef ?? null,
    artifactDigest: input.artifactDigest ?? null,
    vertexModel: input.vertexModel ?? null,
    vertexEndpoint: input.vertexEndpoint ?? null,
  };
  const event = ctx.record({ action: 'checkpoint.registered', subjectId: id, content: draft });
  const [row] = await ctx.tx
    .insert(checkpoints)
    .values({ ...draft, ...entryColumns(event) })
    .returning();
  return row!;
}

async function appendStatus(ctx: Pick<ChangeContext, 'tx' | 'record'>, checkpointId: string, status: 'tainted' | 'retired', cause: StatusCause, effectiveAt: Date) {
  const [last] = await ctx.tx
    .select({ seq: checkpointStatusEvents.seq })
    .from(checkpointStatusEvents)
    .where(eq(checkpointStatusEvents.checkpointId, checkpointId))
    .orderBy(desc(checkpointStatusEvents.seq))
    .limit(1);
  const event = ctx.record({ action: `checkpoint.${status}`, subjectId: checkpointId, content: { checkpointId, status, cause, effectiveAt: effectiveAt.toISOString() } });
  await ctx.tx.insert(checkpointStatusEvents).values({
    checkpointId,
    seq: (last?.seq ?? 0) + 1,
    status,
    cause,
    effectiveAt,
    ...recordedAs(event, 'recordedAt'),
  });
}

/**
 * The checkpoints a revocation of version `version` of license `chainId` (of `assetId`) hits: those whose
 * clearance rests on that version or an earlier one of the same license (not another license of the asset),
 * and that are not already tainted or retired.
 */
export async function checkpointsHitBy(q: Queryable, assetId: string, chainId: string, version: number): Promise<{ id: string; clearanceId: string }[]> {
  return queryRows<{ id: string; clearanceId: string }>(
    q,
    sql`select distinct c.id, c.clearance_id as "clearanceId"
        from checkpoints c
        join (${restingLicenseRows}) rl on rl.clearance_id = c.clearance_id
        where rl.asset_id = ${assetId} and rl.chain_id = ${chainId} and rl.version <= ${version}
          and not exists (select 1 from checkpoint_status_events e where e.checkpoint_id = c.id)
        order by c.id`,
  );
}

/** Called in the revocation's own transaction: the taint and its audit events commit with it. */
export async function taintForRevocation(
  ctx: Pick<ChangeContext, 'tx' | 'record'>,
  revoked: { licenseId: string; chainId: string; assetId: string; version: number; reason: string; at: Date },
): Promise<string[]> {
  const hit = await checkpointsHitBy(ctx.tx, revoked.assetId, revoked.chainId, revoked.version);
  for (const c of hit) {
    await appendStatus(
      ctx,
      c.id,
      'tainted',
      { kind: 'license-revoked', licenseId: revoked.licenseId, assetIds: [revoked.assetId], at: revoked.at.toISOString(), reason: revoked.reason },
      revoked.at,
    );
  }
  return hit.map((c) => c.id);
}

/**
 * Writes the taint events that time alone caused (a license term ended): reads already see the taint,
 * this puts it in the log. Safe to run from several processes: each checkpoint is re-checked in the change.
 */
export async function sweepTaints(ledger: Ledger, now = new Date()): Promise<string[]> {
  const candidates = await ledger.db
    .select()
    .from(checkpoints)
    .where(notExists(ledger.db.select({ one: sql`1` }).from(checkpointStatusEvents).where(eq(checkpointStatusEvents.checkpointId, checkpoints.id))));
  const tainted: string[] = [];
  const statuses = await checkpointStatuses(ledger.db, candidates, now);
  for (const c of candidates) {
    const s = statuses.get(c.id)!;
    if (s.status !== 'tainted' || !s.unrecorded) continue;
    const recorded = await ledger.change({ sub: 'clearframe-sweep', role: 'system' }, async (ctx) => {
      const again = await checkpointStatus(ctx.tx, c, now);
      if (again.status !== 'tainted' || !again.unrecorded) return false;
      for (const cause of again.causes) await appendStatus(ctx, c.id, 'tainted', cause, 'at' in cause ? new Date(cause.at) : now);
      return true;
    });
    if (recorded) tainted.push(c.id);
  }
  return tainted;
}

export async function retireCheckpoint(ledger: Ledger, actor: Actor, principal: Principal, id: string, reason: string) {
  return ledger.change(actor, async (ctx) => {
    const row = await getCheckpointRow(ctx.tx, id, principal);
    const s = await checkpointStatus(ctx.tx, row);
    if (s.status === 'retired') throw problems.conflict(`checkpoint ${id} is already retired`);
    await appendStatus(ctx, id, 'retired', { kind: 'retired', reason }, new Date());
    return checkpointView(ctx.tx as Tx, row);
  });
}
