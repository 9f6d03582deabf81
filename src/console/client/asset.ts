// The asset page (legal, admin) at /console/assets/{id}, and the registration form at /console/assets/new.
// The page reads GET /v1/assets/{id}, its license versions and each version's approvals, and draws them as one
// timeline; its forms record or amend a license (POST /v1/assets/{id}/licenses), record an approval, and revoke
// (the dry run, POST /v1/licenses/{id}/revoke?dryRun=true, is shown before the confirm button). An asset may
// carry several licenses: each is drawn with its own timeline and forms, the amendment naming its licenseId,
// and "Add another license" records a new one (newLicense); an exclusivity conflict (409 with `conflicts`) is
// listed beside the form, which then offers an override with a reason.
import { ApiError, api, apiJson, SessionEnded } from './api.ts';
import { append, facts, h, replaceChildren } from './dom.ts';
import { type Field, field, formOf, sendForm, sendJson, sendMultipart } from './forms.ts';
import { chainOfTitle, outputRef } from './rights-chain.ts';

type Asset = {
  id: string;
  sha256: string;
  title: string;
  mediaType: string;
  creator: string;
  production: string;
  sourceUri: string | null;
  rightsHolder: string | null;
  byteSize: number | null;
  derivedFromOutputId: string | null;
  embeddedTrainingMining: { c2pa: string | null; cawg: string | null };
  embeddedManifest: { state: string; codes: string[]; override: { reason: string; by: string; at: string; auditIndex: number } | null };
  createdAt: string;
  createdBy: string;
  auditIndex: number;
};
type Grants = { training: string; derivatives: string; commercial: string };
type License = {
  id: string;
  licenseId: string;
  version: number;
  supersedes: string | null;
  supersededBy: string | null;
  status: string;
  licensor: string;
  licensee: string;
  vendors: string[];
  grants: Grants;
  territories: string[];
  media: string[];
  term: { start: string; end: string };
  exclusivity: boolean;
  attribution: string | null;
  contractRef: { id: string; sha256: string } | null;
  createdAt: string;
  createdBy: string;
  auditIndex: number;
  revocation: { id: string; reason: string; revokedAt: string; revokedBy: string; auditIndex: number } | null;
};
type Approval = {
  id: string;
  licenseId: string;
  grant: string;
  vendor: string;
  purpose: string;
  validFrom: string;
  validUntil: string;
  note: string | null;
  createdAt: string;
  createdBy: string;
};
type Impact = { wouldRevokeClearances: { id: string; vendor: string; decision: string; datasetId: string }[]; wouldTaintCheckpoints: { id: string; clearanceId: string }[] };

// Files uploaded in this tab, by asset id: the service keeps a preview of the images it decodes, not a
// video's frames, so for those this tab's own copy is the only thumbnail there is.
const uploaded = new Map<string, File>();

const GRANT_VALUES = ['allowed', 'requiresApproval', 'notAllowed'] as const;
const GRANTS = ['training', 'derivatives', 'commercial'] as const;
const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const input = (attrs: Record<string, string | boolean> = {}) => h('input', { type: 'text', ...attrs });
const select = (values: readonly string[], chosen?: string) => h('select', {}, ...values.map((v) => h('option', { value: v, selected: v === chosen }, v)));
// A date field's day as the API's instant: a term runs from the start of its first day to the end of its last (UTC).
const dayStart = (d: string) => (d ? `${d}T00:00:00Z` : '');
const dayEnd = (d: string) => (d ? `${d}T23:59:59Z` : '');

/** /console/assets/{id}; `new` is the registration form. */
export function renderAsset(root: HTMLElement, leave: AbortSignal, params: string[]): void {
  const id = params[0] ?? 'new'; // the entry's own path, /console/assets/new, arrives without params
  if (id === 'new') {
    renderRegister(root);
    return;
  }
  replaceChildren(root, h('h1', {}, 'Asset'), h('p', { class: 'help', role: 'status' }, 'Loading…'));
  void load(root, id, leave);
}

