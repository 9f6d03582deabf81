import { assembleProof, emptyRoot, inclusionProofPlan, leafHash, MerkleTreeBuilder, type NodeId, verifyInclusion } from '../audit/merkle.ts';

/**
 * A dataset's digest: the RFC 9162 Merkle root whose leaves are the members' raw 32-byte sha256 values,
 * in canonical order: ascending sha256 (bytewise, i.e. lowercase hex order), ties broken by asset id.
 * The order is a function of the content alone, so anyone holding the hashes recomputes the digest, and
 * a sorted tree also proves absence: two adjacent leaves that bracket a hash show it is not there.
 */
export type Member = { assetId: string; sha256: string };

export function canonicalOrder<T extends Member>(members: readonly T[]): T[] {
  return [...members].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : a.assetId < b.assetId ? -1 : a.assetId > b.assetId ? 1 : 0));
}

const leafOf = (sha256: string) => leafHash(Buffer.from(sha256, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Digest of members already in canonical order. */
export function datasetDigest(ordered: readonly Member[]): string {
  if (ordered.length === 0) return hex(emptyRoot());
  const tree = new MerkleTreeBuilder();
  for (const m of ordered) tree.push(leafOf(m.sha256));
  return hex(tree.root());
}

export type MembershipProof = { index: number; treeSize: number; sha256: string; leafHash: string; hashes: string[] };

/** Inclusion proofs for the given positions of a canonically ordered dataset (one pass over its leaves). */
export function membershipProofs(ordered: readonly Member[], positions: number[]): MembershipProof[] {
  const nodes = new Map<string, Uint8Array>();
  const key = (id: NodeId) => `${id.level}/${id.index}`;
  const tree = new MerkleTreeBuilder({ onNode: (id, h) => nodes.set(key(id), h) });
  for (const m of ordered) tree.push(leafOf(m.sha256));
  return positions.map((index) => {
    const hashes = assembleProof(inclusionProofPlan(index, ordered.length), (id) => nodes.get(key(id))!);
    const sha256 = ordered[index]!.sha256;
    return { index, treeSize: ordered.length, sha256, leafHash: hex(leafOf(sha256)), hashes: hashes.map(hex) };
  });
}

/** Checks one membership proof against a dataset digest; pure, for verifiers. */
export function verifyMembership(digest: string, proof: MembershipProof): boolean {
  return verifyInclusion(
    leafOf(proof.sha256),
    proof.index,
    proof.treeSize,
    proof.hashes.map((h) => new Uint8Array(Buffer.from(h, 'hex'))),
    new Uint8Array(Buffer.from(digest, 'hex')),
  );
}

/**
 * Where `sha256` would sit in the canonical order: the positions of its neighbours. An absence proof is
 * the membership proofs of those (adjacent) neighbours; the first or last alone at either end.
 */
export function absenceNeighbours(ordered: readonly Member[], sha256: string): number[] {
  const lo = lowerBound(ordered, sha256);
  return [lo - 1, lo].filter((i) => i >= 0 && i < ordered.length);
}

/** The first position whose sha256 is not below `sha256` (the length if none). */
function lowerBound(ordered: readonly Member[], sha256: string): number {
  let lo = 0;
  let hi = ordered.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ordered[mid]!.sha256 < sha256) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Where the content `sha256` sits in a canonically ordered dataset: the digest commits to content, not to
 * asset ids, so a proof answers for the bytes. The member listed as `assetId` if it is one (two members may
 * carry equal bytes, registered under different productions), else the first member with those bytes, else
 * none: then the bracketing neighbours prove the bytes absent.
 */
export function locateContent(ordered: readonly Member[], sha256: string, assetId?: string): { member: number } | { neighbours: number[] } {
  const own = assetId === undefined ? -1 : ordered.findIndex((m) => m.assetId === assetId && m.sha256 === sha256);
  if (own >= 0) return { member: own };
  const at = lowerBound(ordered, sha256);
  if (at < ordered.length && ordered[at]!.sha256 === sha256) return { member: at };
  return { neighbours: [at - 1, at].filter((i) => i >= 0 && i < ordered.length) };
}

/** Checks an absence proof: adjacent members, verified against the digest, that bracket `sha256`. */
export function verifyAbsence(digest: string, sha256: string, neighbours: MembershipProof[]): boolean {
  if (neighbours.length === 0 || neighbours.length > 2 || !neighbours.every((p) => verifyMembership(digest, p))) return false;
  const size = neighbours[0]!.treeSize;
  if (neighbours.some((p) => p.treeSize !== size || p.sha256 === sha256)) return false;
  if (neighbours.length === 2) {
    const [left, right] = neighbours as [MembershipProof, MembershipProof];
    return right.index === left.index + 1 && left.sha256 < sha256 && sha256 < right.sha256;
  }
  const only = neighbours[0]!;
  return (only.index === 0 && sha256 < only.sha256) || (only.index === size - 1 && sha256 > only.sha256);
}
