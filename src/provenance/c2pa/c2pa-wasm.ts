/**
 * C2PA manifest engine backed by c2pa-rs compiled to WebAssembly
 * (`@contentauth/c2pa-wasm`), adapted to Node 20.
 *
 * What the browser-targeted package needs in Node:
 *  1. Initialisation from bytes: the default init would `fetch()` the .wasm by
 *     URL; we read `@contentauth/c2pa-wasm/c2pa.wasm` from disk and pass the
 *     bytes to the init function (WebAssembly.instantiate, no fetch).
 *  2. `FileReaderSync` (a Web Worker API) — `WasmBuilder.sign` and
 *     `addIngredientFromBlob` read their source `Blob` through it
 *     synchronously. Node has `Blob` but no synchronous way to read one, so
 *     we pass a `BytesBlob` (a Blob subclass that answers from its
 *     Uint8Array without copying it; `slice()` returns another BytesBlob) and
 *     install a global `FileReaderSync` whose `readAsArrayBuffer(blob)`
 *     returns those bytes. Without the shim c2pa-rs silently reads an EMPTY
 *     asset.
 *  3. Nothing for reading: `WasmReader.fromBytes` uses an in-memory cursor.
 *
 * Signing uses c2pa-wasm's "direct COSE handling": the signer callback gets
 * the claim bytes and must return the whole COSE_Sign1, exactly
 * `reserveSize` bytes long (c2pa-rs does NOT re-check this in direct mode; a
 * shorter signature box shifts the manifest and breaks the data hash).
 */
import { createPrivateKey, type KeyObject, sign as nodeSign, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import initC2paWasm, { WasmBuilder, WasmReader } from '@contentauth/c2pa-wasm';

import { buildCoseSign1, CoseSizeError } from './cose-sign1.ts';
import { C2paError, engineErrorKind, engineErrorText, engineFailureCodes, READ_ERROR_CLASS, readError } from './errors.ts';
import { matchesMimeType, normalizeMimeType, structureProblem } from './formats.ts';
import { C2paPool, type RawRead, type RawSign } from './pool.ts';
import { findEmbeddedManifestStore } from './store-presence.ts';
import { sigTst2Header, sigTst2MessageImprint, TimestampError } from './timestamp.ts';
import type {
  C2paSigner,
  ClaimGeneratorInfo,
  IngredientInput,
  ManifestAssertion,
  ManifestEngine,
  ManifestJson,
  ManifestReadResult,
  ReadInput,
  ReadResult,
  SignInput,
  SignResult,
  SupportedMimeType,
  ValidationResults,
  ValidationState,
  ValidationStatusEntry,
} from './types.ts';

// ---------------------------------------------------------------------------
// Node shims

/**
 * A Blob that keeps its bytes, so `FileReaderSync` can return them synchronously. It holds no copy of its
 * own: `new Blob([bytes])` copies them (1.1 ms per MB here, on every sign), and c2pa-rs only asks for the
 * size, slices, and reads through FileReaderSync; the async readers are answered from the same bytes.
 */
export class BytesBlob extends Blob {
  /** The blob's content (named so it does not clash with `Blob.prototype.bytes()`). */
  readonly content: Uint8Array;

  constructor(content: Uint8Array, type = '') {
    super([], { type });
    this.content = content;
    // Blob's own `size` is a getter over its (empty) storage.
    Object.defineProperty(this, 'size', { value: content.length });
  }

  override slice(start?: number, end?: number, contentType?: string): BytesBlob {
    const len = this.content.length;
    const clamp = (v: number | undefined, dflt: number) => (v === undefined ? dflt : v < 0 ? Math.max(len + v, 0) : Math.min(v, len));
    const s = clamp(start, 0);
    const e = Math.max(clamp(end, len), s);
    return new BytesBlob(this.content.subarray(s, e), contentType ?? '');
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.content.slice().buffer);
  }

  override text(): Promise<string> {
    return Promise.resolve(new TextDecoder().decode(this.content));
  }

  override stream(): ReturnType<Blob['stream']> {
    return new Blob([this.content]).stream();
  }
}

