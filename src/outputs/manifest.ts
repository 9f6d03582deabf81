/**
 * The C2PA manifest Clearframe signs into a generated image or video (pure: builds and reads JSON only;
 * signing and reading go through the c2pa-rs adapter in src/provenance/c2pa).
 *
 * What the manifest says, and where:
 *
 * - `c2pa.actions` (c2pa-rs writes it as `c2pa.actions.v2`): one `c2pa.created` action with
 *   `digitalSourceType` = IPTC `trainedAlgorithmicMedia` (c2pa-rs requires a digitalSourceType on
 *   `c2pa.created` in v2 claims, else `assertion.action.malformed`). The model is named where C2PA readers
 *   look for it: `softwareAgent` (a generator-info map: `name` = the base model, plus our
 *   `com.clearframe.checkpoint` key; c2pa-rs keeps extra keys of a generator-info map) and the action's
 *   `parameters` (C2PA leaves parameters open; ours are namespaced `com.clearframe.*`). `description` is
 *   the human sentence. `parameters.ingredientIds` links the action to its ingredients; c2pa-rs swaps
 *   the ids for hashed URIs at signing (`parameters.ingredients`) and refuses a v2 claim whose
 *   ingredientId matches no ingredient.
 * - `com.clearframe.lineage` (LINEAGE_LABEL): every field of OutputLineage, so anyone holding the file
 *   can walk back to the ledger: checkpoint, clearance, dataset Merkle root, policy digest, and the index
 *   of the output's registration event in the audit log (checkable against a signed checkpoint).
 * - `c2pa.training-mining` (C2PA 1.x keys) and `cawg.training-mining` (the CAWG successor C2PA 2.x
 *   points to), same entries in both: `ai_training`, `ai_generative_training`, `data_mining`,
 *   `ai_inference` are `notAllowed` unless the caller allows further training.
 * - Ingredients, all `inputTo` (C2PA: an input to the creation of the asset, not part of it):
 *   - the model: a byte-less ingredient with `data_types: [{type: 'c2pa.types.model'}]` (the C2PA asset
 *     type for an AI model), so generic C2PA viewers show which model made the output;
 *   - each source asset (art used directly as reference/conditioning). c2pa-rs DOES accept an ingredient
 *     declared in the manifest definition without its bytes: title, instance_id, relationship,
 *     description, informational_URI, metadata (with custom keys) and data_types go into the
 *     `c2pa.ingredient.v3` assertion as given, and an `inputTo` ingredient without provenance is not even
 *     flagged `ingredient.unknownProvenance` (store.rs, C2PA 15.11.3.3). The ingredient definition's
 *     `hash` field, however, is NOT written to the assertion, so the asset's sha256 goes into `metadata`
 *     (`com.clearframe.asset: {id, sha256}`) and `description`. A byte-less ingredient carries no
 *     thumbnail and no copy of the source's own manifest; when the bytes are at hand, use
 *     `sourceIngredients: 'withBytes'` and pass `sourceAssetIngredient(...)` for each source asset in the
 *     adapter's `SignInput.ingredients` instead (c2pa-rs then hashes the file and keeps its manifest).
 *
 * - `c2pa.soft-binding`: the output's PDQ fingerprint (Meta's 256-bit perceptual hash),
 *   so that any reader can look the output up by its pixels once the manifest has been stripped:
 *   `alg` SOFT_BINDING_ALG (PDQ is not in the C2PA soft-binding algorithm list, so the name is ours,
 *   reverse-domain as the list's are), one block whose `scope` is empty (the whole image) and whose `value`
 *   is the hash as 64 hex digits, PDQ's own printed form (c2pa-rs 0.8x types the value as a text string).
 *   A video's has one block per sampled frame instead, its `scope` the frame's `timespan` (c2pa-rs'
 *   SoftBindingTimespanMap: whole milliseconds from the start, up to the next sampled frame).
 *
 * Observed on c2pa-rs 0.91.3 (@contentauth/c2pa-wasm 0.13.3): object keys whose value is null do not come
 * back from the Reader (JSON and CBOR assertions alike). The lineage is therefore written in a canonical
 * form and read back with absent nullable keys restored to null: `canonicalOutputLineage` is what
 * `readOutputLineage` returns for a manifest built from the same lineage.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

import { normalizeMimeType } from '../provenance/c2pa/formats.ts';
import { type TrainingMiningPermission, trainingMiningAssertion } from '../provenance/c2pa/training-mining.ts';
import type { AssertionDefinition, ClaimGeneratorInfo, IngredientInput, ManifestDefinition, ReadResult } from '../provenance/c2pa/types.ts';

/** Custom assertion label: reverse-domain, lowercase, no `__N` instance or `.vN` version suffix. */
export const LINEAGE_LABEL = 'com.clearframe.lineage';

