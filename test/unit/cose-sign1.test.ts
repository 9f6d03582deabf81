import { createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, X509Certificate } from 'node:crypto';
import { Decoder, Tag } from 'cbor-x';
import { describe, expect, it } from 'vitest';

import {
  buildCoseSign1,
  COSE_ALG_ES256,
  COSE_HEADER_ALG,
  COSE_HEADER_X5CHAIN,
  CoseSizeError,
  decodeCoseSign1,
  derEcdsaSignatureToRaw,
  encodeProtectedHeader,
  rawEcdsaSignatureToDer,
  sigStructure,
} from '../../src/provenance/c2pa/cose-sign1.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const { ca, signer } = createLocalSigningIdentity();
const rawSign = async (tbs: Uint8Array) => new Uint8Array(nodeSign('sha256', tbs, { key: signer.privateKeyPem, dsaEncoding: 'ieee-p1363' }));
const claim = new TextEncoder().encode('pretend these are C2PA claim CBOR bytes');
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

describe('COSE_Sign1 builder', () => {
  it('builds a tagged COSE_Sign1 that cbor-x decodes and node:crypto verifies', async () => {
    const cose = await buildCoseSign1({ payload: claim, certChainDer: signer.chainDer, sign: rawSign });

    const outer = decoder.decode(cose) as Tag;
    expect(outer).toBeInstanceOf(Tag);
    expect(outer.tag).toBe(18);
    const [protectedBytes, unprotected, payload, signature] = outer.value as [Uint8Array, Map<unknown, unknown>, null, Uint8Array];
    expect(payload).toBeNull(); // detached
    expect(unprotected).toBeInstanceOf(Map);
    expect(signature).toHaveLength(64);

    const ph = decoder.decode(protectedBytes) as Map<number, unknown>;
    expect(ph).toBeInstanceOf(Map);
    expect(ph.get(COSE_HEADER_ALG)).toBe(COSE_ALG_ES256);
    expect(hex(ph.get(COSE_HEADER_X5CHAIN) as Uint8Array)).toBe(hex(signer.certDer));
    // a2 01 26 18 21 59 <len>: map{1:-7, 33: bstr} — no tag 259, minimal lengths
    expect(hex(protectedBytes).startsWith('a201261821')).toBe(true);

    // Sig_structure = ["Signature1", protected, h'', payload]
    const tbs = sigStructure(new Uint8Array(protectedBytes), claim);
    const [ctx, p, aad, pl] = decoder.decode(tbs) as [string, Uint8Array, Uint8Array, Uint8Array];
    expect([ctx, hex(p), hex(aad), hex(pl)]).toEqual(['Signature1', hex(protectedBytes), '', hex(claim)]);
    const leafKey = new X509Certificate(Buffer.from(signer.certDer)).publicKey;
    expect(nodeVerify('sha256', tbs, { key: leafKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    // wrong payload does not verify
    const other = sigStructure(new Uint8Array(protectedBytes), new TextEncoder().encode('other claim'));
    expect(nodeVerify('sha256', other, { key: leafKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(false);
  });

  it('Sig_structure encoding matches RFC 9052 byte for byte', () => {
    const tbs = sigStructure(Uint8Array.of(0xa1, 0x01, 0x26), Uint8Array.of(0x01));
    // 84 | 6a "Signature1" | 43 a10126 | 40 | 41 01
    expect(hex(tbs)).toBe(`846a${Buffer.from('Signature1').toString('hex')}43a10126404101`);
    expect(hex(encodeProtectedHeader([Uint8Array.of(1, 2, 3)]))).toBe('a2012618214301020' + '3');
    expect(hex(encodeProtectedHeader([Uint8Array.of(1), Uint8Array.of(2)]))).toBe('a20126182182410141' + '02');
  });

  it('pads the unprotected header to exactly the reserve size (all sizes, incl. CBOR length jumps)', async () => {
    const unpadded = await buildCoseSign1({ payload: claim, certChainDer: signer.chainDer, sign: rawSign });
    const min = unpadded.length + 6; // room for the "pad" label
    const sizes = [unpadded.length, ...Array.from({ length: 320 }, (_, i) => min + i), min + 65_530, min + 65_540, 20_000];
    for (const targetSize of sizes) {
      const cose = await buildCoseSign1({ payload: claim, certChainDer: signer.chainDer, sign: rawSign, targetSize });
      expect(cose.length, `target ${targetSize}`).toBe(targetSize);
      const d = decodeCoseSign1(cose);
      const pad = d.unprotectedHeader.get('pad');
      if (targetSize !== unpadded.length) {
        expect(pad).toBeInstanceOf(Uint8Array);
        expect([...(pad as Uint8Array)].every((b) => b === 0)).toBe(true);
      }
      // padding is unprotected: the signature still verifies
      const leafKey = createPublicKey(signer.publicKeyPem);
      expect(nodeVerify('sha256', sigStructure(d.protectedBytes, claim), { key: leafKey, dsaEncoding: 'ieee-p1363' }, d.signature)).toBe(true);
    }
  });

  it('rejects a reserve size that is too small', async () => {
    await expect(buildCoseSign1({ payload: claim, certChainDer: signer.chainDer, sign: rawSign, targetSize: 100 })).rejects.toBeInstanceOf(CoseSizeError);
  });

  it('carries a multi-certificate x5chain as an array (leaf first)', async () => {
    const cose = await buildCoseSign1({ payload: claim, certChainDer: [signer.certDer, ca.certDer], sign: rawSign });
    const d = decodeCoseSign1(cose);
    expect(d.x5chain.map(hex)).toEqual([hex(signer.certDer), hex(ca.certDer)]);
    expect(d.alg).toBe(-7);
  });

  it('accepts DER signatures from KMS-like signers and rejects bad lengths', async () => {
    const derSigner = async (tbs: Uint8Array) => new Uint8Array(nodeSign('sha256', tbs, { key: signer.privateKeyPem, dsaEncoding: 'der' }));
    const d = decodeCoseSign1(await buildCoseSign1({ payload: claim, certChainDer: signer.chainDer, sign: derSigner }));
    expect(d.signature).toHaveLength(64);
    expect(nodeVerify('sha256', sigStructure(d.protectedBytes, claim), { key: signer.publicKeyPem, dsaEncoding: 'ieee-p1363' }, d.signature)).toBe(true);
    await expect(buildCoseSign1({ payload: claim, certChainDer: signer.chainDer, sign: async () => new Uint8Array(63) })).rejects.toThrow(/64 bytes/);
  });

  it('adds caller-supplied unprotected headers before the padding', async () => {
    const cose = await buildCoseSign1({
      payload: claim,
      certChainDer: signer.chainDer,
      sign: rawSign,
      targetSize: 2000,
      unprotected: () => new Map([['sigTst2', { tstTokens: [] }]]),
    });
    const d = decodeCoseSign1(cose);
    expect([...d.unprotectedHeader.keys()]).toEqual(['sigTst2', 'pad']);
    expect(cose.length).toBe(2000);
  });
});

describe('ECDSA DER <-> raw r||s', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const msg = new TextEncoder().encode('hello');

  it('round-trips real signatures', () => {
    for (let i = 0; i < 50; i++) {
      const der = new Uint8Array(nodeSign('sha256', msg, { key: privateKey, dsaEncoding: 'der' }));
      const raw = derEcdsaSignatureToRaw(der);
      expect(raw).toHaveLength(64);
      expect(nodeVerify('sha256', msg, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
      expect(hex(rawEcdsaSignatureToDer(raw))).toBe(hex(der));
    }
  });

  it('handles short (leading-zero) and high-bit integers', () => {
    const raw = new Uint8Array(64);
    raw[31] = 0x05; // r = 5
    raw.fill(0xff, 32); // s = 2^256-1 (needs a 0x00 sign byte in DER)
    const der = rawEcdsaSignatureToDer(raw);
    expect(hex(der)).toBe(`3026020105022100${'ff'.repeat(32)}`);
    expect(hex(derEcdsaSignatureToRaw(der))).toBe(hex(raw));
  });

  it('rejects malformed DER', () => {
    expect(() => derEcdsaSignatureToRaw(Uint8Array.of(0x31, 0x00))).toThrow();
    expect(() => derEcdsaSignatureToRaw(Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01))).toThrow();
    expect(() => derEcdsaSignatureToRaw(Uint8Array.of(0x30, 0x25, 0x02, 0x21, ...new Array(33).fill(1), 0x02, 0x00))).toThrow();
  });
});
