/**
 * MIME handling and magic-byte sniffing. c2pa-rs picks its parser from the
 * format string but reports garbage inconsistently (`UnsupportedType`,
 * `JumbfNotFound`…), so the adapter checks the container signature itself and
 * rejects bytes that are not what they claim to be before calling c2pa-rs.
 */
import { SUPPORTED_MIME_TYPES, type SupportedMimeType } from './types.ts';

const ALIASES: Record<string, SupportedMimeType> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'video/mov': 'video/quicktime',
};

/** Lower-cased, parameters stripped, aliases resolved; undefined if unsupported. */
export function normalizeMimeType(mimeType: string): SupportedMimeType | undefined {
  const base = (mimeType.split(';')[0] ?? '').trim().toLowerCase();
  const resolved = ALIASES[base] ?? base;
  return (SUPPORTED_MIME_TYPES as readonly string[]).includes(resolved) ? (resolved as SupportedMimeType) : undefined;
}

const ascii = (b: Uint8Array, start: number, end: number) => String.fromCharCode(...b.subarray(start, Math.min(end, b.length)));

const startsWith = (b: Uint8Array, sig: readonly number[], offset = 0) => b.length >= offset + sig.length && sig.every((v, i) => b[offset + i] === v);

type Family = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'bmff';

const FAMILY: Record<SupportedMimeType, Family> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/tiff': 'tiff',
  'image/avif': 'bmff',
  'image/heic': 'bmff',
  'image/heif': 'bmff',
  'video/mp4': 'bmff',
  'video/quicktime': 'bmff',
};

/** Container family detected from magic bytes, or undefined. */
export function sniffFamily(bytes: Uint8Array): Family | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  // ISO BMFF / QuickTime: first box is ftyp (or a QuickTime atom for old MOVs).
  const firstBox = ascii(bytes, 4, 8);
  if (bytes.length >= 8 && ['ftyp', 'moov', 'mdat', 'wide', 'free', 'skip'].includes(firstBox)) return 'bmff';
  return undefined;
}

/** True when the bytes' container matches the declared (supported) MIME type. */
export function matchesMimeType(bytes: Uint8Array, mimeType: SupportedMimeType): boolean {
  return sniffFamily(bytes) === FAMILY[mimeType];
}

const FAMILY_TYPE: Record<Family, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', tiff: 'image/tiff', bmff: 'video/mp4' };

/** The supported type of a file: its declared type when that is supported, else what its magic bytes say. */
export function resolveMimeType(declared: string | undefined, bytes: Uint8Array): SupportedMimeType | undefined {
  const fromDeclared = declared ? normalizeMimeType(declared) : undefined;
  if (fromDeclared) return fromDeclared;
  const family = sniffFamily(bytes);
  return family ? normalizeMimeType(FAMILY_TYPE[family]) : undefined;
}

/**
 * Why the bytes do not decode as their container, or undefined when the structure holds: c2pa-rs signs a
 * truncated JPEG or MP4 as it is (it hashes what is there), so the adapter checks the container's frame
 * before it signs. JPEG: its segments lead to the scan, and the scan is closed by an EOI marker; ISO BMFF:
 * the top-level boxes tile the file exactly; PNG: the chunks lead to IEND. Other containers: c2pa-rs' parse.
 */
export function structureProblem(bytes: Uint8Array, mimeType: SupportedMimeType): string | undefined {
  const family = FAMILY[mimeType];
  if (family === 'jpeg') return jpegProblem(bytes);
  if (family === 'bmff') return bmffProblem(bytes);
  if (family === 'png') return pngProblem(bytes);
  return undefined;
}

function jpegProblem(b: Uint8Array): string | undefined {
  let at = 2;
  for (;;) {
    if (at + 4 > b.length) return 'the JPEG ends before its image data';
    if (b[at] !== 0xff) return `no JPEG marker at byte ${at}`;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = (b[at + 2]! << 8) | b[at + 3]!;
    if (length < 2 || at + 2 + length > b.length) return `the JPEG segment at byte ${at} runs past the end of the file`;
    at += 2 + length;
    if (marker === 0xda) break;
  }
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return buf.lastIndexOf(Buffer.from([0xff, 0xd9])) >= at ? undefined : 'the JPEG image data is cut off (no end-of-image marker)';
}

function bmffProblem(b: Uint8Array): string | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 0;
  while (at < b.length) {
    if (at + 8 > b.length) {
      // A few zero bytes of padding after the last box (some writers leave them) are not a cut box.
      if (b.subarray(at).every((v) => v === 0)) return undefined;
      return `the file ends inside a box header at byte ${at}`;
    }
    let size = dv.getUint32(at);
    if (size === 1) {
      if (at + 16 > b.length) return `the file ends inside a box header at byte ${at}`;
      size = Number(dv.getBigUint64(at + 8));
    } else if (size === 0) size = b.length - at;
    if (size < 8) return `a box at byte ${at} has an impossible size`;
    if (at + size > b.length) return `the '${ascii(b, at + 4, at + 8)}' box at byte ${at} runs past the end of the file (cut off)`;
    at += size;
  }
  return undefined;
}

function pngProblem(b: Uint8Array): string | undefined {
  let at = 8;
  for (;;) {
    if (at + 12 > b.length) return 'the PNG ends before its IEND chunk (cut off)';
    const length = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
    if (at + 12 + length > b.length) return `the PNG chunk at byte ${at} runs past the end of the file (cut off)`;
    if (ascii(b, at + 4, at + 8) === 'IEND') return undefined;
    at += 12 + length;
  }
}
