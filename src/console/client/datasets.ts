// The Datasets pages (vendor for its own, legal, admin). /console/datasets lists GET /v1/datasets a page at a
// time (the API's cursor; a vendor's token sees its vendor's only). /console/datasets/{id} shows the members
// and digest (recomputed here from the members), each member's inclusion proof checked here on demand, and
// every clearance asked on it or clearing it (GET /v1/clearances, GET /v1/clearances/{id}) with allow or deny
// and each asset's reasons in a table filtered by reason code and text. A vendor can ask for a clearance
// (POST /v1/datasets/{id}/clearances); legal and admin do that through the API, naming the vendor.
import { ApiError, apiJson, SessionEnded } from './api.ts';
import { facts, h, replaceChildren } from './dom.ts';
import { field, formOf, sendForm, sendJson } from './forms.ts';
import { checkMembership, datasetDigest } from './log-proof.ts';
import { claims, token } from './session.ts';

type Dataset = {
  id: string;
  name: string;
  digest: string;
  assetCount: number;
  parentId: string | null;
  ownerVendor: string | null;
  createdAt: string;
  createdBy: string;
  auditIndex: number;
};
type Member = { position: number; assetId: string; sha256: string };
type Outcome = { assetId: string; decision: 'allow' | 'deny'; reasons: { policyId: string; reason: string }[]; licenseId: string | null };
type ClearanceItem = { id: string; issuedAt: string };
type Clearance = {
  id: string;
  decision: 'allow' | 'deny';
  datasetId: string;
  requestedDatasetId: string;
  mode: string;
  datasetDigest: string;
  policyDigest: string;
  vendor: string;
  purpose: string;
  baseModel: string;
  issuedAt: string;
  expiresAt: string | null;
  counts: { assets: number; allowed: number; denied: number };
  standing: { status: string; causes: Record<string, unknown>[] };
  assets: Outcome[];
  createdBy: string;
  auditIndex: number;
};
type Asked = { id: string; decision: 'allow' | 'deny'; token: string | null; expiresAt: string | null; counts: Clearance['counts']; derivedDataset: { id?: string } | null };
type MembershipAnswer = { included: boolean; digest: string; proof: { index: number; treeSize: number; sha256: string; hashes: string[] } | null };

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
const owner = (d: Dataset) => d.ownerVendor ?? 'the studio';
const link = (d: { id: string; name?: string }, text = d.name ?? d.id) => h('a', { href: `/console/datasets/${encodeURIComponent(d.id)}`, 'data-nav': true }, text);
/** Members whose digest is recomputed without asking: beyond, a button does it (a SHA-256 per leaf and node). */
const RECOMPUTE_AT_ONCE = 5000;
const MEMBERS_SHOWN = 100;

