/**
 * The C2PA manifest of a generated output: built by src/outputs/manifest.ts, signed and read back by the
 * real c2pa-rs (wasm) adapter on real JPEG, PNG and MP4 files.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  buildOutputManifest,
  canonicalOutputLineage,
  LINEAGE_LABEL,
  lineageSourceAssets,
  MODEL_ASSET_TYPE,
  MODEL_INGREDIENT_LABEL,
  type OutputLineage,
  readOutputLineage,
  SOFT_BINDING_ALG,
  SOFT_BINDING_LABEL,
  sourceAssetIngredient,
  sourceAssetIngredientLabel,
  TRAINED_ALGORITHMIC_MEDIA,
} from '../../src/outputs/manifest.ts';
import { type C2paWasmEngine, createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import { effectiveUse, extractTrainingMining } from '../../src/provenance/c2pa/training-mining.ts';
import type { C2paSigner, ManifestAssertion, ManifestDefinition, ManifestReadResult, ReadResult } from '../../src/provenance/c2pa/types.ts';
import { makeJpeg, makeMp4, makePng } from '../fixtures/media.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const PURPOSES = ['ai_training', 'ai_generative_training', 'data_mining', 'ai_inference'] as const;

/** Canonical (every nullable key present), so it must come back exactly as is. */
const LINEAGE: OutputLineage = {
  outputId: 'out_01HZX3',
  checkpoint: {
    id: 'ckpt_01HZW9',
    ref: 'projects/upstairs/locations/us-central1/models/4471@2',
    artifactDigest: `sha256:${sha('weights')}`,
  },
  baseModel: 'veo-3.0-generate-001',
  clearanceId: 'clr_01HZW1',
  dataset: { id: 'ds_01HZV7', digest: sha('dataset root') },
  policyDigest: sha('policies'),
  ledgerUrl: 'https://clearframe.example',
  auditIndex: 4711,
  sourceAssets: [
    { assetId: 'ast_stairwell', sha256: sha('stairwell.png'), title: 'Stairwell, night, key frame 3' },
    { assetId: 'ast_hallway', sha256: sha('hallway.png'), title: 'Hallway — “upstairs” (v2)' },
  ],
  promptSha256: sha('a painter climbs the stairwell at night'),
  prompt: null,
  generator: { name: 'clearframe-generate', version: '0.1.0' },
};

function expectManifest(r: ReadResult): ManifestReadResult {
  if (r.kind !== 'manifest') throw new Error('expected a manifest');
  return r;
}

const byBase = (r: ManifestReadResult, label: string): ManifestAssertion[] => r.assertions.filter((a) => a.label.replace(/__\d+$/, '').replace(/\.v\d+$/, '') === label);

type CreatedAction = {
  action: string;
  digitalSourceType?: string;
  description?: string;
  softwareAgent?: Record<string, unknown>;
  parameters?: Record<string, unknown> & { ingredients?: { url: string }[] };
};

function actionsOf(r: ManifestReadResult): CreatedAction[] {
  const found = byBase(r, 'c2pa.actions');
  expect(found).toHaveLength(1);
  return (found[0]!.data as { actions: CreatedAction[] }).actions;
}

