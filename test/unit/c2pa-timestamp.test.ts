/**
 * RFC 3161 time-stamps for C2PA v2 signatures (`sigTst2`):
 *  - the pure core (src/provenance/c2pa/timestamp.ts): TimeStampReq byte-for-byte against
 *    `openssl ts -query`, TimeStampResp parsing of answers made by OpenSSL's own TSA (`openssl ts
 *    -reply`) and by the fake TSA, refusals naming PKIStatus and failInfo, imprint and nonce checks;
 *  - the countersignature structure the token covers, in c2pa-rs' terms;
 *  - the HTTP client against the fake TSA, with `openssl ts -verify` checking the tokens it issues;
 *  - the c2pa-wasm engine: c2pa-rs validates and trusts the token and reports its genTime as the
 *    signing time; a token over anything else, too big a token or a TSA that is down fails signing.
 * No mocks: real OpenSSL, real c2pa-rs, a real TSA on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign as nodeSign, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { c2paProblem } from '../../src/outputs/problems.ts';
import { createC2paWasmEngine, createLocalKeySigner, TIMESTAMP_RESERVE } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { buildCoseSign1, cborDecode, decodeCoseSign1 } from '../../src/provenance/c2pa/cose-sign1.ts';
import { C2paError } from '../../src/provenance/c2pa/errors.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import {
  encodeTimeStampRequest,
  parseTimeStampResponse,
  parseTimeStampToken,
  sigTst2Header,
  sigTst2MessageImprint,
  sigTst2Payload,
  TimestampError,
} from '../../src/provenance/c2pa/timestamp.ts';
import { httpTimestampAuthority, type TimestampAuthority } from '../../src/provenance/c2pa/tsa-client.ts';
import type { ManifestDefinition } from '../../src/provenance/c2pa/types.ts';
import { makeJpeg } from '../fixtures/media.ts';
import { createTsaIdentity, type FakeTsa, grantTimeStamp, parseTimeStampRequest, rejectTimeStamp, startFakeTsa } from '../support/fake-tsa.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha256 = (b: Uint8Array | string) => new Uint8Array(createHash('sha256').update(b).digest());

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'clearframe-tsa-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const hasOpenssl = (() => {
  try {
    return /OpenSSL 3/.test(execFileSync('openssl', ['version'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
})();
/** Runs openssl in the temp dir; throws with its stderr when it fails. */
function openssl(...args: string[]): string {
  try {
    return execFileSync('openssl', args, { cwd: tmp, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}
const file = (name: string) => path.join(tmp, name);

describe('TimeStampReq (RFC 3161 §2.4.1)', () => {
  it.skipIf(!hasOpenssl)('is byte-for-byte what `openssl ts -query -sha256 -cert` writes, with and without a nonce', () => {
    const data = randomBytes(100);
    writeFileSync(file('data.bin'), data);
    openssl('ts', '-query', '-data', 'data.bin', '-sha256', '-cert', '-no_nonce', '-out', 'plain.tsq');
    expect(hex(encodeTimeStampRequest({ messageImprint: sha256(data), certReq: true }))).toBe(hex(readFileSync(file('plain.tsq'))));

    // OpenSSL draws a random 64-bit nonce: take its value and encode the same request.
    for (let i = 0; i < 5; i++) {
      openssl('ts', '-query', '-data', 'data.bin', '-sha256', '-cert', '-out', 'nonce.tsq');
      const reference = new Uint8Array(readFileSync(file('nonce.tsq')));
      const { nonce } = parseTimeStampRequest(reference);
      expect(nonce).toBeDefined();
      expect(hex(encodeTimeStampRequest({ messageImprint: sha256(data), nonce: nonce!, certReq: true }))).toBe(hex(reference));
    }
  });

  it('omits certReq when false (DEFAULT FALSE) and decodes back to what was asked', () => {
    const imprint = sha256('x');
    const req = parseTimeStampRequest(encodeTimeStampRequest({ messageImprint: imprint, nonce: 0x80n }));
    expect(req).toEqual({ hashAlgorithm: '2.16.840.1.101.3.4.2.1', messageImprint: imprint, nonce: 0x80n, certReq: false });
    expect(() => encodeTimeStampRequest({ messageImprint: new Uint8Array(20) })).toThrow(/32-byte SHA-256/);
  });
});

describe('TimeStampResp (RFC 3161 §2.4.2)', () => {
  const tsa = createTsaIdentity();
  const imprint = sha256('the signature');
  const request = { messageImprint: imprint, nonce: 0x1234_5678_9abc_def0n, certReq: true };
  const asTsa = parseTimeStampRequest(encodeTimeStampRequest(request));

  it('returns the TimeStampToken (the ContentInfo, not the whole response) and its TSTInfo', () => {
    const genTime = new Date('2026-03-04T05:06:07Z');
    const { response, issued } = grantTimeStamp(tsa, asTsa, { genTime });
    const granted = parseTimeStampResponse(response, request);
    expect(granted.status).toBe('granted');
    expect(hex(granted.token)).toBe(hex(issued.token));
    expect(granted.info).toMatchObject({
      policy: '1.3.6.1.4.1.99999.1.1',
      hashAlgorithm: '2.16.840.1.101.3.4.2.1',
      genTime,
      nonce: request.nonce,
      serialNumber: issued.serial.toString(16),
    });
    expect(hex(granted.info.hashedMessage)).toBe(hex(imprint));
    expect(parseTimeStampToken(granted.token)).toEqual(granted.info);
  });

  it.skipIf(!hasOpenssl)("reads an answer made by OpenSSL's own TSA (`openssl ts -reply`)", () => {
    const id = createTsaIdentity();
    writeFileSync(file('tsa.pem'), id.cert.certPem);
    writeFileSync(file('tsa.key'), id.cert.privateKeyPem!);
    writeFileSync(file('serial'), '2a\n');
    writeFileSync(
      file('tsa.cnf'),
      [
        '[ tsa ]',
        'default_tsa = tsa1',
        '[ tsa1 ]',
        `serial = ${file('serial')}`,
        `signer_cert = ${file('tsa.pem')}`,
        `signer_key = ${file('tsa.key')}`,
        'signer_digest = sha256',
        'default_policy = 1.2.3.4.1',
        'digests = sha256',
        'accuracy = secs:1',
        'ess_cert_id_alg = sha256',
        '',
      ].join('\n'),
    );
    const data = randomBytes(64);
    writeFileSync(file('reply-data.bin'), data);
    openssl('ts', '-query', '-data', 'reply-data.bin', '-sha256', '-cert', '-out', 'reply.tsq');
    openssl('ts', '-reply', '-config', 'tsa.cnf', '-queryfile', 'reply.tsq', '-out', 'reply.tsr');
    const { nonce } = parseTimeStampRequest(new Uint8Array(readFileSync(file('reply.tsq'))));
    const before = Date.now();
    const granted = parseTimeStampResponse(new Uint8Array(readFileSync(file('reply.tsr'))), { messageImprint: sha256(data), nonce: nonce!, certReq: true });
    // OpenSSL's serial file holds the last serial used: this answer is 0x2b.
    expect(granted.info).toMatchObject({ policy: '1.2.3.4.1', serialNumber: '2b', nonce });
    expect(Math.abs(granted.info.genTime.getTime() - before)).toBeLessThan(5_000);
    // The same answer with another expected nonce is refused.
    expect(() => parseTimeStampResponse(new Uint8Array(readFileSync(file('reply.tsr'))), { messageImprint: sha256(data), nonce: nonce! + 1n })).toThrow(TimestampError);
  });

  function refusal(fn: () => unknown): TimestampError {
    try {
      fn();
    } catch (e) {
      if (e instanceof TimestampError) return e;
      throw e;
    }
    throw new Error('expected a TimestampError');
  }

  it('a refusal names its PKIStatus, failInfo bits and status text', () => {
    const e = refusal(() => parseTimeStampResponse(rejectTimeStamp([0, 25], 'HSM offline'), request));
    expect(e.reason).toBe('rejected');
    expect(e.message).toBe('the time-stamp authority answered PKIStatus rejection (failInfo badAlg, systemFailure; HSM offline)');
    // waiting (3) is no token either; a bare status names just the status.
    const waiting = refusal(() => parseTimeStampResponse(Uint8Array.from([0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x03]), request));
    expect(waiting).toMatchObject({ reason: 'rejected', message: 'the time-stamp authority answered PKIStatus waiting' });
  });

  it('refuses a token for another messageImprint or nonce, and one without the nonce asked for', () => {
    const other = grantTimeStamp(tsa, asTsa, { messageImprint: sha256('another signature') }).response;
    expect(refusal(() => parseTimeStampResponse(other, request))).toMatchObject({ reason: 'mismatch', message: expect.stringMatching(/another messageImprint/) });
    const replayed = grantTimeStamp(tsa, asTsa, { nonce: request.nonce + 1n }).response;
    expect(refusal(() => parseTimeStampResponse(replayed, request))).toMatchObject({
      reason: 'mismatch',
      message: expect.stringMatching(/nonce 123456789abcdef1, not the 123456789abcdef0 requested/),
    });
    const noNonce = grantTimeStamp(tsa, asTsa, { nonce: undefined }).response;
    expect(refusal(() => parseTimeStampResponse(noNonce, request))).toMatchObject({ reason: 'mismatch', message: expect.stringMatching(/nonce \(none\)/) });
  });

  it('calls anything else malformed, never a crash', () => {
    const { response } = grantTimeStamp(tsa, asTsa);
    for (const bad of [
      new Uint8Array(0),
      new TextEncoder().encode('<html>busy</html>'),
      response.subarray(0, response.length - 10),
      Uint8Array.from([...response, 0]),
      Uint8Array.from([0x30, 0x03, 0x30, 0x01, 0x02]),
    ]) {
      expect(refusal(() => parseTimeStampResponse(bad, request)).reason).toBe('malformed');
    }
    // Granted but no token.
    expect(refusal(() => parseTimeStampResponse(Uint8Array.from([0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00]), request))).toMatchObject({
      reason: 'malformed',
      message: expect.stringMatching(/no TimeStampToken/),
    });
  });
});

describe('what a C2PA v2 time-stamp covers (c2pa-rs sigtst.rs)', () => {
  it('is the RFC 9052 countersignature structure over the protected header and the CBOR bstr of the signature', () => {
    const protectedHeader = Uint8Array.from([0xa1, 0x01, 0x26]); // {1: -7}
    const signature = new Uint8Array(randomBytes(64));
    const payload = sigTst2Payload(protectedHeader, signature);
    const decoded = cborDecode(payload) as unknown[];
    expect(decoded).toHaveLength(4); // no sign_protected: coset sig_structure_data(..., None, ...)
    expect(decoded[0]).toBe('CounterSignature');
    expect(hex(decoded[1] as Uint8Array)).toBe(hex(protectedHeader));
    expect(decoded[2] as Uint8Array).toHaveLength(0); // external_aad
    // payload = bstr( 0x58 0x40 || signature ): the signature as c2pa-rs serialises it (serde_bytes).
    expect(hex(decoded[3] as Uint8Array)).toBe(`5840${hex(signature)}`);
    expect(hex(sigTst2MessageImprint(protectedHeader, signature))).toBe(hex(sha256(payload)));
  });

  it('sits in the unprotected header as sigTst2: { tstTokens: [ { val: token } ] }', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { signer } = createLocalSigningIdentity();
    const token = Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01]);
    const cose = await buildCoseSign1({
      payload: new Uint8Array(10),
      certChainDer: signer.chainDer,
      sign: async (tbs) => new Uint8Array(nodeSign('sha256', tbs, { key: privateKey, dsaEncoding: 'ieee-p1363' })),
      targetSize: 3000,
      unprotected: () => new Map([['sigTst2', sigTst2Header(token)]]),
    });
    const header = decodeCoseSign1(cose).unprotectedHeader.get('sigTst2') as Map<string, Array<Map<string, Uint8Array>>>;
    expect([...header.keys()]).toEqual(['tstTokens']);
    expect(header.get('tstTokens')).toHaveLength(1);
    expect(hex(header.get('tstTokens')![0]!.get('val')!)).toBe(hex(token));
  });
});

