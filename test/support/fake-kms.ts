/**
 * A fake Cloud KMS on 127.0.0.1 speaking the real wire protocol of `@google-cloud/kms`:
 * - `transport: 'grpc'` (default): HTTP/2 gRPC, protobuf messages of the client's own protos.json,
 *   service `google.cloud.kms.v1.KeyManagementService`, methods GetPublicKey and AsymmetricSign;
 * - `transport: 'rest'`: the client's `fallback` transport, HTTP/1.1 + proto3 JSON on the
 *   google.api.http paths `GET /v1/{name=…/cryptoKeyVersions/*}/publicKey` and
 *   `POST /v1/{name=…/cryptoKeyVersions/*}:asymmetricSign`.
 *
 * Key versions live in memory (node:crypto keys). EC_SIGN_P256_SHA256 signs the SHA-256 *digest*
 * it is sent, as KMS does (node:crypto can only hash-then-sign, so the ECDSA step is done here with
 * BigInt arithmetic) and returns DER; EC_SIGN_ED25519 signs `data`. CRC32C fields are computed and
 * checked as KMS does. Every request is recorded; responses can be tampered with or failed on demand.
 */
import { sign as cryptoSign, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { GrpcClient, grpc } from 'google-gax';
import { crc32c } from '../../src/signing/kms-signer.ts';

// ---------------------------------------------------------------------------------------------
// Shared by the fakes (fake-vertex.ts imports these).

export type FakeTransport = 'grpc' | 'rest';

// prettier-ignore
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;
export type GrpcStatusName = (typeof GRPC_STATUS_NAMES)[number];
const HTTP_OF_GRPC = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

/** An error a fake answers with: a google.rpc.Status by canonical name. */
export interface ScriptedError {
  status: GrpcStatusName;
  message?: string;
  /** REST only; defaults to Google's mapping of `status`. */
  httpStatus?: number;
}

export const grpcCodeOf = (status: GrpcStatusName): number => GRPC_STATUS_NAMES.indexOf(status);
export const httpStatusOf = (status: GrpcStatusName): number => HTTP_OF_GRPC[grpcCodeOf(status)] ?? 500;

export function grpcError(err: ScriptedError): Partial<grpc.StatusObject> {
  return { code: grpcCodeOf(err.status), details: err.message ?? err.status, metadata: new grpc.Metadata() };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Google's JSON error body: `{"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT"}}`. */
export function sendJsonError(res: ServerResponse, err: ScriptedError): void {
  const code = err.httpStatus ?? httpStatusOf(err.status);
  sendJson(res, code, { error: { code, message: err.message ?? err.status, status: err.status } });
}

export async function listenHttp(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) {
  const server: Server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJsonError(res, { status: 'INTERNAL', message: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export async function listenGrpc(service: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) {
  const server = new grpc.Server();
  server.addService(service, impl);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  let closed = false;
  return {
    port,
    close: async () => {
      if (closed) return;
      closed = true;
      server.forceShutdown();
    },
  };
}

const require = createRequire(import.meta.url);

/**
 * The gRPC service definition of `service` (e.g. 'google.cloud.kms.v1.KeyManagementService') from a
 * client package's protos.json, loaded the way google-gax loads it for the client itself.
 */
export function loadGrpcService(protosJsonModule: string, service: string): grpc.ServiceDefinition {
  const json = require(protosJsonModule) as object;
  let node: unknown = new GrpcClient().loadProtoJSON(json);
  for (const part of service.split('.')) node = (node as Record<string, unknown>)[part];
  const def = (node as { service?: grpc.ServiceDefinition } | undefined)?.service;
  if (!def) throw new Error(`no gRPC service ${service} in ${protosJsonModule}`);
  return def;
}

export const metadataObject = (md: grpc.Metadata): Record<string, string> => Object.fromEntries(Object.entries(md.getMap()).map(([k, v]) => [k, String(v)]));

// ---------------------------------------------------------------------------------------------

export type FakeKmsAlgorithm = 'EC_SIGN_P256_SHA256' | 'EC_SIGN_ED25519';

const ALGORITHM_NUMBER: Record<string, number> = { EC_SIGN_P256_SHA256: 12, EC_SIGN_ED25519: 40 };

export interface FakeKmsKey {
  name: string;
  algorithm: FakeKmsAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  pem: string;
}

export type FakeKmsRpc = 'GetPublicKey' | 'AsymmetricSign';

/** A received request, normalised from either transport. */
export interface RecordedKmsRequest {
  transport: FakeTransport;
  rpc: FakeKmsRpc | 'unknown';
  name: string;
  /** AsymmetricSign: `digest.sha256` when sent. */
  digestSha256?: Buffer;
  digestCrc32c?: number;
  /** AsymmetricSign: `data` when sent (non-empty). */
  data?: Buffer;
  dataCrc32c?: number;
  /** gRPC metadata or HTTP headers. */
  headers: Record<string, string>;
  /** REST only: method and path. */
  http?: { method: string; path: string; query: Record<string, string> };
}

/** What to spoil in the next successful response. */
export interface KmsTamper {
  /** Wrong signatureCrc32c (AsymmetricSign) — the client must notice. */
  signatureCrc32c?: boolean;
  /** Flip a bit of the signature and send the CRC of the *flipped* bytes (CRC passes, verification must fail). */
  signature?: boolean;
  /** Report verifiedDigestCrc32c / verifiedDataCrc32c = false. */
  unverified?: boolean;
  /** Wrong pemCrc32c (GetPublicKey). */
  pemCrc32c?: boolean;
  /** Echo this name instead of the real one. */
  name?: string;
}

export interface FakeKms {
  readonly transport: FakeTransport;
  readonly host: string;
  readonly port: number;
  readonly requests: RecordedKmsRequest[];
  readonly keys: Map<string, FakeKmsKey>;
  addKey(name: string, algorithm: FakeKmsAlgorithm): FakeKmsKey;
  /** A key version whose algorithm the signer does not support (GetPublicKey answers it). */
  addUnsupportedKey(name: string, algorithm: string): void;
  tamperNext(t: KmsTamper): void;
  /** The next call of `rpc` answers this error (then normal service resumes). */
  failNext(rpc: FakeKmsRpc, err: ScriptedError): void;
  /** Options for `kmsClient()`: plaintext, this port, this fake's transport. */
  clientOptions(): { apiEndpoint: string; port: number; protocol: 'http'; fallback: boolean };
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// ECDSA P-256 over a given digest (what KMS does with AsymmetricSignRequest.digest).

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};
type Point = { x: bigint; y: bigint } | null;

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function inv(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}
function add(p1: Point, p2: Point): Point {
  if (!p1) return p2;
  if (!p2) return p1;
  if (p1.x === p2.x && mod(p1.y + p2.y, P) === 0n) return null;
  const l = p1.x === p2.x && p1.y === p2.y ? mod((3n * p1.x * p1.x + A) * inv(2n * p1.y, P), P) : mod((p2.y - p1.y) * inv(p2.x - p1.x, P), P);
  const x = mod(l * l - p1.x - p2.x, P);
  return { x, y: mod(l * (p1.x - x) - p1.y, P) };
}
function mul(k: bigint, pt: Point): Point {
  let r: Point = null;
  let q = pt;
  while (k > 0n) {
    if (k & 1n) r = add(r, q);
    q = add(q, q);
    k >>= 1n;
  }
  return r;
}
const toBig = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);

function derInt(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, 'hex');
  if ((b[0] as number) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}

/** ECDSA P-256 signature (DER) over `digest` as given — no further hashing. */
export function ecdsaP256SignDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const d = toBig(Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url'));
  const z = toBig(digest.subarray(0, 32));
  for (;;) {
    const k = mod(toBig(randomBytes(40)), N - 1n) + 1n;
    const R = mul(k, G);
    if (!R) continue;
    const r = mod(R.x, N);
    if (r === 0n) continue;
    const s = mod(inv(k, N) * (z + r * d), N);
    if (s === 0n) continue;
    const body = Buffer.concat([derInt(r), derInt(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}

// ---------------------------------------------------------------------------------------------

type CoreResult<T> = { ok: true; body: T } | { ok: false; error: ScriptedError };

interface PublicKeyOut {
  pem: string;
  algorithm: string;
  pemCrc32c?: number;
  name: string;
  protectionLevel: 'SOFTWARE';
}
interface SignOut {
  signature: Buffer;
  signatureCrc32c: number;
  verifiedDigestCrc32c: boolean;
  name: string;
  verifiedDataCrc32c: boolean;
  protectionLevel: 'SOFTWARE';
}

const VERSION = 'projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+/cryptoKeyVersions/[^/:]+';
const PUBLIC_KEY_PATH = new RegExp(`^/v1/(${VERSION})/publicKey$`);
const SIGN_PATH = new RegExp(`^/v1/(${VERSION}):asymmetricSign$`);

const int64 = (v: unknown): number | undefined => {
  if (v === undefined || v === null) return undefined;
  const inner = typeof v === 'object' ? (v as { value?: unknown }).value : v;
  return inner === undefined || inner === null ? undefined : Number(inner);
};

export async function startFakeKms(opts: { transport?: FakeTransport } = {}): Promise<FakeKms> {
  const transport = opts.transport ?? 'grpc';
  const requests: RecordedKmsRequest[] = [];
  const keys = new Map<string, FakeKmsKey>();
  const unsupported = new Map<string, string>();
  let tamper: KmsTamper | undefined;
  const failures = new Map<FakeKmsRpc, ScriptedError>();

  function preamble(rpc: FakeKmsRpc, name: string): ScriptedError | undefined {
    const scripted = failures.get(rpc);
    if (scripted) {
      failures.delete(rpc);
      return scripted;
    }
    if (!keys.has(name) && !unsupported.has(name)) {
      return { status: 'NOT_FOUND', message: `CryptoKeyVersion ${name} not found.` };
    }
    return undefined;
  }

  function getPublicKey(rec: RecordedKmsRequest): CoreResult<PublicKeyOut> {
    const error = preamble('GetPublicKey', rec.name);
    if (error) return { ok: false, error };
    const t = tamper;
    tamper = undefined;
    const key = keys.get(rec.name);
    if (!key) {
      const pem = '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n';
      const algorithm = unsupported.get(rec.name) as string;
      return { ok: true, body: { pem, algorithm, pemCrc32c: crc32c(pem), name: rec.name, protectionLevel: 'SOFTWARE' } };
    }
    const pemCrc = crc32c(key.pem);
    return {
      ok: true,
      body: {
        pem: key.pem,
        algorithm: key.algorithm,
        pemCrc32c: t?.pemCrc32c ? (pemCrc ^ 1) >>> 0 : pemCrc,
        name: t?.name ?? rec.name,
        protectionLevel: 'SOFTWARE',
      },
    };
  }

  function asymmetricSign(rec: RecordedKmsRequest): CoreResult<SignOut> {
    const error = preamble('AsymmetricSign', rec.name);
    if (error) return { ok: false, error };
    const key = keys.get(rec.name);
    if (!key) {
      return { ok: false, error: { status: 'FAILED_PRECONDITION', message: `${rec.name} cannot AsymmetricSign.` } };
    }
    let signature: Buffer;
    let verifiedDigestCrc32c = false;
    let verifiedDataCrc32c = false;
    if (key.algorithm === 'EC_SIGN_P256_SHA256') {
      if (rec.data || !rec.digestSha256) {
        return { ok: false, error: { status: 'INVALID_ARGUMENT', message: 'digest.sha256 is required for EC_SIGN_P256_SHA256.' } };
      }
      if (rec.digestSha256.length !== 32) {
        return { ok: false, error: { status: 'INVALID_ARGUMENT', message: 'digest.sha256 must be 32 bytes.' } };
      }
      if (rec.digestCrc32c !== undefined) {
        if (rec.digestCrc32c !== crc32c(rec.digestSha256)) {
          return {
            ok: false,
            error: {
              status: 'INVALID_ARGUMENT',
              message: 'The checksum in field digest_crc32c did not match the data in field digest.',
            },
          };
        }
        verifiedDigestCrc32c = true;
      }
      signature = ecdsaP256SignDigest(key.privateKey, rec.digestSha256);
    } else {
      if (rec.digestSha256 || !rec.data) {
        return { ok: false, error: { status: 'INVALID_ARGUMENT', message: 'data is required for EC_SIGN_ED25519.' } };
      }
      if (rec.dataCrc32c !== undefined) {
        if (rec.dataCrc32c !== crc32c(rec.data)) {
          return {
            ok: false,
            error: {
              status: 'INVALID_ARGUMENT',
              message: 'The checksum in field data_crc32c did not match the data in field data.',
            },
          };
        }
        verifiedDataCrc32c = true;
      }
      signature = cryptoSign(null, rec.data, key.privateKey);
    }
    const t = tamper;
    tamper = undefined;
    if (t?.signature) {
      signature = Buffer.from(signature);
      const last = signature.length - 1;
      signature[last] = (signature[last] as number) ^ 0x01;
    }
    const sigCrc = crc32c(signature);
    return {
      ok: true,
      body: {
        signature,
        signatureCrc32c: t?.signatureCrc32c ? (sigCrc ^ 0x80) >>> 0 : sigCrc,
        verifiedDigestCrc32c: t?.unverified ? false : verifiedDigestCrc32c,
        name: t?.name ?? rec.name,
        verifiedDataCrc32c: t?.unverified ? false : verifiedDataCrc32c,
        protectionLevel: 'SOFTWARE',
      },
    };
  }

  // --- gRPC adapter: proto-loader objects (bytes → Buffer, int64 → string, enums → names)
  type Unary = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => void;
  const grpcImpl: Record<string, Unary> = {
    GetPublicKey(call, cb) {
      const rec: RecordedKmsRequest = {
        transport,
        rpc: 'GetPublicKey',
        name: String(call.request['name'] ?? ''),
        headers: metadataObject(call.metadata),
      };
      requests.push(rec);
      const r = getPublicKey(rec);
      if (!r.ok) return cb(grpcError(r.error));
      const { pemCrc32c, ...rest } = r.body;
      cb(null, { ...rest, ...(pemCrc32c === undefined ? {} : { pemCrc32c: { value: String(pemCrc32c) } }) });
    },
    AsymmetricSign(call, cb) {
      const q = call.request as {
        name?: string;
        digest?: { sha256?: Buffer } | null;
        digestCrc32c?: unknown;
        data?: Buffer;
        dataCrc32c?: unknown;
      };
      const digest = q.digest?.sha256;
      const rec: RecordedKmsRequest = {
        transport,
        rpc: 'AsymmetricSign',
        name: q.name ?? '',
        ...(digest?.length ? { digestSha256: Buffer.from(digest) } : {}),
        ...(int64(q.digestCrc32c) === undefined ? {} : { digestCrc32c: int64(q.digestCrc32c) }),
        ...(q.data?.length ? { data: Buffer.from(q.data) } : {}),
        ...(int64(q.dataCrc32c) === undefined ? {} : { dataCrc32c: int64(q.dataCrc32c) }),
        headers: metadataObject(call.metadata),
      };
      requests.push(rec);
      const r = asymmetricSign(rec);
      if (!r.ok) return cb(grpcError(r.error));
      cb(null, { ...r.body, signatureCrc32c: { value: String(r.body.signatureCrc32c) } });
    },
  };

  // --- REST adapter: proto3 JSON (bytes → base64, Int64Value → "123", enums → names or numbers)
  async function restHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const query = Object.fromEntries(url.searchParams);
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      if (raw) body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      sendJsonError(res, { status: 'INVALID_ARGUMENT', message: 'Invalid JSON payload received.' });
      return;
    }
    const intEnums = (query['$alt'] ?? '').includes('enum-encoding=int');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const http = { method: req.method ?? '', path, query };
    const pub = req.method === 'GET' ? PUBLIC_KEY_PATH.exec(path) : null;
    const sig = req.method === 'POST' ? SIGN_PATH.exec(path) : null;
    if (pub) {
      const rec: RecordedKmsRequest = { transport, rpc: 'GetPublicKey', name: pub[1] as string, headers, http };
      requests.push(rec);
      const r = getPublicKey(rec);
      if (!r.ok) return sendJsonError(res, r.error);
      const b = r.body;
      sendJson(res, 200, {
        pem: b.pem,
        algorithm: intEnums ? (ALGORITHM_NUMBER[b.algorithm] ?? b.algorithm) : b.algorithm,
        ...(b.pemCrc32c === undefined ? {} : { pemCrc32c: String(b.pemCrc32c) }),
        name: b.name,
        protectionLevel: intEnums ? 1 : b.protectionLevel,
      });
      return;
    }
    if (sig) {
      const digest = (body['digest'] as { sha256?: string } | undefined)?.sha256;
      const data = body['data'] as string | undefined;
      const rec: RecordedKmsRequest = {
        transport,
        rpc: 'AsymmetricSign',
        name: sig[1] as string,
        ...(digest ? { digestSha256: Buffer.from(digest, 'base64') } : {}),
        ...(int64(body['digestCrc32c']) === undefined ? {} : { digestCrc32c: int64(body['digestCrc32c']) }),
        ...(data ? { data: Buffer.from(data, 'base64') } : {}),
        ...(int64(body['dataCrc32c']) === undefined ? {} : { dataCrc32c: int64(body['dataCrc32c']) }),
        headers,
        http,
      };
      requests.push(rec);
      const r = asymmetricSign(rec);
      if (!r.ok) return sendJsonError(res, r.error);
      const b = r.body;
      sendJson(res, 200, {
        signature: b.signature.toString('base64'),
        signatureCrc32c: String(b.signatureCrc32c),
        verifiedDigestCrc32c: b.verifiedDigestCrc32c,
        name: b.name,
        verifiedDataCrc32c: b.verifiedDataCrc32c,
        protectionLevel: intEnums ? 1 : b.protectionLevel,
      });
      return;
    }
    requests.push({ transport, rpc: 'unknown', name: '', headers, http });
    sendJsonError(res, { status: 'NOT_FOUND', message: `No route for ${req.method} ${path}` });
  }

  const server =
    transport === 'grpc'
      ? await listenGrpc(loadGrpcService('@google-cloud/kms/build/protos/protos.json', 'google.cloud.kms.v1.KeyManagementService'), grpcImpl as grpc.UntypedServiceImplementation)
      : await listenHttp(restHandler);

  return {
    transport,
    host: '127.0.0.1',
    port: server.port,
    requests,
    keys,
    addKey(name, algorithm) {
      const { privateKey, publicKey } = algorithm === 'EC_SIGN_ED25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const key: FakeKmsKey = {
        name,
        algorithm,
        privateKey,
        publicKey,
        pem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
      };
      keys.set(name, key);
      return key;
    },
    addUnsupportedKey(name, algorithm) {
      unsupported.set(name, algorithm);
    },
    tamperNext(t) {
      tamper = t;
    },
    failNext(rpc, err) {
      failures.set(rpc, err);
    },
    clientOptions: () => ({
      apiEndpoint: '127.0.0.1',
      port: server.port,
      protocol: 'http',
      fallback: transport === 'rest',
    }),
    close: server.close,
  };
}