describe('output manifest signed by c2pa-rs', () => {
  let engine: C2paWasmEngine;
  let signer: C2paSigner;

  beforeAll(() => {
    const identity = createLocalSigningIdentity();
    engine = createC2paWasmEngine({ trustAnchorsPem: [identity.ca.certPem] });
    signer = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
  });

  async function signAndRead(bytes: Uint8Array, mimeType: string, manifest: ManifestDefinition) {
    const signed = await engine.sign({ bytes, mimeType, manifest, signer });
    const r = expectManifest(await engine.read({ bytes: signed.bytes, mimeType }));
    expect(r.validationState).toBe('Trusted');
    expect(r.failureCodes).toEqual([]);
    return r;
  }

  it('JPEG: created action names model and checkpoint, lineage round-trips exactly, training notAllowed', async () => {
    const manifest = buildOutputManifest({
      title: 'stairwell-gen-001.jpg',
      mimeType: 'image/jpeg',
      lineage: LINEAGE,
      allowFurtherTraining: false,
      claimGenerator: { name: 'clearframe', version: '0.1.0' },
    });
    const r = await signAndRead(makeJpeg({ seed: 7 }), 'image/jpeg', manifest);

    // actions: exactly one, c2pa.created, trainedAlgorithmicMedia, naming model and checkpoint
    const actions = actionsOf(r);
    expect(actions).toHaveLength(1);
    const created = actions[0]!;
    expect(created.action).toBe('c2pa.created');
    expect(created.digitalSourceType).toBe(TRAINED_ALGORITHMIC_MEDIA);
    expect(created.softwareAgent).toEqual({ name: 'veo-3.0-generate-001', 'com.clearframe.checkpoint': 'ckpt_01HZW9' });
    expect(created.description).toContain('veo-3.0-generate-001');
    expect(created.description).toContain('ckpt_01HZW9');
    expect(created.parameters?.['com.clearframe.baseModel']).toBe('veo-3.0-generate-001');
    expect(created.parameters?.['com.clearframe.checkpoint']).toEqual(LINEAGE.checkpoint);
    expect(created.parameters?.['com.clearframe.generator']).toEqual(LINEAGE.generator);
    // ingredientIds were resolved by c2pa-rs into hashed URIs of the three ingredient assertions
    expect(created.parameters?.ingredientIds).toBeUndefined();
    expect(created.parameters?.ingredients?.map((i) => i.url)).toEqual([
      'self#jumbf=c2pa.assertions/c2pa.ingredient.v3',
      'self#jumbf=c2pa.assertions/c2pa.ingredient.v3__1',
      'self#jumbf=c2pa.assertions/c2pa.ingredient.v3__2',
    ]);

    // lineage: exactly what we put in
    expect(byBase(r, LINEAGE_LABEL)).toHaveLength(1);
    expect(readOutputLineage(r)).toStrictEqual(LINEAGE);

    // training-mining: every purpose notAllowed, in both the C2PA 1.x and the CAWG assertion
    const tm = extractTrainingMining(r);
    expect(tm).toHaveLength(8);
    expect(tm.every((e) => e.use === 'notAllowed')).toBe(true);
    expect(tm.map((e) => e.key).sort()).toEqual([...PURPOSES.map((p) => `c2pa.${p}`), ...PURPOSES.map((p) => `cawg.${p}`)].sort());
    for (const p of PURPOSES) expect(effectiveUse(tm, p)).toBe('notAllowed');

    // ingredients: the model and both source assets, all inputTo, declared without bytes
    const ingredients = r.activeManifest.ingredients ?? [];
    expect(ingredients).toHaveLength(3);
    expect(ingredients[0]).toMatchObject({
      title: 'veo-3.0-generate-001 (fine-tuned checkpoint ckpt_01HZW9)',
      relationship: 'inputTo',
      data_types: [{ type: MODEL_ASSET_TYPE }],
      metadata: { 'com.clearframe.checkpoint': LINEAGE.checkpoint },
    });
    LINEAGE.sourceAssets.forEach((a, i) => {
      expect(ingredients[i + 1]).toMatchObject({
        title: a.title,
        relationship: 'inputTo',
        informational_URI: `https://clearframe.example/v1/assets/${a.assetId}`,
        metadata: { 'com.clearframe.asset': { id: a.assetId, sha256: a.sha256 } },
      });
      expect(ingredients[i + 1]?.description).toContain(a.sha256);
      expect(ingredients[i + 1]?.active_manifest).toBeUndefined();
    });
    // byte-less inputTo ingredients are not flagged as of unknown provenance
    const codes = [...r.validation.informational, ...r.validation.failure].map((s) => s.code);
    expect(codes).not.toContain('ingredient.unknownProvenance');

    expect(r.activeManifest.title).toBe('stairwell-gen-001.jpg');
    expect(r.activeManifest.claim_generator_info?.[0]).toMatchObject({ name: 'clearframe', version: '0.1.0' });
  });

  it('PNG with allowFurtherTraining: every purpose allowed; nullable fields absent on input come back as null', async () => {
    const lineage: OutputLineage = {
      ...LINEAGE,
      checkpoint: { ...LINEAGE.checkpoint, artifactDigest: null },
      sourceAssets: [LINEAGE.sourceAssets[0]!],
    };
    delete lineage.promptSha256;
    delete lineage.prompt;
    delete lineage.generator;
    const r = await signAndRead(makePng({ seed: 9 }), 'image/png', buildOutputManifest({ title: 'frame.png', mimeType: 'image/png', lineage, allowFurtherTraining: true }));
    const tm = extractTrainingMining(r);
    expect(tm).toHaveLength(8);
    expect(tm.every((e) => e.use === 'allowed')).toBe(true);
    for (const p of PURPOSES) expect(effectiveUse(tm, p)).toBe('allowed');

    const back = readOutputLineage(r);
    expect(back).toStrictEqual(canonicalOutputLineage(lineage));
    expect(back).toStrictEqual({ ...lineage, promptSha256: null, prompt: null, generator: null });
    expect(back?.checkpoint.artifactDigest).toBeNull();
    expect(actionsOf(r)[0]?.parameters?.['com.clearframe.checkpoint']).toEqual({
      id: LINEAGE.checkpoint.id,
      ref: LINEAGE.checkpoint.ref,
    });
  });

  it('MP4: prompt disclosed in full (hash recorded with it); no source assets → only the model ingredient', async () => {
    const prompt = 'Slow dolly up the stairwell; sodium light; rain on the skylight.';
    const lineage: OutputLineage = { ...LINEAGE, sourceAssets: [], prompt, promptSha256: null, generator: { name: 'veo-runner' } };
    const r = await signAndRead(
      makeMp4({ frames: 3 }),
      'video/mp4',
      buildOutputManifest({
        title: 'stairwell-dolly.mp4',
        mimeType: 'video/mp4',
        lineage,
        allowFurtherTraining: false,
        promptDisclosure: 'full',
      }),
    );
    const back = readOutputLineage(r);
    expect(back).toStrictEqual({ ...lineage, promptSha256: sha(prompt) });
    expect(back?.generator).toStrictEqual({ name: 'veo-runner' });
    const created = actionsOf(r)[0]!;
    expect(created.digitalSourceType).toBe(TRAINED_ALGORITHMIC_MEDIA);
    expect(created.parameters?.ingredients).toHaveLength(1);
    expect(r.activeManifest.ingredients).toHaveLength(1);
    expect(extractTrainingMining(r).every((e) => e.use === 'notAllowed')).toBe(true);
  });

  it('the prompt is stored as its hash by default', async () => {
    const prompt = 'the neighbour upstairs, seen only as a shadow';
    const manifest = buildOutputManifest({
      title: 'x.jpg',
      mimeType: 'image/jpeg',
      lineage: { ...LINEAGE, prompt, promptSha256: undefined },
      allowFurtherTraining: false,
    });
    const r = await signAndRead(makeJpeg({ seed: 8 }), 'image/jpeg', manifest);
    expect(readOutputLineage(r)).toStrictEqual({ ...LINEAGE, promptSha256: sha(prompt), prompt: null });
    expect(JSON.stringify(r.raw)).not.toContain('shadow');
  });

  it("'withBytes': source art passed as real ingredients with sourceAssetIngredient; the action links them", async () => {
    const art = LINEAGE.sourceAssets.map((a, i) => ({ asset: a, bytes: makeJpeg({ seed: 100 + i }) }));
    const manifest = buildOutputManifest({
      title: 'out.jpg',
      mimeType: 'image/jpeg',
      lineage: LINEAGE,
      allowFurtherTraining: false,
      sourceIngredients: 'withBytes',
    });
    expect(manifest.ingredients).toHaveLength(1); // only the model is declared
    const signed = await engine.sign({
      bytes: makeJpeg({ seed: 12 }),
      mimeType: 'image/jpeg',
      manifest,
      ingredients: art.map(({ asset, bytes }) => sourceAssetIngredient(asset, bytes, 'image/jpeg')),
      signer,
    });
    const r = expectManifest(await engine.read({ bytes: signed.bytes, mimeType: 'image/jpeg' }));
    expect(r.validationState).toBe('Trusted');
    const ingredients = r.activeManifest.ingredients ?? [];
    expect(ingredients.map((i) => [i.title, i.relationship])).toEqual([
      [`veo-3.0-generate-001 (fine-tuned checkpoint ckpt_01HZW9)`, 'inputTo'],
      [LINEAGE.sourceAssets[0]!.title, 'inputTo'],
      [LINEAGE.sourceAssets[1]!.title, 'inputTo'],
    ]);
    expect(ingredients[1]?.format).toBe('image/jpeg');
    expect(actionsOf(r)[0]?.parameters?.ingredients).toHaveLength(3);
    expect(readOutputLineage(r)).toStrictEqual(LINEAGE);

    // a source asset named in the lineage but not passed: c2pa-rs refuses to sign
    await expect(
      engine.sign({
        bytes: makeJpeg({ seed: 13 }),
        mimeType: 'image/jpeg',
        manifest,
        ingredients: [sourceAssetIngredient(art[0]!.asset, art[0]!.bytes, 'image/jpeg')],
        signer,
      }),
    ).rejects.toThrow(/ingredientId not found: clearframe:asset:ast_hallway/);
  });

  it('readOutputLineage → null for an unsigned file and for a file signed without lineage', async () => {
    expect(readOutputLineage(await engine.read({ bytes: makeJpeg(), mimeType: 'image/jpeg' }))).toBeNull();
    const r = await signAndRead(makeJpeg({ seed: 3 }), 'image/jpeg', {
      title: 'plain.jpg',
      assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] } }],
    });
    expect(readOutputLineage(r)).toBeNull();
  });

  it('readOutputLineage → null for a signed file whose lineage has the wrong shape', async () => {
    const manifest = buildOutputManifest({ title: 't.png', mimeType: 'image/png', lineage: LINEAGE, allowFurtherTraining: false });
    const tampered: ManifestDefinition = {
      ...manifest,
      assertions: manifest.assertions?.map((a) => (a.label === LINEAGE_LABEL ? { ...a, data: { ...(a.data as object), auditIndex: '4711', dataset: { id: 'ds_01HZV7' } } } : a)),
    };
    const r = await signAndRead(makePng({ seed: 4 }), 'image/png', tampered);
    expect(byBase(r, LINEAGE_LABEL)).toHaveLength(1);
    expect(readOutputLineage(r)).toBeNull();
  });
});

