// The Audit log page (legal, admin) at /console/audit: the signed tree head and its key (GET /v1/audit/checkpoint,
// /v1/audit/key; the signature checked here), the entries newest first a page at a time (GET /v1/audit/events),
// each opening to its canonical leaf and its inclusion proof (GET /v1/audit/proofs/inclusion) checked in the
// browser against that checkpoint, and an evidence bundle of a range as a download (GET /v1/audit/evidence).
import { ApiError, api, apiJson, SessionEnded } from './api.ts';
import { facts, h, replaceChildren } from './dom.ts';
import { field, formOf, sendForm } from './forms.ts';
import { checkCheckpoint, checkEntryProof, type SignedHead } from './log-proof.ts';
import { decodeBase64 } from './proof.ts';

type AuditEvent = { index: number; time: string; actor: { sub: string; role: string }; action: string; subjectId: string; content: unknown; leaf: string; leafHash: string };
type EventPage = { treeSize: number; events: AuditEvent[]; next: number | null };
type Inclusion = { index: number; treeSize: number; leafHash: string; hashes: string[]; rootHash: string };
type Key = { origin: string; vkey: string; algorithm: string };

const PAGE = 25;

export function renderAudit(root: HTMLElement, leave: AbortSignal): void {
  replaceChildren(root, h('h1', {}, 'Audit log'), h('p', { class: 'help', role: 'status' }, 'Loading the signed tree head…'));
  void load(root, leave);
}

async function load(root: HTMLElement, leave: AbortSignal): Promise<void> {
  let key: Key;
  let note: string;
  try {
    [key, note] = await Promise.all([apiJson<Key>('/v1/audit/key'), api('/v1/audit/checkpoint').then((r) => r.text())]);
  } catch (e) {
    if (e instanceof SessionEnded || leave.aborted) return;
    replaceChildren(root, h('h1', {}, 'Audit log'), h('p', { class: 'error' }, e instanceof ApiError ? `The service answered: ${e.message}` : 'The service did not answer.'));
    return;
  }
  if (leave.aborted) return;
  // Every proof on the page is checked against this one checkpoint, so its signature is checked first.
  let head: SignedHead | null = null;
  let headError = '';
  try {
    head = await checkCheckpoint(note, key.vkey);
  } catch (e) {
    headError = e instanceof Error ? e.message : String(e);
  }
  const entries = h('ol', { class: 'audit-entries' });
  const status = h('p', { class: 'help', role: 'status' });
  const older = h('button', { type: 'button', class: 'more', hidden: true }, 'Show older entries');
  replaceChildren(
    root,
    h('h1', {}, 'Audit log'),
    h(
      'p',
      {},
      'Every change to the ledger is an entry of this log, an RFC 9162 Merkle tree whose head the service signs. Open an entry to see its exact bytes and check, in your browser, that it is in the signed tree.',
    ),
    headSection(note, key, head, headError),
    head ? exportSection(head.treeSize, key.vkey) : null,
    h('section', { 'aria-labelledby': 'entries-h' }, h('h2', { id: 'entries-h' }, 'Entries, newest first'), status, entries, older),
  );
  if (!head) {
    status.textContent = 'The entries cannot be proved against a checkpoint whose signature does not check.';
    return;
  }
  const checkpoint = { note, head, vkey: key.vkey };
  let end = head.treeSize; // entries [0, end) are still to show, newest first
  let shown = 0;
  const more = async () => {
    const from = Math.max(0, end - PAGE);
    if (end === 0) {
      status.textContent = 'The log has no entries yet.';
      return;
    }
    older.disabled = true;
    try {
      const page = await apiJson<EventPage>(`/v1/audit/events?from=${from}&limit=${end - from}`);
      if (leave.aborted) return;
      for (const e of [...page.events].reverse()) entries.append(entryItem(e, checkpoint));
      shown += page.events.length;
      end = from;
      older.hidden = end === 0;
      status.textContent = `${shown} of ${head.treeSize} entries shown (the log as its signed head states it), newest first.`;
    } catch (e) {
      if (e instanceof SessionEnded) return;
      status.textContent = e instanceof ApiError ? `The service refused the entries: ${e.message}` : 'The entries could not be read.';
    } finally {
      older.disabled = false;
    }
  };
  older.addEventListener('click', () => void more());
  await more();
}

function headSection(note: string, key: Key, head: SignedHead | null, error: string): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'head-h', class: 'audit-head' },
    h('h2', { id: 'head-h' }, 'Signed tree head now'),
    head
      ? h('p', { class: 'proof-checked head-checked' }, 'Signature checked in your browser: Ed25519, under the published key')
      : h('p', { class: 'proof-failed', role: 'alert' }, `The checkpoint’s signature did NOT check in your browser: ${error}.`),
    facts([
      ['Log', key.origin],
      ['Entries', head ? String(head.treeSize) : null],
      ['Root hash', head ? h('code', { class: 'root-hash' }, head.rootHash) : null],
      ['Verifier key', h('code', { class: 'vkey' }, key.vkey)],
      ['Algorithm', key.algorithm],
    ]),
    h('h3', {}, 'The checkpoint as signed (C2SP tlog-checkpoint)'),
    h('pre', { class: 'checkpoint' }, note),
  );
}

type Checkpoint = { note: string; head: SignedHead; vkey: string };

