/**
 * Errors raised by the C2PA adapter, each with a stable `code`. The adapter speaks no HTTP: what a client
 * is answered for each code is decided in one place, src/outputs/problems.ts.
 */

export type C2paErrorCode =
  /** The MIME type is not one the adapter/c2pa-rs handles. */
  | 'unsupported_media_type'
  /** The bytes are not a parseable file of the declared type (garbage, truncated, mislabelled). */
  | 'asset_parse_error'
  /** A C2PA manifest store is present but cannot be parsed or validated (unknown algorithm, pre-release…). */
  | 'manifest_parse_error'
  /** The file names a remote manifest (XMP `dcterms:provenance`) and carries none: not fetched unless allowed. */
  | 'remote_manifest'
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
  /** The URL of the manifest a `remote_manifest` file points to. */
  readonly remoteUrl: string | undefined;

  constructor(code: C2paErrorCode, message: string, opts: { engineMessage?: string; cause?: unknown; validationCodes?: string[]; remoteUrl?: string } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'C2paError';
    this.code = code;
    this.engineMessage = opts.engineMessage;
    this.validationCodes = opts.validationCodes ?? [];
    this.remoteUrl = opts.remoteUrl;
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

/** `C2pa(RemoteManifestUrl("https://…"))` → the URL. */
export function engineRemoteUrl(text: string): string | undefined {
  return /^C2pa\(RemoteManifest(?:Url|Fetch)\("((?:[^"\\]|\\.)*)"\)/.exec(text)?.[1];
}

/**
 * What each c2pa-rs error (its `Error` variant, sdk/src/error.rs) means when it comes from a READ of a file
 * already sniffed as its type: every class has a reading, so a file that parses always gets a verdict.
 *  - asset: the container itself does not parse (truncated, malformed boxes, nesting or subfile bombs);
 *  - manifest: a manifest store is there and cannot be read or validated (JUMBF, claim, COSE, algorithm…);
 *  - remote: the file points to a manifest elsewhere and carries none;
 *  - absent: no manifest at all (only with no store present: see store-presence.ts);
 *  - engine: c2pa-rs itself failed (memory, internal, a thread), nothing the file says.
 * A variant missing here (a newer c2pa-rs) reads as `manifest`: the file parsed and c2pa-rs refused its
 * manifest, which is the file's verdict, never a 500.
 */
export type ReadErrorClass = 'asset' | 'manifest' | 'remote' | 'absent' | 'engine';
export const READ_ERROR_CLASS: Readonly<Record<string, ReadErrorClass>> = {
  JumbfNotFound: 'absent',
  ProvenanceMissing: 'absent',
  RemoteManifestUrl: 'remote',
  RemoteManifestFetch: 'remote',
  UnsupportedType: 'asset',
  InvalidAsset: 'asset',
  NotFound: 'asset',
  IoError: 'asset',
  BadParam: 'asset',
  InvalidMimeType: 'asset',
  TryFromIntError: 'asset',
  XmpReadError: 'asset',
  ImageError: 'asset',
  PdfReadError: 'asset',
  BmffError: 'asset',
  GifError: 'asset',
  JpegError: 'asset',
  FlacError: 'asset',
  PdfError: 'asset',
  PngError: 'asset',
  RiffError: 'asset',
  SvgError: 'asset',
  TiffError: 'asset',
  InsufficientMemory: 'engine',
  InternalError: 'engine',
  ThreadReceiveError: 'engine',
  OperationCancelled: 'engine',
  NotImplemented: 'engine',
  // Everything else c2pa-rs raises while reading is about the manifest store it found.
  JumbfParseError: 'manifest',
  JumbfBoxNotFound: 'manifest',
  InvalidClaim: 'manifest',
  ClaimDecoding: 'manifest',
  ClaimMissing: 'manifest',
  ClaimMissingSignatureBox: 'manifest',
  ClaimVersion: 'manifest',
  ClaimInvalidContent: 'manifest',
  ClaimMissingHardBinding: 'manifest',
  ClaimMultipleHardBinding: 'manifest',
  ClaimUnsigned: 'manifest',
  ClaimVerification: 'manifest',
  CoseSignature: 'manifest',
  CoseSignatureAlgorithmNotSupported: 'manifest',
  CoseError: 'manifest',
  CoseInvalidCert: 'manifest',
  CoseVerifier: 'manifest',
  CoseSigboxTooSmall: 'manifest',
  CoseNoCerts: 'manifest',
  AssertionDecoding: 'manifest',
  AssertionMissing: 'manifest',
  AssertionInvalidRedaction: 'manifest',
  AssertionRedactionNotFound: 'manifest',
  AssertionSpecificError: 'manifest',
  HashMismatch: 'manifest',
  PrereleaseError: 'manifest',
  IncompatibleVersion: 'manifest',
  VersionCompatibility: 'manifest',
  UnknownAlgorithm: 'manifest',
  InvalidEcdsaSignature: 'manifest',
  MissingDataBox: 'manifest',
  TooManyManifestStores: 'manifest',
  TooManyAssertions: 'manifest',
  UpdateManifestInvalid: 'manifest',
  CyclicIngredients: 'manifest',
  InvalidManifest: 'manifest',
  ValidationRule: 'manifest',
  CborError: 'manifest',
  JsonError: 'manifest',
  RawSignatureValidationError: 'manifest',
  CertificateProfileError: 'manifest',
  CertificateTrustError: 'manifest',
  InvalidCertificateError: 'manifest',
  TimeStampError: 'manifest',
  VerifiableCredentialInvalid: 'manifest',
  // The rest: mostly raised when c2pa-rs builds or signs; met on a read, they are about what it read
  // (HTTP errors: only a remote manifest fetch, off unless configured, makes requests on a read).
  AssertionEncoding: 'manifest',
  ClaimEncoding: 'manifest',
  ClaimSelfRedact: 'manifest',
  ClaimDisallowedRedaction: 'manifest',
  CoseX5ChainMissing: 'manifest',
  CoseTimeStampGeneration: 'manifest',
  JumbfCreationError: 'manifest',
  FailedToRemoteSign: 'manifest',
  UnsupportedThumbnailFormat: 'manifest',
  MissingSignerSettings: 'manifest',
  MissingAutoCreatedActionSourceType: 'manifest',
  EmbeddingError: 'manifest',
  IngredientNotFound: 'manifest',
  FileNotFound: 'asset',
  ResourceNotFound: 'manifest',
  XmpWriteError: 'manifest',
  XmpNotSupported: 'asset',
  XmlWriteError: 'manifest',
  InvalidSigningKey: 'manifest',
  Utf8Error: 'manifest',
  HttpError: 'remote',
  HttpResolverError: 'remote',
  TomlSerializationError: 'manifest',
  OtherError: 'manifest',
  RawSignerError: 'manifest',
  C2PAValidation: 'manifest',
  Mp3Error: 'asset',
};

