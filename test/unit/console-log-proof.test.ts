import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inclusionProof, leafHash, referenceRoot } from '../../src/audit/merkle.ts';
import { ed25519Signer, formatCheckpoint, signNote, verifierKeyString } from '../../src/audit/signed-note.ts';
import { checkCheckpoint, checkEntryProof, checkMembership, datasetDigest } from '../../src/console/client/log-proof.ts';
import { canonicalOrder, membershipProofs, datasetDigest as serverDigest } from '../../src/datasets/digest.ts';

const ORIGIN = 'clearframe.test/clearframe/audit';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const entry = (index: number, over: Record<string, unknown> = {}) =>
  new TextEncoder().encode(
    JSON.stringify({ action: 'asset.registered', actor: { role: 'legal', sub: 'l' }, content: {}, index, subjectId: `ast_${index}`, time: 't', v: 1, ...over }),
  );

async function log(size: number, index: number) {
  const signer = ed25519Signer(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const leaves = Array.from({ length: size }, (_, i) => entry(i));
  const hashes = leaves.map(leafHash);
  const checkpoint = await signNote(formatCheckpoint({ origin: ORIGIN, treeSize: size, rootHash: referenceRoot(hashes) }), signer);
  return {
    vkey: verifierKeyString(ORIGIN, signer.publicKey),
    proof: { index, treeSize: size, leaf: b64(leaves[index]!), hashes: inclusionProof(index, hashes).map(b64), checkpoint },
  };
}

describe('the audit and dataset pages’ in-browser checks (WebCrypto), against the server’s code', () => {
  it('accepts every entry of logs of 1..12 entries under the published key, and reads the signed head', async () => {
    for (let size = 1; size <= 12; size++) {
      for (let i = 0; i < size; i++) {
        const { vkey, proof } = await log(size, i);
        const check = await checkEntryProof(proof, vkey);
        expect(check, `${i} of ${size}`).toMatchObject({ ok: true, head: { origin: ORIGIN, treeSize: size }, event: { index: i, subjectId: `ast_${i}` } });
      }
    }
    const { vkey, proof } = await log(3, 0);
    expect(await checkCheckpoint(proof.checkpoint, vkey)).toMatchObject({ origin: ORIGIN, treeSize: 3, keyName: ORIGIN });
  });

  it('refuses an altered path, leaf, tree size, checkpoint or key', async () => {
    const { vkey, proof } = await log(9, 5);
    const flipped = Buffer.from(proof.hashes[0]!, 'base64');
    flipped[0]! ^= 1;
    const cases: [Partial<typeof proof>, string, RegExp][] = [
      [{ hashes: [b64(flipped), ...proof.hashes.slice(1)] }, vkey, /root other than/],
      [{ hashes: proof.hashes.slice(1) }, vkey, /does not fit|root other/],
      [{ leaf: b64(entry(5, { subjectId: 'ast_forged' })) }, vkey, /root other than/],
      [{ index: 4 }, vkey, /root other than|another index/],
      [{ treeSize: 10 }, vkey, /tree of 10/],
      [{ checkpoint: proof.checkpoint.replace('\n9\n', '\n8\n') }, vkey, /signature does not verify/],
      [{}, (await log(9, 5)).vkey, /no signature by the published key/],
      [{ hashes: ['not base64!'] }, vkey, /32 bytes/],
    ];
    for (const [edit, key, reason] of cases) {
      const check = await checkEntryProof({ ...proof, ...edit }, key);
      expect(check.ok, String(reason)).toBe(false);
      if (!check.ok) expect(check.reason).toMatch(reason);
    }
    await expect(checkCheckpoint(proof.checkpoint, (await log(1, 0)).vkey)).rejects.toThrow(/no signature/);
  });

  it('recomputes a dataset’s digest as src/datasets/digest.ts does, and checks its members’ proofs', async () => {
    expect(await datasetDigest([])).toBe(serverDigest([]));
    for (let n = 1; n <= 17; n++) {
      const members = canonicalOrder(Array.from({ length: n }, (_, i) => ({ assetId: `ast_${i}`, sha256: createHash('sha256').update(`art ${n} ${i}`).digest('hex') })));
      const digest = serverDigest(members);
      expect(await datasetDigest(members.map((m) => m.sha256)), `${n} members`).toBe(digest);
      const proofs = membershipProofs(
        members,
        members.map((_, i) => i),
      );
      for (const p of proofs) expect(await checkMembership(digest, p)).toBe(true);
      const wrong = { ...proofs[0]!, sha256: 'ab'.repeat(32) };
      expect(await checkMembership(digest, wrong)).toBe(false);
      if (n > 1) expect(await datasetDigest(members.slice(1).map((m) => m.sha256))).not.toBe(digest);
    }
    await expect(datasetDigest(['xyz'])).rejects.toThrow(/not a SHA-256/);
  });
});
