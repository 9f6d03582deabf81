// Sign-in in the embedded mode: one field for a bearer token. The token is tried against the API before it
// is kept, so a wrong paste is answered here and not on the next page.
import { h, replaceChildren } from './dom.ts';
import { claims, expired, signIn, takePlace } from './session.ts';

export function renderSignIn(root: HTMLElement, opts: { notice?: string | undefined; done: () => void }): void {
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
    const c = claims(value);
    if (!c) return say('That is not a Clearframe token: paste the whole token, three parts separated by dots.');
    if (expired(c)) return say('That token has expired: ask for a new one.');
    const res = await fetch('/v1/policies', { headers: { authorization: `Bearer ${value}` }, credentials: 'omit', cache: 'no-store' }).catch(() => null);
    if (!res) return say('The service did not answer. Try again.');
    if (res.status === 401) return say('The service refused that token (wrong issuer, audience or signature).');
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
