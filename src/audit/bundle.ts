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
    }
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