/**
 * The C2PA validation code c2pa-rs gives a read error (validation_status.rs `code_from_error`; unknown
 * algorithm: store.rs' test_no_alg; JUMBF: the spec's `claim.malformed`); `general.error` otherwise.
 */
export const READ_ERROR_STATUS: Readonly<Record<string, string>> = {
  ClaimMissing: 'claim.missing',
  AssertionMissing: 'assertion.missing',
  AssertionDecoding: 'assertion.required.missing',
  HashMismatch: 'assertion.dataHash.mismatch',
  UnknownAlgorithm: 'algorithm.unsupported',
  CoseSignatureAlgorithmNotSupported: 'algorithm.unsupported',
  PrereleaseError: 'com.adobe.prerelease',
  RemoteManifestUrl: 'manifest.inaccessible',
  RemoteManifestFetch: 'manifest.inaccessible',
  JumbfParseError: 'claim.malformed',
  JumbfBoxNotFound: 'claim.malformed',
};

/** A refused read as the adapter's error, by c2pa-rs' error class (READ_ERROR_CLASS): every class but the engine's own is the file's. */
export function readError(err: unknown): C2paError {
  if (err instanceof C2paError) return err;
  const text = engineErrorText(err);
  const kind = engineErrorKind(text);
  const short = text.length > 500 ? `${text.slice(0, 500)}…` : text;
  const cls = kind === undefined ? 'engine' : (READ_ERROR_CLASS[kind] ?? 'manifest');
  const status = kind ? READ_ERROR_STATUS[kind] : undefined;
  const failures = kind === 'InvalidManifest' ? engineFailureCodes(text) : [];
  const opts = { engineMessage: text, cause: err, validationCodes: failures.length > 0 ? failures : status ? [status] : [] };
  switch (cls) {
    case 'remote': {
      const remoteUrl = engineRemoteUrl(text);
      return new C2paError('remote_manifest', `the manifest is not in the file but at ${remoteUrl ?? 'a remote URL'}, which is not fetched`, {
        ...opts,
        ...(remoteUrl ? { remoteUrl } : {}),
      });
    }
    case 'asset':
      return new C2paError('asset_parse_error', `asset could not be parsed: ${short}`, opts);
    case 'engine':
      return new C2paError('engine_error', `c2pa-rs read failed: ${short}`, opts);
    default:
      // 'absent' met after the store was opened is a store that went missing inside itself: unreadable.
      return new C2paError('manifest_parse_error', `manifest store could not be read: ${short}`, opts);
  }
}
