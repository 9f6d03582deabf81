import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../fixtures/media.ts';
import { brokenArt } from '../support/broken-art.ts';
import { databaseUnavailable } from '../support/db.ts';
import { licenseBody } from '../support/fixtures.ts';
import { dataset, licensedAsset, vendorOf } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Asset = {
  id: string;
  embeddedTrainingMining: { c2pa: string | null; cawg: string | null };
  embeddedManifest: { state: string; codes: string[]; override: { reason: string; by: string; at: string; auditIndex: number } | null };
};
type Clearance = { decision: string; token: string | null; assets: { assetId: string; decision: string; reasons: { policyId: string; reason: string }[] }[] };
type Events = { events: { index: number; action: string; subjectId: string; content: Record<string, unknown> }[] };

describe.skipIf(databaseUnavailable())('art whose own manifest cannot be validated fails closed', () => {
  let svc: TestService;
  let legal: string;
  let admin: string;
  let vendor: string;

  beforeAll(async () => {
    svc = await startTestService();
    [legal, admin, vendor] = await Promise.all([svc.token('legal'), svc.token('admin'), svc.token('vendor')]);
  });
  afterAll(async () => svc?.close());

  async function upload(bytes: Uint8Array, name: string): Promise<Asset> {
    const form = new FormData();
    form.set('file', new File([bytes], name, { type: 'image/jpeg' }));
    form.set('title', name);
    form.set('creator', 'R. Ortiz');
    form.set('production', 'dear-upstairs-neighbors');
    const res = await svc.call('POST', '/v1/assets', { token: legal, form });
    expect(res.status).toBe(201);
    const asset = (await res.json()) as Asset;
    expect((await svc.call('POST', `/v1/assets/${asset.id}/licenses`, { token: legal, json: licenseBody() })).status).toBe(201);
    return asset;
  }
  const clear = async (assetIds: string[]) => {
    const d = await dataset(svc, legal, assetIds, 'style pass', vendorOf(vendor));
    const res = await svc.call('POST', `/v1/datasets/${d.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001' } });
    return (await res.json()) as Clearance;
  };
  const override = (id: string, token: string, json: unknown) => svc.call('POST', `/v1/assets/${id}/embedded-terms-override`, { token, json });
  const events = async () => ((await (await svc.call('GET', '/v1/audit/events?from=0&limit=1000', { token: legal })).json()) as Events).events;

  it('registers it as invalid, denies its clearance naming the reason, and clears it once legal overrides', async () => {
    // The claim signature's algorithm changed to -25: c2pa-rs stops reading at the signature.
    const asset = await upload(await brokenArt(31, 0x38), 'nomine-broken.jpg');
    expect(asset.embeddedManifest).toMatchObject({ state: 'invalid', override: null });
    expect(asset.embeddedManifest.codes).toContain('CoseX5ChainMissing');
    const registered = (await events()).find((e) => e.action === 'asset.registered' && e.subjectId === asset.id)!;
    expect(registered.content).toMatchObject({ embeddedManifestState: 'invalid', embeddedManifestCodes: asset.embeddedManifest.codes });

    const fine = await licensedAsset(svc, legal);
    const denied = await clear([asset.id, fine.assetId]);
    expect(denied.decision).toBe('deny');
    expect(denied.token).toBeNull();
    const outcome = denied.assets.find((a) => a.assetId === asset.id)!;
    expect(outcome.reasons.map((r) => r.policyId)).toEqual(['embedded-manifest-unreadable']);
    expect(outcome.reasons[0]!.reason).toMatch(/invalid, damaged or unreadable/);

    // Only legal (or admin) may override, with a reason.
    expect((await override(asset.id, vendor, { reason: 'we checked' })).status).toBe(403);
    const noReason = await override(asset.id, legal, {});
    expect(noReason.status).toBe(422);
    const before = (await events()).length;
    const done = await override(asset.id, legal, { reason: 'Rights holder confirmed in writing that training is allowed (C-17 annex 2)' });
    expect(done.status).toBe(201);
    const overridden = (await done.json()) as Asset;
    expect(overridden.embeddedManifest.override).toMatchObject({ reason: 'Rights holder confirmed in writing that training is allowed (C-17 annex 2)', by: 'legal-user' });
    const logged = (await events()).slice(before);
    expect(logged.map((e) => [e.action, e.subjectId])).toEqual([['asset.embedded-terms-overridden', asset.id]]);
    expect(logged[0]!.content).toMatchObject({ reason: overridden.embeddedManifest.override!.reason, embeddedManifestState: 'invalid' });
    expect(logged[0]!.index).toBe(overridden.embeddedManifest.override!.auditIndex);
    const read = (await (await svc.call('GET', `/v1/assets/${asset.id}`, { token: legal })).json()) as Asset;
    expect(read.embeddedManifest).toEqual(overridden.embeddedManifest);

    const allowed = await clear([asset.id, fine.assetId]);
    expect(allowed.decision).toBe('allow');
    expect(allowed.token).toEqual(expect.any(String));

    // Once per asset; never for art whose manifest is valid or absent.
    expect((await override(asset.id, admin, { reason: 'again' })).status).toBe(409);
    const plain = await upload(makeJpeg({ seed: 32 }), 'plain.jpg');
    expect(plain.embeddedManifest).toEqual({ state: 'none', codes: [], override: null });
    expect((await override(plain.id, legal, { reason: 'nothing to override' })).status).toBe(409);
    expect((await override('ast_doesnotexist', legal, { reason: 'x' })).status).toBe(404);
  });

  it('keeps the restriction read from an invalid manifest, and lets the override set it aside', async () => {
    // The algorithm changed to -8 (EdDSA): c2pa-rs reads the manifest, and its signature does not hold.
    const asset = await upload(await brokenArt(33, 0x27), 'nomine-eddsa.jpg');
    expect(asset.embeddedManifest.state).toBe('invalid');
    expect(asset.embeddedManifest.codes).toContain('claimSignature.mismatch');
    expect(asset.embeddedTrainingMining.c2pa).toBe('notAllowed');
    const denied = await clear([asset.id]);
    expect(denied.assets[0]!.reasons.map((r) => r.policyId)).toEqual(['embedded-manifest-unreadable', 'c2pa-training-mining-not-allowed']);
    expect((await override(asset.id, legal, { reason: 'The signature is broken; the rights holder licensed training in C-17' })).status).toBe(201);
    expect((await clear([asset.id])).decision).toBe('allow');
  });

  it('calls art whose manifest store c2pa-rs cannot find damaged, not unsigned', async () => {
    // One letter of the second `jumb` box type changed: c2pa-rs reads "no manifest".
    const bytes = Buffer.from(await brokenArt(35, 0x26));
    const first = bytes.indexOf(Buffer.from('jumb'));
    bytes[bytes.indexOf(Buffer.from('jumb'), first + 1)] = 0x4a;
    const asset = await upload(new Uint8Array(bytes), 'nomine-box.jpg');
    // The C2PA reader finds the store and says it cannot be parsed (the assets' own presence check is the floor).
    expect(asset.embeddedManifest.state).toBe('damaged');
    expect(asset.embeddedManifest.codes).toContain('manifest_parse_error');
    const denied = await clear([asset.id]);
    expect(denied.assets[0]!.reasons.map((r) => r.policyId)).toEqual(['embedded-manifest-unreadable']);
  });
});
