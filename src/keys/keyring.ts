import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLocalCa, issueSigningCertificate, pemToDerList } from '../provenance/c2pa/local-ca.ts';
import { type Signer, localSigner } from './signer.ts';

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
};

/** Creates whichever key files are missing; returns the purposes created. Never overwrites a key. */
export function initKeys(dir: string): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  for (const [purpose, spec] of Object.entries(KEY_FILES) as [KeyPurpose, (typeof KEY_FILES)[KeyPurpose]][]) {
    const file = path.join(dir, spec.file);
    if (existsSync(file)) continue;
    const { privateKey } =
      spec.type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    created.push(purpose);
  }
  if (initC2paChain(dir)) created.push('c2pa-chain');
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

export async function loadKeyring(dir: string): Promise<Keyring> {
  const audit = readPrivate(dir, 'audit');
  const issuer = readPrivate(dir, 'tokenIssuer');
  const clearance = readPrivate(dir, 'clearance');
  const c2pa = readPrivate(dir, 'c2pa');
  return {
    dir,
    audit: await localSigner(audit.privateKey, audit.publicKey),
    tokenIssuer: { signer: await localSigner(issuer.privateKey, issuer.publicKey), ...issuer },
    clearance: await localSigner(clearance.privateKey, clearance.publicKey),
    c2pa: {
      signer: await localSigner(c2pa.privateKey, c2pa.publicKey),
      certChainDer: pemToDerList(readFileSync(path.join(dir, C2PA_FILES.signerCert), 'utf8')),
      trustAnchorsPem: [readFileSync(path.join(dir, C2PA_FILES.caCert), 'utf8')],
    },
  };
}
