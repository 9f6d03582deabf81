import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIPPED_POLICIES_DIR } from '../../src/config/config.ts';
import { makeJpeg } from '../fixtures/media.ts';
import { brokenArt } from '../support/broken-art.ts';
import { databaseUnavailable } from '../support/db.ts';
import { licenseBody } from '../support/fixtures.ts';
import { activeCheckpoint, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Refusal = { refusedSources: { assetId: string; cause: string; reason: string }[] };
const allowed = { grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' } };

// An output's source art is cleared by the gate's Cedar policies (action `derive`), the same set that clears
// training: what the policy files say is what outputs may use.
describe.skipIf(databaseUnavailable())('output sources are cleared by the policy files', () => {
  let svc: TestService;
  let dir: string;
  let legal: string;
  let admin: string;
  let vendor: string;
  let generator: string;
  let seed = 400;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-derive-policies-'));
    cpSync(SHIPPED_POLICIES_DIR, dir, { recursive: true });
    svc = await startTestService({ POLICIES_DIR: dir });
    [legal, admin, vendor, generator] = await Promise.all([svc.token('legal'), svc.token('admin'), svc.token('vendor', 'ml@acme', 'acme-vfx'), svc.token('generator')]);
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function sign(checkpointId: string, sourceAssetIds: string[]) {
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: seed++ })], 'frame.jpeg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpointId);
    form.set('sourceAssetIds', sourceAssetIds.join(','));
    return svc.call('POST', '/v1/outputs', { token: generator, form });
  }
  const causes = async (res: Response) => {
    expect(res.status).toBe(409);
    return ((await res.json()) as Refusal).refusedSources.map((r) => [r.assetId, r.cause]);
  };
  const reload = async () => expect((await svc.call('POST', '/v1/policies/reload', { token: admin })).status).toBe(200);

  it('follows an edit of derive.cedar and a policy legal adds, after a reload', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1, allowed);
    const trainingOnly = await licensedAsset(svc, legal, { grants: { training: 'allowed', derivatives: 'notAllowed', commercial: 'notAllowed' } });
    expect(await causes(await sign(checkpoint.id, [trainingOnly.assetId]))).toEqual([[trainingOnly.assetId, 'derivatives-not-allowed']]);

    // The studio decides that a training grant covers reference use too.
    const file = path.join(dir, 'derive.cedar');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace('context.license.grants.derivatives == Clearframe::Grant::"allowed" ||', 'context.license.grants.training == Clearframe::Grant::"allowed" ||')
        .replace(/@id\("derivatives-not-allowed"\)[\s\S]*?\};\n/, ''),
    );
    await reload();
    expect((await sign(checkpoint.id, [trainingOnly.assetId])).status).toBe(200);

    // And pauses derivative use of one production's art.
    writeFileSync(
      path.join(dir, 'studio.cedar'),
      '@id("no-derivatives-of-the-other-film")\n@reason("The other film\'s art is not to be used as reference this season.")\nforbid (principal, action == Clearframe::Action::"derive", resource)\nwhen { resource.production == "the-other-film" };\n',
    );
    await reload();
    const other = await licensedAsset(svc, legal, allowed, { production: 'the-other-film' });
    const refused = await sign(checkpoint.id, [other.assetId, trainingOnly.assetId]);
    expect(await causes(refused)).toEqual([[other.assetId, 'no-derivatives-of-the-other-film']]);
  });

  it('refuses source art whose own manifest cannot be validated until legal overrides it', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1, allowed);
    const form = new FormData();
    form.set('file', new File([await brokenArt(41, 0x38)], 'nomine.jpg', { type: 'image/jpeg' }));
    form.set('title', 'nomine.jpg');
    form.set('creator', 'R. Ortiz');
    form.set('production', 'dear-upstairs-neighbors');
    const asset = (await (await svc.call('POST', '/v1/assets', { token: legal, form })).json()) as { id: string; embeddedManifest: { state: string } };
    expect(asset.embeddedManifest.state).toBe('invalid');
    expect((await svc.call('POST', `/v1/assets/${asset.id}/licenses`, { token: legal, json: licenseBody(allowed) })).status).toBe(201);
    expect(await causes(await sign(checkpoint.id, [asset.id]))).toEqual([[asset.id, 'embedded-manifest-unreadable']]);
    expect((await svc.call('POST', `/v1/assets/${asset.id}/embedded-terms-override`, { token: legal, json: { reason: 'Confirmed with the rights holder' } })).status).toBe(201);
    expect((await sign(checkpoint.id, [asset.id])).status).toBe(200);
  });
});
