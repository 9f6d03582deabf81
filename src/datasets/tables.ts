import { bigint, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { assets } from '../assets/tables.ts';

/**
 * A frozen selection of assets. Its digest is the RFC 9162 Merkle root over the assets' sha256 values in
 * canonical order (see digest.ts), so membership can be proven against it. Never changed: a new
 * selection is a new dataset (a subset clearance derives one and points at its parent).
 */
export const datasets = pgTable('datasets', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  digest: text('digest').notNull(),
  assetCount: integer('asset_count').notNull(),
  parentId: text('parent_id'),
  ownerVendor: text('owner_vendor'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  createdBy: text('created_by').notNull(),
  auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
});

/** Members in canonical order: `position` is the leaf index under the dataset digest. */
export const datasetAssets = pgTable(
  'dataset_assets',
  {
    datasetId: text('dataset_id')
      .notNull()
      .references(() => datasets.id),
    position: integer('position').notNull(),
    assetId: text('asset_id')
      .notNull()
      .references(() => assets.id),
    sha256: text('sha256').notNull(),
  },
  (t) => [primaryKey({ columns: [t.datasetId, t.position] }), index('dataset_assets_asset_idx').on(t.assetId)],
);
