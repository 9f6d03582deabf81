// The Verify page: files dropped anywhere (or chosen) each get a row; POST /v1/verify answers the verdict,
// lineage and standing, and the registration proof in that answer is checked here, in the browser. A file
// recovered by its pixels lists each output it may be, each proof checked the same way.
import { ApiError, api, SessionEnded } from './api.ts';
import { checkpointRef } from './checkpoints.ts';
import { facts, h, replaceChildren } from './dom.ts';
import { checkRegistrationProof, type ProofCheck, type RegistrationProof, sha256Hex } from './proof.ts';
import { mayReadRightsChains, outputRef, rightsChainPath } from './rights-chain.ts';

type Cause = { code?: string; message?: string; cause?: string; kind?: string; at?: string; reason?: string };
type Lineage = NonNullable<VerifyAnswer['lineage']>;
type Standing = NonNullable<VerifyAnswer['standing']>;
/** An output a file without a manifest may be, found by its fingerprint. */
type Candidate = {
  outputId: string;
  distance: number;
  threshold: number;
  /** Which of the output's fingerprints the file is near: the whole picture's, or its centre's (a cropped copy). */
  region?: 'whole' | 'centre';
  /** Set for a flat picture: its colour layout agreed too, within this many levels. */
  colourLayoutThreshold?: number;
  /** A video's: how many of the file's sampled frames matched of how many, and the stretch of the output it covers (ms). */
  matched?: number;
  of?: number;
  range?: { start: number; end: number };
  ledger: { outputId: string; signedSha256: string; auditIndex: number; withdrawal: { reason?: string; at?: string } | null };
  lineage: Lineage;
  standing: Standing;
  proof: RegistrationProof & { verifierKey: string };
};
export type VerifyAnswer = {
  verdict: string;
  detail: string;
  sha256: string;
  mimeType: string;
  c2pa: {
    validationState: string;
    trusted: boolean;
    intact: boolean;
    activeManifest: string;
    failureCodes: string[];
    timeStamp: unknown;
    signer?: { commonName: string | null; issuer: string | null; serialNumber: string | null; alg: string | null; time: string | null } | null;
  } | null;
  ledger: { match: 'exact' | 'manifest-only' | 'none'; outputId?: string; auditIndex?: number; withdrawal?: { reason?: string; at?: string } | null } | null;
  lineage: {
    outputId: string;
    checkpoint: { id: string; ref: string; artifactDigest: string | null };
    baseModel: string;
    clearanceId: string;
    dataset: { id: string; digest: string };
    policyDigest: string;
    auditIndex: number;
    sourceAssets: { assetId: string; sha256: string; title: string }[];
    generator: { name: string; version?: string } | null;
  } | null;
  standing: {
    status: string;
    cause: Cause | null;
    checkpoint: { id: string; status: string; causes: Cause[] };
    clearance: { id: string; standing: string; causes: Cause[] };
  } | null;
  proof: (RegistrationProof & { verifierKey: string }) | null;
  recovery?: { fingerprint?: { algorithm: string; value: string; quality: number }; threshold: number; statement: string; candidates: Candidate[] };
};

const ACCEPT = 'image/jpeg,image/png,image/webp,video/mp4,video/quicktime';
let verifierKey: Promise<string> | null = null;
const publishedKey = () => {
  verifierKey ??= fetch('/v1/audit/key', { cache: 'no-store' })
    .then((r) => r.json() as Promise<{ vkey: string }>)
    .then((k) => k.vkey);
  verifierKey.catch(() => {
    verifierKey = null;
  });
  return verifierKey;
};

export function renderVerify(root: HTMLElement, leave: AbortSignal): void {
  const input = h('input', { id: 'files', type: 'file', multiple: true, accept: ACCEPT, class: 'visually-hidden' });
  const results = h('ol', { class: 'results', 'aria-live': 'polite' });
  const zone = h(
    'div',
    { class: 'drop-zone' },
    h('p', {}, 'Drop files anywhere on this page, or'),
    h('label', { for: 'files', class: 'button' }, 'Choose files…'),
    input,
    h('p', { class: 'help' }, 'JPEG, PNG, WebP, MP4 or MOV. Several at once: each gets its own row.'),
  );
  replaceChildren(
    root,
    h('h1', {}, 'Verify a file'),
    h(
      'p',
      {},
      'The ledger says whether a file is one it signed, what it was made from and whether its rights still hold; the proof of its registration is then checked in your browser.',
    ),
    zone,
    results,
  );
  const take = (files: FileList | null | undefined) => {
    for (const file of Array.from(files ?? [])) results.prepend(verifyRow(file));
  };
  input.addEventListener('change', () => {
    take(input.files);
    input.value = '';
  });
  const opts = { signal: leave };
  document.addEventListener(
    'dragover',
    (e) => {
      e.preventDefault();
      zone.classList.add('dragging');
    },
    opts,
  );
  document.addEventListener('dragleave', () => zone.classList.remove('dragging'), opts);
  document.addEventListener(
    'drop',
    (e) => {
      e.preventDefault();
      zone.classList.remove('dragging');
      take(e.dataTransfer?.files);
    },
    opts,
  );
}

