import { problems } from '../http/problem.ts';
import { matchesMimeType, normalizeMimeType, resolveMimeType, sniffFamily } from '../provenance/c2pa/formats.ts';

/**
 * The media type an uploaded file is registered with: the declared one, which must agree with what the
 * bytes are wherever they can be told (JPEG, PNG, WebP, GIF, TIFF, ISO BMFF); the bytes' own type when
 * none is declared. A mismatch is refused (422): a file registered under another type would be read as
 * that type, and the training restriction embedded in it would go unseen.
 */
export function uploadedMediaType(declared: string | undefined, bytes: Uint8Array): string {
  const given = declared && declared.split(';')[0]!.trim().toLowerCase() !== 'application/octet-stream' ? declared : undefined;
  const actual = resolveMimeType(undefined, bytes);
  if (!given) return actual ?? 'application/octet-stream';
  const supported = normalizeMimeType(given);
  const agrees = supported ? matchesMimeType(bytes, supported) : sniffFamily(bytes) === undefined;
  if (!agrees) {
    throw problems.validation(`the file was declared ${given} but its bytes are ${actual ?? `not ${given}`}`, [
      { field: 'file', message: `does not match the declared type ${given}` },
    ]);
  }
  return given;
}
