/**
 * PDQ, Meta's 256-bit perceptual image hash, as its reference implementation computes it
 * (facebook/ThreatExchange, pdq/; the algorithm is described in hashing/hashing.pdf there). Pure: pixels in,
 * hash and quality out.
 *
 *   0. (the reference tool) an image larger than 512 px on a side is resized to 512 x 512, nearest neighbour;
 *   1. luminance Y = 0.299 R + 0.587 G + 0.114 B (grey pixels are taken as they are);
 *   2. two passes of a Jarosz tent filter (a box filter along rows then along columns, each window a
 *      128th of the side, rounded up), then decimation to 64 x 64 at the centres of the cells;
 *   3. the quality: the sum of the significant gradients of that 64 x 64 image, scaled, capped at 100;
 *   4. the 2D DCT of the 64 x 64 image, keeping coefficients 1..16 in each direction (not the DC);
 *   5. one bit per coefficient: set when above the median of the 256 (Torben's median).
 *
 * The reference computes in 32-bit floats; every step here rounds to float32 (`Math.fround`, Float32Array)
 * in the same order, so the same pixels give the same bits, not merely close ones.
 *
 * Bit k = 16 i + j is coefficient (i, j); the hex form is the sixteen 16-bit words, word 15 first, as the
 * reference prints it.
 */

const f = Math.fround;

const LUMA_R = f(0.299);
const LUMA_G = f(0.587);
const LUMA_B = f(0.114);
/** Smaller images get the all-zero hash and quality 0, as in the reference. */
const MIN_HASHABLE_DIM = 5;
const JAROSZ_PASSES = 2;

export const PDQ_HEX_LENGTH = 64;

export type PdqResult = {
  /** 256 bits as 64 lower-case hex digits, in the reference's order. */
  hash: string;
  /** 0..100; Meta suggests discarding hashes of quality below 50 as featureless. */
  quality: number;
};

/** Interleaved 8-bit pixels: 1 channel grey, 2 grey + alpha, 3 RGB, 4 RGBA (alpha is ignored). */
export type PdqPixels = {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
};

/**
 * The reference tool's intermediate size: a larger image is first resized to 512 x 512 by nearest neighbour
 * (it does so because the tent filter is costly on large images), pixel (x, y) taken from
 * (floor(x w / 512), floor(y h / 512)). Hashes of large images depend on it by a few bits.
 */
export const PDQ_DOWNSAMPLE_DIMS = 512;

export type PdqOptions = {
  /** Resize a larger image to 512 x 512 first, as the reference tool does (default true). */
  referenceDownsample?: boolean;
};

/**
 * The luminance plane the reference hashes, row-major, with its size: after the reference tool's
 * 512 x 512 nearest-neighbour step when the image is larger (only the sampled pixels are read).
 */
export function lumaFromPixels(p: PdqPixels, opts: PdqOptions = {}): { luma: Float32Array; width: number; height: number } {
  const { width, height, channels: c, data } = p;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) throw new RangeError('width and height must be whole numbers');
  if (c !== 1 && c !== 2 && c !== 3 && c !== 4) throw new RangeError('channels must be 1, 2, 3 or 4');
  if (data.length < width * height * c) throw new RangeError(`expected ${width * height * c} bytes of pixels, got ${data.length}`);
  const shrink = (opts.referenceDownsample ?? true) && (width > PDQ_DOWNSAMPLE_DIMS || height > PDQ_DOWNSAMPLE_DIMS);
  const outW = shrink ? PDQ_DOWNSAMPLE_DIMS : width;
  const outH = shrink ? PDQ_DOWNSAMPLE_DIMS : height;
  const cols = new Int32Array(outW);
  for (let x = 0; x < outW; x++) cols[x] = shrink ? Math.floor((x * width) / outW) : x;
  const luma = new Float32Array(outW * outH);
  for (let y = 0, k = 0; y < outH; y++) {
    const row = (shrink ? Math.floor((y * height) / outH) : y) * width;
    for (let x = 0; x < outW; x++, k++) {
      const o = (row + cols[x]!) * c;
      luma[k] = c <= 2 ? data[o]! : f(f(f(LUMA_R * data[o]!) + f(LUMA_G * data[o + 1]!)) + f(LUMA_B * data[o + 2]!));
    }
  }
  return { luma, width: outW, height: outH };
}

export function pdqFromPixels(p: PdqPixels, opts: PdqOptions = {}): PdqResult {
  const { luma, width, height } = lumaFromPixels(p, opts);
  return pdqFromLuma(luma, width, height);
}

