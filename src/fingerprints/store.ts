/**
 * Storing outputs' fingerprints and finding the registered ones near a hash (`tables.ts` says how the
 * table is laid out for that). The caller owns the transaction: a fingerprint is written with its output,
 * inside the output's own ledger change, so it needs no audit entry of its own.
 */
import { type SQL, sql } from 'drizzle-orm';
import { type Queryable, queryRows } from '../db/database.ts';
import { isPdqHex, pdqWords } from '../media/pdq.ts';
import { CHUNKS, chunkRadius, neighbourhood } from './mih.ts';
import { outputFingerprints } from './tables.ts';

export const FINGERPRINT_ALGORITHMS = ['pdq'] as const;
export type FingerprintAlgorithm = (typeof FINGERPRINT_ALGORITHMS)[number];

export type NewFingerprint = { outputId: string; algorithm: FingerprintAlgorithm; value: string; quality: number };

/** A registered fingerprint near the one asked about, with its exact Hamming distance in bits. */
export type FingerprintMatch = { outputId: string; algorithm: FingerprintAlgorithm; value: string; quality: number; distance: number };

export type NearestOptions = { algorithm?: FingerprintAlgorithm /** At most this many, nearest first (default 20). */; limit?: number };

function chunksOf(value: string): number[] {
  if (!isPdqHex(value)) throw new RangeError('a fingerprint value is 64 lower-case hex digits');
  return pdqWords(value);
}

export async function addFingerprint(q: Queryable, f: NewFingerprint): Promise<void> {
  const c = chunksOf(f.value);
  if (!Number.isInteger(f.quality) || f.quality < 0 || f.quality > 100) throw new RangeError('quality is a whole number from 0 to 100');
  await q.insert(outputFingerprints).values({
    outputId: f.outputId,
    algorithm: f.algorithm,
    value: f.value,
    quality: f.quality,
    c0: c[0]!,
    c1: c[1]!,
    c2: c[2]!,
    c3: c[3]!,
    c4: c[4]!,
    c5: c[5]!,
    c6: c[6]!,
    c7: c[7]!,
    c8: c[8]!,
    c9: c[9]!,
    c10: c[10]!,
    c11: c[11]!,
    c12: c[12]!,
    c13: c[13]!,
    c14: c[14]!,
    c15: c[15]!,
  });
}

/** Whether any fingerprint is registered at all (of any algorithm). */
export async function anyFingerprint(q: Queryable): Promise<boolean> {
  const [row] = await queryRows<{ found: boolean }>(q, sql`select exists (select 1 from output_fingerprints) as found`);
  return Boolean(row?.found);
}

const chunkColumn = (i: number) => sql.raw(`c${i}`);

/** The exact distance, chunk by chunk: popcount of each 16-bit XOR (bit_count, PostgreSQL 14 and later). */
function distanceSql(words: number[]): SQL {
  return sql.join(
    words.map((w, i) => sql`bit_count((${chunkColumn(i)} # ${w}::int)::bit(16))`),
    sql` + `,
  );
}

type Row = { output_id: string; algorithm: FingerprintAlgorithm; value: string; quality: number; distance: number };
const toMatch = (r: Row): FingerprintMatch => ({ outputId: r.output_id, algorithm: r.algorithm, value: r.value, quality: Number(r.quality), distance: Number(r.distance) });

/**
 * The registered fingerprints within `threshold` bits of `value`, nearest first (ties by output id). All
 * of them (up to `limit`): candidates come through the chunk indexes, see `mih.ts`.
 */
export async function nearest(q: Queryable, value: string, threshold: number, opts: NearestOptions = {}): Promise<FingerprintMatch[]> {
  const words = chunksOf(value);
  const radius = chunkRadius(threshold);
  const anyChunk = sql.join(
    words.map((w, i) => (radius === 0 ? sql`${chunkColumn(i)} = ${w}::int` : sql`${chunkColumn(i)} = any(${`{${neighbourhood(w, radius).join(',')}}`}::int[])`)),
    sql` or `,
  );
  return runNearest(q, words, threshold, anyChunk, opts);
}

/** The same answer by computing the distance to every row: the baseline the index is measured against. */
export async function nearestByScan(q: Queryable, value: string, threshold: number, opts: NearestOptions = {}): Promise<FingerprintMatch[]> {
  const words = chunksOf(value);
  chunkRadius(threshold);
  return runNearest(q, words, threshold, sql`true`, opts);
}

async function runNearest(q: Queryable, words: number[], threshold: number, candidates: SQL, opts: NearestOptions): Promise<FingerprintMatch[]> {
  if (words.length !== CHUNKS) throw new RangeError('expected 16 chunks');
  const limit = opts.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError('limit is a whole number from 1 to 1000');
  const rows = await queryRows<Row>(
    q,
    sql`select output_id, algorithm, value, quality, distance from (
          select output_id, algorithm, value, quality, ${distanceSql(words)} as distance
          from output_fingerprints
          where algorithm = ${opts.algorithm ?? 'pdq'} and (${candidates})
        ) c
        where distance <= ${threshold}::int
        order by distance, output_id, value
        limit ${limit}::int`,
  );
  return rows.map(toMatch);
}

/**
 * For a writer that records the fingerprint in the same statement as its output (the sign path's one
 * optimistic statement): `insert … select` from `source`, the output's id taken from `outputIdSql`, the
 * fingerprint's own values as parameters numbered from `first` (`fingerprintParams`' order).
 */
export function fingerprintInsertSelect(outputIdSql: string, source: string, first: number): string {
  const n = (i: number) => `$${first + i}`;
  const chunks = Array.from({ length: CHUNKS }, (_, i) => `${n(3 + i)}::int`);
  return (
    `insert into output_fingerprints (output_id, algorithm, value, quality, ${Array.from({ length: CHUNKS }, (_, i) => `c${i}`).join(', ')}) ` +
    `select ${outputIdSql}, ${n(0)}::text, ${n(1)}::text, ${n(2)}::int2, ${chunks.join(', ')} from ${source}`
  );
}

/** The parameters of `fingerprintInsertSelect`, checked as `addFingerprint` checks them. */
export function fingerprintParams(f: Omit<NewFingerprint, 'outputId'>): unknown[] {
  const c = chunksOf(f.value);
  if (!Number.isInteger(f.quality) || f.quality < 0 || f.quality > 100) throw new RangeError('quality is a whole number from 0 to 100');
  return [f.algorithm, f.value, f.quality, ...c];
}
