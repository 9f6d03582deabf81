// How signing failures become answers: one mapping from the C2PA engine's error codes to problems.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { Problem, type ProblemType } from '../http/problem.ts';
import { C2paError, type C2paErrorCode } from '../provenance/c2pa/errors.ts';
import { matchesMimeType, normalizeMimeType } from '../provenance/c2pa/formats.ts';
import type { SupportedMimeType } from '../provenance/c2pa/types.ts';

/**
 * What a client is answered when the C2PA engine refuses a sign, by the engine's stable code: the only
 * place its errors become HTTP answers. A file that is not what it says is the client's (415, 422); a key
 * or time-stamp authority that fails is upstream (502, nothing signed); a manifest or credential c2pa-rs
 * rejects is the service's own doing (500: the manifest is built here, the credential configured here).
 */
export const SIGN_FAILURES: Record<C2paErrorCode, { status: ContentfulStatusCode; type: ProblemType; detail: (message: string) => string }> = {
  unsupported_media_type: { status: 415, type: 'unsupported-media-type', detail: (m) => m },
  asset_parse_error: { status: 422, type: 'unprocessable', detail: (m) => `the file does not parse as its type: ${m}` },
  manifest_parse_error: { status: 422, type: 'unprocessable', detail: (m) => `the file does not parse as its type: ${m}` },
  remote_manifest: { status: 422, type: 'unprocessable', detail: (m) => `the file's manifest is remote: ${m}` },
  signing_failed: { status: 502, type: 'upstream', detail: (m) => `the signing key failed: ${m}` },
  // Configured time-stamping is never skipped: no token, no signed output.
  timestamp_failed: { status: 502, type: 'upstream', detail: (m) => `the time-stamp authority failed, so nothing was signed: ${m}` },
  invalid_manifest_definition: { status: 500, type: 'internal', detail: (m) => `C2PA signing failed: ${m}` },
  invalid_signing_credential: { status: 500, type: 'internal', detail: (m) => `C2PA signing failed: ${m}` },
  sign_self_check_failed: { status: 500, type: 'internal', detail: (m) => `C2PA signing failed: ${m}` },
  engine_error: { status: 500, type: 'internal', detail: (m) => `C2PA signing failed: ${m}` },
};

/** A refused sign as the problem a client gets (SIGN_FAILURES), carrying what c2pa-rs said. */
export function c2paProblem(e: C2paError): Problem {
  const answer = SIGN_FAILURES[e.code];
  const problem = new Problem(answer.status, answer.type, answer.detail(e.message));
  problem.cause = e; // what c2pa-rs said, for the record of a withdrawn output
  return problem;
}

/**
 * The verdict a verification gives a file whose manifest c2pa-rs refused to read, by the engine's code:
 * every code the file is to blame for has one (a file that parses always gets a verdict); undefined only
 * for the engine's own failure (a 500). A remote manifest is never fetched: its URL is the answer.
 */
export const READ_VERDICTS: Record<C2paErrorCode, 'damaged' | 'remote-manifest' | undefined> = {
  unsupported_media_type: 'damaged',
  asset_parse_error: 'damaged',
  manifest_parse_error: 'damaged',
  remote_manifest: 'remote-manifest',
  // Sign-side codes: a read never raises them, and if one did it would be the engine's, not the file's.
  invalid_manifest_definition: undefined,
  signing_failed: undefined,
  timestamp_failed: undefined,
  invalid_signing_credential: undefined,
  sign_self_check_failed: undefined,
  engine_error: undefined,
};

/** A refused read's verdict (READ_VERDICTS) with what to report beside it; undefined: not the file's. */
export function readRefusal(e: unknown): { verdict: 'damaged' | 'remote-manifest'; detail: string; codes: string[]; remoteUrl: string | null } | undefined {
  if (!(e instanceof C2paError)) return undefined;
  const verdict = READ_VERDICTS[e.code];
  return verdict ? { verdict, detail: e.message, codes: e.validationCodes, remoteUrl: e.remoteUrl ?? null } : undefined;
}

/** The container types a file can be signed and verified as, in users' words (one list for every answer). */
export const SUPPORTED_TYPES_TEXT = 'JPEG, PNG, WebP, GIF, TIFF, AVIF, HEIF, MP4 or MOV';

export function supportedType(declared: string | undefined, bytes: Uint8Array): SupportedMimeType {
  const mimeType = declared ? normalizeMimeType(declared) : undefined;
  if (!mimeType) throw new Problem(415, 'unsupported-media-type', `unsupported media type ${JSON.stringify(declared ?? '')}: send ${SUPPORTED_TYPES_TEXT}`);
  if (!matchesMimeType(bytes, mimeType)) throw new Problem(422, 'unprocessable', `the file does not parse as ${mimeType}`);
  return mimeType;
}
