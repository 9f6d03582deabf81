import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { datasets } from '../datasets/tables.ts';
import { clearances } from '../gate/tables.ts';

/** A tuned model, tied to the clearance, dataset (and so the art) it was trained on. */
export const checkpoints = pgTable(
  'checkpoints',
  {
    id: text('id').primaryKey(),
    clearanceId: text('clearance_id')
      .notNull()
      .references(() => clearances.id),
    datasetId: text('dataset_id')
      .notNull()
      .references(() => datasets.id),
    datasetDigest: text('dataset_digest').notNull(),
    baseModel: text('base_model').notNull(),
    vendor: text('vendor').notNull(),
    source: text('source').$type<'vertex' | 'external'>().notNull(),
    tuningJobId: text('tuning_job_id').unique(),
    externalRef: text('external_ref'),
    artifactDigest: text('artifact_digest'),
    vertexModel: text('vertex_model'),
    vertexEndpoint: text('vertex_endpoint'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdBy: text('created_by').notNull(),
    auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
  },
  (t) => [index('checkpoints_clearance_idx').on(t.clearanceId), index('checkpoints_dataset_idx').on(t.datasetId)],
);

export type StatusCause =
  | { kind: 'license-revoked'; licenseId: string; assetIds: string[]; at: string; reason: string | null }
  | { kind: 'license-expired'; licenseId: string; assetIds: string[]; at: string }
  | { kind: 'retired'; reason: string };

/** Status changes, in order. `active` is implied at registration; a row is written for each change. */
export const checkpointStatusEvents = pgTable(
  'checkpoint_status_events',
  {
    checkpointId: text('checkpoint_id')
      .notNull()
      .references(() => checkpoints.id),
    seq: integer('seq').notNull(),
    status: text('status').$type<'tainted' | 'retired'>().notNull(),
    cause: jsonb('cause').$type<StatusCause>().notNull(),
    effectiveAt: timestamp('effective_at', { withTimezone: true, mode: 'date' }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, mode: 'date' }).notNull(),
    auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.checkpointId, t.seq] })],
);