async function load(root: HTMLElement, id: string, leave: AbortSignal): Promise<void> {
  try {
    const path = encodeURIComponent(id);
    const [asset, history, preview] = await Promise.all([
      apiJson<Asset>(`/v1/assets/${path}`),
      apiJson<{ items: License[] }>(`/v1/assets/${path}/licenses`),
      // 404 when the service made none (registered by hash, or not an image it decodes).
      api(`/v1/assets/${path}/preview`).then(
        (r) => r.blob(),
        () => null,
      ),
    ]);
    const approvals = (await Promise.all(history.items.map((l) => apiJson<{ items: Approval[] }>(`/v1/licenses/${encodeURIComponent(l.id)}/approvals`)))).flatMap((a) => a.items);
    if (leave.aborted) return;
    draw(root, asset, history.items, approvals, preview, () => void load(root, id, leave));
  } catch (e) {
    if (e instanceof SessionEnded || leave.aborted) return;
    replaceChildren(
      root,
      h('h1', {}, 'Asset'),
      h('p', { class: 'error' }, e instanceof ApiError ? `The service answered: ${e.message}` : 'The service did not answer.'),
      h('p', {}, h('a', { href: '/console/assets', 'data-nav': true }, 'Back to the assets')),
    );
  }
}

function draw(root: HTMLElement, asset: Asset, versions: License[], approvals: Approval[], preview: Blob | null, reload: () => void): void {
  const file = uploaded.get(asset.id);
  const picture = preview ?? (file?.type.startsWith('image/') || file?.type.startsWith('video/') ? file : null);
  const thumb = !picture
    ? h(
        'p',
        { class: 'help asset-thumb-none' },
        asset.byteSize === null
          ? 'No thumbnail: this asset was registered by its hash, so the service never had its bytes.'
          : 'No thumbnail: the service makes previews of images it decodes; this file is not one.',
      )
    : picture.type.startsWith('video/')
      ? h('video', { class: 'asset-thumb', src: URL.createObjectURL(picture), muted: true, preload: 'metadata', 'aria-label': `First frame of ${asset.title}` })
      : h('img', { class: 'asset-thumb', src: URL.createObjectURL(picture), alt: `Thumbnail of ${asset.title}` });
  const m = asset.embeddedManifest;
  replaceChildren(
    root,
    h('p', { class: 'crumbs' }, h('a', { href: '/console/assets', 'data-nav': true }, 'Assets')),
    h('h1', { class: 'asset-title' }, asset.title),
    h(
      'div',
      { class: 'asset-head' },
      thumb,
      facts([
        ['SHA-256', h('code', { class: 'asset-sha256' }, asset.sha256)],
        ['ID', h('code', {}, asset.id)],
        ['Media type', asset.mediaType],
        ['Size', asset.byteSize === null ? null : `${asset.byteSize.toLocaleString('en')} bytes`],
        ['Creator', asset.creator],
        ['Production', asset.production],
        ['Rights holder', asset.rightsHolder],
        ['Source', asset.sourceUri],
        ['Derived from output', asset.derivedFromOutputId ? outputRef(asset.derivedFromOutputId) : null],
      ]),
    ),
    h(
      'section',
      { 'aria-labelledby': 'signals-h' },
      h('h2', { id: 'signals-h' }, 'What the file says of itself'),
      facts([
        ['C2PA training-mining', asset.embeddedTrainingMining.c2pa ?? 'none'],
        ['CAWG training-mining', asset.embeddedTrainingMining.cawg ?? 'none'],
        ['Its own manifest', h('span', { class: 'manifest-state', 'data-state': m.state }, m.state)],
        ['What c2pa-rs said', m.codes.length ? m.codes.join(', ') : null],
        ['Legal’s override', m.override ? `${m.override.reason} (${m.override.by}, ${when(m.override.at)})` : null],
      ]),
    ),
    ...licenseSections(asset, versions, approvals, reload),
    chainOfTitle('asset', asset.id),
  );
}

/** Versions by license (its id: its first version's), oldest license first, each newest version first. */
function byLicense(versions: License[]): License[][] {
  const chains = new Map<string, License[]>();
  for (const v of [...versions].sort((a, b) => b.auditIndex - a.auditIndex)) {
    const chain = chains.get(v.licenseId) ?? [];
    chain.push(v);
    chains.set(v.licenseId, chain);
  }
  return [...chains.values()].sort((a, b) => a[a.length - 1]!.auditIndex - b[b.length - 1]!.auditIndex);
}

