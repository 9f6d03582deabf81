import { and, desc, eq, inArray, isNull, lt, or, type SQL } from 'drizzle-orm';
import { assets } from '../assets/tables.ts';
import { recordedAs } from '../audit/event.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { Principal } from '../auth/tokens.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import type { Queryable } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { type FieldError, Problem, problems } from '../http/problem.ts';
import { outputs } from '../outputs/tables.ts';
import { type EventType, roleRefusals, type SubscriptionFilter } from './events.ts';
import { callbackRefusal } from './origins.ts';
import { notificationDeliveries, notificationOutbox, notificationSubscriptions } from './tables.ts';

type SubscriptionRow = typeof notificationSubscriptions.$inferSelect;

export type SubscriptionInput = { url: string; events: EventType[]; daysBefore?: number[] | undefined; filter?: SubscriptionFilter | undefined };

export function subscriptionView(s: SubscriptionRow) {
  return {
    id: s.id,
    url: s.url,
    events: s.events,
    daysBefore: s.daysBefore,
    filter: s.filter,
    owner: { sub: s.ownerSub, role: s.ownerRole },
    status: s.deletedAt ? ('deleted' as const) : ('active' as const),
    createdAt: s.createdAt.toISOString(),
    auditIndex: s.auditIndex,
    deletedAt: s.deletedAt?.toISOString() ?? null,
    deletedBy: s.deletedBy,
    deletedAuditIndex: s.deletedAuditIndex,
  };
}

/** Ids the filter names that this ledger does not hold: a filter on them would match nothing, ever. */
async function unknownFilterIds(q: Queryable, f: SubscriptionFilter): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const check = async (field: keyof SubscriptionFilter, ids: string[] | undefined, found: (ids: string[]) => Promise<{ id: string }[]>) => {
    if (!ids?.length) return;
    const have = new Set((await found(ids)).map((r) => r.id));
    for (const id of ids) if (!have.has(id)) errors.push({ field: `filter.${field}`, message: `no ${field.replace(/Ids$/, '')} ${id}` });
  };
  await check('assetIds', f.assetIds, (ids) => q.select({ id: assets.id }).from(assets).where(inArray(assets.id, ids)));
  await check('checkpointIds', f.checkpointIds, (ids) => q.select({ id: checkpoints.id }).from(checkpoints).where(inArray(checkpoints.id, ids)));
  await check('outputIds', f.outputIds, (ids) => q.select({ id: outputs.id }).from(outputs).where(inArray(outputs.id, ids)));
  return errors;
}

export async function createSubscription(ledger: Ledger, principal: Principal, input: SubscriptionInput, allowedOrigins: readonly string[]) {
  const refusal = callbackRefusal(input.url, allowedOrigins);
  if (refusal) throw problems.validation(`the callback URL may not be used: ${refusal}`, [{ field: 'url', message: refusal }]);
  const events = [...new Set(input.events)];
  const filter: SubscriptionFilter = Object.fromEntries(Object.entries(input.filter ?? {}).filter(([, v]) => v !== undefined && v.length > 0));
  const refused = roleRefusals(principal.role, events, filter);
  if (refused.length > 0) throw new Problem(403, 'forbidden', refused.join('; '));
  const wantsEnding = events.includes('license.ending');
  const daysBefore = [...new Set(input.daysBefore ?? [])].sort((a, b) => b - a);
  if (wantsEnding && daysBefore.length === 0)
    throw problems.validation('license.ending needs daysBefore: how many days before a term ends to tell', [{ field: 'daysBefore', message: 'required with license.ending' }]);
  if (!wantsEnding && daysBefore.length > 0)
    throw problems.validation('daysBefore is only used with license.ending', [{ field: 'daysBefore', message: 'only with license.ending' }]);
  const unknown = await unknownFilterIds(ledger.db, filter);
  if (unknown.length > 0) throw problems.validation('the filter names ids this ledger does not hold', unknown);
  const row = await ledger.change(principal, async ({ tx, record }) => {
    const id = newId('sub');
    const draft = { id, url: input.url, events, daysBefore, filter, ownerSub: principal.sub, ownerRole: principal.role };
    const event = record({ action: 'subscription.created', subjectId: id, content: draft });
    const [r] = await tx
      .insert(notificationSubscriptions)
      .values({ ...draft, ...recordedAs(event, 'createdAt') })
      .returning();
    return r!;
  });
  return subscriptionView(row);
}

/** Legal and admin see every subscription; a distributor its own, and another's is the 404 of an unknown id. */
function visibleTo(principal: Principal): SQL | undefined {
  return principal.role === 'legal' || principal.role === 'admin' ? undefined : eq(notificationSubscriptions.ownerSub, principal.sub);
}

