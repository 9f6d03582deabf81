import { C2paError, engineErrorKind } from '../provenance/c2pa/errors.ts';
import { normalizeMimeType } from '../provenance/c2pa/formats.ts';
import { effectiveUse, extractTrainingMining } from '../provenance/c2pa/training-mining.ts';
import type { ManifestEngine, ReadResult } from '../provenance/c2pa/types.ts';
import type { TrainingMiningUse } from '../vocabulary/rights.ts';
import type { EmbeddedManifestState } from './embedded-manifest-state.ts';

export { EMBEDDED_MANIFEST_STATES, type EmbeddedManifestState, UNVERIFIED_MANIFEST_STATES } from './embedded-manifest-state.ts';

export type EmbeddedTrainingMining = { c2pa: TrainingMiningUse | null; cawg: TrainingMiningUse | null };

/** The state with what c2pa-rs said: its failure codes, or its error kind. */
export type EmbeddedManifest = { state: EmbeddedManifestState; codes: string[] };

export type EmbeddedTerms = { trainingMining: EmbeddedTrainingMining; manifest: EmbeddedManifest };

const NONE: EmbeddedTrainingMining = { c2pa: null, cawg: null };

/**
 * What the art says about itself: the C2PA 1.x `c2pa.training-mining` and CAWG `cawg.training-mining`
 * assertions of every manifest in the file (ingredients' restrictions travel with them), for each the most
 * restrictive of the AI-training uses, and the state of the manifest they came from. A restriction is
 * honoured even from an untrusted or invalid manifest: it can only narrow what the license allows. A file
 * whose manifest cannot be validated fails closed: its state says so and the policies deny it.
 */
export async function readEmbeddedTerms(engine: ManifestEngine, bytes: Uint8Array, mediaType: string): Promise<EmbeddedTerms> {
  const mimeType = normalizeMimeType(mediaType);
  if (!mimeType) return { trainingMining: NONE, manifest: { state: 'none', codes: [] } };
  let result: ReadResult;
  try {
    result = await engine.read({ bytes, mimeType });
  } catch (e) {
    return { trainingMining: NONE, manifest: failedRead(e) };
  }
  if (result.kind === 'no_manifest' && carriesManifestStore(bytes)) {
    return { trainingMining: NONE, manifest: { state: 'damaged', codes: ['manifest-store-unreadable'] } };
  }
  return { trainingMining: strictestTerms(result), manifest: manifestState(result) };
}

/**
 * A minimal presence check for what c2pa-rs reports as no manifest: a JUMBF description box (`jumd`) and
 * the `c2pa` label, which every C2PA manifest store carries whatever the container. One changed byte in the
 * store's box structure makes c2pa-rs miss the store; the file must not then pass as unsigned art. (The C2PA
 * reader is to tell such files apart itself; this stays as the assets' own fail-closed floor.)
 */
export function carriesManifestStore(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.indexOf('jumd') >= 0 && b.indexOf('c2pa') >= 0;
}

/** The state of a manifest c2pa-rs answered for. */
export function manifestState(result: ReadResult): EmbeddedManifest {
  if (result.kind === 'no_manifest') return { state: 'none', codes: [] };
  if (result.kind !== 'manifest') {
    // Any other answer (e.g. a store found but not readable, should the reader come to say so) is damage.
    return { state: 'damaged', codes: [String((result as { kind?: unknown }).kind)] };
  }
  if (result.intact) return { state: 'valid', codes: [] };
  return { state: 'invalid', codes: [...new Set(result.failureCodes)].sort() };
}

/**
 * c2pa-rs error kinds that are a manifest failing validation rather than a file that cannot be read: the
 * claim's signature (COSE: algorithm, certificate chain, time-stamp) or the claim itself does not hold.
 */
const VALIDATION_ERROR_KINDS = /^(Cose|Claim|InvalidClaim|Signature|Verify|HashMismatch|InvalidCertificate|CertificateProfile)/;

/**
 * The state of a file c2pa-rs refused to read: `damaged` when the manifest store cannot be parsed, `invalid`
 * when reading stopped at a manifest that does not validate, `unreadable` otherwise. The codes keep the
 * adapter's error code, c2pa-rs' error kind and any validation codes.
 */
export function failedRead(e: unknown): EmbeddedManifest {
  if (!(e instanceof C2paError)) return { state: 'unreadable', codes: ['engine_error'] };
  const kind = e.engineMessage ? engineErrorKind(e.engineMessage) : undefined;
  const codes = [...new Set([e.code, ...(kind ? [kind] : []), ...e.validationCodes])];
  // A signature or claim that does not hold is invalid even where the reader files it as a store it could not parse.
  if (kind && VALIDATION_ERROR_KINDS.test(kind)) return { state: 'invalid', codes };
  if (e.code === 'manifest_parse_error') return { state: 'damaged', codes };
  if (e.validationCodes.length > 0) return { state: 'invalid', codes };
  return { state: 'unreadable', codes };
}

function strictestTerms(result: ReadResult): EmbeddedTrainingMining {
  const entries = extractTrainingMining(result, { scope: 'all' });
  const strictest = (ns: 'c2pa' | 'cawg'): TrainingMiningUse | null => {
    const mine = entries.filter((e) => e.assertionLabel === `${ns}.training-mining`);
    const uses = ['ai_training', 'ai_generative_training'].map((p) => effectiveUse(mine, p)).filter((u) => u !== undefined);
    return uses.includes('notAllowed') ? 'notAllowed' : uses.includes('constrained') ? 'constrained' : (uses[0] ?? null);
  };
  return { c2pa: strictest('c2pa'), cawg: strictest('cawg') };
}
