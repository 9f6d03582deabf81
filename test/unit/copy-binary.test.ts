import { describe, expect, it } from 'vitest';
import { bytesAt, copyBinaryBatches, int8At } from '../../src/db/copy-binary.ts';

/** A binary COPY stream as PostgreSQL writes it (docs: COPY, "Binary Format"), with a header extension. */
function copyStream(rows: (Buffer | null)[][], extension = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), u32(0), u32(extension.length), extension];
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const field of row) parts.push(field === null ? i32(-1) : Buffer.concat([u32(field.length), field]));
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1);
  parts.push(trailer);
  return Buffer.concat(parts);
}
const u32 = (n: number) => ((b) => (b.writeUInt32BE(n), b))(Buffer.alloc(4));
const i32 = (n: number) => ((b) => (b.writeInt32BE(n), b))(Buffer.alloc(4));
const int8Field = (n: number) => ((b) => (b.writeBigInt64BE(BigInt(n)), b))(Buffer.alloc(8));

async function* chunked(bytes: Buffer, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield new Uint8Array(bytes.subarray(i, i + size));
}

async function readAll(chunks: AsyncIterable<Uint8Array>, fields = 2) {
  const out: { index: number; bytes: string | null }[] = [];
  for await (const batch of copyBinaryBatches(chunks, fields)) {
    for (let r = 0; r < batch.rows; r++) out.push({ index: int8At(batch, r, 0), bytes: bytesAt(batch, r, 1)?.toString('hex') ?? null });
  }
  return out;
}

describe('binary COPY reader', () => {
  const rows = [
    [int8Field(0), Buffer.from('{"a":1}')],
    [int8Field(1), Buffer.alloc(0)],
    [int8Field(2), null],
    [int8Field(-1), Buffer.from('moved')],
    [int8Field(2 ** 40 + 3), Buffer.alloc(300, 7)],
  ];
  const want = [
    { index: 0, bytes: Buffer.from('{"a":1}').toString('hex') },
    { index: 1, bytes: '' },
    { index: 2, bytes: null },
    { index: -1, bytes: Buffer.from('moved').toString('hex') },
    { index: 2 ** 40 + 3, bytes: Buffer.alloc(300, 7).toString('hex') },
  ];

  it('reads rows whatever the chunk boundaries, header extension included', async () => {
    const stream = copyStream(rows, Buffer.from('ext'));
    for (const size of [1, 2, 3, 5, 7, 19, 64, stream.length]) expect(await readAll(chunked(stream, size)), `chunks of ${size}`).toEqual(want);
  });

  it('refuses what is not a binary COPY, a row of another width, and a stream cut before its trailer', async () => {
    await expect(readAll(chunked(Buffer.from('idx\tleaf\n0\t\\x00\n'), 64))).rejects.toThrow(/not a PostgreSQL binary COPY/);
    await expect(readAll(chunked(copyStream(rows), 64), 3)).rejects.toThrow(/has 2 fields, expected 3/);
    const stream = copyStream(rows);
    await expect(readAll(chunked(stream.subarray(0, stream.length - 5), 16))).rejects.toThrow(/without its trailer/);
  });

  it('reads its source to the end when the reader stops early (a half-read postgres.js stream holds its connection)', async () => {
    const stream = copyStream(rows);
    let served = 0;
    async function* counted() {
      for await (const c of chunked(stream, 4)) {
        served += c.length;
        yield c;
      }
    }
    for await (const batch of copyBinaryBatches(counted(), 2)) if (batch.rows > 0) break;
    expect(served).toBe(stream.length);
  });

  it('refuses an int8 field of the wrong size', async () => {
    for await (const batch of copyBinaryBatches(chunked(copyStream([[Buffer.alloc(4), null]]), 64), 2)) {
      expect(() => int8At(batch, 0, 0)).toThrow(/int8/);
      expect(() => int8At(batch, 0, 1)).toThrow(/int8/);
    }
  });
});
