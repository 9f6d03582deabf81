/**
 * The chain of title of an asset or an output, as a document legal can attach to a contract. The model is
 * what GET /v1/reports/chain-of-title answers as JSON; this file writes the same model as Markdown. Every
 * fact names the audit entry that recorded it, and the document names the signed tree head those entries
 * verify against. Pure: no I/O, no clock.
 */
import { blocks, code, facts, table, text, when } from './markdown.ts';

/** A fact as the ledger recorded it: the entry's action, index, time and actor, and what it says in words. */
export type Fact = { action: string; auditIndex: number; at: string; by: string; what: string };

export type LicenseTitle = {
  licenseId: string;
  version: number;
  supersedes: string | null;
  licensor: string;
  licensee: string;
  vendors: string[];
  grants: { training: string; derivatives: string; commercial: string };
  territories: string[];
  media: string[];
  term: { start: string; end: string };
  exclusivity: boolean;
  contractRef: { id: string; sha256: string } | null;
  statusNow: string;
  recorded: Fact;
  approvals: Fact[];
  revocation: Fact | null;
};

export type AssetTitle = {
  assetId: string;
  title: string;
  sha256: string;
  mediaType: string;
  creator: string;
  production: string;
  rightsHolder: string | null;
  derivedFromOutputId: string | null;
  embeddedTrainingMining: { c2pa: string | null; cawg: string | null };
  embeddedManifest: string;
  registered: Fact;
  embeddedTermsOverride: Fact | null;
  /** Oldest version first. */
  licenses: LicenseTitle[];
};

export type OutputTitle = {
  outputId: string;
  mimeType: string;
  signedSha256: string;
  signed: Fact;
  withdrawn: Fact | null;
  checkpoint: { id: string; baseModel: string; vendor: string; statusNow: string; registered: Fact; statusChanges: Fact[] };
  clearance: { id: string; vendor: string; purpose: string; baseModel: string; decision: string; policyDigest: string; datasetDigest: string; standingNow: string; granted: Fact };
  dataset: { id: string; name: string; digest: string; assetCount: number; created: Fact };
  assets: OutputAsset[];
};

export type OutputAsset = {
  role: 'training' | 'reference';
  /** The license version the clearance rested on (training assets). */
  licenseAtClearanceId: string | null;
  asset: AssetTitle;
  /** The asset was registered from an earlier output: its chain, or a pointer to where the document already gave it. */
  derivedFrom: OutputTitle | { outputId: string; describedAbove: true } | null;
};

export type TreeHead = { origin: string; treeSize: number; rootHash: string; note: string };

export type ChainOfTitle = {
  document: 'chain-of-title';
  generatedAt: string;
  subject: { kind: 'asset' | 'output'; id: string };
  /** The signed tree head (C2SP tlog-checkpoint note) every audit index below is included in. */
  treeHead: TreeHead;
  asset: AssetTitle | null;
  output: OutputTitle | null;
  /** Every fact stated, once, by audit index. */
  entries: Fact[];
};

const factRow = (f: Fact) => [String(f.auditIndex), code(f.action), when(f.at), text(f.by), text(f.what)];
const FACT_HEAD = ['Audit entry', 'Action', 'When', 'Who', 'What'];

function licenseBlock(l: LicenseTitle, depth: number): string {
  const hashes = '#'.repeat(Math.min(6, depth));
  return blocks([
    `${hashes} License ${code(l.licenseId)}, version ${l.version}`,
    facts([
      ['Licensor', text(l.licensor)],
      ['Licensee', text(l.licensee)],
      ['Vendors named', text(l.vendors.join(', '))],
      ['Grants', `training ${text(l.grants.training)}, derivatives ${text(l.grants.derivatives)}, commercial ${text(l.grants.commercial)}`],
      ['Territories', text(l.territories.join(', '))],
      ['Media', text(l.media.join(', '))],
      ['Term', `${when(l.term.start)} to ${when(l.term.end)}`],
      ['Exclusive', l.exclusivity ? 'yes' : 'no'],
      ['Contract', l.contractRef ? `${text(l.contractRef.id)} (sha256 ${code(l.contractRef.sha256)})` : '—'],
      ['Supersedes', code(l.supersedes)],
      ['Status now', text(l.statusNow)],
    ]),
    table(FACT_HEAD, [l.recorded, ...l.approvals, ...(l.revocation ? [l.revocation] : [])].map(factRow)),
  ]).trimEnd();
}

