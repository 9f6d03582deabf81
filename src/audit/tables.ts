import { sql } from 'drizzle-orm';
import { bigint, index, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { bytea } from '../db/columns.ts';

/**
 * One row per log entry: its index and `leaf`, the exact byte string hashed into the tree (RFC 8785 JSON
 * of the event: index, time, actor, action, subject, content). Nothing else is stored, so nothing can
 * disagree with what was hashed: the facts are read out of the leaf, and the one query by subject goes
 * through an expression index over the leaf (an index PostgreSQL maintains and can rebuild, not a copy).
 * The view `audit_event_facts` shows the leaf's fields as columns for ad-hoc SQL.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    index: bigint('idx', { mode: 'number' }).primaryKey(),
    leaf: bytea('leaf').notNull(),
  },
  (t) => [index('audit_events_subject_idx').on(sql`clearframe_leaf_subject(${t.leaf})`)],
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

/**
 * Every tree head the service signed, outside the tree's own rows (append-only): what the log has vouched
 * for. A stored tree smaller than the largest head signed, or whose root at that size differs, was rolled
 * back or rewritten; the service then refuses to sign or serve a head, and `audit verify` says so.
 */
export const auditSignedHeads = pgTable(
  'audit_signed_heads',
  {
    origin: text('origin').notNull(),
    keyId: text('key_id').notNull(),
    treeSize: bigint('tree_size', { mode: 'number' }).notNull(),
    rootHash: bytea('root_hash').notNull(),
    signedAt: timestamp('signed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.origin, t.keyId, t.treeSize] }), index('audit_signed_heads_size_idx').on(t.treeSize)],
);
