// The Availability page (legal, admin, vendor): GET /v1/avails for a proposed use, each asset available or
// not with its reasons; the same rows as a CSV download; and "Freeze these into a dataset" (POST /v1/datasets
// with fromAvails). The query lives in the URL (never the token), so a reload or a shared link keeps it.
import { ApiError, api, apiJson, SessionEnded } from './api.ts';
import { h, replaceChildren } from './dom.ts';
import { type Field, field, formOf, sendForm, sendJson } from './forms.ts';
import { claims, token } from './session.ts';

type Reason = { code: string; policyId: string; sentence: string };
type Row = { assetId: string; title: string; production: string; rightsHolder: string | null; licenseId: string | null; status: 'available' | 'unavailable'; reasons: Reason[] };
type Page = { use: { vendor: string; date: string }; policyDigest: string; items: Row[]; nextCursor: string | null };

const PAGE = 100;
/** The proposed use and filters: the API's query names (and fromAvails' fields). */
const USE = ['purpose', 'vendor', 'baseModel', 'date', 'territory', 'media', 'production', 'rightsHolder'] as const;

const select = (options: [string, string][], value: string) => h('select', {}, ...options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));

export function renderAvails(root: HTMLElement): void {
  const who = claims(token() ?? '');
  const isVendor = who?.role === 'vendor';
  const params = new URLSearchParams(location.search);
  const get = (name: string, fallback = '') => params.get(name) ?? fallback;

  const fields: Field[] = [
    field(
      'avails',
      'purpose',
      'Purpose',
      select(
        [
          ['fine-tune', 'Fine-tune'],
          ['reference', 'Reference'],
          ['derivative', 'Derivative'],
          ['commercial', 'Commercial'],
        ],
        get('purpose', 'fine-tune'),
      ),
    ),
    ...(isVendor ? [] : [field('avails', 'vendor', 'Vendor', h('input', { required: true, value: get('vendor'), autocomplete: 'off' }), 'the vendor id, e.g. acme-vfx')]),
    field('avails', 'baseModel', 'Base model', h('input', { required: true, value: get('baseModel', 'veo-3.0-generate-001'), autocomplete: 'off' })),
    field('avails', 'date', 'Date', h('input', { type: 'date', value: get('date') }), 'empty: now'),
    field('avails', 'territory', 'Territory', h('input', { value: get('territory'), autocomplete: 'off' }), 'ISO code such as US, or WORLD; empty: not asked'),
    field('avails', 'media', 'Medium', h('input', { value: get('media'), autocomplete: 'off' }), 'e.g. streaming; empty: not asked'),
    field('avails', 'production', 'Production', h('input', { value: get('production'), autocomplete: 'off' })),
    field('avails', 'rightsHolder', 'Rights holder', h('input', { value: get('rightsHolder'), autocomplete: 'off' })),
    field(
      'avails',
      'status',
      'Show',
      select(
        [
          ['', 'Every asset'],
          ['available', 'Available only'],
          ['unavailable', 'Unavailable only'],
        ],
        get('status'),
      ),
    ),
  ];
  const form = formOf('avails', fields, 'Search');
  const value = (name: string) => fields.find((f) => f.name === name)?.control.value.trim() ?? '';
  /** The use as the API takes it: only what was filled in. */
  const useQuery = (): Record<string, string> => Object.fromEntries(USE.map((n) => [n, value(n)] as const).filter(([, v]) => v !== ''));

  const status = h('p', { class: 'help', role: 'status' }, 'Say the use, then Search.');
  const body = h('tbody', {});
  const table = h(
    'table',
    { class: 'avails' },
    h('caption', { class: 'visually-hidden' }, 'Availability'),
    h('thead', {}, h('tr', {}, ...['Asset', 'Production', 'Rights holder', 'Answer', 'Why not'].map((c) => h('th', { scope: 'col' }, c)))),
    body,
  );
  const more = h('button', { type: 'button', class: 'more avails-more', hidden: true }, 'Show more');
  const download = h('button', { type: 'button', class: 'download', hidden: true }, 'Download CSV');

  const nameField = field('freeze', 'name', 'Dataset name', h('input', { required: true, autocomplete: 'off' }));
  const freeze = formOf('freeze', [nameField], 'Freeze these into a dataset');
  const frozen = h('p', { class: 'help', role: 'status' });
  const freezeBox = h(
    'section',
    { class: 'avails-freeze', hidden: true, 'aria-labelledby': 'freeze-heading' },
    h('h2', { id: 'freeze-heading' }, 'Freeze the available assets'),
    h('p', { class: 'help' }, 'Every asset available for this use now becomes a frozen dataset (its digest fixed), which a clearance can then be asked on.'),
    freeze.element,
    frozen,
  );

  replaceChildren(
    root,
    h('h1', {}, 'Availability'),
    h('p', {}, 'What may a vendor use, now, and why not: each answer is the training gate’s own, from its policies.'),
    form.element,
    status,
    h('div', { class: 'avails-actions' }, download),
    table,
    more,
    freezeBox,
  );

  let cursor: string | null = null;
  let shown = 0;
  const load = async (first: boolean) => {
    const query = new URLSearchParams(useQuery());
    if (value('status')) query.set('status', value('status'));
    query.set('limit', String(PAGE));
    if (cursor) query.set('cursor', cursor);
    const page = await (first ? sendForm(form, () => apiJson<Page>(`/v1/avails?${query}`)) : apiJson<Page>(`/v1/avails?${query}`));
    if (!page) {
      status.textContent = 'The search was refused: see the form.';
      return;
    }
    if (first) body.replaceChildren();
    for (const r of page.items) {
      const title = isVendor ? r.title : h('a', { href: `/console/assets/${encodeURIComponent(r.assetId)}`, 'data-nav': true }, r.title);
      body.append(
        h(
          'tr',
          { 'data-asset': r.assetId, 'data-status': r.status },
          h('td', { class: 'asset-title' }, title, h('br', {}), h('code', {}, r.assetId)),
          h('td', {}, r.production),
          h('td', {}, r.rightsHolder ?? ''),
          h('td', {}, h('span', { class: `avail-${r.status}` }, r.status === 'available' ? 'Available' : 'Unavailable')),
          h('td', {}, r.reasons.length ? h('ul', { class: 'reasons' }, ...r.reasons.map((x) => h('li', { 'data-code': x.code }, h('code', {}, x.code), ' ', x.sentence))) : ''),
        ),
      );
    }
    shown += page.items.length;
    cursor = page.nextCursor;
    more.hidden = cursor === null;
    download.hidden = false;
    freezeBox.hidden = false;
    status.textContent = `${shown} asset${shown === 1 ? '' : 's'} for ${page.use.vendor} as of ${page.use.date}${cursor ? ', more to show' : ''}.`;
  };

  form.element.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = new URLSearchParams(useQuery());
    if (value('status')) query.set('status', value('status'));
    history.replaceState(null, '', `/console/avails${query.size ? `?${query}` : ''}`);
    cursor = null;
    shown = 0;
    frozen.textContent = '';
    void load(true);
  });
  more.addEventListener('click', () => {
    load(false).catch((err: unknown) => {
      if (!(err instanceof SessionEnded)) status.textContent = err instanceof ApiError ? `The service refused: ${err.message}` : 'The search failed.';
    });
  });

  // The same rows as CSV, every page of them at once (the API's largest page), saved from a blob URL.
  download.addEventListener('click', async () => {
    const query = new URLSearchParams(useQuery());
    if (value('status')) query.set('status', value('status'));
    query.set('limit', '200000');
    try {
      const res = await api(`/v1/avails?${query}`, { headers: { accept: 'text/csv' } });
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { href: url, download: 'avails.csv', hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      status.textContent = res.headers.get('clearframe-next-cursor')
        ? 'Downloaded the first 200,000 rows as avails.csv; narrow the search for the rest.'
        : 'Downloaded avails.csv.';
    } catch (err) {
      if (!(err instanceof SessionEnded)) status.textContent = err instanceof ApiError ? `The download was refused: ${err.message}` : 'The download failed.';
    }
  });

  freeze.element.addEventListener('submit', async (e) => {
    e.preventDefault();
    const selection = useQuery();
    // Legal and admin freeze it for the vendor it was asked for; a vendor's dataset is its own.
    const body = { name: nameField.control.value.trim(), fromAvails: selection, ...(isVendor ? {} : { vendor: selection.vendor }) };
    const ds = await sendForm(freeze, () => sendJson<{ id: string; assetCount: number; digest: string }>('/v1/datasets', body));
    if (ds)
      frozen.replaceChildren(
        `Dataset `,
        h('code', { class: 'frozen-id' }, ds.id),
        ` frozen with ${ds.assetCount} asset${ds.assetCount === 1 ? '' : 's'}, digest `,
        h('code', {}, ds.digest),
        '.',
      );
  });

  if (params.has('purpose')) form.element.requestSubmit();
}
