/**
 * Storing outputs' fingerprints and finding the registered ones near a hash (`tables.ts` says how the
 * table is laid out for that). The caller owns the transaction: a fingerprint is written with its output,
 * inside the output's own ledger change, so it needs no audit entry of its own.
 */
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { type Queryable, queryRows } from '../db/database.ts';
import { isPdqHex, pdqWords } from '../media/pdq.ts';
import { CHUNKS, chunkRadius, neighbourhood } from './mih.ts';
import { outputFingerprints } from './tables.ts';

/**
 * `pdq`: the whole picture's PDQ; `pdq-centre`: PDQ of its centre (media/fingerprint.ts), the same hash
 * space, so a query is compared with both; `colour-layout`: the picture's colour layout, read only to
 * confirm a flat picture's PDQ candidates (its chunks are indexed as any row's, unused).
 */
export const FINGERPRINT_ALGORITHMS = ['pdq', 'pdq-centre', 'colour-layout'] as const;
export type FingerprintAlgorithm = (typeof FINGERPRINT_ALGORITHMS)[number];

export type NewFingerprint = { outputId: string; algorithm: FingerprintAlgorithm; value: string; quality: number };

/** A registered fingerprint near the one asked about, with its exact Hamming distance in bits. */
export type FingerprintMatch = { outputId: string; algorithm: FingerprintAlgorithm; value: string; quality: number; distance: number };

export type NearestOptions = {
  /** The algorithm(s) whose rows are compared (default `pdq`); with several, each output's nearest row counts. */
  algorithm?: FingerprintAlgorithm | readonly FingerprintAlgorithm[];
  /** At most this many, nearest first (default 20). */
  limit?: number;
  /** Only outputs that also have a row of this algorithm within `threshold` bits of `value` (a second fingerprint agreeing). */
  agreeing?: { algorithm: FingerprintAlgorithm; value: string; threshold: number };
};

/** The value's sixteen 16-bit chunks (PDQ's words), as the chunk columns hold them. */
export function chunksOf(value: string): number[] {
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

/** Each output's registered value of one algorithm (an output has at most one row of each). */
export async function fingerprintsOf(q: Queryable, outputIds: readonly string[], algorithm: FingerprintAlgorithm): Promise<Map<string, string>> {
  if (outputIds.length === 0) return new Map();
  const rows = await q
    .select({ outputId: outputFingerprints.outputId, value: outputFingerprints.value })
    .from(outputFingerprints)
    .where(and(eq(outputFingerprints.algorithm, algorithm), inArray(outputFingerprints.outputId, [...outputIds])));
  return new Map(rows.map((r) => [r.outputId, r.value]));
}

const chunkColumn = (i: number) => sql.raw(`c${i}`);

/** The exact distance, chunk by chunk: popcount of each 16-bit XOR (bit_count, PostgreSQL 14 and later). */
export function distanceSql(words: number[], table?: string): SQL {
  return sql.join(
    words.map((w, i) => sql`bit_count((${table ? sql.raw(`${table}.c${i}`) : chunkColumn(i)} # ${w}::int)::bit(16))`),
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
  return runNearest(q, words, threshold, chunkCandidatesSql(words, threshold), opts);
}

/** The rows that may lie within `threshold` of a hash of these chunks: some chunk within the chunk radius (`mih.ts`), through the chunk indexes. */
export function chunkCandidatesSql(words: number[], threshold: number): SQL {
  const radius = chunkRadius(threshold);
  return sql.join(
    words.map((w, i) => (radius === 0 ? sql`${chunkColumn(i)} = ${w}::int` : sql`${chunkColumn(i)} = any(${`{${neighbourhood(w, radius).join(',')}}`}::int[])`)),
    sql` or `,
  );
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
  const algorithms = typeof opts.algorithm === 'string' ? [opts.algorithm] : (opts.algorithm ?? ['pdq']);
  if (algorithms.length === 0 || algorithms.some((a) => !FINGERPRINT_ALGORITHMS.includes(a))) throw new RangeError('unknown fingerprint algorithm');
  const which = algorithms.length === 1 ? sql`algorithm = ${algorithms[0]}` : sql`algorithm = any(${`{${algorithms.join(',')}}`}::text[])`;
  const agreeing = opts.agreeing
    ? sql` and exists (select 1 from output_fingerprints a where a.output_id = output_fingerprints.output_id and a.algorithm = ${opts.agreeing.algorithm}
             and ${distanceSql(chunksOf(opts.agreeing.value), 'a')} <= ${opts.agreeing.threshold}::int)`
    : sql``;
  // With several algorithms an output may come through more than one row: its nearest is kept.
  const rows = await queryRows<Row>(
    q,
    sql`select output_id, algorithm, value, quality, distance from (
          select d.*, row_number() over (partition by output_id order by distance, algorithm, value) as nth from (
            select output_id, algorithm, value, quality, ${distanceSql(words)} as distance
            from output_fingerprints
            where ${which} and (${candidates})${agreeing}
          ) d
          where distance <= ${threshold}::int
        ) c
        where nth = 1
        order by distance, output_id, algorithm, value
        limit ${limit}::int`,
  );
  return rows.map(toMatch);
}

/** Parameters per fingerprint in `fingerprintInsertSelect`: algorithm, value, quality, the 16 chunks. */
const PARAMS_PER_ROW = 3 + CHUNKS;

/**
 * For a writer that records the fingerprints in the same statement as their output (the sign path's one
 * optimistic statement): `insert … select` from `source`, the output's id taken from `outputIdSql`, `count`
 * fingerprints' own values as parameters numbered from `first` (`fingerprintParams`' order).
 */
export function fingerprintInsertSelect(outputIdSql: string, source: string, first: number, count = 1): string {
  const rows = Array.from({ length: count }, (_, r) => {
    const n = (i: number) => `$${first + r * PARAMS_PER_ROW + i}`;
    const chunks = Array.from({ length: CHUNKS }, (_, i) => `${n(3 + i)}::int`);
    return `(${n(0)}::text, ${n(1)}::text, ${n(2)}::int2, ${chunks.join(', ')})`;
  });
  const columns = Array.from({ length: CHUNKS }, (_, i) => `c${i}`).join(', ');
  return (
    `insert into output_fingerprints (output_id, algorithm, value, quality, ${columns}) ` +
    `select ${outputIdSql}, f.* from ${source} cross join (values ${rows.join(', ')}) as f (algorithm, value, quality, ${columns})`
  );
}

/** The parameters of `fingerprintInsertSelect` for these fingerprints, checked as `addFingerprint` checks them. */
export function fingerprintParams(fs: readonly Omit<NewFingerprint, 'outputId'>[]): unknown[] {
  return fs.flatMap((f) => {
    const c = chunksOf(f.value);
    if (!Number.isInteger(f.quality) || f.quality < 0 || f.quality > 100) throw new RangeError('quality is a whole number from 0 to 100');
    if (!FINGERPRINT_ALGORITHMS.includes(f.algorithm)) throw new RangeError('unknown fingerprint algorithm');
    return [f.algorithm, f.value, f.quality, ...c];
  });
}
