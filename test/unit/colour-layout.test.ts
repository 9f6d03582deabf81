import { describe, expect, it } from 'vitest';
import { COLOUR_LAYOUT_BITS, colourLayoutFromPixels, colourLayoutLevels } from '../../src/media/colour-layout.ts';
import { hammingDistance } from '../../src/media/pdq.ts';

const plain = (width: number, height: number, rgb: [number, number, number]) => {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, channels: 3 as const, data };
};

describe('colour layout fingerprint', () => {
  it('is 256 bits, as 64 hex digits, whose Hamming distance is the sum of the level differences', () => {
    expect(COLOUR_LAYOUT_BITS).toBe(256);
    const black = colourLayoutFromPixels(plain(40, 30, [0, 0, 0]));
    const white = colourLayoutFromPixels(plain(40, 30, [255, 255, 255]));
    expect(black).toMatch(/^[0-9a-f]{64}$/);
    // Luma 0 → level 0, 255 → level 8, on each of 16 cells; chroma neutral in both.
    expect(hammingDistance(black, white)).toBe(16 * 8);
    const a = colourLayoutLevels(plain(40, 30, [0, 0, 0]));
    const b = colourLayoutLevels(plain(40, 30, [255, 255, 255]));
    expect(a.reduce((s, x, i) => s + Math.abs(x - b[i]!), 0)).toBe(hammingDistance(black, white));
  });

  it('keeps colour, which PDQ does not: a red field and a blue one of equal luma differ in chroma', () => {
    // BT.601 luma of (255,0,0) is 76.2; of (0,0,255) 29.1, so pick blue brighter to level the luma.
    const red = colourLayoutLevels(plain(32, 32, [200, 0, 0]));
    const blue = colourLayoutLevels(plain(32, 32, [0, 60, 255]));
    expect(red[0]).toBe(blue[0]); // same luma level
    expect(red[2]).toBeGreaterThan(blue[2]!); // Cr
    expect(red[1]).toBeLessThan(blue[1]!); // Cb
  });

  it('reads a grey image as neutral chroma, and moves by one level at most for a one-step brightness change', () => {
    const grey = { width: 16, height: 16, channels: 1 as const, data: new Uint8Array(256).fill(128) };
    expect(colourLayoutLevels(grey).filter((_, i) => i % 3 !== 0)).toEqual(new Array(32).fill(2));
    const x = colourLayoutFromPixels(plain(20, 20, [120, 130, 140]));
    const y = colourLayoutFromPixels(plain(20, 20, [121, 131, 141]));
    expect(hammingDistance(x, y)).toBeLessThanOrEqual(16);
  });

  it('refuses an empty picture', () => {
    expect(() => colourLayoutLevels({ width: 0, height: 0, channels: 3, data: new Uint8Array(0) })).toThrow(RangeError);
  });
});
