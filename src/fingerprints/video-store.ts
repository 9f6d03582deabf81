/**
 * Storing video outputs' sampled frames and finding the outputs with frames near a copy's (`tables.ts`,
 * `output_video_frames`). The same multi-index lookup as `store.ts`, per frame. The caller owns the
 * transaction: the frames are written with their output, inside the output's own ledger change.
 */
import { inArray, type SQL, sql } from 'drizzle-orm';
import { type Queryable, queryRows } from '../db/database.ts';
import { MAX_FRAMES, type VideoFrameFingerprint } from '../media/video-fingerprint.ts';
import { CHUNKS } from './mih.ts';
import { chunkCandidatesSql, chunksOf, distanceSql } from './store.ts';
import { outputVideoFrames } from './tables.ts';

/** One sampled frame as recorded: its time in whole milliseconds from the start, its PDQ and PDQ's quality. */
export type RecordedVideoFrame = { atMs: number; value: string; quality: number };

/** An output whose frames are near some of the query's, with how many of the query's frames found one and the nearest distance. */
export type VideoFramesMatch = { outputId: string; hits: number; distance: number };

/** At most this many query frames are looked up (spread over the copy): enough to find a copy of which half the frames match. */
export const MAX_PROBES = 16;

/**
 * A video's sampled frames as recorded: times in whole milliseconds (a negative start, from an edit list,
 * counted as 0), the first frame kept where two fall in the same millisecond.
 */
