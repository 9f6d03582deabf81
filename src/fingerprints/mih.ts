/**
 * Multi-index hashing over 256-bit hashes cut into sixteen 16-bit chunks (Norouzi, Punjani, Fleet 2012;
 * Meta's PDQ index does the same). Pure.
 *
 * If two hashes differ in at most t bits, some chunk differs in at most r = floor(t / 16) bits: sixteen
 * chunks each differing in r + 1 or more would make 16 (r + 1) > t. So every match within t is found among
 * the rows whose chunk i is within r bits of the query's chunk i, for some i: exact chunk equality for
 * t < 16, the 17 values within one bit for t < 32 (Meta's suggested threshold is 31), 137 within two for t < 48.
 */
export const CHUNKS = 16;
export const CHUNK_BITS = 16;
/** Above this the neighbourhoods grow past a few thousand values and a scan is as good. */
export const MAX_THRESHOLD = 47;

/** The chunk radius that keeps every match within `threshold` among the candidates. */
export function chunkRadius(threshold: number): number {
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > MAX_THRESHOLD) throw new RangeError(`threshold must be a whole number of bits from 0 to ${MAX_THRESHOLD}`);
  return Math.floor(threshold / CHUNKS);
}

/** Every 16-bit value within `radius` bits of `chunk`, `chunk` itself first. */
export function neighbourhood(chunk: number, radius: number): number[] {
  const out = [chunk];
  if (radius >= 1) for (let a = 0; a < CHUNK_BITS; a++) out.push(chunk ^ (1 << a));
  if (radius >= 2) for (let a = 0; a < CHUNK_BITS; a++) for (let b = a + 1; b < CHUNK_BITS; b++) out.push(chunk ^ (1 << a) ^ (1 << b));
  if (radius >= 3) throw new RangeError('chunk radius above 2 is not supported');
  return out;
}
