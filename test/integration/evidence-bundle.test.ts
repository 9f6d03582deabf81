import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleVerdict, type EvidenceBundle, verifyBundle as verifyInMemory } from '../../src/audit/bundle.ts';
import { verifyBundleText } from '../../src/audit/bundle-file.ts';
import { exportEvidence, streamEvidence, writeEvidence } from '../../src/audit/export.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

// The offline verifier of an evidence bundle checks what a reader is shown, not only the leaves
// (issue 21): displayed fields equal to the leaf, the range the bundle claims, each proof its own entry's.
/** The text `audit export` writes for a bundle (edited or not), as its stream would. */
async function exportedText(bundle: EvidenceBundle): Promise<string> {
  const { entries, ...header } = bundle;
  let text = '';
  const out = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  await writeEvidence(
    {
      header,
      treeSize: 0,
      pages: (async function* () {
        yield entries;
      })(),
    },
    out,
  );
  return text;
}

/** Chunks of `size` characters: a stream whose edges fall anywhere, inside strings and numbers. */
async function* chunks(text: string, size: number) {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

/**
 * Every bundle is checked three ways, which must agree: in memory, streamed from the text the export
 * writes (one entry a line), and streamed from compact JSON cut into 7-character chunks.
 */
async function verifyBundle(bundle: EvidenceBundle, key?: string): Promise<BundleVerdict> {
  const inMemory = await verifyInMemory(JSON.parse(JSON.stringify(bundle)), key);
  const exported = await verifyBundleText(chunks(await exportedText(bundle), 4096), key);
  const compact = await verifyBundleText(chunks(JSON.stringify(bundle), 7), key);
  expect(exported).toEqual(inMemory);
  expect(compact).toEqual(inMemory);
  return inMemory;
}

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
    expect(await verifyBundle(copy(), vkey)).toMatchObject({ ok: true, format: 'clearframe-audit-evidence/v1', entriesChecked: 5, failures: [] });
  });

  it('writes the first entry before it reads the last page, and reads back what it wrote', async () => {
    const { keyring, config, database } = svc.runtime.ctx;
    const read: string[] = [];
    const stream = await streamEvidence(database.db, config.auditOrigin, keyring.audit, 1, 6, { pageSize: 2, onPage: (p) => read.push(`${p.from}..${p.to}`) });
    let text = '';
    let readWhenFirstEntryWritten: string[] | undefined;
    const out = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        if (!readWhenFirstEntryWritten && text.includes('"inclusionProof"')) readWhenFirstEntryWritten = [...read];
        done();
      },
      highWaterMark: 1, // every write waits for its drain, as a slow disk would make it
    });
    await writeEvidence(stream, out);
    // Pages aligned to the page size: [1,2), [2,4), [4,6). When the first entry goes out, the one read
    // ahead may be under way, the last is not: nothing waits for the whole range.
    expect(read).toEqual(['1..2', '2..4', '4..6']);
    expect(readWhenFirstEntryWritten).not.toContain('4..6');
    expect(JSON.parse(text)).toEqual({ ...bundle, exportedAt: expect.any(String), checkpoint: expect.any(String) });
    expect((await verifyBundleText(chunks(text, 100), vkey)).ok).toBe(true);
  });

  it('checks an entry as soon as it is read, before the bundle ends', async () => {
    const text = await exportedText(copy());
    const entryStart = text.indexOf('"inclusionProof"');
    const upToFirstEntry = text.slice(0, text.indexOf('\n', entryStart));
    const checked: number[] = [];
    let checkedBeforeTheRest: number[] | undefined;
    async function* paced() {
      yield upToFirstEntry;
      checkedBeforeTheRest = [...checked];
      yield text.slice(upToFirstEntry.length);
    }
    const verdict = await verifyBundleText(paced(), vkey, { progressEvery: 1, onProgress: (n) => checked.push(n) });
    expect(verdict.ok).toBe(true);
    expect(checkedBeforeTheRest).toEqual([1]);
    expect(checked).toEqual([1, 2, 3, 4, 5]);
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