export function recordedFrames(frames: readonly VideoFrameFingerprint[]): RecordedVideoFrame[] {
  const out: RecordedVideoFrame[] = [];
  const seen = new Set<number>();
  for (const f of frames.slice(0, MAX_FRAMES)) {
    const atMs = Math.max(0, Math.round(f.at * 1000));
    if (seen.has(atMs)) continue;
    seen.add(atMs);
    out.push({ atMs, value: f.value, quality: f.quality });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** Recorded frames as `media/video-match.ts` takes them (seconds). */
export function framesInSeconds(frames: readonly RecordedVideoFrame[]): VideoFrameFingerprint[] {
  return frames.map((f) => ({ at: f.atMs / 1000, value: f.value, quality: f.quality }));
}

/** The frames checked as rows are (times distinct whole milliseconds, values PDQ, qualities 0..100) and bounded. */
function checked(frames: readonly RecordedVideoFrame[]): RecordedVideoFrame[] {
  if (frames.length === 0 || frames.length > MAX_FRAMES) throw new RangeError(`a video is recorded with 1 to ${MAX_FRAMES} frames`);
  const times = new Set<number>();
  for (const f of frames) {
    chunksOf(f.value);
    if (!Number.isInteger(f.atMs) || f.atMs < 0 || f.atMs > 2 ** 31 - 1) throw new RangeError('a frame time is a whole number of milliseconds');
    if (times.has(f.atMs)) throw new RangeError('two frames at the same millisecond');
    times.add(f.atMs);
    if (!Number.isInteger(f.quality) || f.quality < 0 || f.quality > 100) throw new RangeError('quality is a whole number from 0 to 100');
  }
  return [...frames];
}

const COLUMNS = ['at_ms', 'value', 'quality', ...Array.from({ length: CHUNKS }, (_, i) => `c${i}`)];
const TYPES = ['int', 'text', 'int2', ...Array.from({ length: CHUNKS }, () => 'int')];
/** Parameters of `videoFramesInsertSelect`, whatever the number of frames: one array per column. */
export const VIDEO_FRAME_PARAMS = COLUMNS.length;

/**
 * The frames as column arrays (PostgreSQL array literals, sent as text and cast in the statement, so both
 * drivers send them alike): one parameter per column however many frames, far below the parameter limit.
 */
export function videoFrameParams(frames: readonly RecordedVideoFrame[]): string[] {
  const fs = checked(frames);
  const chunks = fs.map((f) => chunksOf(f.value));
  const literal = (xs: (string | number)[]) => `{${xs.join(',')}}`;
  return [
    literal(fs.map((f) => f.atMs)),
    literal(fs.map((f) => f.value)),
    literal(fs.map((f) => f.quality)),
    ...Array.from({ length: CHUNKS }, (_, i) => literal(chunks.map((c) => c[i]!))),
  ];
}

/**
 * For a writer that records the frames in the same statement as their output (the sign path's optimistic
 * statement): `insert … select` from `source`, the output's id from `outputIdSql`, the frames from
 * `videoFrameParams`' arrays numbered from `first`.
 */
export function videoFramesInsertSelect(outputIdSql: string, source: string, first: number): string {
  const arrays = COLUMNS.map((_, i) => `$${first + i}::text::${TYPES[i]}[]`);
  return (
    `insert into output_video_frames (output_id, ${COLUMNS.join(', ')}) ` +
    `select ${outputIdSql}, f.* from ${source} cross join unnest(${arrays.join(', ')}) as f (${COLUMNS.join(', ')})`
  );
}

/** The frames of one output, in a statement of their own (the sign path under the ledger's lock). */
export async function addVideoFrames(q: Queryable, outputId: string, frames: readonly RecordedVideoFrame[]): Promise<void> {
  const params = videoFrameParams(frames);
  const arrays = sql.join(
    params.map((p, i) => sql`${p}::text::${sql.raw(TYPES[i]!)}[]`),
    sql`, `,
  );
  await q.execute(sql`insert into output_video_frames (output_id, ${sql.raw(COLUMNS.join(', '))})
    select ${outputId}, f.* from unnest(${arrays}) as f (${sql.raw(COLUMNS.join(', '))})`);
}

/** Whether any video frame is registered at all. */
export async function anyVideoFrame(q: Queryable): Promise<boolean> {
  const [row] = await queryRows<{ found: boolean }>(q, sql`select exists (select 1 from output_video_frames) as found`);
  return Boolean(row?.found);
}

/** Each output's registered frames, in time order. */
export async function videoFramesOf(q: Queryable, outputIds: readonly string[]): Promise<Map<string, RecordedVideoFrame[]>> {
  const out = new Map<string, RecordedVideoFrame[]>();
  if (outputIds.length === 0) return out;
  const rows = await q
    .select({ outputId: outputVideoFrames.outputId, atMs: outputVideoFrames.atMs, value: outputVideoFrames.value, quality: outputVideoFrames.quality })
    .from(outputVideoFrames)
    .where(inArray(outputVideoFrames.outputId, [...outputIds]))
    .orderBy(outputVideoFrames.outputId, outputVideoFrames.atMs);
  for (const r of rows) {
    const list = out.get(r.outputId) ?? [];
    list.push({ atMs: r.atMs, value: r.value, quality: r.quality });
    out.set(r.outputId, list);
  }
  return out;
}

/**
 * The outputs with a frame within `threshold` bits of one of `values` (the query's frames, at most
 * MAX_PROBES), those near the most of them first, then the nearest. Each value's candidates come through
 * the chunk indexes, as `nearest` finds an image's.
 */
export async function outputsWithFramesNear(q: Queryable, values: readonly string[], threshold: number, limit: number): Promise<VideoFramesMatch[]> {
  if (values.length === 0) return [];
  if (values.length > MAX_PROBES) throw new RangeError(`at most ${MAX_PROBES} frames are looked up at once`);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError('limit is a whole number from 1 to 1000');
  const probes: SQL[] = values.map((v, i) => {
    const words = chunksOf(v);
    return sql`select ${i}::int as probe, output_id, ${distanceSql(words)} as distance from output_video_frames where ${chunkCandidatesSql(words, threshold)}`;
  });
  const rows = await queryRows<{ output_id: string; hits: string | number; distance: string | number }>(
    q,
    sql`select output_id, count(distinct probe) as hits, min(distance) as distance
        from (${sql.join(probes, sql` union all `)}) d
        where distance <= ${threshold}::int
        group by output_id
        order by hits desc, distance, output_id
        limit ${limit}::int`,
  );
  return rows.map((r) => ({ outputId: r.output_id, hits: Number(r.hits), distance: Number(r.distance) }));
}
