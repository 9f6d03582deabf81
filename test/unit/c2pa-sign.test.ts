/**
 * Real c2pa-rs (WebAssembly) round trips on real JPEG / PNG / MP4 files:
 * sign with a local CA, read back, validate trust, detect tampering.
 * No mocks.
 */
import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import jpeg from 'jpeg-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { c2paProblem } from '../../src/outputs/problems.ts';
import { type C2paWasmEngine, createC2paWasmEngine, createLocalKeySigner, loadC2paWasm, sha256OnThreadPool } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { derEcdsaSignatureToRaw } from '../../src/provenance/c2pa/cose-sign1.ts';
import { C2paError } from '../../src/provenance/c2pa/errors.ts';
import { createLocalCa, createLocalSigningIdentity, issueSigningCertificate } from '../../src/provenance/c2pa/local-ca.ts';
import { extractTrainingMining, trainingMiningAssertion } from '../../src/provenance/c2pa/training-mining.ts';
import type { C2paSigner, ManifestDefinition, ManifestReadResult, ReadResult } from '../../src/provenance/c2pa/types.ts';
import { listBoxes, makeJpeg, makeMov, makeMp4, makePng, tamperImageData } from '../fixtures/media.ts';

const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

const LINEAGE = {
  artworkId: 'art_01HZX3',
  rightsHolder: 'Studio Nord',
  parents: ['sha256:9f2c', 'sha256:77ab'],
  licence: { id: 'lic-42', scope: ['concept-art'], expires: '2027-01-01' },
};

function manifestFor(title: string): ManifestDefinition {
  return {
    title,
    claim_generator_info: [{ name: 'clearframe-test', version: '0.1.0' }],
    assertions: [
      {
        label: 'c2pa.actions',
        data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] },
      },
      { label: 'com.clearframe.lineage', data: LINEAGE },
      trainingMiningAssertion('c2pa', {
        ai_training: { use: 'notAllowed' },
        ai_generative_training: { use: 'notAllowed' },
        data_mining: { use: 'notAllowed' },
      }),
    ],
  };
}

function expectManifest(r: ReadResult): ManifestReadResult {
  if (r.kind !== 'manifest') throw new Error('expected a manifest');
  return r;
}

const FORMATS = [
  { name: 'JPEG', mimeType: 'image/jpeg', make: () => makeJpeg({ width: 96, height: 64 }), hashCode: 'assertion.dataHash.mismatch' },
  { name: 'PNG', mimeType: 'image/png', make: () => makePng({ width: 96, height: 64 }), hashCode: 'assertion.dataHash.mismatch' },
  { name: 'MP4', mimeType: 'video/mp4', make: () => makeMp4({ frames: 5 }), hashCode: 'assertion.bmffHash.mismatch' },
  { name: 'MOV', mimeType: 'video/quicktime', make: () => makeMov({ frames: 3 }), hashCode: 'assertion.bmffHash.mismatch' },
] as const;

