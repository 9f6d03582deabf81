/**
 * Minimal ASN.1 DER encoder/decoder: just enough to build X.509 v3
 * certificates (local-ca.ts), convert ECDSA signatures between DER and raw
 * r||s form (cose-sign1.ts) and walk a structure in tests.
 *
 * Pure functions, no I/O.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function encodeLength(len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(len);
  const bytes: number[] = [];
  let n = len;
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encode one TLV with the given (single-byte) tag. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.of(tag), encodeLength(content.length), content]);
}

export function seq(...items: Uint8Array[]): Uint8Array {
  return tlv(TAG.SEQUENCE, concatBytes(items));
}

export function set(...items: Uint8Array[]): Uint8Array {
  return tlv(TAG.SET, concatBytes(items));
}

/** Context-specific constructed tag, i.e. `[n] EXPLICIT`. */
export function explicit(n: number, inner: Uint8Array): Uint8Array {
  return tlv(0xa0 | n, inner);
}

/** Context-specific primitive tag, i.e. `[n] IMPLICIT` of a primitive type. */
export function implicitPrimitive(n: number, content: Uint8Array): Uint8Array {
  return tlv(0x80 | n, content);
}

export function bool(value: boolean): Uint8Array {
  return tlv(TAG.BOOLEAN, Uint8Array.of(value ? 0xff : 0x00));
}

export function nullValue(): Uint8Array {
  return Uint8Array.of(TAG.NULL, 0x00);
}

/**
 * INTEGER from unsigned big-endian magnitude bytes (leading zeros stripped,
 * a 0x00 prepended when the high bit is set so the value stays positive).
 */
export function uintBytes(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let body = magnitude.subarray(i);
  if (body.length === 0) body = Uint8Array.of(0);
  if ((body[0] ?? 0) & 0x80) body = concatBytes([Uint8Array.of(0), body]);
  return tlv(TAG.INTEGER, body);
}

export function smallInt(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new RangeError(`smallInt out of range: ${value}`);
  }
  const bytes: number[] = [];
  let n = value;
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  return uintBytes(Uint8Array.from(bytes));
}

export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((s) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad OID arc in ${dotted}`);
    return n;
  });
  if (arcs.length < 2) throw new Error(`OID needs at least two arcs: ${dotted}`);
  const out: number[] = [];
  const pushArc = (arc: number) => {
    const chunk: number[] = [arc & 0x7f];
    let n = Math.floor(arc / 128);
    while (n > 0) {
      chunk.unshift((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(...chunk);
  };
  pushArc((arcs[0] as number) * 40 + (arcs[1] as number));
  for (const arc of arcs.slice(2)) pushArc(arc);
  return tlv(TAG.OID, Uint8Array.from(out));
}

export function octetString(content: Uint8Array): Uint8Array {
  return tlv(TAG.OCTET_STRING, content);
}

export function bitString(content: Uint8Array, unusedBits = 0): Uint8Array {
  return tlv(TAG.BIT_STRING, concatBytes([Uint8Array.of(unusedBits), content]));
}

/**
 * Named-bit BIT STRING (e.g. KeyUsage) per DER: trailing zero bits removed.
 * `bits` are bit numbers where 0 is the most significant bit of the first byte.
 */
export function namedBitString(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return bitString(new Uint8Array(0), 0);
  const maxBit = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(maxBit / 8) + 1);
  for (const b of bits) {
    const idx = Math.floor(b / 8);
    bytes[idx] = (bytes[idx] ?? 0) | (0x80 >> (b % 8));
  }
  const last = bytes[bytes.length - 1] ?? 0;
  let unused = 0;
  while (unused < 8 && (last & (1 << unused)) === 0) unused++;
  return bitString(bytes, unused);
}

export function utf8String(value: string): Uint8Array {
  return tlv(TAG.UTF8_STRING, new TextEncoder().encode(value));
}

export function printableString(value: string): Uint8Array {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value)) {
    throw new Error(`not a PrintableString: ${value}`);
  }
  return tlv(TAG.PRINTABLE_STRING, new TextEncoder().encode(value));
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `MMDDhhmmssZ` in UTC, whole seconds: what UTCTime and GeneralizedTime write after the year. */
const monthToSecond = (date: Date) =>
  pad2(date.getUTCMonth() + 1) + pad2(date.getUTCDate()) + pad2(date.getUTCHours()) + pad2(date.getUTCMinutes()) + pad2(date.getUTCSeconds()) + 'Z';

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function x509Time(date: Date): Uint8Array {
  const y = date.getUTCFullYear();
  if (y >= 1950 && y < 2050) return tlv(TAG.UTC_TIME, new TextEncoder().encode(pad2(y % 100) + monthToSecond(date)));
  return generalizedTime(date);
}

/** A decoded TLV. `header` is the byte length of tag+length. */
export interface DerNode {
  tag: number;
  /** Offset of the tag byte within the input. */
  offset: number;
  headerLength: number;
  length: number;
  /** The content octets (view into the input). */
  content: Uint8Array;
  /** The whole TLV encoding (view into the input). */
  raw: Uint8Array;
}

/** Read one TLV at `offset`. Only single-byte tags and definite lengths (DER). */
export function readTlv(input: Uint8Array, offset = 0): DerNode {
  const tag = input[offset];
  if (tag === undefined) throw new Error('DER: unexpected end of input (tag)');
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: multi-byte tags are not supported');
  const first = input[offset + 1];
  if (first === undefined) throw new Error('DER: unexpected end of input (length)');
  let length: number;
  let headerLength: number;
  if (first < 0x80) {
    length = first;
    headerLength = 2;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new Error('DER: unsupported length encoding');
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = input[offset + 2 + i];
      if (b === undefined) throw new Error('DER: unexpected end of input (length bytes)');
      length = length * 256 + b;
    }
    headerLength = 2 + n;
  }
  const start = offset + headerLength;
  const end = start + length;
  if (end > input.length) throw new Error('DER: length exceeds input');
  return {
    tag,
    offset,
    headerLength,
    length,
    content: input.subarray(start, end),
    raw: input.subarray(offset, end),
  };
}

/** Decode the children of a constructed node (SEQUENCE/SET/explicit tag). */
export function readChildren(node: DerNode | Uint8Array): DerNode[] {
  const content = node instanceof Uint8Array ? node : node.content;
  const out: DerNode[] = [];
  let off = 0;
  while (off < content.length) {
    const child = readTlv(content, off);
    out.push(child);
    off += child.raw.length;
  }
  return out;
}

export function decodeOid(content: Uint8Array): string {
  const arcs: number[] = [];
  let value = 0;
  for (const b of content) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    }
  }
  return arcs.join('.');
}

/** GeneralizedTime `YYYYMMDDhhmmssZ` (whole seconds, as RFC 3161 TSTInfo and RFC 5280 want it). */
export function generalizedTime(date: Date): Uint8Array {
  return tlv(TAG.GENERALIZED_TIME, new TextEncoder().encode(String(date.getUTCFullYear()).padStart(4, '0') + monthToSecond(date)));
}