/** Minimal synchronous FileReaderSync for BytesBlob (what c2pa-rs' BlobStream calls). */
export class NodeFileReaderSync {
  readAsArrayBuffer(blob: Blob): ArrayBuffer {
    if (blob instanceof BytesBlob) {
      const c = blob.content;
      // c2pa-rs copies what it is given into its own memory and never writes to it: bytes that fill their
      // buffer exactly are handed over as they are (a copy into fresh memory is ~0.9 ms per MB here).
      if (c.byteOffset === 0 && c.byteLength === c.buffer.byteLength && c.buffer instanceof ArrayBuffer) return c.buffer;
      return c.slice().buffer;
    }
    throw new TypeError('FileReaderSync shim: only BytesBlob can be read synchronously in Node');
  }
}

export function installNodeShims(): void {
  const g = globalThis as { FileReaderSync?: unknown };
  if (g.FileReaderSync === undefined) g.FileReaderSync = NodeFileReaderSync;
}

let ready: Promise<void> | undefined;

/** Load and instantiate the c2pa-rs wasm once per process (≈0.3 s). */
export function loadC2paWasm(): Promise<void> {
  ready ??= (async () => {
    installNodeShims();
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve('@contentauth/c2pa-wasm/c2pa.wasm');
    const bytes = await readFile(wasmPath);
    await initC2paWasm({ module_or_path: bytes });
  })().catch((err: unknown) => {
    ready = undefined;
    throw err;
  });
  return ready;
}

// ---------------------------------------------------------------------------
// Signers

/**
 * Room for an RFC 3161 token in the unprotected header, as c2pa-rs `cose_reserve_size` reserves
 * (TIME_STAMP_RESERVE). A token is the TSA's signature, TSTInfo and usually its certificate chain:
 * about 1.5 KB for a P-256 TSA with one certificate, 5–7 KB for public TSAs with RSA-4096 chains.
 */
export const TIMESTAMP_RESERVE = 10_000;

/**
 * Bytes to reserve for the `c2pa.signature` box: raw signature + certificate
 * chain + COSE/JUMBF overhead, plus room for a time-stamp token when a TSA is
 * used (c2pa-rs `cose_reserve_size`).
 */
export function computeReserveSize(certChainDer: readonly Uint8Array[], opts: { timestamp?: boolean } = {}): number {
  const chain = certChainDer.reduce((n, c) => n + c.length, 0);
  return 64 + chain + 1024 + (opts.timestamp ? TIMESTAMP_RESERVE : 0);
}

/** A C2paSigner backed by a local P-256 private key (node:crypto). */
export function createLocalKeySigner(opts: { privateKey: string | KeyObject; certChainDer: Uint8Array[] }): C2paSigner {
  const key = typeof opts.privateKey === 'string' ? createPrivateKey(opts.privateKey) : opts.privateKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('createLocalKeySigner: ES256 needs an EC P-256 private key');
  }
  return {
    alg: 'es256',
    certChainDer: opts.certChainDer,
    sign: async (data) => new Uint8Array(nodeSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })),
  };
}

// ---------------------------------------------------------------------------
// Engine

