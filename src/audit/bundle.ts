import { canonicalize } from './canonical-json.ts';
import { leafHash, verifyInclusion } from './merkle.ts';
import { parseCheckpoint, parseVerifierKey, verifyNote } from './signed-note.ts';

/** The one bundle format there is; the streamed export writes it too (docs/audit-log.md). */
export const BUNDLE_FORMAT = 'clearframe-audit-evidence/v1';

/**
 * An evidence bundle: log entries with their exact leaf bytes, a signed checkpoint, and for each entry
 * the inclusion proof that ties it to that checkpoint. Verifiable offline with the log's public key.
 */
export type EvidenceBundle = BundleHeader & { entries: BundleEntry[] };

/** Everything of a bundle but its entries: what a streamed bundle says before the first entry. */
export type BundleHeader = {
  format: typeof BUNDLE_FORMAT;
  origin: string;
  /** signed-note verifier key: name+keyhash+base64(0x01||ed25519 key). Compare with the published key. */
  verifierKey: string;
  checkpoint: string;
  exportedAt: string;
  /** The entries it claims, [from, to): each one, in order. (Bundles written before these fields: none claimed.) */
  from?: number;
  to?: number;
};

export type BundleEntry = { index: number; leaf: string; event: unknown; inclusionProof: string[] };

export type BundleVerdict = {
  ok: boolean;
  /** The format the bundle says it is, as read (a verifier reads clearframe-audit-evidence/v1). */
  format?: string;
  treeSize?: number;
  rootHash?: string;
  entriesChecked: number;
  keySource: 'given' | 'bundle';
  failures: { index?: number; reason: string }[];
};

type Failure = BundleVerdict['failures'][number];

/**
 * Failures kept per kind: a bundle with a million bad entries is refused just the same, and the verdict
 * (and the verifier's memory) stays the size of a page, with the count of those left out.
 */
const FAILURES_KEPT = 1000;

/** Indices [from, to) held as bits up to this many; a wider claim keeps the ones it holds in a Set. */
const BITMAP_LIMIT = 2 ** 28;

/**
 * The offline verification of a bundle, one entry at a time and in O(1) memory per entry: `start` with
 * the header, `entry` for each entry in the order the bundle lists them, then `finish`. Pure: no I/O.
 * Checks the checkpoint's signature, that each entry is at its place of the claimed contiguous range
 * (none removed, repeated or moved), that each leaf is proved by its own index's proof, and that the
 * displayed event equals its leaf field for field.
 */
export class BundleChecker {
  private readonly header: Failure[] = [];
  private readonly order: Failure[] = [];
  private readonly content: Failure[] = [];
  private omitted = { order: 0, content: 0 };
  private checkpoint: { treeSize: number; rootHash: Uint8Array } | undefined;
  private fatal = false;
  private readonly keySource: 'given' | 'bundle';
  private from = 0;
  private to: number | undefined;
  private position = 0;
  private first: number | undefined;
  private last: number | undefined;
  // Distinct indices held: bits over [from, to) when the bundle claims a range, else (and outside it) a Set.
  private bits: Uint8Array | undefined;
  private others = new Set<number>();
  private distinct = 0;
  private format: string | undefined;
  private fromClaimed = false;
  /** The index of the last entry listed: a bundle that claims no `to` ends its range there. */
  private lastListed: number | undefined;

  constructor(bundle: BundleHeader, trustedVerifierKey?: string) {
    this.keySource = trustedVerifierKey ? 'given' : 'bundle';
    this.format = typeof bundle.format === 'string' ? bundle.format : undefined;
    let verifier;
    try {
      verifier = parseVerifierKey(trustedVerifierKey ?? bundle.verifierKey);
    } catch (e) {
      this.fail(this.header, { reason: (e as Error).message });
      this.fatal = true;
      return;
    }
    let checkpoint;
    try {
      const { body } = verifyNote(bundle.checkpoint, [verifier]);
      checkpoint = parseCheckpoint(body);
    } catch (e) {
      this.fail(this.header, { reason: `checkpoint signature: ${(e as Error).message}` });
      this.fatal = true;
      return;
    }
    this.checkpoint = checkpoint;
    if (this.format !== undefined && this.format !== BUNDLE_FORMAT)
      this.fail(this.header, { reason: `the bundle's format is "${this.format}"; this verifier reads ${BUNDLE_FORMAT}` });
    if (checkpoint.origin !== bundle.origin) this.fail(this.header, { reason: `checkpoint origin "${checkpoint.origin}" is not the bundle's "${bundle.origin}"` });
    if (bundle.from !== undefined) {
      this.from = bundle.from;
      this.fromClaimed = true;
    }
    this.to = bundle.to;
    if (this.to !== undefined && this.to > checkpoint.treeSize)
      this.fail(this.header, { reason: `the bundle claims entries up to ${this.to - 1}, beyond its checkpoint of ${checkpoint.treeSize}` });
    if (bundle.from !== undefined && this.to !== undefined && this.to > this.from && this.to - this.from <= BITMAP_LIMIT) {
      this.bits = new Uint8Array(Math.ceil((this.to - this.from) / 8));
    }
  }

