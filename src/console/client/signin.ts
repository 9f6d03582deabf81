// Sign-in. In the embedded mode one field for a bearer token; with an OpenID Connect issuer configured, one
// button that leaves for the issuer (oidc.ts). Either token is tried against the API before it is kept, so
// a wrong paste or a misconfigured issuer is answered here and not on the next page.
import { h, replaceChildren } from './dom.ts';
import { claims, expired, signIn, takePlace } from './session.ts';
import { loadOidc, type OidcSetup, type SignInSetup } from './sign-in-setup.ts';

/** Why the service would not take this token (null: it does). */
export async function refusal(value: string): Promise<string | null> {
  const c = claims(value);
  if (!c) return 'That is not a Clearframe token: paste the whole token, three parts separated by dots.';
  if (expired(c)) return 'That token has expired: ask for a new one.';
  const res = await fetch('/v1/policies', { headers: { authorization: `Bearer ${value}` }, credentials: 'omit', cache: 'no-store' }).catch(() => null);
  if (!res) return 'The service did not answer. Try again.';
  if (res.status === 401) return 'The service refused that token (wrong issuer, audience or signature).';
  return null;
}

export function renderSignIn(root: HTMLElement, opts: { notice?: string | undefined; done: () => void; setup?: SignInSetup }): void {
  if (opts.setup?.signIn === 'oidc') {
    renderOidcSignIn(root, opts.setup.oidc, opts.notice);
    return;
  }
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help token-error',
  });
  const error = h('p', { id: 'token-error', class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'sign-in', novalidate: true },
    h('label', { for: 'token' }, 'Bearer token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'help' },
      'Paste the token you were given. An administrator mints one with ',
      h('code', {}, 'clearframe token issue --role distributor --sub you@example.com'),
      '.',
    ),
    error,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = input.value.trim();
    const refused = await refusal(value);
    if (refused) return say(refused);
    signIn(value);
    input.value = '';
    const back = takePlace();
    if (back && back !== location.pathname + location.search) history.replaceState(null, '', back);
    opts.done();
  });
  const say = (message: string) => {
    error.textContent = message;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  replaceChildren(root, h('h1', {}, 'Sign in to Clearframe'), opts.notice ? h('p', { class: 'notice', role: 'status' }, opts.notice) : null, form);
  input.focus();
}

/** OpenID Connect: the issuer asks who the user is; the page to come back to goes along with the flow. */
function renderOidcSignIn(root: HTMLElement, setup: OidcSetup, notice: string | undefined): void {
  const host = new URL(setup.issuer).host;
  const error = h('p', { id: 'sign-in-error', class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit' }, `Sign in at ${host}`);
  const form = h(
    'form',
    { class: 'sign-in', novalidate: true, 'aria-describedby': 'sign-in-help sign-in-error' },
    h('p', { id: 'sign-in-help', class: 'help' }, 'Clearframe signs you in at your organisation’s identity provider, ', h('code', {}, setup.issuer), ', and brings you back here.'),
    error,
    button,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    error.textContent = '';
    const place = takePlace() ?? location.pathname + location.search;
    try {
      const oidc = await loadOidc();
      await oidc.beginSignIn(setup, place.startsWith('/console') ? place : '/console');
    } catch (failure) {
      const oidc = await loadOidc().catch(() => null);
      error.textContent = oidc ? oidc.describeFailure(failure) : 'The sign-in script did not load. Try again.';
      button.disabled = false;
      button.focus();
    }
  });
  replaceChildren(root, h('h1', {}, 'Sign in to Clearframe'), notice ? h('p', { class: 'notice', role: 'status' }, notice) : null, form);
  button.focus();
  void loadOidc().catch(() => null); // fetched while the user reads, so that the click leaves at once
}