/** /console/datasets */
export function renderDatasets(root: HTMLElement): void {
  const who = claims(token() ?? '');
  const body = h('tbody', {});
  const status = h('p', { class: 'help', role: 'status' }, 'Loading…');
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show more');
  replaceChildren(
    root,
    h('h1', {}, 'Datasets'),
    h(
      'p',
      {},
      who?.role === 'vendor' ? `The datasets of ${who.vendor ?? 'your vendor'}, newest first.` : 'Every dataset, newest first: the studio’s and each vendor’s.',
      ' A dataset is frozen: its digest commits to its members’ content.',
    ),
    status,
    h(
      'table',
      { class: 'datasets' },
      h('caption', { class: 'visually-hidden' }, 'Datasets'),
      h('thead', {}, h('tr', {}, ...['Name', 'Assets', 'Belongs to', 'Derived from', 'Frozen', 'By', 'Digest'].map((c) => h('th', { scope: 'col' }, c)))),
      body,
    ),
    more,
  );
  let cursor: string | null = null;
  let shown = 0;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await apiJson<{ items: Dataset[]; nextCursor: string | null }>(`/v1/datasets?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      for (const d of page.items) {
        body.append(
          h(
            'tr',
            { 'data-id': d.id },
            h('td', { class: 'dataset-name' }, link(d)),
            h('td', {}, d.assetCount.toLocaleString('en')),
            h('td', {}, owner(d)),
            h('td', {}, d.parentId ? link({ id: d.parentId }) : ''),
            h('td', {}, d.createdAt.slice(0, 10)),
            h('td', {}, d.createdBy),
            h('td', {}, h('code', {}, d.digest)),
          ),
        );
      }
      shown += page.items.length;
      cursor = page.nextCursor;
      more.hidden = cursor === null;
      status.textContent = shown === 0 ? 'No dataset yet.' : `${shown} dataset${shown === 1 ? '' : 's'}${cursor ? ', more to show' : ''}.`;
    } catch (e) {
      if (e instanceof SessionEnded) return;
      status.textContent = e instanceof ApiError ? `The service refused the list: ${e.message}` : 'The list could not be read.';
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => void load());
  void load();
}

/** /console/datasets/{id} */
export function renderDataset(root: HTMLElement, leave: AbortSignal, params: string[]): void {
  const id = params[0] ?? '';
  if (!id) {
    renderDatasets(root); // /console/datasets/ (the entry's own path): the list
    return;
  }
  replaceChildren(root, h('h1', {}, 'Dataset'), h('p', { class: 'help', role: 'status' }, 'Loading…'));
  void loadDataset(root, id, leave);
}

async function loadDataset(root: HTMLElement, id: string, leave: AbortSignal): Promise<void> {
  let d: Dataset & { assets: Member[] };
  try {
    d = await apiJson<Dataset & { assets: Member[] }>(`/v1/datasets/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof SessionEnded || leave.aborted) return;
    replaceChildren(
      root,
      h('p', { class: 'crumbs' }, h('a', { href: '/console/datasets', 'data-nav': true }, 'Datasets')),
      h('h1', {}, 'Dataset'),
      h('p', { class: 'error' }, e instanceof ApiError ? `The service answered: ${e.message}` : 'The service did not answer.'),
    );
    return;
  }
  if (leave.aborted) return;
  const clearances = h('div', { class: 'clearances' }, h('p', { class: 'help', role: 'status' }, 'Loading the clearances…'));
  const isVendor = claims(token() ?? '')?.role === 'vendor';
  const reload = () => void loadClearances(d, clearances, leave);
  replaceChildren(
    root,
    h('p', { class: 'crumbs' }, h('a', { href: '/console/datasets', 'data-nav': true }, 'Datasets')),
    h('h1', { class: 'dataset-title' }, d.name),
    facts([
      ['ID', h('code', {}, d.id)],
      ['Digest', h('code', { class: 'dataset-digest' }, d.digest)],
      ['Assets', d.assetCount.toLocaleString('en')],
      ['Belongs to', owner(d)],
      ['Derived from', d.parentId ? link({ id: d.parentId }) : null],
      ['Frozen', `${when(d.createdAt)} by ${d.createdBy} (audit entry ${d.auditIndex})`],
    ]),
    digestSection(d),
    membersSection(d),
    h('section', { 'aria-labelledby': 'clearances-h' }, h('h2', { id: 'clearances-h' }, 'Clearances'), clearances),
    isVendor ? askSection(d, reload) : null,
  );
  reload();
}

/** The digest recomputed here from the members the API listed: the same RFC 9162 root, or not. */
function digestSection(d: Dataset & { assets: Member[] }): HTMLElement {
  const out = h('div', { class: 'digest-check', 'aria-live': 'polite' });
  const run = async () => {
    replaceChildren(out, h('p', { class: 'help' }, 'Recomputing the digest in your browser…'));
    try {
      const mine = await datasetDigest(d.assets.map((m) => m.sha256));
      replaceChildren(
        out,
        mine === d.digest
          ? h('p', { class: 'proof-checked' }, `Digest checked in your browser: the RFC 9162 root over these ${d.assets.length} members’ SHA-256 is the dataset’s digest`)
          : h('p', { class: 'proof-failed', role: 'alert' }, `The digest did NOT check in your browser: these members give ${mine}, not the dataset’s digest.`),
      );
    } catch (e) {
      replaceChildren(out, h('p', { class: 'proof-failed', role: 'alert' }, `The digest could not be recomputed: ${e instanceof Error ? e.message : String(e)}.`));
    }
  };
  const section = h('section', { 'aria-labelledby': 'digest-h' }, h('h2', { id: 'digest-h' }, 'Digest'), out);
  if (d.assets.length <= RECOMPUTE_AT_ONCE) void run();
  else {
    const button = h('button', { type: 'button' }, `Recompute the digest over ${d.assets.length.toLocaleString('en')} members in your browser`);
    button.addEventListener('click', () => void run());
    out.append(button);
  }
  return section;
}

