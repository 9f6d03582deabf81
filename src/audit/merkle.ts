/**
 * RFC 9162 §2.1 Merkle trees (SHA-256): hashing, proof generation and proof
 * verification. Pure, no I/O.
 *
 * Storage model: only PERFECT subtrees are ever stored. Node {level, index}
 * covers leaves [index·2^level, (index+1)·2^level); level 0 holds leaf hashes.
 * A node never changes once the tree has (index+1)·2^level leaves. Every root
 * and every proof element is the right fold of a few such nodes, so a proof is
 * computed from a *plan* (which nodes, in which order) plus one batched read
 * of O(log n) nodes: see inclusionProofPlan, consistencyProofPlan, rootPlan
 * and assembleProof.
 *
 * Sizes and indices are plain numbers (safe integers, < 2^53). The code uses
 * arithmetic instead of bitwise operators, which would truncate to 32 bits.
 */
import * as nodeCrypto from 'node:crypto';
import * as asSha256 from '@chainsafe/as-sha256';

/** Size in bytes of every hash in the tree. */
export const HASH_SIZE = 32;

/** A perfect subtree: leaves [index·2^level, (index+1)·2^level). */
export type NodeId = { level: number; index: number };

// crypto.hash (Node >= 20.12) is a one-shot digest, about 1.5x faster than
// createHash per call; full-log verification does two hashes per entry.
// Inputs are pooled Buffers (Buffer.allocUnsafe): allocating a fresh
// ArrayBuffer per hash would cost more than the hash itself. Digests are copied
// into plain Uint8Arrays so callers never see Buffer semantics.
const sha256: (data: Uint8Array) => Uint8Array =
  typeof nodeCrypto.hash === 'function'
    ? (data) => new Uint8Array(nodeCrypto.hash('sha256', data, 'buffer'))
    : (data) => new Uint8Array(nodeCrypto.createHash('sha256').update(data).digest());