/** Hashes a luminance plane (row-major, width x height). The plane is used as scratch space. */
export function pdqFromLuma(luma: Float32Array, width: number, height: number): PdqResult {
  if (luma.length < width * height) throw new RangeError('the luminance plane is smaller than width x height');
  if (width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM) return { hash: '0'.repeat(PDQ_HEX_LENGTH), quality: 0 };
  const small = downsample64(luma, width, height);
  const quality = qualityOf(small);
  const dct = dct64To16(small);
  return { hash: bitsToHex(dct), quality };
}

// ---- downsampling --------------------------------------------------------------------------------------

function downsample64(luma: Float32Array, width: number, height: number): Float32Array {
  const out = new Float32Array(64 * 64);
  if (width === 64 && height === 64) {
    out.set(luma.subarray(0, 64 * 64));
    return out;
  }
  const windowAlongRows = jaroszWindow(width, 64);
  const windowAlongCols = jaroszWindow(height, 64);
  const scratch = new Float32Array(width * height);
  const sums = new Float32Array(Math.max(width, 64));
  // Sample at the centres of the 64 x 64 cells, not their corners.
  const sampledRows = new Int32Array(64);
  const sampledCols = new Int32Array(64);
  for (let o = 0; o < 64; o++) {
    sampledRows[o] = Math.trunc(((o + 0.5) * height) / 64);
    sampledCols[o] = Math.trunc(((o + 0.5) * width) / 64);
  }
  for (let pass = 0; pass < JAROSZ_PASSES; pass++) {
    boxRows(luma, scratch, width, height, windowAlongRows);
    if (pass < JAROSZ_PASSES - 1) boxColumns(scratch, luma, width, height, windowAlongCols, sums);
    else boxColumnsSampled(scratch, out, width, height, windowAlongCols, sums, sampledRows, sampledCols);
  }
  return out;
}

/** Half a 64th of the side per pass (two passes cover the whole cell), rounded up. */
function jaroszWindow(oldDim: number, newDim: number): number {
  return Math.trunc((oldDim + 2 * newDim - 1) / (2 * newDim));
}

/** The four phases of the reference's moving average over `length` samples with window `fullWindow`. */
function phases(length: number, fullWindow: number): [number, number, number, number] {
  const half = Math.trunc((fullWindow + 2) / 2);
  return [half - 1, fullWindow - half + 1, length - fullWindow, half - 1];
}

/**
 * A moving average centred on each sample; near the ends the window is cut short and the average is over
 * what is inside (the reference's four phases: fill, grow, slide, shrink).
 */
function box1d(input: Float32Array, output: Float32Array, start: number, length: number, stride: number, fullWindow: number): void {
  const [phase1, phase2, phase3, phase4] = phases(length, fullWindow);
  let li = start;
  let ri = start;
  let oi = start;
  let sum = 0;
  let size = 0;
  for (let i = 0; i < phase1; i++) {
    sum = f(sum + input[ri]!);
    size++;
    ri += stride;
  }
  for (let i = 0; i < phase2; i++) {
    sum = f(sum + input[ri]!);
    size++;
    output[oi] = sum / size;
    ri += stride;
    oi += stride;
  }
  for (let i = 0; i < phase3; i++) {
    sum = f(sum + input[ri]!);
    sum = f(sum - input[li]!);
    output[oi] = sum / size;
    li += stride;
    ri += stride;
    oi += stride;
  }
  for (let i = 0; i < phase4; i++) {
    sum = f(sum - input[li]!);
    size--;
    output[oi] = sum / size;
    li += stride;
    oi += stride;
  }
}

/**
 * `box1d` along every row, four rows at a time: each row's sum takes the same additions in the same order
 * as alone (the same bits), but four independent sums keep the processor busy where one would wait on
 * the last addition.
 */
