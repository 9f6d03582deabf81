// A checkpoint's page (vendor for its own, generator, legal, admin) at /console/checkpoints/{id}: GET
// /v1/checkpoints/{id} for its status now, the causes of a taint and the status history, and GET
// /v1/checkpoints/{id}/outputs for the outputs it signed (what a taint reaches), each linked to its rights
// chain for the roles that may read one.
import { ApiError, apiJson, SessionEnded } from './api.ts';
import { renderCheckpoints, statusMark } from './checkpoints.ts';
import { facts, h, replaceChildren } from './dom.ts';
import { reportDownload } from './report-download.ts';
import { outputRef } from './rights-chain.ts';
import { claims, token } from './session.ts';

type Cause =
  | { kind: 'license-revoked'; licenseId: string; assetIds: string[]; at: string; reason: string | null }
  | { kind: 'license-expired'; licenseId: string; assetIds: string[]; at: string }
  | { kind: 'retired'; reason: string };
type Checkpoint = {
  id: string;
  status: string;
  causes: Cause[];
  clearance: { id: string; standing: string; purpose: string; issuedAt: string; policyDigest: string };
  dataset: { id: string; digest: string };
  baseModel: string;
  vendor: string;
  source: string;
  tuningJobId: string | null;
  externalRef: string | null;
  artifactDigest: string | null;
  vertex: { model: string; endpoint: string | null } | null;
  createdAt: string;
  createdBy: string;
  auditIndex: number;
  statusHistory: { status: string; at: string; cause: Cause | null; recorded: boolean; auditIndex: number | null }[];
};
type OutputItem = {
  id: string;
  mimeType: string;
  signedSha256: string;
  sourceAssetIds: string[];
  generator: { name: string; version?: string } | null;
  createdAt: string;
  createdBy: string;
  withdrawal: { reason: string; withdrawnAt: string } | null;
};

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
const mayReadAssets = () => {
  const t = token();
  const role = t ? claims(t)?.role : undefined;
  return role === 'legal' || role === 'admin';
};
const maySummarise = () => {
  const t = token();
  const role = t ? claims(t)?.role : undefined;
  return role === 'legal' || role === 'admin' || role === 'vendor';
};
const assetRef = (id: string) => (mayReadAssets() ? h('a', { href: `/console/assets/${encodeURIComponent(id)}`, 'data-nav': true }, h('code', {}, id)) : h('code', {}, id));

/** A cause in words, its license and assets named. */
function cause(c: Cause): (Node | string)[] {
  if (c.kind === 'retired') return [`Retired: ${c.reason}`];
  const assets = c.assetIds.flatMap((id, i) => [i ? ', ' : '', assetRef(id)]);
  const head = c.kind === 'license-revoked' ? 'License revoked' : 'License term ended';
  return [
    `${head}: `,
    h('code', {}, c.licenseId),
    ` of asset${c.assetIds.length === 1 ? '' : 's'} `,
    ...assets,
    `, effective ${when(c.at)}`,
    c.kind === 'license-revoked' && c.reason ? `: ${c.reason}` : '',
  ];
}

export function renderCheckpoint(root: HTMLElement, leave: AbortSignal, params: string[]): void {
  const id = params[0];
  if (!id) {
    renderCheckpoints(root, leave); // /console/checkpoints/ is the list
    return;
  }
  replaceChildren(root, h('h1', {}, 'Checkpoint'), h('p', { class: 'help', role: 'status' }, 'Loading…'));
  void (async () => {
    try {
      const c = await apiJson<Checkpoint>(`/v1/checkpoints/${encodeURIComponent(id)}`);
      if (leave.aborted) return;
      draw(root, c, leave);
    } catch (e) {
      if (e instanceof SessionEnded || leave.aborted) return;
      replaceChildren(
        root,
        h('h1', {}, 'Checkpoint'),
        h('p', { class: 'error' }, e instanceof ApiError ? `The service answered: ${e.message}` : 'The service did not answer.'),
        h('p', {}, h('a', { href: '/console/checkpoints', 'data-nav': true }, 'Back to the checkpoints')),
      );
    }
  })();
}

