import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, exportJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpoint, parseVerifierKey, verifyNote } from '../../src/audit/signed-note.ts';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { createC2paWasmEngine } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalCa, issueSigningCertificate } from '../../src/provenance/c2pa/local-ca.ts';
import { createLogger, startRuntime } from '../../src/runtime.ts';
import { C2PA_FILES, KEY_FILES } from '../../src/signing/keyring.ts';
import { makeJpeg } from '../fixtures/media.ts';
import { createTestDatabase, databaseUnavailable } from '../support/db.ts';
import { type FakeKms, startFakeKms } from '../support/fake-kms.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const RING = 'projects/studio/locations/europe-west4/keyRings/clearframe/cryptoKeys';
const AUDIT = `${RING}/audit-checkpoint/cryptoKeyVersions/1`;
const CLEARANCE = `${RING}/clearance/cryptoKeyVersions/1`;
const C2PA = `${RING}/c2pa-signer/cryptoKeyVersions/2`;

describe.skipIf(databaseUnavailable())('signing keys in Cloud KMS (KEY_BACKEND=kms, real @google-cloud/kms client against a fake)', () => {
  let fake: FakeKms;
  let svc: TestService;
  let tmp: string;
  let ca: ReturnType<typeof createLocalCa>;
  let kmsEnv: Record<string, string>;
  let legal: string;
  let vendor: string;
  let generator: string;

  beforeAll(async () => {
    fake = await startFakeKms();
    fake.addKey(AUDIT, 'EC_SIGN_ED25519');
    fake.addKey(CLEARANCE, 'EC_SIGN_P256_SHA256');
    fake.addKey(C2PA, 'EC_SIGN_P256_SHA256');
    tmp = mkdtempSync(path.join(tmpdir(), 'clearframe-kms-'));
    ca = createLocalCa({ subject: { commonName: 'Studio C2PA Root', organization: 'Studio' } });
    const cert = issueSigningCertificate(ca, { publicKey: fake.keys.get(C2PA)!.publicKey, subject: { commonName: 'Clearframe outputs', organization: 'Studio' } });
    writeFileSync(path.join(tmp, 'chain.pem'), cert.chainPem);
    writeFileSync(path.join(tmp, 'root.pem'), ca.certPem);
    kmsEnv = {
      KEY_BACKEND: 'kms',
      KMS_API_ENDPOINT: `http://127.0.0.1:${fake.port}`,
      KMS_AUDIT_KEY: AUDIT,
      KMS_CLEARANCE_KEY: CLEARANCE,
      KMS_C2PA_KEY: C2PA,
      C2PA_CERT_CHAIN: path.join(tmp, 'chain.pem'),
      C2PA_TRUST_ANCHOR: path.join(tmp, 'root.pem'),
    };
    svc = await startTestService(kmsEnv);
    [legal, vendor, generator] = await Promise.all([svc.token('legal'), svc.token('vendor'), svc.token('generator')]);
  });
  afterAll(async () => {
    await svc?.runtime.ctx.keyring.close();
    await svc?.close();
    await fake?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const signCalls = (name: string) => fake.requests.filter((r) => r.rpc === 'AsymmetricSign' && r.name === name).length;

  it('loads the three keys from KMS; the token issuer stays local', () => {
    const { keyring } = svc.runtime.ctx;
    expect(keyring.backend).toBe('kms');
    expect(keyring.audit).toMatchObject({ alg: 'EdDSA', keyVersionName: AUDIT });
    expect(keyring.clearance).toMatchObject({ alg: 'ES256', keyVersionName: CLEARANCE });
    expect(keyring.c2pa.signer).toMatchObject({ alg: 'ES256', keyVersionName: C2PA });
    expect(keyring.tokenIssuer.privateKey.asymmetricKeyType).toBe('ec');
    expect(
      fake.requests
        .filter((r) => r.rpc === 'GetPublicKey')
        .map((r) => r.name)
        .sort(),
    ).toEqual([AUDIT, C2PA, CLEARANCE].sort());
  });

  it('(a) the audit checkpoint is signed by the KMS Ed25519 key and verifies with the published key', async () => {
    const before = signCalls(AUDIT);
    const key = (await (await svc.call('GET', '/v1/audit/key')).json()) as { vkey: string; jwk: Record<string, unknown> };
    expect(createPublicKey({ key: key.jwk as never, format: 'jwk' }).equals(fake.keys.get(AUDIT)!.publicKey)).toBe(true);
    const res = await svc.call('GET', '/v1/audit/checkpoint');
    expect(res.status).toBe(200);
    const verified = verifyNote(await res.text(), [parseVerifierKey(key.vkey)]);
    const head = parseCheckpoint(verified.body);
    expect(head.origin).toBe(svc.runtime.ctx.config.auditOrigin);
    expect(head.treeSize).toBeGreaterThan(0); // at least the key.created events
    expect(signCalls(AUDIT)).toBeGreaterThan(before);
  });

  it("(b) a clearance token is signed by the KMS P-256 key: its kid is that key's thumbprint and it verifies against the JWKS", async () => {
    const before = signCalls(CLEARANCE);
    const { clearance } = await activeCheckpoint(svc, legal, vendor, 1);
    const token = (clearance as { token?: string | null }).token;
    expect(token).toBeTruthy();
    const kmsKid = await calculateJwkThumbprint(await exportJWK(fake.keys.get(CLEARANCE)!.publicKey), 'sha256');
    expect(decodeProtectedHeader(token!)).toMatchObject({ alg: 'ES256', kid: kmsKid });
    const jwks = (await (await svc.call('GET', '/.well-known/jwks.json')).json()) as { keys: Record<string, unknown>[] };
    const { payload } = await jwtVerify(token!, createLocalJWKSet(jwks as never), { issuer: 'http://clearframe.test', audience: 'clearframe-training' });
    expect(payload.jti).toBe(clearance.id);
    expect(signCalls(CLEARANCE)).toBeGreaterThan(before);
  });

  it('(c) an output is signed through the KMS C2PA key; c2pa-rs reads it as trusted and intact with the local CA as anchor', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const before = signCalls(C2PA);
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 31 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpoint.id);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status, await res.clone().text()).toBe(200);
    const signed = new Uint8Array(await res.arrayBuffer());
    expect(signCalls(C2PA)).toBeGreaterThan(before);
    expect(fake.requests.filter((r) => r.rpc === 'AsymmetricSign' && r.name === C2PA).every((r) => r.digestSha256?.length === 32 && !r.data)).toBe(true);

    const read = await createC2paWasmEngine({ trustAnchorsPem: [ca.certPem] }).read({ bytes: signed, mimeType: 'image/jpeg' });
    if (read.kind !== 'manifest') throw new Error('no manifest');
    expect(read.trusted && read.intact && read.failureCodes.length === 0, read.failureCodes.join()).toBe(true);
    // Without the anchor the same manifest is intact but not trusted: the trust comes from the configured root.
    const stranger = await createC2paWasmEngine().read({ bytes: signed, mimeType: 'image/jpeg' });
    if (stranger.kind !== 'manifest') throw new Error('no manifest');
    expect(stranger.intact).toBe(true);
    expect(stranger.trusted).toBe(false);

    const verdict = (await (await svc.call('POST', '/v1/verify', { token: legal, body: signed, headers: { 'content-type': 'image/jpeg' } })).json()) as { verdict: string };
    expect(verdict.verdict).toBe('verified');
  });

  it('(d) no private key file for a KMS purpose exists in the keys directory', () => {
    const files = readdirSync(svc.keysDir);
    expect(files).toContain(KEY_FILES.tokenIssuer.file);
    for (const f of [KEY_FILES.audit.file, KEY_FILES.clearance.file, KEY_FILES.c2pa.file, C2PA_FILES.caKey, C2PA_FILES.caCert, C2PA_FILES.signerCert]) {
      expect(files).not.toContain(f);
    }
    const withPrivateKeys = files.filter((f) => /PRIVATE KEY/.test(readFileSync(path.join(svc.keysDir, f), 'utf8')));
    expect(withPrivateKeys).toEqual([KEY_FILES.tokenIssuer.file]);
  });

  /** Starts the runtime with `env` on a fresh database; returns what start-up threw (and cleans up either way). */
  async function startupError(env: Record<string, string>): Promise<Error> {
    const keysDir = mkdtempSync(path.join(tmpdir(), 'clearframe-keys-'));
    const testDb = await createTestDatabase();
    try {
      const config = loadConfig({ KEYS_DIR: keysDir, DATA_DIR: keysDir, LOG_LEVEL: 'silent', PUBLIC_URL: 'http://clearframe.test', ...env });
      const runtime = await startRuntime(config, { database: testDb.database, logger: createLogger({ logLevel: 'silent' }) });
      await runtime.ctx.keyring.close();
      throw new Error('start-up succeeded');
    } catch (e) {
      return e as Error;
    } finally {
      await testDb.drop().catch(() => {}); // start-up already closed the database when it failed
      rmSync(keysDir, { recursive: true, force: true });
    }
  }

  it('(e) a certificate issued for another key stops start-up with a clear error', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    writeFileSync(path.join(tmp, 'wrong-chain.pem'), issueSigningCertificate(ca, { publicKey: other }).chainPem);
    const mismatch = await startupError({ ...kmsEnv, C2PA_CERT_CHAIN: path.join(tmp, 'wrong-chain.pem') });
    expect(mismatch.name).toBe('KeyringError');
    expect(mismatch.message).toMatch(
      /^C2PA_CERT_CHAIN \(.*wrong-chain\.pem\): the signing certificate \(.*CN=Clearframe.*\) is for another public key than the Cloud KMS key KMS_C2PA_KEY/,
    );
    expect(mismatch.message).toContain(C2PA);
  });

  it('(e) so do a chain from a foreign root, a key of the wrong type and an unknown key version', async () => {
    writeFileSync(path.join(tmp, 'other-root.pem'), createLocalCa().certPem);
    const foreignRoot = await startupError({ ...kmsEnv, C2PA_TRUST_ANCHOR: path.join(tmp, 'other-root.pem') });
    expect(foreignRoot.message).toMatch(/C2PA_CERT_CHAIN .* is not issued by C2PA_TRUST_ANCHOR/);

    const ecAudit = await startupError({ ...kmsEnv, KMS_AUDIT_KEY: CLEARANCE });
    expect(ecAudit.message).toMatch(/^KMS_AUDIT_KEY: .* signs ES256; this key must be EC_SIGN_ED25519/);
    const edClearance = await startupError({ ...kmsEnv, KMS_CLEARANCE_KEY: AUDIT });
    expect(edClearance.message).toMatch(/^KMS_CLEARANCE_KEY: .* signs EdDSA; this key must be EC_SIGN_P256_SHA256/);

    const missing = await startupError({ ...kmsEnv, KMS_C2PA_KEY: `${RING}/nope/cryptoKeyVersions/1` });
    expect(missing.message).toMatch(/^KMS_C2PA_KEY: Cloud KMS GetPublicKey on .*nope.* failed: NOT_FOUND/);
  });

  it('(f) missing or misplaced KMS variables are a ConfigError naming each of them', () => {
    const names = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).issues.map((i) => i.variable).sort();
      }
      throw new Error('loadConfig accepted it');
    };
    expect(names({ KEY_BACKEND: 'kms' })).toEqual(['C2PA_CERT_CHAIN', 'KMS_AUDIT_KEY', 'KMS_C2PA_KEY', 'KMS_CLEARANCE_KEY']);
    expect(names({ KEY_BACKEND: 'kms', KMS_AUDIT_KEY: AUDIT, C2PA_CERT_CHAIN: kmsEnv['C2PA_CERT_CHAIN']! })).toEqual(['KMS_C2PA_KEY', 'KMS_CLEARANCE_KEY']);
    expect(() => loadConfig({ KEY_BACKEND: 'kms' })).toThrow(/KMS_AUDIT_KEY: KMS_AUDIT_KEY is required with KEY_BACKEND=kms/);
    expect(names({ ...kmsEnv, KMS_AUDIT_KEY: 'audit-key' })).toEqual(['KMS_AUDIT_KEY']);
    expect(names({ ...kmsEnv, KMS_API_ENDPOINT: 'ftp://kms' })).toEqual(['KMS_API_ENDPOINT']);
    expect(names({ ...kmsEnv, KEY_BACKEND: 'hsm' })).toEqual(['KEY_BACKEND']);
    expect(names({ ...kmsEnv, C2PA_CERT_CHAIN: path.join(tmp, 'absent.pem') })).toEqual(['C2PA_CERT_CHAIN']);
    // KMS names without the switch would silently sign with local files: refused.
    expect(names({ KMS_AUDIT_KEY: AUDIT })).toEqual(['KMS_AUDIT_KEY']);
    // and the local default needs none of them
    expect(loadConfig({}).keys).toEqual({ backend: 'local' });
    expect(loadConfig(kmsEnv).keys).toMatchObject({ backend: 'kms', auditKey: AUDIT, endpoint: { host: '127.0.0.1', port: fake.port, protocol: 'http' } });
  });
});