function membersSection(d: Dataset & { assets: Member[] }): HTMLElement {
  const body = h('tbody', {});
  const more = h('button', { type: 'button', class: 'more', hidden: true }, `Show ${MEMBERS_SHOWN} more`);
  let shown = 0;
  const show = () => {
    for (const m of d.assets.slice(shown, shown + MEMBERS_SHOWN)) body.append(memberRow(d, m));
    shown = Math.min(d.assets.length, shown + MEMBERS_SHOWN);
    more.hidden = shown >= d.assets.length;
  };
  more.addEventListener('click', show);
  show();
  return h(
    'section',
    { 'aria-labelledby': 'members-h' },
    h('h2', { id: 'members-h' }, `Members (${d.assets.length.toLocaleString('en')}, in the digest’s order)`),
    h(
      'table',
      { class: 'members' },
      h('caption', { class: 'visually-hidden' }, 'Members'),
      h('thead', {}, h('tr', {}, ...['Position', 'Asset', 'SHA-256', 'Inclusion proof'].map((c) => h('th', { scope: 'col' }, c)))),
      body,
    ),
    more,
  );
}

function memberRow(d: Dataset, m: Member): HTMLTableRowElement {
  const cell = h('td', { class: 'member-proof' });
  const button = h('button', { type: 'button', class: 'check', 'aria-label': `Check the inclusion proof of ${m.assetId}` }, 'Check');
  cell.append(button);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const answer = await apiJson<MembershipAnswer>(`/v1/datasets/${encodeURIComponent(d.id)}/proofs/inclusion?assetId=${encodeURIComponent(m.assetId)}`);
      // The proof must be for this member's bytes and lead to the digest this page shows.
      const ok = answer.included && answer.proof !== null && answer.proof.sha256 === m.sha256 && (await checkMembership(d.digest, answer.proof));
      replaceChildren(cell, ok ? h('span', { class: 'proof-checked' }, 'Proof checked in your browser') : h('span', { class: 'proof-failed' }, 'The proof did NOT check'));
    } catch (e) {
      if (e instanceof SessionEnded) return;
      replaceChildren(cell, h('span', { class: 'proof-failed' }, e instanceof ApiError ? `Refused: ${e.message}` : 'No answer'));
    }
  });
  return h('tr', {}, h('td', {}, String(m.position)), h('td', {}, h('code', {}, m.assetId)), h('td', {}, h('code', {}, m.sha256)), cell);
}

/** Clearances asked on this dataset (and, for a cleared subset, the one that cleared it), newest first. */
async function loadClearances(d: Dataset, out: HTMLElement, leave: AbortSignal): Promise<void> {
  try {
    const id = encodeURIComponent(d.id);
    const [asked, cleared] = await Promise.all([
      apiJson<{ items: ClearanceItem[] }>(`/v1/clearances?requestedDatasetId=${id}&limit=50`),
      apiJson<{ items: ClearanceItem[] }>(`/v1/clearances?datasetId=${id}&limit=50`),
    ]);
    const items = [...new Map([...asked.items, ...cleared.items].map((c) => [c.id, c])).values()].sort((a, b) => b.issuedAt.localeCompare(a.issuedAt));
    const records = await Promise.all(items.map((c) => apiJson<Clearance>(`/v1/clearances/${encodeURIComponent(c.id)}`)));
    if (leave.aborted) return;
    replaceChildren(out, records.length ? records.map((c) => clearanceArticle(d, c)) : h('p', { class: 'help' }, 'No clearance has been asked on this dataset.'));
  } catch (e) {
    if (e instanceof SessionEnded || leave.aborted) return;
    replaceChildren(out, h('p', { class: 'error' }, e instanceof ApiError ? `The service refused the clearances: ${e.message}` : 'The clearances could not be read.'));
  }
}

