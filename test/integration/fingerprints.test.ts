/**
 * The fingerprint index (src/fingerprints) on the database of this project run, PGlite or PostgreSQL:
 * what the chunk indexes find is exactly what a scan of every row finds, with exact distances, for the
 * thresholds they promise; rows are written once; a re-encoded image finds its original.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { queryRows } from '../../src/db/database.ts';
import { chunkRadius, MAX_THRESHOLD, neighbourhood } from '../../src/fingerprints/mih.ts';
import { addFingerprint, nearest, nearestByScan } from '../../src/fingerprints/store.ts';
import { fingerprintImage } from '../../src/media/fingerprint.ts';
import { hammingDistance } from '../../src/media/pdq.ts';
import { createTestDatabase, databaseUnavailable, type TestDatabase } from '../support/db.ts';

/** mulberry32, so the haystack and the planted neighbours are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(20);
const randomHash = () => Array.from({ length: 64 }, () => Math.floor(rand() * 16).toString(16)).join('');

/** `hash` with `n` distinct bits flipped, spread over the chunks the way the caller wants. */
function flip(hash: string, bits: number[]): string {
  const digits = hash.split('').map((d) => Number.parseInt(d, 16));
  for (const b of bits) {
    // Bit b lives in word b >> 4 (word 0 = the last four digits), bit b & 15 of it.
    const digit = 63 - (b >> 2);
    digits[digit] = digits[digit]! ^ (1 << (b & 3));
  }
  return digits.map((d) => d.toString(16)).join('');
}
/** n bits flipped, as evenly over the 16 chunks as n allows (the case the pigeonhole bound is tight for). */
const spread = (n: number) => Array.from({ length: n }, (_, k) => (k % 16) * 16 + Math.floor(k / 16));

