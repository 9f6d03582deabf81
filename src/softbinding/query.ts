/**
 * The C2PA Soft Binding Resolution API's values as Clearframe reads and answers them (pure).
 *
 * A binding value is the output's PDQ fingerprint under `SOFT_BINDING_ALG`, the name its manifest's
 * `c2pa.soft-binding` assertion states. The API says a value is base64 "in algorithm specific format":
 * the 32 bytes of the hash in base64 (standard or URL-safe, padded or not) are read, and so are the 64 hex
 * digits the manifest's assertion carries, so a reader can pass either straight on.
 */
import { SOFT_BINDING_ALG } from '../outputs/manifest.ts';

/** The algorithms this service answers for: one fingerprint, no watermark. */
export const SUPPORTED_ALGORITHMS = { watermarks: [] as { alg: string }[], fingerprints: [{ alg: SOFT_BINDING_ALG }] };

/** The API's default `maxResults`; a larger request is answered with at most `MAX_RESULTS`. */
export const DEFAULT_RESULTS = 10;
export const MAX_RESULTS = 100;

export function isSupportedAlgorithm(alg: string): boolean {
  return alg === SOFT_BINDING_ALG;
}

/** The 64 lower-case hex digits of a PDQ binding value, or null when it is not 256 bits in either form. */
export function pdqHexOfBinding(value: string): string | null {
  const hex = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return hex.toLowerCase();
  // A `+` sent unencoded in a query string arrives as a space (a leading one too, so spaces are not trimmed).
  const b64 = value
    .replace(/^[\t\r\n]+|[\t\r\n]+$/g, '')
    .replace(/ /g, '+')
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]{43}$/.test(b64)) return null;
  const bytes = Buffer.from(b64, 'base64');
  // 43 characters carry 258 bits: the last two must be zero for the text to be the hash's own encoding.
  if (bytes.length !== 32 || bytes.toString('base64').replace(/=+$/, '') !== b64) return null;
  return bytes.toString('hex');
}

/** The base64 form of a PDQ hash, as the API states binding values. */
export function bindingOfPdqHex(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

/**
 * The API's `similarityScore` (0 weakest, 100 strongest) of a match `distance` bits apart: 100 for the same
 * hash, falling evenly to 0 just past the threshold, so every score names a match within it.
 */
export function similarityScore(distance: number, threshold: number): number {
  if (distance < 0 || distance > threshold) throw new RangeError('a match lies within the threshold');
  return Math.round(100 * (1 - distance / (threshold + 1)));
}

/** `maxResults` as asked (the API's minimum is 1), kept within what one answer gives. */
export function resultCount(asked: number | undefined): number {
  return Math.min(asked ?? DEFAULT_RESULTS, MAX_RESULTS);
}
