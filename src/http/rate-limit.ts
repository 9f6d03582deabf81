import type { Context, MiddlewareHandler } from 'hono';
import { rateLimiter } from 'hono-rate-limiter';
import type { TokenVerifier } from '../auth/tokens.ts';
import { Problem, problemResponse } from './problem.ts';

export type RateLimitOptions = {
  /** Requests one client may make per window; 0: no limit. */
  requests: number;
  windowMs: number;
  /** Take the client address from the right-most X-Forwarded-For entry (the proxy in front added it). */
  trustProxy: boolean;
  verifyToken: TokenVerifier;
};

type NodeBindings = { incoming?: { socket?: { remoteAddress?: string } } };

/** The network address the request came from, or undefined for a request made in-process (app.request). */
export function clientAddress(c: Context, trustProxy: boolean): string | undefined {
  const socket = (c.env as NodeBindings | undefined)?.incoming?.socket;
  if (!socket) return undefined;
  if (trustProxy) {
    const hops = c.req
      .header('x-forwarded-for')
      ?.split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    if (hops && hops.length > 0) return hops.at(-1);
  }
  return socket.remoteAddress ?? 'unknown';
}

/**
 * A per-client request limit (hono-rate-limiter, fixed window, in memory): the client is the verified
 * token's subject when the request carries a valid one, else its network address (X-Forwarded-For only
 * with trustProxy). Over the limit: 429 problem+json with Retry-After. Requests made in-process have no
 * network client and are not counted.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  if (options.requests <= 0) return (_c, next) => next();
  return rateLimiter({
    windowMs: options.windowMs,
    limit: options.requests,
    standardHeaders: 'draft-7',
    skip: (c) => clientAddress(c, options.trustProxy) === undefined,
    keyGenerator: async (c) => {
      const bearer = c.req.header('authorization')?.match(/^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i)?.[1];
      // Only a token that verifies names the client: a forged one would buy a fresh allowance per subject.
      const principal = bearer ? await options.verifyToken(bearer).catch(() => undefined) : undefined;
      return principal ? `sub:${principal.sub}` : `addr:${clientAddress(c, options.trustProxy)}`;
    },
    handler: (c) => {
      const reset = (c.get('rateLimit' as never) as { resetTime?: Date } | undefined)?.resetTime;
      const retryAfter = Math.max(1, Math.ceil(((reset?.getTime() ?? Date.now() + options.windowMs) - Date.now()) / 1000));
      const res = problemResponse(
        c,
        new Problem(429, 'too-many-requests', `more than ${options.requests} requests in ${Math.round(options.windowMs / 1000)} s from this client; retry after ${retryAfter} s`, {
          retryAfter,
        }),
      );
      res.headers.set('retry-after', String(retryAfter));
      return res;
    },
  });
}
