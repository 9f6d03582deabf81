import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Signer, localSigner } from './signer.ts';

/** The service's local keys, by purpose. Each is a PKCS#8 PEM file in the keys directory. */
export const KEY_FILES = {
  audit: { file: 'audit-checkpoint.ed25519.pem', type: 'ed25519' },
  tokenIssuer: { file: 'token-issuer.es256.pem', type: 'ec' },
  clearance: { file: 'clearance.es256.pem', type: 'ec' },
} as const;

export type KeyPurpose = keyof typeof KEY_FILES;

export type Keyring = {
  dir: string;
  audit: Signer;
  /** Signs tokens in the embedded (local issuer) mode. */
  tokenIssuer: { signer: Signer; privateKey: KeyObject; publicKey: KeyObject };
  /** Signs training clearances (compact JWS, ES256). */
  clearance: Signer;
};

/** Creates whichever key files are missing; returns the purposes created. Never overwrites a key. */
export function initKeys(dir: string): KeyPurpose[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created: KeyPurpose[] = [];
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
  return created;
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
  return {
    dir,
    audit: await localSigner(audit.privateKey, audit.publicKey),
    tokenIssuer: { signer: await localSigner(issuer.privateKey, issuer.publicKey), ...issuer },
    clearance: await localSigner(clearance.privateKey, clearance.publicKey),
  };
}
