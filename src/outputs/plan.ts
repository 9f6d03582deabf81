// What a sign needs before anything is decided: the input, the checkpoint and its clearance, the source art.

import { eq, sql } from 'drizzle-orm';
import { assets } from '../assets/tables.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import { resolveMembers } from '../datasets/service.ts';
import type { Database, Queryable } from '../db/database.ts';
import { WrittenOnce } from '../db/written-once.ts';
import type { RecordedVideoFrame } from '../fingerprints/video-store.ts';
import { clearances } from '../gate/tables.ts';
import { problems } from '../http/problem.ts';
import type { OutputFingerprints } from '../media/fingerprint.ts';
import type { SupportedMimeType } from '../provenance/c2pa/types.ts';

export type OutputInput = {
  bytes: Uint8Array;
  mimeType: string | undefined;
  title: string;
  checkpointId: string;
  sourceAssetIds: string[];
  prompt?: string;
  generator?: { name: string; version?: string };
};

export type CheckpointRow = typeof checkpoints.$inferSelect;
export type ClearanceRow = typeof clearances.$inferSelect;

/**
 * Named (prepared) statements here and in verify.ts: drizzle sends an unnamed query with parameters as a
 * Describe round trip, then Bind/Execute once this process has read the answer, and nothing else is sent on
 * that connection meanwhile. A statement postgres.js has prepared on the connection goes out in one.
 */

/** The checkpoint and the clearance it was trained under; both rows are written once and never change. */
export async function checkpointWithClearance(q: Queryable, checkpointId: string): Promise<{ checkpoint: CheckpointRow; clearance: ClearanceRow }> {
  const [row] = await q
    .select({ checkpoint: checkpoints, clearance: clearances })
    .from(checkpoints)
    .innerJoin(clearances, eq(clearances.id, checkpoints.clearanceId))
    .where(eq(checkpoints.id, checkpointId))
    .prepare('outputs_checkpoint_with_clearance')
    .execute();
  if (!row) throw problems.notFound(`no checkpoint ${checkpointId}`);
  return row;
}

// Rows a render farm asks for on every frame, which never change: kept per database.
export const checkpointsSeen = new WrittenOnce<{ checkpoint: CheckpointRow; clearance: ClearanceRow }>(1_000);
const sourcesSeen = new WrittenOnce<{ sha256: string; title: string }>(10_000);

/**
 * The source assets, in the order given, with their titles: 422 for an unknown or repeated id (as
 * `resolveMembers` answers), from memory when every one has been seen.
 */
export async function sourceAssets(database: Database, ids: readonly string[]): Promise<{ assetId: string; sha256: string; title: string }[]> {
  if (ids.length === 0) return [];
  const held = ids.map((id) => sourcesSeen.get(database, id));
  if (new Set(ids).size === ids.length && held.every((h) => h !== undefined)) return ids.map((id, i) => ({ assetId: id, ...held[i]! }));
  const db = database.db;
  const [members, titles] = await Promise.all([
    resolveMembers(db, ids),
    db
      .select({ id: assets.id, title: assets.title })
      .from(assets)
      .where(sql`${assets.id} = any(${sql.param([...new Set(ids)])}::text[])`)
      .prepare('outputs_source_titles')
      .execute(),
  ]);
  const titleOf = new Map(titles.map((a) => [a.id, a.title]));
  return members.map((m) => {
    const row = { sha256: m.sha256, title: titleOf.get(m.assetId) ?? m.assetId };
    sourcesSeen.set(database, m.assetId, row);
    return { assetId: m.assetId, ...row };
  });
}

/** What a sign needs besides the audit index: read and checked before anything is decided. */
export type SignPlan = {
  id: string;
  input: OutputInput;
  mimeType: SupportedMimeType;
  checkpoint: CheckpointRow;
  clearance: ClearanceRow;
  sources: { assetId: string; sha256: string; title: string }[];
  promptSha256: string | null;
  storePrompt: boolean;
};

/**
 * The perceptual fingerprints a still image is recorded with (`fingerprints/`), so that a copy whose manifest
 * is gone can be led back to it: its PDQ, its centre's, its colour layout (`media/fingerprint.ts`).
 */
export type { OutputFingerprints };

/**
 * A video's fingerprint as recorded (`fingerprints/video-store.ts`): PDQ of a frame every `sampleSeconds`
 * plus each scene cut (`media/video-fingerprint.ts`), each frame at its time in whole milliseconds.
 */
export type OutputVideoFingerprint = { algorithm: 'pdq'; sampleSeconds: number; durationMs: number; frames: RecordedVideoFrame[] };

/** What soft binding takes of an output at signing: a still image's fingerprints, or a video's frames (never both). */
export type OutputSoftBinding = { fingerprints: OutputFingerprints | null; videoFingerprint: OutputVideoFingerprint | null };

/** The hashes an output is recorded with: of the file as generated, and as signed; and its fingerprints. */
export type OutputHashes = { originalSha256: string; signedSha256: string } & OutputSoftBinding;
