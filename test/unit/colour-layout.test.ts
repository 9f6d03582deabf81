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

describe('colour layout of a large picture', () => {
  it('samples a lattice and comes within a level of every pixel’s means', () => {
    // A 1200 x 900 picture of smooth colour and fine grain: each cell's means as if every pixel were read.
    const width = 1200;
    const height = 900;
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 3;
        const grain = ((x * 7919 + y * 104729) % 61) - 30;
        data[o] = Math.max(0, Math.min(255, Math.round((x / width) * 255 + grain)));
        data[o + 1] = Math.max(0, Math.min(255, Math.round((y / height) * 255 - grain)));
        data[o + 2] = 128;
      }
    const sampled = colourLayoutLevels({ width, height, channels: 3, data });
    // Every pixel read: the same picture as 300 x 225 blocks of 4 x 4 would not be it, so compare with a direct sum.
    const grid = 4;
    const exact: number[] = [];
    for (let cy = 0; cy < grid; cy++)
      for (let cx = 0; cx < grid; cx++) {
        let [r, g, b, n] = [0, 0, 0, 0];
        for (let y = (cy * height) / grid; y < ((cy + 1) * height) / grid; y++)
          for (let x = (cx * width) / grid; x < ((cx + 1) * width) / grid; x++) {
            const o = (y * width + x) * 3;
            r += data[o]!;
            g += data[o + 1]!;
            b += data[o + 2]!;
            n++;
          }
        [r, g, b] = [r / n, g / n, b / n];
        exact.push(
          Math.min(8, Math.floor(((0.299 * r + 0.587 * g + 0.114 * b) / 256) * 9)),
          ...[-0.168736 * r - 0.331264 * g + 0.5 * b, 0.5 * r - 0.418688 * g - 0.081312 * b].map((v) => Math.max(0, Math.min(4, Math.floor(v / 20 + 2.5)))),
        );
      }
    const apart = sampled.reduce((s, v, i) => s + Math.abs(v - exact[i]!), 0);
    expect(apart).toBeLessThanOrEqual(2);
  });
});
