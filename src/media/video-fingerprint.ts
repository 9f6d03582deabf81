/**
 * The perceptual fingerprint of a video: PDQ (`pdq.ts`) over frames sampled at a fixed rate plus the frames
 * where a scene cuts, decoded by the ffmpeg build that ships inside an npm package (@ffmpeg-installer, no
 * download at install). Each frame is scaled to a fixed square before hashing, so a copy at another size or
 * bitrate is sampled and hashed the same way; the time of each frame is kept, so that a cut copy can be
 * matched to the stretch of the original it came from (`video-match.ts`).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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
export async function fingerprintVideo(bytes: Uint8Array): Promise<VideoFingerprint | null> {
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
    const { stderr, code } = await run(ffmpegPath(), args, FRAME_SIDE * FRAME_SIDE * 3, (data) => {
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
function run(cmd: string, args: string[], recordBytes: number, onRecord: (data: Uint8Array) => void): Promise<{ stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (failed) reject(failed);
      else resolve({ stderr: Buffer.concat(err).toString('utf8'), code });
    });
  });
}
