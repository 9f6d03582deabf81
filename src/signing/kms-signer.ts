/**
 * Cloud KMS implementation of {@link Signer}.
 *
 * Transport: gRPC (the client library's default), always with an explicit auth client:
 * - real Google: Application Default Credentials resolved up front by {@link kmsClientFromAdc}, so a
 *   missing credential is one clean rejection at start-up. Left to google-gax's own lazy GoogleAuth, a
 *   missing ADC also escapes as unhandled rejections (googleapis/google-cloud-node#9085).
 * - local emulator (`protocol: 'http'`): plaintext gRPC (`sslCreds: grpc.credentials.createInsecure()`)
 *   and google-auth-library's `PassThroughClient`.
 * The REST transport (`fallback: true`) works too, but with google-gax 5.0.x + gaxios 7 it ignores
 * call deadlines and never retries (its errors carry HTTP statuses or errno strings instead of gRPC
 * codes: googleapis/gax-nodejs#1803) — hence gRPC by default. Errors of either transport are
 * normalised by {@link describeGoogleRpcError}.
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { type AuthClient, GoogleAuth, PassThroughClient } from 'google-auth-library';
import { grpc } from 'google-gax';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { describeGoogleRpcError, GRPC_STATUS_NAMES } from '../google/rpc-error.ts';
import { derEcdsaSignatureToRaw } from '../provenance/c2pa/cose-sign1.ts';
import type { Signer } from './signer.ts';

export { describeGoogleRpcError, type GoogleRpcFailure } from '../google/rpc-error.ts';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

const KEY_VERSION_NAME = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/[^/]+$/;

// ---------------------------------------------------------------------------------------------
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as Cloud KMS uses for its integrity fields.
// No installed package provides CRC32C (crc-32 / buffer-crc32 are the IEEE polynomial).

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C of bytes (strings are taken as UTF-8), as an unsigned 32-bit number. */
export function crc32c(input: Uint8Array | string): number {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc = (crc >>> 8) ^ (CRC32C_TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Errors of either transport → gRPC code, canonical status name, HTTP status, message.

// ---------------------------------------------------------------------------------------------

export type KmsSignerErrorCode =
  /** A checksum, the echoed key name or the signature itself did not check out: data corrupted in transit. */
  | 'INTEGRITY'
  /** The key version's algorithm is neither EC_SIGN_P256_SHA256 nor EC_SIGN_ED25519. */
  | 'UNSUPPORTED_ALGORITHM'
  /** Cloud KMS (or the network to it) answered with an error; see `grpcCode` / `status`. */
  | 'KMS_CALL'
  /** Application Default Credentials could not be loaded. */
  | 'NO_CREDENTIALS';

export class KmsSignerError extends Error {
  override readonly name = 'KmsSignerError';
  constructor(
    readonly code: KmsSignerErrorCode,
    message: string,
    /** gRPC status code when `code` is KMS_CALL (16 for NO_CREDENTIALS). */
    readonly grpcCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** Canonical gRPC status name of `grpcCode`. */
  get status(): string | undefined {
    return this.grpcCode === undefined ? undefined : GRPC_STATUS_NAMES[this.grpcCode];
  }
}

export interface KmsClientOptions {
  /** Host (no scheme). Default `cloudkms.googleapis.com`; for a local emulator `127.0.0.1`. */
  apiEndpoint?: string;
  port?: number;
  /** `http`: plaintext local emulator (insecure gRPC, or plain HTTP with `fallback`). Default `https`. */
  protocol?: 'http' | 'https';
  /** `true` selects the REST transport (HTTP/1.1 + JSON). Default `false`: gRPC. */
  fallback?: boolean;
  /**
   * Explicit auth client. Default: `PassThroughClient` for `protocol: 'http'`; otherwise google-gax's
   * lazy ADC — prefer {@link kmsClientFromAdc}, which resolves ADC first.
   */
  authClient?: AuthClient;
}

/** Builds a KeyManagementServiceClient for real Google or for a local emulator. Synchronous, no I/O. */
export function kmsClient(opts: KmsClientOptions = {}): KeyManagementServiceClient {
  const local = opts.protocol === 'http';
  const authClient = opts.authClient ?? (local ? new PassThroughClient() : undefined);
  return new KeyManagementServiceClient({
    ...(opts.apiEndpoint ? { apiEndpoint: opts.apiEndpoint } : {}),
    ...(opts.port ? { port: opts.port } : {}),
    ...(authClient ? { authClient } : {}),
    ...(opts.fallback ? { fallback: true, ...(opts.protocol ? { protocol: opts.protocol } : {}) } : local ? { sslCreds: grpc.credentials.createInsecure() } : {}),
  });
}

/**
 * Resolves Application Default Credentials first (rejecting cleanly with NO_CREDENTIALS when there
 * are none), then builds the client with that explicit auth client. Use this for real Google.
 */
export async function kmsClientFromAdc(opts: Omit<KmsClientOptions, 'authClient'> = {}): Promise<KeyManagementServiceClient> {
  let authClient: AuthClient;
  try {
    authClient = await new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] }).getClient();
  } catch (err) {
    throw new KmsSignerError('NO_CREDENTIALS', `Cloud KMS: ${(err as Error).message}`, 16, { cause: err });
  }
  return kmsClient({ ...opts, authClient });
}

// ---------------------------------------------------------------------------------------------

export interface KmsSigner extends Signer {
  /** The Cloud KMS CryptoKeyVersion resource name the signatures come from. */
  readonly keyVersionName: string;
}

