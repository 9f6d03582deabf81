import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { datasets } from '../datasets/tables.ts';
import type { StoredDecisions } from './decision-record.ts';

/** Each distinct policy set the service has run with; its first load is an audit event. */
export const policySets = pgTable('policy_sets', {
  digest: text('digest').primaryKey(),
  policies: jsonb('policies').notNull(),
  firstLoadedAt: timestamp('first_loaded_at', { withTimezone: true, mode: 'date' }).notNull(),
  auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
});

export type { DecisionGroup, DecisionRecord, StoredDecisions } from './decision-record.ts';

/**
 * A gate decision on a dataset, allow or deny, with the policy set and dataset digest it used.
 * Per-asset decisions are stored grouped by identical outcome (thousands of assets share few outcomes),
 * members named by position in the requested dataset (decision-record.ts); earlier rows list asset ids.
 */
export const clearances = pgTable(
  'clearances',
  {
    id: text('id').primaryKey(),
    datasetId: text('dataset_id')
      .notNull()
      .references(() => datasets.id),
    requestedDatasetId: text('requested_dataset_id').notNull(),
    mode: text('mode').$type<'all' | 'subset'>().notNull(),
    vendor: text('vendor').notNull(),
    purpose: text('purpose').notNull(),
    baseModel: text('base_model').notNull(),
    decision: text('decision').$type<'allow' | 'deny'>().notNull(),
    datasetDigest: text('dataset_digest').notNull(),
    policyDigest: text('policy_digest').notNull(),
    decisionsDigest: text('decisions_digest').notNull(),
    assetDecisions: jsonb('asset_decisions').$type<StoredDecisions>().notNull(),
    allowedCount: integer('allowed_count').notNull(),
    deniedCount: integer('denied_count').notNull(),
    issuedAt: timestamp('issued_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    tokenKid: text('token_kid'),
    createdBy: text('created_by').notNull(),
    auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
  },
  (t) => [index('clearances_vendor_idx').on(t.vendor), index('clearances_dataset_idx').on(t.datasetId)],
);

/**
 * The license versions an allowed clearance rests on, as recorded for clearances made before resting
 * licenses were derived (resting.ts): its standing is theirs. No longer written.
 */
export const clearanceLicenses = pgTable(
  'clearance_licenses',
  {
    // No foreign key: rows are written only with their clearance, in its transaction, and a clearance over
    // 100,000 assets would pay a key check per row (about a second).
    clearanceId: text('clearance_id').notNull(),
    licenseId: text('license_id').notNull(),
    assetCount: integer('asset_count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.clearanceId, t.licenseId] }), index('clearance_licenses_license_idx').on(t.licenseId)],
);
