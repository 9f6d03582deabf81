import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import type { KeysConfig } from '../config/config.ts';
import { createLocalCa, issueSigningCertificate, pemToDerList } from '../provenance/c2pa/local-ca.ts';
import { createKmsSigner, kmsClient, kmsClientFromAdc } from './kms-signer.ts';
import { localSigner, type Signer } from './signer.ts';

/** The service's local keys, by purpose. Each is a PKCS#8 PEM file in the keys directory. */
export const KEY_FILES = {
  audit: { file: 'audit-checkpoint.ed25519.pem', type: 'ed25519' },
  tokenIssuer: { file: 'token-issuer.es256.pem', type: 'ec' },
  clearance: { file: 'clearance.es256.pem', type: 'ec' },
  c2pa: { file: 'c2pa-signer.es256.pem', type: 'ec' },
} as const;

/** The embedded C2PA trust chain: a local root CA and the signing key's certificate, issued by it. */
export const C2PA_FILES = {
  caCert: 'c2pa-ca.cert.pem',
  caKey: 'c2pa-ca.key.pem',
  signerCert: 'c2pa-signer.cert.pem',
} as const;

export type KeyPurpose = keyof typeof KEY_FILES;

export type Keyring = {
  dir: string;
  audit: Signer;
  /** Signs tokens in the embedded (local issuer) mode. */
  tokenIssuer: { signer: Signer; privateKey: KeyObject; publicKey: KeyObject };
  /** Signs training clearances (compact JWS, ES256). */
  clearance: Signer;
  /** Signs C2PA manifests of outputs: ES256 with its certificate chain (leaf first, root omitted). */
  c2pa: { signer: Signer; certChainDer: Uint8Array[]; trustAnchorsPem: string[] };
  /** Where audit, clearance and C2PA keys live; the token issuer is always a local file. */
  backend: KeysConfig['backend'];
  /** Releases what the keyring holds open (the Cloud KMS client). Idempotent. */
  close(): Promise<void>;
};

/** The key configuration is unusable: start-up stops with this message. */
export class KeyringError extends Error {
  override readonly name = 'KeyringError';
}

const LOCAL: KeysConfig = { backend: 'local' };

/** Purposes whose private key is a local file under `keys`: all of them, or only the token issuer with Cloud KMS. */
export function localKeyPurposes(keys: KeysConfig = LOCAL): KeyPurpose[] {
  return keys.backend === 'kms' ? ['tokenIssuer'] : (Object.keys(KEY_FILES) as KeyPurpose[]);
}

/**
 * Creates whichever local key files are missing; returns the purposes created. Never overwrites a key.
 * With Cloud KMS only the token issuer (embedded auth mode) is local: no file for a KMS purpose, no local CA.
 */
export function initKeys(dir: string, keys: KeysConfig = LOCAL): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  for (const purpose of localKeyPurposes(keys)) {
    const spec = KEY_FILES[purpose];
    const file = path.join(dir, spec.file);
    if (existsSync(file)) continue;
    const { privateKey } = spec.type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    created.push(purpose);
  }
  if (keys.backend === 'local' && initC2paChain(dir)) created.push('c2pa-chain');
  return created;
}

/**
 * A local root CA and a certificate for the C2PA signing key whose profile c2pa-rs accepts. Ten years:
 * without a time-stamp authority a manifest reads as expired once its certificate does.
 */
