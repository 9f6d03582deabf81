// The console's one script: a small router over the server's shell. Signed out, every page shows the
// sign-in form and keeps its URL, so a deep link works once signed in. With OpenID Connect the issuer sends
// the browser back to /console/callback, which finishes the sign-in and returns to that deep link.
import { whenSessionEnds } from './api.ts';
import { renderAsset } from './asset.ts';
import { renderAssets } from './assets.ts';
import { renderAudit } from './audit.ts';
import { renderAvails } from './avails.ts';
import { renderCheckpoint } from './checkpoint.ts';
import { renderCheckpoints } from './checkpoints.ts';
import { renderDataset, renderDatasets } from './datasets.ts';
import { h, replaceChildren } from './dom.ts';
import { renderImports } from './imports.ts';
import { renderRightsChain } from './rights-chain.ts';
import { claims, expired, idToken, rememberPlace, signIn, signOut, token } from './session.ts';
import { loadOidc, signInSetup } from './sign-in-setup.ts';
import { refusal, renderSignIn } from './signin.ts';
import { renderSubscriptions } from './subscriptions.ts';
import { renderVerify } from './verify.ts';

/**
 * A page of the console. `path` is its entry in the navigation; `match` (when given) also takes the page's
 * deeper paths, such as `/console/assets/{id}`, and hands its groups to `render` as `params`. A page with
 * `nav: false` answers its paths but has no entry in the navigation.
 */
type Page = {
  title: string;
  path: string;
  match?: RegExp;
  nav?: false;
  roles: string[];
  render: (root: HTMLElement, leave: AbortSignal, params: string[]) => void;
};
const PAGES: Page[] = [
  { title: 'Verify', path: '/console/verify', roles: ['distributor', 'legal', 'admin'], render: renderVerify },
  { title: 'Assets', path: '/console/assets', roles: ['legal', 'admin'], render: renderAssets },
  { title: 'Import', path: '/console/imports', roles: ['legal', 'admin'], render: renderImports },
  { title: 'Asset', path: '/console/assets/new', match: /^\/console\/assets\/([^/]+)$/, nav: false, roles: ['legal', 'admin'], render: renderAsset },
  { title: 'Rights chain', path: '/console/outputs', match: /^\/console\/outputs\/([^/]+)\/rights-chain$/, nav: false, roles: ['legal', 'admin'], render: renderRightsChain },
  { title: 'Checkpoints', path: '/console/checkpoints', roles: ['vendor', 'generator', 'legal', 'admin'], render: renderCheckpoints },
  {
    title: 'Checkpoint',
    path: '/console/checkpoints/',
    match: /^\/console\/checkpoints\/([^/]+)$/,
    nav: false,
    roles: ['vendor', 'generator', 'legal', 'admin'],
    render: renderCheckpoint,
  },
  { title: 'Datasets', path: '/console/datasets', roles: ['vendor', 'legal', 'admin'], render: renderDatasets },
  { title: 'Dataset', path: '/console/datasets/', match: /^\/console\/datasets\/([^/]+)$/, nav: false, roles: ['vendor', 'legal', 'admin'], render: renderDataset },
  { title: 'Audit log', path: '/console/audit', roles: ['legal', 'admin'], render: renderAudit },
  { title: 'Availability', path: '/console/avails', roles: ['legal', 'admin', 'vendor'], render: renderAvails },
  { title: 'Subscriptions', path: '/console/subscriptions', roles: ['distributor', 'legal', 'admin'], render: renderSubscriptions },
];

/** The page a path belongs to, with what its pattern captured. */
function pageFor(pathname: string): { page: Page; params: string[] } | null {
  for (const page of PAGES) {
    if (page.path === pathname) return { page, params: [] };
    const m = page.match?.exec(pathname);
    if (m) return { page, params: m.slice(1).map((v) => decodeURIComponent(v)) };
  }
  return null;
}

let leavePage: AbortController = new AbortController();

