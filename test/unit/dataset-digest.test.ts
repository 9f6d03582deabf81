import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leafHash, nodeHash } from '../../src/audit/merkle.ts';
import { absenceNeighbours, canonicalOrder, datasetDigest, locateContent, membershipProofs, verifyAbsence, verifyMembership } from '../../src/datasets/digest.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const members = (n: number) => Array.from({ length: n }, (_, i) => ({ assetId: `ast_${i}`, sha256: sha(`art ${i}`) }));

describe('dataset digest', () => {
  it('is the RFC 9162 root over raw sha256 leaves in ascending hash order', () => {
    const ms = members(3);
    const ordered = canonicalOrder(ms);
    expect(ordered.map((m) => m.sha256)).toEqual(ms.map((m) => m.sha256).sort());
    const l = ordered.map((m) => leafHash(Buffer.from(m.sha256, 'hex')));
    const expected = nodeHash(nodeHash(l[0]!, l[1]!), l[2]!);
    expect(datasetDigest(ordered)).toBe(Buffer.from(expected).toString('hex'));
  });

  it('does not depend on the order the assets were listed in', () => {
    const ms = members(50);
    expect(datasetDigest(canonicalOrder(ms))).toBe(datasetDigest(canonicalOrder([...ms].reverse())));
    expect(datasetDigest(canonicalOrder(ms))).not.toBe(datasetDigest(canonicalOrder(ms.slice(1))));
  });

  it('proves membership of every member, and nothing else', () => {
    for (const n of [1, 2, 5, 8, 13]) {
      const ordered = canonicalOrder(members(n));
      const digest = datasetDigest(ordered);
      const proofs = membershipProofs(
        ordered,
        ordered.map((_, i) => i),
      );
      for (const p of proofs) expect(verifyMembership(digest, p)).toBe(true);
      if (n > 1) expect(verifyMembership(digest, { ...proofs[0]!, index: 1 })).toBe(false);
      expect(verifyMembership(digest, { ...proofs[0]!, sha256: sha('not a member') })).toBe(false);
    }
  });

  it('proves absence with the bracketing neighbours', () => {
    const ordered = canonicalOrder(members(9));
    const digest = datasetDigest(ordered);
    for (const outsider of ['x', 'y', 'z', 'w', '0', 'ffff'].map(sha).concat(['0'.repeat(64), 'f'.repeat(64)])) {
      const proofs = membershipProofs(ordered, absenceNeighbours(ordered, outsider));
      expect(verifyAbsence(digest, outsider, proofs)).toBe(true);
    }
    // a member cannot be proven absent
    const member = ordered[4]!.sha256;
    const bogus = membershipProofs(ordered, [3, 5]);
    expect(verifyAbsence(digest, member, bogus)).toBe(false);
    expect(verifyAbsence(digest, member, membershipProofs(ordered, absenceNeighbours(ordered, member)))).toBe(false);
  });

  it('locates content, not ids: the asset itself, else another member with its bytes, else the neighbours', () => {
    const twin = { assetId: 'ast_twin', sha256: sha('art 4') };
    const ordered = canonicalOrder([...members(9), twin]);
    const digest = datasetDigest(ordered);
    const at = (found: ReturnType<typeof locateContent>) => ('member' in found ? ordered[found.member]!.assetId : null);
    expect(at(locateContent(ordered, sha('art 4'), 'ast_twin'))).toBe('ast_twin');
    expect(at(locateContent(ordered, sha('art 4'), 'ast_4'))).toBe('ast_4');
    // registered under another production, same bytes: proved as the member that carries them
    const other = locateContent(ordered, sha('art 7'), 'ast_elsewhere');
    expect(at(other)).toBe('ast_7');
    expect(verifyMembership(digest, membershipProofs(ordered, ['member' in other ? other.member : -1])[0]!)).toBe(true);
    const outside = locateContent(ordered, sha('not in'), 'ast_x');
    expect('neighbours' in outside && verifyAbsence(digest, sha('not in'), membershipProofs(ordered, outside.neighbours))).toBe(true);
  });
});
