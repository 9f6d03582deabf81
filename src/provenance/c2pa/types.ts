/**
 * Types for the C2PA adapter (c2pa-rs via @contentauth/c2pa-wasm).
 *
 * Manifest/assertion JSON follows c2pa-rs' ManifestDefinition / Reader JSON
 * shapes (snake_case), so definitions can be passed to c2pa-rs verbatim.
 */

import type { TrainingMiningUse } from '../../vocabulary/rights.ts';
import type { TimestampAuthority } from './tsa-client.ts';

/** Container formats the adapter accepts (all embedded by c2pa-rs). */
export const SUPPORTED_MIME_TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/tiff',
  'image/avif',
  'image/heic',
  'image/heif',
  'video/mp4',
  'video/quicktime',
] as const;
export type SupportedMimeType = (typeof SUPPORTED_MIME_TYPES)[number];

/**
 * Signs C2PA claims. `sign` receives the COSE Sig_structure bytes and returns
 * a raw r||s ECDSA P-256 signature (64 bytes). A KMS that returns DER can be
 * adapted with `derEcdsaSignatureToRaw` from cose-sign1.ts.
 */
export interface C2paSigner {
  alg: 'es256';
  /** DER certificates, leaf (signing) certificate first; omit the root. */
  certChainDer: Uint8Array[];
  sign(data: Uint8Array): Promise<Uint8Array>;
  /**
   * RFC 3161 time-stamp authority. When set, every signature carries its token (C2PA v2 `sigTst2`),
   * and signing fails rather than go without one.
   */
  timestampAuthority?: TimestampAuthority;
  /** Override the reserved signature box size (bytes). Default: computed from the chain (and the TSA). */
  reserveSize?: number;
}

export interface ClaimGeneratorInfo {
  name: string;
  version?: string;
  [key: string]: unknown;
}

export interface AssertionDefinition {
  label: string;
  data: unknown;
  /** c2pa-rs assertion serialisation; default Json for JSON data. */
  kind?: 'Json' | 'Cbor';
}

/** c2pa-rs ManifestDefinition (subset we use; extra fields pass through). */
export interface ManifestDefinition {
  title?: string;
  claim_generator_info?: ClaimGeneratorInfo[];
  assertions?: AssertionDefinition[];
  /** Ingredient JSON without a binary (prefer `SignInput.ingredients`). */
  ingredients?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export type IngredientRelationship = 'parentOf' | 'componentOf' | 'inputTo';

export interface IngredientInput {
  bytes: Uint8Array;
  mimeType: string;
  title?: string;
  relationship?: IngredientRelationship;
  /** Stable id to reference this ingredient from actions (c2pa-rs `label`). */
  label?: string;
}

export interface SignInput {
  bytes: Uint8Array;
  mimeType: string;
  manifest: ManifestDefinition;
  ingredients?: IngredientInput[];
  signer: C2paSigner;
  /**
   * Called once c2pa-rs has signed, before the engine reads the file back (`verifyAfterSign`), and
   * awaited. What it starts and does not await runs beside the read-back (the service sends the output's
   * commit here); if the read-back then refuses, `sign` throws as it would have without it.
   */
  onSigned?: (signed: SignResult) => Promise<void> | void;
}

export interface SignResult {
  /** The asset with the manifest store embedded. */
  bytes: Uint8Array;
  /** Label of the new active manifest (urn:c2pa:…). */
  manifestLabel: string;
  /** Raw JUMBF manifest store that was embedded. */
  manifestStore: Uint8Array;
}

export interface ReadInput {
  bytes: Uint8Array;
  mimeType: string;
  /** PEM roots to trust (in addition to the engine's defaults). */
  trustAnchorsPem?: string[];
}

export interface ValidationStatusEntry {
  code: string;
  url?: string;
  explanation?: string;
}

export type ValidationState = 'Invalid' | 'Valid' | 'Trusted';

export interface ManifestAssertion {
  label: string;
  data: unknown;
  instance?: number;
  kind?: string;
}

export interface ManifestJson {
  label?: string;
  title?: string;
  format?: string;
  instance_id?: string;
  claim_version?: number;
  claim_generator_info?: ClaimGeneratorInfo[];
  assertions?: ManifestAssertion[];
  ingredients?: Array<Record<string, unknown>>;
  signature_info?: {
    alg?: string;
    issuer?: string;
    common_name?: string;
    cert_serial_number?: string;
    time?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ValidationResults {
  success: ValidationStatusEntry[];
  informational: ValidationStatusEntry[];
  failure: ValidationStatusEntry[];
}

export interface NoManifestResult {
  kind: 'no_manifest';
}

export interface ManifestReadResult {
  kind: 'manifest';
  activeManifestLabel: string;
  activeManifest: ManifestJson;
  /** Every manifest in the store (active + ingredients'), by label. */
  manifests: Record<string, ManifestJson>;
  /** Assertions of the active manifest. */
  assertions: ManifestAssertion[];
  /** c2pa-rs overall state: Trusted > Valid (crypto ok, not trusted) > Invalid. */
  validationState: ValidationState;
  /** Results for the active manifest. */
  validation: ValidationResults;
  /** Codes of `validation.failure`, e.g. 'assertion.dataHash.mismatch', 'signingCredential.untrusted'. */
  failureCodes: string[];
  /** Signing credential chains to a configured trust anchor. */
  trusted: boolean;
  /**
   * Integrity holds: no failure other than credential ones (untrusted,
   * expired, revoked — see TRUST_FAILURE_CODES). Fully valid = trusted && failureCodes.length === 0.
   */
  intact: boolean;
  /**
   * The CAWG identity assertion's own status, when the manifest has one: its codes (success and failure),
   * `trusted` when its credential is (`cawg.x509.credential.trusted`), `intact` when no failure is
   * anything but a trust one. Its trust failures make the file `untrusted`, never `tampered`.
   */
  identity: { trusted: boolean; intact: boolean; success: string[]; failure: string[] } | null;
  /** The full c2pa-rs Reader manifest store JSON. */
  raw: Record<string, unknown>;
}

export type ReadResult = NoManifestResult | ManifestReadResult;

export interface TrainingMiningEntry {
  /** 'c2pa.training-mining' (C2PA 1.x) or 'cawg.training-mining'. */
  assertionLabel: 'c2pa.training-mining' | 'cawg.training-mining';
  /** Entry key, e.g. 'c2pa.ai_training', 'cawg.ai_generative_training'. */
  key: string;
  use: TrainingMiningUse;
  constraintInfo?: string;
  /** Manifest the assertion came from. */
  manifestLabel: string;
}

export interface ManifestEngine {
  sign(input: SignInput): Promise<SignResult>;
  read(input: ReadInput): Promise<ReadResult>;
  /** Releases what the engine holds (a read thread); optional. */
  close?(): Promise<void>;
}