function verifyRow(file: File): HTMLLIElement {
  // The thumbnail gets its source once the verdict is in: decoding a large image beside the service's own
  // work would only delay the answer the user came for, on a machine with few cores.
  const thumb = file.type.startsWith('video/')
    ? h('video', { muted: true, preload: 'metadata', class: 'thumb', 'aria-label': `First frame of ${file.name}` })
    : h('img', { alt: `Thumbnail of ${file.name}`, class: 'thumb' });
  const showThumb = () => {
    if (!thumb.getAttribute('src')) thumb.setAttribute('src', URL.createObjectURL(file));
  };
  const body = h('div', { class: 'result-body' }, h('p', { class: 'pending' }, 'Verifying…'));
  const row = h(
    'li',
    { class: 'result' },
    h('div', { class: 'result-head' }, thumb, h('h2', { class: 'file-name' }, file.name), h('p', { class: 'file-size' }, size(file.size))),
    body,
  );
  void (async () => {
    try {
      const res = await api('/v1/verify', { method: 'POST', body: file, headers: { 'content-type': file.type || 'application/octet-stream' } });
      const answer = (await res.json()) as VerifyAnswer;
      row.dataset.verdict = answer.verdict;
      if (answer.verdict === 'recovered' && answer.recovery) {
        const proofs = answer.recovery.candidates.map(() => h('p', {}, 'Checking the proof in your browser…'));
        replaceChildren(body, ...renderAnswer(answer), ...renderRecovery(answer.recovery, proofs), downloadButton(file, answer, null));
        const vkey = await publishedKey();
        const checks = await Promise.all(answer.recovery.candidates.map((c) => checkRegistrationProof(c.proof, { vkey, outputId: c.outputId })));
        for (const [i, check] of checks.entries()) proofs[i]!.replaceWith(...renderCandidateCheck(check));
        body.querySelector('.download')?.replaceWith(downloadButton(file, answer, checks));
        return;
      }
      const proof = h(
        'section',
        { class: 'proof' },
        h('h3', {}, 'Proof of registration'),
        h('p', {}, answer.proof ? 'Checking the proof in your browser…' : 'Nothing to prove: the ledger holds no registration of this file.'),
      );
      replaceChildren(body, ...renderAnswer(answer), proof, downloadButton(file, answer, null));
      // After the verdict is on the page: the thumbnail's source costs a blob URL and starts a decode.
      showThumb();
      if (answer.proof && answer.ledger?.outputId) {
        const check = await checkRegistrationProof(answer.proof, {
          vkey: await publishedKey(),
          outputId: answer.ledger.outputId,
          ...(answer.ledger.match === 'exact' ? { fileSha256: await sha256Hex(new Uint8Array(await file.arrayBuffer())) } : {}),
        });
        replaceChildren(proof, h('h3', {}, 'Proof of registration'), ...renderCheck(check, answer.ledger.match === 'exact'));
        body.querySelector('.download')?.replaceWith(downloadButton(file, answer, check));
      }
    } catch (e) {
      if (e instanceof SessionEnded) return;
      showThumb();
      replaceChildren(
        body,
        h(
          'p',
          { class: 'error', role: 'alert' },
          e instanceof ApiError ? `The service refused this file: ${e.message}` : `Verification failed: ${e instanceof Error ? e.message : String(e)}`,
        ),
      );
    }
  })();
  return row;
}

const VERDICT_WORDS: Record<string, string> = {
  verified: 'Verified',
  tampered: 'Tampered',
  untrusted: 'Untrusted',
  unregistered: 'Unregistered',
  withdrawn: 'Withdrawn',
  'no-manifest': 'No manifest',
  damaged: 'Damaged',
  recovered: 'Recovered by its pixels',
};

