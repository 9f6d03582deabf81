import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvidenceBundle, verifyBundle } from '../../src/audit/bundle.ts';
import { exportEvidence } from '../../src/audit/export.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

// The offline verifier of an evidence bundle checks what a reader is shown, not only the leaves
// (issue 21): displayed fields equal to the leaf, the range the bundle claims, each proof its own entry's.
describe.skipIf(databaseUnavailable())('evidence bundles against edits', () => {
  let svc: TestService;
  let vkey: string;
  let bundle: EvidenceBundle;
  const copy = () => JSON.parse(JSON.stringify(bundle)) as EvidenceBundle;

  beforeAll(async () => {
    svc = await startTestService();
    const legal = await svc.token('legal');
    for (let i = 0; i < 6; i++) await svc.call('POST', '/v1/assets', { token: legal, json: assetBody({ title: `Bundle ${i}` }) });
    const { keyring, config, database } = svc.runtime.ctx;
    bundle = await exportEvidence(database.db, config.auditOrigin, keyring.audit, 1, 6);
    vkey = ((await (await svc.call('GET', '/v1/audit/key')).json()) as { vkey: string }).vkey;
  });
  afterAll(async () => svc?.close());

  it('claims the range it holds, and verifies as exported', async () => {
    expect({ from: bundle.from, to: bundle.to, indices: bundle.entries.map((e) => e.index) }).toEqual({ from: 1, to: 6, indices: [1, 2, 3, 4, 5] });
    expect(await verifyBundle(copy(), vkey)).toMatchObject({ ok: true, entriesChecked: 5, failures: [] });
  });

  it('refuses a displayed field changed while the leaf is untouched', async () => {
    const edited = copy();
    (edited.entries[2]!.event as { action: string }).action = 'asset.withdrawn';
    (edited.entries[3]!.event as { content: { title: string } }).content.title = 'Something else';
    const verdict = await verifyBundle(edited, vkey);
    expect(verdict.ok).toBe(false);
    expect(verdict.failures).toEqual([
      { index: 3, reason: expect.stringMatching(/displayed event is not its leaf.*action/) },
      { index: 4, reason: expect.stringMatching(/displayed event is not its leaf.*content/) },
    ]);
  });

  it('refuses a bundle with an entry removed, at the end or inside', async () => {
    const last = copy();
    last.entries.pop();
    expect((await verifyBundle(last, vkey)).failures).toEqual([{ reason: 'the bundle claims entries 1..5 and holds 1..4' }]);
    const inside = copy();
    inside.entries.splice(2, 1);
    const gap = await verifyBundle(inside, vkey);
    expect(gap.ok).toBe(false);
    expect(gap.failures).toContainEqual({ index: 4, reason: 'entry 4 stands where entry 3 belongs' });
    expect(gap.failures).toContainEqual({ reason: 'the bundle claims entries 1..5 and holds 1..5 with a gap' });
  });

  it('refuses two entries swapped, and a proof moved to another entry', async () => {
    const swapped = copy();
    [swapped.entries[1], swapped.entries[2]] = [swapped.entries[2]!, swapped.entries[1]!];
    const verdict = await verifyBundle(swapped, vkey);
    expect(verdict.ok).toBe(false);
    expect(verdict.failures).toContainEqual({ index: 3, reason: 'entry 3 stands where entry 2 belongs' });
    const moved = copy();
    moved.entries[1]!.inclusionProof = bundle.entries[2]!.inclusionProof;
    expect((await verifyBundle(moved, vkey)).failures).toEqual([{ index: 2, reason: expect.stringMatching(/inclusion proof/) }]);
  });
});
