import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { readChildren, readTlv } from '../../src/provenance/c2pa/der.ts';
import { createLocalCa, createLocalSigningIdentity, issueSigningCertificate, OIDS, pemToDerList } from '../../src/provenance/c2pa/local-ca.ts';
import { makeJpeg } from '../fixtures/media.ts';

const x509 = (der: Uint8Array) => new X509Certificate(Buffer.from(der));

describe('local CA', () => {
  const now = new Date();
  const { ca, signer } = createLocalSigningIdentity({ now });
  const root = x509(ca.certDer);
  const leaf = x509(signer.certDer);

  it('creates a self-signed EC P-256 root CA', () => {
    expect(root.ca).toBe(true);
    expect(root.subject).toBe(root.issuer);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(root.toLegacyObject().ext_key_usage).toBeUndefined();
    expect(new Date(root.validTo).getTime() - now.getTime()).toBeGreaterThan(9 * 365 * 86_400_000);
    expect(ca.certPem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(ca.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('issues an end-entity signing certificate with the C2PA profile', () => {
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.keyUsage).toEqual([OIDS.ekuEmailProtection, OIDS.ekuDocumentSigning]);
    expect(leaf.subject).toContain('CN=Clearframe C2PA Signer');
    expect(new Date(leaf.validFrom).getTime()).toBeLessThanOrEqual(now.getTime());
    expect(new Date(leaf.validTo).getTime()).toBeGreaterThan(now.getTime() + 300 * 86_400_000);
    expect(leaf.publicKey.export({ format: 'pem', type: 'spki' })).toBe(signer.publicKeyPem);
    expect(signer.chainDer).toHaveLength(1);
    expect(signer.trustAnchorPem).toBe(ca.certPem);

    // Raw DER checks: v3, ecdsa-with-SHA256, extensions with critical basicConstraints/keyUsage.
    const [tbs, sigAlg] = readChildren(readTlv(signer.certDer));
    const fields = readChildren(tbs as ReturnType<typeof readTlv>);
    expect(fields[0]?.tag).toBe(0xa0);
    expect([...(fields[0]?.content ?? [])]).toEqual([0x02, 0x01, 0x02]); // version v3
    expect(Buffer.from(sigAlg?.raw ?? []).toString('hex')).toBe('300a06082a8648ce3d040302');
    const text = leaf.toString();
    expect(text.length).toBeGreaterThan(0);
    const legacy = leaf.toLegacyObject() as unknown as Record<string, unknown>;
    expect(legacy.serialNumber).toMatch(/^[0-9A-F]{32}$/);
  });

  it('issues a certificate for an externally held (e.g. Cloud KMS) public key', () => {
    const external = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cert = issueSigningCertificate(ca, { publicKey: external.publicKey });
    expect(cert.privateKeyPem).toBeUndefined();
    const c = x509(cert.certDer);
    expect(c.checkPrivateKey(external.privateKey)).toBe(true);
    expect(c.verify(root.publicKey)).toBe(true);
    expect(() => issueSigningCertificate(ca, { publicKey: generateKeyPairSync('ed25519').publicKey })).toThrow(/P-256/);
  });

  it('never outlives the issuing CA', () => {
    const shortCa = createLocalCa({ validityDays: 10 });
    const cert = issueSigningCertificate(shortCa, { validityDays: 365 });
    expect(new Date(x509(cert.certDer).validTo).getTime()).toBeLessThanOrEqual(new Date(x509(shortCa.certDer).validTo).getTime());
  });

  it('PEM helpers round-trip bundles', () => {
    const bundle = ca.certPem + signer.certPem;
    const ders = pemToDerList(bundle);
    expect(ders.map((d) => Buffer.from(d).toString('hex'))).toEqual([Buffer.from(ca.certDer).toString('hex'), Buffer.from(signer.certDer).toString('hex')]);
  });

  it('c2pa-rs accepts the profile (trusted) and rejects a certificate without an allowed EKU', async () => {
    const engine = createC2paWasmEngine({ trustAnchorsPem: [ca.certPem] });
    const manifest = {
      title: 'eku.jpg',
      assertions: [
        {
          label: 'c2pa.actions',
          data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation' }] },
        },
      ],
    };
    const good = await engine.sign({
      bytes: makeJpeg(),
      mimeType: 'image/jpeg',
      manifest,
      signer: createLocalKeySigner({ privateKey: signer.privateKeyPem, certChainDer: signer.chainDer }),
    });
    const ok = await engine.read({ bytes: good.bytes, mimeType: 'image/jpeg' });
    expect(ok.kind === 'manifest' && ok.validationState).toBe('Trusted');

    // serverAuth only: not an EKU c2pa-rs accepts for claim signing → c2pa-rs'
    // own verify-after-sign refuses to produce the asset.
    const bad = issueSigningCertificate(ca, { extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'] });
    const err = await engine
      .sign({
        bytes: makeJpeg(),
        mimeType: 'image/jpeg',
        manifest,
        signer: createLocalKeySigner({ privateKey: bad.privateKeyPem as string, certChainDer: bad.chainDer }),
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_signing_credential', validationCodes: ['signingCredential.invalid'] });
  });

  it('without an RFC 3161 time-stamp c2pa-rs checks certificate validity against *now*: expired → refused', async () => {
    const engine = createC2paWasmEngine({ trustAnchorsPem: [ca.certPem] });
    const longAgo = new Date(Date.now() - 2 * 365 * 86_400_000);
    const expired = issueSigningCertificate(ca, { now: longAgo, validityDays: 30 });
    const err = await engine
      .sign({
        bytes: makeJpeg(),
        mimeType: 'image/jpeg',
        manifest: {
          title: 'expired.jpg',
          assertions: [
            { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation' }] } },
          ],
        },
        signer: createLocalKeySigner({ privateKey: expired.privateKeyPem as string, certChainDer: expired.chainDer }),
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_signing_credential' });
    expect((err as { validationCodes: string[] }).validationCodes).toContain('signingCredential.expired');
  });

  it('a manifest whose leaf certificate expired after signing reads as signingCredential.expired but intact', async () => {
    const engine = createC2paWasmEngine({ trustAnchorsPem: [ca.certPem] });
    // valid for ~2 more seconds
    const shortLived = issueSigningCertificate(ca, { validityDays: 2 / 86_400, now: new Date(Date.now() + 500) });
    const { bytes } = await engine.sign({
      bytes: makeJpeg(),
      mimeType: 'image/jpeg',
      manifest: {
        title: 'short.jpg',
        assertions: [
          { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation' }] } },
        ],
      },
      signer: createLocalKeySigner({ privateKey: shortLived.privateKeyPem as string, certChainDer: shortLived.chainDer }),
    });
    const before = await engine.read({ bytes, mimeType: 'image/jpeg' });
    expect(before.kind === 'manifest' && before.validationState).toBe('Trusted');
    await new Promise((r) => setTimeout(r, Math.max(0, shortLived.notAfter.getTime() - Date.now()) + 1500));
    const after = await engine.read({ bytes, mimeType: 'image/jpeg' });
    if (after.kind !== 'manifest') throw new Error('expected manifest');
    expect(after.failureCodes).toContain('signingCredential.expired');
    expect(after.intact).toBe(true);
    expect(after.validationState).toBe('Invalid');
  }, 15_000);
});
