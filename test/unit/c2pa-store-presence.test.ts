import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyOffline } from '../../src/outputs/verify-offline.ts';
import { createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { C2paError } from '../../src/provenance/c2pa/errors.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import { findEmbeddedManifestStore } from '../../src/provenance/c2pa/store-presence.ts';
import type { C2paSigner } from '../../src/provenance/c2pa/types.ts';
import { makeJpeg, makeMp4, makePng } from '../fixtures/media.ts';

const bytes = (...parts: Array<string | number[]>) => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));
const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const le32 = (n: number) => be32(n).reverse();
const C2PA_BMFF_UUID = [0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81];

// A store that c2pa-rs cannot find is still a store: these are the places one sits, per container.
describe('findEmbeddedManifestStore on crafted bytes', () => {
  it('finds a JPEG APP11 segment, and none in a plain JPEG', () => {
    expect(findEmbeddedManifestStore(bytes([0xff, 0xd8, 0xff, 0xeb, 0, 6], 'JPxx', [0xff, 0xda, 0, 2, 0xff, 0xd9]))).toBe('JPEG APP11 segment');
    expect(findEmbeddedManifestStore(makeJpeg({ seed: 1 }))).toBeUndefined();
  });
  it('finds a PNG caBX chunk, and none in a plain PNG', () => {
    const png = makePng({ seed: 1 });
    const withCabx = new Uint8Array([...png.subarray(0, 33), ...be32(4), ...Buffer.from('caBXjunk'), 0, 0, 0, 0, ...png.subarray(33)]);
    expect(findEmbeddedManifestStore(withCabx)).toBe('PNG caBX chunk');
    expect(findEmbeddedManifestStore(png)).toBeUndefined();
  });
  it('finds a C2PA uuid box in ISO BMFF, but not another uuid box', () => {
    const mp4 = makeMp4({ frames: 1 });
    const box = (uuid: number[]) => new Uint8Array([...be32(8 + 16 + 4), ...Buffer.from('uuid'), ...uuid, 1, 2, 3, 4]);
    expect(findEmbeddedManifestStore(new Uint8Array([...mp4, ...box(C2PA_BMFF_UUID)]))).toBe('ISO BMFF C2PA uuid box');
    expect(findEmbeddedManifestStore(new Uint8Array([...mp4, ...box(new Array(16).fill(7))]))).toBeUndefined();
  });
  it('finds a RIFF C2PA chunk, a GIF C2PA_GIF extension and a TIFF C2PA tag', () => {
    expect(findEmbeddedManifestStore(bytes('RIFF', le32(20), 'WEBP', 'VP8 ', le32(0), 'C2PA', le32(0)))).toBe('RIFF C2PA chunk');
    expect(findEmbeddedManifestStore(bytes('RIFF', le32(12), 'WEBP', 'VP8 ', le32(0)))).toBeUndefined();
    expect(findEmbeddedManifestStore(bytes('GIF89a', [0x21, 0xff, 0x0b], 'C2PA_GIF', [0, 0, 0]))).toBe('GIF C2PA_GIF application extension');
    // II*\0, IFD at 8: one entry with tag 0xCD41.
    expect(findEmbeddedManifestStore(bytes('II*\0', le32(8), [1, 0, 0x41, 0xcd, 7, 0, 1, 0, 0, 0, 0, 0, 0, 0], le32(0)))).toBe('TIFF C2PA tag');
    expect(findEmbeddedManifestStore(bytes('II*\0', le32(8), [1, 0, 0x00, 0x01, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0], le32(0)))).toBeUndefined();
  });
  it('finds a C2PA JUMBF store or a jumb/jumd box in any container', () => {
    const uuid = [0x63, 0x32, 0x70, 0x61, 0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
    expect(findEmbeddedManifestStore(bytes('junk', be32(30), 'jumd', uuid, [3], 'c2pa\0'))).toBe('C2PA JUMBF manifest store');
    expect(findEmbeddedManifestStore(bytes('junk', uuid, 'junk'))).toBeUndefined(); // a UUID alone is no box
    expect(findEmbeddedManifestStore(bytes(be32(40), 'jumb', be32(32), 'jumd'))).toBe('JUMBF box');
    expect(findEmbeddedManifestStore(bytes('jumbxxxxjump'))).toBeUndefined();
  });
  it('stops on hostile structures: zero, huge and truncated sizes', () => {
    expect(findEmbeddedManifestStore(bytes(be32(0), 'ftyp', be32(0), 'moov'))).toBeUndefined();
    expect(findEmbeddedManifestStore(bytes(be32(8), 'ftyp', be32(7), 'moov'))).toBeUndefined();
    expect(findEmbeddedManifestStore(bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toBeUndefined();
    expect(findEmbeddedManifestStore(bytes('\x89PNG\r\n\x1a\n', be32(0xffffffff), 'IHDR'))).toBeUndefined();
    expect(findEmbeddedManifestStore(bytes('II*\0', le32(0xfffffff0)))).toBeUndefined();
  });
});

const MANIFEST = {
  title: 'frame',
  assertions: [
    { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' }] } },
  ],
};

/** Changes one letter of the `n`th `jumb` box type in the file. */
function breakJumb(file: Uint8Array, n: number): Uint8Array {
  const out = file.slice();
  const buf = Buffer.from(out.buffer);
  let at = -1;
  for (let i = 0; i < n; i++) at = buf.indexOf('jumb', at + 1, 'latin1');
  expect(at).toBeGreaterThan(0);
  out[at + 3] = 'x'.charCodeAt(0);
  return out;
}

// Issue 21: one changed byte of the store's box structure read as "no manifest", a signed file as unsigned.
describe('a signed output with a broken JUMBF box', () => {
  const engine = createC2paWasmEngine();
  let signer: C2paSigner;
  let anchor: string;
  beforeAll(() => {
    const identity = createLocalSigningIdentity();
    signer = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
    anchor = identity.ca.certPem;
  });
  afterAll(() => engine.close());

  it.each([
    ['image/jpeg', () => makeJpeg({ seed: 3 })],
    ['image/png', () => makePng({ seed: 3 })],
    ['video/mp4', () => makeMp4({ frames: 2 })],
  ] as const)('%s: damaged, never no-manifest, offline and in the engine', async (mimeType, make) => {
    const { bytes: signed } = await engine.sign({ bytes: make(), mimeType, manifest: MANIFEST, signer });
    for (const n of [1, 2]) {
      const broken = breakJumb(signed, n);
      const read = engine.read({ bytes: broken, mimeType, trustAnchorsPem: [anchor] });
      const outcome = await read.then(
        (r) => (r.kind === 'no_manifest' ? 'no-manifest' : r.intact ? 'intact' : 'tampered'),
        (e: unknown) => (e instanceof C2paError ? e.code : String(e)),
      );
      expect({ n, outcome }).toEqual({ n, outcome: 'manifest_parse_error' });
      expect((await verifyOffline(engine, broken, { mimeType })).verdict).toBe('damaged');
    }
  });

  it('leaves third-party files without a store as no-manifest', async () => {
    const plain = new Uint8Array(readFileSync(new URL('../fixtures/third-party/no_manifest.jpg', import.meta.url)));
    expect((await verifyOffline(engine, plain, {})).verdict).toBe('no-manifest');
  });
});
