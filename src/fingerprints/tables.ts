import { integer, pgTable, primaryKey, smallint, text } from 'drizzle-orm/pg-core';

/** The sixteen 16-bit chunks of a 256-bit hash, each indexed (multi-index hashing: mih.ts); fresh columns per table. */
const chunkColumns = () => ({
  c0: integer('c0').notNull(),
  c1: integer('c1').notNull(),
  c2: integer('c2').notNull(),
  c3: integer('c3').notNull(),
  c4: integer('c4').notNull(),
  c5: integer('c5').notNull(),
  c6: integer('c6').notNull(),
  c7: integer('c7').notNull(),
  c8: integer('c8').notNull(),
  c9: integer('c9').notNull(),
  c10: integer('c10').notNull(),
  c11: integer('c11').notNull(),
  c12: integer('c12').notNull(),
  c13: integer('c13').notNull(),
  c14: integer('c14').notNull(),
  c15: integer('c15').notNull(),
});

/**
 * The perceptual fingerprints of signed outputs, for finding an output again from a file whose manifest is
 * gone. Written once, in the transaction that records the output, never changed (migration 0016).
 *
 * Multi-index hashing: the 256-bit value is also kept cut into sixteen 16-bit chunks `c0`..`c15` (chunk i is
 * PDQ's word i, bits 16 i .. 16 i + 15), each an indexed column. Two hashes at most t bits apart agree
 * within floor(t / 16) bits on at least one chunk (pigeonhole), so candidates come from exact matches on
 * those chunks' neighbourhoods and the exact distance is computed on the few found.
 *
 * `output_id` names an output (`outputs.id`) without a foreign key: outputs sit above this folder and
 * verify through it, and the row is only ever written beside its output's.
 */
export const outputFingerprints = pgTable(
  'output_fingerprints',
  {
    outputId: text('output_id').notNull(),
    /** `pdq` (Meta's PDQ, 256 bits). */
    algorithm: text('algorithm').notNull(),
    /** 64 lower-case hex digits, as the algorithm prints it. */
    value: text('value').notNull(),
    /** The algorithm's own quality score (PDQ: 0..100). */
    quality: smallint('quality').notNull(),
    ...chunkColumns(),
  },
  // One row per distinct value: a video's frames that hash alike are one row.
  (t) => [primaryKey({ columns: [t.outputId, t.algorithm, t.value] })],
);

/**
 * The sampled frames of signed video outputs (media/video-fingerprint.ts: PDQ of a frame a second plus each
 * scene cut), each at its time from the start of the video in milliseconds, for finding a video output
 * again from a re-encoded or cut copy (migration 0021). Chunked and indexed as `output_fingerprints` is, so
 * a frame is found by the same multi-index lookup; written with the output, never changed.
 */
export const outputVideoFrames = pgTable(
  'output_video_frames',
  {
    outputId: text('output_id').notNull(),
    /** The frame's presentation time, whole milliseconds from the start (as the manifest's timespans). */
    atMs: integer('at_ms').notNull(),
    /** PDQ, 64 lower-case hex digits. */
    value: text('value').notNull(),
    /** PDQ's quality score (0..100). */
    quality: smallint('quality').notNull(),
    ...chunkColumns(),
  },
  (t) => [primaryKey({ columns: [t.outputId, t.atMs] })],
);