/** One section per license (its timeline, amendment, approval and revocation), then "Add another license". */
function licenseSections(asset: Asset, versions: License[], approvals: Approval[], reload: () => void): (HTMLElement | null)[] {
  const chains = byLicense(versions);
  if (chains.length === 0) {
    return [
      h('section', { 'aria-labelledby': 'timeline-h' }, h('h2', { id: 'timeline-h' }, 'License history'), timeline(asset, [], [], true)),
      licenseForm(asset, null, reload, { prefix: 'license' }),
    ];
  }
  const several = chains.length > 1;
  const out: (HTMLElement | null)[] = [];
  chains.forEach((chain, i) => {
    const current = chain[0]!;
    // The first license keeps the page's original ids, so a one-license page reads as before.
    const n = i === 0 ? '' : `-${i + 1}`;
    const ids = new Set(chain.map((v) => v.id));
    out.push(
      h(
        'section',
        { class: 'license', 'data-license': current.licenseId, 'aria-labelledby': `timeline${n}-h` },
        h('h2', { id: `timeline${n}-h` }, several ? `License ${i + 1}: ${current.licensor} → ${current.licensee}` : 'License history'),
        several ? h('p', { class: 'help' }, 'License id ', h('code', {}, current.licenseId)) : null,
        timeline(
          asset,
          chain,
          approvals.filter((a) => ids.has(a.licenseId)),
          i === 0,
        ),
        licenseForm(asset, current, reload, { prefix: `license${n}`, several }),
        current.revocation ? null : approvalForm(current, reload, `approval${n}`),
        current.revocation ? null : revokeForm(current, reload, `revoke${n}`),
      ),
    );
  });
  const holder = h('div', { class: 'license-add' });
  const open = h('button', { type: 'button', class: 'license-add-open' }, 'Add another license');
  open.addEventListener('click', () => {
    holder.replaceChildren(licenseForm(asset, null, reload, { prefix: 'license-new', newLicense: true }));
    holder.querySelector<HTMLInputElement>('input')?.focus();
  });
  holder.append(open);
  out.push(holder);
  return out;
}

/** Registration, each version (the first recorded, later ones amendments), approvals and the revocation, oldest first. */
function timeline(asset: Asset, versions: License[], approvals: Approval[], withRegistration: boolean): HTMLElement {
  type Entry = { at: string; kind: string; title: string; by: string; body: Node | null };
  const entries: Entry[] = withRegistration ? [{ at: asset.createdAt, kind: 'registered', title: 'Asset registered', by: asset.createdBy, body: null }] : [];
  const revocations = new Map<string, License['revocation'] & {}>();
  for (const v of versions) {
    entries.push({
      at: v.createdAt,
      kind: v.version === 1 ? 'recorded' : 'amended',
      title: v.version === 1 ? `License recorded (version 1)` : `License amended (version ${v.version}, supersedes version ${v.version - 1})`,
      by: v.createdBy,
      body: facts([
        ['Status', v.status],
        ['Licensor → licensee', `${v.licensor} → ${v.licensee}`],
        ['Vendors', v.vendors.join(', ') || null],
        ['Training / derivatives / commercial', `${v.grants.training} / ${v.grants.derivatives} / ${v.grants.commercial}`],
        ['Territories', v.territories.join(', ')],
        ['Media', v.media.join(', ')],
        ['Term', `${when(v.term.start)} – ${when(v.term.end)}`],
        ['Exclusive', v.exclusivity ? 'yes' : 'no'],
        ['Attribution', v.attribution],
        ['Contract', v.contractRef ? `${v.contractRef.id} (SHA-256 ${v.contractRef.sha256})` : null],
      ]),
    });
    if (v.revocation) revocations.set(v.revocation.id, v.revocation);
  }
  for (const a of approvals) {
    const v = versions.find((x) => x.id === a.licenseId);
    entries.push({
      at: a.createdAt,
      kind: 'approval',
      title: `Approval recorded on version ${v?.version ?? '?'}: ${a.grant} for ${a.vendor} (${a.purpose})`,
      by: a.createdBy,
      body: facts([
        ['Valid', `${when(a.validFrom)} – ${when(a.validUntil)}`],
        ['Note', a.note],
      ]),
    });
  }
  for (const r of revocations.values()) {
    entries.push({ at: r.revokedAt, kind: 'revoked', title: 'License revoked', by: r.revokedBy, body: facts([['Reason', r.reason]]) });
  }
  entries.sort((a, b) => a.at.localeCompare(b.at));
  return h(
    'ol',
    { class: 'timeline' },
    ...entries.map((e) =>
      h(
        'li',
        { class: `event event-${e.kind}`, 'data-kind': e.kind },
        h('h3', {}, e.title),
        h('p', { class: 'event-who' }, 'By ', h('span', { class: 'by' }, e.by), ', ', h('time', { datetime: e.at }, when(e.at))),
        e.body,
      ),
    ),
  );
}

