/**
 * Soft binding (issue 20): every still-image output is recorded with its PDQ fingerprint, in its own
 * ledger entry; the manifest carries it as a `c2pa.soft-binding` assertion; and a copy whose manifest is
 * gone (stripped, re-encoded) is led back to its output by `/v1/verify`.
 */
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvent } from '../../src/audit/log-store.ts';
import { leafHash, verifyInclusion } from '../../src/audit/merkle.ts';
import { parseCheckpoint, parseVerifierKey, verifyNote } from '../../src/audit/signed-note.ts';
import { outputFingerprints } from '../../src/fingerprints/tables.ts';
import { fingerprintImage, fingerprintOutput } from '../../src/media/fingerprint.ts';
import { hammingDistance } from '../../src/media/pdq.ts';
import { CENTRE_REGION, readOutputLineage, readSoftBinding, readSoftBindings, SOFT_BINDING_ALG } from '../../src/outputs/manifest.ts';
import { signOutput } from '../../src/outputs/sign.ts';
import { outputs } from '../../src/outputs/tables.ts';
import { RECOVERY_LAYOUT_THRESHOLD, RECOVERY_THRESHOLD } from '../../src/outputs/verify.ts';
import { createC2paWasmEngine } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import type { ManifestEngine } from '../../src/provenance/c2pa/types.ts';
import { makeJpeg, makeMp4, tamperImageData } from '../fixtures/media.ts';
import { blockPicture, strippedReencode } from '../fixtures/pictures.ts';
import { encodePicture, transform, variedPicture } from '../fixtures/varied-pictures.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Candidate = {
  outputId: string;
  distance: number;
  threshold: number;
  ledger: { match: string; outputId: string; signedSha256: string; withdrawal: unknown };
  lineage: unknown;
  standing: { checkpoint: { id: string; status: string } };
  proof: { index: number; treeSize: number; leaf: string; hashes: string[]; checkpoint: string };
};
type Recovered = {
  verdict: string;
  detail: string;
  sha256: string;
  c2pa: unknown;
  ledger: unknown;
  lineage: unknown;
  recovery: { fingerprint: { quality: number }; threshold: number; statement: string; candidates: (Candidate & { region: string; colourLayoutThreshold?: number })[] };
};
const b = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe.skipIf(databaseUnavailable())('soft binding: outputs recovered from their pixels', () => {
  let svc: TestService;
  let legal: string;
  let vendor: string;
  let generator: string;
  let distributor: string;
  let checkpointId: string;

  beforeAll(async () => {
    svc = await startTestService({ OUTPUT_SOFT_BINDING: 'pdq' });
    [legal, vendor, generator, distributor] = await Promise.all([svc.token('legal'), svc.token('vendor'), svc.token('generator'), svc.token('distributor')]);
    checkpointId = (await activeCheckpoint(svc, legal, vendor, 1)).checkpoint.id;
  });
  afterAll(async () => svc?.close());

  async function sign(bytes: Uint8Array, type: string) {
    const form = new FormData();
    form.set('file', new File([bytes], `frame.${type.split('/')[1]}`, { type }));
    form.set('checkpointId', checkpointId);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status, await res.clone().text()).toBe(200);
    return { id: res.headers.get('clearframe-output-id')!, bytes: new Uint8Array(await res.arrayBuffer()) };
  }
  const rowsOf = (outputId: string) => svc.runtime.ctx.database.db.select().from(outputFingerprints).where(eq(outputFingerprints.outputId, outputId));
  async function entryOf(outputId: string) {
    const db = svc.runtime.ctx.database.db;
    const [row] = await db.select({ auditIndex: outputs.auditIndex }).from(outputs).where(eq(outputs.id, outputId));
    return (await readEvent(db, row!.auditIndex))!;
  }

  it('records each still image with its PDQ fingerprint in the output’s own entry; a video with none of a still image’s', async () => {
    for (const type of ['image/jpeg', 'image/png', 'image/webp'] as const) {
      const out = await sign(await blockPicture(11, type), type);
      const fp = (await fingerprintImage(out.bytes))!;
      const all = (await fingerprintOutput(out.bytes))!;
      expect(fp.quality).toBeGreaterThanOrEqual(50);
      expect(all.whole.value).toBe(fp.value);
      expect(all.centre.value).not.toBe(fp.value);
      expect(all.colourLayout.value).toBe(fp.colourLayout);
      const rows = await rowsOf(out.id);
      expect(rows.map((r) => [r.algorithm, r.value, r.quality]).sort(), type).toEqual(
        [
          ['colour-layout', fp.colourLayout, fp.quality],
          ['pdq', fp.value, fp.quality],
          ['pdq-centre', all.centre.value, all.centre.quality],
        ].sort(),
      );
      const event = await entryOf(out.id);
      expect(event.action).toBe('output.signed');
      const content = event.content as { fingerprint: unknown; otherFingerprints: unknown };
      expect(content.fingerprint).toEqual({ algorithm: 'pdq', value: fp.value, quality: fp.quality });
      expect(content.otherFingerprints).toEqual([all.centre, all.colourLayout]);
    }
    // A video's fingerprint is its frames, recorded apart (outputs-video-softbinding.test.ts).
    const video = await sign(makeMp4({ frames: 2 }), 'video/mp4');
    expect(await rowsOf(video.id)).toEqual([]);
    expect(((await entryOf(video.id)).content as { fingerprint: unknown }).fingerprint).toBeNull();
  });

  it('puts the fingerprint in the manifest as a c2pa.soft-binding assertion that c2pa-rs reads back', async () => {
    const out = await sign(await blockPicture(12), 'image/jpeg');
    const fp = (await fingerprintOutput(out.bytes))!.whole;
    const centre = (await fingerprintOutput(out.bytes))!.centre;
    const engine = createC2paWasmEngine({ trustAnchorsPem: svc.runtime.ctx.keyring.c2pa.trustAnchorsPem });
    const read = await engine.read({ bytes: out.bytes, mimeType: 'image/jpeg' });
    if (read.kind !== 'manifest') throw new Error('no manifest');
    expect(read.trusted && read.intact, read.failureCodes.join()).toBe(true);
    expect(read.failureCodes).toEqual([]);
    const assertion = read.assertions.find((a) => a.label.startsWith('c2pa.soft-binding'));
    expect(assertion?.data).toEqual({
      alg: SOFT_BINDING_ALG,
      blocks: [
        { scope: {}, value: fp.value },
        { scope: { region: CENTRE_REGION }, value: centre.value },
      ],
    });
    expect(readSoftBinding(read)).toBe(fp.value);
    expect(readSoftBindings(read)).toEqual({ pdq: fp.value, centre: centre.value });
    // A video's states its frames, each with its timespan (outputs-video-softbinding.test.ts): no still image's.
    const video = await sign(makeMp4({ frames: 2 }), 'video/mp4');
    const readVideo = await engine.read({ bytes: video.bytes, mimeType: 'video/mp4' });
    if (readVideo.kind !== 'manifest') throw new Error('no manifest');
    expect(readVideo.assertions.filter((a) => a.label.startsWith('c2pa.soft-binding'))).toHaveLength(1);
    expect(readSoftBindings(readVideo)).toBeNull();
    expect(readSoftBinding(readVideo)).toBeNull();
  });

  async function verify(bytes: Uint8Array, type: string) {
    const res = await svc.call('POST', '/v1/verify', { token: distributor, body: bytes, headers: { 'content-type': type } });
    expect(res.status).toBe(200);
    return (await res.json()) as Recovered;
  }

  it('leads a stripped, re-encoded copy back to its output: recovered, with its record, lineage, standing and proof', async () => {
    const out = await sign(await blockPicture(21), 'image/jpeg');
    const copy = await strippedReencode(out.bytes, 60);
    expect(Buffer.from(copy).equals(Buffer.from(out.bytes))).toBe(false);

    const v = await verify(copy, 'image/jpeg');
    expect(v.verdict, v.detail).toBe('recovered');
    expect(v.c2pa).toBeNull();
    expect(v.detail).toContain('differ from the signed ones');
    expect(v.recovery.statement).toContain('differ from the signed ones');
    expect(v.recovery.threshold).toBe(RECOVERY_THRESHOLD);
    expect(v.recovery.fingerprint.quality).toBeGreaterThanOrEqual(50);
    const [c, ...others] = v.recovery.candidates;
    expect(others).toEqual([]);
    expect(c!.outputId).toBe(out.id);
    expect(c!.threshold).toBe(31);
    expect(c!.distance).toBeGreaterThan(0); // re-encoded: not the same pixels
    expect(c!.distance).toBeLessThanOrEqual(31);
    expect(c!.ledger).toMatchObject({ match: 'fingerprint', outputId: out.id, withdrawal: null });
    expect(c!.ledger.signedSha256).not.toBe(v.sha256);
    expect(c!.standing.checkpoint).toMatchObject({ id: checkpointId, status: 'active' });
    expect(v.ledger).toEqual(c!.ledger);

    // The lineage is the one the signed manifest states, rebuilt from the record.
    const engine = createC2paWasmEngine({ trustAnchorsPem: svc.runtime.ctx.keyring.c2pa.trustAnchorsPem });
    const read = await engine.read({ bytes: out.bytes, mimeType: 'image/jpeg' });
    expect(c!.lineage).toEqual(readOutputLineage(read));
    expect(v.lineage).toEqual(c!.lineage);

    // The proof checks against the signed tree head with the published key, and its leaf is the output's entry.
    const key = (await (await svc.call('GET', '/v1/audit/key')).json()) as { vkey: string };
    const head = parseCheckpoint(verifyNote(c!.proof.checkpoint, [parseVerifierKey(key.vkey)]).body);
    const leaf = b(c!.proof.leaf);
    expect(verifyInclusion(leafHash(leaf), c!.proof.index, head.treeSize, c!.proof.hashes.map(b), head.rootHash)).toBe(true);
    const entry = JSON.parse(Buffer.from(leaf).toString());
    expect(entry).toMatchObject({ action: 'output.signed', subjectId: out.id, content: { fingerprint: { algorithm: 'pdq' } } });

    // The signed file itself is still verified, exactly.
    const signed = await verify(out.bytes, 'image/jpeg');
    expect(signed.verdict).toBe('verified');
    expect(signed.ledger).toMatchObject({ match: 'exact', outputId: out.id });
    expect(signed).not.toHaveProperty('recovery');
  });

  it('recovers a signed PNG converted to JPEG, and answers no-manifest for an unrelated picture or a flat one', async () => {
    const png = await sign(await blockPicture(23, 'image/png'), 'image/png');
    const v = await verify(await strippedReencode(png.bytes, 80), 'image/jpeg');
    expect(v.verdict).toBe('recovered');
    expect(v.recovery.candidates.map((c) => c.outputId)).toEqual([png.id]);

    const unrelated = await verify(await blockPicture(24), 'image/jpeg');
    expect(unrelated.verdict).toBe('no-manifest');
    expect(unrelated.ledger).toBeNull();
    // A smooth gradient has too little to recognise (PDQ quality about 30): never matched, even on a signed one.
    const flat = makeJpeg({ seed: 5 });
    await sign(flat, 'image/jpeg');
    expect((await verify(await strippedReencode(flat, 90), 'image/jpeg')).verdict).toBe('no-manifest');
  });

  it('never overrides a manifest by a fingerprint: an altered signed file stays tampered', async () => {
    const out = await sign(await blockPicture(25), 'image/jpeg');
    const v = await verify(tamperImageData(out.bytes, 'image/jpeg'), 'image/jpeg');
    expect(v.verdict).toBe('tampered');
    expect(v).not.toHaveProperty('recovery');
  });

  it('leads a copy with 5 % of its border cropped off back through the fingerprint of its centre', async () => {
    const out = await sign(await blockPicture(27, 'image/jpeg', 400, 300), 'image/jpeg');
    const cropped = await transform(out.bytes, 'image/jpeg', 'crop-5');
    // PDQ of the whole picture alone does not reach it: the crop moves the grid it is taken on.
    const whole = (await fingerprintOutput(out.bytes))!.whole;
    expect(hammingDistance((await fingerprintImage(cropped!))!.value, whole.value)).toBeGreaterThan(RECOVERY_THRESHOLD);
    const v = await verify(cropped!, 'image/jpeg');
    expect(v.verdict, v.detail).toBe('recovered');
    expect(v.recovery.candidates[0]).toMatchObject({ outputId: out.id, region: 'centre' });
    expect(v.recovery.candidates[0]!.distance).toBeLessThanOrEqual(RECOVERY_THRESHOLD);
  });

  it('recovers a flat picture (PDQ quality below 50) only where its colour layout agrees too', async () => {
    // A smooth gradient (varied-pictures seed 12, PDQ quality 44), as signed.
    const flat = await encodePicture(await variedPicture(12));
    const out = await sign(flat.bytes, flat.type);
    const copy = await transform(out.bytes, flat.type, 'jpeg-q60');
    const v = await verify(copy!, 'image/jpeg');
    expect(v.verdict, v.detail).toBe('recovered');
    expect(v.recovery.fingerprint.quality).toBeLessThan(50);
    expect(v.recovery.candidates.map((c) => c.outputId)).toEqual([out.id]);
    expect(v.recovery.candidates[0]).toMatchObject({ region: 'whole', colourLayoutThreshold: RECOVERY_LAYOUT_THRESHOLD });

    // The same gradient 60 levels brighter: PDQ (which keeps structure, not colour) cannot tell it apart,
    // the colour layout can, so a flat picture that is not the output's does not lead to it.
    const brighter = new Uint8Array(await sharp(out.bytes).linear(1, 60).jpeg({ quality: 90 }).toBuffer());
    const [a, b2] = [(await fingerprintOutput(out.bytes))!, (await fingerprintImage(brighter))!];
    expect(hammingDistance(a.whole.value, b2.value)).toBeLessThanOrEqual(RECOVERY_THRESHOLD);
    expect(hammingDistance(a.colourLayout.value, b2.colourLayout)).toBeGreaterThan(RECOVERY_LAYOUT_THRESHOLD);
    expect((await verify(brighter, 'image/jpeg')).verdict).toBe('no-manifest');
  });

  it('records the fingerprint also when the output is made again under the lock (the log moved on mid-sign)', async () => {
    const ctx = svc.runtime.ctx;
    let landed = false;
    const engine: ManifestEngine = {
      sign: async (input) => {
        // Another writer's change during the first sign: its commit finds the log moved on.
        if (!landed) {
          landed = true;
          await licensedAsset(svc, legal, null);
        }
        return ctx.c2pa.sign(input);
      },
      read: (input) => ctx.c2pa.read(input),
    };
    const { bytes, output } = await signOutput(
      { ...ctx, c2pa: engine },
      { sub: 'render-farm', role: 'generator' },
      {
        bytes: await blockPicture(26),
        mimeType: 'image/jpeg',
        title: 't',
        checkpointId,
        sourceAssetIds: [],
      },
    );
    expect(landed).toBe(true);
    const fp = (await fingerprintImage(bytes))!;
    const all = (await fingerprintOutput(bytes))!;
    expect((await rowsOf(output.id)).map((r) => r.value).sort()).toEqual([fp.value, all.centre.value, all.colourLayout.value].sort());
    expect(((await entryOf(output.id)).content as { fingerprint: { value: string } }).fingerprint.value).toBe(fp.value);
    expect(readSoftBinding(await ctx.c2pa.read({ bytes, mimeType: 'image/jpeg' }))).toBe(fp.value);
    expect((await verify(await strippedReencode(bytes), 'image/jpeg')).recovery.candidates[0]!.outputId).toBe(output.id);
  });
});
