/**
 * Fingerprint benchmark: `npm run bench -- fingerprints`.
 *
 * 1. Lookup: N fingerprints registered (uniformly random 256-bit values, written by one INSERT ... SELECT
 *    per batch through the migration's table and its sixteen chunk indexes), with neighbours planted for
 *    half of the queries; then, in the same run on the same table, `nearest` (the chunk indexes) at
 *    thresholds 15 and 31 against `nearestByScan` (the exact distance to every row). Both must return the
 *    same matches. Random values are the easy case for multi-index hashing (chunks spread evenly); real
 *    PDQ values cluster, which puts more rows behind a popular chunk value.
 * 2. Hashing: the PDQ fingerprint of a 1 MB JPEG (decode with libvips, the reference 512 x 512 step, PDQ),
 *    beside decoding the same file alone.
 *
 * The same lookups run on PGlite (the embedded default) at BENCH_FINGERPRINTS_PGLITE_N (0 skips it).
 *
 * Knobs: BENCH_FINGERPRINTS_N (1000000), BENCH_FINGERPRINTS_PGLITE_N (100000), BENCH_FINGERPRINTS_QUERIES (200), BENCH_FINGERPRINTS_SCANS (20),
 * BENCH_FINGERPRINTS_TIMEOUT_S (3600).
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { type Db, openDatabase, queryRows } from '../src/db/database.ts';
import { addFingerprint, type FingerprintMatch, nearest, nearestByScan } from '../src/fingerprints/store.ts';
import { decodeForPdq, fingerprintImage } from '../src/media/fingerprint.ts';
import { hammingDistance } from '../src/media/pdq.ts';
import { makeJpeg } from '../test/fixtures/media.ts';
import { type BenchSection, createBenchDatabase, distribution, fmt, intFromEnv, now, Reporter, rng } from './harness.ts';

export const fingerprintsSection: BenchSection = {
  name: 'fingerprints',
  title: 'fingerprints: lookup by Hamming distance through the chunk indexes vs a scan; PDQ of a 1 MB JPEG',
  timeoutS: intFromEnv('BENCH_FINGERPRINTS_TIMEOUT_S', 3600),
  run: runFingerprints,
};

const BATCH = 50_000;

/** 64 hex digits from sixteen random 16-bit words, in SQL (word 0 is the last four digits). */
const RANDOM_ROWS = `
  insert into output_fingerprints (output_id, algorithm, value, quality, ${Array.from({ length: 16 }, (_, i) => `c${i}`).join(', ')})
  select 'out_bench_' || n, 'pdq',
         ${Array.from({ length: 16 }, (_, i) => `lpad(to_hex(c${15 - i}), 4, '0')`).join(' || ')},
         100, ${Array.from({ length: 16 }, (_, i) => `c${i}`).join(', ')}
  from (select n, ${Array.from({ length: 16 }, (_, i) => `floor(random() * 65536)::int as c${i}`).join(', ')}
        from generate_series($1::int, $2::int) as n) r`;

/** The rows from..to as one statement (integers only, so written into the text for either driver). */
const randomRows = (from: number, to: number) => sql.raw(RANDOM_ROWS.replace('$1', String(from)).replace('$2', String(to)));

async function runFingerprints() {
  const rep = new Reporter('fingerprints', fingerprintsSection.title);
  const n = intFromEnv('BENCH_FINGERPRINTS_N', 1_000_000);
  const pgliteN = Number(process.env.BENCH_FINGERPRINTS_PGLITE_N ?? 100_000);
  const queries = intFromEnv('BENCH_FINGERPRINTS_QUERIES', 200);
  const scans = intFromEnv('BENCH_FINGERPRINTS_SCANS', 20);
  Object.assign(rep.parameters, { n, pgliteN, queries, scans });
  const bdb = await rep.phase('setup.database', () => createBenchDatabase());
  rep.env.postgres = bdb.serverVersion;
  await lookups(rep, 'postgres', bdb.database.db, n, queries, scans);
  if (pgliteN > 0) {
    const embedded = await openDatabase({ kind: 'pglite' });
    try {
      await embedded.migrate();
      await lookups(rep, 'pglite', embedded.db, pgliteN, queries, scans);
    } finally {
      await embedded.close();
    }
  }
  await rep.phase('hash.1mb-jpeg', async () => {
    const jpegs = [
      { name: 'generated 1 MB JPEG (gradient and noise)', bytes: makeJpeg({ targetBytes: 1_000_000, seed: 7 }) },
      {
        name: 'photo 1 MB JPEG (the PDQ bridge, enlarged)',
        bytes: new Uint8Array(
          await sharp(readFileSync(new URL('../test/fixtures/pdq/bridge-1-original.jpg', import.meta.url)))
            .resize(2600)
            .jpeg({ quality: 93 })
            .toBuffer(),
        ),
      },
    ];
    for (const j of jpegs) {
      const meta = await sharp(j.bytes).metadata();
      const hash: number[] = [];
      const decode: number[] = [];
      for (let r = 0; r < 12; r++) {
        const t0 = now();
        await decodeForPdq(j.bytes);
        decode.push(now() - t0);
        const t1 = now();
        await fingerprintImage(j.bytes);
        hash.push(now() - t1);
      }
      const h = distribution(hash.slice(2));
      const d = distribution(decode.slice(2));
      rep.figure({
        id: `fingerprints.hash.${j.name.startsWith('photo') ? 'photo' : 'generated'}`,
        label: `PDQ fingerprint of a ${j.name}, ${meta.width}x${meta.height}, ${fmt(j.bytes.length)} bytes, p50 (p95 ${h.p95.toFixed(1)} ms)`,
        value: h.p50,
        unit: 'ms',
        baseline: { label: 'decoding it alone (libvips), p50', value: d.p50, unit: 'ms' },
        ratio: h.p50 / d.p50,
        ratioMeaning: 'fingerprint / decode',
      });
    }
  });
  return rep.finish();
}

