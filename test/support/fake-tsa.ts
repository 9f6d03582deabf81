/**
 * A local RFC 3161 time-stamp authority on 127.0.0.1 (node:http). It reads the TimeStampReq it is
 * POSTed and answers a real TimeStampResp: a CMS SignedData over a TSTInfo, signed (ECDSA P-256,
 * SHA-256) by a TSA certificate with the critical id-kp-timeStamping EKU, issued by its own test CA,
 * with the signed attributes contentType, messageDigest and ESS signingCertificateV2 (which
 * `openssl ts -verify` requires). The certificate is in the token when the request asks (certReq).
 *
 * Built with node:crypto and the project's DER writer; it shares no code with the client's parser
 * in src/provenance/c2pa/timestamp.ts beyond the DER primitives.
 *
 * `mode` scripts failures: a PKIStatus rejection, an HTTP error, silence, a token for another nonce
 * or imprint, or a token too big for the signature box. `clockOffsetMs` moves genTime off the wall
 * clock, so a test can tell the token's time from the time of reading.
 */
import { createHash, createPrivateKey, type KeyObject, sign as nodeSign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  bitString,
  concatBytes,
  decodeOid,
  explicit,
  generalizedTime,
  nullValue,
  octetString,
  oid,
  readChildren,
  readTlv,
  seq,
  set,
  smallInt,
  tlv,
  uintBytes,
  utf8String,
} from '../../src/provenance/c2pa/der.ts';
import { createLocalCa, issueTimestampingCertificate, type LocalCa, type SigningCertificate } from '../../src/provenance/c2pa/local-ca.ts';

const OID = {
  sha256: '2.16.840.1.101.3.4.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  /** A made-up TSA policy (the arc of the C2PA test policies is not ours to use). */
  policy: '1.3.6.1.4.1.99999.1.1',
} as const;

export type FakeTsaMode =
  | 'grant'
  | 'reject' // PKIStatus rejection, failInfo badAlg + systemFailure, with a status string
  | 'http-error' // HTTP 500 text/plain
  | 'hang' // accepts the connection, never answers
  | 'wrong-nonce' // granted, but the TSTInfo carries another nonce
  | 'wrong-imprint' // granted, but for another messageImprint
  | 'oversized'; // granted, with ~20 KB of extra certificates in the token

/** What the TSA is: its CA (the trust anchor to configure) and its own certificate and key. */
export interface TsaIdentity {
  ca: LocalCa;
  cert: SigningCertificate;
  key: KeyObject;
}

export function createTsaIdentity(now = new Date()): TsaIdentity {
  const ca = createLocalCa({ subject: { commonName: 'Fake TSA Root CA', organization: 'Clearframe tests' }, now });
  const cert = issueTimestampingCertificate(ca, { subject: { commonName: 'Fake TSA', organization: 'Clearframe tests' }, now });
  return { ca, cert, key: createPrivateKey(cert.privateKeyPem!) };
}

export interface IssuedToken {
  genTime: Date;
  serial: bigint;
  nonce: bigint | undefined;
  messageImprint: Uint8Array;
  token: Uint8Array;
}

export interface ParsedRequest {
  hashAlgorithm: string;
  messageImprint: Uint8Array;
  nonce: bigint | undefined;
  certReq: boolean;
}

/** Read a DER TimeStampReq (RFC 3161 §2.4.1) as a TSA must. */
export function parseTimeStampRequest(der: Uint8Array): ParsedRequest {
  const [version, imprint, ...rest] = readChildren(readTlv(der));
  if (version?.tag !== 0x02 || version.content[0] !== 1) throw new Error('TimeStampReq version is not 1');
  const [alg, hashed] = readChildren(imprint!);
  const [algOid] = readChildren(alg!);
  let nonce: bigint | undefined;
  let certReq = false;
  for (const f of rest) {
    if (f.tag === 0x02) nonce = BigInt(`0x${Buffer.from(f.content).toString('hex')}`);
    if (f.tag === 0x01) certReq = f.content[0] !== 0;
  }
  return { hashAlgorithm: decodeOid(algOid!.content), messageImprint: new Uint8Array(hashed!.content), nonce, certReq };
}

let serialCounter = 1000n;

/**
 * A granted TimeStampResp for `request`, signed by `tsa`: SEQUENCE { PKIStatusInfo { granted },
 * ContentInfo { id-signedData, [0] SignedData } }. Also returns the token alone.
 */