function clearanceArticle(d: Dataset, c: Clearance): HTMLElement {
  const headingId = `clr-${c.id}-h`;
  return h(
    'article',
    { class: `clearance clearance-${c.decision}`, 'data-clearance': c.id, 'aria-labelledby': headingId },
    h(
      'h3',
      { id: headingId },
      h('span', { class: `decision decision-${c.decision}`, 'data-decision': c.decision }, c.decision === 'allow' ? 'Allow' : 'Deny'),
      ' ',
      h('code', {}, c.id),
    ),
    facts([
      ['Vendor', c.vendor],
      ['Purpose and base model', `${c.purpose}, ${c.baseModel}`],
      ['Assets', `${c.counts.assets}: ${c.counts.allowed} allowed, ${c.counts.denied} denied`],
      ['Mode', c.mode === 'subset' ? 'subset: the passing assets cleared as a derived dataset' : 'all: every asset must pass'],
      ['Dataset cleared', c.datasetId === d.id ? 'this one' : link({ id: c.datasetId })],
      ['Asked on', c.requestedDatasetId === d.id ? 'this one' : link({ id: c.requestedDatasetId })],
      ['Issued', `${when(c.issuedAt)} by ${c.createdBy} (audit entry ${c.auditIndex})`],
      ['Expires', c.expiresAt ? when(c.expiresAt) : null],
      ['Standing now', h('span', { class: `standing standing-${c.standing.status}` }, c.standing.status)],
      ['Policy digest', h('code', {}, c.policyDigest)],
    ]),
    reasonsTable(c),
  );
}

/**
 * Every asset's decision and each of its reasons, a row per reason, filtered by reason code (the policy that
 * decided) and by text (asset, license, reason). Open at once for a deny; folded for an allow.
 */
function reasonsTable(c: Clearance): HTMLElement {
  const rows = c.assets.flatMap((a) =>
    (a.reasons.length ? a.reasons : [{ policyId: '', reason: '' }]).map((r) => ({ ...r, assetId: a.assetId, decision: a.decision, licenseId: a.licenseId })),
  );
  const codes = [...new Set(rows.map((r) => r.policyId).filter(Boolean))].sort();
  const p = `reasons-${c.id}`;
  const code = h('select', { id: `${p}-code` }, h('option', { value: '' }, 'Every reason'), ...codes.map((x) => h('option', { value: x }, x)));
  const decision = h(
    'select',
    { id: `${p}-decision` },
    h('option', { value: '' }, 'Allowed and denied'),
    h('option', { value: 'deny', selected: c.decision === 'deny' }, 'Denied'),
    h('option', { value: 'allow' }, 'Allowed'),
  );
  const text = h('input', { id: `${p}-text`, type: 'search', placeholder: 'asset, license or words of a reason' });
  const body = h('tbody', {});
  const count = h('p', { class: 'help reasons-count', role: 'status' });
  const draw = () => {
    const words = text.value.trim().toLowerCase();
    const shown = rows.filter(
      (r) =>
        (!code.value || r.policyId === code.value) &&
        (!decision.value || r.decision === decision.value) &&
        (!words || [r.assetId, r.licenseId ?? '', r.policyId, r.reason].some((v) => v.toLowerCase().includes(words))),
    );
    body.replaceChildren(
      ...shown.map((r) =>
        h(
          'tr',
          { 'data-asset': r.assetId, 'data-code': r.policyId },
          h('td', {}, h('code', {}, r.assetId)),
          h('td', {}, h('span', { class: `decision decision-${r.decision}` }, r.decision)),
          h('td', {}, h('code', { class: 'reason-code' }, r.policyId || '—')),
          h('td', { class: 'reason-text' }, r.reason),
          h('td', {}, r.licenseId ? h('code', {}, r.licenseId) : 'none'),
        ),
      ),
    );
    count.textContent = `${shown.length} of ${rows.length} reason${rows.length === 1 ? '' : 's'} shown.`;
  };
  for (const control of [code, decision]) control.addEventListener('change', draw);
  text.addEventListener('input', draw);
  draw();
  return h(
    'details',
    { class: 'reasons', open: c.decision === 'deny' },
    h('summary', {}, c.decision === 'deny' ? 'Why: every asset’s reasons' : 'Every asset’s decision'),
    h(
      'div',
      { class: 'filters', role: 'search', 'aria-label': `Filter the reasons of ${c.id}` },
      h('div', { class: 'field' }, h('label', { for: code.id }, 'Reason code'), code),
      h('div', { class: 'field' }, h('label', { for: decision.id }, 'Decision'), decision),
      h('div', { class: 'field' }, h('label', { for: text.id }, 'Text'), text),
    ),
    count,
    h(
      'table',
      { class: 'reasons-table' },
      h('caption', { class: 'visually-hidden' }, `Reasons of ${c.id}`),
      h('thead', {}, h('tr', {}, ...['Asset', 'Decision', 'Reason code', 'Reason', 'License'].map((x) => h('th', { scope: 'col' }, x)))),
      body,
    ),
  );
}

