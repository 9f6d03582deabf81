/**
 * Pure COSE_Sign1 (RFC 9052) builder for C2PA claim signatures, using cbor-x.
 *
 * c2pa-wasm uses "direct COSE handling": the signer callback receives the
 * claim bytes and must return the complete, tagged COSE_Sign1 that goes into
 * the `c2pa.signature` box, exactly `reserveSize` bytes long. This mirrors
 * c2pa-rs `crypto/cose/sign.rs`:
 *
 *   COSE_Sign1 = #6.18([
 *     protected:   bstr .cbor { 1 (alg): -7 (ES256), 33 (x5chain): bstr / [+ bstr] },
 *     unprotected: { ? "sigTst2": {...}, "pad": bstr(zeros) [, "pad2": bstr] },
 *     payload:     nil (detached: the claim),
 *     signature:   bstr (raw r||s, 64 bytes for P-256)
 *   ])
 *
 * signed over Sig_structure = ["Signature1", protected, h'' (external_aad), claim].
 *
 * The "pad" entry in the unprotected header fills the COSE structure up to the
 * reserved box size, exactly like c2pa-rs `pad_cose_sig` (which adds "pad2"
 * when one pad cannot hit the size because of CBOR length-prefix jumps).
 *
 * No I/O here: the `sign` callback may be node:crypto, WebCrypto or Cloud KMS.
 */
import { Decoder, Encoder, Tag } from 'cbor-x';

export const COSE_SIGN1_TAG = 18;
export const COSE_HEADER_ALG = 1;
export const COSE_HEADER_X5CHAIN = 33;
export const COSE_ALG_ES256 = -7;
/** Raw ECDSA P-256 signature length (r||s). */
export const ES256_SIGNATURE_LENGTH = 64;

/** Sign the to-be-signed bytes; return a raw r||s ECDSA P-256 signature (64 bytes). */
export type RawSignFn = (toBeSigned: Uint8Array) => Promise<Uint8Array>;

export interface BuildCoseSign1Options {
  /** The detached payload: the C2PA claim bytes handed to the signer callback. */
  payload: Uint8Array;
  /** DER certificates, leaf first. */
  certChainDer: readonly Uint8Array[];
  sign: RawSignFn;
  alg?: 'es256';
  /**
   * Exact size of the result (the signer's reserve size). The unprotected
   * header is padded to hit it. Omit for an unpadded structure.
   */
  targetSize?: number;
  /**
   * Extra unprotected header entries placed before the padding (e.g.
   * `sigTst2` from `sigTst2Header` in timestamp.ts). Computed after signing because a
   * C2PA v2 time-stamp covers the signature.
   */
  unprotected?: (signature: Uint8Array, protectedHeader: Uint8Array) => Promise<Map<string | number, unknown>> | Map<string | number, unknown>;
}

export interface DecodedCoseSign1 {
  protectedBytes: Uint8Array;
  protectedHeader: Map<unknown, unknown>;
  unprotectedHeader: Map<unknown, unknown>;
  payload: Uint8Array | null;
  signature: Uint8Array;
  alg: unknown;
  /** x5chain normalised to an array (leaf first). */
  x5chain: Uint8Array[];
}

export class CoseSizeError extends Error {
  constructor(
    readonly needed: number,
    readonly targetSize: number,
  ) {
    super(`COSE_Sign1 needs at least ${needed} bytes but reserve size is ${targetSize}`);
    this.name = 'CoseSizeError';
  }
}

const encoder = new Encoder({
  useRecords: false,
  // With mapsAsObjects=false cbor-x encodes Maps as plain CBOR maps (no tag 259).
  mapsAsObjects: false,
  variableMapSize: true,
  tagUint8Array: false,
});

const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

/** CBOR-encode (copying out of cbor-x's shared buffer). */
export function cborEncode(value: unknown): Uint8Array {
  return new Uint8Array(encoder.encode(value));
}

export function cborDecode(bytes: Uint8Array): unknown {
  return decoder.decode(bytes);
}

