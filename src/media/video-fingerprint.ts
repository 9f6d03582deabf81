/**
 * The perceptual fingerprint of a video: PDQ (`pdq.ts`) over frames sampled at a fixed rate plus the frames
 * where a scene cuts, decoded by the ffmpeg build that ships inside an npm package (@ffmpeg-installer, no
 * download at install). Each frame is scaled to a fixed square before hashing, so a copy at another size or
 * bitrate is sampled and hashed the same way; the time of each frame is kept, so that a cut copy can be
 * matched to the stretch of the original it came from (`video-match.ts`).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { pdqFromPixels } from './pdq.ts';

/** A frame every second... */
export const VIDEO_SAMPLE_SECONDS = 1;
/** ...and every frame whose scene-change score (ffmpeg's `scene`, 0..1) is above this. */
export const VIDEO_SCENE_CUT = 0.3;
/** Frames are hashed at this square size: past PDQ's 64 x 64 cells with room for its tent filter. */
const FRAME_SIDE = 256;
/** A bound on the frames of one video, so a long file cannot hold the decoder for ever. */
export const MAX_FRAMES = 3600;
/** And on its time: a file that keeps ffmpeg longer gets no fingerprint (signed without, or not recovered). */
export const VIDEO_FINGERPRINT_TIMEOUT_MS = 120_000;
/** ffmpeg processes at once: one per core, so uploads of videos queue instead of starving the service. */
const DECODERS = Math.max(1, availableParallelism());
/** What is kept of ffmpeg's log (its frame lines are ~200 bytes each, MAX_FRAMES of them). */
const MAX_LOG_BYTES = 4 * 1024 * 1024;

export type VideoFrameFingerprint = {
  /** Seconds from the start of the video (the frame's presentation time). */
  at: number;
  /** 64 hex digits. */
  value: string;
  quality: number;
};

export type VideoFingerprint = { algorithm: 'pdq'; frames: VideoFrameFingerprint[]; duration: number };

export function ffmpegPath(): string {
  return ffmpegInstaller.path;
}

/** The sampled frames' fingerprints, or null when ffmpeg finds no video stream it can decode. */
export async function fingerprintVideo(bytes: Uint8Array, opts: { timeoutMs?: number } = {}): Promise<VideoFingerprint | null> {
  await decoderSlot();
  try {
    return await fingerprintWithFfmpeg(bytes, opts.timeoutMs ?? VIDEO_FINGERPRINT_TIMEOUT_MS);
  } finally {
    releaseDecoderSlot();
  }
}

let decoding = 0;
const waiting: (() => void)[] = [];
function decoderSlot(): Promise<void> {
  if (decoding < DECODERS) {
    decoding++;
    return Promise.resolve();
  }
  return new Promise((resolve) => waiting.push(resolve));
}
function releaseDecoderSlot(): void {
  const next = waiting.shift();
  if (next) next();
  else decoding--;
}

async function fingerprintWithFfmpeg(bytes: Uint8Array, timeoutMs: number): Promise<VideoFingerprint | null> {
  // MP4 needs a seekable input (its index may come last): a private temporary file.
  const dir = await mkdtemp(path.join(tmpdir(), 'clearframe-video-'));
  try {
    const file = path.join(dir, 'input');
    await writeFile(file, bytes);
    const select = `select='eq(n\\,0)+gte(t-prev_selected_t\\,${VIDEO_SAMPLE_SECONDS})+gt(scene\\,${VIDEO_SCENE_CUT})'`;
    const filter = `${select},showinfo,scale=${FRAME_SIDE}:${FRAME_SIDE},format=rgb24`;
    const args = ['-hide_banner', '-nostdin', '-i', file, '-map', '0:v:0', '-vf', filter, '-vsync', 'vfr', '-frames:v', String(MAX_FRAMES), '-f', 'rawvideo', 'pipe:1'];
    // Each frame is hashed as it arrives, so only one frame's pixels are held (an hour's would be ~700 MB).
    const hashes: { hash: string; quality: number }[] = [];
    const { stderr, code } = await run(ffmpegPath(), args, FRAME_SIDE * FRAME_SIDE * 3, timeoutMs, (data) => {
      const { hash, quality } = pdqFromPixels({ width: FRAME_SIDE, height: FRAME_SIDE, channels: 3, data });
      hashes.push({ hash, quality });
    });
    if (code !== 0) return null;
    const times = [...stderr.matchAll(/\] n:\s*\d+ pts:\s*-?\d+ pts_time:(-?[0-9.]+)/g)].map((m) => Number(m[1]));
    const count = Math.min(times.length, hashes.length);
    if (count === 0) return null;
    const frames: VideoFrameFingerprint[] = [];
    for (let i = 0; i < count; i++) frames.push({ at: times[i]!, value: hashes[i]!.hash, quality: hashes[i]!.quality });
    const duration = Number(
      /Duration: (\d+):(\d+):([0-9.]+)/
        .exec(stderr)
        ?.slice(1)
        .reduce((s, x, k) => s + Number(x) * [3600, 60, 1][k]!, 0) ?? frames.at(-1)!.at,
    );
    return { algorithm: 'pdq', frames, duration };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `cmd`, handing its output on in records of `recordBytes` as they complete (a partial last one is dropped). */
function run(cmd: string, args: string[], recordBytes: number, timeoutMs: number, onRecord: (data: Uint8Array) => void): Promise<{ stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Too long: killed, and its exit code (null) says it gave no fingerprint.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    timer.unref();
    let logged = 0;
    const record = new Uint8Array(recordBytes);
    let filled = 0;
    let failed: unknown;
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => {
      if (failed) return;
      try {
        for (let at = 0; at < b.byteLength; ) {
          const n = Math.min(recordBytes - filled, b.byteLength - at);
          record.set(b.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === recordBytes) {
            onRecord(record);
            filled = 0;
          }
        }
      } catch (e) {
        failed = e;
        child.kill();
      }
    });
    child.stderr.on('data', (b: Buffer) => {
      if (logged >= MAX_LOG_BYTES) return;
      err.push(b);
      logged += b.byteLength;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failed) reject(failed);
      else resolve({ stderr: Buffer.concat(err).toString('utf8'), code });
    });
  });
}
