/**
 * Video fingerprints: PDQ over frames sampled once a second plus scene cuts, decoded by the packaged ffmpeg;
 * a copy at another bitrate and a 10-second cut are matched back to the original, an unrelated video is not.
 * The MP4s are made here with the same packaged ffmpeg (H.264, as a generator's encoder would write).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hammingDistance } from '../../src/media/pdq.ts';
import { fingerprintVideo, type VideoFingerprint } from '../../src/media/video-fingerprint.ts';
import { matchVideo } from '../../src/media/video-match.ts';
import { cut, reencoded, twoScenes, unrelated, videoFolder } from '../fixtures/videos.ts';

const THRESHOLD = 31;
const videos = videoFolder();
const mp4 = (name: string) => videos.read(name);

describe('video fingerprints', () => {
  let original: VideoFingerprint;
  beforeAll(() => {
    videos.make(twoScenes('{original.mp4}'));
    videos.make(reencoded('{original.mp4}', '{bitrate.mp4}'));
    videos.make(cut('{original.mp4}', '{cut.mp4}', 6, 10));
    videos.make(unrelated('{unrelated.mp4}'));
  }, 60_000);
  afterAll(() => videos.remove());

  it('samples a frame a second and the frame where the scene cuts', async () => {
    original = (await fingerprintVideo(mp4('original.mp4')))!;
    const times = original.frames.map((f) => f.at);
    expect(times[0]).toBe(0);
    // Never more than a second without a sample (counted from the last sample, a cut's included)...
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, times.join(',')).toBeLessThanOrEqual(1.05);
    expect(times.at(-1)).toBeGreaterThan(22.5);
    // ...and the cut at 12.5 s, between two samples, sampled for itself.
    expect(
      times.some((t) => Math.abs(t - 12.5) < 0.15),
      times.join(','),
    ).toBe(true);
    expect(original.duration).toBeGreaterThan(23.5);
  }, 30_000);

  it('matches a copy at another bitrate, at offset 0', async () => {
    const copy = (await fingerprintVideo(mp4('bitrate.mp4')))!;
    const m = matchVideo(original.frames, copy.frames, THRESHOLD);
    expect(m, JSON.stringify(m)).not.toBeNull();
    expect(m!.matched / m!.of).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(m!.offset)).toBeLessThan(0.2);
  }, 30_000);

  it('matches a 10-second cut to the stretch it came from', async () => {
    const cut = (await fingerprintVideo(mp4('cut.mp4')))!;
    const m = matchVideo(original.frames, cut.frames, THRESHOLD);
    expect(m, JSON.stringify(m)).not.toBeNull();
    expect(Math.abs(m!.offset - 6)).toBeLessThan(0.3);
    expect(m!.range.from).toBeGreaterThanOrEqual(5.5);
    expect(m!.range.to).toBeLessThanOrEqual(16.5);
  }, 30_000);

  it('does not match an unrelated video, nor a file that is not a video', async () => {
    const other = (await fingerprintVideo(mp4('unrelated.mp4')))!;
    expect(matchVideo(original.frames, other.frames, THRESHOLD)).toBeNull();
    const nearest = Math.min(...other.frames.flatMap((a) => original.frames.map((b) => hammingDistance(a.value, b.value))));
    expect(nearest).toBeGreaterThan(THRESHOLD);
    expect(await fingerprintVideo(new TextEncoder().encode('not a video'))).toBeNull();
  }, 30_000);

  it('gives no fingerprint for a video that holds ffmpeg past the time limit, and decodes one per core at a time', async () => {
    expect(await fingerprintVideo(mp4('original.mp4'), { timeoutMs: 1 })).toBeNull();
    // Many at once: every one answered as alone (they queue for a decoder, none is refused).
    const many = await Promise.all(Array.from({ length: 6 }, () => fingerprintVideo(mp4('cut.mp4'))));
    const alone = (await fingerprintVideo(mp4('cut.mp4')))!;
    for (const f of many) expect(f).toEqual(alone);
  }, 60_000);
});