function renderAnswer(a: VerifyAnswer): Node[] {
  const nodes: Node[] = [
    h('p', { class: `verdict verdict-${a.verdict}`, 'data-verdict': a.verdict }, VERDICT_WORDS[a.verdict] ?? a.verdict),
    h('p', { class: 'detail' }, a.detail),
  ];
  const event = a.proof ? leafEvent(a.proof.leaf) : null;
  if (a.c2pa) {
    nodes.push(
      h(
        'section',
        {},
        h('h3', {}, 'Signature'),
        facts([
          ['Signer', signerText(a.c2pa)],
          ['Content', a.c2pa.intact ? 'intact: matches its signed manifest' : 'altered after signing'],
          ['Signed and registered', event ? `${event.time} at the request of ${event.actor.sub} (${event.actor.role})` : null],
          ['Time-stamp', a.c2pa.timeStamp ? describe(a.c2pa.timeStamp) : 'none'],
          ['Manifest', a.c2pa.activeManifest],
          ['Failures', a.c2pa.failureCodes.length ? a.c2pa.failureCodes.join(', ') : null],
          ['File SHA-256', h('code', {}, a.sha256)],
        ]),
      ),
    );
  }
  // A recovered file's lineage and standing are its candidates', shown with each of them.
  const l = a.verdict === 'recovered' ? null : a.lineage;
  if (l) nodes.push(lineageSection(l));
  // A verified output's rights, for a proposed use: its chain (legal and admin read chains).
  if (a.verdict === 'verified' && l && mayReadRightsChains()) {
    nodes.push(h('p', { class: 'rights-chain-row' }, h('a', { href: rightsChainPath(l.outputId), 'data-nav': true }, 'Its rights chain, for a proposed use')));
  }
  const s = a.verdict === 'recovered' ? null : a.standing;
  if (s) nodes.push(standingSection(s));
  return nodes;
}

function lineageSection(l: Lineage, heading: 'h3' | 'h4' = 'h3'): HTMLElement {
  return h(
    'section',
    {},
    h(heading, {}, 'Lineage'),
    facts([
      ['Output', outputRef(l.outputId)],
      ['Checkpoint', [checkpointRef(l.checkpoint.id), ` ${l.checkpoint.ref}`]],
      ['Base model', l.baseModel],
      ['Dataset', h('code', {}, l.dataset.id)],
      ['Dataset digest', h('code', {}, l.dataset.digest)],
      ['Clearance', h('code', {}, l.clearanceId)],
      ['Policy digest', h('code', {}, l.policyDigest)],
      ['Generator', l.generator ? `${l.generator.name}${l.generator.version ? ` ${l.generator.version}` : ''}` : null],
      [
        'Source art',
        l.sourceAssets.length
          ? h('ul', { class: 'sources' }, ...l.sourceAssets.map((s) => h('li', {}, h('span', { class: 'asset-title' }, s.title), ' ', h('code', {}, s.assetId))))
          : null,
      ],
    ]),
  );
}

function standingSection(s: Standing, heading: 'h3' | 'h4' = 'h3'): HTMLElement {
  return h(
    'section',
    {},
    h(heading, {}, 'Standing now'),
    h('p', { class: `standing standing-${s.status}`, 'data-standing': s.status }, s.status === 'good' ? 'Good: the rights under this output hold' : s.status),
    s.cause ? h('p', { class: 'cause' }, s.cause.message ?? s.cause.code ?? '') : null,
    facts([
      ['Checkpoint', `${s.checkpoint.status}${causes(s.checkpoint.causes)}`],
      ['Clearance', `${s.clearance.standing}${causes(s.clearance.causes)}`],
    ]),
  );
}

/**
 * What a recovered file may be: the plain statement that its bytes are not the signed ones, then each
 * candidate output (nearest first) with how near it is, its record, lineage, standing and the proof of its
 * registration (`proofs[i]`, filled once checked in the browser).
 */
