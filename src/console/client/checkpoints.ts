// The Checkpoints page (vendor for its own, generator, legal, admin): GET /v1/checkpoints, newest first, a
// page at a time (the API's cursor), optionally for one clearance (kept in the URL's query). Each id links to
// the checkpoint's page.
import { ApiError, apiJson, SessionEnded } from './api.ts';
import { h, replaceChildren } from './dom.ts';
import { claims, token } from './session.ts';

type CheckpointItem = { id: string; clearanceId: string; datasetId: string; baseModel: string; vendor: string; source: string; status: string; createdAt: string };
type CheckpointPage = { items: CheckpointItem[]; nextCursor: string | null };

export const STATUS_WORDS: Record<string, string> = { active: 'Active', tainted: 'Tainted', retired: 'Retired' };

export function statusMark(status: string): HTMLElement {
  return h('span', { class: `ckp-status ckp-status-${status}`, 'data-status': status }, STATUS_WORDS[status] ?? status);
}

export function checkpointPath(id: string): string {
  return `/console/checkpoints/${encodeURIComponent(id)}`;
}

const CHECKPOINT_ROLES = ['vendor', 'generator', 'legal', 'admin'];

/** A checkpoint id as a link to its page for the roles that may read checkpoints, else as code. */
export function checkpointRef(id: string): HTMLElement {
  const t = token();
  const role = t ? claims(t)?.role : undefined;
  const code = h('code', {}, id);
  return role && CHECKPOINT_ROLES.includes(role) ? h('a', { href: checkpointPath(id), 'data-nav': true }, code) : code;
}

export function renderCheckpoints(root: HTMLElement, leave: AbortSignal): void {
  const params = new URLSearchParams(location.search);
  const clearance = h('input', { id: 'filter-clearanceId', name: 'clearanceId', type: 'search', value: params.get('clearanceId') ?? '', spellcheck: 'false' });
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    h('div', { class: 'field' }, h('label', { for: 'filter-clearanceId' }, 'Trained under clearance'), clearance),
    h('button', { type: 'submit' }, 'Show'),
  );
  const body = h('tbody', {});
  const status = h('p', { class: 'help', role: 'status' }, 'Loading…');
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show more');
  const table = h(
    'table',
    { class: 'checkpoints' },
    h('caption', { class: 'visually-hidden' }, 'Checkpoints'),
    h('thead', {}, h('tr', {}, ...['Checkpoint', 'Status', 'Base model', 'Vendor', 'Trained', 'Clearance', 'Dataset', 'Registered'].map((c) => h('th', { scope: 'col' }, c)))),
    body,
  );
  replaceChildren(
    root,
    h('h1', {}, 'Checkpoints'),
    h('p', {}, 'Models tuned on cleared datasets, newest first, with their status now. A tainted checkpoint lost a license it was trained on.'),
    form,
    status,
    table,
    more,
  );

  let cursor: string | null = null;
  let shown = 0;
  const load = async () => {
    const query = new URLSearchParams();
    if (clearance.value.trim()) query.set('clearanceId', clearance.value.trim());
    query.set('limit', '50');
    if (cursor) query.set('cursor', cursor);
    try {
      const page = await apiJson<CheckpointPage>(`/v1/checkpoints?${query}`);
      if (leave.aborted) return;
      for (const c of page.items) {
        body.append(
          h(
            'tr',
            { 'data-checkpoint': c.id },
            h('td', {}, h('a', { href: checkpointPath(c.id), 'data-nav': true }, h('code', {}, c.id))),
            h('td', {}, statusMark(c.status)),
            h('td', {}, c.baseModel),
            h('td', {}, c.vendor),
            h('td', {}, c.source === 'vertex' ? 'on Vertex AI' : 'elsewhere'),
            h('td', {}, h('code', {}, c.clearanceId)),
            h('td', {}, h('code', {}, c.datasetId)),
            h('td', {}, c.createdAt.slice(0, 10)),
          ),
        );
      }
      shown += page.items.length;
      cursor = page.nextCursor;
      more.hidden = cursor === null;
      status.textContent = shown === 0 ? 'No checkpoint here.' : `${shown} checkpoint${shown === 1 ? '' : 's'}${cursor ? ', more to show' : ''}.`;
    } catch (e) {
      if (e instanceof SessionEnded || leave.aborted) return;
      status.textContent = e instanceof ApiError ? `The service refused the list: ${e.message}` : 'The list failed.';
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = clearance.value.trim();
    history.replaceState(null, '', `/console/checkpoints${q ? `?${new URLSearchParams({ clearanceId: q })}` : ''}`);
    body.replaceChildren();
    cursor = null;
    shown = 0;
    void load();
  });
  more.addEventListener('click', () => void load());
  void load();
}