  entry(entry: BundleEntry): void {
    if (this.fatal) return;
    // A bundle written before `from` was stored starts its range at its first entry.
    if (this.position === 0 && !this.fromClaimed) this.from = entry.index;
    const from = this.from;
    // In order, one each: an entry removed, repeated or moved stands where another belongs.
    if (entry.index !== from + this.position) this.fail(this.order, { index: entry.index, reason: `entry ${entry.index} stands where entry ${from + this.position} belongs` });
    this.position += 1;
    this.lastListed = entry.index;
    this.hold(entry.index);
    this.checkEntry(entry);
  }

  private hold(index: number): void {
    this.first = this.first === undefined ? index : Math.min(this.first, index);
    this.last = this.last === undefined ? index : Math.max(this.last, index);
    const offset = index - this.from;
    if (this.bits && Number.isInteger(index) && offset >= 0 && offset < this.bits.length * 8 && index < this.to!) {
      const byte = offset >>> 3;
      const bit = 1 << (offset & 7);
      if ((this.bits[byte]! & bit) === 0) {
        this.bits[byte]! |= bit;
        this.distinct += 1;
      }
    } else if (!this.others.has(index)) {
      this.others.add(index);
      this.distinct += 1;
    }
  }

  private checkEntry(entry: BundleEntry): void {
    const checkpoint = this.checkpoint!;
    let leaf: Uint8Array;
    let decoded: { index?: unknown };
    try {
      leaf = new Uint8Array(Buffer.from(entry.leaf, 'base64'));
      decoded = JSON.parse(Buffer.from(leaf).toString('utf8'));
    } catch {
      this.fail(this.content, { index: entry.index, reason: 'leaf is not JSON' });
      return;
    }
    if (typeof decoded !== 'object' || decoded === null || decoded.index !== entry.index) {
      this.fail(this.content, { index: entry.index, reason: `leaf says index ${String(decoded?.index)}` });
      return;
    }
    const proof = Array.isArray(entry.inclusionProof) ? entry.inclusionProof.map((h) => new Uint8Array(Buffer.from(String(h), 'base64'))) : [];
    if (
      !Number.isSafeInteger(entry.index) ||
      entry.index < 0 ||
      entry.index >= checkpoint.treeSize ||
      !verifyInclusion(leafHash(leaf), entry.index, checkpoint.treeSize, proof, checkpoint.rootHash)
    ) {
      this.fail(this.content, { index: entry.index, reason: 'inclusion proof does not lead to the checkpoint root' });
      return;
    }
    // The leaf is proved; what a reader is shown must be that leaf (its canonical JSON), field for field.
    const differing = differingFields(decoded as Record<string, unknown>, entry.event);
    if (differing.length > 0) this.fail(this.content, { index: entry.index, reason: `the displayed event is not its leaf: ${differing.join(', ')} differ` });
  }

  private fail(list: Failure[], failure: Failure): void {
    if (list.length < FAILURES_KEPT) list.push(failure);
    else if (list === this.order) this.omitted.order += 1;
    else if (list === this.content) this.omitted.content += 1;
  }

  finish(): BundleVerdict {
    const base = { ...(this.format !== undefined ? { format: this.format } : {}), keySource: this.keySource };
    if (this.fatal) return { ok: false, ...base, entriesChecked: 0, failures: this.header };
    const checkpoint = this.checkpoint!;
    const from = this.from;
    const to = this.to ?? (this.lastListed ?? from - 1) + 1;
    const range: Failure[] = [];
    if (this.distinct !== to - from || (this.position > 0 && (this.first !== from || this.last !== to - 1)) || this.position === 0) {
      const holds = this.position === 0 ? 'none' : `${this.first}..${this.last}${this.distinct < this.last! - this.first! + 1 ? ' with a gap' : ''}`;
      range.push({ reason: `the bundle claims entries ${from}..${to - 1} and holds ${holds}` });
    }
    const more = (n: number, what: string): Failure[] => (n > 0 ? [{ reason: `and ${n} more ${what} not listed` }] : []);
    const failures = [
      ...this.header,
      ...this.order,
      ...more(this.omitted.order, 'entries out of place'),
      ...range,
      ...this.content,
      ...more(this.omitted.content, 'entries that fail'),
    ];
    return {
      ok: failures.length === 0,
      ...base,
      treeSize: checkpoint.treeSize,
      rootHash: Buffer.from(checkpoint.rootHash).toString('base64'),
      entriesChecked: this.position,
      failures,
    };
  }
}

/** A bundle held in memory, checked as a stream of its entries would be. */
export async function verifyBundle(bundle: EvidenceBundle, trustedVerifierKey?: string): Promise<BundleVerdict> {
  const checker = new BundleChecker(bundle, trustedVerifierKey);
  for (const entry of bundle.entries ?? []) {
    checker.entry(entry);
  }
  return checker.finish();
}

/** The fields in which a displayed event differs from its leaf (the leaf's `v` aside), by canonical JSON. */
function differingFields(leaf: Record<string, unknown>, shown: unknown): string[] {
  const { v: _version, ...fromLeaf } = leaf;
  const displayed = typeof shown === 'object' && shown !== null ? (shown as Record<string, unknown>) : {};
  const keys = [...new Set([...Object.keys(fromLeaf), ...Object.keys(displayed)])].sort();
  return keys.filter((k) => !(k in fromLeaf && k in displayed) || canonicalize(fromLeaf[k]) !== canonicalize(displayed[k]));
}
