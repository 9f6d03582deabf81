import type { Context, MiddlewareHandler } from 'hono';

/**
 * The policy of a response that names none: it may load nothing and be framed by no one. Right for
 * JSON and problem+json, and for any HTML page that has not chosen its own.
 */
export const DEFAULT_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * A page of this origin's own scripts and stylesheets, no inline script or style: what a page served by
 * this service (a console at /console, say) chooses unless it needs more.
 */
export const SAME_ORIGIN_PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** A route chooses its page's Content-Security-Policy with this; the shared middleware keeps it. */
export function useContentSecurityPolicy(c: Context, policy: string): void {
  c.header('content-security-policy', policy);
}

/**
 * Headers every answer carries: no MIME sniffing, no referrer, a Content-Security-Policy (the route's
 * own, else DEFAULT_CONTENT_SECURITY_POLICY), and `Cache-Control: no-store` on every answer to a request
 * that carried credentials (what a token may read is for no cache to keep).
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    headers.set('x-content-type-options', 'nosniff');
    headers.set('referrer-policy', 'no-referrer');
    if (!headers.has('content-security-policy')) headers.set('content-security-policy', DEFAULT_CONTENT_SECURITY_POLICY);
    if (c.req.header('authorization') !== undefined) {
      headers.set('cache-control', 'no-store');
    }
  };
}
