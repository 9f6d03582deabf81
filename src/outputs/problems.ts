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
 * Read failures that mean the file itself cannot be read as its type: a verification answers `damaged`
 * for these. Any other engine error is not the file's verdict.
 */
export function isUnreadableFile(e: unknown): e is C2paError {
  return e instanceof C2paError && (e.code === 'asset_parse_error' || e.code === 'manifest_parse_error' || e.code === 'unsupported_media_type');
}

export function supportedType(declared: string | undefined, bytes: Uint8Array): SupportedMimeType {
  const mimeType = declared ? normalizeMimeType(declared) : undefined;
  if (!mimeType) throw new Problem(415, 'unsupported-media-type', `unsupported media type ${JSON.stringify(declared ?? '')}: send JPEG, PNG, WebP, MP4 or MOV`);
  if (!matchesMimeType(bytes, mimeType)) throw new Problem(422, 'unprocessable', `the file does not parse as ${mimeType}`);
  return mimeType;
}