describe.skipIf(databaseUnavailable())('the fingerprint index', () => {
  let t: TestDatabase;
  let db: Db;
  const query = randomHash();
  const planted = [0, 1, 5, 15, 16, 17, 31, 32, 40, 47, 48, 60].map((d) => ({ id: `out_near_${String(d).padStart(2, '0')}`, distance: d, value: flip(query, spread(d)) }));

  beforeAll(async () => {
    t = await createTestDatabase();
    db = t.database.db;
    for (const p of planted) await addFingerprint(db, { outputId: p.id, algorithm: 'pdq', value: p.value, quality: 100 });
    // A haystack of random hashes (about 128 bits from anything) and some sharing one chunk with the query.
    await db.transaction(async (tx) => {
      for (let i = 0; i < 400; i++) await addFingerprint(tx, { outputId: `out_rand_${i}`, algorithm: 'pdq', value: randomHash(), quality: 90 });
      for (let i = 0; i < 40; i++) {
        const r = randomHash();
        const w = i % 16; // chunk w (digits 60 - 4w .. 63 - 4w) copied from the query
        const value = r.slice(0, 60 - 4 * w) + query.slice(60 - 4 * w, 64 - 4 * w) + r.slice(64 - 4 * w);
        await addFingerprint(tx, { outputId: `out_chunk_${i}`, algorithm: 'pdq', value, quality: 90 });
      }
    });
    await db.execute(sql`analyze output_fingerprints`);
  });
  afterAll(async () => t?.drop());

  it('plants neighbours at the distances it says', () => {
    for (const p of planted) expect(hammingDistance(query, p.value)).toBe(p.distance);
  });

  for (const threshold of [0, 15, 16, 31, 32, 47]) {
    it(`finds every fingerprint within ${threshold} bits, with its exact distance, as a full scan does`, async () => {
      const found = await nearest(db, query, threshold, { limit: 1000 });
      const scanned = await nearestByScan(db, query, threshold, { limit: 1000 });
      expect(found).toEqual(scanned);
      const expected = planted.filter((p) => p.distance <= threshold).map((p) => [p.id, p.distance]);
      expect(found.map((m) => [m.outputId, m.distance])).toEqual(expected);
      for (const m of found) expect(m.distance).toBe(hammingDistance(query, m.value));
    });
  }

  it('agrees with the scan for queries that match nothing planted', async () => {
    for (let i = 0; i < 5; i++) {
      const q = randomHash();
      expect(await nearest(db, q, 31)).toEqual(await nearestByScan(db, q, 31));
    }
  });

  it('answers nearest first, at most the limit', async () => {
    const found = await nearest(db, query, 47, { limit: 3 });
    expect(found.map((m) => m.distance)).toEqual([0, 1, 5]);
  });

  it('has an index for every chunk that an OR of chunk matches can use', async () => {
    // At a few hundred rows a scan is cheaper and the planner rightly takes it; with scans priced out it
    // must show that each chunk condition has its index (the bench shows the plan at a million rows).
    const plan = await db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      const conditions = sql.join(
        Array.from({ length: 16 }, (_, i) => sql`${sql.raw(`c${i}`)} = any('{1,2}'::int[])`),
        sql` or `,
      );
      const rows = await queryRows<Record<string, string>>(tx, sql`explain select output_id from output_fingerprints where ${conditions}`);
      return rows.map((r) => Object.values(r)[0]).join('\n');
    });
    expect(plan).toMatch(/BitmapOr/);
    for (let i = 0; i < 16; i++) expect(plan).toContain(`output_fingerprints_c${i}_idx`);
  });

  it('keeps fingerprints as written: no update, delete or second copy', async () => {
    await expect(db.execute(sql`update output_fingerprints set quality = 1 where output_id = 'out_near_00'`)).rejects.toThrow();
    await expect(db.execute(sql`delete from output_fingerprints where output_id = 'out_near_00'`)).rejects.toThrow();
    await expect(addFingerprint(db, { outputId: 'out_near_00', algorithm: 'pdq', value: planted[0]!.value, quality: 100 })).rejects.toThrow();
    expect((await nearest(db, query, 0)).map((m) => m.outputId)).toEqual(['out_near_00']);
  });

  it('refuses a malformed hash, quality or threshold before asking the database', async () => {
    await expect(addFingerprint(db, { outputId: 'x', algorithm: 'pdq', value: 'nothex', quality: 1 })).rejects.toThrow(RangeError);
    await expect(addFingerprint(db, { outputId: 'x', algorithm: 'pdq', value: query, quality: 101 })).rejects.toThrow(RangeError);
    await expect(nearest(db, query, MAX_THRESHOLD + 1)).rejects.toThrow(RangeError);
    await expect(nearest(db, query, -1)).rejects.toThrow(RangeError);
    await expect(nearest(db, query.toUpperCase(), 10)).rejects.toThrow(RangeError);
  });

  it('finds an image from its JPEG re-encode at quality 60, and nothing for an unrelated image', async () => {
    const original = new Uint8Array(readFileSync(new URL('../fixtures/pdq/bridge-1-original.jpg', import.meta.url)));
    const fp = (await fingerprintImage(original))!;
    await addFingerprint(db, { outputId: 'out_bridge', algorithm: 'pdq', value: fp.value, quality: fp.quality });
    const reencoded = (await fingerprintImage(new Uint8Array(await sharp(original).resize(800).jpeg({ quality: 60 }).toBuffer())))!;
    const found = await nearest(db, reencoded.value, 31);
    expect(found.map((m) => m.outputId)).toEqual(['out_bridge']);
    expect(found[0]!.distance).toBe(hammingDistance(fp.value, reencoded.value));
    const other = (await fingerprintImage(new Uint8Array(readFileSync(new URL('../fixtures/pdq/q2821.jpg', import.meta.url)))))!;
    expect(await nearest(db, other.value, 31)).toEqual([]);
  });
});

describe('multi-index hashing', () => {
  it('widens the chunk neighbourhood as the threshold passes each multiple of 16', () => {
    expect([0, 15, 16, 31, 32, 47].map(chunkRadius)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(neighbourhood(0xabcd, 0)).toEqual([0xabcd]);
    expect(new Set(neighbourhood(0xabcd, 1)).size).toBe(17);
    expect(new Set(neighbourhood(0xabcd, 2)).size).toBe(137);
    expect(() => chunkRadius(48)).toThrow(RangeError);
    expect(() => chunkRadius(1.5)).toThrow(RangeError);
  });
});
