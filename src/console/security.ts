// The console's own response headers (every /console response, pages, assets and errors alike): only this
// origin's script and style, no inline script or eval, blob: images and video for the thumbnails of files
// the user drops, API calls to this origin only (and, with OpenID Connect sign-in, to the issuer's origin,
// where the browser reads the discovery document and exchanges the code), never framed.
export function consoleContentSecurityPolicy(connectOrigins: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",
    "media-src 'self' blob:",
    ["connect-src 'self'", ...connectOrigins].join(' '),
    "font-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function consoleSecurityHeaders(connectOrigins: readonly string[] = []): Record<string, string> {
  return {
    'content-security-policy': consoleContentSecurityPolicy(connectOrigins),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}
