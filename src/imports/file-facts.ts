import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { readEmbeddedTerms } from '../assets/embedded-terms.ts';
import { matchesMimeType, normalizeMimeType, resolveMimeType } from '../provenance/c2pa/formats.ts';
import type { ManifestEngine } from '../provenance/c2pa/types.ts';
import type { FileFact } from './plan.ts';

/**
 * A folder's art as the import sees it: each file hashed as it is read (one pass, a chunk at a time),
 * with what it says of itself. The C2PA engine reads only the files that carry a manifest store (its JUMBF
 * boxes are seen while hashing); IPTC `plus:DataMining` is taken from the XMP packet as it passes.
 */

/** Images and videos of the types outputs accept, plus TIFF and PSD as plain files. */
const BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  avif: 'image/avif',
  heic: 'image/heic',
  heif: 'image/heif',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  psd: 'image/vnd.adobe.photoshop',
};

export const importable = (name: string) => !name.startsWith('.') && path.extname(name).slice(1).toLowerCase() in BY_EXTENSION;

/** Every importable file under dir, `/`-separated and relative to it, in a stable (sorted) order. */
export async function* walkFolder(dir: string, below = ''): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(path.join(dir, below), { withFileTypes: true });
  } catch (e) {
    throw new Error(`cannot read the folder ${path.join(dir, below)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = below ? `${below}/${e.name}` : e.name;
    if (e.isDirectory() && !e.name.startsWith('.')) yield* walkFolder(dir, rel);
    else if (e.isFile() && importable(e.name)) yield rel;
  }
}

const DATA_MINING = /DataMining(?:\s*=\s*"([^"]*)"|\s+rdf:resource\s*=\s*"([^"]*)"|\s*>\s*(?:<rdf:li[^>]*>)?\s*([^<\s]+))/;

/** The IPTC plus:DataMining value in an XMP packet, if any. */
export function iptcDataMining(text: string): string | null {
  const m = DATA_MINING.exec(text);
  return m ? (m[1] ?? m[2] ?? m[3] ?? null) : null;
}

/** The name's type when the bytes agree with it (MOV and MP4 share a container), else what the bytes are. */
function mediaTypeOf(rel: string, head: Uint8Array): string {
  const byExtension = BY_EXTENSION[path.extname(rel).slice(1).toLowerCase()] ?? 'application/octet-stream';
  const supported = normalizeMimeType(byExtension);
  if (!supported) return byExtension; // PSD: a plain file, its type by name
  return matchesMimeType(head, supported) ? supported : (resolveMimeType(undefined, head) ?? byExtension);
}

/** Watches a file's bytes go by: the markers of a C2PA store and the XMP DataMining value (native searches, no copies). */
class Scanner {
  private tail: Buffer | undefined;
  jumd = false;
  c2pa = false;
  dataMining: string | null = null;
  head: Uint8Array | undefined;

  push(chunk: Buffer): void {
    if (!this.head) this.head = Uint8Array.from(chunk.subarray(0, 64));
    // A marker split across two chunks is in the seam: the last bytes of one and the first of the next.
    const seam = this.tail ? Buffer.concat([this.tail, chunk.subarray(0, 16)]) : undefined;
    const has = (marker: string) => chunk.indexOf(marker, 0, 'latin1') >= 0 || (seam !== undefined && seam.indexOf(marker, 0, 'latin1') >= 0);
    if (!this.jumd) this.jumd = has('jumd');
    if (!this.c2pa) this.c2pa = has('c2pa');
    if (this.dataMining === null) {
      const at = chunk.indexOf('DataMining', 0, 'latin1');
      if (at >= 0) this.dataMining = iptcDataMining(chunk.toString('latin1', at, at + 2048));
      else if (seam && seam.indexOf('DataMining', 0, 'latin1') >= 0) this.dataMining = iptcDataMining(seam.toString('latin1') + chunk.toString('latin1', 16, 2048));
    }
    this.tail = Buffer.from(chunk.subarray(Math.max(0, chunk.byteLength - 16)));
  }
}

/**
 * One file's facts. `engine` reads its C2PA manifest when it carries one; without an engine (a client that
 * sends hashes only) the file is registered as art without a read manifest, as a registration by hash is.
 * `buffer` is where it reads, a chunk at a time.
 */
export async function fileFact(dir: string, rel: string, engine?: () => ManifestEngine, buffer: Buffer = Buffer.allocUnsafe(1 << 20)): Promise<FileFact> {
  const full = path.join(dir, rel);
  const hash = createHash('sha256');
  const scan = new Scanner();
  let size = 0;
  // The caller's buffer, read into again and again (one per reader, not per file or chunk: with many small
  // files, a fresh megabyte each would be garbage faster than the collector returns it).
  const handle = await open(full, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      scan.push(chunk);
      size += bytesRead;
    }
  } finally {
    await handle.close();
  }
  const mediaType = mediaTypeOf(rel, scan.head ?? new Uint8Array());
  const fact: FileFact = { path: rel, sha256: hash.digest('hex'), byteSize: size, mediaType, iptcDataMining: scan.dataMining };
  if (engine && scan.jumd && scan.c2pa) {
    const bytes = new Uint8Array(await readFile(full));
    fact.embedded = await readEmbeddedTerms(engine(), bytes, mediaType);
  }
  return fact;
}

/** The same facts from bytes already in memory (an upload). */
export async function fileFactOf(rel: string, bytes: Uint8Array, engine: ManifestEngine): Promise<FileFact> {
  const scan = new Scanner();
  scan.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const mediaType = mediaTypeOf(rel, bytes);
  const fact: FileFact = {
    path: rel,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    byteSize: bytes.byteLength,
    mediaType,
    iptcDataMining: scan.dataMining,
  };
  if (scan.jumd && scan.c2pa) fact.embedded = await readEmbeddedTerms(engine, bytes, mediaType);
  return fact;
}
