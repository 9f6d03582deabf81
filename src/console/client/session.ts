// The signed-in session: the bearer token in sessionStorage (this tab only; gone when the tab closes), never
// in a URL or a cookie. Where the user was when the session ended is kept beside it, for after sign-in. With
// OpenID Connect the ID token is kept too: signing out hands it back to the issuer (id_token_hint).
const TOKEN = 'clearframe.console.token';
const ID_TOKEN = 'clearframe.console.idToken';
const RETURN_TO = 'clearframe.console.returnTo';

export type Claims = { sub: string; role: string; exp: number | null; vendor?: string };

export function token(): string | null {
  return sessionStorage.getItem(TOKEN);
}

export function signIn(value: string, idToken?: string): void {
  sessionStorage.setItem(TOKEN, value);
  if (idToken) sessionStorage.setItem(ID_TOKEN, idToken);
}

export function idToken(): string | null {
  return sessionStorage.getItem(ID_TOKEN);
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(ID_TOKEN);
}

export function rememberPlace(path: string): void {
  sessionStorage.setItem(RETURN_TO, path);
}

export function takePlace(): string | null {
  const path = sessionStorage.getItem(RETURN_TO);
  sessionStorage.removeItem(RETURN_TO);
  return path?.startsWith('/console') ? path : null;
}

/** The token's claims as the console shows them (the API checks the signature; this only reads). */
export function claims(jwt: string): Claims | null {
  const payload = jwt.split('.')[1];
  if (!payload) return null;
  try {
    const json = JSON.parse(
      atob(
        payload
          .replace(/-/g, '+')
          .replace(/_/g, '/')
          .padEnd(Math.ceil(payload.length / 4) * 4, '='),
      ),
    ) as Record<string, unknown>;
    if (typeof json.sub !== 'string' || typeof json.role !== 'string') return null;
    return { sub: json.sub, role: json.role, exp: typeof json.exp === 'number' ? json.exp : null, ...(typeof json.vendor === 'string' ? { vendor: json.vendor } : {}) };
  } catch {
    return null;
  }
}

export function expired(c: Claims, now = Date.now()): boolean {
  return c.exp !== null && c.exp * 1000 <= now;
}
