import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { assets } from '../assets/tables.ts';
import type { Grant } from '../vocabulary/rights.ts';

/**
 * One version of an asset's licensing terms. An asset may carry several licenses, each its own chain of
 * versions named by `licenseId` (the id of the chain's first version, so a license keeps its name across
 * amendments). A new version supersedes the previous one of its license by pointing at it; nothing here is
 * ever updated, so every version stays readable as it was signed.
 */
export const licenseVersions = pgTable(
  'license_versions',
  {
    id: text('id').primaryKey(),
    assetId: text('asset_id')
      .notNull()
      .references(() => assets.id),
    /** The license this version belongs to: its first version's id (migrations/0020). */
    licenseId: text('license_id').notNull(),
    /** Numbered within its license, from 1. */
    version: integer('version').notNull(),
    supersedesId: text('supersedes_id'),
    licensor: text('licensor').notNull(),
    licensee: text('licensee').notNull(),
    vendors: jsonb('vendors').$type<string[]>().notNull(),
    grantTraining: text('grant_training').$type<Grant>().notNull(),
    grantDerivatives: text('grant_derivatives').$type<Grant>().notNull(),
    grantCommercial: text('grant_commercial').$type<Grant>().notNull(),
    territories: jsonb('territories').$type<string[]>().notNull(),
    media: jsonb('media').$type<string[]>().notNull(),
    baseModelFamilies: jsonb('base_model_families').$type<string[] | null>(),
    termStart: timestamp('term_start', { withTimezone: true, mode: 'date' }).notNull(),
    termEnd: timestamp('term_end', { withTimezone: true, mode: 'date' }).notNull(),
    exclusivity: boolean('exclusivity').notNull(),
    attribution: text('attribution'),
    contractRefId: text('contract_ref_id'),
    contractRefSha256: text('contract_ref_sha256'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdBy: text('created_by').notNull(),
    auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
  },
  (t) => [
    uniqueIndex('license_versions_license_version_key').on(t.licenseId, t.version),
    index('license_versions_asset_idx').on(t.assetId),
    // A version can be superseded once: two concurrent amendments of the same version cannot both land.
    uniqueIndex('license_versions_supersedes_key').on(t.supersedesId),
    // GET /v1/licenses pages by audit index (migrations/0018).
    index('license_versions_audit_index_idx').on(t.auditIndex),
  ],
);

/** A revocation is its own record: the license version it ends is left untouched. */
export const licenseRevocations = pgTable('license_revocations', {
  id: text('id').primaryKey(),
  licenseId: text('license_id')
    .notNull()
    .unique()
    .references(() => licenseVersions.id),
  reason: text('reason').notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }).notNull(),
  revokedBy: text('revoked_by').notNull(),
  auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
});

/** Legal's approval for one vendor and purpose, over a period, where a grant says `requiresApproval`. */
export const licenseApprovals = pgTable('license_approvals', {
  id: text('id').primaryKey(),
  licenseId: text('license_id')
    .notNull()
    .references(() => licenseVersions.id),
  grant: text('grant').$type<'training' | 'derivatives' | 'commercial'>().notNull(),
  vendor: text('vendor').notNull(),
  purpose: text('purpose').notNull(),
  validFrom: timestamp('valid_from', { withTimezone: true, mode: 'date' }).notNull(),
  validUntil: timestamp('valid_until', { withTimezone: true, mode: 'date' }).notNull(),
  note: text('note'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  createdBy: text('created_by').notNull(),
  auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
});