export interface C2paWasmEngineOptions {
  /** PEM roots trusted on every read (merged with per-read `trustAnchorsPem`). */
  trustAnchorsPem?: string[];
  /**
   * Read the signed asset back and fail with `sign_self_check_failed` if
   * c2pa-rs reports any integrity failure (trust is not required). Default true.
   *
   * One check after signing, not two: with the read-back on, c2pa-rs' own `verify_after_sign` is turned
   * off. Its check validates the new manifest store (claim signature, assertions, hashed URIs; not the
   * trust of the signer, and not the content hash of the written file, `verify_after_sign_hash` being off
   * by default), which the read-back's full validation repeats with the content hash besides; it cost
   * 2.3 ms of a 5.3 ms sign of a 1 MB JPEG here (docs/benchmarks.md). With the read-back off, c2pa-rs'
   * check stays on, as it ships.
   */
  verifyAfterSign?: boolean;
  /**
   * c2pa-rs' own check after signing (`verify.verify_after_sign`). Default: on exactly when the read-back
   * is off. Set apart only by a caller that reads back itself (the benchmark's stage profile).
   */
  c2paCheckAfterSign?: boolean;
  /** Let c2pa-rs fetch remote manifests referenced by assets (network). Default false. */
  remoteManifestFetch?: boolean;
  /** Added to the manifest when it has no `claim_generator_info`. */
  claimGenerator?: ClaimGeneratorInfo;
  /**
   * Read and sign on a pool of this many worker threads (pool.ts), so this thread's event loop (a
   * verification's ledger queries, other requests) goes on meanwhile and N jobs run at once. The signature
   * itself is still made here, by the caller's C2paSigner. The service's engine does (C2PA_WORKERS);
   * default 0: everything on this thread.
   */
  workers?: number;
}

/**
 * Failure codes about the signer's credential (trust list, validity period,
 * revocation), not about the integrity of the asset or the signature math.
 * NB: without an RFC 3161 time-stamp c2pa-rs checks certificate validity
 * against the current time, so every manifest reports
 * `signingCredential.expired` once its leaf certificate expires.
 */
export const TRUST_FAILURE_CODES: ReadonlySet<string> = new Set([
  'signingCredential.untrusted',
  'signingCredential.expired',
  'signingCredential.revoked',
  'signingCredential.ocsp.revoked',
  'signingCredential.ocsp.unknown',
  'timeStamp.untrusted',
  'timeStamp.outsideValidity',
  // The CAWG identity assertion's credential, told apart from its integrity as the claim's own is: an
  // identity signed by an issuer no one configured is untrusted, not altered.
  'cawg.x509.credential.untrusted',
  'cawg.x509.signature.outside_validity',
  'cawg.ica.untrusted_issuer',
  'cawg.ica.did_unavailable',
]);

export class C2paWasmEngine implements ManifestEngine {
  private readonly opts: Required<Omit<C2paWasmEngineOptions, 'claimGenerator' | 'workers'>> & {
    claimGenerator: ClaimGeneratorInfo;
  };
  private readonly pool: C2paPool | undefined;

  constructor(opts: C2paWasmEngineOptions = {}) {
    this.opts = {
      trustAnchorsPem: opts.trustAnchorsPem ?? [],
      verifyAfterSign: opts.verifyAfterSign ?? true,
      c2paCheckAfterSign: opts.c2paCheckAfterSign ?? !(opts.verifyAfterSign ?? true),
      remoteManifestFetch: opts.remoteManifestFetch ?? false,
      claimGenerator: opts.claimGenerator ?? { name: 'clearframe', version: '0.1.0' },
    };
    this.pool = opts.workers ? new C2paPool(opts.workers) : undefined;
  }

  /** The settings without per-read anchors: the same for every call, so made once. */
  private baseSettings: string | undefined;

  /** c2pa-rs Context settings JSON (overlays c2pa-rs defaults). */
  settingsJson(extraAnchorsPem: readonly string[] = []): string {
    if (extraAnchorsPem.length === 0) return (this.baseSettings ??= this.makeSettingsJson([]));
    return this.makeSettingsJson(extraAnchorsPem);
  }

  private makeSettingsJson(extraAnchorsPem: readonly string[]): string {
    const anchors = [...this.opts.trustAnchorsPem, ...extraAnchorsPem].map((p) => p.trim()).filter(Boolean);
    return JSON.stringify({
      verify: {
        verify_trust: true,
        verify_after_sign: this.opts.c2paCheckAfterSign,
        remote_manifest_fetch: this.opts.remoteManifestFetch,
        ocsp_fetch: false,
      },
      ...(anchors.length > 0 ? { trust: { trust_anchors: `${anchors.join('\n')}\n` } } : {}),
    });
  }