function assetBlock(a: AssetTitle, depth: number, heading: string): string {
  const hashes = '#'.repeat(Math.min(6, depth));
  return blocks([
    `${hashes} ${heading} ${code(a.assetId)}: ${text(a.title)}`,
    facts([
      ['SHA-256', code(a.sha256)],
      ['Media type', text(a.mediaType)],
      ['Creator', text(a.creator)],
      ['Production', text(a.production)],
      ['Rights holder', text(a.rightsHolder)],
      [
        'Embedded training-mining',
        `C2PA ${text(a.embeddedTrainingMining.c2pa ?? 'absent')}, CAWG ${text(a.embeddedTrainingMining.cawg ?? 'absent')}; manifest ${text(a.embeddedManifest)}`,
      ],
      ['Registered from output', code(a.derivedFromOutputId)],
    ]),
    table(FACT_HEAD, [a.registered, ...(a.embeddedTermsOverride ? [a.embeddedTermsOverride] : [])].map(factRow)),
    a.licenses.length ? a.licenses.map((l) => licenseBlock(l, depth + 1)).join('\n\n') : 'No license version is recorded for this asset.',
  ]).trimEnd();
}

function outputBlock(o: OutputTitle, depth: number): string {
  const hashes = '#'.repeat(Math.min(6, depth));
  const sub = '#'.repeat(Math.min(6, depth + 1));
  return blocks([
    `${hashes} Output ${code(o.outputId)}`,
    facts([
      ['Type', text(o.mimeType)],
      ['Signed file SHA-256', code(o.signedSha256)],
      ['Withdrawn', o.withdrawn ? text(o.withdrawn.what) : 'no'],
    ]),
    table(FACT_HEAD, [o.signed, ...(o.withdrawn ? [o.withdrawn] : [])].map(factRow)),
    `${sub} Checkpoint ${code(o.checkpoint.id)}`,
    facts([
      ['Base model', text(o.checkpoint.baseModel)],
      ['Vendor', text(o.checkpoint.vendor)],
      ['Status now', text(o.checkpoint.statusNow)],
    ]),
    table(FACT_HEAD, [o.checkpoint.registered, ...o.checkpoint.statusChanges].map(factRow)),
    `${sub} Clearance ${code(o.clearance.id)}`,
    facts([
      ['Decision', `${text(o.clearance.decision)} for ${text(o.clearance.vendor)}, ${text(o.clearance.purpose)} of ${text(o.clearance.baseModel)}`],
      ['Policy digest', code(o.clearance.policyDigest)],
      ['Dataset digest', code(o.clearance.datasetDigest)],
      ['Standing now', text(o.clearance.standingNow)],
    ]),
    table(FACT_HEAD, [factRow(o.clearance.granted)]),
    `${sub} Dataset ${code(o.dataset.id)}: ${text(o.dataset.name)}`,
    facts([
      ['Digest', code(o.dataset.digest)],
      ['Assets', String(o.dataset.assetCount)],
    ]),
    table(FACT_HEAD, [factRow(o.dataset.created)]),
    ...o.assets.map((a) => {
      const head = `${a.role === 'training' ? 'Training' : 'Reference'} asset`;
      const resting = a.licenseAtClearanceId ? `The clearance rested on license ${code(a.licenseAtClearanceId)}.` : null;
      const derived =
        a.derivedFrom === null
          ? null
          : 'describedAbove' in a.derivedFrom
            ? `Registered from output ${code(a.derivedFrom.outputId)}, whose chain is given above.`
            : outputBlock(a.derivedFrom, depth + 2);
      return blocks([assetBlock(a.asset, depth + 1, head), resting, derived]).trimEnd();
    }),
  ]).trimEnd();
}

/** The signed note exactly as signed (a reader may verify it as copied), in a fence no line of it can close. */
function fenced(note: string): string {
  const longest = Math.max(2, ...[...note.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${note.endsWith('\n') ? note : `${note}\n`}${fence}`;
}

/** The document as Markdown: the subject's chain, then every audit entry it states and the tree head they verify against. */
export function renderChainOfTitle(doc: ChainOfTitle): string {
  const h = doc.treeHead;
  return blocks([
    `# Chain of title: ${doc.subject.kind} ${code(doc.subject.id)}`,
    `Generated from the Clearframe ledger at ${when(doc.generatedAt)}. Each fact names the audit entry that recorded it; every entry is included in the signed tree head below (check with \`GET /v1/audit/proofs/inclusion?index=N&treeSize=${h.treeSize}\` and the log's key, \`GET /v1/audit/key\`).`,
    doc.asset ? assetBlock(doc.asset, 2, 'Asset') : null,
    doc.output ? outputBlock(doc.output, 2) : null,
    '## Audit entries stated',
    table(FACT_HEAD, doc.entries.map(factRow)),
    '## Signed tree head',
    facts([
      ['Origin', text(h.origin)],
      ['Tree size', String(h.treeSize)],
      ['Root hash (base64)', code(h.rootHash)],
    ]),
    fenced(h.note),
  ]);
}
