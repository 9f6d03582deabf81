/**
 * Output signatures time-stamped by an RFC 3161 authority (TSA_URL), end to end: the service signs
 * through its own keys (local files, then Cloud KMS against the fake KMS), asks the local fake TSA
 * for a token over each signature, and c2pa-rs reads the result back as time-stamped, trusted, with
 * the token's time as the signing time. A TSA that fails fails the request: nothing is signed and
 * nothing is recorded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { outputs } from '../../src/outputs/tables.ts';
import { verifyOffline } from '../../src/outputs/verify-offline.ts';
import { createC2paWasmEngine } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalCa, issueSigningCertificate } from '../../src/provenance/c2pa/local-ca.ts';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { type FakeKms, startFakeKms } from '../support/fake-kms.ts';
import { type FakeTsa, startFakeTsa } from '../support/fake-tsa.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Problem = { type: string; title: string; status: number; detail: string };
type Verdict = { verdict: string; c2pa: { trusted: boolean; failureCodes: string[]; successCodes: string[]; timeStamp: { time: string; trusted: boolean } | null } };

async function signOutput(svc: TestService, token: string, checkpointId: string, seed: number) {
  const form = new FormData();
  form.set('file', new File([makeJpeg({ seed })], 'frame.jpg', { type: 'image/jpeg' }));
  form.set('checkpointId', checkpointId);
  return svc.call('POST', '/v1/outputs', { token, form });
}

/** Signs, reads back with c2pa-rs and checks the token is the one the TSA just issued. */
async function expectTimeStamped(tsa: FakeTsa, res: Response, anchorsPem: string[]) {
  expect(res.status, await res.clone().text()).toBe(200);
  const signed = new Uint8Array(await res.arrayBuffer());
  const issued = tsa.issued.at(-1)!;
  const read = await createC2paWasmEngine({ trustAnchorsPem: anchorsPem }).read({ bytes: signed, mimeType: 'image/jpeg' });
  if (read.kind !== 'manifest') throw new Error('no manifest');
  expect(read.validation.success.map((s) => s.code)).toEqual(expect.arrayContaining(['timeStamp.validated', 'timeStamp.trusted', 'signingCredential.trusted']));
  expect(read.failureCodes).toEqual([]);
  // The signing time c2pa-rs reports is the token's genTime (set minutes behind the clock), not the time of reading.
  expect(new Date(read.activeManifest.signature_info!.time!).toISOString()).toBe(issued.genTime.toISOString());
  expect(Buffer.from(signed).indexOf(Buffer.from(issued.token))).toBeGreaterThan(0);
  return { signed, issued };
}

