/**
 * RFC 3161 time-stamps for C2PA v2 signatures (`sigTst2`): the pure part, no I/O.
 *
 * What a C2PA v2 time-stamp covers (c2pa-rs `sign_v2_embedded` and `validate_cose_tst_info` in
 * sdk/src/crypto/cose/sign.rs and sigtst.rs): the claim is signed first, then the TSA is asked for a
 * token over the RFC 9052 countersignature structure
 *
 *   ["CounterSignature", protected header bytes, h'' (external_aad), bstr(CBOR bstr of the signature)]
 *
 * (coset `sig_structure_data(CounterSignature, protected, None, b"", cbor(bstr(signature)))`), so the
 * token proves that this very signature existed at the token's time. The TSA's messageImprint is the
 * SHA-256 of those bytes. The token goes into the unprotected header as
 *
 *   "sigTst2": { "tstTokens": [ { "val": bstr(TimeStampToken DER) } ] }
 *
 * where the TimeStampToken is the CMS ContentInfo of the response, not the whole TimeStampResp
 * (c2pa-rs `timestamptoken_from_timestamprsp`). c2pa-rs then uses the token's genTime as the signing
 * time: it checks the signer's certificate at that time, not at the time a file is read.
 *
 * What this module checks of a response: the status, that the token is SignedData over a TSTInfo,
 * and that its messageImprint (SHA-256) and nonce are the ones asked for. The CMS signature and the
 * TSA's certificate are checked by c2pa-rs when the signed file is read back (the engine's self-check).
 */
import { createHash } from 'node:crypto';

import { cborEncode, counterSignatureStructure } from './cose-sign1.ts';
import { bool, type DerNode, decodeOid, nullValue, octetString, oid, readChildren, readTlv, seq, smallInt, TAG, uintBytes } from './der.ts';

export const TSP_OIDS = {
  sha256: '2.16.840.1.101.3.4.2.1',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
} as const;

/** Why a time-stamp could not be had. `reason` says whose fault: the network, the TSA, or its answer. */
export type TimestampFailure =
  | 'unreachable' // no connection, or no answer in time
  | 'http' // an HTTP error or a body that is not application/timestamp-reply
  | 'rejected' // a well-formed refusal (PKIStatus rejection, waiting, …)
  | 'malformed' // not a TimeStampResp / TimeStampToken we can read
  | 'mismatch'; // a token for something else: another messageImprint or nonce

export class TimestampError extends Error {
  constructor(
    readonly reason: TimestampFailure,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'TimestampError';
  }
}

// ---------------------------------------------------------------------------
// What is time-stamped, and how the token is stored

/** The bytes a C2PA v2 (`sigTst2`) time-stamp covers: the countersignature structure over the signature. */
export function sigTst2Payload(protectedHeader: Uint8Array, signature: Uint8Array): Uint8Array {
  return counterSignatureStructure(protectedHeader, cborEncode(signature));
}

/** The messageImprint to ask the TSA for: SHA-256 of `sigTst2Payload`. */
export function sigTst2MessageImprint(protectedHeader: Uint8Array, signature: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(sigTst2Payload(protectedHeader, signature)).digest());
}

/** The `sigTst2` unprotected header value holding one TimeStampToken (c2pa-rs `TstContainer`). */
export function sigTst2Header(token: Uint8Array): Map<string, unknown> {
  return new Map<string, unknown>([['tstTokens', [new Map<string, unknown>([['val', token]])]]]);
}

// ---------------------------------------------------------------------------
// TimeStampReq

export interface TimeStampRequest {
  /** SHA-256 digest of the data to time-stamp (32 bytes). */
  messageImprint: Uint8Array;
  /** A fresh random number the TSA must echo, so an old or replayed answer is refused. */
  nonce?: bigint;
  /** Ask the TSA to put its certificate in the token (c2pa-rs needs it to check the signature). */
  certReq?: boolean;
}

/**
 * DER TimeStampReq (RFC 3161 §2.4.1):
 *   SEQUENCE { version INTEGER (1), messageImprint SEQUENCE { AlgorithmIdentifier sha256 (NULL
 *   parameters, as OpenSSL writes it), OCTET STRING }, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE }
 */