  async sign(input: SignInput): Promise<SignResult> {
    if (!this.pool) await loadC2paWasm();
    const mimeType = checkAsset(input.bytes, input.mimeType, 'asset');
    // Signing vouches for the file as it is: one that does not decode as its type is refused, not signed.
    const cut = structureProblem(input.bytes, mimeType);
    if (cut) throw new C2paError('asset_parse_error', `the file does not decode as ${mimeType}: ${cut}`);
    const ingredients = (input.ingredients ?? []).map((ing, i) => ({
      ...ing,
      mimeType: checkAsset(ing.bytes, ing.mimeType, `ingredient ${i}`),
    }));
    const signer = input.signer;
    if (signer.alg !== 'es256') throw new Error(`unsupported signing alg ${String(signer.alg)}`);
    if (signer.certChainDer.length === 0) throw new Error('C2paSigner.certChainDer is empty');

    const definition = {
      ...input.manifest,
      claim_generator_info: input.manifest.claim_generator_info ?? [this.opts.claimGenerator],
    };
    const settings = this.settingsJson();

    const tsa = signer.timestampAuthority;
    const reserveSize = signer.reserveSize ?? computeReserveSize(signer.certChainDer, { timestamp: tsa !== undefined });
    let signerFailure: unknown;
    let tokenLength: number | undefined;
    const signerDefinition = {
      alg: 'es256',
      reserveSize,
      sign: async (claim: Uint8Array): Promise<Uint8Array<ArrayBuffer>> => {
        try {
          const cose = await buildCoseSign1({
            payload: claim,
            certChainDer: signer.certChainDer,
            sign: (tbs) => signer.sign(tbs),
            targetSize: reserveSize,
            // C2PA v2: sign first, then time-stamp the signature (c2pa-rs sign_v2_embedded).
            ...(tsa
              ? {
                  unprotected: async (signature: Uint8Array, protectedHeader: Uint8Array) => {
                    const token = await tsa.stamp(sigTst2MessageImprint(protectedHeader, signature));
                    tokenLength = token.length;
                    return new Map([['sigTst2', sigTst2Header(token)]]);
                  },
                }
              : {}),
          });
          return new Uint8Array(cose);
        } catch (err) {
          signerFailure = err;
          throw err;
        }
      },
    };

    // On the pool, c2pa-rs runs on a thread of its own; signerDefinition.sign (the COSE_Sign1, with the
    // caller's signer and time-stamp authority) runs here when that thread asks.
    const pool = this.pool;
    const onPool = pool?.sign(
      {
        definition: JSON.stringify(definition),
        settings,
        mimeType,
        bytes: input.bytes,
        ingredients: ingredients.map((ing) => ({ json: ingredientJson(ing), mimeType: ing.mimeType, bytes: ing.bytes })),
        alg: signerDefinition.alg,
        reserveSize,
      },
      signerDefinition.sign,
    );
    let manifestStore: Uint8Array;
    let signed: Uint8Array;
    try {
      const out = onPool ? await onPool.then(thrownIfFailed) : await signHere(definition, settings, ingredients, signerDefinition, mimeType, input.bytes);
      if (!(out.asset instanceof Uint8Array) || !(out.manifest instanceof Uint8Array)) {
        throw new C2paError('engine_error', 'c2pa-wasm returned an unexpected sign result');
      }
      signed = out.asset;
      manifestStore = out.manifest;
    } catch (err) {
      if (signerFailure instanceof TimestampError) {
        throw new C2paError('timestamp_failed', signerFailure.message, { cause: signerFailure });
      }
      if (signerFailure instanceof CoseSizeError && tokenLength !== undefined) {
        // The TSA's token is what outgrew the box: its answer, not our key, is at fault.
        throw new C2paError(
          'timestamp_failed',
          `the time-stamp token of ${tokenLength} bytes does not fit the ${reserveSize}-byte signature box (${engineErrorText(signerFailure)})`,
          { cause: signerFailure },
        );
      }
      if (signerFailure !== undefined) {
        const what = signerFailure instanceof CoseSizeError ? 'reserve size too small' : 'signer failed';
        throw new C2paError('signing_failed', `${what}: ${engineErrorText(signerFailure)}`, { cause: signerFailure });
      }
      throw mapEngineError(err, 'sign');
    }

    const manifestLabel = activeManifestLabelFromJumbf(manifestStore);
    if (manifestLabel === undefined) {
      throw new C2paError('engine_error', 'could not find the active manifest label in the signed manifest store');
    }

    const result: SignResult = { bytes: signed, manifestLabel, manifestStore };
    if (input.onSigned) await input.onSigned(result);
    if (this.opts.verifyAfterSign) {
      // The bytes the caller gets, as they are after onSigned; on the pool ahead of reads and signs not begun.
      const check = pool
        ? await this.readWith({ bytes: signed, mimeType }, (m, bytes, settings) => pool.read(m, bytes, settings, { first: true }))
        : await this.readHere({ bytes: signed, mimeType });
      // What c2pa-rs' own check after signing (off while this one runs) would refuse is refused here,
      // with the same answer: every failure but an untrusted signer, which it does not judge either.
      const refused = check.kind === 'manifest' ? check.failureCodes.filter((c) => c !== 'signingCredential.untrusted') : [];
      if (check.kind !== 'manifest' || check.activeManifestLabel !== manifestLabel || refused.length > 0) {
        throw afterSignFailure(check.kind === 'manifest' ? refused : ['no manifest'], check.kind === 'manifest' && check.activeManifestLabel !== manifestLabel);
      }
      // c2pa-rs logs a token it cannot use as informational and falls back to "now", so check it here:
      // `timeStamp.validated` means the TSA's signature holds and the token covers this signature.
      if (tsa && !check.validation.success.some((s) => s.code === 'timeStamp.validated')) {
        const codes = check.validation.informational.filter((s) => s.code.startsWith('timeStamp.')).map((s) => s.code);
        throw new C2paError('timestamp_failed', `c2pa-rs does not accept the time-stamp token of ${tsa.name}: ${codes.join(', ') || 'no time-stamp status'}`);
      }
    }

    return result;
  }

