// Whether a callback URL may be called: pure. The ledger calls only origins legal configured
// (WEBHOOK_ALLOWED_ORIGINS), never an address a caller chose.

/** Why `url` may not be a callback (null: it may). */
export function callbackRefusal(url: string, allowedOrigins: readonly string[]): string | null {
  if (allowedOrigins.length === 0) return 'no callback URL is allowed: WEBHOOK_ALLOWED_ORIGINS is not set on this ledger, so no subscription can be made';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'only http:// and https:// callback URLs';
  if (parsed.username || parsed.password) return 'a callback URL carries no user or password';
  if (parsed.hash) return 'a callback URL has no fragment';
  if (!allowedOrigins.includes(parsed.origin)) return `${parsed.origin} is not an allowed origin (WEBHOOK_ALLOWED_ORIGINS: ${allowedOrigins.join(', ')})`;
  return null;
}
