/**
 * A 64-bit DCT perceptual hash (the "pHash" of Zauner 2010, as its common implementations compute it), the
 * second fingerprint measured beside PDQ for soft binding (docs/benchmarks.md, "softbinding"). Pure.
 *
 * The luminance plane is averaged down to 32 x 32 (each output pixel the mean of the input area it covers),
 * the 8 x 8 lowest frequencies of its 2-D DCT-II are kept, and each is one bit: above the median of the 63
 * that are not the constant term. Averaging over large areas first is what makes it hold through resizes
 * and small crops that move PDQ's 64 x 64 grid: it sees only the coarsest layout of the picture.
 */
import { lumaFromPixels, type PdqPixels } from '../src/media/pdq.ts';

export const DCT_HASH_BITS = 64;
const N = 32;
const K = 8;

/** cos((2x + 1) u pi / 2N) for u < K, x < N: the DCT rows needed, computed once. */
const COS = (() => {
  const t = new Float64Array(K * N);
  for (let u = 0; u < K; u++) for (let x = 0; x < N; x++) t[u * N + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N));
  return t;
})();

/** The luminance plane averaged down to 32 x 32 by area (fractional edges weighted). */
function areaMean32(luma: Float32Array, width: number, height: number): Float64Array {
  const out = new Float64Array(N * N);
  if (width === 0 || height === 0) return out;
  const sx = width / N;
  const sy = height / N;
  for (let oy = 0; oy < N; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < N; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let sum = 0;
      let weight = 0;
      for (let y = Math.floor(y0); y < Math.min(height, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(width, Math.ceil(x1)); x++) {
          const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          sum += w * luma[y * width + x]!;
          weight += w;
        }
      }
      out[oy * N + ox] = weight > 0 ? sum / weight : 0;
    }
  }
  return out;
}

/** The hash of decoded pixels, as 16 lower-case hex digits (bit 63 first: coefficient (0, 0) is bit 63). */
export function dctHashFromPixels(p: PdqPixels): string {
  // Full resolution: PDQ's 512 x 512 nearest-neighbour step would alias what the area mean averages away.
  const { luma, width, height } = lumaFromPixels(p, { referenceDownsample: false });
  const small = areaMean32(luma, width, height);
  // Rows first (32 x 8), then columns (8 x 8).
  const rows = new Float64Array(N * K);
  for (let y = 0; y < N; y++)
    for (let u = 0; u < K; u++) {
      let s = 0;
      for (let x = 0; x < N; x++) s += small[y * N + x]! * COS[u * N + x]!;
      rows[y * K + u] = s;
    }
  const coeffs = new Float64Array(K * K);
  for (let v = 0; v < K; v++)
    for (let u = 0; u < K; u++) {
      let s = 0;
      for (let y = 0; y < N; y++) s += rows[y * K + u]! * COS[v * N + y]!;
      coeffs[v * K + u] = s;
    }
  const sorted = Array.from(coeffs.subarray(1)).sort((a, b) => a - b);
  const median = (sorted[31]! + sorted[30]!) / 2;
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let d = 0;
    for (let b = 0; b < 4; b++) d = (d << 1) | (coeffs[nibble * 4 + b]! > median ? 1 : 0);
    hex += d.toString(16);
  }
  return hex;
}

export function dctHashDistance(a: string, b: string): number {
  if (!/^[0-9a-f]{16}$/.test(a) || !/^[0-9a-f]{16}$/.test(b)) throw new RangeError('a DCT hash is 16 lower-case hex digits');
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let d = 0;
  while (x > 0n) {
    d += Number(x & 1n);
    x >>= 1n;
  }
  return d;
}