// ---------------------------------------------------------------------------
// Hashing (RFC 9162 §2.1.1)

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  const buf = Buffer.allocUnsafe(1 + leaf.length);
  buf[0] = 0x00;
  buf.set(leaf, 1);
  return sha256(buf);
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = Buffer.allocUnsafe(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

/** MTH({}) = SHA-256(""), the root of the empty tree. */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/**
 * Right fold h(p1, h(p2, ... h(pk-1, pk))) of the hashes of a range's perfect
 * nodes (as listed by perfectNodesForRange); this is the range's MTH.
 * The empty list folds to emptyRoot().
 */
export function hashRange(nodes: readonly Uint8Array[]): Uint8Array {
  let i = nodes.length - 1;
  let acc = nodes[i];
  if (acc === undefined) return emptyRoot();
  while (--i >= 0) acc = nodeHash(nodes[i]!, acc);
  return acc;
}

// ---------------------------------------------------------------------------
// Whole levels at once (full-log verification)
//
// A level is one Buffer of 32-byte hashes, node i at [32i, 32i+32). Working a level at a time keeps the
// hashing in tight loops over one scratch buffer: no per-node objects, which at a million entries cost
// more than the hashes themselves.

/**
 * Writes SHA-256(0x00 || src[start..end)) into `out` at byte `offset`. The leaf is read in place (e.g. out
 * of a received COPY buffer); `scratch` is grown as needed and returned for the next call.
 */
export function leafHashInto(src: Uint8Array, start: number, end: number, out: Buffer, offset: number, scratch: Buffer): Buffer {
  const length = end - start;
  if (scratch.length < length + 1) scratch = Buffer.allocUnsafe(Math.max(length + 1, scratch.length * 2));
  scratch[0] = 0x00;
  scratch.set(src.subarray(start, end), 1);
  digestInto(scratch.subarray(0, length + 1), out, offset);
  return scratch;
}

/** The level above `level`: node i is SHA-256(0x01 || left || right) over nodes 2i and 2i+1 (an odd last node has no parent yet). */
export function parentLevel(level: Buffer): Buffer {
  const parents = Buffer.allocUnsafe(Math.floor(level.length / HASH_SIZE / 2) * HASH_SIZE);
  parentsInto(level, parents, 0, parents.length / HASH_SIZE);
  return parents;
}

/** Parents [from, to) of `level` into `parents` (a part of parentLevel, for splitting a level between threads). */
export function parentsInto(level: Buffer, parents: Buffer, from: number, to: number): void {
  const pair = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
  pair[0] = 0x01;
  for (let p = from; p < to; p++) {
    level.copy(pair, 1, 2 * HASH_SIZE * p, 2 * HASH_SIZE * (p + 1));
    parents.set(smallDigest(pair), HASH_SIZE * p);
  }
}

/**
 * SHA-256 of a short message (a node's 65 bytes) by @chainsafe/as-sha256, SHA-256 compiled to
 * WebAssembly: for a message this short Node's crypto costs ~1.8 µs a call, almost all of it the call,
 * and this ~1.0 µs (measured here over 1,000,000 nodes). A whole tree level is a million such calls.
 * Held equal to node:crypto by the RFC 6962 vectors and by a test over random levels.
 */
const smallDigest: (data: Uint8Array) => Uint8Array = asSha256.digest;

const digestInto: (data: Uint8Array, out: Buffer, offset: number) => void =
  typeof nodeCrypto.hash === 'function'
    ? (data, out, offset) => void nodeCrypto.hash('sha256', data, 'buffer').copy(out, offset)
    : (data, out, offset) => void nodeCrypto.createHash('sha256').update(data).digest().copy(out, offset);

// ---------------------------------------------------------------------------
// Streaming root computation (compact range)

export type MerkleTreeBuilderOptions = {
  /**
   * Called for every perfect node as soon as it is complete (leaves first,
   * then parents bottom-up), e.g. to persist nodes while appending.
   */
  onNode?: (id: NodeId, hash: Uint8Array) => void;
};

/**
 * Computes the root of a growing tree from its leaf hashes in O(log n) memory:
 * it keeps only the roots of the perfect subtrees that cover [0, size),
 * largest first (the nodes of rootPlan(size)).
 */
export class MerkleTreeBuilder {
  #size = 0;
  #peaks: Uint8Array[] = [];
  readonly #onNode: MerkleTreeBuilderOptions['onNode'];

  constructor(options: MerkleTreeBuilderOptions = {}) {
    this.#onNode = options.onNode;
  }

  /**
   * Continue a tree of `size` leaves from the hashes of its rootPlan(size)
   * nodes (in plan order), e.g. after loading them from storage.
   */
  static resume(size: number, peaks: readonly Uint8Array[], options?: MerkleTreeBuilderOptions): MerkleTreeBuilder {
    if (!isCount(size)) throw new RangeError(`invalid tree size ${size}`);
    const expected = rootPlan(size).length;
    if (peaks.length !== expected || !peaks.every(isHash)) {
      throw new RangeError(`a tree of size ${size} needs exactly ${expected} 32-byte peak hashes`);
    }
    const builder = new MerkleTreeBuilder(options);
    builder.#size = size;
    builder.#peaks = [...peaks];
    return builder;
  }

  get size(): number {
    return this.#size;
  }

  push(leaf: Uint8Array): void {
    if (!isHash(leaf)) throw new TypeError('leaf hash must be 32 bytes');
    let hash = leaf;
    let level = 0;
    let index = this.#size;
    this.#onNode?.({ level, index }, hash);
    // Each trailing 1-bit of the old size is a finished left sibling: merge upwards.
    while (index % 2 === 1) {
      hash = nodeHash(this.#peaks.pop()!, hash);
      level++;
      index = (index - 1) / 2;
      this.#onNode?.({ level, index }, hash);
    }
    this.#peaks.push(hash);
    this.#size++;
  }

  /** The hashes of the rootPlan(size) nodes, largest first: what `resume` takes to continue. */
  peaks(): Uint8Array[] {
    return [...this.#peaks];
  }

  root(): Uint8Array {
    return hashRange(this.#peaks);
  }
}

/** MTH of a list of leaf hashes, in O(n) time and O(log n) extra memory. */
export function rootFromLeafHashes(hashes: Iterable<Uint8Array>): Uint8Array {
  const builder = new MerkleTreeBuilder();
  for (const h of hashes) builder.push(h);
  return builder.root();
}

// ---------------------------------------------------------------------------
// Proof plans over stored perfect nodes (RFC 9162 §2.1.3.1, §2.1.4.1)

/**
 * Decomposes the subtree [start, end) into perfect nodes, left to right.
 * Only ranges that occur in RFC 9162's recursion are accepted: non-empty, with
 * start a multiple of the smallest power of two >= end - start. For those the
 * nodes shrink from left to right and hashRange of their hashes is the MTH.
 */
export function perfectNodesForRange(start: number, end: number): NodeId[] {
  if (!isCount(start) || !isCount(end) || start >= end) {
    throw new RangeError(`invalid range [${start}, ${end})`);
  }
  let width = 1;
  let level = 0;
  while (width < end - start) {
    width *= 2;
    level++;
  }
  if (start % width !== 0) throw new RangeError(`[${start}, ${end}) is not an RFC 9162 subtree`);
  const nodes: NodeId[] = [];
  for (let cursor = start; cursor < end; cursor += width) {
    while (cursor + width > end) {
      width /= 2;
      level--;
    }
    nodes.push({ level, index: cursor / width });
  }
  return nodes;
}

/** Nodes whose right fold is the root of a tree of `treeSize` leaves ([] for the empty tree). */
export function rootPlan(treeSize: number): NodeId[] {
  if (!isCount(treeSize)) throw new RangeError(`invalid tree size ${treeSize}`);
  return treeSize === 0 ? [] : perfectNodesForRange(0, treeSize);
}

/**
 * Plan for the inclusion proof of leaf `index` in a tree of `treeSize` leaves:
 * one node list per PATH element, in RFC 9162 order (leaf's sibling first).
 * @throws RangeError unless 0 <= index < treeSize.
 */
export function inclusionProofPlan(index: number, treeSize: number): NodeId[][] {
  if (!isCount(index) || !isCount(treeSize) || index >= treeSize) {
    throw new RangeError(`invalid inclusion proof request: index ${index}, tree size ${treeSize}`);
  }
  const siblings: NodeId[][] = [];
  let lo = 0;
  let hi = treeSize;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      siblings.push(perfectNodesForRange(lo + k, hi));
      hi = lo + k;
    } else {
      siblings.push(perfectNodesForRange(lo, lo + k));
      lo += k;
    }
  }
  return siblings.reverse(); // collected root-down; PATH lists them leaf-up
}

/**
 * Plan for the consistency proof from the tree of size m to the tree of size n:
 * one node list per SUBPROOF element, in RFC 9162 order. Empty when m == n.
 * @throws RangeError unless 0 < m <= n (a proof from the empty tree proves nothing).
 */
export function consistencyProofPlan(m: number, n: number): NodeId[][] {
  if (!isCount(m) || !isCount(n) || m < 1 || m > n) {
    throw new RangeError(`invalid consistency proof request: ${m} -> ${n}`);
  }
  const path: NodeId[][] = [];
  // Invariant: lo < m <= hi. `known` is SUBPROOF's b flag: [lo, hi) is still a
  // prefix of the old tree, whose root the verifier already has.
  let lo = 0;
  let hi = n;
  let known = true;
  while (m !== hi) {
    const k = splitPoint(hi - lo);
    if (m <= lo + k) {
      path.push(perfectNodesForRange(lo + k, hi));
      hi = lo + k;
    } else {
      path.push(perfectNodesForRange(lo, lo + k));
      lo += k;
      known = false;
    }
  }
  if (!known) path.push(perfectNodesForRange(lo, hi));
  return path.reverse(); // collected root-down; SUBPROOF lists them leaf-up
}

/**
 * Every distinct node the given plans refer to, for one batched read.
 * (A rootPlan is used as the one-element plan [rootPlan(n)].)
 */
export function distinctNodeIds(...plans: (readonly (readonly NodeId[])[])[]): NodeId[] {
  const seen = new Map<string, NodeId>();
  for (const plan of plans) {
    for (const element of plan) {
      for (const id of element) seen.set(`${id.level}:${id.index}`, id);
    }
  }
  return [...seen.values()];
}

/** Turns a plan into proof hashes, fetching each node's hash with `lookup`. */
export function assembleProof(plan: readonly (readonly NodeId[])[], lookup: (id: NodeId) => Uint8Array): Uint8Array[] {
  return plan.map((element) =>
    hashRange(
      element.map((id) => {
        const hash = lookup(id);
        if (!isHash(hash)) throw new TypeError(`lookup returned no 32-byte hash for node ${id.level}/${id.index}`);
        return hash;
      }),
    ),
  );
}

// ---------------------------------------------------------------------------
// Reference implementations, straight from RFC 9162's recursive definitions.
// O(n) per call: for tests and offline audits, not for serving proofs.

/** MTH(D[n]) by the recursive definition of §2.1.1. */
export function referenceRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot();
  if (leafHashes.length === 1) return leafHashes[0]!;
  const k = splitPoint(leafHashes.length);
  return nodeHash(referenceRoot(leafHashes.slice(0, k)), referenceRoot(leafHashes.slice(k)));
}

/** PATH(index, D[n]) of §2.1.3.1. */
export function inclusionProof(index: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  if (!isCount(index) || index >= leafHashes.length) {
    throw new RangeError(`invalid inclusion proof request: index ${index}, tree size ${leafHashes.length}`);
  }
  const path = (m: number, d: readonly Uint8Array[]): Uint8Array[] => {
    if (d.length <= 1) return [];
    const k = splitPoint(d.length);
    return m < k ? [...path(m, d.slice(0, k)), referenceRoot(d.slice(k))] : [...path(m - k, d.slice(k)), referenceRoot(d.slice(0, k))];
  };
  return path(index, leafHashes);
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of §2.1.4.1. */
export function consistencyProof(m: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  if (!isCount(m) || m < 1 || m > leafHashes.length) {
    throw new RangeError(`invalid consistency proof request: ${m} -> ${leafHashes.length}`);
  }
  const subproof = (m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] => {
    if (m === d.length) return b ? [] : [referenceRoot(d)];
    const k = splitPoint(d.length);
    return m <= k ? [...subproof(m, d.slice(0, k), b), referenceRoot(d.slice(k))] : [...subproof(m - k, d.slice(k), false), referenceRoot(d.slice(0, k))];
  };
  return subproof(m, leafHashes, true);
}

// ---------------------------------------------------------------------------
// Verification. Never throws: any malformed input just fails verification.
// A proof fixes the shape of the tree, not its exact size (e.g. leaf 5 has the
// same path shape in trees of 9..16 leaves), so tree sizes and roots must come
// from signed checkpoints, which bind each size to its root.

/**
 * Root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1-5, without the
 * final comparison), or null if the proof cannot be valid for index/treeSize.
 */
export function rootFromInclusionProof(leafHash: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[]): Uint8Array | null {
  if (!isHash(leafHash) || !isCount(index) || !isCount(treeSize) || !isHashList(proof)) return null;
  if (index >= treeSize) return null;
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return null; // proof too long
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : null; // sn > 0: proof too short
}

/** RFC 9162 §2.1.3.2: is `leafHash` the leaf at `index` of the tree with `root`? */
export function verifyInclusion(leafHash: Uint8Array, index: number, treeSize: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const computed = rootFromInclusionProof(leafHash, index, treeSize, proof);
  return computed !== null && isHash(root) && bytesEqual(computed, root);
}

/**
 * RFC 9162 §2.1.4.2: is the tree (n, rootN) an append-only extension of (m, rootM)?
 * m == n requires an empty proof and equal roots; m == 0 is always rejected
 * (RFC 9162 defines proofs for 0 < m only, and one would prove nothing).
 */
export function verifyConsistency(m: number, n: number, proof: readonly Uint8Array[], rootM: Uint8Array, rootN: Uint8Array): boolean {
  if (!isCount(m) || !isCount(n) || !isHashList(proof) || !isHash(rootM) || !isHash(rootN)) return false;
  if (m === 0 || m > n) return false;
  if (m === n) return proof.length === 0 && bytesEqual(rootM, rootN);
  // Steps 1-7 of §2.1.4.2.
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(m) ? [rootM, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false; // proof too long
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(fr, rootM) && bytesEqual(sr, rootN);
}

// ---------------------------------------------------------------------------

/** Largest power of two strictly less than n (n >= 2): RFC 9162's k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function half(x: number): number {
  return Math.floor(x / 2);
}

function isPowerOfTwo(x: number): boolean {
  let p = 1;
  while (p < x) p *= 2;
  return p === x;
}

function isCount(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function isHash(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === HASH_SIZE;
}

function isHashList(x: unknown): x is readonly Uint8Array[] {
  return Array.isArray(x) && x.every(isHash);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
