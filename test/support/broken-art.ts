import { createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import { trainingMiningAssertion } from '../../src/provenance/c2pa/training-mining.ts';
import { makeJpeg } from '../fixtures/media.ts';

/**
 * Art signed with a `notAllowed` training-mining assertion, then one byte of its claim signature's COSE
 * algorithm (the protected header's `1: -7`, ES256) changed: c2pa-rs can no longer validate its manifest.
 */
export async function brokenArt(seed: number, alg: number): Promise<Uint8Array> {
  const identity = createLocalSigningIdentity();
  const signer = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
  const created = { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation' }] } };
  const signed = await createC2paWasmEngine().sign({
    bytes: makeJpeg({ seed }),
    mimeType: 'image/jpeg',
    manifest: {
      title: 'nomine.jpg',
      assertions: [created, trainingMiningAssertion('c2pa', { ai_training: { use: 'notAllowed' }, ai_generative_training: { use: 'notAllowed' } })],
    },
    signer,
  });
  const bytes = Buffer.from(signed.bytes);
  const signature = bytes.indexOf(Buffer.from('c2pa.signature'));
  const header = bytes.indexOf(Buffer.from([0x01, 0x26]), signature); // alg (1): -7 (0x26), the first after the label
  if (signature < 0 || header < 0) throw new Error('no COSE algorithm header after the c2pa.signature label');
  bytes[header + 1] = alg;
  return new Uint8Array(bytes);
}
