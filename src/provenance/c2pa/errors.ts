/**
 * Errors raised by the C2PA adapter, each with a stable `code`. The adapter speaks no HTTP: what a client
 * is answered for each code is decided in one place, src/outputs/problems.ts.
 */

export type C2paErrorCode =
  /** The MIME type is not one the adapter/c2pa-rs handles. */
  | 'unsupported_media_type'
  /** The bytes are not a parseable file of the declared type (garbage, truncated, mislabelled). */
  | 'asset_parse_error'
  /** A C2PA manifest store is present but cannot be parsed. */
  | 'manifest_parse_error'
  /** The manifest definition given to `sign` was rejected by c2pa-rs. */
  | 'invalid_manifest_definition'
  /** The signer callback failed (KMS error, bad key, wrong signature size…). */
  | 'signing_failed'
  /** A time-stamp authority is configured and gave no usable token (down, refused, bad answer). */
  | 'timestamp_failed'
  /** c2pa-rs rejected the signing certificate (profile: EKU, key usage, validity…). */
  | 'invalid_signing_credential'
  /** c2pa-rs produced a manifest that does not validate (self-check after signing). */
  | 'sign_self_check_failed'
  /** Anything else from the engine. */
  | 'engine_error';

export class C2paError extends Error {
  readonly code: C2paErrorCode;
  /** Raw c2pa-rs error text (e.g. "C2pa(UnsupportedType)"), when there is one. */
  readonly engineMessage: string | undefined;
  /** C2PA validation failure codes behind the error, when c2pa-rs reported some. */
  readonly validationCodes: string[];

  constructor(code: C2paErrorCode, message: string, opts: { engineMessage?: string; cause?: unknown; validationCodes?: string[] } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'C2paError';
    this.code = code;
    this.engineMessage = opts.engineMessage;
    this.validationCodes = opts.validationCodes ?? [];
  }
}

/** c2pa-wasm rejects with plain strings like `C2pa(JumbfNotFound)`; normalise. */
export function engineErrorText(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/** `C2pa(JumbfNotFound)` → `JumbfNotFound`; `C2pa(BadParam("x"))` → `BadParam`. */
export function engineErrorKind(text: string): string | undefined {
  const m = /^C2pa\(([A-Za-z0-9_]+)/.exec(text);
  return m?.[1];
}

/**
 * Failure codes from a Debug-printed c2pa-rs `InvalidManifest(ValidationResults { … failure: [ValidationStatus { code: "…" …`
 * (what c2pa-rs' own verify-after-sign raises).
 */
export function engineFailureCodes(text: string): string[] {
  const codes: string[] = [];
  for (const section of text.split('failure: [').slice(1)) {
    const end = section.indexOf('] }');
    const body = end >= 0 ? section.slice(0, end) : section;
    for (const m of body.matchAll(/code: "([^"]+)"/g)) if (m[1]) codes.push(m[1]);
  }
  return [...new Set(codes)];
}
