/**
 * The engine's pool (pool.ts, c2pa-worker.js): the same c2pa-rs read on a worker thread
 * gives exactly what a read on this thread gives, for every outcome, also with reads overlapping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type C2paWasmEngine, createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { C2paError } from '../../src/provenance/c2pa/errors.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import { makeJpeg, makeMp4, makePng } from '../fixtures/media.ts';

const created = {
  label: 'c2pa.actions',
  data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' }] },
};

describe('reads on the read thread', () => {
  let here: C2paWasmEngine;
  let there: C2paWasmEngine;
  const files: { name: string; mimeType: string; bytes: Uint8Array }[] = [];

  beforeAll(async () => {
    const identity = createLocalSigningIdentity();
    const signer = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
    here = createC2paWasmEngine({ trustAnchorsPem: [identity.signer.trustAnchorPem] });
    there = createC2paWasmEngine({ trustAnchorsPem: [identity.signer.trustAnchorPem], workers: 2 });
    // Signed by another identity: read as untrusted.
    const stranger = createLocalSigningIdentity();
    const strangerSigner = createLocalKeySigner({ privateKey: stranger.signer.privateKeyPem, certChainDer: stranger.signer.chainDer });
    for (const [name, mimeType, bytes] of [
      ['jpeg', 'image/jpeg', makeJpeg({ seed: 3 })],
      ['png', 'image/png', makePng({ seed: 3 })],
      ['mp4', 'video/mp4', makeMp4({ frames: 3, seed: 3 })],
    ] as const) {
      const signed = await here.sign({ bytes, mimeType, manifest: { title: name, assertions: [created] }, signer });
      files.push({ name: `${name} signed`, mimeType, bytes: signed.bytes });
      const tampered = signed.bytes.slice();
      tampered[Math.floor(tampered.length * 0.6)]! ^= 0xff;
      files.push({ name: `${name} with one byte changed`, mimeType, bytes: tampered });
      files.push({ name: `${name} without a manifest`, mimeType, bytes });
    }
    const foreign = await here.sign({ bytes: makeJpeg({ seed: 4 }), mimeType: 'image/jpeg', manifest: { title: 'x', assertions: [created] }, signer: strangerSigner });
    files.push({ name: 'jpeg from an untrusted signer', mimeType: 'image/jpeg', bytes: foreign.bytes });
  });
  afterAll(async () => {
    await there?.close();
  });

  it('gives what a read here gives: trusted, tampered, untrusted, no manifest', async () => {
    const verdicts = new Set<string>();
    for (const f of files) {
      const [a, b] = [await here.read(f), await there.read(f)];
      expect(b, f.name).toEqual(a);
      verdicts.add(a.kind === 'manifest' ? `${a.trusted}/${a.intact}` : a.kind);
    }
    // Every outcome was met, so the comparison above covered each of them.
    expect([...verdicts].sort()).toEqual(['false/true', 'no_manifest', 'true/false', 'true/true']);
  });

  it('overlapping reads each get their own answer', async () => {
    const answers = await Promise.all(files.map((f) => there.read(f)));
    for (const [i, f] of files.entries()) expect(answers[i], f.name).toEqual(await here.read(f));
  });

  it('a file that does not parse is the same error as here', async () => {
    const broken = { bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), mimeType: 'image/jpeg' };
    const errorOf = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => e as C2paError,
      );
    const [a, b] = [await errorOf(here.read(broken)), await errorOf(there.read(broken))];
    expect(b).toBeInstanceOf(C2paError);
    expect([b!.code, b!.message]).toEqual([a!.code, a!.message]);
  });

  it('starts again after close', async () => {
    await there.close();
    expect(await there.read(files[0]!)).toEqual(await here.read(files[0]!));
  });
});