export async function getSubscriptionRow(q: Queryable, principal: Principal, id: string): Promise<SubscriptionRow> {
  const [row] = await q
    .select()
    .from(notificationSubscriptions)
    .where(and(eq(notificationSubscriptions.id, id), visibleTo(principal)));
  if (!row) throw problems.notFound(`no subscription ${id}`);
  return row;
}

/** Active subscriptions, newest first (cursor: the last one's audit index). */
export async function listSubscriptions(q: Queryable, principal: Principal, f: { cursor?: string | undefined; limit: number }) {
  const rows = await q
    .select()
    .from(notificationSubscriptions)
    .where(and(isNull(notificationSubscriptions.deletedAt), visibleTo(principal), f.cursor === undefined ? undefined : lt(notificationSubscriptions.auditIndex, Number(f.cursor))))
    .orderBy(desc(notificationSubscriptions.auditIndex))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  return { items: page.map(subscriptionView), nextCursor: rows.length > f.limit ? String(page[page.length - 1]!.auditIndex) : null };
}

/** Deleted through the log; what it still had to deliver is cancelled in the same transaction. */
export async function deleteSubscription(ledger: Ledger, principal: Principal, id: string) {
  const row = await ledger.change(principal, async ({ tx, record }) => {
    const current = await getSubscriptionRow(tx, principal, id);
    if (current.deletedAt) throw problems.conflict(`subscription ${id} was already deleted at ${current.deletedAt.toISOString()}`);
    const event = record({ action: 'subscription.deleted', subjectId: id, content: { id } });
    const [r] = await tx
      .update(notificationSubscriptions)
      .set({ deletedAt: new Date(event.time), deletedBy: event.actor.sub, deletedAuditIndex: event.index })
      .where(and(eq(notificationSubscriptions.id, id), isNull(notificationSubscriptions.deletedAt)))
      .returning();
    if (!r) throw problems.conflict(`subscription ${id} was deleted at the same moment`);
    await tx
      .update(notificationOutbox)
      .set({ state: 'cancelled', lastError: 'the subscription was deleted' })
      .where(and(eq(notificationOutbox.subscriptionId, id), eq(notificationOutbox.state, 'pending')));
    return r;
  });
  return subscriptionView(row);
}

/**
 * The delivery log: each notification written for the subscription, newest first, with where it stands and
 * every attempt. Cursor: `createdAt|id` of the last one.
 */
export async function listDeliveries(q: Queryable, principal: Principal, id: string, f: { cursor?: string | undefined; limit: number }) {
  const sub = await getSubscriptionRow(q, principal, id);
  let after: SQL | undefined;
  if (f.cursor !== undefined) {
    const [at, lastId] = Buffer.from(f.cursor, 'base64url').toString().split('|');
    const t = new Date(at ?? '');
    if (!lastId || Number.isNaN(t.getTime())) throw problems.validation('not a cursor from this API', [{ field: 'cursor', message: 'not a cursor from this API' }]);
    after = or(lt(notificationOutbox.createdAt, t), and(eq(notificationOutbox.createdAt, t), lt(notificationOutbox.id, lastId)));
  }
  const rows = await q
    .select()
    .from(notificationOutbox)
    .where(and(eq(notificationOutbox.subscriptionId, sub.id), after))
    .orderBy(desc(notificationOutbox.createdAt), desc(notificationOutbox.id))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const attempts = page.length
    ? await q
        .select()
        .from(notificationDeliveries)
        .where(
          inArray(
            notificationDeliveries.outboxId,
            page.map((r) => r.id),
          ),
        )
        .orderBy(notificationDeliveries.attempt)
    : [];
  const attemptsOf = new Map<string, typeof attempts>();
  for (const a of attempts) attemptsOf.set(a.outboxId, [...(attemptsOf.get(a.outboxId) ?? []), a]);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      eventId: r.id,
      type: r.eventType,
      state: r.state,
      auditIndex: r.causeIndex,
      createdAt: r.createdAt.toISOString(),
      deliveredAt: r.deliveredAt?.toISOString() ?? null,
      nextAttemptAt: r.state === 'pending' ? r.nextAttemptAt.toISOString() : null,
      lastError: r.lastError,
      attempts: (attemptsOf.get(r.id) ?? []).map((a) => ({
        attempt: a.attempt,
        attemptedAt: a.attemptedAt.toISOString(),
        outcome: a.outcome,
        statusCode: a.statusCode,
        error: a.error,
        durationMs: a.durationMs,
      })),
      body: JSON.parse(r.body) as Record<string, unknown>,
    })),
    nextCursor: rows.length > f.limit && last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString('base64url') : null,
  };
}
