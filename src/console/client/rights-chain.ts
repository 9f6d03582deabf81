// The rights chain of an output (legal, admin) at /console/outputs/{id}/rights-chain: GET
// /v1/outputs/{id}/rights-chain for a proposed use (territory, media, date, commercial), drawn as a tree the
// user can fold (output → checkpoint → clearance → dataset → assets → license versions, and through any
// asset registered from an earlier output, to any depth). Each node carries the answer's mark; each asset's
// license shows the state at clearance beside the state now where they differ. The proposed use lives in
// the URL's query (never the token), so a reload or a link keeps it.
import { ApiError, apiJson, SessionEnded } from './api.ts';
import { h, replaceChildren } from './dom.ts';
import { type Field, field, formOf, sendForm } from './forms.ts';
import { reportDownload } from './report-download.ts';
import { claims, token } from './session.ts';

type Verdict = 'cleared' | 'requiresApproval' | 'notCleared';
type RuleResult = 'pass' | 'requiresApproval' | 'fail' | 'notApplicable';
type Check = { rule: string; result: RuleResult; detail: string };
type LicenseEvaluation = { view: 'atClearance' | 'now'; licenseId: string | null; version: number | null; standingAsOf: string; verdict: Verdict; checks: Check[] };
type EvaluatedAsset = {
  assetId: string;
  title: string;
  sha256: string;
  role: 'training' | 'reference';
  verdict: Verdict;
  checks: Check[];
  atClearance: LicenseEvaluation;
  now: LicenseEvaluation;
  changedSinceClearance: string[];
  derivedFrom: EvaluatedOutput | null;
};
type EvaluatedOutput = {
  outputId: string;
  depth: number;
  checkpointId: string;
  clearanceId: string;
  dataset: { id: string; digest: string };
  verdict: Verdict;
  checks: Check[];
  assets: EvaluatedAsset[];
  stopped: 'cycle' | 'depth-limit' | null;
};
type ChainVerdict = {
  verdict: Verdict;
  reasons: string[];
  notes: string[];
  evaluatedAt: string;
  use: { territory: string | null; media: string | null; date: string; commercial: boolean };
  maxDepth: number;
  root: EvaluatedOutput;
};

const CHAIN_ROLES = ['legal', 'admin'];

/** Whether the signed-in role may read rights chains (the API's roles for GET /v1/outputs/{id}/rights-chain). */
export function mayReadRightsChains(): boolean {
  const t = token();
  const role = t ? claims(t)?.role : undefined;
  return role !== undefined && CHAIN_ROLES.includes(role);
}

export function rightsChainPath(outputId: string): string {
  return `/console/outputs/${encodeURIComponent(outputId)}/rights-chain`;
}

/** An output id as a link to its rights chain for the roles that may read one, else as code. */
export function outputRef(outputId: string): HTMLElement {
  const code = h('code', {}, outputId);
  return mayReadRightsChains() ? h('a', { href: rightsChainPath(outputId), 'data-nav': true, class: 'rights-chain-link', title: 'Its rights chain' }, code) : code;
}

const MARK_WORDS: Record<Verdict, string> = { cleared: 'Cleared', requiresApproval: 'Requires approval', notCleared: 'Not cleared' };
const RESULT_MARK: Record<RuleResult, Verdict | null> = { pass: 'cleared', requiresApproval: 'requiresApproval', fail: 'notCleared', notApplicable: null };
const RESULT_WORDS: Record<RuleResult, string> = { pass: 'passes', requiresApproval: 'requires approval', fail: 'fails', notApplicable: 'not asked' };
const RANK: Record<Verdict, number> = { cleared: 0, requiresApproval: 1, notCleared: 2 };
const worst = (vs: Verdict[]): Verdict => vs.reduce<Verdict>((w, v) => (RANK[v] > RANK[w] ? v : w), 'cleared');
const checkMark = (c: Check | undefined): Verdict | null => (c ? RESULT_MARK[c.result] : null);

function mark(v: Verdict | null): HTMLElement | null {
  return v ? h('span', { class: `mark mark-${v}`, 'data-mark': v }, MARK_WORDS[v]) : null;
}

