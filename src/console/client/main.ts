// The console's one script: a small router over the server's shell. Signed out, every page shows the
// sign-in form and keeps its URL, so a deep link works once signed in.
import { whenSessionEnds } from './api.ts';
import { renderAsset } from './asset.ts';
import { renderAssets } from './assets.ts';
import { h, replaceChildren } from './dom.ts';
import { renderImports } from './imports.ts';
import { claims, expired, rememberPlace, signOut, token } from './session.ts';
import { renderSignIn } from './signin.ts';
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

function render(notice?: string): void {
  leavePage.abort();
  leavePage = new AbortController();
  const jwt = token();
  const who = jwt ? claims(jwt) : null;
  const nav = document.getElementById('nav')!;
  if (!jwt || !who || expired(who)) {
    if (jwt) signOut();
    replaceChildren(nav);
    document.title = 'Sign in · Clearframe';
    renderSignIn(main(), { notice: notice ?? (jwt ? 'Your session has ended. Sign in again to go on.' : undefined), done: () => render() });
    return;
  }
  if (location.pathname === '/console' || location.pathname === '/console/') {
    history.replaceState(null, '', '/console/verify');
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

function signOutButton(): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'sign-out' }, 'Sign out');
  button.addEventListener('click', () => {
    signOut();
    navigate('/console', true);
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