/** Serialized protected header: { 1: alg, 33: x5chain }. */
export function encodeProtectedHeader(certChainDer: readonly Uint8Array[]): Uint8Array {
  if (certChainDer.length === 0) throw new Error('x5chain needs at least the signing certificate');
  const x5chain = certChainDer.length === 1 ? toPlainBytes(certChainDer[0] as Uint8Array) : certChainDer.map(toPlainBytes);
  return cborEncode(
    new Map<number, unknown>([
      [COSE_HEADER_ALG, COSE_ALG_ES256],
      [COSE_HEADER_X5CHAIN, x5chain],
    ]),
  );
}

/** RFC 9052 §4.4 Sig_structure for COSE_Sign1 with empty external_aad. */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return cborEncode(['Signature1', protectedBytes, new Uint8Array(0), toPlainBytes(payload)]);
}

/**
 * RFC 9338 countersignature Sig_structure (as c2pa-rs `cose_countersign_data`):
 * ["CounterSignature", body_protected, external_aad=h'', payload]. For C2PA v2
 * time-stamps (`sigTst2`) the payload is the CBOR bstr of the signature.
 */
export function counterSignatureStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return cborEncode(['CounterSignature', protectedBytes, new Uint8Array(0), toPlainBytes(payload)]);
}

export async function buildCoseSign1(opts: BuildCoseSign1Options): Promise<Uint8Array> {
  if ((opts.alg ?? 'es256') !== 'es256') throw new Error(`unsupported alg ${String(opts.alg)}`);
  const protectedBytes = encodeProtectedHeader(opts.certChainDer);
  const tbs = sigStructure(protectedBytes, opts.payload);
  let signature = await opts.sign(tbs);
  if (signature.length !== ES256_SIGNATURE_LENGTH && signature[0] === 0x30) {
    // Be lenient with signers returning DER (e.g. KMS) — COSE needs raw r||s.
    signature = derEcdsaSignatureToRaw(signature, 32);
  }
  if (signature.length !== ES256_SIGNATURE_LENGTH) {
    throw new Error(`ES256 signature must be ${ES256_SIGNATURE_LENGTH} bytes, got ${signature.length}`);
  }
  const extra = opts.unprotected ? await opts.unprotected(signature, protectedBytes) : new Map();

  const encodeWith = (pads: Array<[string, number]>) => {
    const unprotected = new Map<string | number, unknown>(extra);
    for (const [label, len] of pads) unprotected.set(label, new Uint8Array(len));
    return cborEncode(new Tag([protectedBytes, unprotected, null, toPlainBytes(signature)], COSE_SIGN1_TAG));
  };

  const unpadded = encodeWith([]);
  if (opts.targetSize === undefined || unpadded.length === opts.targetSize) return unpadded;
  const target = opts.targetSize;
  const pads = solvePadding((p) => encodeWith(p).length, target);
  if (!pads) throw new CoseSizeError(unpadded.length + 5, target);
  const out = encodeWith(pads);
  if (out.length !== target) throw new Error('internal: COSE padding miscomputed');
  return out;
}

/**
 * Find pad lengths so the encoded size equals `target`. The size is monotonic
 * in pad length except for jumps at CBOR length-prefix boundaries (24, 256,
 * 65536), which a second small pad absorbs.
 */
function solvePadding(sizeOf: (pads: Array<[string, number]>) => number, target: number): Array<[string, number]> | null {
  const base = sizeOf([['pad', 0]]);
  if (base > target) return null;
  const tryOne = (n: number) => (sizeOf([['pad', n]]) === target ? n : null);
  // Each step adds one byte except at prefix boundaries; search near the estimate.
  const guess = target - base;
  for (let n = Math.max(0, guess - 8); n <= guess; n++) {
    if (tryOne(n) !== null) return [['pad', n]];
  }
  for (let small = 0; small < 24; small++) {
    const base2 = sizeOf([
      ['pad', 0],
      ['pad2', small],
    ]);
    if (base2 > target) break;
    const guess2 = target - base2;
    for (let n = Math.max(0, guess2 - 8); n <= guess2; n++) {
      const pads: Array<[string, number]> = [
        ['pad', n],
        ['pad2', small],
      ];
      if (sizeOf(pads) === target) return pads;
    }
  }
  return null;
}