/** Registers n random fingerprints, plants neighbours, and times `nearest` against `nearestByScan`. */
async function lookups(rep: Reporter, kind: 'postgres' | 'pglite', db: Db, n: number, queries: number, scans: number) {
  const random = rng(Number(process.env.BENCH_SEED ?? 20));
  const randomHash = () => Array.from({ length: 64 }, () => Math.floor(random() * 16).toString(16)).join('');

  await rep.phase(`${kind}.populate`, async () => {
    const started = now();
    await db.execute(sql`select setseed(0.2)`);
    for (let from = 1; from <= n; from += BATCH) {
      await db.execute(randomRows(from, Math.min(n, from + BATCH - 1)));
      if ((from - 1) % (BATCH * 4) === 0) rep.log(`${fmt(Math.min(n, from + BATCH - 1))} registered`);
    }
    await db.execute(sql`analyze output_fingerprints`);
    rep.log(`registered ${fmt(n)} fingerprints in ${((now() - started) / 1000).toFixed(1)} s`);
  });

  // Half the queries have a neighbour planted at 1..31 bits (bits spread over the chunks), half none.
  const asked: { value: string; planted?: { id: string; distance: number } }[] = [];
  await rep.phase(`${kind}.plant`, async () => {
    for (let i = 0; i < queries; i++) {
      const value = randomHash();
      if (i % 2 === 1) {
        asked.push({ value });
        continue;
      }
      const distance = 1 + Math.floor(random() * 31);
      const digits = value.split('').map((d) => Number.parseInt(d, 16));
      for (let k = 0; k < distance; k++) {
        const bit = (k % 16) * 16 + Math.floor(k / 16);
        digits[63 - (bit >> 2)]! ^= 1 << (bit & 3);
      }
      const id = `out_planted_${i}`;
      await addFingerprint(db, { outputId: id, algorithm: 'pdq', value: digits.map((d) => d.toString(16)).join(''), quality: 100 });
      asked.push({ value, planted: { id, distance } });
    }
    await db.execute(sql`analyze output_fingerprints`);
  });

  const plan = await queryRows<Record<string, string>>(
    db,
    sql.raw(
      `explain (analyze, costs off) select output_id from output_fingerprints where ${Array.from({ length: 16 }, (_, i) => `c${i} = ${Math.floor(random() * 65536)}`).join(' or ')}`,
    ),
  );
  rep.details[`${kind}.planOfChunkMatch`] = plan.map((r) => Object.values(r)[0]);

  let wrong = 0;
  const check = (q: (typeof asked)[number], threshold: number, found: FingerprintMatch[]) => {
    const expectPlanted = q.planted && q.planted.distance <= threshold;
    const hit = found.find((m) => m.outputId === q.planted?.id);
    if (expectPlanted ? hit?.distance !== q.planted!.distance : hit !== undefined) wrong++;
    for (const m of found) if (m.distance !== hammingDistance(q.value, m.value) || m.distance > threshold) wrong++;
  };

  for (const threshold of [15, 31]) {
    const samples = await rep.phase(`${kind}.lookup.index.t${threshold}`, async () => {
      const ms: number[] = [];
      let matches = 0;
      for (const q of asked) {
        const t0 = now();
        const found = await nearest(db, q.value, threshold);
        ms.push(now() - t0);
        matches += found.length;
        check(q, threshold, found);
      }
      rep.details[`${kind}.matchesAtThreshold${threshold}`] = matches;
      return distribution(ms);
    });
    rep.details[`${kind}.index.t${threshold}`] = samples;
    const scan = await rep.phase(`${kind}.lookup.scan.t${threshold}`, async () => {
      const ms: number[] = [];
      for (const q of asked.slice(0, scans)) {
        const t0 = now();
        const scanned = await nearestByScan(db, q.value, threshold);
        ms.push(now() - t0);
        const indexed = await nearest(db, q.value, threshold);
        if (JSON.stringify(scanned) !== JSON.stringify(indexed)) wrong++;
      }
      return distribution(ms);
    });
    rep.details[`${kind}.scan.t${threshold}`] = scan;
    rep.figure({
      id: `fingerprints.${kind}.lookup-p95.t${threshold}`,
      label: `${kind === 'postgres' ? 'PostgreSQL' : 'PGlite'}: nearest within ${threshold} bits at ${fmt(n)} fingerprints, p95 (p50 ${samples.p50.toFixed(1)} ms) over ${samples.count} lookups`,
      value: samples.p95,
      unit: 'ms',
      baseline: { label: `scan of every row, p95 (p50 ${scan.p50.toFixed(1)} ms) over ${scan.count}`, value: scan.p95, unit: 'ms' },
      ratio: scan.p95 / samples.p95,
      ratioMeaning: 'scan p95 / index p95',
      ...(n >= 1_000_000 ? { goal: '≤ 20 ms p95 at 1,000,000 (issue 20)', met: samples.p95 <= 20 } : {}),
    });
  }
  rep.details[`${kind}.wrongAnswers`] = wrong;
  if (wrong > 0) throw new Error(`${kind}: ${wrong} lookups disagreed with the planted neighbours or the scan`);
}
