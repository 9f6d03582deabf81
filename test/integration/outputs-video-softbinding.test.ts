/**
 * Soft binding of videos (issue 20): a video output is recorded with its sampled frames (PDQ a second plus
 * scene cuts), in its own ledger entry and in output_video_frames; its manifest carries them as a
 * `c2pa.soft-binding` assertion with a timespan per frame; and a copy whose manifest is gone (re-encoded at
 * another bitrate, or cut to 10 seconds) is led back by `/v1/verify` to the output and the stretch of it
 * the copy covers.
 */
import { writeFileSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvent } from '../../src/audit/log-store.ts';
import { outputFingerprints, outputVideoFrames } from '../../src/fingerprints/tables.ts';
import { fingerprintVideo } from '../../src/media/video-fingerprint.ts';
import { readSoftBindings, readVideoSoftBinding, SOFT_BINDING_ALG } from '../../src/outputs/manifest.ts';
import { signOutput } from '../../src/outputs/sign.ts';
import { outputs } from '../../src/outputs/tables.ts';
import { RECOVERY_THRESHOLD } from '../../src/outputs/verify.ts';
import { createC2paWasmEngine } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import type { ManifestEngine } from '../../src/provenance/c2pa/types.ts';
import { verifyState } from '../../src/state-projections.ts';
import { makeMp4 } from '../fixtures/media.ts';
import { cut, reencoded, twoScenes, unrelated, videoFolder } from '../fixtures/videos.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Frame = { atMs: number; value: string; quality: number };
type Candidate = {
  outputId: string;
  distance: number;
  threshold: number;
  matched: number;
  of: number;
  offset: number;
  range: { start: number; end: number };
  ledger: { match: string; outputId: string; signedSha256: string };
  lineage: { outputId: string } | null;
  standing: { checkpoint: { id: string; status: string } };
  proof: { index: number };
};
type Verification = {
  verdict: string;
  detail: string;
  sha256: string;
  c2pa: unknown;
  ledger: unknown;
  lineage: unknown;
  standing: unknown;
  proof: unknown;
  recovery?: { videoFingerprint: { algorithm: string; frames: number; usable: number; durationMs: number }; threshold: number; statement: string; candidates: Candidate[] };
};

