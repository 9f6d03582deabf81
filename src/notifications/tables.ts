import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { EventType, SubscriptionFilter } from './events.ts';

/**
 * A callback URL and the events it wants. Made and deleted through the audit log (`subscription.created`,
 * `subscription.deleted`); a deleted one stays, marked, so its delivery log stays readable.
 */
export const notificationSubscriptions = pgTable('notification_subscriptions', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  events: jsonb('events').$type<EventType[]>().notNull(),
  /** For `license.ending`: how many days before a term ends to tell (empty without that event). */
  daysBefore: jsonb('days_before').$type<number[]>().notNull(),
  filter: jsonb('filter').$type<SubscriptionFilter>().notNull(),
  /** Who made it: a distributor sees and deletes only its own. */
  ownerSub: text('owner_sub').notNull(),
  ownerRole: text('owner_role').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
  deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date' }),
  deletedBy: text('deleted_by'),
  deletedAuditIndex: bigint('deleted_audit_index', { mode: 'number' }),
});

export type OutboxState = 'pending' | 'delivered' | 'failed' | 'cancelled';

/**
 * One notification for one subscription: written in the transaction of the change that causes it, then
 * delivered by the worker. `body` is the exact bytes sent on every attempt (its id is the event id a
 * receiver drops duplicates by); `dedupe_key` makes the same notification impossible to write twice.
 */
export const notificationOutbox = pgTable(
  'notification_outbox',
  {
    id: text('id').primaryKey(),
    subscriptionId: text('subscription_id')
      .notNull()
      .references(() => notificationSubscriptions.id),
    eventType: text('event_type').$type<EventType>().notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    body: text('body').notNull(),
    /** The audit entry of the change that caused it (null for `license.ending`, which time causes). */
    causeIndex: bigint('cause_index', { mode: 'number' }),
    state: text('state').$type<OutboxState>().notNull(),
    attempts: integer('attempts').notNull(),
    /** When it is due; while an attempt runs, the end of that attempt's lease. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('notification_outbox_dedupe_key').on(t.dedupeKey),
    index('notification_outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'pending'`),
    index('notification_outbox_subscription_idx').on(t.subscriptionId),
  ],
);

export type DeliveryOutcome = 'delivered' | 'retry' | 'failed';

/** Every delivery attempt, as it went (append-only): the delivery log of a subscription. */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    outboxId: text('outbox_id')
      .notNull()
      .references(() => notificationOutbox.id),
    attempt: integer('attempt').notNull(),
    subscriptionId: text('subscription_id').notNull(),
    attemptedAt: timestamp('attempted_at', { withTimezone: true, mode: 'date' }).notNull(),
    outcome: text('outcome').$type<DeliveryOutcome>().notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.outboxId, t.attempt] }), index('notification_deliveries_subscription_idx').on(t.subscriptionId, t.attemptedAt)],
);