function section(id: string, title: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { class: 'form-section', 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, title), ...children);
}

type Conflict = { licenseId: string; licensee: string; territories: string[]; media: string[]; term: { start: string; end: string } };

/**
 * Record the first version, amend (the form starts from the current version's terms and names its license),
 * or add another license (`newLicense`).
 */
function licenseForm(asset: Asset, current: License | null, reload: () => void, opts: { prefix: string; several?: boolean; newLicense?: boolean }): HTMLElement {
  const p = opts.prefix;
  const c = current;
  const f = {
    licensor: field(p, 'licensor', 'Licensor', input({ value: c?.licensor ?? asset.rightsHolder ?? '' })),
    licensee: field(p, 'licensee', 'Licensee', input({ value: c?.licensee ?? '' })),
    vendors: field(p, 'vendors', 'Vendors (comma-separated)', input({ value: c?.vendors.join(', ') ?? '' }), 'Vendors the license extends to besides the licensee.'),
    training: field(p, 'grants.training', 'Training', select(GRANT_VALUES, c?.grants.training ?? 'notAllowed')),
    derivatives: field(p, 'grants.derivatives', 'Derivatives', select(GRANT_VALUES, c?.grants.derivatives ?? 'notAllowed')),
    commercial: field(p, 'grants.commercial', 'Commercial', select(GRANT_VALUES, c?.grants.commercial ?? 'notAllowed')),
    territories: field(p, 'territories', 'Territories (comma-separated)', input({ value: c?.territories.join(', ') ?? '' }), 'ISO 3166-1 alpha-2 codes such as US, CA; or WORLD.'),
    media: field(p, 'media', 'Media (comma-separated)', input({ value: c?.media.join(', ') ?? '' }), 'For example theatrical, streaming.'),
    start: field(p, 'term.start', 'Term starts', h('input', { type: 'date', value: c?.term.start.slice(0, 10) ?? '' })),
    end: field(
      p,
      'term.end',
      'Term ends',
      h('input', { type: 'date', value: c?.term.end.slice(0, 10) ?? '' }),
      'The term runs from the start of its first day to the end of its last (UTC).',
    ),
    exclusivity: field(p, 'exclusivity', 'Exclusive', h('input', { type: 'checkbox', checked: c?.exclusivity ?? false })),
    attribution: field(p, 'attribution', 'Attribution', input({ value: c?.attribution ?? '' })),
    contractId: field(p, 'contractRef.id', 'Contract reference', input({ value: c?.contractRef?.id ?? '' })),
    contractSha: field(
      p,
      'contractRef.sha256',
      'Contract SHA-256',
      input({ value: c?.contractRef?.sha256 ?? '', spellcheck: 'false' }),
      'Both or neither: the contract’s id and the SHA-256 of its signed copy.',
    ),
  };
  // Offered once the service answers with an exclusivity conflict: legal may record it anyway, saying why.
  const override = field(
    p,
    'overrideConflict.reason',
    'Why record it despite the conflict',
    h('textarea', { rows: 2 }),
    'Recorded with the license in the audit log, beside the grants it overlaps.',
  );
  override.element.hidden = true;
  const conflicts = h('div', { class: 'license-conflicts', 'aria-live': 'polite' });
  const fields: Field[] = [...Object.values(f), override];
  const form = formOf(p, fields, c ? 'Record the amendment' : opts.newLicense ? 'Record the new license' : 'Record the license');
  form.submit.before(conflicts);
  const v = (x: Field) => x.control.value.trim();
  form.element.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      licensor: v(f.licensor),
      licensee: v(f.licensee),
      vendors: list(v(f.vendors)),
      grants: { training: v(f.training), derivatives: v(f.derivatives), commercial: v(f.commercial) },
      territories: list(v(f.territories)).map((t) => t.toUpperCase()),
      media: list(v(f.media)),
      term: { start: dayStart(v(f.start)), end: dayEnd(v(f.end)) },
      exclusivity: (f.exclusivity.control as HTMLInputElement).checked,
      ...(v(f.attribution) ? { attribution: v(f.attribution) } : {}),
      ...(v(f.contractId) || v(f.contractSha) ? { contractRef: { id: v(f.contractId), sha256: v(f.contractSha) } } : {}),
      ...(c ? { licenseId: c.licenseId } : opts.newLicense ? { newLicense: true } : {}),
      ...(!override.element.hidden && v(override) ? { overrideConflict: { reason: v(override) } } : {}),
    };
    const send = async () => {
      try {
        return await sendJson(`/v1/assets/${encodeURIComponent(asset.id)}/licenses`, body);
      } catch (err) {
        const found = err instanceof ApiError ? (err.problem as { conflicts?: Conflict[] }).conflicts : undefined;
        if (Array.isArray(found)) {
          conflicts.replaceChildren(
            h('p', {}, 'This exclusive grant overlaps:'),
            h(
              'ul',
              {},
              ...found.map((x) =>
                h('li', {}, `License ${x.licenseId} (${x.licensee}): ${x.territories.join(', ')}; ${x.media.join(', ')}; ${when(x.term.start)} – ${when(x.term.end)}`),
              ),
            ),
          );
          override.element.hidden = false;
        }
        throw err;
      }
    };
    if (await sendForm(form, send)) reload();
  });
  return section(
    p,
    c
      ? opts.several
        ? `Amend the license of ${c.licensee} (now version ${c.version})`
        : `Amend the license (now version ${c.version})`
      : opts.newLicense
        ? 'Add another license'
        : 'Record a license',
    c ? h('p', { class: 'help' }, 'An amendment is a new version: it supersedes the current one, which stays in the history.') : null,
    form.element,
  );
}

