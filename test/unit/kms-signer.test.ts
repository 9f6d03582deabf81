import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import { compactVerify, importJWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { crc32c, createKmsSigner, describeGoogleRpcError, KmsSignerError, kmsClient, kmsClientFromAdc } from '../../src/signing/kms-signer.ts';
import { type FakeKms, startFakeKms } from '../support/fake-kms.ts';

const EC = 'projects/p/locations/global/keyRings/clearframe/cryptoKeys/tokens/cryptoKeyVersions/1';
const ED = 'projects/p/locations/global/keyRings/clearframe/cryptoKeys/audit/cryptoKeyVersions/3';
const RSA = 'projects/p/locations/global/keyRings/clearframe/cryptoKeys/rsa/cryptoKeyVersions/1';

describe('crc32c', () => {
  it('matches the Castagnoli check values', () => {
    expect(crc32c('123456789')).toBe(0xe3069283);
    expect(crc32c(new Uint8Array())).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  });
});

describe('Google client plumbing', () => {
  it('kmsClientFromAdc: missing credentials are one clean rejection (no stray unhandled rejections)', async () => {
    const saved = process.env['GOOGLE_APPLICATION_CREDENTIALS'];
    process.env['GOOGLE_APPLICATION_CREDENTIALS'] = '/nonexistent/clearframe-adc.json';
    try {
      await expect(kmsClientFromAdc()).rejects.toMatchObject({ name: 'KmsSignerError', code: 'NO_CREDENTIALS' });
    } finally {
      if (saved === undefined) delete process.env['GOOGLE_APPLICATION_CREDENTIALS'];
      else process.env['GOOGLE_APPLICATION_CREDENTIALS'] = saved;
    }
  });

  it('describeGoogleRpcError normalises gRPC errors, REST (gaxios) errors and network errors', () => {
    expect(describeGoogleRpcError(Object.assign(new Error('7 PERMISSION_DENIED: nope'), { code: 7, details: 'nope' }))).toEqual({
      grpcCode: 7,
      status: 'PERMISSION_DENIED',
      httpStatus: 403,
      message: 'nope',
    });
    const rest = Object.assign(new Error('{"error":{"code":409,"message":"already there","status":"ABORTED"}}'), {
      code: 409,
    });
    expect(describeGoogleRpcError(rest)).toEqual({ grpcCode: 10, status: 'ABORTED', httpStatus: 409, message: 'already there' });
    expect(describeGoogleRpcError(Object.assign(new Error('<html>bad gateway</html>'), { code: 502 }))).toMatchObject({
      grpcCode: 14,
      httpStatus: 502,
    });
    expect(describeGoogleRpcError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject({
      grpcCode: 14,
      status: 'UNAVAILABLE',
      httpStatus: 503,
    });
  });
});

describe.each(['grpc', 'rest'] as const)('Cloud KMS signer: real @google-cloud/kms client (%s) against a local fake', (transport) => {
  let fake: FakeKms;
  let client: KeyManagementServiceClient;

  beforeAll(async () => {
    fake = await startFakeKms({ transport });
    fake.addKey(EC, 'EC_SIGN_P256_SHA256');
    fake.addKey(ED, 'EC_SIGN_ED25519');
    fake.addUnsupportedKey(RSA, 'RSA_SIGN_PSS_2048_SHA256');
    client = kmsClient(fake.clientOptions());
  });
  afterAll(async () => {
    await client?.close();
    await fake?.close();
  });
  beforeEach(() => {
    fake.requests.length = 0;
  });

  it('ES256: KMS signs the SHA-256 digest; raw r||s verifies with node:crypto and jose', async () => {
    const signer = await createKmsSigner({ keyVersionName: EC, client });
    const key = fake.keys.get(EC)!;
    expect(signer.alg).toBe('ES256');
    expect(signer.keyVersionName).toBe(EC);
    expect(signer.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: signer.kid });
    expect(signer.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createPublicKey({ key: signer.publicJwk, format: 'jwk' }).equals(key.publicKey)).toBe(true);

    const data = new TextEncoder().encode('tree head 7\n');
    const sig = await signer.sign(data);
    expect(sig.length).toBe(64);
    expect(cryptoVerify('sha256', data, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
    expect(cryptoVerify('sha256', Buffer.from('other'), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, sig)).toBe(false);

    // What went over the wire: a digest with its CRC32C, never the data.
    const signCall = fake.requests.find((r) => r.rpc === 'AsymmetricSign')!;
    expect(signCall).toMatchObject({ transport, name: EC });
    if (transport === 'rest') expect(signCall.http).toMatchObject({ method: 'POST', path: `/v1/${EC}:asymmetricSign` });
    expect(signCall.headers['x-goog-request-params']).toBe(`name=${encodeURIComponent(EC)}`);
    expect(signCall.data).toBeUndefined();
    expect(signCall.digestSha256).toEqual(createHash('sha256').update(data).digest());
    expect(signCall.digestCrc32c).toBe(crc32c(signCall.digestSha256!));

    // A JWS made with the signer verifies with jose against the published JWK.
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: signer.kid })).toString('base64url');
    const payload = Buffer.from('{"sub":"x"}').toString('base64url');
    const jwsSig = await signer.sign(new TextEncoder().encode(`${header}.${payload}`));
    const verified = await compactVerify(`${header}.${payload}.${Buffer.from(jwsSig).toString('base64url')}`, await importJWK(signer.publicJwk, 'ES256'));
    expect(new TextDecoder().decode(verified.payload)).toBe('{"sub":"x"}');
  });

  it('EdDSA: KMS signs the data itself (with dataCrc32c); the signature verifies', async () => {
    const signer = await createKmsSigner({ keyVersionName: ED, client });
    expect(signer.alg).toBe('EdDSA');
    expect(signer.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: signer.kid });
    const data = new TextEncoder().encode('clearframe.example/clearframe/audit\n7\nabc=\n');
    const sig = await signer.sign(data);
    expect(sig.length).toBe(64);
    expect(cryptoVerify(null, data, fake.keys.get(ED)!.publicKey, sig)).toBe(true);

    const signCall = fake.requests.find((r) => r.rpc === 'AsymmetricSign')!;
    expect(signCall.digestSha256).toBeUndefined();
    expect(signCall.data).toEqual(Buffer.from(data));
    expect(signCall.dataCrc32c).toBe(crc32c(data));

    const jwsHeader = Buffer.from(JSON.stringify({ alg: 'EdDSA' })).toString('base64url');
    const jwsSig = await signer.sign(new TextEncoder().encode(`${jwsHeader}.e30`));
    await expect(compactVerify(`${jwsHeader}.e30.${Buffer.from(jwsSig).toString('base64url')}`, await importJWK(signer.publicJwk, 'EdDSA'))).resolves.toBeTruthy();
  });

  it('the kid is the JWK thumbprint, stable across signer instances', async () => {
    const a = await createKmsSigner({ keyVersionName: EC, client });
    const b = await createKmsSigner({ keyVersionName: EC, client });
    expect(a.kid).toBe(b.kid);
    expect(a.kid).not.toBe((await createKmsSigner({ keyVersionName: ED, client })).kid);
  });

  it('detects a corrupted signatureCrc32c', async () => {
    const signer = await createKmsSigner({ keyVersionName: EC, client });
    fake.tamperNext({ signatureCrc32c: true });
    const err = await signer.sign(new Uint8Array([1, 2, 3])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsSignerError);
    expect(err).toMatchObject({ code: 'INTEGRITY', message: expect.stringMatching(/signatureCrc32c/) });
    // and the next call is fine again
    expect((await signer.sign(new Uint8Array([1, 2, 3]))).length).toBe(64);
  });

  it('detects a corrupted signature whose CRC was computed after the corruption', async () => {
    const signer = await createKmsSigner({ keyVersionName: ED, client });
    fake.tamperNext({ signature: true });
    await expect(signer.sign(new Uint8Array([9]))).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/does not verify/),
    });
  });

  it('refuses a response where KMS did not verify the request CRC32C, or names another key', async () => {
    const signer = await createKmsSigner({ keyVersionName: EC, client });
    fake.tamperNext({ unverified: true });
    await expect(signer.sign(new Uint8Array([1]))).rejects.toMatchObject({ code: 'INTEGRITY' });
    fake.tamperNext({ name: ED });
    await expect(signer.sign(new Uint8Array([1]))).rejects.toMatchObject({ code: 'INTEGRITY' });
  });

  it('refuses a public key whose pemCrc32c does not match', async () => {
    fake.tamperNext({ pemCrc32c: true });
    await expect(createKmsSigner({ keyVersionName: EC, client })).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/pemCrc32c/),
    });
  });

  it('refuses key versions that are neither P-256 nor Ed25519', async () => {
    await expect(createKmsSigner({ keyVersionName: RSA, client })).rejects.toMatchObject({
      code: 'UNSUPPORTED_ALGORITHM',
    });
  });

  it('surfaces KMS errors as KMS_CALL with the gRPC code; bad names never reach KMS', async () => {
    await expect(createKmsSigner({ keyVersionName: EC.replace('tokens', 'missing'), client })).rejects.toMatchObject({ code: 'KMS_CALL', grpcCode: 5, status: 'NOT_FOUND' });

    const signer = await createKmsSigner({ keyVersionName: EC, client });
    fake.failNext('AsymmetricSign', { status: 'PERMISSION_DENIED', message: 'no cloudkms.cryptoKeyVersions.useToSign' });
    await expect(signer.sign(new Uint8Array([1]))).rejects.toMatchObject({
      code: 'KMS_CALL',
      grpcCode: 7,
      message: expect.stringMatching(/useToSign/),
    });

    fake.requests.length = 0;
    await expect(createKmsSigner({ keyVersionName: 'projects/p/keys/k', client })).rejects.toThrow(/CryptoKeyVersion/);
    expect(fake.requests).toEqual([]);
  });

  it('a transient UNAVAILABLE: gRPC retries it (AsymmetricSign is idempotent); REST in gax 5.0.x does not', async () => {
    const signer = await createKmsSigner({ keyVersionName: ED, client });
    fake.requests.length = 0;
    fake.failNext('AsymmetricSign', { status: 'UNAVAILABLE', message: 'backend restarting' });
    const data = new Uint8Array([4, 2]);
    if (transport === 'grpc') {
      const sig = await signer.sign(data);
      expect(cryptoVerify(null, data, fake.keys.get(ED)!.publicKey, sig)).toBe(true);
      expect(fake.requests.map((r) => r.rpc)).toEqual(['AsymmetricSign', 'AsymmetricSign']);
    } else {
      // googleapis/gax-nodejs#1803: REST errors carry the HTTP status, so the retry policy never matches.
      await expect(signer.sign(data)).rejects.toMatchObject({
        code: 'KMS_CALL',
        grpcCode: 14,
        status: 'UNAVAILABLE',
        message: expect.stringMatching(/backend restarting/),
      });
      expect(fake.requests.map((r) => r.rpc)).toEqual(['AsymmetricSign']);
    }
  });

  it('a closed fake is a KMS_CALL error (UNAVAILABLE), not a hang', async () => {
    const gone = await startFakeKms({ transport });
    gone.addKey(EC, 'EC_SIGN_P256_SHA256');
    const c = kmsClient(gone.clientOptions());
    try {
      const signer = await createKmsSigner({ keyVersionName: EC, client: c, timeoutMs: 1_000 });
      await gone.close();
      const err = await signer.sign(new Uint8Array([1])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KmsSignerError);
      expect((err as KmsSignerError).code).toBe('KMS_CALL');
      // gRPC: retried until the deadline; REST: connection refused at once
      expect([4, 14]).toContain((err as KmsSignerError).grpcCode);
    } finally {
      await c.close();
      await gone.close().catch(() => undefined);
    }
  });
});
