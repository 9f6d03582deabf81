// Verified bearer tokens, remembered until they expire (or a short bound, whichever is sooner), so that a
// token sent on every request is checked by signature once, not on each request and in each middleware.
// Keyed by the token's SHA-256: the map holds no bearer secret. Bearer tokens cannot be revoked today (none is
// ever looked up in the ledger), so remembering one changes what is accepted only in one way: a key dropped
// from a remote JWKS stops admitting the tokens it signed after at most `maxAgeSeconds`, not at once.
import { createHash } from 'node:crypto';

export type Verified<P> = { principal: P; exp: number };

export type VerifiedTokenOptions = {
  /** Tokens remembered at once; the oldest is forgotten first. */
  maxEntries: number;
  /** How long a verification is trusted, at most, even when the token holds longer. */
  maxAgeSeconds: number;
  /** Seconds since the epoch (injected by tests). */
  now?: () => number;
};

export function rememberVerified<P>(verify: (token: string) => Promise<Verified<P>>, options: VerifiedTokenOptions): (token: string) => Promise<P> {
  const now = options.now ?? (() => Date.now() / 1000);
  const known = new Map<string, { principal: P; until: number }>();
  return async (token) => {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = known.get(key);
    const t = now();
    // jose refuses a token once `exp <= now`; a remembered one ends at the same instant.
    if (hit && t < hit.until) return hit.principal;
    if (hit) known.delete(key);
    const { principal, exp } = await verify(token);
    if (options.maxEntries > 0) {
      if (known.size >= options.maxEntries) known.delete(known.keys().next().value!);
      known.set(key, { principal, until: Math.min(exp, t + options.maxAgeSeconds) });
    }
    return principal;
  };
}
