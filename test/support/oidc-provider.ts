/**
 * A small, honest OpenID Connect provider on 127.0.0.1 for the console's sign-in tests: discovery, an
 * authorization endpoint with a login form (users and passwords), the PKCE S256 check at the token endpoint,
 * ES256-signed access and ID tokens (real signatures under its JWKS, which the service verifies through
 * AUTH_JWKS_URL), RP-initiated logout, and CORS for the console's origin only. Codes are single-use and
 * short-lived; redirect URIs must match exactly; an unknown client or redirect URI is answered on the
 * provider's own page, never by a redirect.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export type ProviderUser = { password: string; sub: string; role: string; vendor?: string };
export type ProviderClient = { clientId: string; redirectUris: string[]; postLogoutRedirectUris: string[]; origins: string[] };

export type TestOidcProvider = {
  issuer: string;
  jwksUrl: string;
  /** The `aud` of the access tokens it issues (a test may change it to see a token the service refuses). */
  audience: string;
  /** Registers (or replaces) a public client: its exact redirect URIs and the browser origins allowed by CORS. */
  registerClient(client: ProviderClient): void;
  /** How long the next access tokens hold (seconds). */
  accessTokenTtlSeconds: number;
  /** Every token request and its answer, for the tests to read. */
  tokenRequests: { status: number; error?: string }[];
  close(): Promise<void>;
};

type Pending = { clientId: string; redirectUri: string; state: string | undefined; nonce: string | undefined; scope: string; challenge: string };
type Code = Pending & { sub: string; expiresAt: number };

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const token = () => randomBytes(24).toString('base64url');