function boxRows(input: Float32Array, output: Float32Array, width: number, height: number, fullWindow: number): void {
  const [phase1, phase2, phase3, phase4] = phases(width, fullWindow);
  let row = 0;
  for (; row + 4 <= height; row += 4) {
    const a = row * width;
    const b = a + width;
    const c = b + width;
    const d = c + width;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let size = 0;
    let ri = 0;
    let li = 0;
    let oi = 0;
    for (let i = 0; i < phase1; i++, ri++) {
      s0 = f(s0 + input[a + ri]!);
      s1 = f(s1 + input[b + ri]!);
      s2 = f(s2 + input[c + ri]!);
      s3 = f(s3 + input[d + ri]!);
      size++;
    }
    for (let i = 0; i < phase2; i++, ri++, oi++) {
      s0 = f(s0 + input[a + ri]!);
      s1 = f(s1 + input[b + ri]!);
      s2 = f(s2 + input[c + ri]!);
      s3 = f(s3 + input[d + ri]!);
      size++;
      output[a + oi] = s0 / size;
      output[b + oi] = s1 / size;
      output[c + oi] = s2 / size;
      output[d + oi] = s3 / size;
    }
    for (let i = 0; i < phase3; i++, ri++, li++, oi++) {
      s0 = f(f(s0 + input[a + ri]!) - input[a + li]!);
      s1 = f(f(s1 + input[b + ri]!) - input[b + li]!);
      s2 = f(f(s2 + input[c + ri]!) - input[c + li]!);
      s3 = f(f(s3 + input[d + ri]!) - input[d + li]!);
      output[a + oi] = s0 / size;
      output[b + oi] = s1 / size;
      output[c + oi] = s2 / size;
      output[d + oi] = s3 / size;
    }
    for (let i = 0; i < phase4; i++, li++, oi++) {
      s0 = f(s0 - input[a + li]!);
      s1 = f(s1 - input[b + li]!);
      s2 = f(s2 - input[c + li]!);
      s3 = f(s3 - input[d + li]!);
      size--;
      output[a + oi] = s0 / size;
      output[b + oi] = s1 / size;
      output[c + oi] = s2 / size;
      output[d + oi] = s3 / size;
    }
  }
  for (; row < height; row++) box1d(input, output, row * width, width, 1, fullWindow);
}

/**
 * `box1d` down every column at once, a row at a time: each column's sum (a float32 in `sums`) takes the
 * same additions in the same order as the column walked alone, so the bits are the same, but the plane is
 * read along its rows, as it lies in memory.
 */
function boxColumns(input: Float32Array, output: Float32Array, width: number, height: number, fullWindow: number, sums: Float32Array): void {
  const [phase1, phase2, phase3, phase4] = phases(height, fullWindow);
  sums.fill(0, 0, width);
  let size = 0;
  let ri = 0;
  let li = 0;
  let oi = 0;
  for (let i = 0; i < phase1; i++, ri += width) {
    for (let j = 0; j < width; j++) sums[j] = sums[j]! + input[ri + j]!;
    size++;
  }
  for (let i = 0; i < phase2; i++, ri += width, oi += width) {
    size++;
    for (let j = 0; j < width; j++) {
      const s = f(sums[j]! + input[ri + j]!);
      sums[j] = s;
      output[oi + j] = s / size;
    }
  }
  for (let i = 0; i < phase3; i++, ri += width, li += width, oi += width) {
    for (let j = 0; j < width; j++) {
      const s = f(f(sums[j]! + input[ri + j]!) - input[li + j]!);
      sums[j] = s;
      output[oi + j] = s / size;
    }
  }
  for (let i = 0; i < phase4; i++, li += width, oi += width) {
    size--;
    for (let j = 0; j < width; j++) {
      const s = f(sums[j]! - input[li + j]!);
      sums[j] = s;
      output[oi + j] = s / size;
    }
  }
}

/**
 * The last column pass, for the cells' centres only: the same sums as `boxColumns` for the sampled
 * columns, kept at the sampled rows, straight into the 64 x 64 result (nothing else of that pass is read).
 */
function boxColumnsSampled(
  input: Float32Array,
  out: Float32Array,
  width: number,
  height: number,
  fullWindow: number,
  sums: Float32Array,
  rows: Int32Array,
  cols: Int32Array,
): void {
  const [phase1, phase2, phase3, phase4] = phases(height, fullWindow);
  sums.fill(0, 0, 64);
  let size = 0;
  let ri = 0;
  let li = 0;
  let oi = 0;
  // The next sampled row (they ascend, and repeat when the image has fewer than 64 rows).
  let next = 0;
  const keep = () => {
    while (next < 64 && rows[next] === oi) {
      for (let k = 0; k < 64; k++) out[next * 64 + k] = sums[k]! / size;
      next++;
    }
    oi++;
  };
  for (let i = 0; i < phase1; i++, ri += width) {
    for (let k = 0; k < 64; k++) sums[k] = sums[k]! + input[ri + cols[k]!]!;
    size++;
  }
  for (let i = 0; i < phase2; i++, ri += width) {
    for (let k = 0; k < 64; k++) sums[k] = sums[k]! + input[ri + cols[k]!]!;
    size++;
    keep();
  }
  for (let i = 0; i < phase3; i++, ri += width, li += width) {
    for (let k = 0; k < 64; k++) sums[k] = f(sums[k]! + input[ri + cols[k]!]!) - input[li + cols[k]!]!;
    keep();
  }
  for (let i = 0; i < phase4; i++, li += width) {
    for (let k = 0; k < 64; k++) sums[k] = sums[k]! - input[li + cols[k]!]!;
    size--;
    keep();
  }
}

