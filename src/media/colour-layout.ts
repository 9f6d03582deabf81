/**
 * A colour layout fingerprint: the picture cut into a 4 x 4 grid, each cell's mean luma and chroma
 * (BT.601 YCbCr) quantised, and the levels written as a thermometer code, so that the Hamming distance of
 * two layouts is the sum of their level differences. 256 bits, 64 hex digits, as PDQ's are. Pure.
 *
 * Why: PDQ thresholds its frequencies at their median, so it keeps a picture's structure and drops its
 * colours; on a smooth or flat picture (PDQ quality below 50) that structure is little more than noise and
 * flat pictures hash alike, or unstably (a gradient's PDQ moves 40-70 bits under a re-encode). The layout
 * keeps what such a picture is made of: which colours lie where. It is never a match on its own: for a
 * flat query, a PDQ candidate must also agree on the layout (outputs/verify.ts, docs/benchmarks.md). In
 * the spirit of MPEG-7's colour layout descriptor, not equal to it (no DCT of the grid; levels for Hamming).
 */
import type { PdqPixels } from './pdq.ts';

export const COLOUR_LAYOUT_ALGORITHM = 'colour-layout';
/** Cells across and down. */
const GRID = 4;
/** Luma levels above the first (9 levels, thermometer code of 8 bits): steps of 28.4 of 256. */
const LUMA_BITS = 8;
/** Chroma levels above the first (5 levels, 4 bits each), centred on neutral in steps of CHROMA_STEP. */
const CHROMA_BITS = 4;
const CHROMA_STEP = 20;
/** Bits per cell: luma, then Cb, then Cr. */
const CELL_BITS = LUMA_BITS + 2 * CHROMA_BITS;
export const COLOUR_LAYOUT_BITS = GRID * GRID * CELL_BITS;
/** The fewest rows and columns a picture is sampled on. */
const SAMPLED_SIDE = 256;

/** The quantised levels: per cell, luma (0..8), Cb and Cr (0..4). Exported for tests. */
export function colourLayoutLevels(p: PdqPixels): number[] {
  const { width, height, channels, data } = p;
  if (width < 1 || height < 1) throw new RangeError('a colour layout needs at least one pixel');
  // Sums of R, G and B per cell; YCbCr is linear, so the means convert after (three additions a pixel).
  const sums = new Float64Array(GRID * GRID * 3);
  const counts = new Float64Array(GRID * GRID);
  const columnCell = new Int32Array(width);
  for (let x = 0; x < width; x++) columnCell[x] = Math.min(GRID - 1, Math.floor((x * GRID) / width));
  const colour = channels >= 3;
  // A large picture is sampled on a lattice of every `step`-th row and column (at least 256 of each): a
  // cell's mean over thousands of pixels moves by a fraction of a level, and the pass costs a fraction.
  const step = Math.max(1, Math.floor(Math.min(width, height) / SAMPLED_SIDE));
  for (let y = 0; y < height; y += step) {
    const row = Math.min(GRID - 1, Math.floor((y * GRID) / height)) * GRID;
    let o = y * width * channels;
    for (let x = 0; x < width; x += step, o += step * channels) {
      const cell = row + columnCell[x]!;
      const r = data[o]!;
      const k = cell * 3;
      sums[k] = sums[k]! + r;
      sums[k + 1] = sums[k + 1]! + (colour ? data[o + 1]! : r);
      sums[k + 2] = sums[k + 2]! + (colour ? data[o + 2]! : r);
    }
  }
  // A cell's pixels: its rows times its columns.
  const rowsOf = new Float64Array(GRID);
  for (let y = 0; y < height; y += step) {
    const cy = Math.min(GRID - 1, Math.floor((y * GRID) / height));
    rowsOf[cy] = rowsOf[cy]! + 1;
  }
  const colsOf = new Float64Array(GRID);
  for (let x = 0; x < width; x += step) colsOf[columnCell[x]!] = colsOf[columnCell[x]!]! + 1;
  for (let cy = 0; cy < GRID; cy++) for (let cx = 0; cx < GRID; cx++) counts[cy * GRID + cx] = rowsOf[cy]! * colsOf[cx]!;
  const levels: number[] = [];
  for (let c = 0; c < GRID * GRID; c++) {
    const n = counts[c]! || 1;
    const [r, g, b] = [sums[c * 3]! / n, sums[c * 3 + 1]! / n, sums[c * 3 + 2]! / n];
    const luma = 0.299 * r + 0.587 * g + 0.114 * b;
    const cb = -0.168736 * r - 0.331264 * g + 0.5 * b;
    const cr = 0.5 * r - 0.418688 * g - 0.081312 * b;
    levels.push(Math.min(LUMA_BITS, Math.floor((luma / 256) * (LUMA_BITS + 1))));
    for (const v of [cb, cr]) levels.push(Math.max(0, Math.min(CHROMA_BITS, Math.floor(v / CHROMA_STEP + (CHROMA_BITS + 1) / 2))));
  }
  return levels;
}

/** The layout as 64 hex digits: each level as that many ones in its field (luma 8 bits, Cb 4, Cr 4), cell by cell. */
export function colourLayoutFromPixels(p: PdqPixels): string {
  const levels = colourLayoutLevels(p);
  let bits = '';
  for (let i = 0; i < levels.length; i++) {
    const width = i % 3 === 0 ? LUMA_BITS : CHROMA_BITS;
    bits += '1'.repeat(levels[i]!).padEnd(width, '0');
  }
  let hex = '';
  for (let i = 0; i < bits.length; i += 4) hex += Number.parseInt(bits.slice(i, i + 4), 2).toString(16);
  return hex;
}