describe('readOutputLineage on read results (shape checks)', () => {
  const resultWith = (...assertions: ManifestAssertion[]): ReadResult => ({
    kind: 'manifest',
    activeManifestLabel: 'urn:c2pa:x',
    activeManifest: { assertions },
    manifests: {},
    assertions,
    validationState: 'Trusted',
    validation: { success: [], informational: [], failure: [] },
    failureCodes: [],
    trusted: true,
    intact: true,
    identity: null,
    raw: {},
  });
  const wire = JSON.parse(JSON.stringify(LINEAGE, (_k, v: unknown) => (v === null ? undefined : v))) as Record<string, unknown>;

  it('accepts the wire form, also under an instance suffix; ignores unknown keys', () => {
    expect(readOutputLineage(resultWith({ label: LINEAGE_LABEL, data: wire }))).toStrictEqual(LINEAGE);
    expect(readOutputLineage(resultWith({ label: `${LINEAGE_LABEL}__1`, data: { ...wire, future: 1 } }))).toStrictEqual(LINEAGE);
  });

  it.each<[string, Record<string, unknown>]>([
    ['auditIndex not a number', { ...wire, auditIndex: '4711' }],
    ['negative auditIndex', { ...wire, auditIndex: -1 }],
    ['fractional auditIndex', { ...wire, auditIndex: 1.5 }],
    ['dataset digest not hex', { ...wire, dataset: { id: 'ds', digest: 'zz' } }],
    ['missing outputId', { ...wire, outputId: undefined }],
    ['empty checkpoint id', { ...wire, checkpoint: { id: '', ref: 'r' } }],
    ['source asset without sha256', { ...wire, sourceAssets: [{ assetId: 'a', title: 't' }] }],
    ['sourceAssets not a list', { ...wire, sourceAssets: 'ast_1' }],
    ['ledgerUrl not http(s)', { ...wire, ledgerUrl: 'javascript:alert(1)' }],
    ['promptSha256 not hex', { ...wire, promptSha256: 'abc' }],
    ['generator without name', { ...wire, generator: { version: '1' } }],
  ])('%s → null', (_name, data) => {
    expect(readOutputLineage(resultWith({ label: LINEAGE_LABEL, data }))).toBeNull();
  });

  it('null for a non-object, for two lineage assertions, and for no manifest', () => {
    expect(readOutputLineage(resultWith({ label: LINEAGE_LABEL, data: 'lineage' }))).toBeNull();
    expect(readOutputLineage(resultWith({ label: LINEAGE_LABEL, data: null }))).toBeNull();
    expect(readOutputLineage(resultWith({ label: LINEAGE_LABEL, data: wire }, { label: `${LINEAGE_LABEL}__1`, data: wire }))).toBeNull();
    expect(readOutputLineage({ kind: 'no_manifest' })).toBeNull();
  });
});