// ---- quality -------------------------------------------------------------------------------------------

/** Counts significant gradients only: each difference is quantised (in percent of full scale) before summing. */
function qualityOf(a: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) sum += Math.abs(Math.trunc(f(f(f(a[i * 64 + j]! - a[(i + 1) * 64 + j]!) * 100) / 255)));
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) sum += Math.abs(Math.trunc(f(f(f(a[i * 64 + j]! - a[i * 64 + j + 1]!) * 100) / 255)));
  }
  return Math.min(100, Math.trunc(sum / 90));
}

// ---- DCT -----------------------------------------------------------------------------------------------

/** Rows 1..16 of the 64-point DCT-II matrix (row 0, the DC, is skipped), float32 as the reference stores it. */
const DCT = (() => {
  const m = new Float32Array(16 * 64);
  const scale = f(Math.sqrt(2 / 64));
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) m[i * 64 + j] = scale * Math.cos((Math.PI / 2 / 64) * (i + 1) * (2 * j + 1));
  }
  return m;
})();

/** B = D A Dᵀ, through T = D A, summing in the reference's order. */
function dct64To16(a: Float32Array): Float32Array {
  const t = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let s = 0;
      for (let k = 0; k < 64; k++) s = f(s + f(DCT[i * 64 + k]! * a[k * 64 + j]!));
      t[i * 64 + j] = s;
    }
  }
  const b = new Float32Array(16 * 16);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let s = 0;
      for (let k = 0; k < 64; k++) s = f(s + f(t[i * 64 + k]! * DCT[j * 64 + k]!));
      b[i * 16 + j] = s;
    }
  }
  return b;
}

// ---- bits ----------------------------------------------------------------------------------------------

/** Torben Mogensen's median (no sorting, no copy), which for an even count returns the lower middle value. */
function torbenMedian(m: Float32Array): number {
  const n = m.length;
  let min = m[0]!;
  let max = m[0]!;
  for (let i = 1; i < n; i++) {
    if (m[i]! < min) min = m[i]!;
    if (m[i]! > max) max = m[i]!;
  }
  const half = Math.trunc((n + 1) / 2);
  for (;;) {
    const guess = f((min + max) / 2);
    let less = 0;
    let greater = 0;
    let equal = 0;
    let maxLtGuess = min;
    let minGtGuess = max;
    for (let i = 0; i < n; i++) {
      const v = m[i]!;
      if (v < guess) {
        less++;
        if (v > maxLtGuess) maxLtGuess = v;
      } else if (v > guess) {
        greater++;
        if (v < minGtGuess) minGtGuess = v;
      } else equal++;
    }
    if (less <= half && greater <= half) {
      if (less >= half) return maxLtGuess;
      if (less + equal >= half) return guess;
      return minGtGuess;
    }
    if (less > greater) max = maxLtGuess;
    else min = minGtGuess;
  }
}

function bitsToHex(dct: Float32Array): string {
  const median = torbenMedian(dct);
  let hex = '';
  for (let word = 15; word >= 0; word--) {
    let w = 0;
    for (let j = 0; j < 16; j++) if (dct[word * 16 + j]! > median) w |= 1 << j;
    hex += w.toString(16).padStart(4, '0');
  }
  return hex;
}

// ---- distance ------------------------------------------------------------------------------------------

const HEX = /^[0-9a-f]{64}$/;

export function isPdqHex(s: string): boolean {
  return HEX.test(s);
}

/** The hash as its sixteen 16-bit words, word 0 (coefficient row 0) first: the chunks an index cuts it into. */
export function pdqWords(hash: string): number[] {
  if (!HEX.test(hash)) throw new RangeError('a PDQ hash is 64 lower-case hex digits');
  const words: number[] = [];
  for (let w = 0; w < 16; w++) words.push(Number.parseInt(hash.slice(60 - 4 * w, 64 - 4 * w), 16));
  return words;
}

function popcount16(x: number): number {
  x -= (x >>> 1) & 0x5555;
  x = (x & 0x3333) + ((x >>> 2) & 0x3333);
  x = (x + (x >>> 4)) & 0x0f0f;
  return (x + (x >>> 8)) & 0x1f;
}

/** The number of bits in which two 256-bit hashes differ (0..256). */
export function hammingDistance(a: string, b: string): number {
  const wa = pdqWords(a);
  const wb = pdqWords(b);
  let d = 0;
  for (let i = 0; i < 16; i++) d += popcount16(wa[i]! ^ wb[i]!);
  return d;
}
