import { bigint, index, jsonb, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { bytea } from '../db/columns.ts';

/**
 * One row per log entry. `leaf` is the exact byte string hashed into the tree (RFC 8785 JSON of the
 * event), kept so that anyone can recompute the leaf hash without trusting our serialiser.
 * The other columns are an index over the same facts for queries.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    index: bigint('idx', { mode: 'number' }).primaryKey(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull(),
    actorSub: text('actor_sub').notNull(),
    actorRole: text('actor_role').notNull(),
    action: text('action').notNull(),
    subjectId: text('subject_id').notNull(),
    content: jsonb('content').notNull(),
    leaf: bytea('leaf').notNull(),
  },
  (t) => [index('audit_events_subject_idx').on(t.subjectId)],
);

/**
 * Hashes of perfect subtrees: node (level, index) covers leaves [index*2^level, (index+1)*2^level).
 * Level 0 holds the leaf hashes. Only complete subtrees are stored, so a row never changes once written,
 * and any proof or root needs O(log n) of them.
 */
export const auditNodes = pgTable(
  'audit_nodes',
  {
    level: smallint('level').notNull(),
    index: bigint('idx', { mode: 'number' }).notNull(),
    hash: bytea('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.level, t.index] })],
);
