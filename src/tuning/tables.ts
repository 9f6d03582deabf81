import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { clearances } from '../gate/tables.ts';

/** A tuning job Clearframe submitted to Vertex AI under a standing clearance. */
export const tuningJobs = pgTable(
  'tuning_jobs',
  {
    id: text('id').primaryKey(),
    clearanceId: text('clearance_id')
      .notNull()
      .references(() => clearances.id),
    vendor: text('vendor').notNull(),
    baseModel: text('base_model').notNull(),
    trainingDataUri: text('training_data_uri').notNull(),
    validationDataUri: text('validation_data_uri'),
    hyperparameters: jsonb('hyperparameters'),
    displayName: text('display_name'),
    vertexJobName: text('vertex_job_name').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdBy: text('created_by').notNull(),
    auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
  },
  (t) => [index('tuning_jobs_clearance_idx').on(t.clearanceId)],
);

/** Each state Vertex reported for a job, in order: the current state is the last row. */
export const tuningJobStates = pgTable(
  'tuning_job_states',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => tuningJobs.id),
    seq: integer('seq').notNull(),
    state: text('state').notNull(),
    error: jsonb('error'),
    tunedModel: jsonb('tuned_model'),
    observedAt: timestamp('observed_at', { withTimezone: true, mode: 'date' }).notNull(),
    auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);