function initC2paChain(dir: string): boolean {
  const at = (f: string) => path.join(dir, f);
  if (existsSync(at(C2PA_FILES.signerCert))) return false;
  let ca: { certDer: Uint8Array; privateKeyPem: string };
  if (existsSync(at(C2PA_FILES.caCert)) && existsSync(at(C2PA_FILES.caKey))) {
    ca = { certDer: pemToDerList(readFileSync(at(C2PA_FILES.caCert), 'utf8'))[0]!, privateKeyPem: readFileSync(at(C2PA_FILES.caKey), 'utf8') };
  } else {
    const fresh = createLocalCa({ validityDays: 20 * 365 });
    writeFileSync(at(C2PA_FILES.caKey), fresh.privateKeyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(at(C2PA_FILES.caCert), fresh.certPem, { mode: 0o644, flag: 'wx' });
    ca = fresh;
  }
  const signerKey = createPublicKey(createPrivateKey(readFileSync(at(KEY_FILES.c2pa.file))));
  const cert = issueSigningCertificate(ca, { publicKey: signerKey, validityDays: 10 * 365 });
  writeFileSync(at(C2PA_FILES.signerCert), cert.certPem, { mode: 0o644, flag: 'wx' });
  return true;
}

function readPrivate(dir: string, purpose: KeyPurpose): { privateKey: KeyObject; publicKey: KeyObject } {
  const file = path.join(dir, KEY_FILES[purpose].file);
  if (!existsSync(file)) throw new Error(`key file ${file} is missing: run \`clearframe keys init\``);
  const privateKey = createPrivateKey(readFileSync(file));
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/**
 * The keys by purpose. Local (default): the PEM files of {@link initKeys}. Cloud KMS: audit,
 * clearance and C2PA sign through {@link createKmsSigner} (one client, closed by `close()`), the
 * C2PA certificate chain comes from C2PA_CERT_CHAIN; only the token issuer is read from `dir`.
 * Either way the C2PA chain is checked against the signing key before the service starts.
 */
export async function loadKeyring(dir: string, keys: KeysConfig = LOCAL): Promise<Keyring> {
  const issuer = readPrivate(dir, 'tokenIssuer');
  const tokenIssuer = { signer: await localSigner(issuer.privateKey, issuer.publicKey), ...issuer };
  if (keys.backend === 'kms') return loadKmsKeyring(dir, keys, tokenIssuer);

  const audit = readPrivate(dir, 'audit');
  const clearance = readPrivate(dir, 'clearance');
  const c2pa = readPrivate(dir, 'c2pa');
  const chainFile = path.join(dir, C2PA_FILES.signerCert);
  const anchorFile = path.join(dir, C2PA_FILES.caCert);
  const chainPem = readFileSync(chainFile, 'utf8');
  const anchorPem = readFileSync(anchorFile, 'utf8');
  const certChainDer = checkC2paChain({
    chainPem,
    chainSource: chainFile,
    publicKey: c2pa.publicKey,
    keySource: path.join(dir, KEY_FILES.c2pa.file),
    anchorPem,
    anchorSource: anchorFile,
  });
  return {
    dir,
    backend: 'local',
    audit: await localSigner(audit.privateKey, audit.publicKey),
    tokenIssuer,
    clearance: await localSigner(clearance.privateKey, clearance.publicKey),
    c2pa: {
      signer: await localSigner(c2pa.privateKey, c2pa.publicKey),
      certChainDer,
      trustAnchorsPem: [anchorPem],
    },
    close: async () => {},
  };
}

type KmsKeys = Extract<KeysConfig, { backend: 'kms' }>;

async function loadKmsKeyring(dir: string, keys: KmsKeys, tokenIssuer: Keyring['tokenIssuer']): Promise<Keyring> {
  const endpoint = keys.endpoint;
  const client: KeyManagementServiceClient =
    endpoint?.protocol === 'http'
      ? kmsClient({ apiEndpoint: endpoint.host, ...(endpoint.port ? { port: endpoint.port } : {}), protocol: 'http' })
      : await kmsClientFromAdc(endpoint ? { apiEndpoint: endpoint.host, ...(endpoint.port ? { port: endpoint.port } : {}) } : {});
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= client.close().catch(() => {}));
  try {
    const kms = async (variable: string, keyVersionName: string, want: Signer['alg']) => {
      let signer: Signer;
      try {
        signer = await createKmsSigner({ keyVersionName, client, timeoutMs: keys.timeoutMs });
      } catch (err) {
        throw new KeyringError(`${variable}: ${(err as Error).message}`, { cause: err });
      }
      if (signer.alg !== want) {
        const needs = want === 'EdDSA' ? 'EC_SIGN_ED25519' : 'EC_SIGN_P256_SHA256';
        throw new KeyringError(`${variable}: ${keyVersionName} signs ${signer.alg}; this key must be ${needs} (${want})`);
      }
      return signer;
    };
    // All three settle before a failure closes the client (no call left in flight on a closed channel).
    const settled = await Promise.allSettled([
      kms('KMS_AUDIT_KEY', keys.auditKey, 'EdDSA'),
      kms('KMS_CLEARANCE_KEY', keys.clearanceKey, 'ES256'),
      kms('KMS_C2PA_KEY', keys.c2paKey, 'ES256'),
    ]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [audit, clearance, c2pa] = settled.map((r) => (r as PromiseFulfilledResult<Signer>).value) as [Signer, Signer, Signer];
    const certChainDer = checkC2paChain({
      chainPem: keys.c2paCertChainPem,
      chainSource: `C2PA_CERT_CHAIN (${keys.c2paCertChainFile})`,
      publicKey: createPublicKey({ key: c2pa.publicJwk, format: 'jwk' }),
      keySource: `the Cloud KMS key KMS_C2PA_KEY (${keys.c2paKey})`,
      ...(keys.c2paTrustAnchorPem ? { anchorPem: keys.c2paTrustAnchorPem, anchorSource: 'C2PA_TRUST_ANCHOR' } : {}),
    });
    return {
      dir,
      backend: 'kms',
      audit,
      tokenIssuer,
      clearance,
      c2pa: { signer: c2pa, certChainDer, trustAnchorsPem: keys.c2paTrustAnchorPem ? [keys.c2paTrustAnchorPem] : [] },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

const subjectOf = (c: X509Certificate) => c.subject.replace(/\n/g, ', ');

/**
 * Checks a C2PA signing chain (leaf first, intermediates after, root omitted) before anything is
 * signed with it: the leaf certifies exactly `publicKey`, each certificate is issued by the next,
 * the leaf is valid now, and the anchor (when given) issued the last one. Returns the chain as DER.
 */
export function checkC2paChain(opts: {
  chainPem: string;
  chainSource: string;
  publicKey: KeyObject;
  keySource: string;
  anchorPem?: string;
  anchorSource?: string;
  now?: Date;
}): Uint8Array[] {
  const { chainSource } = opts;
  const der = pemToDerList(opts.chainPem);
  if (der.length === 0) throw new KeyringError(`${chainSource}: no PEM certificate in it`);
  let chain: X509Certificate[];
  try {
    chain = der.map((d) => new X509Certificate(d));
  } catch (err) {
    throw new KeyringError(`${chainSource}: unreadable certificate: ${(err as Error).message}`, { cause: err });
  }
  const leaf = chain[0]!;
  if (!leaf.publicKey.equals(opts.publicKey)) {
    throw new KeyringError(
      `${chainSource}: the signing certificate (${subjectOf(leaf)}) is for another public key than ${opts.keySource}; ` +
        'issue it for that key (leaf first, intermediates after, root omitted)',
    );
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const [cert, next] = [chain[i]!, chain[i + 1]!];
    if (!cert.checkIssued(next) || !cert.verify(next.publicKey)) {
      throw new KeyringError(
        `${chainSource}: certificate ${i + 1} (${subjectOf(cert)}) is not issued by certificate ${i + 2} (${subjectOf(next)}); the order is leaf first, then its issuers`,
      );
    }
  }
  const now = opts.now ?? new Date();
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) {
    throw new KeyringError(`${chainSource}: the signing certificate is valid ${leaf.validFrom} to ${leaf.validTo}, not now`);
  }
  if (opts.anchorPem) {
    const last = chain[chain.length - 1]!;
    let anchors: X509Certificate[];
    try {
      anchors = pemToDerList(opts.anchorPem).map((d) => new X509Certificate(d));
    } catch (err) {
      throw new KeyringError(`${opts.anchorSource ?? 'trust anchor'}: unreadable certificate: ${(err as Error).message}`, { cause: err });
    }
    if (!anchors.some((a) => last.checkIssued(a) && last.verify(a.publicKey))) {
      throw new KeyringError(`${chainSource}: its last certificate (${subjectOf(last)}) is not issued by ${opts.anchorSource ?? 'the trust anchor'}`);
    }
  }
  return der;
}
