import { describe, expect, it } from 'vitest';
import { createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { C2paError } from '../../src/provenance/c2pa/errors.ts';
import { structureProblem } from '../../src/provenance/c2pa/formats.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import type { C2paSigner } from '../../src/provenance/c2pa/types.ts';
import { makeJpeg, makeMp4, makePng } from '../fixtures/media.ts';

// Issue 17: c2pa-rs signs a truncated file as it is; the adapter checks the container's frame first.
describe('structureProblem', () => {
  const files = [
    ['image/jpeg', makeJpeg({ seed: 8 })],
    ['image/png', makePng({ seed: 8 })],
    ['video/mp4', makeMp4({ frames: 2 })],
    ['video/quicktime', makeMp4({ frames: 2, container: 'mov' })],
  ] as const;
  it.each(files)('%s: whole is fine, cut anywhere is not', (mimeType, bytes) => {
    expect(structureProblem(bytes, mimeType)).toBeUndefined();
    for (const keep of [bytes.length - 1, bytes.length - 100, Math.floor(bytes.length / 2), 40]) {
      expect({ keep, problem: structureProblem(bytes.subarray(0, keep), mimeType) }).toEqual({ keep, problem: expect.any(String) });
    }
  });

  it('takes zero padding after the last box, not a partial box header', () => {
    const mp4 = makeMp4({ frames: 1 });
    expect(structureProblem(new Uint8Array([...mp4, 0, 0, 0, 0]), 'video/mp4')).toBeUndefined();
    expect(structureProblem(new Uint8Array([...mp4, 0, 0, 0, 9]), 'video/mp4')).toMatch(/ends inside a box header/);
  });
});

describe('signing a truncated file', () => {
  it('is refused as asset_parse_error before the key is asked for a signature', async () => {
    const identity = createLocalSigningIdentity();
    const key = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
    let signatures = 0;
    const signer: C2paSigner = { ...key, sign: (data) => (signatures++, key.sign(data)) };
    const engine = createC2paWasmEngine();
    for (const [mimeType, whole] of [
      ['image/jpeg', makeJpeg({ seed: 9 })],
      ['video/mp4', makeMp4({ frames: 2 })],
    ] as const) {
      const cut = whole.subarray(0, whole.length - 150);
      const err = await engine.sign({ bytes: cut, mimeType, manifest: { title: 'cut' }, signer }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(C2paError);
      expect({ code: (err as C2paError).code, message: (err as C2paError).message }).toEqual({
        code: 'asset_parse_error',
        message: expect.stringContaining(`does not decode as ${mimeType}`),
      });
    }
    expect(signatures).toBe(0);
  });
});