export function encodeTimeStampRequest(req: TimeStampRequest): Uint8Array {
  if (req.messageImprint.length !== 32) {
    throw new Error(`messageImprint must be a 32-byte SHA-256 digest, got ${req.messageImprint.length} bytes`);
  }
  if (req.nonce !== undefined && req.nonce < 0n) throw new Error('nonce must not be negative');
  return seq(
    smallInt(1),
    seq(seq(oid(TSP_OIDS.sha256), nullValue()), octetString(req.messageImprint)),
    ...(req.nonce !== undefined ? [uintBytes(bigintBytes(req.nonce))] : []),
    // DEFAULT FALSE is omitted in DER.
    ...(req.certReq ? [bool(true)] : []),
  );
}

// ---------------------------------------------------------------------------
// TimeStampResp

/** The facts of a token's TSTInfo (RFC 3161 §2.4.2). */
export interface TimeStampInfo {
  policy: string;
  hashAlgorithm: string;
  hashedMessage: Uint8Array;
  /** Hex, as TSAs print it. */
  serialNumber: string;
  genTime: Date;
  nonce: bigint | undefined;
}

export interface GrantedTimeStamp {
  /** The TimeStampToken: CMS ContentInfo (SignedData), DER, as it goes into `sigTst2`. */
  token: Uint8Array;
  info: TimeStampInfo;
  /** granted or grantedWithMods */
  status: string;
}

const PKI_STATUS = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];

/** PKIFailureInfo bit names (RFC 3161 §2.4.2). */
const FAIL_INFO: Record<number, string> = {
  0: 'badAlg',
  2: 'badRequest',
  5: 'badDataFormat',
  14: 'timeNotAvailable',
  15: 'unacceptedPolicy',
  16: 'unacceptedExtension',
  17: 'addInfoNotAvailable',
  25: 'systemFailure',
};

/**
 * Read a TSA's answer to `request`: the token if it was granted and is for this very request, else a
 * TimestampError naming the PKIStatus and failInfo, or what does not match.
 */
export function parseTimeStampResponse(der: Uint8Array, request: TimeStampRequest): GrantedTimeStamp {
  const [statusInfo, tokenNode] = malformedUnless('TimeStampResp', () => {
    const top = expectTag(readTlv(der), TAG.SEQUENCE, 'TimeStampResp');
    if (top.raw.length !== der.length) throw new Error('trailing bytes after TimeStampResp');
    return readChildren(top);
  });
  const { status, statusText, failInfo } = malformedUnless('PKIStatusInfo', () => readStatusInfo(statusInfo));
  const statusName = PKI_STATUS[status] ?? `status ${status}`;
  if (status !== 0 && status !== 1) {
    const why = [failInfo.length > 0 ? `failInfo ${failInfo.join(', ')}` : '', statusText].filter(Boolean).join('; ');
    throw new TimestampError('rejected', `the time-stamp authority answered PKIStatus ${statusName}${why ? ` (${why})` : ''}`);
  }
  if (!tokenNode) throw new TimestampError('malformed', `PKIStatus ${statusName} but no TimeStampToken`);
  const token = new Uint8Array(tokenNode.raw);
  const info = parseTimeStampToken(token);
  if (info.hashAlgorithm !== TSP_OIDS.sha256 || !bytesEqual(info.hashedMessage, request.messageImprint)) {
    throw new TimestampError('mismatch', 'the time-stamp token is for another messageImprint than the one requested');
  }
  if (request.nonce !== undefined && info.nonce !== request.nonce) {
    throw new TimestampError(
      'mismatch',
      `the time-stamp token carries nonce ${info.nonce === undefined ? '(none)' : info.nonce.toString(16)}, not the ${request.nonce.toString(16)} requested`,
    );
  }
  return { token, info, status: statusName };
}

/** TSTInfo of a TimeStampToken (ContentInfo → SignedData → encapContentInfo → eContent). */
export function parseTimeStampToken(token: Uint8Array): TimeStampInfo {
  return malformedUnless('TimeStampToken', () => {
    const contentInfo = expectTag(readTlv(token), TAG.SEQUENCE, 'ContentInfo');
    const [contentType, content] = readChildren(contentInfo);
    if (!contentType || decodeOid(expectTag(contentType, TAG.OID, 'contentType').content) !== TSP_OIDS.signedData) {
      throw new Error('ContentInfo is not SignedData');
    }
    const signedData = expectTag(readChildren(expectTag(content, 0xa0, 'content [0]'))[0], TAG.SEQUENCE, 'SignedData');
    // version, digestAlgorithms, encapContentInfo, …
    const encap = expectTag(readChildren(signedData)[2], TAG.SEQUENCE, 'encapContentInfo');
    const [eContentType, eContent] = readChildren(encap);
    if (!eContentType || decodeOid(expectTag(eContentType, TAG.OID, 'eContentType').content) !== TSP_OIDS.tstInfo) {
      throw new Error('eContentType is not id-ct-TSTInfo');
    }
    const octets = expectTag(readChildren(expectTag(eContent, 0xa0, 'eContent [0]'))[0], TAG.OCTET_STRING, 'eContent');
    return parseTstInfo(octets.content);
  });
}

