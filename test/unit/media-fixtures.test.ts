/**
 * The media fixtures are real files: JPEG decodes with jpeg-js, PNG chunks
 * carry valid CRCs and inflate to the declared raster, and the MP4's sample
 * tables point at H.264 access units whose SPS/slice syntax parses back to the
 * samples we wrote. (The MP4 was also checked with ffprobe/ffmpeg by hand:
 * h264 Constrained Baseline, yuv420p, decodes without errors.)
 */
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';

import { crc32, jpegScanDataRange, listBoxes, makeJpeg, makeMp4, makePng, PNG_SIGNATURE, tamperImageData } from '../fixtures/media.ts';

const u32 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off);
const u16 = (b: Uint8Array, off: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint16(off);

/** Exp-Golomb bit reader over an RBSP (emulation-prevention bytes removed). */
class BitReader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bytes[this.pos >> 3];
      if (byte === undefined) throw new Error('read past end');
      v = v * 2 + ((byte >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) zeros++;
    return 2 ** zeros - 1 + this.u(zeros);
  }
  se(): number {
    const k = this.ue();
    return k % 2 ? (k + 1) / 2 : k === 0 ? 0 : -k / 2;
  }
  align(): void {
    while (this.pos & 7) if (this.u(1) !== 0) throw new Error('non-zero alignment bit');
  }
  byteOffset(): number {
    return this.pos >> 3;
  }
}

function unescapeRbsp(nal: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 1; i < nal.length; i++) {
    if (i >= 3 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0 && (nal[i + 1] ?? 0) <= 3) continue;
    out.push(nal[i] as number);
  }
  return Uint8Array.from(out);
}

function findBox(bytes: Uint8Array, path: string[]): { start: number; end: number } {
  let start = 0;
  let end = bytes.length;
  for (const type of path) {
    const box = listBoxes(bytes, start, end).find((b) => b.type === type);
    if (!box) throw new Error(`no ${type}`);
    start = box.offset + box.headerSize;
    end = box.offset + box.size;
  }
  return { start, end };
}

