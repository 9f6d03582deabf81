import type { Queryable } from '../db/database.ts';
import { WrittenOnce } from '../db/written-once.ts';
import { Problem, problems } from '../http/problem.ts';
import type { Signer } from '../signing/signer.ts';
import { ed25519Raw } from '../signing/signer.ts';
import { consistencyProof, inclusionProof, largestSignedHead, readEvents, rememberSignedHead, rootHash, type SignedHead, type StoredEvent, treeSize } from './log-store.ts';
import { leafHash } from './merkle.ts';
import { formatCheckpoint, signNote, verifierKeyString } from './signed-note.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

export type TreeHead = { origin: string; treeSize: number; rootHash: string; note: string };

/** The log's signer in signed-note form: its name is the log's origin line. */
export function noteSigner(origin: string, signer: Signer) {
  const publicKey = ed25519Raw(signer.publicJwk);
  return { name: origin, publicKey, sign: (msg: Uint8Array) => signer.sign(msg) };
}

export function auditVerifierKey(origin: string, signer: Signer): string {
  return verifierKeyString(origin, ed25519Raw(signer.publicJwk));
}

/**
 * Tree heads already signed, per handle they were read through. The root of a given size never changes,
 * and an Ed25519 signature is deterministic, so the note for (origin, key, size) is always the same
 * bytes: each verification need not read the root and ask the key (a Cloud KMS call) again. Inside a
 * transaction the handle is that transaction's, so a size it has not committed is never kept beyond it.
 */
const treeHeadsSeen = new WrittenOnce<TreeHead>(256);

/**
 * A signed tree head (C2SP tlog-checkpoint) for the log as it stands now, or at `size`. A head is signed
 * only for a stored tree that extends every head signed before (audit_signed_heads): a tree smaller than
 * the largest one signed, or with another root at that size, was rolled back or rewritten, and no head is
 * signed or served for it (LogRolledBack). Each head signed is remembered before it is handed out.
 */
export async function signedTreeHead(q: Queryable, origin: string, signer: Signer, size?: number): Promise<TreeHead> {
  const n = size ?? (await treeSize(q));
  return treeHeadsSeen.read(q, `${origin}\n${signer.kid}\n${n}`, async () => {
    const [root, largest] = await Promise.all([rootHash(q, n), largestSignedHead(q)]);
    if (largest) await extendsSignedHead(q, largest, n, root);
    const body = formatCheckpoint({ origin, treeSize: n, rootHash: root });
    const note = await signNote(body, noteSigner(origin, signer));
    await rememberSignedHead(q, { origin, keyId: signer.kid, treeSize: n, rootHash: root });
    if (n >= vouched.treeSize) vouched = { treeSize: n, rootHash: root };
    return { origin, treeSize: n, rootHash: b64(root), note };
  });
}

/** The largest head this process signed or found the stored tree to extend: checked once, not per head. */
let vouched: SignedHead = { treeSize: -1, rootHash: new Uint8Array(0) };

/** The stored tree at the size of `largest` must exist and have its root; else the log was rolled back. */
async function extendsSignedHead(q: Queryable, largest: SignedHead, n: number, rootAtN: Uint8Array): Promise<void> {
  const stored = largest.treeSize > n ? await treeSize(q) : n;
  if (stored < largest.treeSize) throw new LogRolledBack(largest.treeSize, stored);
  if (largest.treeSize === vouched.treeSize && Buffer.from(largest.rootHash).equals(Buffer.from(vouched.rootHash))) return;
  const root = largest.treeSize === n ? rootAtN : await rootHash(q, largest.treeSize).catch(() => null);
  if (!root || !Buffer.from(root).equals(Buffer.from(largest.rootHash))) throw new LogRolledBack(largest.treeSize, stored, 'rewritten');
  vouched = largest;
}

/** The stored log no longer extends a head the service signed: nothing is signed or served from it. */
export class LogRolledBack extends Problem {
  constructor(signedSize: number, storedSize: number, how: 'rolled back' | 'rewritten' = 'rolled back') {
    super(
      500,
      'internal',
      how === 'rolled back'
        ? `the audit log was rolled back from ${signedSize} to ${storedSize} entries: the service signed a tree of ${signedSize}; no tree head is signed until it is restored`
        : `the audit log was rewritten: its tree at ${signedSize} entries is not the one the service signed; no tree head is signed until it is restored`,
      { signedTreeSize: signedSize, treeSize: storedSize },
    );
  }
}

export function eventView(e: StoredEvent) {
  return {
    index: e.index,
    time: e.time,
    actor: e.actor,
    action: e.action,
    subjectId: e.subjectId,
    content: e.content,
    leaf: b64(e.leaf),
    leafHash: b64(leafHash(e.leaf)),
  };
}

export async function listEvents(q: Queryable, from: number, limit: number) {
  const size = await treeSize(q);
  const events = await readEvents(q, from, limit);
  // Every index of the page below the tree's size is an entry: a missing one is a damaged log, said as
  // such, never a short page whose `next` a client would follow forever.
  const expected = Math.max(0, Math.min(from + limit, size) - from);
  if (events.length !== expected) {
    const at = events.findIndex((e, i) => e.index !== from + i);
    const missing = from + (at === -1 ? events.length : at);
    throw new Problem(500, 'internal', `the audit log is damaged: entry ${missing} is missing (the tree has ${size} entries); run clearframe audit verify`, {
      missingIndex: missing,
      treeSize: size,
    });
  }
  return { treeSize: size, events: events.map(eventView), next: from + events.length < size ? from + events.length : null };
}

export async function inclusion(q: Queryable, index: number, size?: number) {
  const current = await treeSize(q);
  const n = size ?? current;
  if (n > current) throw problems.validation(`treeSize ${n} is larger than the log (${current} entries)`, [{ field: 'treeSize', message: 'larger than the log' }]);
  if (index >= n) throw problems.validation(`index ${index} is not in a tree of ${n} entries`, [{ field: 'index', message: 'must be less than treeSize' }]);
  const [proof, event] = await Promise.all([inclusionProof(q, index, n), readEvents(q, index, 1)]);
  return {
    index,
    treeSize: n,
    leafHash: b64(leafHash(event[0]!.leaf)),
    hashes: proof.map(b64),
    rootHash: b64(await rootHash(q, n)),
  };
}

export async function consistency(q: Queryable, from: number, to?: number) {
  const current = await treeSize(q);
  const n = to ?? current;
  if (n > current) throw problems.validation(`to ${n} is larger than the log (${current} entries)`, [{ field: 'to', message: 'larger than the log' }]);
  if (from < 1 || from > n) throw problems.validation(`from must be between 1 and ${n}`, [{ field: 'from', message: `must be between 1 and ${n}` }]);
  const proof = await consistencyProof(q, from, n);
  const [oldRoot, newRoot] = await Promise.all([rootHash(q, from), rootHash(q, n)]);
  return { from, to: n, hashes: proof.map(b64), fromRootHash: b64(oldRoot), toRootHash: b64(newRoot) };
}
