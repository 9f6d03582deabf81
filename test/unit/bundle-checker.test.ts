import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type BundleEntry, type EvidenceBundle, verifyBundle } from '../../src/audit/bundle.ts';
import { canonicalBytes } from '../../src/audit/canonical-json.ts';
import { inclusionProof, leafHash, referenceRoot } from '../../src/audit/merkle.ts';
import { ed25519Signer, formatCheckpoint, signNote, verifierKeyString } from '../../src/audit/signed-note.ts';

const ORIGIN = 'bundle.test/log';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** A log of `n` entries, its signed checkpoint, and the bundle of all of them. */
async function bundleOf(n: number): Promise<{ bundle: EvidenceBundle; vkey: string }> {
  const signer = ed25519Signer(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const events = Array.from({ length: n }, (_, index) => ({
    index,
    time: '2026-12-03T00:00:00.000Z',
    actor: { sub: 'a', role: 'legal' },
    action: 'x.y',
    subjectId: `s${index}`,
    content: { n: index },
  }));
  const leaves = events.map((e) => canonicalBytes({ v: 1, ...e }));
  const hashes = leaves.map(leafHash);
  const checkpoint = await signNote(formatCheckpoint({ origin: ORIGIN, treeSize: n, rootHash: referenceRoot(hashes) }), signer);
  const entries: BundleEntry[] = events.map((event, i) => ({ index: i, leaf: b64(leaves[i]!), event, inclusionProof: inclusionProof(i, hashes).map(b64) }));
  const vkey = verifierKeyString(ORIGIN, signer.publicKey);
  return { bundle: { format: 'clearframe-audit-evidence/v1', origin: ORIGIN, verifierKey: vkey, checkpoint, exportedAt: '2026-12-03T00:00:00Z', from: 0, to: n, entries }, vkey };
}

describe('the bundle check, an entry at a time', () => {
  it('verifies a whole bundle, and names the format it read', async () => {
    const { bundle, vkey } = await bundleOf(37);
    expect(await verifyBundle(bundle, vkey)).toMatchObject({ ok: true, format: 'clearframe-audit-evidence/v1', entriesChecked: 37, treeSize: 37, failures: [] });
    const other = await verifyBundle({ ...bundle, format: 'clearframe-audit-evidence/v2' as 'clearframe-audit-evidence/v1' }, vkey);
    expect(other.failures).toEqual([{ reason: 'the bundle\'s format is "clearframe-audit-evidence/v2"; this verifier reads clearframe-audit-evidence/v1' }]);
  });

  it('tells a repeated entry from a complete range (the indices held, not only their count)', async () => {
    const { bundle, vkey } = await bundleOf(4);
    const repeated = { ...bundle, entries: [bundle.entries[0]!, bundle.entries[1]!, bundle.entries[1]!, bundle.entries[3]!] };
    const verdict = await verifyBundle(repeated, vkey);
    expect(verdict.failures).toEqual([{ index: 1, reason: 'entry 1 stands where entry 2 belongs' }, { reason: 'the bundle claims entries 0..3 and holds 0..3 with a gap' }]);
    // An index outside the claimed range counts as held, but not as one of the range.
    const outside = { ...bundle, entries: [...bundle.entries.slice(0, 3), { ...bundle.entries[3]!, index: 9 }] };
    expect((await verifyBundle(outside, vkey)).failures).toContainEqual({ reason: 'the bundle claims entries 0..3 and holds 0..9 with a gap' });
  });

  it('lists at most 1,000 failures of a kind, and counts the rest', async () => {
    const { bundle, vkey } = await bundleOf(1200);
    const shown = { ...bundle, entries: bundle.entries.map((e) => ({ ...e, event: { ...(e.event as object), action: 'x.z' } })) };
    const verdict = await verifyBundle(shown, vkey);
    expect(verdict.ok).toBe(false);
    expect(verdict.failures).toHaveLength(1001);
    expect(verdict.failures[999]).toEqual({ index: 999, reason: 'the displayed event is not its leaf: action differ' });
    expect(verdict.failures[1000]).toEqual({ reason: 'and 200 more entries that fail not listed' });
  });
});
