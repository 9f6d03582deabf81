import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inclusionProof, leafHash, referenceRoot } from '../../src/audit/merkle.ts';
import { ed25519Signer, formatCheckpoint, signNote, verifierKeyString } from '../../src/audit/signed-note.ts';
import { checkRegistrationProof, rootFromInclusionProof } from '../../src/console/client/proof.ts';

const ORIGIN = 'clearframe.test/clearframe/audit';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const keyPair = () => generateKeyPairSync('ed25519').privateKey;
const entry = (index: number, over: Record<string, unknown> = {}) =>
  new TextEncoder().encode(
    JSON.stringify({
      action: index === 0 ? 'asset.registered' : 'output.signed',
      actor: { role: 'generator', sub: 'g' },
      content: { signedSha256: `${index}`.padStart(64, '0') },
      index,
      subjectId: `out_${index}`,
      time: '2026-12-03T00:00:00Z',
      v: 1,
      ...over,
    }),
  );

/** A log of `size` entries, its signed head, and the proof of entry `index` as POST /v1/verify states it. */
async function log(size: number, index: number, signer = ed25519Signer(ORIGIN, keyPair())) {
  const leaves = Array.from({ length: size }, (_, i) => entry(i));
  const hashes = leaves.map(leafHash);
  const note = await signNote(formatCheckpoint({ origin: ORIGIN, treeSize: size, rootHash: referenceRoot(hashes) }), signer);
  return {
    vkey: verifierKeyString(ORIGIN, signer.publicKey),
    proof: { index, treeSize: size, leaf: b64(leaves[index]!), hashes: inclusionProof(index, hashes).map(b64), checkpoint: note },
  };
}

describe('the console’s in-browser proof check (WebCrypto), against the server’s Merkle and signed-note code', () => {
  it('folds to the same root as src/audit/merkle.ts for every index of trees of 1..17 entries', async () => {
    for (let size = 1; size <= 17; size++) {
      const hashes = Array.from({ length: size }, (_, i) => leafHash(entry(i)));
      for (let i = 0; i < size; i++) {
        const root = await rootFromInclusionProof(hashes[i]!, i, size, inclusionProof(i, hashes));
        expect(b64(root!)).toBe(b64(referenceRoot(hashes)));
      }
    }
  });

  it('accepts a registration proof under the published key, naming the entry and the log', async () => {
    const { vkey, proof } = await log(13, 12);
    const check = await checkRegistrationProof(proof, { vkey, outputId: 'out_12', fileSha256: '12'.padStart(64, '0') });
    expect(check).toMatchObject({ ok: true, index: 12, treeSize: 13, origin: ORIGIN, event: { action: 'output.signed', actor: { sub: 'g' } } });
  });

  it('refuses an altered path, another key, another tree size, another output and other bytes', async () => {
    const { vkey, proof } = await log(9, 5);
    const expectation = { vkey, outputId: 'out_5' };
    expect((await checkRegistrationProof(proof, expectation)).ok).toBe(true);
    const flipped = Buffer.from(proof.hashes[0]!, 'base64');
    flipped[0]! ^= 1;
    const cases: [typeof proof, Partial<typeof expectation> & { fileSha256?: string }, RegExp][] = [
      [{ ...proof, hashes: [b64(flipped), ...proof.hashes.slice(1)] }, {}, /root other than/],
      [{ ...proof, hashes: proof.hashes.slice(1) }, {}, /does not fit|root other/],
      [{ ...proof, treeSize: 10 }, {}, /tree of 10/],
      [proof, { vkey: (await log(9, 5)).vkey }, /no signature by the published key/],
      [proof, { outputId: 'out_4' }, /does not record the signing of out_4/],
      [proof, { fileSha256: 'ff'.repeat(32) }, /other bytes/],
      [{ ...proof, checkpoint: proof.checkpoint.replace('\n9\n', '\n8\n') }, {}, /signature does not verify|tree of 9/],
      [{ ...proof, leaf: b64(entry(5, { subjectId: 'out_5', time: 'later' })) }, {}, /root other than/],
    ];
    for (const [p, e, reason] of cases) {
      const check = await checkRegistrationProof(p, { ...expectation, ...e });
      expect(check.ok, String(reason)).toBe(false);
      if (!check.ok) expect(check.reason).toMatch(reason);
    }
  });
});
