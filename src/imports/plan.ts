import { PathMatcher } from './glob.ts';
import { type RowProblem, type RowTerms, rowKey, termsKey } from './sheet.ts';

/**
 * The import's plan, without I/O: which row gives each file its terms, and what registering it means
 * given what the ledger already holds. Decided for every file before anything is written.
 */

/** A file as hashed: its path relative to the folder (`/`-separated), what it is, and what it says of itself. */
export type FileFact = {
  path: string;
  sha256: string;
  byteSize: number;
  mediaType: string;
  /** The file's own C2PA / CAWG training-mining and manifest state (assets/embedded-terms.ts), when read. */
  embedded?: { trainingMining: { c2pa: TrainingUse | null; cawg: TrainingUse | null }; manifest: { state: ManifestState; codes: string[] } };
  /** The IPTC `plus:DataMining` value in the file's XMP, if any (a PLUS vocabulary URI or its last part). */
  iptcDataMining?: string | null;
};
type TrainingUse = 'allowed' | 'notAllowed' | 'constrained';
type ManifestState = 'none' | 'valid' | 'invalid' | 'damaged' | 'unreadable';

/** What the ledger holds for this production and content. */
export type Existing = {
  assetId: string;
  /** termsKey() of the asset's latest license version; 'none' when it has none. */
  licenseKey: string;
  /** Its latest version is revoked. */
  revoked: boolean;
};

/**
 * - create: a new asset (and its first license version when the row gives terms)
 * - license: the asset is there without a license (an import stopped between the two): its first version
 * - amend: the asset's terms differ from the row's, and the sheet is imported with --amend: a new version
 * - unchanged: registered with these terms already
 */
export type Action = 'create' | 'license' | 'amend' | 'unchanged';

export type Decision =
  | { kind: 'planned'; action: Action; row: RowTerms; assetId?: string }
  | { kind: 'error'; lines: number[]; column: string; message: string }
  | { kind: 'unmatched' };

/** The PLUS DataMining values that refuse AI / ML training (IPTC Photo Metadata, plus:DataMining). */
const IPTC_PROHIBITS_TRAINING = /DMI-(PROHIBITED(-AIMLTRAINING|-GENAIMLTRAINING|-EXCEPTSEARCHENGINEINDEXING)?|ALLOWED-NOAIMLTRAINING)$/i;

export function iptcProhibitsTraining(value: string | null | undefined): boolean {
  return Boolean(value && IPTC_PROHIBITS_TRAINING.test(value.trim()));
}

export class ImportPlanner {
  private readonly matcher: PathMatcher<RowTerms>;
  private readonly matched = new Map<number, number>();

  constructor(
    readonly rows: readonly RowTerms[],
    private readonly opts: { amend: boolean },
  ) {
    this.matcher = new PathMatcher(rows);
    for (const r of rows) this.matched.set(r.line, 0);
  }

  /** The row that gives this file its terms: one, several that agree, or a conflict. */
  rowFor(file: Pick<FileFact, 'path'>): Decision {
    const rows = this.matcher.match(file.path);
    if (rows.length === 0) return { kind: 'unmatched' };
    for (const r of rows) this.matched.set(r.line, (this.matched.get(r.line) ?? 0) + 1);
    const first = rows[0]!;
    const key = rowKey(first);
    const other = rows.find((r) => rowKey(r) !== key);
    if (other) {
      const lines = rows.map((r) => r.line);
      return { kind: 'error', lines, column: 'path', message: `${file.path} matches rows ${lines.join(', ')}, which give it different terms` };
    }
    return { kind: 'planned', action: 'create', row: first };
  }