function draw(root: HTMLElement, c: Checkpoint, leave: AbortSignal): void {
  const outputs = h('tbody', {});
  const outputsStatus = h('p', { class: 'help', role: 'status' }, 'Loading…');
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show more');
  replaceChildren(
    root,
    h('p', { class: 'crumbs' }, h('a', { href: '/console/checkpoints', 'data-nav': true }, 'Checkpoints')),
    h('h1', {}, 'Checkpoint ', h('code', {}, c.id)),
    h(
      'section',
      { class: 'ckp-now', 'aria-labelledby': 'ckp-status-h' },
      h('h2', { id: 'ckp-status-h' }, 'Status now'),
      h('p', { class: 'ckp-status-big' }, statusMark(c.status)),
      c.causes.length ? h('ul', { class: 'ckp-causes' }, ...c.causes.map((x) => h('li', { 'data-kind': x.kind }, ...cause(x)))) : null,
      c.status === 'tainted' ? h('p', { class: 'help' }, 'Outputs of a tainted checkpoint no longer rest on standing rights, and it signs no new ones.') : null,
    ),
    h(
      'section',
      { 'aria-labelledby': 'ckp-facts-h' },
      h('h2', { id: 'ckp-facts-h' }, 'What it was trained on'),
      facts([
        ['Base model', c.baseModel],
        ['Vendor', c.vendor],
        ['Trained', c.source === 'vertex' ? 'on Vertex AI' : 'elsewhere, registered by the vendor'],
        ['Tuning job', c.tuningJobId ? h('code', {}, c.tuningJobId) : null],
        ['Vertex model', c.vertex ? c.vertex.model : null],
        ['Artifact', c.externalRef],
        ['Artifact digest', c.artifactDigest ? h('code', {}, c.artifactDigest) : null],
        ['Clearance', [h('code', {}, c.clearance.id), ` ${c.clearance.standing}, ${c.clearance.purpose}, issued ${when(c.clearance.issuedAt)}`]],
        ['Policy digest', h('code', {}, c.clearance.policyDigest)],
        ['Dataset', h('code', {}, c.dataset.id)],
        ['Dataset digest', h('code', {}, c.dataset.digest)],
        ['Registered', `${when(c.createdAt)} by ${c.createdBy} (audit entry ${c.auditIndex})`],
      ]),
    ),
    maySummarise()
      ? reportDownload(
          'ckp-summary',
          'Training summary',
          'The public summary of its training content (EU AI Act Article 53(1)(d) template), from the ledger.',
          `/v1/checkpoints/${encodeURIComponent(c.id)}/training-summary`,
          `${c.id}.training-summary`,
        )
      : null,
    h(
      'section',
      { 'aria-labelledby': 'ckp-history-h' },
      h('h2', { id: 'ckp-history-h' }, 'Status history'),
      h(
        'ol',
        { class: 'timeline' },
        ...c.statusHistory.map((e) =>
          h(
            'li',
            { class: `event event-${e.status}`, 'data-status': e.status },
            h('h3', {}, STATUS_HEAD[e.status] ?? e.status),
            h(
              'p',
              { class: 'event-who' },
              h('time', { datetime: e.at }, when(e.at)),
              e.recorded ? (e.auditIndex !== null ? `, audit entry ${e.auditIndex}` : '') : ', not yet in the log (the sweep writes it)',
            ),
            e.cause ? h('p', {}, ...cause(e.cause)) : null,
          ),
        ),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'ckp-outputs-h' },
      h('h2', { id: 'ckp-outputs-h' }, 'Outputs downstream'),
      h('p', { class: 'help' }, 'The outputs this checkpoint signed, newest first.'),
      outputsStatus,
      h(
        'table',
        { class: 'checkpoints ckp-outputs' },
        h('caption', { class: 'visually-hidden' }, 'Outputs signed with this checkpoint'),
        h('thead', {}, h('tr', {}, ...['Output', 'Type', 'Signed', 'By', 'Source art', 'Withdrawn'].map((x) => h('th', { scope: 'col' }, x)))),
        outputs,
      ),
      more,
    ),
  );

  let cursor: string | null = null;
  let shown = 0;
  const load = async () => {
    const q = new URLSearchParams({ limit: '50' });
    if (cursor) q.set('cursor', cursor);
    try {
      const page = await apiJson<{ items: OutputItem[]; nextCursor: string | null }>(`/v1/checkpoints/${encodeURIComponent(c.id)}/outputs?${q}`);
      if (leave.aborted) return;
      for (const o of page.items) {
        outputs.append(
          h(
            'tr',
            { 'data-output': o.id },
            h('td', {}, outputRef(o.id)),
            h('td', {}, o.mimeType),
            h('td', {}, h('time', { datetime: o.createdAt }, when(o.createdAt))),
            h('td', {}, o.createdBy),
            h('td', {}, ...o.sourceAssetIds.flatMap((a, i) => [i ? ', ' : '', assetRef(a)])),
            h('td', {}, o.withdrawal ? `${when(o.withdrawal.withdrawnAt)}: ${o.withdrawal.reason}` : ''),
          ),
        );
      }
      shown += page.items.length;
      cursor = page.nextCursor;
      more.hidden = cursor === null;
      outputsStatus.textContent = shown === 0 ? 'It has signed no output.' : `${shown} output${shown === 1 ? '' : 's'}${cursor ? ', more to show' : ''}.`;
    } catch (e) {
      if (e instanceof SessionEnded || leave.aborted) return;
      outputsStatus.textContent = e instanceof ApiError ? `The service refused the list: ${e.message}` : 'The list failed.';
    }
  };
  more.addEventListener('click', () => void load());
  void load();
}

const STATUS_HEAD: Record<string, string> = { active: 'Registered, active', tainted: 'Tainted', retired: 'Retired' };