describe('HTTP time-stamp authority client against a local TSA', () => {
  let fake: FakeTsa;
  let client: TimestampAuthority;
  beforeAll(async () => {
    fake = await startFakeTsa();
    client = httpTimestampAuthority({ url: fake.url, timeoutMs: 400 });
  });
  afterAll(async () => fake?.close());

  async function failure(imprint = sha256('x')): Promise<TimestampError> {
    const e = await client.stamp(imprint).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(e instanceof TimestampError)) throw new Error(`expected a TimestampError, got ${String(e)}`);
    return e;
  }

  it.skipIf(!hasOpenssl)('POSTs application/timestamp-query with a nonce and certReq; `openssl ts -verify` accepts the token', async () => {
    fake.mode = 'grant';
    const data = randomBytes(200);
    const token = await client.stamp(sha256(data));
    const sent = fake.requests.at(-1)!;
    expect(sent.contentType).toBe('application/timestamp-query');
    const req = parseTimeStampRequest(sent.body);
    expect(req).toMatchObject({ hashAlgorithm: '2.16.840.1.101.3.4.2.1', certReq: true });
    expect(hex(req.messageImprint)).toBe(hex(sha256(data)));
    expect(req.nonce).toBeDefined();
    expect(parseTimeStampToken(token).nonce).toBe(req.nonce);

    writeFileSync(file('token.der'), token);
    writeFileSync(file('token-data.bin'), data);
    writeFileSync(file('tsa-root.pem'), fake.caPem);
    expect(openssl('ts', '-verify', '-token_in', '-in', 'token.der', '-data', 'token-data.bin', '-CAfile', 'tsa-root.pem')).toMatch(/Verification: OK/);
    // …and the whole response against the request the client sent.
    const { response } = grantTimeStamp(fake.identity, req);
    writeFileSync(file('client.tsq'), sent.body);
    writeFileSync(file('fake.tsr'), response);
    expect(openssl('ts', '-verify', '-in', 'fake.tsr', '-queryfile', 'client.tsq', '-CAfile', 'tsa-root.pem')).toMatch(/Verification: OK/);
    // A verifier that does not trust the TSA's root refuses it (the check is real).
    const other = createTsaIdentity();
    writeFileSync(file('other-root.pem'), other.ca.certPem);
    expect(() => openssl('ts', '-verify', '-token_in', '-in', 'token.der', '-data', 'token-data.bin', '-CAfile', 'other-root.pem')).toThrow(
      /Verification: FAILED|certificate verify error/,
    );
  });

  it('a refusal, an HTTP error, silence, a replayed nonce and a closed port are TimestampErrors that say so', async () => {
    fake.mode = 'reject';
    expect(await failure()).toMatchObject({ reason: 'rejected', message: expect.stringMatching(/PKIStatus rejection \(failInfo badAlg, systemFailure/) });
    fake.mode = 'http-error';
    expect(await failure()).toMatchObject({ reason: 'http', message: expect.stringMatching(/answered HTTP 500 text\/plain, not application\/timestamp-reply/) });
    fake.mode = 'wrong-nonce';
    expect(await failure()).toMatchObject({ reason: 'mismatch' });
    fake.mode = 'wrong-imprint';
    expect(await failure()).toMatchObject({ reason: 'mismatch' });
    fake.mode = 'hang';
    expect(await failure()).toMatchObject({ reason: 'unreachable', message: expect.stringMatching(/no answer within 400 ms/) });
    fake.mode = 'grant';

    const closed = await startFakeTsa();
    await closed.close();
    const down = await httpTimestampAuthority({ url: closed.url, timeoutMs: 400 })
      .stamp(sha256('x'))
      .catch((e: unknown) => e);
    expect(down).toBeInstanceOf(TimestampError);
    expect(down).toMatchObject({ reason: 'unreachable', message: `cannot reach the time-stamp authority ${closed.url}: ECONNREFUSED` });
  });
});

