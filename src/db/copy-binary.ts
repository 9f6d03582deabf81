/**
 * A streaming reader of PostgreSQL's binary COPY format (COPY ... TO STDOUT (FORMAT binary)), as sent by
 * postgres.js's `.readable()`. Binary COPY hands bytea over as raw bytes (the text protocol sends hex)
 * with no per-row protocol messages, which is what makes reading a million rows cheap.
 *
 * Format (PostgreSQL docs, "COPY", Binary Format): an 11-byte signature, a 32-bit flags field, a 32-bit
 * header-extension length and that many bytes; then per tuple a 16-bit field count (-1 ends the data)
 * and per field a 32-bit length (-1 is NULL) followed by the value. Integers are big-endian.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** One tuple: each field's bytes (a view into the received chunk: copy it to keep it), or null. */
export type CopyTuple = (Buffer | null)[];

export async function* copyBinaryTuples(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<CopyTuple[]> {
  // The source is always read to its end, also when the caller stops early or the data is bad: a
  // postgres.js COPY stream that is let go half-read keeps its connection paused and out of the pool.
  const source = chunks[Symbol.asyncIterator]();
  let drained = false;
  try {
    const tracked = {
      next: async () => {
        const r = await source.next();
        drained = r.done === true;
        return r;
      },
    };
    yield* tuplesOf({ [Symbol.asyncIterator]: () => tracked });
  } finally {
    while (!drained) drained = (await source.next()).done === true;
  }
}

async function* tuplesOf(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<CopyTuple[]> {
  let pending: Buffer = Buffer.alloc(0);
  let headerRead = false;
  let ended = false;
  for await (const chunk of chunks) {
    let buf = pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([pending, chunk]);
    let at = 0;
    if (!headerRead) {
      const signed = Math.min(buf.length, SIGNATURE.length);
      if (!buf.subarray(0, signed).equals(SIGNATURE.subarray(0, signed))) throw new Error('not a PostgreSQL binary COPY stream');
      if (buf.length < SIGNATURE.length + 8) {
        pending = buf;
        continue;
      }
      const extension = buf.readInt32BE(SIGNATURE.length + 4);
      if (buf.length < SIGNATURE.length + 8 + extension) {
        pending = buf;
        continue;
      }
      at = SIGNATURE.length + 8 + extension;
      headerRead = true;
    }
    const tuples: CopyTuple[] = [];
    for (;;) {
      if (buf.length - at < 2) break;
      const fields = buf.readInt16BE(at);
      if (fields === -1) {
        ended = true;
        at += 2;
        break;
      }
      let p = at + 2;
      const tuple: CopyTuple = [];
      let complete = true;
      for (let f = 0; f < fields; f++) {
        if (buf.length - p < 4) {
          complete = false;
          break;
        }
        const len = buf.readInt32BE(p);
        p += 4;
        if (len === -1) {
          tuple.push(null);
          continue;
        }
        if (buf.length - p < len) {
          complete = false;
          break;
        }
        tuple.push(buf.subarray(p, p + len));
        p += len;
      }
      if (!complete) break;
      tuples.push(tuple);
      at = p;
    }
    // Tuples are views into `buf`; the unparsed tail is copied so `buf` can be let go.
    pending = Buffer.from(buf.subarray(at));
    if (tuples.length > 0) yield tuples;
    if (ended) break;
  }
  if (!ended) throw new Error('binary COPY stream ended without its trailer');
}

/** A bigint field (int8, big-endian) as a number; audit indices stay far below 2^53. */
export function int8(field: Buffer | null): number {
  if (field === null || field.length !== 8) throw new Error('expected an int8 field');
  return Number(field.readBigInt64BE(0));
}
