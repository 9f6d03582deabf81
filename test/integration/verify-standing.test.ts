import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Verdict = {
  verdict: string;
  standing: {
    status: string;
    cause: { code: string; message: string } | null;
    checkpoint: { id: string; status: string };
    clearance: { id: string; standing: string };
  } | null;
};

/** The integrity verdict stays; the standing beside it says, at once, whether rights still rest on the output. */
describe.skipIf(databaseUnavailable())('the standing of a verified output', () => {
  let svc: TestService;
  let legal: string;
  let vendor: string;
  let generator: string;
  let distributor: string;

  beforeAll(async () => {
    svc = await startTestService();
    [legal, vendor, generator, distributor] = await Promise.all([svc.token('legal'), svc.token('vendor'), svc.token('generator'), svc.token('distributor')]);
  });
  afterAll(async () => svc?.close());

  const verify = async (bytes: Uint8Array) => {
    const res = await svc.call('POST', '/v1/verify', { token: distributor, body: bytes, headers: { 'content-type': 'image/jpeg' } });
    expect(res.status).toBe(200);
    return (await res.json()) as Verdict;
  };

  it('reports good, then tainted with a stable cause once a license under its checkpoint is revoked, keeping the verdict', async () => {
    const { checkpoint, clearance, assets } = await activeCheckpoint(svc, legal, vendor, 1);
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 81 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpoint.id);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status).toBe(200);
    const signed = new Uint8Array(await res.arrayBuffer());

    const good = await verify(signed);
    expect(good.verdict).toBe('verified');
    expect(good.standing).toMatchObject({
      status: 'good',
      cause: null,
      checkpoint: { id: checkpoint.id, status: 'active' },
      clearance: { id: clearance.id, standing: 'standing' },
    });

    await svc.call('POST', `/v1/licenses/${assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'contract terminated' } });
    const tainted = await verify(signed);
    expect(tainted.verdict).toBe('verified'); // the file is still what the ledger signed
    expect(tainted.standing).toMatchObject({ status: 'tainted', checkpoint: { status: 'tainted' }, clearance: { standing: 'revoked' } });
    expect(tainted.standing!.cause!.code).toBe('license-revoked');
    expect(tainted.standing!.cause!.message).toContain(assets[0]!.licenseId!);
    expect(tainted.standing!.cause!.message).toContain('contract terminated');
  });
});
