/**
 * A streaming reader of PostgreSQL's binary COPY format (COPY ... TO STDOUT (FORMAT binary)), as sent by
 * postgres.js's `.readable()`. Binary COPY hands bytea over as raw bytes (the text protocol sends hex)
 * with no per-row protocol messages, which is what makes reading a million rows cheap.
 *
 * Format (PostgreSQL docs, "COPY", Binary Format): an 11-byte signature, a 32-bit flags field, a 32-bit
 * header-extension length and that many bytes; then per tuple a 16-bit field count (-1 ends the data)
 * and per field a 32-bit length (-1 is NULL) followed by the value. Integers are big-endian.
 *
 * Rows come in batches, as offsets into the received bytes rather than an object per row or field: at a
 * million rows the allocations would cost more than the parsing.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Field `f` of row `r` is `buf[offsets[r * fields + f] ..+ lengths[r * fields + f]]`; length -1 is NULL. */
export type CopyBatch = { buf: Buffer; rows: number; fields: number; offsets: Int32Array; lengths: Int32Array };

/**
 * The rows of a binary COPY of exactly `fields` columns, batch by batch (a batch's bytes stay valid while
 * the caller holds it). The source is always read to its end, also when the caller stops early or the
 * data is bad: a postgres.js COPY stream let go half-read keeps its connection out of the pool.
 */
export async function* copyBinaryBatches(chunks: AsyncIterable<Uint8Array>, fields: number): AsyncGenerator<CopyBatch> {
  const source = chunks[Symbol.asyncIterator]();
  let drained = false;
  const tracked: AsyncIterator<Uint8Array> = {
    next: async () => {
      const r = await source.next();
      drained = r.done === true;
      return r;
    },
  };
  try {
    yield* batchesOf({ [Symbol.asyncIterator]: () => tracked }, fields);
  } finally {
    while (!drained) drained = (await source.next()).done === true;
  }
}

async function* batchesOf(chunks: AsyncIterable<Uint8Array>, fields: number): AsyncGenerator<CopyBatch> {
  let pending: Buffer = Buffer.alloc(0);
  let headerRead = false;
  let ended = false;
  for await (const chunk of chunks) {
    const buf = pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([pending, chunk]);
    let at = 0;
    if (!headerRead) {
      const signed = Math.min(buf.length, SIGNATURE.length);
      if (!buf.subarray(0, signed).equals(SIGNATURE.subarray(0, signed))) throw new Error('not a PostgreSQL binary COPY stream');
      if (buf.length < SIGNATURE.length + 8 || buf.length < SIGNATURE.length + 8 + buf.readInt32BE(SIGNATURE.length + 4)) {
        pending = buf;
        continue;
      }
      at = SIGNATURE.length + 8 + buf.readInt32BE(SIGNATURE.length + 4);
      headerRead = true;
    }
    // At most one row per 2 + 4·fields bytes: a bound for the offset arrays.
    const capacity = Math.floor((buf.length - at) / (2 + 4 * fields)) + 1;
    const offsets = new Int32Array(capacity * fields);
    const lengths = new Int32Array(capacity * fields);
    let rows = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      const count = buf.readInt16BE(at);
      if (count === -1) {
        ended = true;
        at += 2;
        break;
      }
      if (count !== fields) throw new Error(`binary COPY row has ${count} fields, expected ${fields}`);
      let p = at + 2;
      let complete = true;
      for (let f = 0; f < fields; f++) {
        if (buf.length - p < 4) {
          complete = false;
          break;
        }
        const len = buf.readInt32BE(p);
        p += 4;
        if (len > 0 && buf.length - p < len) {
          complete = false;
          break;
        }
        offsets[rows * fields + f] = p;
        lengths[rows * fields + f] = len;
        if (len > 0) p += len;
      }
      if (!complete) break;
      rows += 1;
      at = p;
    }
    // The unparsed tail is copied so that `buf` can be let go once the caller is done with the batch.
    pending = Buffer.from(buf.subarray(at));
    if (rows > 0) yield { buf, rows, fields, offsets, lengths };
    if (ended) break;
  }
  if (!ended) throw new Error('binary COPY stream ended without its trailer');
}

/** A bigint (int8) field as a number: audit indices stay far below 2^53. */
export function int8At(batch: CopyBatch, row: number, field: number): number {
  const k = row * batch.fields + field;
  if (batch.lengths[k] !== 8) throw new Error('expected an int8 field');
  const at = batch.offsets[k]!;
  return batch.buf.readInt32BE(at) * 2 ** 32 + batch.buf.readUInt32BE(at + 4);
}

/** A field's bytes as a view (no copy), or null. */
export function bytesAt(batch: CopyBatch, row: number, field: number): Buffer | null {
  const k = row * batch.fields + field;
  const len = batch.lengths[k]!;
  if (len < 0) return null;
  return batch.buf.subarray(batch.offsets[k]!, batch.offsets[k]! + len);
}
