import { and, gt, inArray, isNull, lte, notExists, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { RecordedEventHook } from '../audit/ledger.ts';
import type { StoredEvent } from '../audit/log-store.ts';
import { checkpoints, type StatusCause } from '../checkpoints/tables.ts';
import type { Queryable, Tx } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { licenseRevocations, licenseVersions } from '../licenses/tables.ts';
import { outputStandingOf } from '../outputs/output-standing.ts';
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
 * those outputs gets its own `output.standingChanged`.
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

  const out: Notification[] = [];
  for (const e of events) {
    if (e.action === 'license.revoked') {
      const c = e.content as { revocationId: string; licenseId: string; assetId: string; reason: string };
      const hit = taints.filter((t) => {
        const cause = (t.content as TaintContent).cause;
        return cause.kind === 'license-revoked' && cause.licenseId === c.licenseId;
      });
      const ckpIds = [...new Set(hit.map((t) => (t.content as TaintContent).checkpointId))];
      const tainted = ckpIds.flatMap((id) => outputsOf.get(id) ?? []);
      out.push({
        type: 'license.revoked',
        cause: String(e.index),
        occurredAt: e.time,
        auditIndex: e.index,
        subjects: { assetIds: [c.assetId], checkpointIds: ckpIds, outputIds: tainted.map((o) => o.id) },
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