  /** Reads on the pool when the engine has one (`workers`), else here. */
  async read(input: ReadInput): Promise<ReadResult> {
    const pool = this.pool;
    return this.readWith(input, pool ? (mimeType, bytes, settings) => pool.read(mimeType, bytes, settings) : readOnThisThread);
  }

  private readHere(input: ReadInput): Promise<ReadResult> {
    return this.readWith(input, readOnThisThread);
  }

  /** One meaning for what c2pa-rs' Reader gave, wherever it ran. */
  private async readWith(input: ReadInput, reader: (mimeType: SupportedMimeType, bytes: Uint8Array, settings: string) => Promise<RawRead>): Promise<ReadResult> {
    const mimeType = checkAsset(input.bytes, input.mimeType, 'asset');
    const raw = await reader(mimeType, input.bytes, this.settingsJson(input.trustAnchorsPem));
    if ('error' in raw) {
      const text = engineErrorText(raw.error);
      const kind = engineErrorKind(text);
      if (raw.stage === 'open' && kind !== undefined && READ_ERROR_CLASS[kind] === 'absent') {
        // c2pa-rs found no store; one that is there but unreadable (a changed box byte) is damaged, not absent.
        const where = findEmbeddedManifestStore(input.bytes);
        if (!where) return { kind: 'no_manifest' };
        throw new C2paError('manifest_parse_error', `the file carries a C2PA manifest store (${where}) that cannot be read: c2pa-rs finds none in it (${kind})`, {
          engineMessage: text,
          validationCodes: ['claim.malformed'],
        });
      }
      throw mapEngineError(raw.error, 'read');
    }
    try {
      return toReadResult(raw.store, raw.activeLabel);
    } catch (err) {
      throw mapEngineError(err, 'read');
    }
  }

