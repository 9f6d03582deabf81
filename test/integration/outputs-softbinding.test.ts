/**
 * Soft binding (issue 20): every still-image output is recorded with its PDQ fingerprint, in its own
 * ledger entry; the manifest carries it as a `c2pa.soft-binding` assertion; and a copy whose manifest is
 * gone (stripped, re-encoded) is led back to its output by `/v1/verify`.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvent } from '../../src/audit/log-store.ts';
import { outputFingerprints } from '../../src/fingerprints/tables.ts';
import { fingerprintImage } from '../../src/media/fingerprint.ts';
import { readSoftBinding, SOFT_BINDING_ALG } from '../../src/outputs/manifest.ts';
import { outputs } from '../../src/outputs/tables.ts';
import { createC2paWasmEngine } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { makeMp4 } from '../fixtures/media.ts';
import { blockPicture } from '../fixtures/pictures.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

describe.skipIf(databaseUnavailable())('soft binding: outputs recovered from their pixels', () => {
  let svc: TestService;
  let legal: string;
  let vendor: string;
  let generator: string;
  let checkpointId: string;

  beforeAll(async () => {
    svc = await startTestService();
    [legal, vendor, generator] = await Promise.all([svc.token('legal'), svc.token('vendor'), svc.token('generator')]);
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

  it('records each still image with its PDQ fingerprint in the output’s own entry; a video with none', async () => {
    for (const type of ['image/jpeg', 'image/png', 'image/webp'] as const) {
      const out = await sign(await blockPicture(11, type), type);
      const fp = (await fingerprintImage(out.bytes))!;
      expect(fp.quality).toBeGreaterThanOrEqual(50);
      const rows = await rowsOf(out.id);
      expect(
        rows.map((r) => [r.algorithm, r.value, r.quality]),
        type,
      ).toEqual([['pdq', fp.value, fp.quality]]);
      const event = await entryOf(out.id);
      expect(event.action).toBe('output.signed');
      expect((event.content as { fingerprint: unknown }).fingerprint).toEqual({ algorithm: 'pdq', value: fp.value, quality: fp.quality });
    }
    const video = await sign(makeMp4({ frames: 2 }), 'video/mp4');
    expect(await rowsOf(video.id)).toEqual([]);
    expect(((await entryOf(video.id)).content as { fingerprint: unknown }).fingerprint).toBeNull();
  });

  it('puts the fingerprint in the manifest as a c2pa.soft-binding assertion that c2pa-rs reads back', async () => {
    const out = await sign(await blockPicture(12), 'image/jpeg');
    const fp = (await fingerprintImage(out.bytes))!;
    const engine = createC2paWasmEngine({ trustAnchorsPem: svc.runtime.ctx.keyring.c2pa.trustAnchorsPem });
    const read = await engine.read({ bytes: out.bytes, mimeType: 'image/jpeg' });
    if (read.kind !== 'manifest') throw new Error('no manifest');
    expect(read.trusted && read.intact, read.failureCodes.join()).toBe(true);
    expect(read.failureCodes).toEqual([]);
    const assertion = read.assertions.find((a) => a.label.startsWith('c2pa.soft-binding'));
    expect(assertion?.data).toEqual({ alg: SOFT_BINDING_ALG, blocks: [{ scope: {}, value: fp.value }] });
    expect(readSoftBinding(read)).toBe(fp.value);
    // A video's manifest has none.
    const video = await sign(makeMp4({ frames: 2 }), 'video/mp4');
    const readVideo = await engine.read({ bytes: video.bytes, mimeType: 'video/mp4' });
    if (readVideo.kind !== 'manifest') throw new Error('no manifest');
    expect(readVideo.assertions.some((a) => a.label.startsWith('c2pa.soft-binding'))).toBe(false);
  });
});