/** The soft-binding algorithm name of PDQ as Clearframe computes it (`media/fingerprint.ts`). */
export const SOFT_BINDING_ALG = 'com.clearframe.pdq.1';
export const SOFT_BINDING_LABEL = 'c2pa.soft-binding';

/** IPTC digital source type for media made by a model trained on sampled content. */
export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/** C2PA asset type of an AI/ML model (ingredient `data_types`). */
export const MODEL_ASSET_TYPE = 'c2pa.types.model';

/** Ingredient id (c2pa-rs `label`) of the model ingredient, referenced from the created action. */
export const MODEL_INGREDIENT_LABEL = 'clearframe:model';

/** Ingredient id (c2pa-rs `label`) of a source asset's ingredient, referenced from the created action. */
export function sourceAssetIngredientLabel(assetId: string): string {
  return `clearframe:asset:${assetId}`;
}

export type OutputLineage = {
  outputId: string;
  /** ref: Vertex model resource name or an external reference. */
  checkpoint: { id: string; ref: string; artifactDigest: string | null };
  /** e.g. veo-3.0-generate-001 */
  baseModel: string;
  clearanceId: string;
  /** digest: the dataset's Merkle root, committing to every training asset (src/datasets/digest.ts). */
  dataset: { id: string; digest: string };
  policyDigest: string;
  /** e.g. https://clearframe.example */
  ledgerUrl: string;
  /** Index of the output's registration event in the ledger's audit log. */
  auditIndex: number;
  /** Art used directly as reference/conditioning for this output. */
  sourceAssets: { assetId: string; sha256: string; title: string }[];
  /** SHA-256 (hex) of the UTF-8 prompt. */
  promptSha256?: string | null;
  /** The prompt itself: only with `promptDisclosure: 'full'`. */
  prompt?: string | null;
  generator?: { name: string; version?: string } | null;
};

// ---------------------------------------------------------------------------
// schema (the same one checks what we sign and what we read)

const hex64 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
  .transform((s) => s.toLowerCase());
const text = z.string().min(1);
/** Nullable on our side; absent on the wire when null (see the header). */
const nullable = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? null);

export const OutputLineageSchema = z.object({
  outputId: text,
  checkpoint: z.object({ id: text, ref: text, artifactDigest: nullable(text) }),
  baseModel: text,
  clearanceId: text,
  dataset: z.object({ id: text, digest: hex64 }),
  policyDigest: hex64,
  ledgerUrl: z.url({ protocol: /^https?$/ }),
  auditIndex: z.number().int().nonnegative(),
  sourceAssets: z.array(z.object({ assetId: text, sha256: hex64, title: z.string() })),
  promptSha256: nullable(hex64),
  prompt: nullable(z.string()),
  generator: nullable(z.object({ name: text, version: text.optional() })),
});

/** Lineage as written to and read from the manifest: every nullable key present. */
export type CanonicalOutputLineage = z.output<typeof OutputLineageSchema>;

export type PromptDisclosure = 'hash' | 'full';

const sha256Utf8 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * The lineage exactly as buildOutputManifest writes it (and readOutputLineage returns it): validated,
 * hex lowercased, absent nullable fields set to null, `generator.version` dropped when undefined, and the
 * prompt policy applied: the prompt's SHA-256 is always recorded when the prompt is known; the prompt
 * text only with `promptDisclosure: 'full'` (default 'hash': prompts can hold unreleased story detail).
 * Throws a TypeError naming each invalid field, or when promptSha256 does not match the prompt.
 */
export function canonicalOutputLineage(lineage: OutputLineage, opts: { promptDisclosure?: PromptDisclosure } = {}): CanonicalOutputLineage {
  const parsed = OutputLineageSchema.safeParse(lineage);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new TypeError(`invalid output lineage: ${issues.join('; ')}`);
  }
  const l = parsed.data;
  let promptSha256 = l.promptSha256;
  if (l.prompt !== null) {
    const actual = sha256Utf8(l.prompt);
    if (promptSha256 !== null && promptSha256 !== actual) {
      throw new TypeError('invalid output lineage: promptSha256 is not the SHA-256 of prompt');
    }
    promptSha256 = actual;
  }
  const generator = l.generator === null ? null : { name: l.generator.name, ...(l.generator.version !== undefined ? { version: l.generator.version } : {}) };
  return {
    ...l,
    checkpoint: { ...l.checkpoint },
    dataset: { ...l.dataset },
    sourceAssets: l.sourceAssets.map((a) => ({ assetId: a.assetId, sha256: a.sha256, title: a.title })),
    promptSha256,
    prompt: (opts.promptDisclosure ?? 'hash') === 'full' ? l.prompt : null,
    generator,
  };
}

