import { canonicalize } from './canonical-json.ts';
import { leafHash, verifyInclusion } from './merkle.ts';
import { parseCheckpoint, parseVerifierKey, verifyNote } from './signed-note.ts';

/**
 * An evidence bundle: log entries with their exact leaf bytes, a signed checkpoint, and for each entry
 * the inclusion proof that ties it to that checkpoint. Verifiable offline with the log's public key.
 */
export type EvidenceBundle = {
  format: 'clearframe-audit-evidence/v1';
  origin: string;
  /** signed-note verifier key: name+keyhash+base64(0x01||ed25519 key). Compare with the published key. */
  verifierKey: string;
  checkpoint: string;
  exportedAt: string;
  /** The entries it claims, [from, to): each one, in order. (Bundles written before these fields: none claimed.) */
  from?: number;
  to?: number;
  entries: { index: number; leaf: string; event: unknown; inclusionProof: string[] }[];
};

export type BundleVerdict = {
  ok: boolean;
  treeSize?: number;
  rootHash?: string;
  entriesChecked: number;
  keySource: 'given' | 'bundle';
  failures: { index?: number; reason: string }[];
};

export async function verifyBundle(bundle: EvidenceBundle, trustedVerifierKey?: string): Promise<BundleVerdict> {
  const failures: BundleVerdict['failures'] = [];
  const keySource = trustedVerifierKey ? 'given' : 'bundle';
  let verifier;
  try {
    verifier = parseVerifierKey(trustedVerifierKey ?? bundle.verifierKey);
  } catch (e) {
    return { ok: false, entriesChecked: 0, keySource, failures: [{ reason: (e as Error).message }] };
  }
  let checkpoint;
  try {
    const { body } = verifyNote(bundle.checkpoint, [verifier]);
    checkpoint = parseCheckpoint(body);
  } catch (e) {
    return { ok: false, entriesChecked: 0, keySource, failures: [{ reason: `checkpoint signature: ${(e as Error).message}` }] };
  }
  if (checkpoint.origin !== bundle.origin) failures.push({ reason: `checkpoint origin "${checkpoint.origin}" is not the bundle's "${bundle.origin}"` });
  const root = checkpoint.rootHash;
  const from = bundle.from ?? bundle.entries[0]?.index ?? 0;
  const to = bundle.to ?? (bundle.entries.at(-1)?.index ?? from - 1) + 1;
  if (to > checkpoint.treeSize) failures.push({ reason: `the bundle claims entries up to ${to - 1}, beyond its checkpoint of ${checkpoint.treeSize}` });
  bundle.entries.forEach((entry, position) => {
    // In order, one each: an entry removed, repeated or moved stands where another belongs.
    if (entry.index !== from + position) failures.push({ index: entry.index, reason: `entry ${entry.index} stands where entry ${from + position} belongs` });
  });
  const held = [...new Set(bundle.entries.map((e) => e.index))].sort((a, b) => a - b);
  if (held.length !== to - from || held[0] !== from || held.at(-1) !== to - 1) {
    const holds = held.length === 0 ? 'none' : `${held[0]}..${held.at(-1)}${held.length < held.at(-1)! - held[0]! + 1 ? ' with a gap' : ''}`;
    failures.push({ reason: `the bundle claims entries ${from}..${to - 1} and holds ${holds}` });
  }
  for (const entry of bundle.entries) {
    const leaf = new Uint8Array(Buffer.from(entry.leaf, 'base64'));
    let decoded: { index?: unknown };
    try {
      decoded = JSON.parse(Buffer.from(leaf).toString('utf8'));
    } catch {
      failures.push({ index: entry.index, reason: 'leaf is not JSON' });
      continue;
    }
    if (decoded.index !== entry.index) {
      failures.push({ index: entry.index, reason: `leaf says index ${String(decoded.index)}` });
      continue;
    }
    const proof = entry.inclusionProof.map((h) => new Uint8Array(Buffer.from(h, 'base64')));
    if (!verifyInclusion(leafHash(leaf), entry.index, checkpoint.treeSize, proof, root)) {
      failures.push({ index: entry.index, reason: 'inclusion proof does not lead to the checkpoint root' });
      continue;
    }
    // The leaf is proved; what a reader is shown must be that leaf (its canonical JSON), field for field.
    const differing = differingFields(decoded as Record<string, unknown>, entry.event);
    if (differing.length > 0) failures.push({ index: entry.index, reason: `the displayed event is not its leaf: ${differing.join(', ')} differ` });
  }
  return {
    ok: failures.length === 0,
    treeSize: checkpoint.treeSize,
    rootHash: Buffer.from(root).toString('base64'),
    entriesChecked: bundle.entries.length,
    keySource,
    failures,
  };
}

/** The fields in which a displayed event differs from its leaf (the leaf's `v` aside), by canonical JSON. */
function differingFields(leaf: Record<string, unknown>, shown: unknown): string[] {
  const { v: _version, ...fromLeaf } = leaf;
  const displayed = typeof shown === 'object' && shown !== null ? (shown as Record<string, unknown>) : {};
  const keys = [...new Set([...Object.keys(fromLeaf), ...Object.keys(displayed)])].sort();
  return keys.filter((k) => !(k in fromLeaf && k in displayed) || canonicalize(fromLeaf[k]) !== canonicalize(displayed[k]));
}