describe('buildOutputManifest (definition only)', () => {
  const build = (over: Partial<Parameters<typeof buildOutputManifest>[0]> = {}) =>
    buildOutputManifest({ title: 'o.jpg', mimeType: 'image/jpeg', lineage: LINEAGE, allowFurtherTraining: false, ...over });
  const tmData = (m: ManifestDefinition, label: string) => (m.assertions!.find((a) => a.label === label)!.data as { entries: Record<string, { use: string }> }).entries;

  it('ai_inference follows allowFurtherTraining unless set on its own', () => {
    expect(tmData(build({ allowInference: true }), 'c2pa.training-mining')).toEqual({
      'c2pa.ai_training': { use: 'notAllowed' },
      'c2pa.ai_generative_training': { use: 'notAllowed' },
      'c2pa.data_mining': { use: 'notAllowed' },
      'c2pa.ai_inference': { use: 'allowed' },
    });
    expect(tmData(build({ allowFurtherTraining: true, allowInference: false }), 'cawg.training-mining')).toEqual({
      'cawg.ai_training': { use: 'allowed' },
      'cawg.ai_generative_training': { use: 'allowed' },
      'cawg.data_mining': { use: 'allowed' },
      'cawg.ai_inference': { use: 'notAllowed' },
    });
  });

  it('the created action references the model and every source asset by ingredient id', () => {
    const m = build();
    const created = (m.assertions![0]!.data as { actions: CreatedAction[] }).actions[0]!;
    expect(created.parameters?.ingredientIds).toEqual([MODEL_INGREDIENT_LABEL, sourceAssetIngredientLabel('ast_stairwell'), sourceAssetIngredientLabel('ast_hallway')]);
    expect(m.ingredients?.map((i) => i.label)).toEqual(created.parameters?.ingredientIds);
    expect(m.format).toBe('image/jpeg');
    expect(m.claim_generator_info).toBeUndefined(); // the engine's default applies
  });

  it('a video’s soft binding: a block per frame, scoped by its timespan up to the next frame (the last to the end)', () => {
    const [a, b] = ['ab'.repeat(32), 'cd'.repeat(32)];
    const m = build({
      mimeType: 'video/mp4',
      videoSoftBinding: {
        frames: [
          { atMs: 0, value: a },
          { atMs: 1000, value: b },
        ],
        durationMs: 1800,
      },
    });
    expect(m.assertions!.find((x) => x.label === SOFT_BINDING_LABEL)?.data).toEqual({
      alg: SOFT_BINDING_ALG,
      blocks: [
        { scope: { timespan: { start: 0, end: 1000 } }, value: a },
        { scope: { timespan: { start: 1000, end: 1800 } }, value: b },
      ],
    });
    expect(() => build({ mimeType: 'video/mp4', videoSoftBinding: { frames: [], durationMs: 1 } })).toThrow(/at least one frame/);
    expect(() =>
      build({
        mimeType: 'video/mp4',
        videoSoftBinding: {
          frames: [
            { atMs: 5, value: a },
            { atMs: 5, value: b },
          ],
          durationMs: 9,
        },
      }),
    ).toThrow(/increasing/);
    expect(() => build({ mimeType: 'video/mp4', videoSoftBinding: { frames: [{ atMs: 0, value: 'AB'.repeat(32) }], durationMs: 9 } })).toThrow(/hex/);
    expect(() => build({ softBinding: { pdq: a }, videoSoftBinding: { frames: [{ atMs: 0, value: a }], durationMs: 9 } })).toThrow(/not both/);
  });

  it('lineageSourceAssets maps ledger asset records', () => {
    expect(lineageSourceAssets([{ id: 'ast_1', sha256: 'AB'.repeat(32), title: 'T' }])).toEqual([{ assetId: 'ast_1', sha256: 'ab'.repeat(32), title: 'T' }]);
  });

  it('refuses what it cannot sign truthfully', () => {
    expect(() => build({ mimeType: 'application/pdf' })).toThrow(/unsupported media type/);
    expect(() => build({ title: ' ' })).toThrow(/title/);
    expect(() => build({ lineage: { ...LINEAGE, policyDigest: 'nope' } })).toThrow(/policyDigest/);
    expect(() => build({ lineage: { ...LINEAGE, auditIndex: -3 } })).toThrow(/auditIndex/);
    expect(() => build({ lineage: { ...LINEAGE, prompt: 'a', promptSha256: sha('b') } })).toThrow(/promptSha256/);
    expect(() => build({ lineage: { ...LINEAGE, sourceAssets: [LINEAGE.sourceAssets[0]!, LINEAGE.sourceAssets[0]!] } })).toThrow(/twice/);
  });

  it('canonical form: hex lowercased, nullable keys filled, prompt withheld by default', () => {
    const c = canonicalOutputLineage({
      ...LINEAGE,
      policyDigest: LINEAGE.policyDigest.toUpperCase(),
      prompt: 'p',
      promptSha256: undefined,
      generator: undefined,
    });
    expect(c.policyDigest).toBe(LINEAGE.policyDigest);
    expect(c).toMatchObject({ prompt: null, promptSha256: sha('p'), generator: null });
    expect(canonicalOutputLineage({ ...LINEAGE, prompt: 'p', promptSha256: null }, { promptDisclosure: 'full' }).prompt).toBe('p');
  });
});
