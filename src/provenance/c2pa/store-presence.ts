/**
 * Whether a file carries an embedded C2PA manifest store, whatever c2pa-rs makes of it. c2pa-rs answers
 * "no JUMBF found" both for a file with no manifest and for one whose store it cannot find because a byte
 * of its box structure changed; only the first is an unsigned file. So when c2pa-rs finds nothing, the
 * container is asked directly: a store's place in it (APP11, `caBX`, C2PA `uuid` box, `C2PA` chunk…) or
 * a C2PA JUMBF box anywhere means a store is there and cannot be read: damaged, never absent.
 *
 * Pure and bounded: every walk advances by at least one header per step and stops at the end of the bytes.
 */

/** The JUMBF description box type of a C2PA manifest store: 'c2pa' + the ISO 19566-5 suffix. */
const C2PA_STORE_UUID = Uint8Array.from([0x63, 0x32, 0x70, 0x61, 0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);
/** The `uuid` box user type c2pa-rs embeds its store under in ISO BMFF (MP4, MOV, HEIF, AVIF). */
const C2PA_BMFF_UUID = Uint8Array.from([0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81]);
const ascii = (b: Uint8Array, at: number, n: number) => (at >= 0 && at + n <= b.length ? String.fromCharCode(...b.subarray(at, at + n)) : '');
const u32 = (b: Uint8Array, at: number) => (at + 4 <= b.length ? ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0 : -1);
const u16 = (b: Uint8Array, at: number, le = false) => (at + 2 <= b.length ? (le ? b[at]! | (b[at + 1]! << 8) : (b[at]! << 8) | b[at + 1]!) : -1);
const equalAt = (b: Uint8Array, at: number, sig: Uint8Array) => at + sig.length <= b.length && sig.every((v, i) => b[at + i] === v);

/** Where a C2PA store sits in the file (e.g. "JPEG APP11 segment"), or undefined when there is none. */
export function findEmbeddedManifestStore(bytes: Uint8Array): string | undefined {
  return containerStore(bytes) ?? jumbfStore(bytes);
}

/** The container's own place for a store, by the container the magic bytes name. */
function containerStore(b: Uint8Array): string | undefined {
  if (b[0] === 0xff && b[1] === 0xd8) return jpegStore(b);
  if (ascii(b, 0, 8) === '\x89PNG\r\n\x1a\n') return pngStore(b);
  if (ascii(b, 0, 4) === 'RIFF') return riffStore(b);
  if (ascii(b, 0, 3) === 'GIF') return gifStore(b);
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return tiffStore(b);
  if (['ftyp', 'moov', 'mdat', 'wide', 'free', 'skip', 'uuid'].includes(ascii(b, 4, 4))) return bmffStore(b);
  return undefined;
}

/** JPEG: any APP11 segment (JUMBF's only carrier in JPEG) before the image data. */
function jpegStore(b: Uint8Array): string | undefined {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end, or entropy-coded data: no more segments
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    if (marker === 0xeb) return 'JPEG APP11 segment';
    const length = u16(b, at + 2);
    if (length < 2) return undefined;
    at += 2 + length;
  }
  return undefined;
}

/** PNG: a `caBX` chunk. */
function pngStore(b: Uint8Array): string | undefined {
  let at = 8;
  while (at + 8 <= b.length) {
    const type = ascii(b, at + 4, 4);
    if (type === 'caBX') return 'PNG caBX chunk';
    if (type === 'IEND') return undefined;
    at += 12 + u32(b, at);
  }
  return undefined;
}

/** RIFF (WebP, WAV, AVI): a `C2PA` chunk at the top level. */
function riffStore(b: Uint8Array): string | undefined {
  let at = 12;
  while (at + 8 <= b.length) {
    if (ascii(b, at, 4) === 'C2PA') return 'RIFF C2PA chunk';
    const size = (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>> 0;
    at += 8 + size + (size & 1);
  }
  return undefined;
}

/** GIF: the `C2PA_GIF` application extension. */
function gifStore(b: Uint8Array): string | undefined {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).includes('C2PA_GIF', 0, 'latin1') ? 'GIF C2PA_GIF application extension' : undefined;
}

/** TIFF: tag 0xCD41 (C2PA manifest) in the first IFD. */
function tiffStore(b: Uint8Array): string | undefined {
  const le = b[0] === 0x49;
  const ifd = le ? (u16(b, 4, true) | (u16(b, 6, true) << 16)) >>> 0 : u32(b, 4);
  const count = u16(b, ifd, le);
  for (let i = 0; i < count && ifd + 2 + 12 * (i + 1) <= b.length; i++) {
    if (u16(b, ifd + 2 + 12 * i, le) === 0xcd41) return 'TIFF C2PA tag';
  }
  return undefined;
}

/** ISO BMFF: a top-level `uuid` box with C2PA's user type. */
function bmffStore(b: Uint8Array): string | undefined {
  let at = 0;
  while (at + 8 <= b.length) {
    let size = u32(b, at);
    const type = ascii(b, at + 4, 4);
    let header = 8;
    if (size === 1) {
      const high = u32(b, at + 8);
      const low = u32(b, at + 12);
      size = high * 2 ** 32 + low;
      header = 16;
    } else if (size === 0) size = b.length - at;
    if (type === 'uuid' && equalAt(b, at + header, C2PA_BMFF_UUID)) return 'ISO BMFF C2PA uuid box';
    if (size < header) return undefined;
    at += size;
  }
  return undefined;
}

/**
 * Any container: a JUMBF description box (`jumd`) that is a C2PA store's or sits in a `jumb` box. One native
 * scan for `jumd` (the store's first child): a changed byte elsewhere in the structure leaves it standing.
 */
function jumbfStore(b: Uint8Array): string | undefined {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (let at = buf.indexOf('jumd', 0, 'latin1'); at >= 0; at = buf.indexOf('jumd', at + 1, 'latin1')) {
    if (equalAt(b, at + 4, C2PA_STORE_UUID)) return 'C2PA JUMBF manifest store';
    if (ascii(b, at - 8, 4) === 'jumb') return 'JUMBF box';
  }
  return undefined;
}
