/**
 * Reading art that carries training-mining assertions (CAWG and C2PA 1.x),
 * ingredients / lineage, and the JUMBF label helper — real c2pa-rs, real files.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import {
  activeManifestLabelFromJumbf,
  BytesBlob,
  type C2paWasmEngine,
  createC2paWasmEngine,
  createLocalKeySigner,
  NodeFileReaderSync,
} from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import { allNotAllowed, effectiveUse, extractTrainingMining, trainingMiningAssertion } from '../../src/provenance/c2pa/training-mining.ts';
import type { C2paSigner, ManifestDefinition, ManifestReadResult, ReadResult } from '../../src/provenance/c2pa/types.ts';
import { makeJpeg, makeMp4, makePng } from '../fixtures/media.ts';

const created = (digitalSourceType = 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation') => ({
  label: 'c2pa.actions',
  data: { actions: [{ action: 'c2pa.created', digitalSourceType }] },
});

function expectManifest(r: ReadResult): ManifestReadResult {
  if (r.kind !== 'manifest') throw new Error('expected a manifest');
  return r;
}

describe('reading training-mining assertions and lineage', () => {
  let engine: C2paWasmEngine;
  let identity: ReturnType<typeof createLocalSigningIdentity>;
  let signer: C2paSigner;
  let anchors: string[];

  beforeAll(() => {
    identity = createLocalSigningIdentity();
    anchors = [identity.ca.certPem];
    engine = createC2paWasmEngine({ trustAnchorsPem: anchors });
    signer = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
  });

  it('reads a cawg.training-mining assertion (allowed / notAllowed / constrained)', async () => {
    const manifest: ManifestDefinition = {
      title: 'concept-art.png',
      assertions: [
        created(),
        trainingMiningAssertion('cawg', {
          ai_generative_training: { use: 'notAllowed' },
          ai_training: { use: 'constrained', constraintInfo: 'licence lic-42: internal style models only' },
          data_mining: { use: 'allowed' },
          ai_inference: { use: 'notAllowed' },
        }),
      ],
    };
    const { bytes } = await engine.sign({ bytes: makePng({ seed: 5 }), mimeType: 'image/png', manifest, signer });
    const r = expectManifest(await engine.read({ bytes, mimeType: 'image/png' }));
    expect(r.validationState).toBe('Trusted');

    const raw = r.assertions.find((a) => a.label === 'cawg.training-mining');
    expect(raw?.data).toEqual({
      entries: {
        'cawg.ai_generative_training': { use: 'notAllowed' },
        'cawg.ai_training': { use: 'constrained', constraint_info: 'licence lic-42: internal style models only' },
        'cawg.data_mining': { use: 'allowed' },
        'cawg.ai_inference': { use: 'notAllowed' },
      },
    });

    const entries = extractTrainingMining(r);
    expect(entries).toHaveLength(4);
    expect(entries.find((e) => e.key === 'cawg.ai_training')).toEqual({
      assertionLabel: 'cawg.training-mining',
      key: 'cawg.ai_training',
      use: 'constrained',
      constraintInfo: 'licence lic-42: internal style models only',
      manifestLabel: r.activeManifestLabel,
    });
    expect(effectiveUse(entries, 'ai_generative_training')).toBe('notAllowed');
    expect(effectiveUse(entries, 'ai_training')).toBe('constrained');
    expect(effectiveUse(entries, 'data_mining')).toBe('allowed');
    expect(effectiveUse(entries, 'something_else')).toBeUndefined();
  });

  it('reads both C2PA 1.x and CAWG assertions from the same manifest (MP4)', async () => {
    const manifest: ManifestDefinition = {
      title: 'turnaround.mp4',
      assertions: [created(), allNotAllowed('c2pa'), allNotAllowed('cawg')],
    };
    const { bytes } = await engine.sign({ bytes: makeMp4({ frames: 3 }), mimeType: 'video/mp4', manifest, signer });
    const r = expectManifest(await engine.read({ bytes, mimeType: 'video/mp4' }));
    const entries = extractTrainingMining(r);
    expect(entries.filter((e) => e.assertionLabel === 'c2pa.training-mining')).toHaveLength(4);
    expect(entries.filter((e) => e.assertionLabel === 'cawg.training-mining')).toHaveLength(4);
    expect(entries.every((e) => e.use === 'notAllowed')).toBe(true);
  });

  it('extractTrainingMining on an unsigned asset → []', async () => {
    const r = await engine.read({ bytes: makeJpeg(), mimeType: 'image/jpeg' });
    expect(r).toEqual({ kind: 'no_manifest' });
    expect(extractTrainingMining(r)).toEqual([]);
  });

  it('a derived work keeps its signed parent as ingredient; restrictions are visible across the store', async () => {
    const parent = await engine.sign({
      bytes: makeJpeg({ seed: 31 }),
      mimeType: 'image/jpeg',
      manifest: {
        title: 'original-sketch.jpg',
        assertions: [created(), trainingMiningAssertion('cawg', { ai_generative_training: { use: 'notAllowed' } })],
      },
      signer,
    });
    const child = await engine.sign({
      bytes: makeJpeg({ seed: 32 }),
      mimeType: 'image/jpeg',
      manifest: {
        title: 'paintover.jpg',
        assertions: [
          {
            label: 'c2pa.actions',
            data: {
              actions: [{ action: 'c2pa.opened', parameters: { ingredientIds: ['parent-1'] } }, { action: 'c2pa.edited' }],
            },
          },
          trainingMiningAssertion('cawg', { ai_generative_training: { use: 'allowed' } }),
        ],
      },
      ingredients: [{ bytes: parent.bytes, mimeType: 'image/jpeg', title: 'original-sketch.jpg', relationship: 'parentOf', label: 'parent-1' }],
      signer,
    });
    const r = expectManifest(await engine.read({ bytes: child.bytes, mimeType: 'image/jpeg' }));
    expect(r.validationState).toBe('Trusted');
    expect(r.activeManifestLabel).toBe(child.manifestLabel);
    expect(Object.keys(r.manifests).sort()).toEqual([child.manifestLabel, parent.manifestLabel].sort());
    expect(r.activeManifest.ingredients?.[0]).toMatchObject({
      title: 'original-sketch.jpg',
      relationship: 'parentOf',
      active_manifest: parent.manifestLabel,
    });

    expect(effectiveUse(extractTrainingMining(r), 'ai_generative_training')).toBe('allowed');
    const all = extractTrainingMining(r, { scope: 'all' });
    expect(all.map((e) => [e.manifestLabel, e.use]).sort()).toEqual(
      [
        [child.manifestLabel, 'allowed'],
        [parent.manifestLabel, 'notAllowed'],
      ].sort(),
    );
    expect(effectiveUse(all, 'ai_generative_training')).toBe('notAllowed');
  });

  it('activeManifestLabelFromJumbf finds the active manifest in the returned store', async () => {
    const res = await engine.sign({
      bytes: makeJpeg({ seed: 41 }),
      mimeType: 'image/jpeg',
      manifest: { title: 'x.jpg', assertions: [created()] },
      signer,
    });
    expect(activeManifestLabelFromJumbf(res.manifestStore)).toBe(res.manifestLabel);
    expect(activeManifestLabelFromJumbf(new Uint8Array(16))).toBeUndefined();
  });
});

describe('Node shims for c2pa-wasm', () => {
  it('BytesBlob slices like Blob and FileReaderSync returns the bytes synchronously', async () => {
    const bytes = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const blob = new BytesBlob(bytes);
    expect(blob.size).toBe(10);
    const reader = new NodeFileReaderSync();
    expect([...new Uint8Array(reader.readAsArrayBuffer(blob))]).toEqual([...bytes]);
    expect([...new Uint8Array(reader.readAsArrayBuffer(blob.slice(2, 5)))]).toEqual([2, 3, 4]);
    expect([...new Uint8Array(reader.readAsArrayBuffer(blob.slice(-3)))]).toEqual([7, 8, 9]);
    expect([...new Uint8Array(reader.readAsArrayBuffer(blob.slice(8, 100)))]).toEqual([8, 9]);
    expect(blob.slice(5, 2).size).toBe(0);
    // Still a genuine Blob for async consumers, answered from the same bytes (it keeps no copy).
    expect(blob).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await blob.slice(1, 3).arrayBuffer())]).toEqual([1, 2]);
    expect(await new BytesBlob(new TextEncoder().encode('frame 12'), 'text/plain').text()).toBe('frame 12');
    expect([...new Uint8Array(await new Response(blob.slice(7).stream()).arrayBuffer())]).toEqual([7, 8, 9]);
    expect(new BytesBlob(bytes, 'image/jpeg').type).toBe('image/jpeg');
    // Bytes that fill their buffer are handed to c2pa-rs as they are; a view into a larger one is copied out.
    expect(reader.readAsArrayBuffer(blob)).toBe(bytes.buffer);
    const view = bytes.subarray(2, 6);
    const out = reader.readAsArrayBuffer(new BytesBlob(view));
    expect(out).not.toBe(bytes.buffer);
    expect([...new Uint8Array(out)]).toEqual([2, 3, 4, 5]);
    expect(() => reader.readAsArrayBuffer(new Blob([bytes]))).toThrow(TypeError);
  });
});