describe('c2pa-wasm engine: sign + read (real c2pa-rs)', () => {
  let engine: C2paWasmEngine;
  let identity: ReturnType<typeof createLocalSigningIdentity>;
  let signer: C2paSigner;

  beforeAll(async () => {
    await loadC2paWasm();
    engine = createC2paWasmEngine();
    identity = createLocalSigningIdentity();
    signer = createLocalKeySigner({
      privateKey: identity.signer.privateKeyPem,
      certChainDer: identity.signer.chainDer,
    });
  });

  describe.each(FORMATS)('$name', ({ name, mimeType, make, hashCode }) => {
    let original: Uint8Array;
    let signed: Uint8Array;
    let manifestLabel: string;

    beforeAll(async () => {
      original = make();
      const res = await engine.sign({ bytes: original, mimeType, manifest: manifestFor(`art.${name}`), signer });
      signed = res.bytes;
      manifestLabel = res.manifestLabel;
    });

    it('embeds a manifest and keeps a valid file of the same type', () => {
      expect(manifestLabel).toMatch(/^urn:c2pa:[0-9a-f-]{36}$/);
      expect(signed.length).toBeGreaterThan(original.length);
      if (mimeType === 'image/jpeg') {
        const decoded = jpeg.decode(signed, { useTArray: true });
        expect([decoded.width, decoded.height]).toEqual([96, 64]);
      }
      if (mimeType === 'video/mp4' || mimeType === 'video/quicktime') {
        const types = listBoxes(signed).map((b) => b.type);
        expect(types[0]).toBe('ftyp');
        expect(types).toEqual(expect.arrayContaining(['moov', 'mdat', 'uuid']));
      }
    });

    it('reads back every assertion, clean and trusted with the local CA as anchor', async () => {
      const r = expectManifest(await engine.read({ bytes: signed, mimeType, trustAnchorsPem: [identity.ca.certPem] }));
      expect(r.activeManifestLabel).toBe(manifestLabel);
      expect(r.validationState).toBe('Trusted');
      expect(r.failureCodes).toEqual([]);
      expect(r.trusted).toBe(true);
      expect(r.intact).toBe(true);
      const successCodes = r.validation.success.map((s) => s.code);
      expect(successCodes).toEqual(expect.arrayContaining(['signingCredential.trusted', 'claimSignature.validated']));
      expect(successCodes).toContain(mimeType.startsWith('video/') ? 'assertion.bmffHash.match' : 'assertion.dataHash.match');

      const actions = r.assertions.find((a) => a.label === 'c2pa.actions.v2' || a.label === 'c2pa.actions');
      expect(actions?.data).toMatchObject({
        actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }],
      });
      expect(r.assertions.find((a) => a.label === 'com.clearframe.lineage')?.data).toEqual(LINEAGE);

      const tm = extractTrainingMining(r);
      expect(tm.map((e) => [e.assertionLabel, e.key, e.use]).sort()).toEqual([
        ['c2pa.training-mining', 'c2pa.ai_generative_training', 'notAllowed'],
        ['c2pa.training-mining', 'c2pa.ai_training', 'notAllowed'],
        ['c2pa.training-mining', 'c2pa.data_mining', 'notAllowed'],
      ]);
      expect(tm.every((e) => e.manifestLabel === manifestLabel)).toBe(true);

      expect(r.activeManifest.title).toBe(`art.${name}`);
      expect(r.activeManifest.signature_info).toMatchObject({
        alg: 'Es256',
        common_name: 'Clearframe C2PA Signer',
        issuer: 'Clearframe',
      });
    });

    it('one changed byte of image data → hash mismatch (tampered)', async () => {
      const tampered = tamperImageData(signed, mimeType);
      expect(tampered.length).toBe(signed.length);
      expect(tampered.reduce((n, b, i) => n + (b !== signed[i] ? 1 : 0), 0)).toBe(1);
      const r = expectManifest(await engine.read({ bytes: tampered, mimeType, trustAnchorsPem: [identity.ca.certPem] }));
      expect(r.failureCodes).toContain(hashCode);
      expect(r.validationState).toBe('Invalid');
      expect(r.intact).toBe(false);
    });

    it('without the root as anchor → signingCredential.untrusted, still intact', async () => {
      const r = expectManifest(await engine.read({ bytes: signed, mimeType }));
      expect(r.failureCodes).toEqual(['signingCredential.untrusted']);
      expect(r.trusted).toBe(false);
      expect(r.intact).toBe(true);
      expect(r.validationState).toBe('Valid');
    });

    it('an unsigned file → no_manifest (not a throw)', async () => {
      await expect(engine.read({ bytes: original, mimeType })).resolves.toEqual({ kind: 'no_manifest' });
    });
  });

  it('signed by a different self-made CA that is not an anchor → untrusted', async () => {
    const other = createLocalSigningIdentity({
      caSubject: { commonName: 'Rogue Root', organization: 'Elsewhere' },
      signerSubject: { commonName: 'Rogue Signer', organization: 'Elsewhere' },
    });
    const rogue = createLocalKeySigner({ privateKey: other.signer.privateKeyPem, certChainDer: other.signer.chainDer });
    const { bytes } = await engine.sign({
      bytes: makeJpeg({ seed: 7 }),
      mimeType: 'image/jpeg',
      manifest: manifestFor('rogue.jpg'),
      signer: rogue,
    });
    const r = expectManifest(await engine.read({ bytes, mimeType: 'image/jpeg', trustAnchorsPem: [identity.ca.certPem] }));
    expect(r.failureCodes).toEqual(['signingCredential.untrusted']);
    expect(r.validation.failure[0]?.explanation).toMatch(/untrusted/);
    expect(r.trusted).toBe(false);
    expect(r.validationState).toBe('Valid');
    // …and trusted once its own root is configured.
    const r2 = expectManifest(await engine.read({ bytes, mimeType: 'image/jpeg', trustAnchorsPem: [identity.ca.certPem, other.ca.certPem] }));
    expect(r2.validationState).toBe('Trusted');
  });

  it('engine-level trust anchors apply to every read', async () => {
    const trustingEngine = createC2paWasmEngine({ trustAnchorsPem: [identity.ca.certPem] });
    const { bytes } = await trustingEngine.sign({
      bytes: makePng({ seed: 3 }),
      mimeType: 'image/png',
      manifest: manifestFor('anchored.png'),
      signer,
    });
    expect(expectManifest(await trustingEngine.read({ bytes, mimeType: 'image/png' })).trusted).toBe(true);
  });

  it('KMS-style signer: external public key in the certificate, DER signatures from the signer', async () => {
    const kmsKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cert = issueSigningCertificate(identity.ca, {
      publicKey: kmsKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      subject: { commonName: 'Clearframe KMS Signer', organization: 'Clearframe' },
    });
    expect(cert.privateKeyPem).toBeUndefined();
    let calls = 0;
    const kmsSigner: C2paSigner = {
      alg: 'es256',
      certChainDer: cert.chainDer,
      // Cloud KMS asymmetricSign returns a DER ECDSA-Sig-Value over the digest.
      sign: async (data) => {
        calls++;
        const der = new Uint8Array(nodeSign('sha256', data, { key: kmsKey.privateKey, dsaEncoding: 'der' }));
        return derEcdsaSignatureToRaw(der);
      },
    };
    const { bytes } = await engine.sign({
      bytes: makeJpeg({ seed: 11 }),
      mimeType: 'image/jpeg',
      manifest: manifestFor('kms.jpg'),
      signer: kmsSigner,
    });
    expect(calls).toBe(1);
    const r = expectManifest(await engine.read({ bytes, mimeType: 'image/jpeg', trustAnchorsPem: [identity.ca.certPem] }));
    expect(r.validationState).toBe('Trusted');
    expect(r.activeManifest.signature_info?.common_name).toBe('Clearframe KMS Signer');
  });

  it('garbage labelled image/jpeg → C2paError asset_parse_error (HTTP 422)', async () => {
    const garbage = new Uint8Array(512).map((_, i) => (i * 37 + 11) & 0xff);
    const err = await engine.read({ bytes: garbage, mimeType: 'image/jpeg' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(C2paError);
    expect(answered(err)).toMatchObject({ code: 'asset_parse_error', httpStatus: 422 });

    // JPEG magic but truncated / junk after it: rejected by c2pa-rs' parser, same mapping.
    const truncated = makeJpeg().subarray(0, 300);
    expect(await refusal(engine.read({ bytes: truncated, mimeType: 'image/jpeg' }))).toMatchObject({
      code: 'asset_parse_error',
      httpStatus: 422,
    });
    // A real PNG declared as JPEG is also a client error.
    await expect(engine.read({ bytes: makePng(), mimeType: 'image/jpeg' })).rejects.toMatchObject({
      code: 'asset_parse_error',
    });
    // Signing garbage fails the same way.
    expect(await refusal(engine.sign({ bytes: garbage, mimeType: 'image/jpeg', manifest: manifestFor('x'), signer }))).toMatchObject({
      code: 'asset_parse_error',
      httpStatus: 422,
    });
  });

  it('unsupported media type → 415', async () => {
    expect(await refusal(engine.read({ bytes: makeJpeg(), mimeType: 'application/x-foo' }))).toMatchObject({
      code: 'unsupported_media_type',
      httpStatus: 415,
    });
  });

  it('a failing signer (e.g. KMS down) → signing_failed', async () => {
    const broken: C2paSigner = { ...signer, sign: async () => Promise.reject(new Error('KMS unavailable')) };
    const err = await engine.sign({ bytes: makeJpeg(), mimeType: 'image/jpeg', manifest: manifestFor('x'), signer: broken }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(C2paError);
    expect(err).toMatchObject({ code: 'signing_failed' });
    expect((err as Error).message).toContain('KMS unavailable');
  });

  it('a reserve size too small for the COSE structure → signing_failed, not a broken file', async () => {
    await expect(
      engine.sign({
        bytes: makeJpeg(),
        mimeType: 'image/jpeg',
        manifest: manifestFor('x'),
        signer: { ...signer, reserveSize: 200 },
      }),
    ).rejects.toMatchObject({ code: 'signing_failed' });
  });

  it('a manifest without a created/opened action is rejected by c2pa-rs → invalid_manifest_definition', async () => {
    // Found by the engine's read-back (c2pa-rs' own check off), or by c2pa-rs' own check (read-back off):
    // the same answer either way.
    for (const e of [engine, createC2paWasmEngine({ verifyAfterSign: false })]) {
      // 500: the service builds every manifest it signs, so one c2pa-rs rejects is the service's fault.
      expect(
        await refusal(
          e.sign({
            bytes: makeJpeg(),
            mimeType: 'image/jpeg',
            manifest: { title: 'no actions', assertions: [{ label: 'com.clearframe.lineage', data: LINEAGE }] },
            signer,
          }),
        ),
      ).toMatchObject({ code: 'invalid_manifest_definition', httpStatus: 500 });
    }
    await expect(
      engine.sign({
        bytes: makeJpeg(),
        mimeType: 'image/jpeg',
        manifest: { title: 'created, no source type', assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created' }] } }] },
        signer,
      }),
    ).rejects.toMatchObject({ code: 'invalid_manifest_definition', validationCodes: ['assertion.action.malformed'] });
  });

  it("one check after signing: c2pa-rs' own while the read-back is off, the read-back alone while it is on", () => {
    const own = (e: C2paWasmEngine) => (JSON.parse(e.settingsJson()) as { verify: { verify_after_sign: boolean } }).verify.verify_after_sign;
    expect(own(createC2paWasmEngine())).toBe(false);
    expect(own(createC2paWasmEngine({ verifyAfterSign: false }))).toBe(true);
    expect(own(createC2paWasmEngine({ verifyAfterSign: false, c2paCheckAfterSign: false }))).toBe(false);
  });

  it('onSigned sees the signed file before the read-back; a read-back that then refuses still fails the sign', async () => {
    const seen: Uint8Array[] = [];
    const ok = await engine.sign({ bytes: makeJpeg({ seed: 24 }), mimeType: 'image/jpeg', manifest: manifestFor('hook.jpg'), signer, onSigned: (s) => void seen.push(s.bytes) });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBe(ok.bytes);
    // The file changed after onSigned (as if written wrongly): the read-back catches it.
    const damaged = engine.sign({
      bytes: makeJpeg({ seed: 25 }),
      mimeType: 'image/jpeg',
      manifest: manifestFor('hook.jpg'),
      signer,
      onSigned: (s) => {
        s.bytes[s.bytes.length - 10]! ^= 0xff;
      },
    });
    await expect(damaged).rejects.toMatchObject({ code: 'sign_self_check_failed' });
    // Without the read-back the hook still runs, once.
    let calls = 0;
    await createC2paWasmEngine({ verifyAfterSign: false }).sign({
      bytes: makeJpeg({ seed: 26 }),
      mimeType: 'image/jpeg',
      manifest: manifestFor('hook.jpg'),
      signer,
      onSigned: () => void calls++,
    });
    expect(calls).toBe(1);
  });

  it('concurrent signs do not interfere', async () => {
    const inputs = [makeJpeg({ seed: 21 }), makeJpeg({ seed: 22 }), makeJpeg({ seed: 23 })];
    const results = await Promise.all(inputs.map((bytes, i) => engine.sign({ bytes, mimeType: 'image/jpeg', manifest: manifestFor(`c${i}.jpg`), signer })));
    const reads = await Promise.all(results.map((r) => engine.read({ bytes: r.bytes, mimeType: 'image/jpeg', trustAnchorsPem: [identity.ca.certPem] })));
    reads.forEach((r, i) => {
      const m = expectManifest(r);
      expect(m.validationState).toBe('Trusted');
      expect(m.activeManifest.title).toBe(`c${i}.jpg`);
      expect(m.activeManifestLabel).toBe(results[i]?.manifestLabel);
    });
  });

  it('sha256OnThreadPool equals node:crypto SHA-256', async () => {
    for (const bytes of [new Uint8Array(0), makeJpeg({ seed: 31 }), makeMp4({ frames: 4, seed: 31 })]) {
      expect(await sha256OnThreadPool(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('the settings without per-read anchors are made once; per-read anchors still apply', () => {
    const e = createC2paWasmEngine({ trustAnchorsPem: [identity.ca.certPem] });
    expect(e.settingsJson()).toBe(e.settingsJson());
    const settings = JSON.parse(e.settingsJson()) as { trust: { trust_anchors: string } };
    expect(settings.trust.trust_anchors).toBe(`${identity.ca.certPem.trim()}\n`);
    const other = createLocalCa();
    const extra = JSON.parse(e.settingsJson([other.certPem])) as { trust: { trust_anchors: string } };
    expect(extra.trust.trust_anchors).toBe(`${identity.ca.certPem.trim()}\n${other.certPem.trim()}\n`);
    expect(e.settingsJson()).toBe(JSON.stringify(settings));
  });

  it('different CA instances produce distinct roots (sanity for the untrusted test)', () => {
    const a = createLocalCa();
    const b = createLocalCa();
    expect(Buffer.from(a.certDer).equals(Buffer.from(b.certDer))).toBe(false);
  });

  // Speed is measured by `npm run bench -- c2pa`, side by side with a bare sign; here, only that a file of
  // the benchmark's size signs and validates either way.
  it('signs a ~1 MB JPEG with the read-back and without it, and both validate', async () => {
    const big = makeJpeg({ targetBytes: 1_000_000 });
    expect(big.length).toBeGreaterThan(750_000);
    const unchecked = createC2paWasmEngine({ verifyAfterSign: false, trustAnchorsPem: [identity.signer.trustAnchorPem] });
    for (const e of [unchecked, engine]) {
      const out = await e.sign({ bytes: big, mimeType: 'image/jpeg', manifest: manifestFor('big.jpg'), signer });
      const back = await engine.read({ bytes: out.bytes, mimeType: 'image/jpeg', trustAnchorsPem: [identity.signer.trustAnchorPem] });
      expect(back).toMatchObject({ kind: 'manifest', intact: true, trusted: true, activeManifestLabel: out.manifestLabel });
    }
  }, 60_000);
});

/** A refused engine call as the service answers it: c2pa-rs' code and message, and the HTTP status src/outputs/problems.ts gives it. */
async function refusal(call: Promise<unknown>) {
  const e = await call.then(
    () => new Error('expected the engine to refuse'),
    (err: unknown) => err,
  );
  return answered(e);
}
function answered(e: unknown) {
  if (!(e instanceof C2paError)) throw e;
  return { code: e.code, message: e.message, httpStatus: c2paProblem(e).status };
}