function main(): HTMLElement {
  return document.getElementById('main')!;
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function here(): string {
  return location.pathname + location.search;
}

const CALLBACK = '/console/callback';

function render(notice?: string): void {
  leavePage.abort();
  leavePage = new AbortController();
  const leave = leavePage.signal;
  const nav = document.getElementById('nav')!;
  if (location.pathname === CALLBACK) {
    replaceChildren(nav);
    void finishOidcSignIn();
    return;
  }
  const jwt = token();
  const who = jwt ? claims(jwt) : null;
  if (!jwt || !who || expired(who)) {
    if (jwt) signOut();
    replaceChildren(nav);
    document.title = 'Sign in · Clearframe';
    const said = notice ?? (jwt ? 'Your session has ended. Sign in again to go on.' : undefined);
    void signInSetup().then((setup) => {
      if (!leave.aborted) renderSignIn(main(), { notice: said, done: () => render(), setup });
    });
    return;
  }
  if (location.pathname === '/console' || location.pathname === '/console/') {
    // The first page the role may use (Verify for those who verify).
    history.replaceState(null, '', PAGES.find((p) => p.nav !== false && p.roles.includes(who.role))?.path ?? '/console/verify');
  }
  replaceChildren(
    nav,
    h(
      'ul',
      {},
      ...PAGES.filter((p) => p.nav !== false && p.roles.includes(who.role)).map((p) =>
        h('li', {}, h('a', { href: p.path, 'data-nav': true, 'aria-current': location.pathname === p.path ? 'page' : null }, p.title)),
      ),
    ),
    h('p', { class: 'who' }, `${who.sub} (${who.role})`),
    signOutButton(),
  );
  const found = pageFor(location.pathname);
  if (!found) {
    document.title = 'Not here yet · Clearframe';
    replaceChildren(main(), h('h1', {}, 'Not here yet'), h('p', {}, 'This page of the console is not built yet.'));
    return;
  }
  const { page, params } = found;
  document.title = `${page.title} · Clearframe`;
  if (!page.roles.includes(who.role)) {
    replaceChildren(main(), h('h1', {}, page.title), h('p', {}, `Your role (${who.role}) cannot use this page; it is for ${page.roles.join(', ')}.`));
    return;
  }
  page.render(main(), leavePage.signal, params);
}

/** Back from the issuer with a code (or its refusal): the tokens, checked by the service, then the deep link. */
async function finishOidcSignIn(): Promise<void> {
  document.title = 'Signing in · Clearframe';
  replaceChildren(main(), h('h1', {}, 'Signing you in…'));
  const [setup, oidc] = await Promise.all([signInSetup(), loadOidc().catch(() => null)]);
  const flow = oidc?.takeFlow() ?? null;
  const callback = new URL(location.href);
  // The code leaves the address bar (and the history) whatever happens next.
  history.replaceState(null, '', flow?.returnTo.startsWith('/console') ? flow.returnTo : '/console');
  if (setup.signIn !== 'oidc' || !oidc) return render(oidc ? undefined : 'The sign-in script did not load. Sign in again.');
  try {
    const got = await oidc.finishSignIn(setup.oidc, callback, flow);
    const refused = await refusal(got.accessToken);
    if (refused) return render(`The identity provider signed you in, but: ${refused}`);
    signIn(got.accessToken, got.idToken);
    render();
  } catch (e) {
    render(oidc.describeFailure(e));
  }
}

function signOutButton(): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'sign-out' }, 'Sign out');
  button.addEventListener('click', async () => {
    const hint = idToken();
    signOut();
    navigate('/console', true);
    // Signed in at an issuer: end the session there too, so that the next sign-in asks who it is again.
    const setup = await signInSetup();
    if (setup.signIn !== 'oidc') return;
    const end = await loadOidc()
      .then((oidc) => oidc.endSessionUrl(setup.oidc, hint))
      .catch(() => null);
    if (end) location.assign(end);
  });
  return button;
}

whenSessionEnds(() => {
  rememberPlace(here());
  signOut();
  render('Your session has ended (the token expired or was refused). Sign in again to return to where you were.');
});

document.addEventListener('click', (e) => {
  const a = (e.target as Element | null)?.closest?.('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href')!);
});
window.addEventListener('popstate', () => render());
render();