describe('makeJpeg', () => {
  it('produces a baseline JPEG that decodes to the requested size with a gradient', () => {
    const bytes = makeJpeg({ width: 80, height: 40 });
    expect([bytes[0], bytes[1], bytes[bytes.length - 2], bytes[bytes.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    const img = jpeg.decode(bytes, { useTArray: true });
    expect([img.width, img.height]).toEqual([80, 40]);
    const red = (x: number, y: number) => img.data[(y * 80 + x) * 4] as number;
    expect(red(79, 20)).toBeGreaterThan(red(0, 20) + 150); // red ramps left → right
    const range = jpegScanDataRange(bytes);
    expect(range.start).toBeGreaterThan(100);
    expect(range.end).toBe(bytes.length - 2);
  });

  it('is deterministic per seed and honours targetBytes approximately', () => {
    expect(Buffer.from(makeJpeg({ seed: 3, noise: true })).equals(Buffer.from(makeJpeg({ seed: 3, noise: true })))).toBe(true);
    expect(Buffer.from(makeJpeg({ seed: 3, noise: true })).equals(Buffer.from(makeJpeg({ seed: 4, noise: true })))).toBe(false);
    const big = makeJpeg({ targetBytes: 1_000_000 });
    expect(big.length).toBeGreaterThan(800_000);
    expect(big.length).toBeLessThan(1_250_000);
    const img = jpeg.decode(big, { useTArray: true, maxMemoryUsageInMB: 1024 });
    expect(img.width * img.height).toBeGreaterThan(100_000);
  });
});

describe('makePng', () => {
  it('writes signature, IHDR/IDAT/IEND with valid CRCs and a raster that inflates correctly', () => {
    const bytes = makePng({ width: 33, height: 17 });
    expect([...bytes.subarray(0, 8)]).toEqual([...PNG_SIGNATURE]);
    const chunks: Array<{ type: string; data: Uint8Array }> = [];
    let off = 8;
    while (off < bytes.length) {
      const len = u32(bytes, off);
      const type = String.fromCharCode(...bytes.subarray(off + 4, off + 8));
      expect(u32(bytes, off + 8 + len), `CRC of ${type}`).toBe(crc32(bytes, off + 4, off + 8 + len));
      chunks.push({ type, data: bytes.subarray(off + 8, off + 8 + len) });
      off += 12 + len;
    }
    expect(off).toBe(bytes.length);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = chunks[0]?.data as Uint8Array;
    expect([u32(ihdr, 0), u32(ihdr, 4), ihdr[8], ihdr[9], ihdr[12]]).toEqual([33, 17, 8, 2, 0]);
    const raw = inflateSync(chunks[1]?.data as Uint8Array);
    expect(raw.length).toBe((33 * 3 + 1) * 17);
    for (let y = 0; y < 17; y++) expect(raw[y * (33 * 3 + 1)]).toBe(0); // filter None
    expect(raw[1]).toBe(0); // R at x=0
    expect(raw[1 + 32 * 3]).toBe(255); // R at x=width-1
  });

  it('CRC-32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('honours targetBytes approximately', () => {
    const big = makePng({ targetBytes: 1_000_000 });
    expect(big.length).toBeGreaterThan(850_000);
    expect(big.length).toBeLessThan(1_150_000);
  });
});

describe('makeMp4', () => {
  it('is an ISO BMFF file with ftyp, moov and mdat, and consistent sample tables', () => {
    const bytes = makeMp4({ width: 48, height: 32, frames: 4, fps: 8 });
    expect(listBoxes(bytes).map((b) => b.type)).toEqual(['ftyp', 'moov', 'mdat']);
    expect(String.fromCharCode(...bytes.subarray(8, 12))).toBe('isom');

    const stbl = ['moov', 'trak', 'mdia', 'minf', 'stbl'];
    const stblBox = findBox(bytes, stbl);
    expect(listBoxes(bytes, stblBox.start, stblBox.end).map((b) => b.type)).toEqual(['stsd', 'stts', 'stsc', 'stsz', 'stco']);

    const hdlr = findBox(bytes, ['moov', 'trak', 'mdia', 'hdlr']);
    expect(String.fromCharCode(...bytes.subarray(hdlr.start + 8, hdlr.start + 12))).toBe('vide');
    const mdhd = findBox(bytes, ['moov', 'trak', 'mdia', 'mdhd']);
    expect(u32(bytes, mdhd.start + 12)).toBe(8000); // timescale
    expect(u32(bytes, mdhd.start + 16)).toBe(4000); // 4 frames × 1000

    const stsz = findBox(bytes, [...stbl, 'stsz']);
    expect(u32(bytes, stsz.start + 8)).toBe(4);
    const sizes = [0, 1, 2, 3].map((i) => u32(bytes, stsz.start + 12 + 4 * i));
    const stco = findBox(bytes, [...stbl, 'stco']);
    const chunkOffset = u32(bytes, stco.start + 8);
    const mdat = listBoxes(bytes).find((b) => b.type === 'mdat');
    expect(chunkOffset).toBe((mdat?.offset ?? 0) + 8);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe((mdat?.size ?? 0) - 8);

    // avc1 sample entry with avcC: profile 66, level 30, 4-byte NAL lengths, 1 SPS + 1 PPS.
    const stsd = findBox(bytes, [...stbl, 'stsd']);
    const avc1 = listBoxes(bytes, stsd.start + 8, stsd.end)[0];
    expect(avc1?.type).toBe('avc1');
    const avc1Start = (avc1?.offset ?? 0) + 8;
    expect([u16(bytes, avc1Start + 24), u16(bytes, avc1Start + 26)]).toEqual([48, 32]);
    const avcC = listBoxes(bytes, avc1Start + 78, (avc1?.offset ?? 0) + (avc1?.size ?? 0))[0];
    expect(avcC?.type).toBe('avcC');
    const c = (avcC?.offset ?? 0) + 8;
    expect([bytes[c], bytes[c + 1], bytes[c + 3], (bytes[c + 4] ?? 0) & 3, (bytes[c + 5] ?? 0) & 31]).toEqual([1, 66, 30, 3, 1]);
    const spsLen = u16(bytes, c + 6);
    const sps = bytes.subarray(c + 8, c + 8 + spsLen);
    expect((sps[0] ?? 0) & 0x1f).toBe(7);

    // Parse the SPS back.
    const r = new BitReader(unescapeRbsp(sps));
    expect(r.u(8)).toBe(66); // profile_idc
    r.u(8);
    expect(r.u(8)).toBe(30); // level_idc
    expect(r.ue()).toBe(0); // sps id
    expect(r.ue()).toBe(0); // log2_max_frame_num_minus4
    expect(r.ue()).toBe(2); // poc type
    expect(r.ue()).toBe(1); // max_num_ref_frames
    expect(r.u(1)).toBe(0);
    expect(r.ue() + 1).toBe(3); // width in MBs
    expect(r.ue() + 1).toBe(2); // height in MBs
    expect(r.u(1)).toBe(1); // frame_mbs_only
  });

  it('access units are IDR slices of I_PCM macroblocks carrying the picture samples', () => {
    const bytes = makeMp4({ width: 32, height: 16, frames: 2 });
    const mdat = listBoxes(bytes).find((b) => b.type === 'mdat');
    if (!mdat) throw new Error('no mdat');
    let off = mdat.offset + 8;
    const frames: Uint8Array[][] = [];
    for (let f = 0; f < 2; f++) {
      const len = u32(bytes, off);
      const nal = bytes.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      expect(nal[0]).toBe(0x65); // nal_ref_idc 3, type 5 (IDR)
      const r = new BitReader(unescapeRbsp(nal));
      expect(r.ue()).toBe(0); // first_mb_in_slice
      expect(r.ue()).toBe(7); // I slice
      expect(r.ue()).toBe(0); // pps id
      expect(r.u(4)).toBe(0); // frame_num
      expect(r.ue()).toBe(f % 2); // idr_pic_id alternates
      expect([r.u(1), r.u(1)]).toEqual([0, 0]);
      expect(r.se()).toBe(0); // slice_qp_delta
      expect(r.ue()).toBe(1); // deblocking disabled
      const mbs: Uint8Array[] = [];
      for (let mb = 0; mb < 2; mb++) {
        expect(r.ue()).toBe(25); // I_PCM
        r.align();
        const start = r.byteOffset();
        const rbsp = unescapeRbsp(nal);
        mbs.push(rbsp.subarray(start, start + 384));
        for (let i = 0; i < 384; i++) r.u(8);
      }
      expect(r.u(1)).toBe(1); // rbsp_stop_one_bit
      frames.push(mbs);
    }
    expect(off).toBe(mdat.offset + mdat.size);
    // Samples are valid 8-bit video levels and show the horizontal luma ramp across MBs.
    const [mb0, mb1] = frames[0] as [Uint8Array, Uint8Array];
    expect([...mb0, ...mb1].every((v) => v >= 1 && v <= 254)).toBe(true);
    expect(mb1[0] as number).toBeGreaterThan(mb0[0] as number);
  });

  it('honours targetBytes approximately (~5 MB) and rejects odd sizes', () => {
    const big = makeMp4({ targetBytes: 5_000_000 });
    expect(big.length).toBeGreaterThan(4_750_000);
    expect(big.length).toBeLessThan(5_300_000);
    expect(() => makeMp4({ width: 50 })).toThrow(/multiples of 16/);
  });
});

describe('tamperImageData', () => {
  it('changes exactly one byte inside the image data', () => {
    for (const [mime, bytes] of [
      ['image/jpeg', makeJpeg()],
      ['image/png', makePng()],
      ['video/mp4', makeMp4({ frames: 2 })],
    ] as const) {
      const t = tamperImageData(bytes, mime);
      const diffs = [...t].flatMap((b, i) => (b !== bytes[i] ? [i] : []));
      expect(diffs, mime).toHaveLength(1);
    }
  });
});