// ---------------------------------------------------------------------------
// source assets

/** Map ledger asset records (e.g. from the assets service) to the lineage's sourceAssets. */
export function lineageSourceAssets(assets: readonly { id: string; sha256: string; title: string }[]): OutputLineage['sourceAssets'] {
  return assets.map((a) => ({ assetId: a.id, sha256: a.sha256.toLowerCase(), title: a.title }));
}

/**
 * The adapter ingredient for a source asset whose bytes are at hand (use with
 * `sourceIngredients: 'withBytes'`): relationship `inputTo`, labelled so the created action finds it.
 */
export function sourceAssetIngredient(asset: OutputLineage['sourceAssets'][number], bytes: Uint8Array, mimeType: string): IngredientInput {
  return { bytes, mimeType, title: asset.title, relationship: 'inputTo', label: sourceAssetIngredientLabel(asset.assetId) };
}

// ---------------------------------------------------------------------------
// build

export interface BuildOutputManifestInput {
  title: string;
  mimeType: string;
  lineage: OutputLineage;
  /** true: the output may itself be used for training / mining (the training-mining entries say allowed). */
  allowFurtherTraining: boolean;
  /** c2pa `ai_inference` (use as input to a model at inference). Default: same as allowFurtherTraining. */
  allowInference?: boolean;
  claimGenerator?: { name: string; version?: string };
  /** Default 'hash': only the prompt's SHA-256 goes into the manifest. */
  promptDisclosure?: PromptDisclosure;
  /**
   * 'declared' (default): each source asset is declared as a byte-less `inputTo` ingredient here.
   * 'withBytes': the caller passes `sourceAssetIngredient(...)` for every source asset in
   * `SignInput.ingredients`; the created action references them by label (c2pa-rs refuses to sign if
   * one is missing).
   */
  sourceIngredients?: 'declared' | 'withBytes';
  /**
   * The output's PDQ fingerprint (64 hex digits), and optionally the PDQ of its centre (the middle 95 %),
   * written as a `c2pa.soft-binding` assertion; none for a video.
   */
  softBinding?: { pdq: string; centre?: string } | null;
  /**
   * A video's sampled frames (PDQ each, at whole milliseconds from the start, in time order) and its
   * duration, written as a `c2pa.soft-binding` assertion with a block per frame.
   */
  videoSoftBinding?: { frames: readonly { atMs: number; value: string }[]; durationMs: number } | null;
}

function trainingMiningEntries(allowTraining: boolean, allowInference: boolean): Record<string, TrainingMiningPermission> {
  const use = (allowed: boolean): TrainingMiningPermission => ({ use: allowed ? 'allowed' : 'notAllowed' });
  return {
    ai_training: use(allowTraining),
    ai_generative_training: use(allowTraining),
    data_mining: use(allowTraining),
    ai_inference: use(allowInference),
  };
}

function assetUrl(ledgerUrl: string, assetId: string): string {
  return `${ledgerUrl.replace(/\/+$/, '')}/v1/assets/${encodeURIComponent(assetId)}`;
}