  /** Stops the pool's threads, if any were started. */
  async close(): Promise<void> {
    await this.pool?.close();
  }
}

export function createC2paWasmEngine(opts: C2paWasmEngineOptions = {}): C2paWasmEngine {
  return new C2paWasmEngine(opts);
}

/** c2pa-rs' Builder on this thread: what c2pa-worker.js does on a pool thread. */
async function signHere(
  definition: unknown,
  settings: string,
  ingredients: (IngredientInput & { mimeType: SupportedMimeType })[],
  signerDefinition: { alg: string; reserveSize: number; sign: (claim: Uint8Array) => Promise<Uint8Array<ArrayBuffer>> },
  mimeType: SupportedMimeType,
  bytes: Uint8Array,
): Promise<{ asset?: unknown; manifest?: unknown }> {
  const builder = WasmBuilder.fromJson(JSON.stringify(definition), settings);
  try {
    for (const ing of ingredients) await addIngredient(builder, ing);
    return (await builder.signAndGetManifestBytes(signerDefinition, [], mimeType, new BytesBlob(bytes, mimeType))) as { asset?: unknown; manifest?: unknown };
  } finally {
    builder.free();
  }
}

/** A pool thread's sign, or its error thrown as c2pa-rs threw it there. */
function thrownIfFailed(r: RawSign): { asset?: unknown; manifest?: unknown } {
  if ('error' in r) throw r.error;
  return r;
}

/** c2pa-rs' Reader on this thread: what c2pa-worker.js does on a pool thread. */
async function readOnThisThread(mimeType: SupportedMimeType, bytes: Uint8Array, settings: string): Promise<RawRead> {
  await loadC2paWasm();
  let reader: WasmReader;
  try {
    reader = await WasmReader.fromBytes(mimeType, bytes, settings);
  } catch (error) {
    return { error, stage: 'open' };
  }
  try {
    return { store: reader.manifestStore() as Record<string, unknown>, activeLabel: reader.activeLabel() };
  } catch (error) {
    return { error, stage: 'store' };
  } finally {
    reader.free();
  }
}

// ---------------------------------------------------------------------------
// helpers

/**
 * SHA-256 on a libuv worker thread (WebCrypto digest jobs are asynchronous), hex. Worth it while this
 * thread waits for I/O or runs c2pa-rs (a sign hashes its input this way); not for the signed file during
 * the read-back (10–15 ms slower for a 5 MB MP4 on an earlier machine, no gain on this one: 74b3192), and
 * not in verify, where the read runs on the read thread and this thread is free to hash (docs/benchmarks.md).
 */
export async function sha256OnThreadPool(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}

function checkAsset(bytes: Uint8Array, declared: string, what: string): SupportedMimeType {
  const mimeType = normalizeMimeType(declared);
  if (!mimeType) {
    throw new C2paError('unsupported_media_type', `${what}: unsupported media type ${JSON.stringify(declared)}`);
  }
  if (!matchesMimeType(bytes, mimeType)) {
    throw new C2paError('asset_parse_error', `${what}: bytes are not a valid ${mimeType} file`);
  }
  return mimeType;
}

function ingredientJson(ing: IngredientInput): string {
  return JSON.stringify({
    title: ing.title ?? 'ingredient',
    relationship: ing.relationship ?? 'componentOf',
    ...(ing.label !== undefined ? { label: ing.label } : {}),
  });
}