/** /console/outputs/{id}/rights-chain; /console/outputs alone asks for an output id. */
export function renderRightsChain(root: HTMLElement, leave: AbortSignal, params: string[]): void {
  const outputId = params[0];
  if (!outputId) {
    renderLookup(root);
    return;
  }
  const query = new URLSearchParams(location.search);
  const input = (attrs: Record<string, string | boolean>) => h('input', { type: 'text', ...attrs });
  const f = {
    territory: field('use', 'territory', 'Territory', input({ value: query.get('territory') ?? '', autocomplete: 'off' }), 'ISO 3166-1 alpha-2 (US, FR), or WORLD.'),
    media: field('use', 'media', 'Medium', input({ value: query.get('media') ?? '', autocomplete: 'off' }), 'For example streaming, theatrical.'),
    date: field('use', 'date', 'Date of the use', h('input', { type: 'date', value: query.get('date') ?? '' }), 'Empty: today.'),
    commercial: field('use', 'commercial', 'Commercial use', h('input', { type: 'checkbox', checked: query.get('commercial') === 'true' })),
  };
  const fields: Field[] = Object.values(f);
  const form = formOf('use', fields, 'Check this use');
  const result = h('div', { class: 'chain-result', 'aria-live': 'polite' }, h('p', { class: 'help', role: 'status' }, 'Reading the chain…'));
  replaceChildren(
    root,
    h('h1', {}, 'Rights chain'),
    h('p', { class: 'chain-of' }, 'Of output ', h('code', { class: 'chain-output-id' }, outputId), ': every license it rests on, through the outputs it derives from.'),
    h('section', { class: 'form-section', 'aria-labelledby': 'use-h' }, h('h2', { id: 'use-h' }, 'Proposed use'), form.element),
    result,
    chainOfTitle('output', outputId),
  );

  const values = () => {
    const q = new URLSearchParams();
    const territory = (f.territory.control as HTMLInputElement).value.trim();
    const media = (f.media.control as HTMLInputElement).value.trim();
    const date = (f.date.control as HTMLInputElement).value;
    if (territory) q.set('territory', territory);
    if (media) q.set('media', media);
    if (date) q.set('date', date);
    q.set('commercial', (f.commercial.control as HTMLInputElement).checked ? 'true' : 'false');
    return q;
  };
  const check = async () => {
    const shown = values();
    const api = new URLSearchParams(shown);
    // A day in the form is the use's instant at the start of that day (UTC), as a license term's start.
    if (api.has('date')) api.set('date', `${api.get('date')}T00:00:00Z`);
    const answer = await sendForm(form, () => apiJson<ChainVerdict>(`/v1/outputs/${encodeURIComponent(outputId)}/rights-chain?${api}`));
    if (leave.aborted) return;
    if (!answer) {
      replaceChildren(result, h('p', { class: 'help' }, 'No answer for this use: see what the service said above.'));
      return;
    }
    replaceChildren(result, ...drawAnswer(answer));
  };
  form.element.addEventListener('submit', (e) => {
    e.preventDefault();
    history.replaceState(null, '', `${location.pathname}?${values()}`);
    void check();
  });
  void check().catch((e) => {
    if (e instanceof SessionEnded) return;
    replaceChildren(result, h('p', { class: 'error' }, e instanceof ApiError ? `The service answered: ${e.message}` : 'The service did not answer.'));
  });
}

/** The chain of title of an output or an asset as a document to attach to a contract (legal, admin: as rights chains). */
export function chainOfTitle(kind: 'asset' | 'output', id: string): HTMLElement | null {
  if (!mayReadRightsChains()) return null;
  return reportDownload(
    'chain-of-title',
    'Chain of title',
    'Every fact of the chain with its audit entry, and the signed tree head they verify against.',
    `/v1/reports/chain-of-title?${new URLSearchParams({ [`${kind}Id`]: id })}`,
    `${id}.chain-of-title`,
  );
}

function renderLookup(root: HTMLElement): void {
  const id = field('lookup', 'output', 'Output ID', h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' }), 'An output id such as out_…, from a verification.');
  const form = formOf('lookup', [id], 'Open its rights chain');
  form.element.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = id.control.value.trim();
    if (!value) {
      id.error.textContent = 'Enter an output id';
      id.control.setAttribute('aria-invalid', 'true');
      id.control.focus();
      return;
    }
    location.assign(rightsChainPath(value));
  });
  replaceChildren(root, h('h1', {}, 'Rights chain'), form.element);
}

