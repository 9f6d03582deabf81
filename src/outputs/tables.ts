import { bigint, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { checkpoints } from '../checkpoints/tables.ts';
import { bytea } from '../db/columns.ts';

/** A generated image or video that left Clearframe signed, tied to its checkpoint and source art. */
export const outputs = pgTable(
  'outputs',
  {
    id: text('id').primaryKey(),
    checkpointId: text('checkpoint_id')
      .notNull()
      .references(() => checkpoints.id),
    clearanceId: text('clearance_id').notNull(),
    datasetId: text('dataset_id').notNull(),
    datasetDigest: text('dataset_digest').notNull(),
    policyDigest: text('policy_digest').notNull(),
    mimeType: text('mime_type').notNull(),
    originalSha256: text('original_sha256').notNull(),
    signedSha256: text('signed_sha256').notNull(),
    signedSize: bigint('signed_size', { mode: 'number' }).notNull(),
    manifestLabel: text('manifest_label').notNull(),
    sourceAssetIds: jsonb('source_asset_ids').$type<string[]>().notNull(),
    promptSha256: text('prompt_sha256'),
    prompt: text('prompt'),
    generator: jsonb('generator').$type<{ name: string; version?: string } | null>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdBy: text('created_by').notNull(),
    auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
  },
  (t) => [
    uniqueIndex('outputs_signed_sha256_key').on(t.signedSha256),
    index('outputs_manifest_label_idx').on(t.manifestLabel),
    index('outputs_checkpoint_idx').on(t.checkpointId),
    // GET /v1/outputs pages by audit index, and by clearance (migrations/0018).
    index('outputs_audit_index_idx').on(t.auditIndex),
    index('outputs_clearance_idx').on(t.clearanceId, t.auditIndex),
  ],
);

/**
 * The C2PA manifest store an output was signed with (what c2pa-rs embedded in the file), kept for the Soft
 * Binding Resolution API's getManifestById; its SHA-256 is in the output's entry.
 */
export const outputManifestStores = pgTable('output_manifest_stores', {
  outputId: text('output_id')
    .primaryKey()
    .references(() => outputs.id),
  store: bytea('store').notNull(),
});

/**
 * An output recorded and then held back: its commit went out beside the read-back that checks the signed
 * file, and the read-back refused it, so the file never left. The output row stays (rows are never
 * changed); this row, written with its own audit entry, says why it is void.
 */
export const outputWithdrawals = pgTable('output_withdrawals', {
  outputId: text('output_id')
    .primaryKey()
    .references(() => outputs.id),
  reason: text('reason').notNull(),
  codes: jsonb('codes').$type<string[]>().notNull(),
  withdrawnAt: timestamp('withdrawn_at', { withTimezone: true, mode: 'date' }).notNull(),
  auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
});