async function addIngredient(builder: WasmBuilder, ing: IngredientInput & { mimeType: SupportedMimeType }): Promise<void> {
  await builder.addIngredientFromBlob(ingredientJson(ing), ing.mimeType, new BytesBlob(ing.bytes, ing.mimeType));
}

const ASSET_ERROR_KINDS = new Set(['UnsupportedType', 'InvalidAsset', 'NotFound', 'IoError', 'BadParam', 'InvalidMimeType']);

/**
 * A sign c2pa-rs' validation refused, by its codes: the signing certificate's fault or the manifest's as
 * defined. One reading for c2pa-rs' own check after signing (mapEngineError) and the read-back's.
 */
function refusedSign(codes: string[], opts: { engineMessage?: string; cause?: unknown; detail?: string } = {}): C2paError {
  const credential = codes.some((c) => c.startsWith('signingCredential.'));
  return new C2paError(
    credential ? 'invalid_signing_credential' : 'invalid_manifest_definition',
    credential ? `c2pa-rs rejected the signing certificate: ${codes.join(', ')}` : `manifest rejected by c2pa-rs: ${codes.join(', ') || opts.detail}`,
    { engineMessage: opts.engineMessage, cause: opts.cause, validationCodes: codes },
  );
}

/**
 * Why a freshly signed asset failed its read-back: as refusedSign says, unless the written file itself is
 * at fault (content hashes that do not match, another manifest active, none found: ours, not the caller's).
 */
function afterSignFailure(codes: string[], otherLabel: boolean): C2paError {
  const credential = codes.some((c) => c.startsWith('signingCredential.'));
  if (!credential && (otherLabel || codes.some((c) => c === 'no manifest' || c.endsWith('.mismatch')))) {
    return new C2paError('sign_self_check_failed', `signed asset does not validate: ${otherLabel ? 'another manifest is active' : codes.join(', ')}`, { validationCodes: codes });
  }
  return refusedSign(codes);
}

function mapEngineError(err: unknown, op: 'sign' | 'read'): C2paError {
  if (err instanceof C2paError) return err;
  const text = engineErrorText(err);
  const kind = engineErrorKind(text);
  const short = text.length > 500 ? `${text.slice(0, 500)}…` : text;
  if (op === 'sign' && kind === 'InvalidManifest') {
    // c2pa-rs' own verify-after-sign rejected the result; say why.
    // (untrusted is always listed when no anchors are configured; it is not why signing failed)
    return refusedSign(
      engineFailureCodes(text).filter((c) => c !== 'signingCredential.untrusted'),
      { engineMessage: text, cause: err, detail: short },
    );
  }
  if (op === 'sign' && (kind === 'JsonError' || kind === 'AssertionEncoding')) {
    return new C2paError('invalid_manifest_definition', `manifest rejected by c2pa-rs: ${short}`, {
      engineMessage: text,
      cause: err,
    });
  }
  if (op === 'read') return readError(err);
  if (kind && ASSET_ERROR_KINDS.has(kind)) {
    return new C2paError('asset_parse_error', `asset could not be parsed: ${short}`, { engineMessage: text, cause: err });
  }
  return new C2paError('engine_error', `c2pa-rs ${op} failed: ${short}`, { engineMessage: text, cause: err });
}

function asStatusList(v: unknown): ValidationStatusEntry[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof e.code === 'string')
    .map((e) => ({
      code: e.code as string,
      ...(typeof e.url === 'string' ? { url: e.url } : {}),
      ...(typeof e.explanation === 'string' ? { explanation: e.explanation } : {}),
    }));
}

