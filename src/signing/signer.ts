import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

/**
 * A key the service signs with. The private half may be a local file or a Cloud KMS key:
 * callers see only this, so switching is configuration, not a code fork.
 */
export interface Signer {
  readonly kid: string;
  readonly alg: 'EdDSA' | 'ES256';
  readonly publicJwk: JWK;
  /** EdDSA: the 64-byte Ed25519 signature. ES256: raw r||s (JOSE form), over SHA-256 of `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export async function localSigner(privateKey: KeyObject, publicKey: KeyObject): Promise<Signer> {
  const alg = privateKey.asymmetricKeyType === 'ed25519' ? 'EdDSA' : 'ES256';
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return {
    kid,
    alg,
    publicJwk: { ...jwk, kid, alg, use: 'sig' },
    async sign(data) {
      return alg === 'EdDSA' ? new Uint8Array(cryptoSign(null, data, privateKey)) : new Uint8Array(cryptoSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
    },
  };
}

/** Raw 32-byte Ed25519 public key from its JWK. */
export function ed25519Raw(jwk: JWK): Uint8Array {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('not an Ed25519 public key');
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}