export async function startOidcProvider(opts: { users: Record<string, ProviderUser>; audience: string }): Promise<TestOidcProvider> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = token().slice(0, 12);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const clients = new Map<string, ProviderClient>();
  const pending = new Map<string, Pending>(); // login form transactions
  const codes = new Map<string, Code>();
  const sessions = new Map<string, string>(); // session cookie -> username
  let issuer = '';

  const provider: TestOidcProvider = {
    issuer: '',
    jwksUrl: '',
    audience: opts.audience,
    registerClient: (c) => clients.set(c.clientId, c),
    accessTokenTtlSeconds: 600,
    tokenRequests: [],
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'cache-control': 'no-store', ...headers });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    send(res, status, JSON.stringify(body), { 'content-type': 'application/json', ...headers });
  const page = (res: ServerResponse, status: number, title: string, body: string) =>
    send(
      res,
      status,
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${html(title)}</title></head><body><main><h1>${html(title)}</h1>${body}</main></body></html>`,
      { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; frame-ancestors 'none'" },
    );
  const readForm = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  };
  const cors = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    if (!origin || ![...clients.values()].some((c) => c.origins.includes(origin))) return {};
    return { 'access-control-allow-origin': origin, vary: 'origin' };
  };
  const sessionOf = (req: IncomingMessage) => {
    const m = /(?:^|;\s*)op_session=([\w-]+)/.exec(req.headers.cookie ?? '');
    return m ? (sessions.get(m[1]!) ?? null) : null;
  };
  const redirectWithCode = (res: ServerResponse, p: Pending, username: string) => {
    const code = token();
    codes.set(code, { ...p, sub: opts.users[username]!.sub, expiresAt: Date.now() + 60_000 });
    const back = new URL(p.redirectUri);
    back.searchParams.set('code', code);
    if (p.state !== undefined) back.searchParams.set('state', p.state);
    back.searchParams.set('iss', issuer);
    send(res, 302, '', { location: back.href });
  };
  const loginForm = (res: ServerResponse, tx: string, error?: string) =>
    page(
      res,
      error ? 401 : 200,
      'Test identity provider: sign in',
      `${error ? `<p role="alert">${html(error)}</p>` : ''}<form method="post" action="/login">
<input type="hidden" name="tx" value="${html(tx)}">
<p><label for="username">User name</label> <input id="username" name="username" autocomplete="username"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit">Continue</button></p></form>`,
    );

  const userOf = (sub: string) => Object.values(opts.users).find((u) => u.sub === sub)!;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', issuer);
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /.well-known/openid-configuration') {
      return json(
        res,
        200,
        {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          end_session_endpoint: `${issuer}/logout`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['ES256'],
          token_endpoint_auth_methods_supported: ['none'],
          code_challenge_methods_supported: ['S256'],
          scopes_supported: ['openid'],
          authorization_response_iss_parameter_supported: true,
        },
        cors(req),
      );
    }
    if (route === 'GET /jwks') return json(res, 200, { keys: [publicJwk] }, cors(req));
    if (route === 'GET /authorize') {
      const q = url.searchParams;
      const client = clients.get(q.get('client_id') ?? '');
      const redirectUri = q.get('redirect_uri') ?? '';
      // Never redirect to a URI the client did not register: say so here.
      if (!client) return page(res, 400, 'Unknown client', '<p>This client is not registered.</p>');
      if (!client.redirectUris.includes(redirectUri)) return page(res, 400, 'Redirect URI not registered', `<p>${html(redirectUri)}</p>`);
      const refuse = (error: string, description: string) => {
        const back = new URL(redirectUri);
        back.searchParams.set('error', error);
        back.searchParams.set('error_description', description);
        if (q.get('state') !== null) back.searchParams.set('state', q.get('state')!);
        back.searchParams.set('iss', issuer);
        send(res, 302, '', { location: back.href });
      };
      if (q.get('response_type') !== 'code') return refuse('unsupported_response_type', 'only code');
      if (q.get('code_challenge_method') !== 'S256' || !CHALLENGE.test(q.get('code_challenge') ?? '')) return refuse('invalid_request', 'PKCE with S256 is required');
      const p: Pending = {
        clientId: client.clientId,
        redirectUri,
        state: q.get('state') ?? undefined,
        nonce: q.get('nonce') ?? undefined,
        scope: q.get('scope') ?? '',
        challenge: q.get('code_challenge')!,
      };
      const signedIn = sessionOf(req);
      if (signedIn) return redirectWithCode(res, p, signedIn);
      const tx = token();
      pending.set(tx, p);
      return loginForm(res, tx);
    }
    if (route === 'POST /login') {
      const form = await readForm(req);
      const tx = form.get('tx') ?? '';
      const p = pending.get(tx);
      if (!p) return page(res, 400, 'Sign-in expired', '<p>Start again from the application.</p>');
      const username = form.get('username') ?? '';
      const user = opts.users[username];
      if (!user || user.password !== form.get('password')) return loginForm(res, tx, 'Wrong user name or password.');
      pending.delete(tx);
      const sid = token();
      sessions.set(sid, username);
      res.setHeader('set-cookie', `op_session=${sid}; Path=/; HttpOnly; SameSite=Lax`);
      return redirectWithCode(res, p, username);
    }
    if (route === 'OPTIONS /token') {
      return send(res, 204, '', { ...cors(req), 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type, accept', 'access-control-max-age': '60' });
    }
    if (route === 'POST /token') {
      const form = await readForm(req);
      const refuse = (error: string, description: string) => {
        provider.tokenRequests.push({ status: 400, error });
        json(res, 400, { error, error_description: description }, cors(req));
      };
      if (form.get('grant_type') !== 'authorization_code') return refuse('unsupported_grant_type', 'only authorization_code');
      const code = codes.get(form.get('code') ?? '');
      // Used once, whatever the outcome: a second try with the same code is refused.
      codes.delete(form.get('code') ?? '');
      if (!code || code.expiresAt < Date.now()) return refuse('invalid_grant', 'unknown, used or expired code');
      if (form.get('client_id') !== code.clientId) return refuse('invalid_grant', 'the code was issued to another client');
      if (form.get('redirect_uri') !== code.redirectUri) return refuse('invalid_grant', 'redirect_uri differs from the authorization request');
      const verifier = form.get('code_verifier') ?? '';
      if (!VERIFIER.test(verifier)) return refuse('invalid_grant', 'code_verifier is missing or malformed');
      if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge)
        return refuse('invalid_grant', 'PKCE verification failed: the code_verifier does not match the code_challenge');
      const user = userOf(code.sub);
      const now = Math.floor(Date.now() / 1000);
      const accessToken = await new SignJWT({ role: user.role, ...(user.vendor ? { vendor: user.vendor } : {}), client_id: code.clientId, scope: code.scope })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(provider.audience)
        .setSubject(code.sub)
        .setIssuedAt(now)
        .setExpirationTime(now + provider.accessTokenTtlSeconds)
        .setJti(token())
        .sign(privateKey);
      const idToken = code.scope.split(' ').includes('openid')
        ? await new SignJWT({ ...(code.nonce ? { nonce: code.nonce } : {}) })
            .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
            .setIssuer(issuer)
            .setAudience(code.clientId)
            .setSubject(code.sub)
            .setIssuedAt(now)
            .setExpirationTime(now + 600)
            .sign(privateKey)
        : undefined;
      provider.tokenRequests.push({ status: 200 });
      return json(
        res,
        200,
        { access_token: accessToken, token_type: 'Bearer', expires_in: provider.accessTokenTtlSeconds, scope: code.scope, ...(idToken ? { id_token: idToken } : {}) },
        { ...cors(req), pragma: 'no-cache' },
      );
    }
    if (route === 'GET /logout') {
      const q = url.searchParams;
      const client = clients.get(q.get('client_id') ?? '');
      const back = q.get('post_logout_redirect_uri');
      const m = /(?:^|;\s*)op_session=([\w-]+)/.exec(req.headers.cookie ?? '');
      if (m) sessions.delete(m[1]!);
      res.setHeader('set-cookie', 'op_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
      if (client && back && client.postLogoutRedirectUris.includes(back)) return send(res, 302, '', { location: back });
      return page(res, 200, 'Signed out', '<p>You are signed out.</p>');
    }
    return json(res, 404, { error: 'not_found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => json(res, 500, { error: 'server_error', error_description: String(e) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider.issuer = issuer;
  provider.jwksUrl = `${issuer}/jwks`;
  return provider;
}
