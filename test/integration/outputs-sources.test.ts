import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { outputs } from '../../src/outputs/tables.ts';
import { createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import { trainingMiningAssertion } from '../../src/provenance/c2pa/training-mining.ts';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { licenseBody } from '../support/fixtures.ts';
import { activeCheckpoint, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Refusal = { status: number; type: string; detail: string; refusedSources: { assetId: string; cause: string; reason: string; licenseId: string | null }[] };
const allowed = { grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' } };

/** A source asset used as reference or conditioning must itself be cleared for derivative use (docs/outputs.md). */
describe.skipIf(databaseUnavailable())('the source assets of an output', () => {
  let svc: TestService;
  let legal: string;
  let vendor: string;
  let generator: string;
  const size = () => treeSize(svc.runtime.ctx.database.db);
  const outputCount = async () => (await svc.runtime.ctx.database.db.select({ id: outputs.id }).from(outputs)).length;

  beforeAll(async () => {
    svc = await startTestService();
    [legal, vendor, generator] = await Promise.all([svc.token('legal'), svc.token('vendor', 'ml@acme', 'acme-vfx'), svc.token('generator')]);
  });
  afterAll(async () => svc?.close());

  async function sign(checkpointId: string, sourceAssetIds: string[], seed = 70) {
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed })], 'frame.jpeg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpointId);
    form.set('sourceAssetIds', sourceAssetIds.join(','));
    return svc.call('POST', '/v1/outputs', { token: generator, form });
  }

  async function notAllowedArt() {
    const identity = createLocalSigningIdentity();
    const signer = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
    const created = { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation' }] } };
    const art = await createC2paWasmEngine().sign({
      bytes: makeJpeg({ seed: 71 }),
      mimeType: 'image/jpeg',
      manifest: {
        title: 'nomine.jpg',
        assertions: [created, trainingMiningAssertion('c2pa', { ai_generative_training: { use: 'notAllowed' }, ai_training: { use: 'notAllowed' } })],
      },
      signer,
    });
    const form = new FormData();
    form.set('file', new File([art.bytes], 'nomine.jpg', { type: 'image/jpeg' }));
    form.set('title', 'nomine.jpg');
    form.set('creator', 'R. Ortiz');
    form.set('production', 'dear-upstairs-neighbors');
    const asset = (await (await svc.call('POST', '/v1/assets', { token: legal, form })).json()) as { id: string };
    await svc.call('POST', `/v1/assets/${asset.id}/licenses`, { token: legal, json: licenseBody(allowed) });
    return asset.id;
  }

  it('refuses sources that are not cleared for derivative use with 409 naming each, and signs and records nothing', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1, allowed);
    const unlicensed = await licensedAsset(svc, legal, null);
    const noDerivatives = await licensedAsset(svc, legal, { grants: { training: 'allowed', derivatives: 'notAllowed', commercial: 'allowed' } });
    const needsApproval = await licensedAsset(svc, legal, { grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' } });
    const expired = await licensedAsset(svc, legal, { ...allowed, term: { start: '2020-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' } });
    const otherVendor = await licensedAsset(svc, legal, { ...allowed, licensee: 'Other Films', vendors: ['other-house'] });
    const revoked = await licensedAsset(svc, legal, allowed);
    expect((await svc.call('POST', `/v1/licenses/${revoked.licenseId}/revoke`, { token: legal, json: { reason: 'contract terminated' } })).status).toBe(200);
    const embedded = await notAllowedArt();
    const fine = await licensedAsset(svc, legal, allowed); // outside the checkpoint's dataset, yet licensed for derivatives

    const before = await size();
    const rows = await outputCount();
    const ids = [unlicensed.assetId, noDerivatives.assetId, needsApproval.assetId, expired.assetId, otherVendor.assetId, revoked.assetId, embedded, fine.assetId];
    const res = await sign(checkpoint.id, ids);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as Refusal;
    expect(problem.type).toMatch(/\/conflict$/);
    const causeOf = Object.fromEntries(problem.refusedSources.map((r) => [r.assetId, r.cause]));
    expect(causeOf).toEqual({
      [unlicensed.assetId]: 'license-missing',
      [noDerivatives.assetId]: 'derivatives-not-allowed',
      [needsApproval.assetId]: 'derivatives-approval-missing',
      [expired.assetId]: 'license-outside-term',
      [otherVendor.assetId]: 'vendor-not-licensed',
      [revoked.assetId]: 'license-revoked',
      [embedded]: 'c2pa-training-mining-not-allowed',
    });
    for (const r of problem.refusedSources) {
      expect(r.reason.length, r.assetId).toBeGreaterThan(10);
      expect(problem.detail).toContain(r.assetId);
    }
    expect(problem.refusedSources.find((r) => r.assetId === noDerivatives.assetId)!.licenseId).toBe(noDerivatives.licenseId);
    expect(await size()).toBe(before);
    expect(await outputCount()).toBe(rows);

    // Alone, the licensed source outside the dataset signs.
    const ok = await sign(checkpoint.id, [fine.assetId], 72);
    expect(ok.status).toBe(200);
  });

  it('signs with a source whose derivative grant requires approval once legal records one for the vendor', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1, allowed);
    const source = await licensedAsset(svc, legal, { grants: { training: 'notAllowed', derivatives: 'requiresApproval', commercial: 'allowed' } });
    expect((await sign(checkpoint.id, [source.assetId], 73)).status).toBe(409);
    // An approval for another vendor does not cover it.
    const approve = (v: string) =>
      svc.call('POST', `/v1/licenses/${source.licenseId}/approvals`, {
        token: legal,
        json: { grant: 'derivatives', vendor: v, purpose: 'fine-tune', validFrom: '2026-01-01T00:00:00Z', validUntil: '2028-01-01T00:00:00Z' },
      });
    expect((await approve('other-house')).status).toBe(201);
    expect((await sign(checkpoint.id, [source.assetId], 74)).status).toBe(409);
    expect((await approve('acme-vfx')).status).toBe(201);
    const res = await sign(checkpoint.id, [source.assetId], 75);
    expect(res.status).toBe(200);
    // A training approval is not a derivative one: an asset needing both is not cleared by the training approval alone.
    const both = await licensedAsset(svc, legal, { grants: { training: 'requiresApproval', derivatives: 'requiresApproval', commercial: 'allowed' } });
    await svc.call('POST', `/v1/licenses/${both.licenseId}/approvals`, {
      token: legal,
      json: { grant: 'training', vendor: 'acme-vfx', purpose: 'fine-tune', validFrom: '2026-01-01T00:00:00Z', validUntil: '2028-01-01T00:00:00Z' },
    });
    const refused = await sign(checkpoint.id, [both.assetId], 76);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as Refusal).refusedSources[0]!.cause).toBe('derivatives-approval-missing');
  });
});
