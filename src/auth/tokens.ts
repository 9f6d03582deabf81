import type { KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { rememberVerified, type VerifiedTokenOptions } from './verified-tokens.ts';

export const ROLES = ['admin', 'legal', 'vendor', 'distributor', 'generator'] as const;
export type Role = (typeof ROLES)[number];

export type Principal = { sub: string; role: Role; vendor?: string };

// Asymmetric algorithms only: `none` and every HMAC algorithm are refused before any key is looked at.
export const ACCEPTED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

const claimsSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(ROLES),
  vendor: z.string().min(1).optional(),
});

export class TokenError extends Error {}

export type TokenVerifier = (token: string) => Promise<Principal>;

/** How far in the future a token's `iat` may be (clock skew between issuer and verifier). */
export const CLOCK_SKEW_SECONDS = 60;

/**
 * A token must say when it was issued and until when it holds, and that span may not exceed the bound:
 * a leaked token is then usable for a bounded time, whatever the issuer allowed. An `iat` in the future
 * (beyond clock skew) would stretch the span past the bound, so it is refused too.
 */
export function lifetimeRefusal(payload: { iat?: number; exp?: number }, maxLifetimeSeconds: number, now = Math.floor(Date.now() / 1000)): string | null {
  const { iat, exp } = payload;
  if (typeof iat !== 'number') return 'token has no "iat" (issued-at) claim: its lifetime cannot be bounded';
  if (typeof exp !== 'number') return 'token has no "exp" (expiry) claim: its lifetime cannot be bounded';
  if (iat > now + CLOCK_SKEW_SECONDS) return 'token "iat" (issued-at) is in the future';
  if (exp - iat > maxLifetimeSeconds) return `token lifetime (exp - iat) is ${exp - iat} s, longer than the ${maxLifetimeSeconds} s this service accepts`;
  return null;
}

/** Verified tokens remembered by default: enough for every client of a busy instance; a minute at most. */
export const VERIFIED_TOKEN_MEMORY: VerifiedTokenOptions = { maxEntries: 10_000, maxAgeSeconds: 60 };

export function tokenVerifier(
  auth: Config['auth'],
  localPublicJwk?: Record<string, unknown>,
  maxLifetimeSeconds = Number.POSITIVE_INFINITY,
  memory: VerifiedTokenOptions = VERIFIED_TOKEN_MEMORY,
): TokenVerifier {
  let keys: JWTVerifyGetKey;
  if (auth.mode === 'jwks') keys = createRemoteJWKSet(new URL(auth.jwksUrl));
  else {
    if (!localPublicJwk) throw new Error('local token verification needs the issuer key');
    keys = createLocalJWKSet({ keys: [localPublicJwk] });
  }
  return rememberVerified(async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: auth.issuer,
        audience: auth.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (e) {
      throw new TokenError(describeJoseError(e));
    }
    const tooLong = lifetimeRefusal(payload, maxLifetimeSeconds);
    if (tooLong) throw new TokenError(tooLong);
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new TokenError(`token claims are not valid: ${claims.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const { sub, role, vendor } = claims.data;
    if (role === 'vendor' && !vendor) throw new TokenError('a vendor token needs a `vendor` claim');
    const principal: Principal = vendor ? { sub, role, vendor } : { sub, role };
    return { principal, exp: payload.exp! };
  }, memory);
}

function describeJoseError(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'token expired';
  if (e instanceof errors.JWTClaimValidationFailed) return `token claim "${e.claim}" is not valid: ${e.reason}`;
  if (e instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not accepted (asymmetric signatures only)';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'token signature does not verify';
  if (e instanceof errors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (e instanceof errors.JOSEError) return `token not accepted: ${e.code}`;
  return 'token not accepted';
}

export async function issueToken(
  issuer: { privateKey: KeyObject; kid: string },
  opts: { issuer: string; audience: string; sub: string; role: Role; vendor?: string; ttl: string },
): Promise<string> {
  return new SignJWT({ role: opts.role, ...(opts.vendor ? { vendor: opts.vendor } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: issuer.kid, typ: 'JWT' })
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setSubject(opts.sub)
    .setIssuedAt()
    .setExpirationTime(opts.ttl)
    .sign(issuer.privateKey);
}