function drawAnswer(a: ChainVerdict): (Node | null)[] {
  const use = [
    a.use.territory ? `in ${a.use.territory}` : 'in any territory (not checked)',
    a.use.media ? `on ${a.use.media}` : 'on any medium (not checked)',
    `on ${a.use.date.slice(0, 10)}`,
    a.use.commercial ? 'commercial' : 'not commercial',
  ].join(', ');
  const tree = h('ul', { class: 'tree', role: 'list' }, outputNode(a.root, true));
  const foldAll = (open: boolean) => {
    for (const b of tree.querySelectorAll<HTMLButtonElement>('button.fold')) setOpen(b, open);
  };
  const unfold = h('button', { type: 'button', class: 'secondary' }, 'Unfold all');
  const fold = h('button', { type: 'button', class: 'secondary' }, 'Fold all');
  unfold.addEventListener('click', () => foldAll(true));
  fold.addEventListener('click', () => foldAll(false));
  return [
    h(
      'section',
      { class: 'chain-verdict', 'aria-labelledby': 'verdict-h' },
      h('h2', { id: 'verdict-h' }, 'Answer'),
      h('p', { class: `verdict chain-verdict-${a.verdict}`, 'data-verdict': a.verdict }, MARK_WORDS[a.verdict]),
      h('p', { class: 'detail' }, `For this use: ${use}. Judged ${a.evaluatedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}, under the terms in force now.`),
    ),
    h(
      'section',
      { 'aria-labelledby': 'reasons-h' },
      h('h2', { id: 'reasons-h' }, 'Reasons'),
      a.reasons.length
        ? h('ul', { class: 'chain-reasons' }, ...a.reasons.map((r) => h('li', { 'data-requires-approval': r.endsWith('[requires approval]') || null }, r)))
        : h('p', { class: 'help' }, 'Every rule passes for this use, on every license in the chain.'),
    ),
    a.notes.length
      ? h(
          'section',
          { 'aria-labelledby': 'notes-h' },
          h('h2', { id: 'notes-h' }, 'Changed since clearance'),
          h('p', { class: 'help' }, 'Shown for what changed; the answer follows the terms in force now.'),
          h('ul', { class: 'chain-notes' }, ...a.notes.map((n) => h('li', {}, n))),
        )
      : null,
    h('section', { class: 'chain-tree', 'aria-labelledby': 'tree-h' }, h('h2', { id: 'tree-h' }, 'The chain'), h('p', { class: 'tree-actions' }, unfold, ' ', fold), tree),
  ];
}

let nodeSeq = 0;

function setOpen(button: HTMLButtonElement, open: boolean): void {
  button.setAttribute('aria-expanded', String(open));
  const list = document.getElementById(button.getAttribute('aria-controls') ?? '');
  if (list) list.hidden = !open;
}

/**
 * One node: its head (a fold button when it has children, else its label), its mark, what it says, and its
 * children in a nested list the button shows or hides.
 */
function node(kind: string, id: string, label: string, v: Verdict | null, body: (Node | null)[], children: HTMLLIElement[]): HTMLLIElement {
  const listId = `chain-node-${++nodeSeq}`;
  const head = h('div', { class: 'node-head' });
  if (children.length) {
    // The arrow is drawn by CSS on a hidden span, so the button's name is the node's label alone.
    const button = h(
      'button',
      { type: 'button', class: 'fold', 'aria-expanded': 'true', 'aria-controls': listId },
      h('span', { class: 'fold-icon', 'aria-hidden': 'true' }),
      label,
    );
    button.addEventListener('click', () => setOpen(button, button.getAttribute('aria-expanded') !== 'true'));
    head.append(button);
  } else {
    head.append(h('span', { class: 'node-label' }, label));
  }
  const m = mark(v);
  if (m) head.append(' ', m);
  return h(
    'li',
    { class: `node node-${kind}`, 'data-node': kind, 'data-id': id },
    head,
    ...body,
    children.length ? h('ul', { id: listId, class: 'tree-children', role: 'list' }, ...children) : null,
  );
}

const detail = (c: Check | undefined) => (c ? h('p', { class: `node-detail result-${c.result}` }, c.detail) : null);
const link = (href: string, text: string) => h('a', { href, 'data-nav': true }, text);