function parseTstInfo(der: Uint8Array): TimeStampInfo {
  const fields = readChildren(expectTag(readTlv(der), TAG.SEQUENCE, 'TSTInfo'));
  const [version, policy, imprint, serial, genTime, ...rest] = fields;
  if (readInteger(expectTag(version, TAG.INTEGER, 'TSTInfo version')) !== 1n) throw new Error('TSTInfo version is not 1');
  const [alg, hashed] = readChildren(expectTag(imprint, TAG.SEQUENCE, 'messageImprint'));
  const [algOid] = readChildren(expectTag(alg, TAG.SEQUENCE, 'hashAlgorithm'));
  // After genTime: accuracy SEQUENCE, ordering BOOLEAN, nonce INTEGER, tsa [0], extensions [1] — all optional.
  const nonce = rest.find((n) => n.tag === TAG.INTEGER);
  return {
    policy: decodeOid(expectTag(policy, TAG.OID, 'policy').content),
    hashAlgorithm: decodeOid(expectTag(algOid, TAG.OID, 'hashAlgorithm').content),
    hashedMessage: new Uint8Array(expectTag(hashed, TAG.OCTET_STRING, 'hashedMessage').content),
    serialNumber: readInteger(expectTag(serial, TAG.INTEGER, 'serialNumber')).toString(16),
    genTime: parseGeneralizedTime(new TextDecoder().decode(expectTag(genTime, TAG.GENERALIZED_TIME, 'genTime').content)),
    nonce: nonce ? readInteger(nonce) : undefined,
  };
}

function readStatusInfo(node: DerNode | undefined): { status: number; statusText: string; failInfo: string[] } {
  const children = readChildren(expectTag(node, TAG.SEQUENCE, 'PKIStatusInfo'));
  const status = Number(readInteger(expectTag(children[0], TAG.INTEGER, 'PKIStatus')));
  let statusText = '';
  let failInfo: string[] = [];
  for (const child of children.slice(1)) {
    if (child.tag === TAG.SEQUENCE) {
      // PKIFreeText: SEQUENCE OF UTF8String
      statusText = readChildren(child)
        .map((s) => new TextDecoder().decode(s.content))
        .join(' ');
    } else if (child.tag === TAG.BIT_STRING) {
      failInfo = namedBits(child.content);
    }
  }
  return { status, statusText, failInfo };
}

/** Names of the set bits of a named-bit BIT STRING (bit 0 is the high bit of the first octet). */
function namedBits(content: Uint8Array): string[] {
  const names: string[] = [];
  const bits = (content.length - 1) * 8 - (content[0] ?? 0);
  for (let bit = 0; bit < bits; bit++) {
    if (((content[1 + Math.floor(bit / 8)] ?? 0) & (0x80 >> (bit % 8))) !== 0) names.push(FAIL_INFO[bit] ?? `bit ${bit}`);
  }
  return names;
}

// ---------------------------------------------------------------------------
// helpers

function malformedUnless<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof TimestampError) throw err;
    throw new TimestampError('malformed', `the time-stamp authority's answer is not a valid ${what}: ${(err as Error).message}`, { cause: err });
  }
}

function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new Error(`${what} is missing`);
  if (node.tag !== tag) throw new Error(`${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

function readInteger(node: DerNode): bigint {
  if (node.content.length === 0) throw new Error('empty INTEGER');
  if ((node.content[0] ?? 0) & 0x80) throw new Error('negative INTEGER');
  let v = 0n;
  for (const b of node.content) v = (v << 8n) | BigInt(b);
  return v;
}

/** Big-endian magnitude bytes of a non-negative bigint. */
export function bigintBytes(v: bigint): Uint8Array {
  const hex = v.toString(16);
  return new Uint8Array(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
}

/** RFC 3161 genTime: YYYYMMDDhhmmss[.f+]Z (UTC, fractional seconds optional). */
export function parseGeneralizedTime(s: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/.exec(s);
  if (!m) throw new Error(`unsupported GeneralizedTime ${JSON.stringify(s)}`);
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, sec, ms));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
