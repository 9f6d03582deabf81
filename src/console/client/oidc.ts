// OpenID Connect sign-in in the browser: the authorization-code flow with PKCE (S256) at the issuer the
// service trusts, with oauth4webapi. Bundled on its own (oidc.js) and loaded only when the service is
// configured for it. What the flow needs between leaving for the issuer and coming back (state, nonce, the
// PKCE verifier, the page to return to) waits in this tab's sessionStorage; the verifier never leaves the tab
// except to the token endpoint. The access token goes where the token form puts a pasted one.
import * as oauth from 'oauth4webapi';
import type { OidcSetup } from './sign-in-setup.ts';

const FLOW = 'clearframe.console.oidc';
export type Flow = { state: string; nonce: string; verifier: string; returnTo: string };

export class SignInError extends Error {}

// Plain http only for an issuer on this machine (a developer's or a test's provider); the service's own
// configuration refuses an http issuer anywhere else.
const LOOPBACK = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;
const httpOptions = (issuer: URL) => ({ [oauth.allowInsecureRequests]: issuer.protocol === 'http:' && LOOPBACK.test(issuer.hostname) });

const known = new Map<string, Promise<oauth.AuthorizationServer>>();

function discover(setup: OidcSetup): Promise<oauth.AuthorizationServer> {
  let found = known.get(setup.issuer);
  if (!found) {
    const issuer = new URL(setup.issuer);
    found = oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...httpOptions(issuer) }).then((res) => oauth.processDiscoveryResponse(issuer, res));
    found.catch(() => known.delete(setup.issuer));
    known.set(setup.issuer, found);
  }
  return found;
}

const redirectUri = (setup: OidcSetup) => new URL(setup.redirectPath, location.origin).href;
const wantsIdToken = (setup: OidcSetup) => setup.scope.split(' ').includes('openid');

/** Leaves for the issuer's sign-in; the issuer sends the browser back to the redirect path with a code. */
export async function beginSignIn(setup: OidcSetup, returnTo: string): Promise<void> {
  const as = await discover(setup);
  if (!as.authorization_endpoint) throw new SignInError(`${setup.issuer} names no authorization endpoint in its discovery document.`);
  const flow: Flow = { state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), verifier: oauth.generateRandomCodeVerifier(), returnTo };
  const url = new URL(as.authorization_endpoint);
  for (const [k, v] of Object.entries({
    client_id: setup.clientId,
    response_type: 'code',
    redirect_uri: redirectUri(setup),
    scope: setup.scope,
    state: flow.state,
    ...(wantsIdToken(setup) ? { nonce: flow.nonce } : {}),
    code_challenge: await oauth.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: 'S256',
  })) {
    url.searchParams.set(k, v);
  }
  sessionStorage.setItem(FLOW, JSON.stringify(flow));
  location.assign(url.href);
}

/** The flow this tab started, taken once: a reload of the callback, or a code from elsewhere, finds none. */
export function takeFlow(): Flow | null {
  const kept = sessionStorage.getItem(FLOW);
  sessionStorage.removeItem(FLOW);
  return kept ? (JSON.parse(kept) as Flow) : null;
}

/** Back from the issuer: checks the answer against this tab's flow, exchanges the code with the verifier. */
export async function finishSignIn(setup: OidcSetup, callback: URL, flow: Flow | null): Promise<{ accessToken: string; idToken: string | undefined }> {
  if (!flow) throw new SignInError('This sign-in was not started in this tab, or was already finished. Sign in again.');
  const issuer = new URL(setup.issuer);
  const as = await discover(setup);
  const client: oauth.Client = { client_id: setup.clientId };
  const params = oauth.validateAuthResponse(as, client, callback, flow.state);
  const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(setup), flow.verifier, httpOptions(issuer));
  const result = await oauth.processAuthorizationCodeResponse(as, client, res, {
    ...(wantsIdToken(setup) ? { expectedNonce: flow.nonce, requireIdToken: true } : {}),
  });
  return { accessToken: result.access_token, idToken: result.id_token };
}

/** Where to send the browser to end the session at the issuer too (null: the issuer offers no such endpoint). */
export async function endSessionUrl(setup: OidcSetup, idToken: string | null): Promise<string | null> {
  const as = await discover(setup).catch(() => null);
  if (!as?.end_session_endpoint) return null;
  const url = new URL(as.end_session_endpoint);
  url.searchParams.set('client_id', setup.clientId);
  url.searchParams.set('post_logout_redirect_uri', new URL(setup.postLogoutRedirectPath, location.origin).href);
  if (idToken) url.searchParams.set('id_token_hint', idToken);
  return url.href;
}

/** A failed sign-in in the user's words, with what the issuer said. */
export function describeFailure(e: unknown): string {
  if (e instanceof SignInError) return e.message;
  if (e instanceof oauth.AuthorizationResponseError || e instanceof oauth.ResponseBodyError) {
    return `The identity provider refused the sign-in (${e.error}${e.error_description ? `: ${e.error_description}` : ''}). Sign in again.`;
  }
  if (e instanceof TypeError) return 'The identity provider did not answer (or its answer was blocked). Try again.';
  return `The sign-in could not be finished: ${e instanceof Error ? e.message : String(e)}. Sign in again.`;
}