/** One entry: a summary line that opens to its leaf and, the first time it is opened, its proof checked here. */
function entryItem(e: AuditEvent, cp: Checkpoint): HTMLLIElement {
  const proof = h('div', { class: 'entry-proof', 'aria-live': 'polite' }, h('p', { class: 'help' }, 'Checking its inclusion proof in your browser…'));
  const leafBytes = decodeBase64(e.leaf);
  const leafText = leafBytes ? new TextDecoder().decode(leafBytes) : '(not base64)';
  const details = h(
    'details',
    { class: 'entry' },
    h(
      'summary',
      {},
      h('span', { class: 'entry-index' }, `#${e.index}`),
      ' ',
      h('time', { datetime: e.time }, e.time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')),
      ' ',
      h('span', { class: 'entry-action' }, e.action),
      ' ',
      h('code', { class: 'entry-subject' }, e.subjectId),
      ' ',
      h('span', { class: 'entry-actor' }, `${e.actor.sub} (${e.actor.role})`),
    ),
    h('h3', {}, 'Canonical leaf (RFC 8785 JSON: the bytes the tree commits to)'),
    h('pre', { class: 'leaf' }, leafText),
    facts([['Leaf hash (SHA-256 of 0x00 and the leaf, base64)', h('code', {}, e.leafHash)]]),
    proof,
  );
  let started = false;
  details.addEventListener('toggle', () => {
    if (!details.open || started) return;
    started = true;
    void checkEntry(e, cp, proof);
  });
  return h('li', { 'data-index': e.index }, details);
}

async function checkEntry(e: AuditEvent, cp: Checkpoint, out: HTMLElement): Promise<void> {
  try {
    const p = await apiJson<Inclusion>(`/v1/audit/proofs/inclusion?index=${e.index}&treeSize=${cp.head.treeSize}`);
    const check = await checkEntryProof({ index: e.index, treeSize: p.treeSize, leaf: e.leaf, hashes: p.hashes, checkpoint: cp.note }, cp.vkey);
    // What the page shows of the entry must be what its proved leaf says.
    const differs = check.ok ? shownDiffers(e, check.event) : null;
    if (!check.ok || differs) {
      replaceChildren(out, h('p', { class: 'proof-failed', role: 'alert' }, `The proof did NOT check in your browser: ${check.ok ? differs : check.reason}.`));
      return;
    }
    replaceChildren(
      out,
      h('p', { class: 'proof-checked' }, 'Proof checked in your browser'),
      facts([
        ['Entry', `${e.index} of a log of ${check.head.treeSize} entries`],
        ['Path', `${p.hashes.length} hash${p.hashes.length === 1 ? '' : 'es'} from the leaf to the root`],
        ['Signed tree head', [h('code', {}, check.head.rootHash), ' signed with Ed25519 by the published key ', h('code', {}, check.head.keyName)]],
        ['How', 'SHA-256 leaf and node hashes (RFC 9162) folded to the root of the checkpoint above, whose signature was checked, with your browser’s WebCrypto'],
      ]),
    );
  } catch (err) {
    if (err instanceof SessionEnded) return;
    replaceChildren(
      out,
      h('p', { class: 'proof-failed', role: 'alert' }, `The proof could not be checked: ${err instanceof ApiError ? `the service answered ${err.message}` : String(err)}.`),
    );
  }
}

function shownDiffers(e: AuditEvent, leaf: Record<string, unknown>): string | null {
  const actor = leaf.actor as { sub?: unknown; role?: unknown } | undefined;
  if (leaf.action !== e.action || leaf.subjectId !== e.subjectId || leaf.time !== e.time || actor?.sub !== e.actor.sub || actor?.role !== e.actor.role) {
    return 'the entry shown differs from the leaf that was proved';
  }
  return null;
}

/** A range of entries as an evidence bundle, downloaded; checked offline with the CLI and the published key. */
function exportSection(treeSize: number, vkey: string): HTMLElement {
  const p = 'evidence';
  const from = field(p, 'from', 'First entry', h('input', { type: 'number', min: 0, value: String(Math.max(0, treeSize - PAGE)), inputmode: 'numeric' }));
  const to = field(
    p,
    'to',
    'Up to (not including)',
    h('input', { type: 'number', min: 1, value: String(treeSize), inputmode: 'numeric' }),
    'Left empty: up to the log’s size when the bundle is made.',
  );
  const result = h('div', { class: 'evidence-result', 'aria-live': 'polite' });
  const form = formOf(p, [from, to], 'Download the evidence bundle');
  form.element.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    result.replaceChildren();
    const q = new URLSearchParams();
    q.set('from', from.control.value.trim());
    if (to.control.value.trim()) q.set('to', to.control.value.trim());
    const got = await sendForm(form, async () => {
      const res = await api(`/v1/audit/evidence?${q}`);
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'clearframe-evidence.json';
      return { name, blob: await res.blob() };
    });
    if (!got) return;
    const url = URL.createObjectURL(got.blob);
    const a = h('a', { href: url, download: got.name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    replaceChildren(
      result,
      h('p', { class: 'evidence-saved' }, `Saved ${got.name} (${got.blob.size.toLocaleString('en')} bytes).`),
      h('p', { class: 'help' }, 'Check it offline, with nothing but the file and the published key:'),
      h('pre', { class: 'command' }, `npx clearframe audit verify --bundle ${got.name} --key '${vkey}'`),
    );
  });
  return h(
    'section',
    { class: 'form-section', 'aria-labelledby': 'evidence-h' },
    h('h2', { id: 'evidence-h' }, 'Evidence bundle'),
    h('p', { class: 'help' }, 'The entries of a range, each with its leaf and inclusion proof, in a checkpoint signed when it is made.'),
    form.element,
    result,
  );
}