describe.skipIf(databaseUnavailable())('soft binding: videos recovered from their frames', () => {
  let svc: TestService;
  let legal: string;
  let generator: string;
  let distributor: string;
  let checkpointId: string;
  const videos = videoFolder();
  let signed: { id: string; bytes: Uint8Array };

  beforeAll(async () => {
    svc = await startTestService({ OUTPUT_SOFT_BINDING: 'pdq' });
    let vendor: string;
    [legal, vendor] = await Promise.all([svc.token('legal'), svc.token('vendor')]);
    [generator, distributor] = await Promise.all([svc.token('generator'), svc.token('distributor')]);
    checkpointId = (await activeCheckpoint(svc, legal, vendor, 1)).checkpoint.id;
    videos.make(twoScenes('{original.mp4}'));
    videos.make(unrelated('{unrelated.mp4}'));
    signed = await sign(videos.read('original.mp4'));
    // The copies are made from the signed file, as a platform would receive it.
    writeFileSync(videos.at('signed.mp4'), signed.bytes);
    videos.make(reencoded(videos.at('signed.mp4'), '{bitrate.mp4}'));
    videos.make(cut(videos.at('signed.mp4'), '{cut.mp4}', 6, 10));
  }, 60_000);
  afterAll(async () => {
    await svc?.close();
    videos.remove();
  });

  async function sign(bytes: Uint8Array) {
    const form = new FormData();
    form.set('file', new File([bytes], 'shot.mp4', { type: 'video/mp4' }));
    form.set('checkpointId', checkpointId);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status, await res.clone().text()).toBe(200);
    return { id: res.headers.get('clearframe-output-id')!, bytes: new Uint8Array(await res.arrayBuffer()) };
  }
  async function verify(bytes: Uint8Array) {
    const res = await svc.call('POST', '/v1/verify', { token: distributor, body: bytes, headers: { 'content-type': 'video/mp4' } });
    expect(res.status).toBe(200);
    return (await res.json()) as Verification;
  }
  async function entryOf(outputId: string) {
    const db = svc.runtime.ctx.database.db;
    const [row] = await db.select({ auditIndex: outputs.auditIndex }).from(outputs).where(eq(outputs.id, outputId));
    return (await readEvent(db, row!.auditIndex))!;
  }

  it('records the video’s sampled frames in its own entry and beside its row, none as a still image’s', async () => {
    const fp = (await fingerprintVideo(signed.bytes))!;
    const content = (await entryOf(signed.id)).content as {
      fingerprint: unknown;
      videoFingerprint: { algorithm: string; sampleSeconds: number; durationMs: number; frames: Frame[] };
    };
    expect(content.fingerprint).toBeNull();
    const stated = content.videoFingerprint;
    expect(stated).toMatchObject({ algorithm: 'pdq', sampleSeconds: 1 });
    expect(stated.durationMs).toBeGreaterThanOrEqual(23_500);
    // The signed file has the frames of the file as generated: a manifest adds no pixels.
    expect(stated.frames).toEqual(fp.frames.map((f) => ({ atMs: Math.round(f.at * 1000), value: f.value, quality: f.quality })));
    expect(stated.frames.length).toBeGreaterThanOrEqual(24);
    // A frame every second, and the cut at 12.5 s.
    expect(stated.frames.some((f) => Math.abs(f.atMs - 12_500) <= 150)).toBe(true);
    const db = svc.runtime.ctx.database.db;
    const rows = await db.select().from(outputVideoFrames).where(eq(outputVideoFrames.outputId, signed.id)).orderBy(outputVideoFrames.atMs);
    expect(rows.map((r) => ({ atMs: r.atMs, value: r.value, quality: r.quality }))).toEqual(stated.frames);
    expect(await db.select().from(outputFingerprints).where(eq(outputFingerprints.outputId, signed.id))).toEqual([]);
    // audit verify replays them.
    const state = await verifyState(db);
    expect(state.problem).toBeUndefined();
    expect(state.rows.output_video_frames).toBe(rows.length);
  });

  it('puts the frames in the manifest as a c2pa.soft-binding assertion with a timespan each, that c2pa-rs reads back', async () => {
    const engine = createC2paWasmEngine({ trustAnchorsPem: svc.runtime.ctx.keyring.c2pa.trustAnchorsPem });
    const read = await engine.read({ bytes: signed.bytes, mimeType: 'video/mp4' });
    if (read.kind !== 'manifest') throw new Error('no manifest');
    expect(read.trusted && read.intact, read.failureCodes.join()).toBe(true);
    const assertion = read.assertions.find((a) => a.label.startsWith('c2pa.soft-binding'));
    const data = assertion?.data as { alg: string; blocks: { scope: { timespan: { start: number; end: number } }; value: string }[] };
    expect(data.alg).toBe(SOFT_BINDING_ALG);
    const frames = ((await entryOf(signed.id)).content as { videoFingerprint: { durationMs: number; frames: Frame[] } }).videoFingerprint;
    expect(data.blocks).toEqual(frames.frames.map((f, i) => ({ scope: { timespan: { start: f.atMs, end: frames.frames[i + 1]?.atMs ?? frames.durationMs } }, value: f.value })));
    expect(readVideoSoftBinding(read)).toEqual(data.blocks.map((b) => ({ ...b.scope.timespan, value: b.value })));
    // Not a still image's soft binding.
    expect(readSoftBindings(read)).toBeNull();
  });

  it('leads a copy re-encoded at another bitrate back to the output, over the whole of it', async () => {
    const copy = videos.read('bitrate.mp4');
    const v = await verify(copy);
    expect(v.verdict, v.detail).toBe('recovered');
    expect(v.c2pa).toBeNull();
    expect(v.detail).toContain('differ from the signed ones');
    const [c, ...others] = v.recovery!.candidates;
    expect(others).toEqual([]);
    expect(c!.outputId).toBe(signed.id);
    expect(c!.threshold).toBe(RECOVERY_THRESHOLD);
    expect(c!.distance).toBeLessThanOrEqual(RECOVERY_THRESHOLD);
    expect(c!.matched / c!.of).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(c!.offset)).toBeLessThan(200);
    expect(c!.range.start).toBe(0);
    expect(c!.range.end).toBeGreaterThanOrEqual(23_000);
    expect(c!.range.end).toBeLessThanOrEqual(24_500);
    expect(c!.ledger).toMatchObject({ match: 'fingerprint', outputId: signed.id });
    expect(c!.ledger.signedSha256).not.toBe(v.sha256);
    expect(c!.lineage?.outputId).toBe(signed.id);
    expect(c!.standing.checkpoint).toMatchObject({ id: checkpointId, status: 'active' });
    // The answer beside the verdict is the candidate's, as for a still image.
    expect([v.ledger, v.lineage, v.standing, v.proof]).toEqual([c!.ledger, c!.lineage, c!.standing, c!.proof]);
    expect(v.recovery!.videoFingerprint).toMatchObject({ algorithm: 'pdq' });
    expect(v.recovery!.videoFingerprint.usable).toBe(c!.of);
  });

  it('leads a 10-second cut back to the stretch of the output it came from', async () => {
    const v = await verify(videos.read('cut.mp4'));
    expect(v.verdict, v.detail).toBe('recovered');
    const c = v.recovery!.candidates[0]!;
    expect(c.outputId).toBe(signed.id);
    expect(Math.abs(c.offset - 6000)).toBeLessThan(300);
    expect(Math.abs(c.range.start - 6000)).toBeLessThanOrEqual(500);
    expect(Math.abs(c.range.end - 16_000)).toBeLessThanOrEqual(1000);
  });

  it('answers no-manifest for an unrelated video, and judges the signed file by its manifest only', async () => {
    const other = await verify(videos.read('unrelated.mp4'));
    expect(other.verdict).toBe('no-manifest');
    expect(other.ledger).toBeNull();
    expect(other).not.toHaveProperty('recovery');
    const exact = await verify(signed.bytes);
    expect(exact.verdict).toBe('verified');
    expect(exact.ledger).toMatchObject({ match: 'exact', outputId: signed.id });
    expect(exact).not.toHaveProperty('recovery');
  });

  it('records the frames also when the output is made again under the lock (the log moved on mid-sign)', async () => {
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
      { bytes: videos.read('unrelated.mp4'), mimeType: 'video/mp4', title: 't', checkpointId, sourceAssetIds: [] },
    );
    expect(landed).toBe(true);
    const stated = ((await entryOf(output.id)).content as { videoFingerprint: { frames: Frame[] } }).videoFingerprint.frames;
    const fp = (await fingerprintVideo(bytes))!;
    expect(stated).toEqual(fp.frames.map((f) => ({ atMs: Math.round(f.at * 1000), value: f.value, quality: f.quality })));
    const rows = await ctx.database.db.select().from(outputVideoFrames).where(eq(outputVideoFrames.outputId, output.id)).orderBy(outputVideoFrames.atMs);
    expect(rows.map((r) => ({ atMs: r.atMs, value: r.value, quality: r.quality }))).toEqual(stated);
    expect(readVideoSoftBinding(await ctx.c2pa.read({ bytes, mimeType: 'video/mp4' }))?.map((f) => f.value)).toEqual(stated.map((f) => f.value));
    expect((await verifyState(ctx.database.db)).problem).toBeUndefined();
    // And the unrelated video, now signed, is recovered from a copy of its own.
    writeFileSync(videos.at('signed-life.mp4'), bytes);
    videos.make(reencoded(videos.at('signed-life.mp4'), '{life-copy.mp4}', '400k'));
    const v = await verify(videos.read('life-copy.mp4'));
    expect(v.verdict, v.detail).toBe('recovered');
    expect(v.recovery!.candidates.map((c) => c.outputId)).toEqual([output.id]);
  }, 30_000);

  it('signs a video ffmpeg cannot decode as it would without soft binding (no frames, no assertion), and verifies it no-manifest', async () => {
    // A well-formed MP4 whose sample entry names a codec no decoder knows: c2pa-rs signs the boxes, ffmpeg decodes nothing.
    const bytes = Buffer.from(makeMp4({ frames: 20 }));
    bytes.write('xxxx', bytes.indexOf('stsd') + 4 + 8 + 4);
    const out = await sign(new Uint8Array(bytes));
    const content = (await entryOf(out.id)).content as Record<string, unknown>;
    expect(content.fingerprint).toBeNull();
    expect(content).not.toHaveProperty('videoFingerprint');
    expect(await svc.runtime.ctx.database.db.select().from(outputVideoFrames).where(eq(outputVideoFrames.outputId, out.id))).toEqual([]);
    const read = await svc.runtime.ctx.c2pa.read({ bytes: out.bytes, mimeType: 'video/mp4' });
    if (read.kind !== 'manifest') throw new Error('no manifest');
    expect(read.assertions.some((a) => a.label.startsWith('c2pa.soft-binding'))).toBe(false);
    // And the same file without a manifest, verified: nothing to match it on.
    expect((await verify(new Uint8Array(bytes))).verdict).toBe('no-manifest');
  });
});
