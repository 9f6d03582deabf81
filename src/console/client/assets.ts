// The Assets page (legal, admin): GET /v1/assets, searchable by production, rights holder and text, a page at
// a time (the API's cursor). The filters live in the URL's query (never the token), so a reload keeps them.
import { ApiError, apiJson, SessionEnded } from './api.ts';
import { h, replaceChildren } from './dom.ts';

type Asset = { id: string; title: string; creator: string | null; production: string; rightsHolder: string | null; mediaType: string; createdAt: string };
type AssetPage = { items: Asset[]; nextCursor: string | null };

const FILTERS = [
  ['q', 'Text in title or creator'],
  ['production', 'Production'],
  ['rightsHolder', 'Rights holder'],
] as const;

export function renderAssets(root: HTMLElement): void {
  const params = new URLSearchParams(location.search);
  const inputs = FILTERS.map(([name, label]) => {
    const input = h('input', { id: `filter-${name}`, name, type: 'search', value: params.get(name) ?? '' });
    return { name, field: h('div', { class: 'field' }, h('label', { for: `filter-${name}` }, label), input), input };
  });
  const form = h('form', { class: 'filters', role: 'search' }, ...inputs.map((i) => i.field), h('button', { type: 'submit' }, 'Search'));
  const body = h('tbody', {});
  const status = h('p', { class: 'help', role: 'status' }, 'Loading…');
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show more');
  const table = h(
    'table',
    { class: 'assets' },
    h('caption', { class: 'visually-hidden' }, 'Assets'),
    h('thead', {}, h('tr', {}, ...['Title', 'Creator', 'Production', 'Rights holder', 'Type', 'Registered', 'ID'].map((c) => h('th', { scope: 'col' }, c)))),
    body,
  );
  replaceChildren(root, h('h1', {}, 'Assets'), h('p', {}, h('a', { href: '/console/assets/new', 'data-nav': true }, 'Register an asset')), form, status, table, more);

  let cursor: string | null = null;
  let shown = 0;
  const load = async () => {
    const query = new URLSearchParams();
    for (const i of inputs) if (i.input.value.trim()) query.set(i.name, i.input.value.trim());
    query.set('limit', '50');
    if (cursor) query.set('cursor', cursor);
    try {
      const page = await apiJson<AssetPage>(`/v1/assets?${query}`);
      for (const a of page.items) {
        body.append(
          h(
            'tr',
            {},
            h('td', { class: 'asset-title' }, h('a', { href: `/console/assets/${encodeURIComponent(a.id)}`, 'data-nav': true }, a.title)),
            h('td', {}, a.creator ?? ''),
            h('td', {}, a.production),
            h('td', {}, a.rightsHolder ?? ''),
            h('td', {}, a.mediaType),
            h('td', {}, a.createdAt.slice(0, 10)),
            h('td', {}, h('code', {}, a.id)),
          ),
        );
      }
      shown += page.items.length;
      cursor = page.nextCursor;
      more.hidden = cursor === null;
      status.textContent = shown === 0 ? 'No asset matches.' : `${shown} asset${shown === 1 ? '' : 's'}${cursor ? ', more to show' : ''}.`;
    } catch (e) {
      if (e instanceof SessionEnded) return;
      status.textContent = e instanceof ApiError ? `The service refused the search: ${e.message}` : 'The search failed.';
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = new URLSearchParams();
    for (const i of inputs) if (i.input.value.trim()) query.set(i.name, i.input.value.trim());
    history.replaceState(null, '', `/console/assets${query.size ? `?${query}` : ''}`);
    body.replaceChildren();
    cursor = null;
    shown = 0;
    void load();
  });
  more.addEventListener('click', () => void load());
  void load();
}
