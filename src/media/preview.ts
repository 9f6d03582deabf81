/**
 * The small picture of an uploaded image that the console shows beside its hash: decoded by libvips (sharp,
 * its binary shipped inside the npm package), turned upright, fitted inside PREVIEW_EDGE pixels and written
 * as a JPEG with no metadata, so no EXIF, XMP or C2PA of the original travels with it. A file libvips cannot
 * decode (video, PSD, a damaged image) has no preview; registration goes on without one.
 */
import sharp from 'sharp';

export const PREVIEW_EDGE = 320;
/** Larger images are refused by libvips before decoding (a decompression bomb costs nothing here). */
const MAX_INPUT_PIXELS = 100_000_000;
const DECODABLE = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif', 'image/heic', 'image/heif']);

export type Preview = { mediaType: 'image/jpeg'; bytes: Uint8Array; width: number; height: number };

/** Whether a file of this type can have a preview at all. */
export function previewable(mediaType: string): boolean {
  return DECODABLE.has(mediaType.split(';')[0]!.trim().toLowerCase());
}

export async function renderPreview(bytes: Uint8Array, mediaType: string): Promise<Preview | null> {
  if (!previewable(mediaType)) return null;
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', animated: false })
      .rotate()
      .resize(PREVIEW_EDGE, PREVIEW_EDGE, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 78, mozjpeg: true })
      .toBuffer({ resolveWithObject: true });
    return { mediaType: 'image/jpeg', bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch {
    // Undecodable here is not a bad upload: the hash and the terms are what registration is for.
    return null;
  }
}