function approvalForm(current: License, reload: () => void, p = 'approval'): HTMLElement {
  const f = {
    vendor: field(p, 'vendor', 'Vendor', input({ value: current.vendors[0] ?? '' })),
    grant: field(
      p,
      'grant',
      'Grant it approves',
      select(GRANTS, GRANTS.find((g) => current.grants[g] === 'requiresApproval') ?? 'training'),
      'Only a grant that requires approval can be approved.',
    ),
    purpose: field(p, 'purpose', 'Purpose', select(['fine-tune', 'evaluation'], 'fine-tune')),
    from: field(p, 'validFrom', 'Valid from', h('input', { type: 'date' })),
    until: field(p, 'validUntil', 'Valid until', h('input', { type: 'date' })),
    note: field(p, 'note', 'Note', h('textarea', { rows: 2 })),
  };
  const form = formOf(p, Object.values(f), 'Record the approval');
  form.element.addEventListener('submit', async (e) => {
    e.preventDefault();
    const note = f.note.control.value.trim();
    const body = {
      vendor: f.vendor.control.value.trim(),
      grant: f.grant.control.value,
      purpose: f.purpose.control.value,
      validFrom: dayStart(f.from.control.value),
      validUntil: dayEnd(f.until.control.value),
      ...(note ? { note } : {}),
    };
    if (await sendForm(form, () => sendJson(`/v1/licenses/${encodeURIComponent(current.id)}/approvals`, body))) reload();
  });
  return section(
    p,
    `Record an approval (on version ${current.version})`,
    h('p', { class: 'help' }, 'Where a grant requires approval: for one vendor, purpose and period.'),
    form.element,
  );
}

