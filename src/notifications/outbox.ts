import { and, eq, gt, inArray, isNull, lte, notExists, notInArray, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { RecordedEventHook } from '../audit/ledger.ts';
import type { StoredEvent } from '../audit/log-store.ts';
import { checkpointStatuses, deriveStatus } from '../checkpoints/service.ts';
import { checkpoints, type StatusCause } from '../checkpoints/tables.ts';
import { type Queryable, queryRows, queryTextPrepared, type Tx } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { groupRestingLicenses, RESTING_LICENSES_ORDER, type RestingLicenseRow, restingLicenseRows, restingLicensesText } from '../gate/resting.ts';
import { clearanceStanding } from '../gate/standing.ts';
import { licenseRevocations, licenseVersions } from '../licenses/tables.ts';
import { type OutputStandingCause, type OutputStandingStatus, outputStandingOf } from '../outputs/output-standing.ts';
import { outputs, outputWithdrawals } from '../outputs/tables.ts';
import { dedupeKey, type EventSubjects, type EventType, eventBody, filterMatches } from './events.ts';
import { notificationOutbox, notificationSubscriptions } from './tables.ts';

type Subscription = typeof notificationSubscriptions.$inferSelect;

/** The audit actions whose changes cause notifications: the composition root has the ledger watch them. */
export const WATCHED_ACTIONS = ['license.revoked', 'checkpoint.tainted'] as const;

type Notification = { type: EventType; cause: string; occurredAt: string; auditIndex: number | null; subjects: EventSubjects; data: Record<string, unknown> };

type TaintContent = { checkpointId: string; status: string; cause: StatusCause; effectiveAt: string };

/**
 * The ledger's hook (audit/ledger.ts RecordedEventHook): in the transaction of a revocation or a taint, one
 * outbox row per subscription the event reaches. A revocation's notification names every checkpoint it
 * tainted (the `checkpoint.tainted` entries of the same change) and every output signed with them; each of
 * those outputs gets its own `output.standingChanged`. So does each output whose standing the revocation
 * changed through its clearance instead (a retired checkpoint's: retired, it is not tainted).
 */
export function outboxHook(): RecordedEventHook {
  return async (tx, events) => {
    const subs = await tx.select().from(notificationSubscriptions).where(isNull(notificationSubscriptions.deletedAt));
    if (subs.length === 0) return;
    await writeOutbox(tx, subs, await notificationsOf(tx, events));
  };
}

async function notificationsOf(tx: Tx, events: readonly StoredEvent[]): Promise<Notification[]> {
  const taints = events.filter((e) => e.action === 'checkpoint.tainted');
  const taintedIds = [...new Set(taints.map((e) => (e.content as TaintContent).checkpointId))];
  const [ckps, outs] = taintedIds.length
    ? await Promise.all([
        tx
          .select({ id: checkpoints.id, clearanceId: checkpoints.clearanceId, vendor: checkpoints.vendor, baseModel: checkpoints.baseModel })
          .from(checkpoints)
          .where(inArray(checkpoints.id, taintedIds)),
        // An output the ledger withdrew never left: nobody holds it.
        tx
          .select({ id: outputs.id, checkpointId: outputs.checkpointId, clearanceId: outputs.clearanceId, sourceAssetIds: outputs.sourceAssetIds })
          .from(outputs)
          .where(
            and(inArray(outputs.checkpointId, taintedIds), notExists(tx.select({ one: sql`1` }).from(outputWithdrawals).where(sql`${outputWithdrawals.outputId} = ${outputs.id}`))),
          )
          .orderBy(outputs.auditIndex),
      ])
    : [[], []];
  const checkpointOf = new Map(ckps.map((c) => [c.id, c]));
  const outputsOf = new Map<string, typeof outs>();
  for (const o of outs) outputsOf.set(o.checkpointId, [...(outputsOf.get(o.checkpointId) ?? []), o]);

  const fallen = await fallenThroughClearance(tx, events, taintedIds);

  const out: Notification[] = [];
  for (const e of events) {
    if (e.action === 'license.revoked') {
      const c = e.content as RevocationContent;
      const hit = taints.filter((t) => {
        const cause = (t.content as TaintContent).cause;
        return cause.kind === 'license-revoked' && cause.licenseId === c.licenseId;
      });
      const ckpIds = [...new Set(hit.map((t) => (t.content as TaintContent).checkpointId))];
      const shifted = fallen.get(e.index) ?? [];
      // A holder reads taintedOutputs as "what this revocation made tainted": an output of a retired checkpoint
      // turns tainted through its clearance just as surely, so it is named. Its checkpoint is not tainted, so not
      // in taintedCheckpoints, but a filter on it lets the revocation through: the event names its output.
      const tainted = [...ckpIds.flatMap((id) => outputsOf.get(id) ?? []), ...shifted.filter((f) => f.newlyTainted).map((f) => f.output)];
      out.push({
        type: 'license.revoked',
        cause: String(e.index),
        occurredAt: e.time,
        auditIndex: e.index,
        subjects: { assetIds: [c.assetId], checkpointIds: [...new Set([...ckpIds, ...tainted.map((o) => o.checkpointId)])], outputIds: tainted.map((o) => o.id) },
        data: {
          licenseId: c.licenseId,
          assetId: c.assetId,
          revocationId: c.revocationId,
          reason: c.reason,
          revokedAt: e.time,
          revokedBy: e.actor.sub,
          taintedCheckpoints: ckpIds.map((id) => ({ id, clearanceId: checkpointOf.get(id)?.clearanceId ?? null, vendor: checkpointOf.get(id)?.vendor ?? null })),
          taintedOutputs: tainted.map((o) => ({ id: o.id, checkpointId: o.checkpointId })),
        },
      });
      for (const { output: o, standing } of shifted) {
        out.push({
          type: 'output.standingChanged',
          cause: `${e.index}:${o.id}`,
          occurredAt: e.time,
          auditIndex: e.index,
          subjects: { assetIds: [...new Set([c.assetId, ...o.sourceAssetIds])], checkpointIds: [o.checkpointId], outputIds: [o.id] },
          data: { outputId: o.id, checkpointId: o.checkpointId, clearanceId: o.clearanceId, standing: standing.status, cause: standing.cause, licenseId: c.licenseId },
        });
      }
    } else if (e.action === 'checkpoint.tainted') {
      const c = e.content as TaintContent;
      const assetIds = c.cause.kind === 'retired' ? [] : c.cause.assetIds;
      const held = outputsOf.get(c.checkpointId) ?? [];
      const k = checkpointOf.get(c.checkpointId);
      out.push({
        type: 'checkpoint.tainted',
        cause: String(e.index),
        occurredAt: e.time,
        auditIndex: e.index,
        subjects: { assetIds, checkpointIds: [c.checkpointId], outputIds: held.map((o) => o.id) },
        data: {
          checkpointId: c.checkpointId,
          clearanceId: k?.clearanceId ?? null,
          vendor: k?.vendor ?? null,
          baseModel: k?.baseModel ?? null,
          cause: c.cause,
          effectiveAt: c.effectiveAt,
          outputs: held.map((o) => o.id),
        },
      });
      const standing = outputStandingOf({ withdrawal: null, checkpoint: { status: 'tainted', causes: [c.cause] }, clearance: { status: 'standing', causes: [] } });
      for (const o of held) {
        out.push({
          type: 'output.standingChanged',
          cause: `${e.index}:${o.id}`,
          occurredAt: e.time,
          auditIndex: e.index,
          subjects: { assetIds: [...new Set([...assetIds, ...o.sourceAssetIds])], checkpointIds: [c.checkpointId], outputIds: [o.id] },
          data: {
            outputId: o.id,
            checkpointId: c.checkpointId,
            clearanceId: o.clearanceId,
            standing: standing.status,
            cause: standing.cause,
            licenseId: 'licenseId' in c.cause ? c.cause.licenseId : null,
          },
        });
      }
    }
  }
  return out;
}

type RevocationContent = { revocationId: string; licenseId: string; chainId: string; assetId: string; reason: string };

type HeldOutput = { id: string; checkpointId: string; clearanceId: string; sourceAssetIds: string[] };

type Shift = { output: HeldOutput; standing: { status: OutputStandingStatus; cause: OutputStandingCause | null }; newlyTainted: boolean };

/**
 * Per `license.revoked` entry (its index), the outputs whose standing it changed through their clearance: those
 * of checkpoints the change did not taint (a retired checkpoint, which taint skips) whose clearance rests on the
 * revoked version or an earlier one of its license. Changed means the status or the cause's code reads
 * otherwise (the code is what a holder branches on; the message is prose). `standing` is what the output list
 * and /v1/verify read right after (checkpointStatuses, outputStandingOf); before is the same reading with the
 * change's revocations left out, each the latest of its license, so no earlier one hides behind it.
 */
async function fallenThroughClearance(tx: Tx, events: readonly StoredEvent[], taintedIds: readonly string[]): Promise<Map<number, Shift[]>> {
  const found = new Map<number, Shift[]>();
  const revocations = events.filter((e) => e.action === 'license.revoked');
  if (revocations.length === 0) return found;
  const revokedNow = new Set(revocations.map((e) => (e.content as RevocationContent).licenseId));
  const now = new Date();
  const seen = new Set<string>(taintedIds);
  for (const e of revocations) {
    const c = e.content as RevocationContent;
    const [v] = await tx.select({ version: licenseVersions.version }).from(licenseVersions).where(eq(licenseVersions.id, c.licenseId));
    if (!v) continue;
    const reached = await queryRows<{ id: string }>(
      tx,
      sql`select distinct rl.clearance_id as id from (${restingLicenseRows}) rl
          where rl.asset_id = ${c.assetId} and rl.chain_id = ${c.chainId} and rl.version <= ${v.version}`,
    );
    if (reached.length === 0) continue;
    const clearanceIds = reached.map((r) => r.id);
    const ckps = await tx
      .select()
      .from(checkpoints)
      .where(and(inArray(checkpoints.clearanceId, clearanceIds), seen.size ? notInArray(checkpoints.id, [...seen]) : undefined));
    if (ckps.length === 0) continue;
    for (const k of ckps) seen.add(k.id);
    const [after, failing] = await Promise.all([
      checkpointStatuses(tx, ckps, now),
      queryTextPrepared<RestingLicenseRow>(
        tx,
        `${restingLicensesText('$1', '$2::timestamptz')} order by ${RESTING_LICENSES_ORDER}`,
        [clearanceIds, now.toISOString()],
        'outbox_failing_licenses',
      ),
    ]);
    const before = groupRestingLicenses(
      failing.map((r) => (r.revoked_license_id && revokedNow.has(r.revoked_license_id) ? { ...r, revoked_license_id: null, revoked_at: null, reason: null } : r)),
    );
    const changed = new Map<string, { standing: Shift['standing']; newlyTainted: boolean }>();
    for (const k of ckps) {
      const s = after.get(k.id)!;
      const standing = outputStandingOf({ withdrawal: null, checkpoint: s, clearance: s.standing });
      const clearanceBefore = clearanceStanding(s.clearance, before.get(k.clearanceId) ?? [], now);
      const was = outputStandingOf({ withdrawal: null, checkpoint: deriveStatus(s.recorded, clearanceBefore), clearance: clearanceBefore });
      if (was.status !== standing.status || was.cause?.code !== standing.cause?.code) changed.set(k.id, { standing, newlyTainted: was.status !== 'tainted' });
    }
    if (changed.size === 0) continue;
    // An output the ledger withdrew never left: nobody holds it, and its standing reads withdrawn whatever falls.
    const held = await tx
      .select({ id: outputs.id, checkpointId: outputs.checkpointId, clearanceId: outputs.clearanceId, sourceAssetIds: outputs.sourceAssetIds })
      .from(outputs)
      .where(
        and(
          inArray(outputs.checkpointId, [...changed.keys()]),
          notExists(tx.select({ one: sql`1` }).from(outputWithdrawals).where(sql`${outputWithdrawals.outputId} = ${outputs.id}`)),
        ),
      )
      .orderBy(outputs.auditIndex);
    found.set(
      e.index,
      held.map((o) => ({ output: o, ...changed.get(o.checkpointId)! })),
    );
  }
  return found;
}

/** One row per (subscription, notification) the subscription wants; a row already written is left as it is. */
async function writeOutbox(q: Queryable, subs: readonly Subscription[], notes: readonly Notification[]): Promise<number> {
  // Due now, on the clock: whatever instant a check was asked about.
  const now = new Date();
  const rows: (typeof notificationOutbox.$inferInsert)[] = [];
  for (const n of notes) {
    for (const s of subs) {
      if (!s.events.includes(n.type) || !filterMatches(s.filter, n.subjects)) continue;
      const id = newId('evt');
      rows.push({
        id,
        subscriptionId: s.id,
        eventType: n.type,
        dedupeKey: dedupeKey(s.id, n.type, n.cause),
        body: eventBody({ id, type: n.type, occurredAt: n.occurredAt, subscriptionId: s.id, auditIndex: n.auditIndex, data: n.data }),
        causeIndex: n.auditIndex,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
      });
    }
  }
  let written = 0;
  // Bounded statements: a revocation reaching many outputs makes many rows.
  for (let i = 0; i < rows.length; i += 500) {
    const r = await q
      .insert(notificationOutbox)
      .values(rows.slice(i, i + 500))
      .onConflictDoNothing({ target: notificationOutbox.dedupeKey })
      .returning({ id: notificationOutbox.id });
    written += r.length;
  }
  return written;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * `license.ending`: for each subscription to it and each of its `daysBefore`, every current license version
 * (nothing supersedes it, not revoked) whose term ends within that many days from `now` and has not ended.
 * One row per (subscription, license version, days): the unique key makes a second check, or a check run by
 * several instances at once, write nothing more. Time causes it, not a change: no audit entry.
 */
export async function checkLicenseEnding(q: Queryable, now = new Date()): Promise<number> {
  const subs = (await q.select().from(notificationSubscriptions).where(isNull(notificationSubscriptions.deletedAt))).filter(
    (s) => s.events.includes('license.ending') && s.daysBefore.length > 0,
  );
  if (subs.length === 0) return 0;
  const horizon = new Date(now.getTime() + Math.max(...subs.flatMap((s) => s.daysBefore)) * DAY_MS);
  const successor = alias(licenseVersions, 'successor');
  const ending = await q
    .select({ id: licenseVersions.id, assetId: licenseVersions.assetId, version: licenseVersions.version, licensee: licenseVersions.licensee, termEnd: licenseVersions.termEnd })
    .from(licenseVersions)
    .where(
      and(
        gt(licenseVersions.termEnd, now),
        lte(licenseVersions.termEnd, horizon),
        notExists(q.select({ one: sql`1` }).from(successor).where(sql`${successor.supersedesId} = ${licenseVersions.id}`)),
        notExists(q.select({ one: sql`1` }).from(licenseRevocations).where(sql`${licenseRevocations.licenseId} = ${licenseVersions.id}`)),
      ),
    );
  let written = 0;
  for (const s of subs) {
    const notes: Notification[] = [];
    for (const days of s.daysBefore) {
      for (const l of ending) {
        if (l.termEnd.getTime() - now.getTime() > days * DAY_MS) continue;
        notes.push({
          type: 'license.ending',
          cause: `${l.id}:${days}`,
          occurredAt: now.toISOString(),
          auditIndex: null,
          subjects: { assetIds: [l.assetId], checkpointIds: [], outputIds: [] },
          data: { licenseId: l.id, assetId: l.assetId, version: l.version, licensee: l.licensee, termEnd: l.termEnd.toISOString(), daysBefore: days },
        });
      }
    }
    written += await writeOutbox(q, [s], notes);
  }
  return written;
}
