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

/** The quantised levels: per cell, luma (0..8), Cb and Cr (0..4). Exported for tests. */
export function colourLayoutLevels(p: PdqPixels): number[] {
  const { width, height, channels, data } = p;
  if (width < 1 || height < 1) throw new RangeError('a colour layout needs at least one pixel');
  const sums = new Float64Array(GRID * GRID * 3);
  const counts = new Float64Array(GRID * GRID);
  const colour = channels >= 3;
  for (let y = 0; y < height; y++) {
    const row = Math.min(GRID - 1, Math.floor((y * GRID) / height)) * GRID;
    for (let x = 0; x < width; x++) {
      const cell = row + Math.min(GRID - 1, Math.floor((x * GRID) / width));
      const o = (y * width + x) * channels;
      const r = data[o]!;
      const g = colour ? data[o + 1]! : r;
      const b = colour ? data[o + 2]! : r;
      sums[cell * 3] = sums[cell * 3]! + 0.299 * r + 0.587 * g + 0.114 * b;
      sums[cell * 3 + 1] = sums[cell * 3 + 1]! - 0.168736 * r - 0.331264 * g + 0.5 * b;
      sums[cell * 3 + 2] = sums[cell * 3 + 2]! + 0.5 * r - 0.418688 * g - 0.081312 * b;
      counts[cell] = counts[cell]! + 1;
    }
  }
  const levels: number[] = [];
  for (let c = 0; c < GRID * GRID; c++) {
    const n = counts[c]! || 1;
    levels.push(Math.min(LUMA_BITS, Math.floor((sums[c * 3]! / n / 256) * (LUMA_BITS + 1))));
    for (const v of [sums[c * 3 + 1]! / n, sums[c * 3 + 2]! / n]) levels.push(Math.max(0, Math.min(CHROMA_BITS, Math.floor(v / CHROMA_STEP + (CHROMA_BITS + 1) / 2))));
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
