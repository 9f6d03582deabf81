/**
 * What distributors and clients read off the service without a token: the C2PA trust anchors (an output
 * verifies offline against what /v1/trust/c2pa serves).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/auth/tokens.ts';
import { verifyOffline } from '../../src/outputs/verify-offline.ts';
import { createC2paWasmEngine } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const ROLES: Role[] = ['admin', 'legal', 'vendor', 'distributor', 'generator'];

describe.skipIf(databaseUnavailable())('what distributors and clients read: trust anchors and the OpenAPI document', () => {
  let svc: TestService;
  const tokens = {} as Record<Role, string>;

  beforeAll(async () => {
    svc = await startTestService();
    for (const role of ROLES) tokens[role] = await svc.token(role);
  });
  afterAll(async () => svc?.close());

  it('publishes the C2PA trust anchors without a token, and an output verifies offline against them', async () => {
    const res = await svc.call('GET', '/v1/trust/c2pa');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
    const pem = await res.text();
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(pem).toBe(svc.runtime.ctx.keyring.c2pa.trustAnchorsPem.map((a) => (a.endsWith('\n') ? a : `${a}\n`)).join(''));

    const { checkpoint } = await activeCheckpoint(svc, tokens.legal, tokens.vendor, 1);
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 16 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpoint.id);
    const signedRes = await svc.call('POST', '/v1/outputs', { token: tokens.generator, form });
    expect(signedRes.status).toBe(200);
    const signed = new Uint8Array(await signedRes.arrayBuffer());

    // A distributor's machine: no keys of the service, only the PEM it published.
    const pems = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)!;
    const distributor = createC2paWasmEngine({ trustAnchorsPem: pems });
    expect(await verifyOffline(distributor, signed, { mimeType: 'image/jpeg' })).toMatchObject({ verdict: 'valid', c2pa: { trusted: true, intact: true } });
    const stranger = createC2paWasmEngine({ trustAnchorsPem: [] });
    expect(await verifyOffline(stranger, signed, { mimeType: 'image/jpeg' })).toMatchObject({ verdict: 'untrusted' });
  });
});