/** Revocation in two steps: the dry run lists what it would reach, and only then can it be confirmed. */
function revokeForm(current: License, reload: () => void, p = 'revoke'): HTMLElement {
  const reason = field(p, 'reason', 'Reason', h('textarea', { rows: 2 }), 'Recorded with the revocation, in the audit log.');
  const preview = h('div', { class: 'revoke-preview', 'aria-live': 'polite' });
  const form = formOf(p, [reason], 'Preview the revocation');
  const path = `/v1/licenses/${encodeURIComponent(current.id)}/revoke`;
  reason.control.addEventListener('input', () => preview.replaceChildren()); // a changed reason needs a new preview
  form.element.addEventListener('submit', async (e) => {
    e.preventDefault();
    preview.replaceChildren();
    const body = { reason: reason.control.value.trim() };
    const impact = await sendForm(form, () => sendJson<Impact>(`${path}?dryRun=true`, body));
    if (!impact) return;
    const confirm = h('button', { type: 'button', class: 'danger' }, 'Confirm the revocation');
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      if (await sendForm(form, () => sendJson(path, body))) reload();
      else confirm.disabled = false;
    });
    const clearances = impact.wouldRevokeClearances;
    const checkpoints = impact.wouldTaintCheckpoints;
    append(preview, [
      h('h3', { id: 'revoke-preview-h' }, 'What this revocation would reach (nothing is changed yet)'),
      clearances.length + checkpoints.length === 0 ? h('p', {}, 'No clearance rests on this art and no checkpoint was trained on it.') : null,
      clearances.length
        ? h(
            'div',
            {},
            h('p', {}, `Clearances it would revoke (${clearances.length}):`),
            h('ul', { class: 'would-revoke' }, ...clearances.map((c) => h('li', {}, h('code', {}, c.id), ` — ${c.vendor}, ${c.decision}, dataset `, h('code', {}, c.datasetId)))),
          )
        : null,
      checkpoints.length
        ? h(
            'div',
            {},
            h('p', {}, `Checkpoints it would taint (${checkpoints.length}):`),
            h('ul', { class: 'would-taint' }, ...checkpoints.map((c) => h('li', {}, h('code', {}, c.id), ' — under clearance ', h('code', {}, c.clearanceId)))),
          )
        : null,
      confirm,
    ]);
    confirm.focus();
  });
  return section(
    p,
    `Revoke the license (version ${current.version})`,
    h('p', { class: 'help' }, 'Revoking the current version revokes the license with every earlier version. First see what it would reach.'),
    form.element,
    preview,
  );
}

/** /console/assets/new: upload the file (the service hashes it and reads its own manifest). */
function renderRegister(root: HTMLElement): void {
  const p = 'register';
  const f = {
    file: field(
      p,
      'file',
      'File',
      h('input', { type: 'file', accept: 'image/*,video/*' }),
      'The service hashes it and reads its own C2PA manifest; it keeps the hash, not the bytes.',
    ),
    title: field(p, 'title', 'Title', input()),
    creator: field(p, 'creator', 'Creator', input()),
    production: field(p, 'production', 'Production', input()),
    rightsHolder: field(p, 'rightsHolder', 'Rights holder', input()),
    sourceUri: field(p, 'sourceUri', 'Source URL', input({ type: 'url' }), 'Optional: where the original lives.'),
  };
  const form = formOf(p, Object.values(f), 'Register the asset');
  form.element.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData();
    const file = (f.file.control as HTMLInputElement).files?.[0];
    if (file) data.set('file', file);
    for (const key of ['title', 'creator', 'production', 'rightsHolder', 'sourceUri'] as const) {
      const value = f[key].control.value.trim();
      // Optional fields left empty are left out; required ones are sent empty so the API names them.
      if (value || key === 'title' || key === 'creator' || key === 'production') data.set(key, value);
    }
    const asset = await sendForm(form, () => sendMultipart<Asset>('/v1/assets', data));
    if (!asset) return;
    if (file) uploaded.set(asset.id, file);
    // main.ts renders on popstate: the new asset's page, as if a link were followed.
    history.pushState(null, '', `/console/assets/${encodeURIComponent(asset.id)}`);
    dispatchEvent(new PopStateEvent('popstate'));
  });
  replaceChildren(root, h('p', { class: 'crumbs' }, h('a', { href: '/console/assets', 'data-nav': true }, 'Assets')), h('h1', {}, 'Register an asset'), form.element);
}