/** The c2pa-rs ManifestDefinition for a generated output (pass to `ManifestEngine.sign`). */
export function buildOutputManifest(input: BuildOutputManifestInput): ManifestDefinition {
  const format = normalizeMimeType(input.mimeType);
  if (!format) throw new TypeError(`buildOutputManifest: unsupported media type ${JSON.stringify(input.mimeType)}`);
  if (input.title.trim() === '') throw new TypeError('buildOutputManifest: title must not be empty');
  const lineage = canonicalOutputLineage(input.lineage, { promptDisclosure: input.promptDisclosure ?? 'hash' });
  const { checkpoint, baseModel } = lineage;

  const sourceLabels = lineage.sourceAssets.map((a) => sourceAssetIngredientLabel(a.assetId));
  if (new Set(sourceLabels).size !== sourceLabels.length) {
    throw new TypeError('buildOutputManifest: a source asset is listed twice');
  }

  const checkpointParam = {
    id: checkpoint.id,
    ref: checkpoint.ref,
    ...(checkpoint.artifactDigest !== null ? { artifactDigest: checkpoint.artifactDigest } : {}),
  };
  const created = {
    action: 'c2pa.created',
    digitalSourceType: TRAINED_ALGORITHMIC_MEDIA,
    softwareAgent: { name: baseModel, 'com.clearframe.checkpoint': checkpoint.id },
    description: `Generated by ${baseModel}, fine-tuned checkpoint ${checkpoint.id} (${checkpoint.ref})`,
    parameters: {
      'com.clearframe.baseModel': baseModel,
      'com.clearframe.checkpoint': checkpointParam,
      ...(lineage.generator !== null ? { 'com.clearframe.generator': lineage.generator } : {}),
      ingredientIds: [MODEL_INGREDIENT_LABEL, ...sourceLabels],
    },
  };

  const modelIngredient = {
    title: `${baseModel} (fine-tuned checkpoint ${checkpoint.id})`,
    relationship: 'inputTo',
    label: MODEL_INGREDIENT_LABEL,
    data_types: [{ type: MODEL_ASSET_TYPE }],
    description: `checkpoint ${checkpoint.id}: ${checkpoint.ref}`,
    metadata: { 'com.clearframe.checkpoint': checkpointParam },
  };
  const sourceIngredients =
    (input.sourceIngredients ?? 'declared') === 'declared'
      ? lineage.sourceAssets.map((a) => ({
          title: a.title,
          relationship: 'inputTo',
          label: sourceAssetIngredientLabel(a.assetId),
          description: `Clearframe asset ${a.assetId}, sha256 ${a.sha256}`,
          informational_URI: assetUrl(lineage.ledgerUrl, a.assetId),
          metadata: { 'com.clearframe.asset': { id: a.assetId, sha256: a.sha256 } },
        }))
      : [];

  const allowTraining = input.allowFurtherTraining;
  const allowInference = input.allowInference ?? allowTraining;
  const assertions: AssertionDefinition[] = [
    { label: 'c2pa.actions', data: { actions: [created] } },
    { label: LINEAGE_LABEL, data: lineageWireForm(lineage) },
    trainingMiningAssertion('c2pa', trainingMiningEntries(allowTraining, allowInference)),
    trainingMiningAssertion('cawg', trainingMiningEntries(allowTraining, allowInference)),
  ];
  if (input.softBinding) {
    const { pdq, centre } = input.softBinding;
    if (!/^[0-9a-f]{64}$/.test(pdq)) throw new TypeError('buildOutputManifest: softBinding.pdq must be 64 lower-case hex digits');
    if (centre !== undefined && !/^[0-9a-f]{64}$/.test(centre)) throw new TypeError('buildOutputManifest: softBinding.centre must be 64 lower-case hex digits');
    assertions.push(softBindingAssertion(pdq, centre));
  }
  if (input.videoSoftBinding) {
    if (input.softBinding) throw new TypeError('buildOutputManifest: an output has a still image’s soft binding or a video’s, not both');
    assertions.push(videoSoftBindingAssertion(input.videoSoftBinding.frames, input.videoSoftBinding.durationMs));
  }

  const claimGenerator: ClaimGeneratorInfo | undefined = input.claimGenerator
    ? { name: input.claimGenerator.name, ...(input.claimGenerator.version !== undefined ? { version: input.claimGenerator.version } : {}) }
    : undefined;

  return {
    title: input.title,
    format,
    ...(claimGenerator ? { claim_generator_info: [claimGenerator] } : {}),
    assertions,
    ingredients: [modelIngredient, ...sourceIngredients],
  };
}

/**
 * The centre's region as C2PA states a region of interest: a rectangle in percent of the image, CENTRE_MARGIN
 * off each side (media/fingerprint.ts).
 */
export const CENTRE_REGION = {
  region: [{ type: 'spatial', shape: { type: 'rectangle', unit: 'percent', origin: { x: 2.5, y: 2.5 }, width: 95, height: 95 } }],
  name: 'centre',
  description: 'the middle 95 % of the width and height: what a 5 % border crop keeps',
} as const;

/**
 * The `c2pa.soft-binding` assertion of a PDQ hash over the whole image (an empty scope), and, given, one
 * over its centre (a block whose scope is CENTRE_REGION).
 */
export function softBindingAssertion(pdq: string, centre?: string): AssertionDefinition {
  const blocks: { scope: Record<string, unknown>; value: string }[] = [{ scope: {}, value: pdq }];
  if (centre !== undefined) blocks.push({ scope: { region: CENTRE_REGION }, value: centre });
  return { label: SOFT_BINDING_LABEL, data: { alg: SOFT_BINDING_ALG, blocks } };
}