function outputNode(o: EvaluatedOutput, root = false): HTMLLIElement {
  const label = `Output ${o.outputId}${root ? '' : ` (generation ${o.depth} below)`}`;
  const withdrawn = o.checks.find((c) => c.rule === 'output-withdrawn');
  if (o.stopped) return node('output', o.outputId, label, o.verdict, [detail(o.checks[0])], []);
  const byRule = (r: string) => o.checks.find((c) => c.rule === r);
  const training = o.assets.filter((a) => a.role === 'training');
  const reference = o.assets.filter((a) => a.role === 'reference');
  const dataset = node(
    'dataset',
    o.dataset.id,
    `Dataset ${o.dataset.id}`,
    training.length ? worst(training.map((a) => a.verdict)) : null,
    [h('p', { class: 'node-detail' }, 'Digest ', h('code', {}, o.dataset.digest), `; ${training.length} training asset${training.length === 1 ? '' : 's'}`)],
    training.map(assetNode),
  );
  const clearance = node('clearance', o.clearanceId, `Clearance ${o.clearanceId}`, checkMark(byRule('clearance-standing')), [detail(byRule('clearance-standing'))], [dataset]);
  const checkpoint = node(
    'checkpoint',
    o.checkpointId,
    `Checkpoint ${o.checkpointId}`,
    checkMark(byRule('checkpoint-status')),
    [detail(byRule('checkpoint-status')), h('p', { class: 'node-links' }, link(`/console/checkpoints/${encodeURIComponent(o.checkpointId)}`, 'Its status and history'))],
    [clearance],
  );
  const body: (Node | null)[] = [
    withdrawn ? detail(withdrawn) : null,
    root ? null : h('p', { class: 'node-links' }, link(rightsChainPath(o.outputId), 'Open its own rights chain')),
  ];
  return node('output', o.outputId, label, o.verdict, body, [checkpoint, ...reference.map(assetNode)]);
}

function assetNode(a: EvaluatedAsset): HTMLLIElement {
  const role = a.role === 'training' ? 'Training asset' : 'Reference asset (used directly)';
  const failing = a.checks.filter((c) => c.result === 'fail' || c.result === 'requiresApproval');
  const children = [licenseNode(a), ...(a.derivedFrom ? [outputNode(a.derivedFrom)] : [])];
  return node(
    'asset',
    a.assetId,
    `${role} “${a.title}”`,
    a.verdict,
    [
      h(
        'p',
        { class: 'node-detail' },
        h('code', {}, a.assetId),
        ' ',
        link(`/console/assets/${encodeURIComponent(a.assetId)}`, 'Its license history'),
        a.derivedFrom ? ` · registered from output ${a.derivedFrom.outputId}` : null,
      ),
      ...failing.map((c) => detail(c)),
    ],
    children,
  );
}

const licenseName = (e: LicenseEvaluation) => (e.licenseId === null ? 'no license' : `license ${e.licenseId} v${e.version}`);

/** The license: one list of checks when both views agree, the two side by side (changed rows marked) when not. */
function licenseNode(a: EvaluatedAsset): HTMLLIElement {
  const { atClearance: was, now } = a;
  const differs = a.changedSinceClearance.length > 0 || was.licenseId !== now.licenseId;
  if (!differs) {
    return node(
      'license',
      now.licenseId ?? 'none',
      `${licenseName(now)[0]!.toUpperCase()}${licenseName(now).slice(1)}${a.role === 'training' ? ', the same at clearance and now' : ''}`,
      now.verdict,
      [
        h(
          'ul',
          { class: 'checks' },
          ...now.checks.map((c) => h('li', { class: `result-${c.result}`, 'data-rule': c.rule }, h('span', { class: 'rule' }, c.rule), ` ${RESULT_WORDS[c.result]}: ${c.detail}`)),
        ),
      ],
      [],
    );
  }
  const rules = [...new Set([...was.checks.map((c) => c.rule), ...now.checks.map((c) => c.rule)])];
  const cell = (e: LicenseEvaluation, rule: string) => {
    const c = e.checks.find((x) => x.rule === rule);
    return c ? h('td', { class: `result-${c.result}` }, h('strong', {}, RESULT_WORDS[c.result]), `: ${c.detail}`) : h('td', {}, '—');
  };
  const table = h(
    'table',
    { class: 'then-now' },
    h('caption', {}, `${a.title}: the license at clearance and now`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Rule'),
        h('th', { scope: 'col' }, `At clearance: ${licenseName(was)}, as of ${was.standingAsOf.slice(0, 10)}`, ' ', mark(was.verdict)),
        h('th', { scope: 'col' }, `Now: ${licenseName(now)}`, ' ', mark(now.verdict)),
      ),
    ),
    h(
      'tbody',
      {},
      ...rules.map((r) => {
        const changed = a.changedSinceClearance.includes(r);
        return h(
          'tr',
          { class: changed ? 'changed' : null, 'data-rule': r, 'data-changed': changed || null },
          h('th', { scope: 'row' }, r, changed ? h('span', { class: 'changed-tag' }, ' (changed)') : null),
          cell(was, r),
          cell(now, r),
        );
      }),
    ),
  );
  const n = a.changedSinceClearance.length;
  const what = n ? `${n} rule${n === 1 ? '' : 's'} changed` : 'a new version, the same results';
  return node('license', now.licenseId ?? 'none', `License at clearance and now: ${what}`, now.verdict, [table], []);
}