function similarity(c: Candidate): string {
  if (c.matched !== undefined && c.of !== undefined) {
    const covers = c.range ? `, covering ${seconds(c.range.start)} to ${seconds(c.range.end)} of the output` : '';
    return `${c.matched} of ${c.of} sampled frames matched (PDQ, a median ${c.distance} of 256 bits apart, within the threshold of ${c.threshold})${covers}`;
  }
  const of = c.region === 'centre' ? ' from the fingerprint of its centre (the file looks cropped)' : '';
  const layout = c.colourLayoutThreshold !== undefined ? `; a flat picture, so its colour layout was checked too (within ${c.colourLayoutThreshold} levels)` : '';
  return `${c.distance} of 256 bits apart (PDQ)${of}, within the threshold of ${c.threshold}${layout}`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function renderRecovery(r: NonNullable<VerifyAnswer['recovery']>, proofs: HTMLElement[]): Node[] {
  return [
    h('p', { class: 'bytes-differ', role: 'note' }, `Not the signed file: ${r.statement}.`),
    h(
      'section',
      { class: 'candidates' },
      h('h3', {}, r.candidates.length === 1 ? 'The output it looks like' : `The ${r.candidates.length} outputs it looks like, nearest first`),
      h(
        'ol',
        { class: 'candidate-list' },
        ...r.candidates.map((c, i) =>
          h(
            'li',
            { class: 'candidate', 'data-output-id': c.outputId },
            h('h4', {}, 'Output ', outputRef(c.outputId)),
            facts([
              ['Similarity', similarity(c)],
              ['Signed file SHA-256', h('code', {}, c.ledger.signedSha256)],
              ['Registered', `entry ${c.ledger.auditIndex} of the audit log`],
              ['Withdrawn', c.ledger.withdrawal ? (c.ledger.withdrawal.reason ?? 'yes') : null],
            ]),
            lineageSection(c.lineage, 'h4'),
            standingSection(c.standing, 'h4'),
            h('section', { class: 'proof' }, h('h4', {}, 'Proof of registration'), proofs[i]!),
          ),
        ),
      ),
    ),
  ];
}

function renderCandidateCheck(check: ProofCheck): Node[] {
  if (!check.ok) return [h('p', { class: 'proof-failed', role: 'alert' }, `The proof did NOT check in your browser: ${check.reason}.`)];
  return [
    h('p', { class: 'proof-checked' }, 'The registration of this output was checked in your browser; this file is not the bytes it registered.'),
    facts([
      ['Entry', `${check.index} of a log of ${check.treeSize} entries`],
      ['Log', check.origin],
      ['Signed tree head', [h('code', {}, check.rootHash), ' signed with Ed25519 by the published key ', h('code', {}, check.keyName)]],
    ]),
  ];
}

/** `exact`: the entry registers these very bytes; else it registers the output the file's manifest names. */
function renderCheck(check: ProofCheck, exact: boolean): Node[] {
  if (!check.ok) return [h('p', { class: 'proof-failed', role: 'alert' }, `The proof did NOT check in your browser: ${check.reason}.`)];
  return [
    exact
      ? h('p', { class: 'proof-checked' }, 'Proof checked in your browser')
      : h('p', { class: 'proof-other' }, 'The registration of the output this file’s manifest names was checked in your browser; this file is not the bytes it registered.'),
    facts([
      ['Entry', `${check.index} of a log of ${check.treeSize} entries`],
      ['Log', check.origin],
      ['Signed tree head', [h('code', {}, check.rootHash), ' signed with Ed25519 by the published key ', h('code', {}, check.keyName)]],
      ['How', 'SHA-256 leaf and node hashes (RFC 9162) folded to the root, and the signature on the checkpoint verified, with your browser’s WebCrypto'],
    ]),
  ];
}

/** `check`: the proof as checked in the browser (for a recovered file, each candidate's). */
function downloadButton(file: File, answer: VerifyAnswer, check: ProofCheck | ProofCheck[] | null): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'download' }, 'Download the verdict (JSON)');
  button.addEventListener('click', () => {
    const record = { file: { name: file.name, size: file.size, type: file.type }, verifiedAt: new Date().toISOString(), answer, proofCheckedInBrowser: check };
    const url = URL.createObjectURL(new Blob([JSON.stringify(record, null, 2)], { type: 'application/json' }));
    const a = h('a', { href: url, download: `${file.name}.verdict.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  return button;
}

/** The certificate's names, then whether this ledger trusts it. */
function signerText(c: NonNullable<VerifyAnswer['c2pa']>): string {
  const s = c.signer;
  const names = s ? [s.commonName, s.issuer && s.issuer !== s.commonName ? `issued by ${s.issuer}` : null].filter(Boolean).join(', ') : '';
  const trust = c.trusted ? 'a trusted C2PA signer of this ledger' : `not a trusted signer (${c.validationState})`;
  return names ? `${names}: ${trust}` : trust;
}

function leafEvent(leaf: string): { time: string; actor: { sub: string; role: string } } | null {
  try {
    const e = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(leaf), (c) => c.charCodeAt(0)))) as { time?: string; actor?: { sub?: string; role?: string } };
    return { time: String(e.time), actor: { sub: String(e.actor?.sub), role: String(e.actor?.role) } };
  } catch {
    return null;
  }
}

function causes(list: Cause[]): string {
  if (!list.length) return '';
  return `: ${list.map((c) => [c.kind ?? c.cause ?? c.code, c.at ? `since ${c.at}` : null, c.reason ?? c.message].filter(Boolean).join(' ')).join('; ')}`;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== null && typeof x !== 'object')
      .map(([k, x]) => `${k}: ${String(x)}`)
      .join(', ');
  }
  return String(v);
}

function size(bytes: number): string {
  return bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
