/**
 * The perceptual fingerprint of an image file: decoded by libvips (sharp), then hashed by PDQ (`pdq.ts`).
 *
 * Decoding follows Meta's reference tool where it matters for the bits: full-size 8-bit pixels (the tool's
 * 512 x 512 step for larger images is in `pdq.ts`), grey images hashed from their grey values. Two choices
 * differ from the tool, both for recovery of re-encoded files: the image
 * is turned upright by its EXIF orientation first (a platform that re-encodes bakes the orientation into the
 * pixels and drops the tag), and transparency is flattened onto white (what a viewer shows).
 *
 * A large JPEG or WebP is decoded smaller (libvips' shrink-on-load: libjpeg's DCT scaling, libwebp's
 * scaler) to 512 px on its short side, then resized by PDQ's own 512 x 512 step: decoding every pixel of
 * a photograph only for PDQ to keep 512 x 512 of them costs more than the hash. sharp shrinks on load only
 * when the shrink is at least one factor more than the libjpeg scale it uses (its guard against libjpeg's
 * rounding), so this applies from 3 x 512 px on the short side; smaller images are decoded whole, and
 * hash exactly as the reference. The bits of a shrunk image may differ from the reference's by a few
 * (a different resampling of the same picture, within Meta's tolerance for decoders; see the tests).
 */
import sharp from 'sharp';
import { COLOUR_LAYOUT_ALGORITHM, colourLayoutFromPixels } from './colour-layout.ts';
import { type PdqPixels, pdqFromPixels } from './pdq.ts';

export const PDQ_ALGORITHM = 'pdq';
/** PDQ of the picture's centre: CENTRE_MARGIN of each side taken off, what a border crop keeps. */
export const PDQ_CENTRE_ALGORITHM = 'pdq-centre';
/**
 * The share of the width (and of the height) taken off each side for the centre fingerprint: 2.5 %, so a
 * 5 % border crop (2.5 % a side) leaves exactly the centre, and smaller crops leave a little more of it.
 */
export const CENTRE_MARGIN = 0.025;
/** As for previews: larger images are refused by libvips before decoding. */
const MAX_INPUT_PIXELS = 100_000_000;
/** The short side a large image is decoded at: PDQ's own intermediate size. */
const SHRINK_TO = 512;
/** The short side from which shrink-on-load happens at all (see above). */
export const SHRINK_ON_LOAD_FROM = 3 * SHRINK_TO;
const SHRINKABLE = new Set(['jpeg', 'webp']);

export type DecodeOptions = {
  /** Decode a large JPEG or WebP smaller (default true); false decodes every pixel, as the reference tool. */
  shrinkOnLoad?: boolean;
};

export type Fingerprint = {
  algorithm: typeof PDQ_ALGORITHM;
  /** 64 hex digits. */
  value: string;
  /** 0..100, PDQ's own measure of how much there is to recognise. */
  quality: number;
  /** The decoded image's size, upright, before any downsampling. */
  width: number;
  height: number;
  /** The colour layout of the same pixels (64 hex digits, `colour-layout.ts`), which a flat picture is matched on too. */
  colourLayout: string;
};

/** What an output is fingerprinted with at signing: its PDQ, the PDQ of its centre, and its colour layout. */
export type OutputFingerprints = {
  whole: { algorithm: typeof PDQ_ALGORITHM; value: string; quality: number };
  centre: { algorithm: typeof PDQ_CENTRE_ALGORITHM; value: string; quality: number };
  /** Its quality is the whole picture's PDQ quality: whether the layout is consulted depends on it. */
  colourLayout: { algorithm: typeof COLOUR_LAYOUT_ALGORITHM; value: string; quality: number };
};

/** Decoded pixels as PDQ takes them; null when libvips cannot decode the file (video, PSD, damage). */
export async function decodeForPdq(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<{ pixels: PdqPixels; width: number; height: number } | null> {
  try {
    const image = sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', animated: false }).rotate();
    const meta = await image.metadata();
    const grey = meta.space === 'b-w' || meta.space === 'grey16';
    // Upright size: orientations 5..8 swap the sides.
    const swap = (meta.orientation ?? 1) >= 5;
    const width = swap ? meta.height : meta.width;
    const height = swap ? meta.width : meta.height;
    if ((opts.shrinkOnLoad ?? true) && SHRINKABLE.has(meta.format ?? '') && Math.min(width, height) >= SHRINK_ON_LOAD_FROM) {
      // Short side to 512 (fit: outside), and only the residue after libjpeg's scaling is resampled.
      image.resize(SHRINK_TO, SHRINK_TO, { fit: 'outside', fastShrinkOnLoad: true });
    }
    const pipeline = image.flatten({ background: '#ffffff' }).toColourspace(grey ? 'b-w' : 'srgb');
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const channels = info.channels;
    if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) return null;
    return { pixels: { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }, width, height };
  } catch {
    return null;
  }
}

export async function fingerprintImage(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<Fingerprint | null> {
  const decoded = await decodeForPdq(bytes, opts);
  if (!decoded) return null;
  const { hash, quality } = pdqFromPixels(decoded.pixels);
  return { algorithm: PDQ_ALGORITHM, value: hash, quality, width: decoded.width, height: decoded.height, colourLayout: colourLayoutFromPixels(decoded.pixels) };
}

/** The fingerprints an output is recorded with, from one decode; null when libvips cannot decode the file. */
export async function fingerprintOutput(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<OutputFingerprints | null> {
  const decoded = await decodeForPdq(bytes, opts);
  if (!decoded) return null;
  const whole = pdqFromPixels(decoded.pixels);
  const centre = pdqFromPixels(centrePixels(decoded.pixels));
  return {
    whole: { algorithm: PDQ_ALGORITHM, value: whole.hash, quality: whole.quality },
    centre: { algorithm: PDQ_CENTRE_ALGORITHM, value: centre.hash, quality: centre.quality },
    colourLayout: { algorithm: COLOUR_LAYOUT_ALGORITHM, value: colourLayoutFromPixels(decoded.pixels), quality: whole.quality },
  };
}

/** The middle of a picture: `margin` of each dimension taken off every side (at least one pixel kept). */
export function centrePixels(p: PdqPixels, margin = CENTRE_MARGIN): PdqPixels {
  const dx = Math.min(Math.round(p.width * margin), (p.width - 1) >> 1);
  const dy = Math.min(Math.round(p.height * margin), (p.height - 1) >> 1);
  const width = p.width - 2 * dx;
  const height = p.height - 2 * dy;
  const data = new Uint8Array(width * height * p.channels);
  for (let y = 0; y < height; y++) {
    const from = ((y + dy) * p.width + dx) * p.channels;
    data.set(p.data.subarray(from, from + width * p.channels), y * width * p.channels);
  }
  return { width, height, channels: p.channels, data };
}