export function decodeCoseSign1(bytes: Uint8Array): DecodedCoseSign1 {
  const decoded = cborDecode(bytes);
  if (!(decoded instanceof Tag) || decoded.tag !== COSE_SIGN1_TAG || !Array.isArray(decoded.value)) {
    throw new Error('not a tagged COSE_Sign1');
  }
  const [protectedBytes, unprotected, payload, signature] = decoded.value as unknown[];
  if (!(protectedBytes instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new Error('malformed COSE_Sign1');
  }
  const protectedHeader = protectedBytes.length === 0 ? new Map() : cborDecode(protectedBytes);
  if (!(protectedHeader instanceof Map) || !(unprotected instanceof Map)) {
    throw new Error('malformed COSE_Sign1 headers');
  }
  const rawChain = protectedHeader.get(COSE_HEADER_X5CHAIN) ?? unprotected.get(COSE_HEADER_X5CHAIN);
  const x5chain =
    rawChain instanceof Uint8Array
      ? [new Uint8Array(rawChain)]
      : Array.isArray(rawChain)
        ? rawChain.filter((c): c is Uint8Array => c instanceof Uint8Array).map((c) => new Uint8Array(c))
        : [];
  return {
    protectedBytes: new Uint8Array(protectedBytes),
    protectedHeader,
    unprotectedHeader: unprotected,
    payload: payload instanceof Uint8Array ? new Uint8Array(payload) : null,
    signature: new Uint8Array(signature),
    alg: protectedHeader.get(COSE_HEADER_ALG),
    x5chain,
  };
}

/**
 * Convert a DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (what
 * Cloud KMS, node:crypto default and OpenSSL return) to raw r||s as COSE needs.
 */
export function derEcdsaSignatureToRaw(der: Uint8Array, coordinateLength = 32): Uint8Array {
  let off = 0;
  const readLen = (): number => {
    const first = der[off++];
    if (first === undefined) throw new Error('DER signature truncated');
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 2) throw new Error('DER signature: bad length');
    let len = 0;
    for (let i = 0; i < n; i++) {
      const b = der[off++];
      if (b === undefined) throw new Error('DER signature truncated');
      len = len * 256 + b;
    }
    return len;
  };
  if (der[off++] !== 0x30) throw new Error('DER signature: expected SEQUENCE');
  const seqLen = readLen();
  if (off + seqLen !== der.length) throw new Error('DER signature: trailing or missing bytes');
  const out = new Uint8Array(coordinateLength * 2);
  for (let i = 0; i < 2; i++) {
    if (der[off++] !== 0x02) throw new Error('DER signature: expected INTEGER');
    const len = readLen();
    let int = der.subarray(off, off + len);
    off += len;
    while (int.length > 0 && int[0] === 0) int = int.subarray(1);
    if (int.length > coordinateLength) throw new Error('DER signature: integer too large');
    out.set(int, i * coordinateLength + (coordinateLength - int.length));
  }
  if (off !== der.length) throw new Error('DER signature: trailing bytes');
  return out;
}

/** Inverse of `derEcdsaSignatureToRaw`. */
export function rawEcdsaSignatureToDer(raw: Uint8Array): Uint8Array {
  if (raw.length % 2 !== 0) throw new Error('raw signature must have even length');
  const half = raw.length / 2;
  const int = (bytes: Uint8Array): number[] => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const body = Array.from(bytes.subarray(i));
    if ((body[0] ?? 0) & 0x80) body.unshift(0);
    return [0x02, body.length, ...body];
  };
  const body = [...int(raw.subarray(0, half)), ...int(raw.subarray(half))];
  const len = body.length < 0x80 ? [body.length] : [0x81, body.length];
  return Uint8Array.from([0x30, ...len, ...body]);
}

/** Plain Uint8Array view (cbor-x treats Buffer and Uint8Array alike; keep it explicit). */
function toPlainBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