/**
 * The `c2pa.soft-binding` assertion of a video: a block per sampled frame, its scope the timespan from the
 * frame to the next one (the last to the end of the video), its value the frame's PDQ.
 */
export function videoSoftBindingAssertion(frames: readonly { atMs: number; value: string }[], durationMs: number): AssertionDefinition {
  if (frames.length === 0) throw new TypeError('buildOutputManifest: a video soft binding has at least one frame');
  const blocks = frames.map((f, i) => {
    if (!/^[0-9a-f]{64}$/.test(f.value)) throw new TypeError('buildOutputManifest: a frame’s PDQ must be 64 lower-case hex digits');
    const next = frames[i + 1];
    if (!Number.isInteger(f.atMs) || f.atMs < 0 || (next && !(next.atMs > f.atMs))) throw new TypeError('buildOutputManifest: frame times are whole milliseconds, increasing');
    const end = next ? next.atMs : Math.max(Math.round(durationMs), f.atMs + 1);
    return { scope: { timespan: { start: f.atMs, end } }, value: f.value };
  });
  return { label: SOFT_BINDING_LABEL, data: { alg: SOFT_BINDING_ALG, blocks } };
}

type StatedBlock = { scope?: { region?: unknown; timespan?: unknown } | null; value?: unknown };
const isHash = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** The PDQ hashes a manifest's soft-binding assertion states (the whole image's; its centre's, if stated), if it has exactly one of ours. */
export function readSoftBindings(result: ReadResult): { pdq: string; centre: string | null } | null {
  if (result.kind !== 'manifest') return null;
  const found = result.assertions.filter((a) => baseLabel(a.label) === SOFT_BINDING_LABEL && (a.data as { alg?: unknown } | null)?.alg === SOFT_BINDING_ALG);
  if (found.length !== 1) return null;
  const blocks = (found[0]!.data as { blocks?: StatedBlock[] }).blocks ?? [];
  // A video's frame blocks (scoped by timespan) are not a still image's.
  const whole = blocks.find((b) => !b.scope?.region && !b.scope?.timespan);
  if (!whole || !isHash(whole.value)) return null;
  const centre = blocks.find((b) => b.scope?.region);
  return { pdq: whole.value, centre: centre && isHash(centre.value) ? centre.value : null };
}

/** The frames a video's soft-binding assertion states (each PDQ with its timespan in milliseconds), if it has exactly one of ours. */
export function readVideoSoftBinding(result: ReadResult): { start: number; end: number; value: string }[] | null {
  if (result.kind !== 'manifest') return null;
  const found = result.assertions.filter((a) => baseLabel(a.label) === SOFT_BINDING_LABEL && (a.data as { alg?: unknown } | null)?.alg === SOFT_BINDING_ALG);
  if (found.length !== 1) return null;
  const frames: { start: number; end: number; value: string }[] = [];
  for (const b of (found[0]!.data as { blocks?: StatedBlock[] }).blocks ?? []) {
    const span = b.scope?.timespan as { start?: unknown; end?: unknown } | undefined;
    if (!span || typeof span.start !== 'number' || typeof span.end !== 'number' || !isHash(b.value)) continue;
    frames.push({ start: span.start, end: span.end, value: b.value });
  }
  return frames.length > 0 ? frames : null;
}

/** The whole image's PDQ hash a manifest's soft-binding assertion states, if it has exactly one of ours. */
export function readSoftBinding(result: ReadResult): string | null {
  return readSoftBindings(result)?.pdq ?? null;
}

/** Nulls left out (c2pa-rs would drop them anyway; writing them out would make the signed bytes lie). */
function lineageWireForm(l: CanonicalOutputLineage): Record<string, unknown> {
  return JSON.parse(JSON.stringify(l, (_k, v: unknown) => (v === null ? undefined : v))) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------
// read

/** `com.clearframe.lineage__1` → `com.clearframe.lineage` (c2pa-rs instance suffix). */
const baseLabel = (label: string) => label.replace(/__\d+$/, '');

/**
 * The lineage of the active manifest, in canonical form; null when there is no manifest, no lineage
 * assertion, more than one, or one whose shape does not validate. This reads what the manifest SAYS: check
 * `result.intact` (and `trusted`) before relying on it.
 */
export function readOutputLineage(result: ReadResult): CanonicalOutputLineage | null {
  if (result.kind !== 'manifest') return null;
  const found = result.assertions.filter((a) => baseLabel(a.label) === LINEAGE_LABEL);
  if (found.length !== 1) return null;
  const parsed = OutputLineageSchema.safeParse(found[0]!.data);
  return parsed.success ? parsed.data : null;
}
