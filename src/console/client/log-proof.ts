/**
 * Proofs the audit and dataset pages check where the user is, with WebCrypto only (built on proof.ts): any
 * audit entry's RFC 9162 inclusion in a signed checkpoint, the checkpoint's Ed25519 signature under the
 * published key, and a dataset's digest (RFC 9162 root over its members' SHA-256, src/datasets/digest.ts)
 * recomputed from its members, or one member's inclusion proof against it. Pure apart from crypto.subtle,
 * so the unit test runs it in Node against the server's own Merkle code.
 */
import { decodeBase64, hex, leafHash, nodeHash, parseCheckpoint, parseVerifierKey, rootFromInclusionProof, verifyNote } from './proof.ts';

export type SignedHead = { origin: string; treeSize: number; rootHash: string; keyName: string };

/** The checkpoint's signature under the published key, and what it signs; throws with the reason otherwise. */
export async function checkCheckpoint(note: string, vkey: string): Promise<SignedHead> {
  const key = await parseVerifierKey(vkey);
  const head = parseCheckpoint(await verifyNote(note, key));
  if (head.origin !== key.name) throw new Error(`the checkpoint is of log ${head.origin}, not of ${key.name}`);
  return { origin: head.origin, treeSize: head.treeSize, rootHash: note.split('\n')[2] ?? '', keyName: key.name };
}

/** What an entry's proof is made of, as the API hands it: GET /v1/audit/events (leaf), /proofs/inclusion (hashes), /checkpoint. */
export type EntryProof = {
  index: number;
  /** the tree size the proof is for (GET /v1/audit/proofs/inclusion `treeSize`) */
  treeSize: number;
  /** base64 of the entry's leaf bytes (RFC 8785 JSON of the event) */
  leaf: string;
  /** base64 path hashes, the leaf's sibling first */
  hashes: string[];
  /** the signed tree head note the path must lead to */
  checkpoint: string;
};

export type EntryCheck = { ok: true; head: SignedHead; event: Record<string, unknown> } | { ok: false; reason: string };

/** Entry `index`'s leaf folded with its path to the root of the signed checkpoint, and the leaf naming that index. */
export async function checkEntryProof(proof: EntryProof, vkey: string): Promise<EntryCheck> {
  try {
    const head = await checkCheckpoint(proof.checkpoint, vkey);
    if (head.treeSize !== proof.treeSize) return fail(`the proof is for a tree of ${proof.treeSize} entries but the checkpoint signs ${head.treeSize}`);
    const leaf = decodeBase64(proof.leaf);
    if (!leaf) return fail('the entry is not base64');
    const hashes = proof.hashes.map(decodeBase64);
    if (hashes.some((x) => x === null || x.length !== 32)) return fail('a path hash is not 32 bytes of base64');
    const root = await rootFromInclusionProof(await leafHash(leaf), proof.index, proof.treeSize, hashes as Uint8Array[]);
    if (!root) return fail(`the path does not fit entry ${proof.index} of a tree of ${proof.treeSize}`);
    if (hex(root) !== hex(decodeBase64(head.rootHash) ?? new Uint8Array())) return fail('the path leads to a root other than the signed checkpoint’s');
    const event = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(leaf)) as Record<string, unknown>;
    if (event === null || typeof event !== 'object' || event.index !== proof.index) return fail('the entry names another index');
    return { ok: true, head, event };
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}

const fail = (reason: string) => ({ ok: false as const, reason });

const fromHex = (s: string): Uint8Array | null => (/^([0-9a-f]{2})*$/.test(s) ? Uint8Array.from(s.match(/../g) ?? [], (b) => Number.parseInt(b, 16)) : null);

/** RFC 9162 MTH over `leaves` (each a member's 32-byte SHA-256, hex), left-filled as the server builds it; SHA-256("") when empty. */
export async function datasetDigest(members: readonly string[]): Promise<string> {
  if (members.length === 0) return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array())));
  // A stack of complete subtrees, largest first: pushing leaf i merges as many as i's trailing one bits.
  const stack: Uint8Array[] = [];
  for (const [i, m] of members.entries()) {
    const bytes = fromHex(m);
    if (bytes?.length !== 32) throw new Error(`member ${i} is not a SHA-256`);
    let node = await leafHash(bytes);
    for (let n = i; n % 2 === 1; n = Math.floor(n / 2)) node = await nodeHash(stack.pop()!, node);
    stack.push(node);
  }
  let root = stack.pop()!;
  while (stack.length) root = await nodeHash(stack.pop()!, root);
  return hex(root);
}

/** One member's proof (GET /v1/datasets/{id}/proofs/inclusion `proof`, hex) against the dataset's digest. */
export async function checkMembership(digest: string, proof: { index: number; treeSize: number; sha256: string; hashes: string[] }): Promise<boolean> {
  const leaf = fromHex(proof.sha256);
  const path = proof.hashes.map(fromHex);
  if (leaf?.length !== 32 || path.some((x) => x?.length !== 32)) return false;
  const root = await rootFromInclusionProof(await leafHash(leaf), proof.index, proof.treeSize, path as Uint8Array[]);
  return root !== null && hex(root) === digest;
}
