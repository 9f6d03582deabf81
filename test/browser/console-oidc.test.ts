/**
 * The console's OpenID Connect sign-in in Chromium: the service in its jwks mode (AUTH_JWKS_URL, AUTH_ISSUER,
 * AUTH_AUDIENCE) with CONSOLE_OIDC_CLIENT_ID, against a real local provider on 127.0.0.1
 * (test/support/oidc-provider.ts: login form, PKCE S256 at the token endpoint, ES256 tokens under its JWKS).
 * The service verifies the provider's access tokens itself; nothing here mints a token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../fixtures/media.ts';
import { type ConsoleHarness, seriousA11yViolations, shot, startConsole } from '../support/console-browser.ts';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.ts';

const CLIENT_ID = 'clearframe-console';
const USERS = {
  lena: { password: 'lena-password', sub: 'lena@studio.example', role: 'legal' },
  quinn: { password: 'quinn-password', sub: 'qc@distributor.example', role: 'distributor' },
};

describe('OpenID Connect sign-in to the console, in Chromium', () => {
  let provider: TestOidcProvider;
  let harness: ConsoleHarness;
  let base: string;

  beforeAll(async () => {
    provider = await startOidcProvider({ users: USERS, audience: 'clearframe-console-test' });
    harness = await startConsole({
      AUTH_JWKS_URL: provider.jwksUrl,
      AUTH_ISSUER: provider.issuer,
      AUTH_AUDIENCE: provider.audience,
      CONSOLE_OIDC_CLIENT_ID: CLIENT_ID,
    });
    base = harness.base;
    provider.registerClient({ clientId: CLIENT_ID, redirectUris: [`${base}/console/callback`], postLogoutRedirectUris: [`${base}/console`], origins: [base] });
  });
  afterAll(async () => {
    await harness?.close();
    await provider?.close();
  });

  const signInAtProvider = async (page: import('playwright-core').Page, user: keyof typeof USERS) => {
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(USERS[user].password);
    await page.getByRole('button', { name: 'Continue' }).click();
  };

  it('publishes its sign-in in /v1/console/config and /openapi.json, and lets the console reach the issuer’s origin only', async () => {
    const config = await (await fetch(`${base}/v1/console/config`)).json();
    expect(config).toEqual({
      signIn: 'oidc',
      oidc: { issuer: provider.issuer, clientId: CLIENT_ID, scope: 'openid', redirectPath: '/console/callback', postLogoutRedirectPath: '/console' },
    });
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/v1/console/config');
    const csp = (await fetch(`${base}/console/verify`)).headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`connect-src 'self' ${provider.issuer};`);
    expect(csp).not.toMatch(/\*|unsafe-inline|unsafe-eval/);
    expect(csp).toContain("frame-ancestors 'none'");
    const oidcScript = await fetch(`${base}/console/assets/oidc.js`);
    expect(oidcScript.status).toBe(200);
    expect(oidcScript.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('goes from a deep link to the provider and back signed in there; a reload keeps the session; signing out ends it, at the provider too', async () => {
    const { context, page, violations, dialogs } = await harness.tab();
    await page.goto(`${base}/console/assets?q=poster`);
    await page.getByRole('heading', { name: 'Sign in to Clearframe' }).waitFor();
    expect(await page.locator('input[name="token"]').count()).toBe(0); // the issuer asks, not a token field
    const start = page.getByRole('button', { name: `Sign in at ${new URL(provider.issuer).host}` });
    await start.waitFor();
    await page.screenshot({ path: shot('oidc-sign-in.png'), fullPage: true });
    expect(await seriousA11yViolations(page)).toEqual([]);

    await start.click();
    await page.waitForURL((u) => u.origin === provider.issuer && u.pathname === '/authorize');
    const authorize = new URL(page.url());
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${base}/console/callback`);
    expect(authorize.searchParams.get('client_id')).toBe(CLIENT_ID);
    // A wrong password is the provider's business: it asks again.
    await page.getByLabel('User name').fill('lena');
    await page.getByLabel('Password').fill('not-her-password');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong user name or password' }).waitFor();
    await signInAtProvider(page, 'lena');

    // Back on the deep link, its search kept, with no code left in the address bar.
    await page.getByRole('heading', { name: 'Assets' }).waitFor();
    expect(page.url()).toBe(`${base}/console/assets?q=poster`);
    await expect.poll(() => page.locator('nav .who').textContent()).toBe('lena@studio.example (legal)');
    expect(await page.getByLabel('Text in title or creator').inputValue()).toBe('poster');
    // The service took the provider's token for an API call (a refused one would have ended the session).
    await expect.poll(() => page.locator('p[role="status"]').textContent()).toBe('No asset matches.');
    const stored = (await page.evaluate(`sessionStorage.getItem('clearframe.console.token')`)) as string;
    expect(JSON.parse(Buffer.from(stored.split('.')[1]!, 'base64url').toString())).toMatchObject({ iss: provider.issuer, sub: 'lena@studio.example', role: 'legal' });
    expect(await page.evaluate(`sessionStorage.getItem('clearframe.console.oidc')`)).toBeNull(); // the flow's verifier is gone
    expect(provider.tokenRequests.at(-1)).toEqual({ status: 200 });
    await page.screenshot({ path: shot('oidc-signed-in.png'), fullPage: true });

    await page.reload();
    await page.getByRole('heading', { name: 'Assets' }).waitFor();
    await expect.poll(() => page.locator('nav .who').textContent()).toBe('lena@studio.example (legal)');

    // Through the provider's end-session endpoint, back to the console's sign-in.
    const [logout] = await Promise.all([page.waitForRequest((r) => r.url().startsWith(`${provider.issuer}/logout?`)), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect(new URL(logout.url()).searchParams.get('id_token_hint')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await page.waitForURL(`${base}/console`, { waitUntil: 'load' });
    await page.getByRole('heading', { name: 'Sign in to Clearframe' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    // The provider's session ended as well: signing in again asks for the password.
    await start.click();
    await page.waitForURL((u) => u.origin === provider.issuer);
    await page.getByLabel('Password').waitFor();
    expect(violations).toEqual([]);
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('refuses a code exchanged with the wrong PKCE verifier (the provider answers invalid_grant) and stays signed out, saying why', async () => {
    const { context, page, violations } = await harness.tab();
    // Before the console's script runs on the callback: the verifier this tab kept is swapped for another.
    await context.addInitScript(`if (location.pathname === '/console/callback') {
      const flow = JSON.parse(sessionStorage.getItem('clearframe.console.oidc'));
      flow.verifier = '${randomBytes(32).toString('base64url')}';
      sessionStorage.setItem('clearframe.console.oidc', JSON.stringify(flow));
    }`);
    await page.goto(`${base}/console/verify`);
    await page.getByRole('button', { name: /^Sign in at / }).click();
    await signInAtProvider(page, 'quinn');
    await page.getByRole('heading', { name: 'Sign in to Clearframe' }).waitFor();
    await expect.poll(() => page.locator('.notice').textContent()).toMatch(/refused the sign-in \(invalid_grant: PKCE verification failed/);
    expect(provider.tokenRequests.at(-1)).toEqual({ status: 400, error: 'invalid_grant' });
    expect(page.url()).toBe(`${base}/console/verify`); // the place kept, the code gone
    expect(await page.evaluate(`sessionStorage.getItem('clearframe.console.token')`)).toBeNull();
    expect(violations).toEqual([]);
    await context.close();
  });

  it('names a token the service refuses (another audience), and a callback this tab did not start', async () => {
    const { context, page, violations } = await harness.tab();
    const audience = provider.audience;
    provider.audience = 'someone-else';
    try {
      await page.goto(`${base}/console/verify`);
      await page.getByRole('button', { name: /^Sign in at / }).click();
      await signInAtProvider(page, 'quinn');
      await page.getByRole('heading', { name: 'Sign in to Clearframe' }).waitFor();
      await expect.poll(() => page.locator('.notice').textContent()).toMatch(/signed you in, but: The service refused that token/);
      expect(provider.tokenRequests.at(-1)).toEqual({ status: 200 });
      expect(await page.evaluate(`sessionStorage.getItem('clearframe.console.token')`)).toBeNull();
    } finally {
      provider.audience = audience;
    }
    // A code arriving in a tab that never left for the provider (or a reload of a finished callback).
    await page.goto(`${base}/console/callback?code=stolen&state=guess`);
    await expect.poll(() => page.locator('.notice').textContent()).toMatch(/not started in this tab/);
    expect(page.url()).toBe(`${base}/console`);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('the provider checks PKCE itself: a wrong verifier, a reused code and a missing challenge are refused', async () => {
    const redirectUri = `${base}/console/callback`;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const codeFor = async (codeChallenge: string) => {
      const q = new URLSearchParams({
        client_id: CLIENT_ID,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid',
        state: 's',
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      });
      const form = await (await fetch(`${provider.issuer}/authorize?${q}`)).text();
      const tx = /name="tx" value="([^"]+)"/.exec(form)![1]!;
      const res = await fetch(`${provider.issuer}/login`, {
        method: 'POST',
        body: new URLSearchParams({ tx, username: 'quinn', password: USERS.quinn.password }),
        redirect: 'manual',
      });
      expect(res.status).toBe(302);
      return new URL(res.headers.get('location')!).searchParams.get('code')!;
    };
    const exchange = (code: string, codeVerifier: string) =>
      fetch(`${provider.issuer}/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: CLIENT_ID, code_verifier: codeVerifier }),
      });

    const code = await codeFor(challenge);
    const wrong = await exchange(code, randomBytes(32).toString('base64url'));
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_grant');
    expect((await exchange(code, verifier)).status).toBe(400); // the code was spent on the wrong try

    const ok = await exchange(await codeFor(challenge), verifier);
    expect(ok.status).toBe(200);
    const { access_token } = (await ok.json()) as { access_token: string };
    // The service verifies that token under the provider's JWKS; a forged signature it refuses.
    expect((await fetch(`${base}/v1/policies`, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(200);
    const [h, p] = access_token.split('.');
    expect((await fetch(`${base}/v1/policies`, { headers: { authorization: `Bearer ${h}.${p}.${'A'.repeat(86)}` } })).status).toBe(401);

    const noPkce = await fetch(`${provider.issuer}/authorize?${new URLSearchParams({ client_id: CLIENT_ID, response_type: 'code', redirect_uri: redirectUri, state: 's' })}`, {
      redirect: 'manual',
    });
    expect(new URL(noPkce.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('returns to sign-in when the token expires, keeping the page, and comes back there from the provider; a distributor sees only Verify and its Subscriptions', async () => {
    const { context, page, violations } = await harness.tab();
    provider.accessTokenTtlSeconds = 3;
    try {
      await page.goto(`${base}/console/verify`);
      await page.getByRole('button', { name: /^Sign in at / }).click();
      await signInAtProvider(page, 'quinn');
      await page.getByRole('heading', { name: 'Verify a file' }).waitFor();
      expect(await page.locator('nav a').allTextContents()).toEqual(['Verify', 'Subscriptions']);
      await page.waitForTimeout(3500);
      await page.locator('input[type="file"]').setInputFiles({ name: 'late.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(makeJpeg({ seed: 5 })) });
      await page.getByRole('heading', { name: 'Sign in to Clearframe' }).waitFor();
      await expect.poll(() => page.locator('.notice').textContent()).toMatch(/session has ended/);
      expect(page.url()).toBe(`${base}/console/verify`);
    } finally {
      provider.accessTokenTtlSeconds = 600;
    }
    // The provider still knows the user: no password, straight back to the page.
    await page.getByRole('button', { name: /^Sign in at / }).click();
    await page.getByRole('heading', { name: 'Verify a file' }).waitFor();
    expect(page.url()).toBe(`${base}/console/verify`);
    await expect.poll(() => page.locator('nav .who').textContent()).toBe('qc@distributor.example (distributor)');
    expect(violations).toEqual([]);
    await context.close();
  });
});