describe.skipIf(databaseUnavailable())('time-stamped output signatures (TSA_URL, a local RFC 3161 TSA)', () => {
  let tsa: FakeTsa;
  let svc: TestService;
  let tmp: string;
  let legal: string;
  let vendor: string;
  let generator: string;
  let distributor: string;

  beforeAll(async () => {
    tsa = await startFakeTsa({ clockOffsetMs: -3 * 60_000 });
    tmp = mkdtempSync(path.join(tmpdir(), 'clearframe-tsa-'));
    // The TSA's root is a trust anchor like any other: without it tokens read as timeStamp.untrusted.
    writeFileSync(path.join(tmp, 'tsa-root.pem'), tsa.caPem);
    svc = await startTestService({ TSA_URL: tsa.url, TSA_TIMEOUT_MS: '1000', C2PA_TRUST_ANCHORS: path.join(tmp, 'tsa-root.pem') });
    [legal, vendor, generator, distributor] = await Promise.all([svc.token('legal'), svc.token('vendor'), svc.token('generator'), svc.token('distributor')]);
  });
  afterAll(async () => {
    await svc?.close();
    await tsa?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('each output signature carries a token c2pa-rs validates and trusts; /v1/verify reports its time', async () => {
    tsa.mode = 'grant';
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const requestsBefore = tsa.requests.length;
    const res = await signOutput(svc, generator, checkpoint.id, 41);
    const { signed, issued } = await expectTimeStamped(tsa, res, [...svc.runtime.ctx.keyring.c2pa.trustAnchorsPem, tsa.caPem]);
    expect(tsa.requests.length).toBe(requestsBefore + 1); // one token per signature

    const verdict = (await (await svc.call('POST', '/v1/verify', { token: distributor, body: signed, headers: { 'content-type': 'image/jpeg' } })).json()) as Verdict;
    expect(verdict.verdict).toBe('verified');
    expect(verdict.c2pa.timeStamp).toEqual({ time: issued.genTime.toISOString(), trusted: true });

    // `clearframe verify FILE` without a server reports the same time, trusted only with the TSA's root.
    const withTsaRoot = createC2paWasmEngine({ trustAnchorsPem: [...svc.runtime.ctx.keyring.c2pa.trustAnchorsPem, tsa.caPem] });
    const offline = await verifyOffline(withTsaRoot, signed, { mimeType: 'image/jpeg' });
    expect(offline).toMatchObject({ verdict: 'valid', c2pa: { timeStamp: { time: issued.genTime.toISOString(), trusted: true } } });
    const withoutTsaRoot = createC2paWasmEngine({ trustAnchorsPem: svc.runtime.ctx.keyring.c2pa.trustAnchorsPem });
    expect(await verifyOffline(withoutTsaRoot, signed, { mimeType: 'image/jpeg' })).toMatchObject({ c2pa: { timeStamp: { time: issued.genTime.toISOString(), trusted: false } } });
  });

  it('a TSA that refuses, errs, is silent, answers for another nonce, or is down: 502 problem+json, nothing signed, nothing recorded', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const db = svc.runtime.ctx.database.db;
    const entries = await treeSize(db);
    const [{ n: outputsBefore }] = (await db.select({ n: count() }).from(outputs)) as [{ n: number }];
    const cases: Array<[FakeTsa['mode'], RegExp]> = [
      ['reject', /PKIStatus rejection \(failInfo badAlg, systemFailure; the fake TSA refuses, as scripted\)/],
      ['http-error', /answered HTTP 500 text\/plain/],
      ['hang', /no answer within 1000 ms/],
      ['wrong-nonce', /carries nonce [0-9a-f]+, not the [0-9a-f]+ requested/],
      ['oversized', /the time-stamp token of \d+ bytes does not fit the \d+-byte signature box/],
    ];
    for (const [mode, detail] of cases) {
      tsa.mode = mode;
      const res = await signOutput(svc, generator, checkpoint.id, 42);
      expect(res.status, mode).toBe(502);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('clearframe-output-id')).toBeNull();
      const problem = (await res.json()) as Problem;
      expect(problem).toMatchObject({ type: 'https://clearframe.dev/problems/upstream', title: 'An upstream service failed', status: 502 });
      expect(problem.detail, mode).toMatch(/^the time-stamp authority failed, so nothing was signed: /);
      expect(problem.detail, mode).toMatch(detail);
    }
    expect(await treeSize(db)).toBe(entries);
    expect(((await db.select({ n: count() }).from(outputs)) as [{ n: number }])[0].n).toBe(outputsBefore);

    // Back up: the same request signs again.
    tsa.mode = 'grant';
    await expectTimeStamped(tsa, await signOutput(svc, generator, checkpoint.id, 42), [...svc.runtime.ctx.keyring.c2pa.trustAnchorsPem, tsa.caPem]);
    expect(await treeSize(db)).toBe(entries + 1);
  });

  it('a TSA that is down (connection refused) fails the request the same way', async () => {
    const gone = await startFakeTsa();
    await gone.close();
    const down = await startTestService({ TSA_URL: gone.url, TSA_TIMEOUT_MS: '1000' });
    try {
      const [l, v, g] = await Promise.all([down.token('legal'), down.token('vendor'), down.token('generator')]);
      const { checkpoint } = await activeCheckpoint(down, l, v, 1);
      const entries = await treeSize(down.runtime.ctx.database.db);
      const res = await signOutput(down, g, checkpoint.id, 43);
      expect(res.status).toBe(502);
      const problem = (await res.json()) as Problem;
      expect(problem.type).toBe('https://clearframe.dev/problems/upstream');
      expect(problem.detail).toBe(`the time-stamp authority failed, so nothing was signed: cannot reach the time-stamp authority ${gone.url}: ECONNREFUSED`);
      expect(await treeSize(down.runtime.ctx.database.db)).toBe(entries);
    } finally {
      await down.close();
    }
  });
});

