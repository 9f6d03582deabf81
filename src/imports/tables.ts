import { boolean, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { ImportCounts } from './plan.ts';

/**
 * A bulk import: its options, where it stands and its counts, and its error rows. Bookkeeping of the
 * work, not ledger state: what it registers (assets, license versions) goes through their own services
 * and is audit-logged there; a job's row is updated as it goes and decides nothing.
 */
export const importJobs = pgTable(
  'import_jobs',
  {
    id: text('id').primaryKey(),
    production: text('production').notNull(),
    /** planned (a dry run), rejected (errors, nothing written), running, done, failed. */
    state: text('state').$type<ImportState>().notNull(),
    dryRun: boolean('dry_run').notNull(),
    skipErrors: boolean('skip_errors').notNull(),
    amend: boolean('amend').notNull(),
    sheetName: text('sheet_name').notNull(),
    sheetSha256: text('sheet_sha256').notNull(),
    counts: jsonb('counts').$type<ImportCounts>().notNull(),
    /** The error file (CSV), or null when no row failed. */
    errorsCsv: text('errors_csv'),
    message: text('message'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdBy: text('created_by').notNull(),
    /** The process that runs it (host:pid). */
    runner: text('runner'),
    /** Written at least every second while it runs: a running job not heard of for long was interrupted. */
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('import_jobs_production_idx').on(t.production)],
);

export const IMPORT_STATES = ['planned', 'rejected', 'running', 'done', 'failed', 'interrupted'] as const;
export type ImportState = (typeof IMPORT_STATES)[number];