export interface CreateKmsSignerOptions {
  /** `projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V` */
  keyVersionName: string;
  client: KeyManagementServiceClient;
  /**
   * Total deadline per call, retries included (the client retries UNAVAILABLE / DEADLINE_EXCEEDED for
   * GetPublicKey and AsymmetricSign). Default 30 s. Enforced by the gRPC transport only.
   */
  timeoutMs?: number;
}

type Int64ValueLike = { value?: number | string | { toString(): string } | null } | null | undefined;

function int64Value(v: Int64ValueLike): number | undefined {
  if (v === null || v === undefined || v.value === null || v.value === undefined) return undefined;
  return Number(typeof v.value === 'object' ? v.value.toString() : v.value);
}

function asBytes(v: Uint8Array | string | null | undefined): Uint8Array {
  if (v === null || v === undefined) return new Uint8Array();
  return typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'base64')) : new Uint8Array(v);
}

function callFailed(rpc: string, name: string, err: unknown): KmsSignerError {
  if (err instanceof KmsSignerError) return err;
  const f = describeGoogleRpcError(err);
  return new KmsSignerError('KMS_CALL', `Cloud KMS ${rpc} on ${name} failed: ${f.status}: ${f.message}`, f.grpcCode, {
    cause: err,
  });
}

/**
 * A {@link Signer} whose private key stays in Cloud KMS. Reads the public key once (checking its
 * CRC32C and echoed name); every `sign` sends a CRC32C of what it signs and checks KMS verified it,
 * checks the signature's CRC32C and echoed name, and verifies the signature against the public key
 * before returning it.
 */
export async function createKmsSigner(opts: CreateKmsSignerOptions): Promise<KmsSigner> {
  const { keyVersionName: name, client } = opts;
  if (!KEY_VERSION_NAME.test(name)) {
    throw new Error(`not a Cloud KMS CryptoKeyVersion name: ${name}`);
  }
  const callOptions = { timeout: opts.timeoutMs ?? 30_000 };

  let pub;
  try {
    [pub] = await client.getPublicKey({ name }, callOptions);
  } catch (err) {
    throw callFailed('GetPublicKey', name, err);
  }
  if (pub.name !== name) {
    throw new KmsSignerError('INTEGRITY', `GetPublicKey answered for ${pub.name}, not ${name}`);
  }
  const pem = pub.pem ?? '';
  const pemCrc = int64Value(pub.pemCrc32c);
  if (!pem || pemCrc === undefined || crc32c(pem) !== pemCrc) {
    throw new KmsSignerError('INTEGRITY', `GetPublicKey for ${name}: pem does not match pemCrc32c`);
  }

  const algorithm = String(pub.algorithm);
  let alg: Signer['alg'];
  if (algorithm === 'EC_SIGN_P256_SHA256') alg = 'ES256';
  else if (algorithm === 'EC_SIGN_ED25519') alg = 'EdDSA';
  else {
    throw new KmsSignerError('UNSUPPORTED_ALGORITHM', `${name} is ${algorithm}; only EC_SIGN_P256_SHA256 (ES256) and EC_SIGN_ED25519 (EdDSA) can sign here`);
  }

  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (err) {
    throw new KmsSignerError('INTEGRITY', `GetPublicKey for ${name}: unreadable pem`, undefined, { cause: err });
  }
  const keyMatches =
    alg === 'EdDSA' ? publicKey.asymmetricKeyType === 'ed25519' : publicKey.asymmetricKeyType === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  if (!keyMatches) {
    throw new KmsSignerError('INTEGRITY', `${name}: public key type does not match algorithm ${algorithm}`);
  }
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');

  async function sign(data: Uint8Array): Promise<Uint8Array> {
    let request;
    if (alg === 'ES256') {
      const digest = createHash('sha256').update(data).digest();
      request = { name, digest: { sha256: digest }, digestCrc32c: { value: crc32c(digest) } };
    } else {
      request = { name, data: Buffer.from(data), dataCrc32c: { value: crc32c(data) } };
    }
    let res;
    try {
      [res] = await client.asymmetricSign(request, callOptions);
    } catch (err) {
      throw callFailed('AsymmetricSign', name, err);
    }
    if (res.name !== name) {
      throw new KmsSignerError('INTEGRITY', `AsymmetricSign answered for ${res.name}, not ${name}`);
    }
    if (alg === 'ES256' ? res.verifiedDigestCrc32c !== true : res.verifiedDataCrc32c !== true) {
      throw new KmsSignerError('INTEGRITY', `AsymmetricSign on ${name}: KMS did not confirm the request's ${alg === 'ES256' ? 'digest' : 'data'} CRC32C`);
    }
    const signature = asBytes(res.signature);
    const sigCrc = int64Value(res.signatureCrc32c);
    if (sigCrc === undefined || crc32c(signature) !== sigCrc) {
      throw new KmsSignerError('INTEGRITY', `AsymmetricSign on ${name}: signature does not match signatureCrc32c`);
    }
    let out: Uint8Array;
    try {
      out = alg === 'ES256' ? derEcdsaSignatureToRaw(signature, 32) : signature;
    } catch (err) {
      throw new KmsSignerError('INTEGRITY', `AsymmetricSign on ${name}: malformed signature`, undefined, {
        cause: err,
      });
    }
    const ok = out.length === 64 && (alg === 'ES256' ? cryptoVerify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, out) : cryptoVerify(null, data, publicKey, out));
    if (!ok) {
      throw new KmsSignerError('INTEGRITY', `AsymmetricSign on ${name}: signature does not verify against the public key`);
    }
    return out;
  }

  return {
    kid,
    alg,
    keyVersionName: name,
    publicJwk: { ...jwk, kid, alg, use: 'sig' },
    sign,
  };
}