export function grantTimeStamp(
  tsa: TsaIdentity,
  request: ParsedRequest,
  opts: { genTime?: Date; nonce?: bigint | undefined; messageImprint?: Uint8Array; extraCerts?: Uint8Array[] } = {},
): { response: Uint8Array; issued: IssuedToken } {
  const genTime = new Date(Math.floor((opts.genTime ?? new Date()).getTime() / 1000) * 1000);
  const serial = ++serialCounter;
  const nonce = 'nonce' in opts ? opts.nonce : request.nonce;
  const messageImprint = opts.messageImprint ?? request.messageImprint;
  const tstInfo = seq(
    smallInt(1),
    oid(OID.policy),
    seq(seq(oid(OID.sha256), nullValue()), octetString(messageImprint)),
    uintBytes(bigintBytes(serial)),
    generalizedTime(genTime),
    seq(smallInt(1)), // accuracy: 1 s
    ...(nonce !== undefined ? [uintBytes(bigintBytes(nonce))] : []),
  );

  const certHash = createHash('sha256').update(tsa.cert.certDer).digest();
  // DER SET OF: elements sorted by their encodings (verifiers re-encode before checking the signature).
  const attributes = [
    seq(oid(OID.contentType), set(oid(OID.tstInfo))),
    seq(oid(OID.messageDigest), set(octetString(createHash('sha256').update(tstInfo).digest()))),
    // SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { hashAlgorithm DEFAULT sha256, certHash } }
    seq(oid(OID.signingCertificateV2), set(seq(seq(seq(octetString(certHash)))))),
  ].sort(compareBytes);
  const signedAttrs = concatBytes(attributes);
  const signature = nodeSign('sha256', set(...attributes), { key: tsa.key, dsaEncoding: 'der' });

  const { issuer, serial: certSerial } = issuerAndSerial(tsa.cert.certDer);
  const signerInfo = seq(
    smallInt(1),
    seq(issuer, certSerial),
    seq(oid(OID.sha256)),
    tlv(0xa0, signedAttrs), // [0] IMPLICIT SET OF Attribute
    seq(oid(OID.ecdsaWithSha256)),
    octetString(new Uint8Array(signature)),
  );
  const certs = request.certReq ? [tsa.cert.certDer, ...(opts.extraCerts ?? [])] : (opts.extraCerts ?? []);
  const signedData = seq(
    smallInt(3),
    set(seq(oid(OID.sha256))),
    seq(oid(OID.tstInfo), explicit(0, octetString(tstInfo))),
    ...(certs.length > 0 ? [tlv(0xa0, concatBytes(certs))] : []), // [0] IMPLICIT CertificateSet
    set(signerInfo),
  );
  const token = seq(oid(OID.signedData), explicit(0, signedData));
  return {
    response: seq(seq(smallInt(0)), token),
    issued: { genTime, serial, nonce, messageImprint, token },
  };
}

/** A refused TimeStampResp: PKIStatus rejection with failInfo bits and a status string. */
export function rejectTimeStamp(failInfoBits: number[], text: string): Uint8Array {
  const bytes = new Uint8Array(4);
  for (const b of failInfoBits) bytes[b >> 3] = (bytes[b >> 3] ?? 0) | (0x80 >> (b & 7));
  let len = bytes.length;
  while (len > 1 && bytes[len - 1] === 0) len--;
  const last = bytes[len - 1]!;
  let unused = 0;
  while (unused < 7 && (last & (1 << unused)) === 0) unused++;
  return seq(seq(smallInt(2), seq(utf8String(text)), bitString(bytes.subarray(0, len), unused)));
}

export interface FakeTsa {
  url: string;
  port: number;
  identity: TsaIdentity;
  /** PEM of the TSA's root: the trust anchor a verifier needs to call its tokens trusted. */
  caPem: string;
  mode: FakeTsaMode;
  /** Added to the wall clock for genTime. */
  clockOffsetMs: number;
  requests: Array<{ contentType: string | undefined; body: Uint8Array }>;
  issued: IssuedToken[];
  close(): Promise<void>;
}

export async function startFakeTsa(opts: { mode?: FakeTsaMode; clockOffsetMs?: number } = {}): Promise<FakeTsa> {
  const identity = createTsaIdentity();
  const hanging = new Set<ServerResponse>();
  const state: FakeTsa = {
    url: '',
    port: 0,
    identity,
    caPem: identity.ca.certPem,
    mode: opts.mode ?? 'grant',
    clockOffsetMs: opts.clockOffsetMs ?? 0,
    requests: [],
    issued: [],
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      state.requests.push({ contentType: req.headers['content-type'], body });
      const reply = (der: Uint8Array) => {
        res.writeHead(200, { 'content-type': 'application/timestamp-reply', 'content-length': der.length });
        res.end(der);
      };
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(415, { 'content-type': 'text/plain' }).end('expected POST application/timestamp-query');
        return;
      }
      let request: ParsedRequest;
      try {
        request = parseTimeStampRequest(body);
      } catch {
        reply(rejectTimeStamp([5], 'the request is not a TimeStampReq')); // badDataFormat
        return;
      }
      const genTime = new Date(Date.now() + state.clockOffsetMs);
      switch (state.mode) {
        case 'hang':
          hanging.add(res);
          return;
        case 'http-error':
          res.writeHead(500, { 'content-type': 'text/plain' }).end('TSA out of order');
          return;
        case 'reject':
          reply(rejectTimeStamp([0, 25], 'the fake TSA refuses, as scripted')); // badAlg, systemFailure
          return;
        default: {
          const { response, issued } = grantTimeStamp(identity, request, {
            genTime,
            ...(state.mode === 'wrong-nonce' ? { nonce: (request.nonce ?? 0n) + 1n } : {}),
            ...(state.mode === 'wrong-imprint' ? { messageImprint: createHash('sha256').update('something else').digest() } : {}),
            // Filler certificates: an answer too big for the reserved signature box.
            ...(state.mode === 'oversized' ? { extraCerts: Array.from({ length: 40 }, () => identity.ca.certDer) } : {}),
          });
          state.issued.push(issued);
          reply(response);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}/tsa`;
  return state;
}

// ---------------------------------------------------------------------------

function issuerAndSerial(certDer: Uint8Array): { issuer: Uint8Array; serial: Uint8Array } {
  const [tbs] = readChildren(readTlv(certDer));
  const fields = readChildren(tbs!);
  const base = fields[0]?.tag === 0xa0 ? 1 : 0; // v3 certificates start with [0] version
  return { serial: fields[base]!.raw, issuer: fields[base + 2]!.raw };
}

function bigintBytes(v: bigint): Uint8Array {
  const hex = v.toString(16);
  return new Uint8Array(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