/** The vendor asks to train on this dataset: the same request the API takes, and its answer shown. */
function askSection(d: Dataset, reload: () => void): HTMLElement {
  const p = 'ask';
  const f = {
    purpose: field(p, 'purpose', 'Purpose', h('select', {}, h('option', { value: 'fine-tune' }, 'fine-tune'), h('option', { value: 'evaluation' }, 'evaluation'))),
    baseModel: field(p, 'baseModel', 'Base model', h('input', { type: 'text', value: 'imagen-4.0-generate-001', spellcheck: 'false' }), 'A model id such as veo-3.0-generate-001.'),
    mode: field(
      p,
      'mode',
      'Mode',
      h('select', {}, h('option', { value: 'all' }, 'all: every asset must pass'), h('option', { value: 'subset' }, 'subset: clear the passing assets')),
    ),
  };
  const answer = h('div', { class: 'ask-answer', 'aria-live': 'polite' });
  const form = formOf(p, Object.values(f), 'Ask for a clearance');
  form.element.addEventListener('submit', async (e) => {
    e.preventDefault();
    answer.replaceChildren();
    const body = { purpose: f.purpose.control.value, baseModel: f.baseModel.control.value.trim(), mode: f.mode.control.value };
    const got = await sendForm(form, () => sendJson<Asked>(`/v1/datasets/${encodeURIComponent(d.id)}/clearances`, body));
    if (!got) return;
    replaceChildren(
      answer,
      h(
        'p',
        { class: `ask-decision decision decision-${got.decision}`, 'data-decision': got.decision },
        got.decision === 'allow' ? 'Allowed: a clearance was issued' : 'Denied: the reasons are below, in the clearance',
      ),
      facts([
        ['Clearance', h('code', {}, got.id)],
        ['Assets', `${got.counts.assets}: ${got.counts.allowed} allowed, ${got.counts.denied} denied`],
        ['Expires', got.expiresAt ? when(got.expiresAt) : null],
        ['Cleared subset', got.derivedDataset?.id ? link({ id: got.derivedDataset.id }) : null],
      ]),
      got.token
        ? h(
            'div',
            { class: 'form-field' },
            h('label', { for: 'ask-token' }, 'Clearance token (signed; present it to train, and on POST /v1/checkpoints)'),
            h('textarea', { id: 'ask-token', readonly: true, rows: 3, spellcheck: 'false' }, got.token),
          )
        : null,
    );
    reload();
  });
  return h(
    'section',
    { class: 'form-section', 'aria-labelledby': 'ask-h' },
    h('h2', { id: 'ask-h' }, 'Ask for a clearance'),
    h('p', { class: 'help' }, 'Every asset is checked against its license and the policies; the decision is recorded, allow or deny.'),
    form.element,
    answer,
  );
}
