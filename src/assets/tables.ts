import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { bytea } from '../db/columns.ts';
import type { TrainingMiningUse } from '../vocabulary/rights.ts';
import type { EmbeddedManifestState } from './embedded-terms.ts';

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
    // What became of that manifest: a present one that cannot be validated denies until legal overrides.
    embeddedManifestState: text('embedded_manifest_state').$type<EmbeddedManifestState>().notNull().default('none'),
    embeddedManifestCodes: jsonb('embedded_manifest_codes').$type<string[]>().notNull().default([]),
    // An output registered back as art: the rights chain continues through that output's own sources.
    derivedFromOutputId: text('derived_from_output_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdBy: text('created_by').notNull(),
    auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
  },
  (t) => [uniqueIndex('assets_production_sha256_key').on(t.production, t.sha256), index('assets_rights_holder_idx').on(t.rightsHolder)],
);

/**
 * Legal's decision on art whose own manifest is present but cannot be validated (invalid, damaged,
 * unreadable): the embedded terms do not bind it, for the reason given. Once per asset, never changed.
 */
export const assetEmbeddedOverrides = pgTable('asset_embedded_overrides', {
  assetId: text('asset_id')
    .primaryKey()
    .references(() => assets.id),
  reason: text('reason').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  createdBy: text('created_by').notNull(),
  auditIndex: bigint('audit_index', { mode: 'number' }).notNull(),
});

/**
 * The small picture made from an uploaded file at its registration (media/preview.ts), for people to
 * recognise the art by. Written in the registration's transaction, never changed; no decision reads it, so
 * the log states the file's hash, not this rendering of it.
 */
export const assetPreviews = pgTable('asset_previews', {
  assetId: text('asset_id')
    .primaryKey()
    .references(() => assets.id),
  mediaType: text('media_type').notNull(),
  width: integer('width').notNull(),
  height: integer('height').notNull(),
  bytes: bytea('bytes').notNull(),
});
