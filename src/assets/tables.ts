import { bigint, bigserial, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { TrainingMiningUse } from '../vocabulary/rights.ts';

/** A registered piece of concept art. Rows are never updated: terms live in license versions. */
export const assets = pgTable(
  'assets',
  {
    id: text('id').primaryKey(),
    seq: bigserial('seq', { mode: 'number' }).notNull().unique(),
    sha256: text('sha256').notNull(),
    title: text('title').notNull(),
    mediaType: text('media_type').notNull(),
    creator: text('creator').notNull(),
    production: text('production').notNull(),
    sourceUri: text('source_uri'),
    rightsHolder: text('rights_holder'),
    byteSize: bigint('byte_size', { mode: 'number' }),
    // Read from the uploaded file's own C2PA manifest (C2PA 1.x and CAWG assertions), when it has one.
    c2paTrainingMining: text('c2pa_training_mining').$type<TrainingMiningUse>(),
    cawgTrainingMining: text('cawg_training_mining').$type<TrainingMiningUse>(),
    // An output registered back as art: the rights chain continues through that output's own sources.
    derivedFromOutputId: text('derived_from_output_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdBy: text('created_by').notNull(),
    auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
  },
  (t) => [uniqueIndex('assets_production_sha256_key').on(t.production, t.sha256), index('assets_rights_holder_idx').on(t.rightsHolder)],
);
