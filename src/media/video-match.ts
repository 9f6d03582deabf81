/**
 * Whether one video's sampled frames come from another's (pure: fingerprints in, verdict out). A copy
 * re-encoded at another bitrate has the same frames at the same times, a cut copy a stretch of them shifted
 * by where the cut began: each query frame is matched to its nearest registered frame by Hamming distance,
 * and the copy matches when most of its frames do, at one consistent time offset.
 */
import { hammingDistance } from './pdq.ts';
import type { VideoFrameFingerprint } from './video-fingerprint.ts';

/** Frames of too little detail (PDQ quality below this) are left out: a black frame matches every black frame. */
export const MIN_FRAME_QUALITY = 50;
/** The share of the query's usable frames that must match. */
export const MIN_MATCHED_SHARE = 0.5;
/** Matched frames whose offset differs from the median offset by more than this do not count (seconds). */
const OFFSET_SLACK = 1.5;

export type VideoMatch = {
  matched: number;
  of: number;
  /** Where in the registered video the query starts (seconds): 0 for a re-encode, the cut's start for a cut. */
  offset: number;
  /** The median distance of the matched frames. */
  distance: number;
  /** The registered time range the query covers. */
  range: { from: number; to: number };
};

export function matchVideo(registered: VideoFrameFingerprint[], query: VideoFrameFingerprint[], threshold: number): VideoMatch | null {
  const usable = query.filter((f) => f.quality >= MIN_FRAME_QUALITY);
  const candidates = registered.filter((f) => f.quality >= MIN_FRAME_QUALITY);
  if (usable.length === 0 || candidates.length === 0) return null;
  const pairs: { offset: number; distance: number; at: number }[] = [];
  for (const q of usable) {
    let best: { d: number; at: number } | null = null;
    for (const r of candidates) {
      const d = hammingDistance(q.value, r.value);
      if (d <= threshold && (best === null || d < best.d)) best = { d, at: r.at };
    }
    if (best) pairs.push({ offset: best.at - q.at, distance: best.d, at: best.at });
  }
  if (pairs.length === 0) return null;
  const offset = median(pairs.map((p) => p.offset));
  const consistent = pairs.filter((p) => Math.abs(p.offset - offset) <= OFFSET_SLACK);
  if (consistent.length < MIN_MATCHED_SHARE * usable.length) return null;
  return {
    matched: consistent.length,
    of: usable.length,
    offset,
    distance: median(consistent.map((p) => p.distance)),
    range: { from: Math.min(...consistent.map((p) => p.at)), to: Math.max(...consistent.map((p) => p.at)) },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}