describe('c2pa-wasm engine with a time-stamp authority (real c2pa-rs)', () => {
  const manifest: ManifestDefinition = {
    title: 'frame.jpg',
    assertions: [
      { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' }] } },
    ],
  };
  const { ca, signer: cert } = createLocalSigningIdentity();
  const signer = createLocalKeySigner({ privateKey: cert.privateKeyPem, certChainDer: cert.chainDer });
  let fake: FakeTsa;
  let tsa: TimestampAuthority;
  beforeAll(async () => {
    // genTime five minutes behind the wall clock: what c2pa-rs reports can only come from the token.
    fake = await startFakeTsa({ clockOffsetMs: -5 * 60_000 });
    tsa = httpTimestampAuthority({ url: fake.url, timeoutMs: 2_000 });
  });
  afterAll(async () => fake?.close());

  async function signError(timestampAuthority: TimestampAuthority): Promise<C2paError> {
    const engine = createC2paWasmEngine({ trustAnchorsPem: [ca.certPem, fake.caPem] });
    const e = await engine.sign({ bytes: makeJpeg({ seed: 3 }), mimeType: 'image/jpeg', manifest, signer: { ...signer, timestampAuthority } }).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(e instanceof C2paError)) throw new Error(`expected a C2paError, got ${String(e)}`);
    return e;
  }

  it('c2pa-rs validates and trusts the token, and reports its genTime as the signing time', async () => {
    fake.mode = 'grant';
    const engine = createC2paWasmEngine({ trustAnchorsPem: [ca.certPem, fake.caPem] });
    const signed = await engine.sign({ bytes: makeJpeg({ seed: 2 }), mimeType: 'image/jpeg', manifest, signer: { ...signer, timestampAuthority: tsa } });
    const issued = fake.issued.at(-1)!;
    // The token the TSA issued is in the file, as is.
    expect(Buffer.from(signed.bytes).indexOf(Buffer.from(issued.token))).toBeGreaterThan(0);

    const read = await engine.read({ bytes: signed.bytes, mimeType: 'image/jpeg' });
    if (read.kind !== 'manifest') throw new Error('no manifest');
    const success = read.validation.success.map((s) => s.code);
    expect(success).toEqual(expect.arrayContaining(['timeStamp.validated', 'timeStamp.trusted', 'signingCredential.trusted', 'claimSignature.validated']));
    expect(read.failureCodes).toEqual([]);
    expect(read.trusted && read.intact).toBe(true);
    expect(new Date(read.activeManifest.signature_info!.time!).toISOString()).toBe(issued.genTime.toISOString());
    expect(Date.now() - issued.genTime.getTime()).toBeGreaterThan(4 * 60_000);

    // Without the TSA's root: the token still matches (validated) but is not trusted; the manifest stays intact.
    const stranger = await createC2paWasmEngine({ trustAnchorsPem: [ca.certPem] }).read({ bytes: signed.bytes, mimeType: 'image/jpeg' });
    if (stranger.kind !== 'manifest') throw new Error('no manifest');
    expect(stranger.validation.success.map((s) => s.code)).toContain('timeStamp.validated');
    expect(stranger.validation.informational.map((s) => s.code)).toContain('timeStamp.untrusted');
    expect(stranger.intact && stranger.trusted).toBe(true);
  });

  it('without a TSA there is no sigTst2 and no signing time', async () => {
    const engine = createC2paWasmEngine({ trustAnchorsPem: [ca.certPem] });
    const signed = await engine.sign({ bytes: makeJpeg({ seed: 2 }), mimeType: 'image/jpeg', manifest, signer });
    const read = await engine.read({ bytes: signed.bytes, mimeType: 'image/jpeg' });
    if (read.kind !== 'manifest') throw new Error('no manifest');
    expect(read.validation.success.map((s) => s.code).filter((c) => c.startsWith('timeStamp.'))).toEqual([]);
    expect(read.activeManifest.signature_info?.time).toBeUndefined();
    expect(Buffer.from(signed.bytes).indexOf('sigTst2')).toBe(-1);
  });

  it('a token over anything but this signature is caught by c2pa-rs itself (timeStamp.mismatch): nothing is signed', async () => {
    // A TSA client that skips the imprint check and stamps other bytes: only c2pa-rs' check stands.
    const id = createTsaIdentity();
    const careless: TimestampAuthority = {
      name: 'careless',
      stamp: async () => grantTimeStamp(id, { hashAlgorithm: '', messageImprint: sha256('not the signature'), nonce: undefined, certReq: true }).issued.token,
    };
    expect(answered(await signError(careless))).toMatchObject({
      code: 'timestamp_failed',
      httpStatus: 502,
      message: 'c2pa-rs does not accept the time-stamp token of careless: timeStamp.mismatch',
    });
  });

  it('a TSA that refuses, is down, or answers a token too big for the reserved box fails signing with timestamp_failed', async () => {
    fake.mode = 'reject';
    expect(answered(await signError(tsa))).toMatchObject({ code: 'timestamp_failed', httpStatus: 502, message: expect.stringMatching(/PKIStatus rejection/) });
    fake.mode = 'oversized';
    const big = await signError(tsa);
    expect(big.code).toBe('timestamp_failed');
    expect(big.message).toMatch(/the time-stamp token of \d+ bytes does not fit the \d+-byte signature box/);
    expect(fake.issued.at(-1)!.token.length).toBeGreaterThan(TIMESTAMP_RESERVE);
    fake.mode = 'grant';
    const closed = await startFakeTsa();
    await closed.close();
    expect(await signError(httpTimestampAuthority({ url: closed.url, timeoutMs: 500 }))).toMatchObject({
      code: 'timestamp_failed',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });
});

/** A refused sign as the service answers it: c2pa-rs' code and message, and the HTTP status src/outputs/problems.ts gives it. */
function answered(e: C2paError) {
  return { code: e.code, message: e.message, httpStatus: c2paProblem(e).status };
}
