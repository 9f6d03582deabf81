import { createLocalJWKSet, decodeJwt, errors, type JWTPayload, jwtVerify } from 'jose';
import { signCompactJws } from '../signing/jws.ts';
import type { Signer } from '../signing/signer.ts';

export const CLEARANCE_TOKEN_TYPE = 'clearance+jwt';

/** What a clearance token asserts; a vendor can check all of it offline with the JWKS. */
export type ClearanceClaims = {
  iss: string;
  aud: string;
  sub: string; // the vendor
  jti: string; // the clearance id
  iat: number;
  exp: number;
  dataset: { id: string; digest: string };
  policyDigest: string;
  purpose: string;
  baseModel: string;
};

export function signClearanceToken(signer: Signer, claims: ClearanceClaims): Promise<string> {
  return signCompactJws(signer, claims, CLEARANCE_TOKEN_TYPE);
}

export type TokenCheck = { signature: 'valid'; expired: boolean; claims: ClearanceClaims } | { signature: 'invalid'; expired: false; claims: null; error: string };

/** Verifies signature, issuer, audience and type; reports expiry separately so standing can still be told. */
export async function checkClearanceToken(token: string, publicJwks: object[], expect: { issuer: string; audience: string }): Promise<TokenCheck> {
  const keys = createLocalJWKSet({ keys: publicJwks as never[] });
  const options = { issuer: expect.issuer, audience: expect.audience, algorithms: ['ES256'], typ: CLEARANCE_TOKEN_TYPE };
  try {
    const { payload } = await jwtVerify(token, keys, options);
    return { signature: 'valid', expired: false, claims: payload as unknown as ClearanceClaims };
  } catch (e) {
    if (e instanceof errors.JWTExpired) {
      // The signature and every other claim were checked before expiry was: re-check without the clock.
      const { payload } = await jwtVerify(token, keys, { ...options, currentDate: new Date((decodeJwt(token).exp! - 1) * 1000) });
      return { signature: 'valid', expired: true, claims: payload as JWTPayload as unknown as ClearanceClaims };
    }
    const error =
      e instanceof errors.JWSSignatureVerificationFailed
        ? 'signature does not verify'
        : e instanceof errors.JWKSNoMatchingKey
          ? 'signed by a key this service does not hold'
          : e instanceof errors.JWTClaimValidationFailed
            ? `claim "${e.claim}" is not valid: ${e.reason}`
            : e instanceof errors.JOSEError
              ? `not a valid clearance token (${e.code})`
              : 'not a valid clearance token';
    return { signature: 'invalid', expired: false, claims: null, error };
  }
}