function toReadResult(store: Record<string, unknown>, activeLabelFromReader: string | undefined): ManifestReadResult {
  const manifests = (store.manifests ?? {}) as Record<string, ManifestJson>;
  const activeManifestLabel = activeLabelFromReader ?? (store.active_manifest as string | undefined);
  const activeManifest = activeManifestLabel ? manifests[activeManifestLabel] : undefined;
  if (!activeManifestLabel || !activeManifest) {
    throw new C2paError('manifest_parse_error', 'manifest store has no active manifest');
  }
  const results = (store.validation_results ?? {}) as { activeManifest?: Record<string, unknown> };
  const active = results.activeManifest ?? {};
  const validation: ValidationResults = {
    success: asStatusList(active.success),
    informational: asStatusList(active.informational),
    failure: asStatusList(active.failure),
  };
  if (results.activeManifest === undefined) {
    // Older shape: only a flat validation_status list of failures.
    validation.failure = asStatusList(store.validation_status);
  }
  const failureCodes = [...new Set(validation.failure.map((f) => f.code))];
  const state = store.validation_state;
  const validationState: ValidationState = state === 'Trusted' || state === 'Valid' || state === 'Invalid' ? state : failureCodes.length ? 'Invalid' : 'Valid';
  const trusted = validation.success.some((s) => s.code === 'signingCredential.trusted');
  const intact = failureCodes.every((c) => TRUST_FAILURE_CODES.has(c));
  const cawg = (list: ValidationStatusEntry[]) => [...new Set(list.filter((e) => e.code.startsWith('cawg.')).map((e) => e.code))];
  const identityFailure = cawg(validation.failure);
  const identitySuccess = cawg(validation.success);
  const identity =
    identityFailure.length + identitySuccess.length > 0
      ? {
          trusted: identitySuccess.includes('cawg.x509.credential.trusted') || identitySuccess.includes('cawg.ica.credential_valid'),
          intact: identityFailure.every((c) => TRUST_FAILURE_CODES.has(c)),
          success: identitySuccess,
          failure: identityFailure,
        }
      : null;
  return {
    kind: 'manifest',
    activeManifestLabel,
    activeManifest,
    manifests,
    assertions: (activeManifest.assertions ?? []) as ManifestAssertion[],
    validationState,
    validation,
    failureCodes,
    trusted,
    intact,
    identity,
    raw: store,
  };
}

/**
 * Label of the last manifest in a C2PA JUMBF manifest store (the active one):
 * jumb{ jumd("c2pa"), jumb{ jumd("urn:c2pa:…") … }, … }.
 */
export function activeManifestLabelFromJumbf(store: Uint8Array): string | undefined {
  const dv = new DataView(store.buffer, store.byteOffset, store.byteLength);
  const boxes = (start: number, end: number) => {
    const out: Array<{ type: string; start: number; end: number }> = [];
    let off = start;
    while (off + 8 <= end) {
      let size = dv.getUint32(off);
      let header = 8;
      if (size === 1) {
        size = Number(dv.getBigUint64(off + 8));
        header = 16;
      } else if (size === 0) size = end - off;
      if (size < header || off + size > end) break;
      out.push({ type: String.fromCharCode(...store.subarray(off + 4, off + 8)), start: off + header, end: off + size });
      off += size;
    }
    return out;
  };
  const jumdLabel = (box: { start: number; end: number }): string | undefined => {
    // jumd: 16-byte type UUID, 1-byte toggles, then NUL-terminated label if toggles & 0x02
    const toggles = store[box.start + 16];
    if (toggles === undefined || (toggles & 0x02) === 0) return undefined;
    let p = box.start + 17;
    const begin = p;
    while (p < box.end && store[p] !== 0) p++;
    return new TextDecoder().decode(store.subarray(begin, p));
  };
  const [top] = boxes(0, store.length);
  if (top?.type !== 'jumb') return undefined;
  const children = boxes(top.start, top.end);
  const desc = children[0];
  if (desc?.type !== 'jumd' || jumdLabel(desc) !== 'c2pa') return undefined;
  let label: string | undefined;
  for (const child of children.slice(1)) {
    if (child.type !== 'jumb') continue;
    const [d] = boxes(child.start, child.end);
    if (d?.type === 'jumd') label = jumdLabel(d) ?? label;
  }
  return label;
}
