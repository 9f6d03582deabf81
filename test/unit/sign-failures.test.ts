import { describe, expect, it } from 'vitest';
import { c2paProblem, READ_VERDICTS, readRefusal, SIGN_FAILURES } from '../../src/outputs/problems.ts';
import { C2paError, type C2paErrorCode } from '../../src/provenance/c2pa/errors.ts';

// The one place C2PA engine errors become HTTP answers (issue 15): every code the engine raises has one.
describe('C2PA engine errors as answers', () => {
  const expected: Record<C2paErrorCode, [number, string]> = {
    unsupported_media_type: [415, 'unsupported-media-type'],
    asset_parse_error: [422, 'unprocessable'],
    manifest_parse_error: [422, 'unprocessable'],
    remote_manifest: [422, 'unprocessable'],
    signing_failed: [502, 'upstream'],
    timestamp_failed: [502, 'upstream'],
    invalid_manifest_definition: [500, 'internal'],
    invalid_signing_credential: [500, 'internal'],
    sign_self_check_failed: [500, 'internal'],
    engine_error: [500, 'internal'],
  };

  it('maps every engine code to its status and problem type, and nothing else', () => {
    expect(Object.keys(SIGN_FAILURES).sort()).toEqual(Object.keys(expected).sort());
    for (const [code, [status, type]] of Object.entries(expected)) {
      const problem = c2paProblem(new C2paError(code as C2paErrorCode, 'what c2pa-rs said'));
      expect({ code, status: problem.status, type: problem.problemType }).toEqual({ code, status, type });
      expect(problem.message).toContain('what c2pa-rs said');
    }
  });

  it('keeps what c2pa-rs said as the cause (the record of a withdrawn output reads it)', () => {
    const e = new C2paError('sign_self_check_failed', 'claim signature mismatch', { validationCodes: ['claimSignature.mismatch'] });
    expect(c2paProblem(e).cause).toBe(e);
  });

  it("gives every read failure the file is to blame for a verdict, and only the engine's own none", () => {
    const verdicts = Object.fromEntries((Object.keys(expected) as C2paErrorCode[]).map((code) => [code, readRefusal(new C2paError(code, 'x'))?.verdict ?? null]));
    expect(verdicts).toEqual({
      unsupported_media_type: 'damaged',
      asset_parse_error: 'damaged',
      manifest_parse_error: 'damaged',
      remote_manifest: 'remote-manifest',
      signing_failed: null,
      timestamp_failed: null,
      invalid_manifest_definition: null,
      invalid_signing_credential: null,
      sign_self_check_failed: null,
      engine_error: null,
    });
    expect(Object.keys(READ_VERDICTS).sort()).toEqual(Object.keys(expected).sort());
    expect(readRefusal(new Error('asset_parse_error'))).toBeUndefined();
    expect(readRefusal(new C2paError('remote_manifest', 'x', { remoteUrl: 'https://m.example/1' }))?.remoteUrl).toBe('https://m.example/1');
  });
});