  /** The decision for a file, given what the ledger holds for its content in this production. */
  decide(file: FileFact, existing: Existing | undefined): Decision {
    const found = this.rowFor(file);
    if (found.kind !== 'planned') return found;
    const row = found.row;
    const embeddedRefusal = refusedByTheFile(file, row);
    if (embeddedRefusal) return { kind: 'error', lines: [row.line], column: 'training', message: embeddedRefusal };
    if (!existing) return { kind: 'planned', action: 'create', row };
    if (!row.license || existing.licenseKey === termsKey(row)) {
      if (!existing.revoked || !row.license) return { kind: 'planned', action: 'unchanged', row, assetId: existing.assetId };
    }
    if (existing.licenseKey === 'none') return { kind: 'planned', action: 'license', row, assetId: existing.assetId };
    if (!this.opts.amend) {
      const why = existing.revoked ? 'whose license is revoked' : 'with other terms';
      return {
        kind: 'error',
        lines: [row.line],
        column: 'path',
        message: `${file.path} is registered already as ${existing.assetId} ${why}; import with --amend to record the sheet's terms as a new version`,
      };
    }
    return { kind: 'planned', action: 'amend', row, assetId: existing.assetId };
  }

  /** Rows that named no file: each a problem (checked once every file has been seen). */
  unmatchedRows(): RowProblem[] {
    return this.rows.filter((r) => (this.matched.get(r.line) ?? 0) === 0).map((r) => ({ line: r.line, column: 'path', message: `${r.path} matches no file in the folder` }));
  }
}

/**
 * The rights holder's own word, carried in the file, against a row that allows training: an IPTC
 * `plus:DataMining` that prohibits AI training, or a valid C2PA / CAWG training-mining `notAllowed`.
 * Such a row is refused rather than recorded as a license the art itself contradicts.
 */
function refusedByTheFile(file: FileFact, row: RowTerms): string | undefined {
  if (row.license?.grants.training !== 'allowed') return undefined;
  if (iptcProhibitsTraining(file.iptcDataMining))
    return `${file.path} carries IPTC plus:DataMining ${file.iptcDataMining}, which prohibits AI training, but the row allows training`;
  const tm = file.embedded?.manifest.state === 'valid' ? file.embedded.trainingMining : undefined;
  if (tm && (tm.c2pa === 'notAllowed' || tm.cawg === 'notAllowed')) return `${file.path} carries a C2PA training-mining assertion of notAllowed, but the row allows training`;
  return undefined;
}

/** The counts an import reports, in users' words. */
export type ImportCounts = {
  files: number;
  created: number;
  amended: number;
  unchanged: number;
  skipped: number;
  errors: number;
  /** Files whose change is written (or found written) so far, of those planned. */
  done: number;
  planned: number;
  /** Of those planned: new assets, and license versions to record (first ones and amendments). */
  newAssets: number;
  newVersions: number;
};

export const emptyCounts = (): ImportCounts => ({ files: 0, created: 0, amended: 0, unchanged: 0, skipped: 0, errors: 0, done: 0, planned: 0, newAssets: 0, newVersions: 0 });

/**
 * The error file: the failing rows as the sheet had them, after `row` (the sheet's line), with the column
 * each problem is in (`errorColumn`) and what it is (`error`). A line with several problems names them all.
 */
export function errorFileCsv(header: readonly string[], cells: ReadonlyMap<number, string[]>, problems: readonly RowProblem[], line: (cells: readonly string[]) => string): string {
  const byLine = new Map<number, RowProblem[]>();
  for (const p of problems) {
    const at = byLine.get(p.line);
    if (at) {
      // One file after another failing on a glob row: the first few are named, then how many more.
      if (at.length < 5) at.push(p);
      else if (at.length === 5) at.push({ line: p.line, column: p.column, message: 'and more' });
    } else byLine.set(p.line, [p]);
  }
  let out = line(['row', ...header, 'errorColumn', 'error']);
  for (const [n, ps] of [...byLine.entries()].sort((a, b) => a[0] - b[0])) {
    const row = [...(cells.get(n) ?? [])];
    while (row.length < header.length) row.push('');
    out += line([String(n), ...row.slice(0, header.length), [...new Set(ps.map((p) => p.column))].join(';'), ps.map((p) => p.message).join('; ')]);
  }
  return out;
}