describe.skipIf(databaseUnavailable())('time-stamped output signatures with the C2PA key in Cloud KMS', () => {
  const C2PA = 'projects/studio/locations/europe-west4/keyRings/clearframe/cryptoKeys/c2pa-signer/cryptoKeyVersions/1';
  const RING = 'projects/studio/locations/europe-west4/keyRings/clearframe/cryptoKeys';
  let kms: FakeKms;
  let tsa: FakeTsa;
  let svc: TestService;
  let tmp: string;
  let ca: ReturnType<typeof createLocalCa>;

  beforeAll(async () => {
    kms = await startFakeKms();
    kms.addKey(`${RING}/audit-checkpoint/cryptoKeyVersions/1`, 'EC_SIGN_ED25519');
    kms.addKey(`${RING}/clearance/cryptoKeyVersions/1`, 'EC_SIGN_P256_SHA256');
    kms.addKey(C2PA, 'EC_SIGN_P256_SHA256');
    tsa = await startFakeTsa({ clockOffsetMs: -3 * 60_000 });
    tmp = mkdtempSync(path.join(tmpdir(), 'clearframe-kms-tsa-'));
    ca = createLocalCa({ subject: { commonName: 'Studio C2PA Root', organization: 'Studio' } });
    const cert = issueSigningCertificate(ca, { publicKey: kms.keys.get(C2PA)!.publicKey, subject: { commonName: 'Clearframe outputs', organization: 'Studio' } });
    writeFileSync(path.join(tmp, 'chain.pem'), cert.chainPem);
    writeFileSync(path.join(tmp, 'root.pem'), ca.certPem);
    writeFileSync(path.join(tmp, 'tsa-root.pem'), tsa.caPem);
    svc = await startTestService({
      KEY_BACKEND: 'kms',
      KMS_API_ENDPOINT: `http://127.0.0.1:${kms.port}`,
      KMS_AUDIT_KEY: `${RING}/audit-checkpoint/cryptoKeyVersions/1`,
      KMS_CLEARANCE_KEY: `${RING}/clearance/cryptoKeyVersions/1`,
      KMS_C2PA_KEY: C2PA,
      C2PA_CERT_CHAIN: path.join(tmp, 'chain.pem'),
      C2PA_TRUST_ANCHOR: path.join(tmp, 'root.pem'),
      C2PA_TRUST_ANCHORS: path.join(tmp, 'tsa-root.pem'),
      TSA_URL: tsa.url,
    });
  });
  afterAll(async () => {
    await svc?.runtime.ctx.keyring.close();
    await svc?.close();
    await kms?.close();
    await tsa?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the KMS signature is time-stamped the same way, and a TSA refusal fails it the same way', async () => {
    const [legal, vendor, generator] = await Promise.all([svc.token('legal'), svc.token('vendor'), svc.token('generator')]);
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const kmsSigns = () => kms.requests.filter((r) => r.rpc === 'AsymmetricSign' && r.name === C2PA).length;
    const before = kmsSigns();
    await expectTimeStamped(tsa, await signOutput(svc, generator, checkpoint.id, 51), [ca.certPem, tsa.caPem]);
    expect(kmsSigns()).toBeGreaterThan(before);

    tsa.mode = 'reject';
    const entries = await treeSize(svc.runtime.ctx.database.db);
    const res = await signOutput(svc, generator, checkpoint.id, 52);
    expect(res.status).toBe(502);
    expect(((await res.json()) as Problem).detail).toMatch(/PKIStatus rejection/);
    expect(await treeSize(svc.runtime.ctx.database.db)).toBe(entries);
    tsa.mode = 'grant';
  });
});
