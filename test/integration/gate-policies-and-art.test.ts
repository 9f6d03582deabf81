import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, SHIPPED_POLICIES_DIR } from '../../src/config/config.ts';
import { PolicySetError } from '../../src/gate/policy-engine.ts';
import { createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import { trainingMiningAssertion } from '../../src/provenance/c2pa/training-mining.ts';
import { createLogger, startRuntime } from '../../src/runtime.ts';
import { makeJpeg, makePng } from '../fixtures/media.ts';
import { createTestDatabase, databaseUnavailable } from '../support/db.ts';
import { licenseBody } from '../support/fixtures.ts';
import { dataset, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Clearance = { decision: string; policyDigest: string; assets: { assetId: string; reasons: { policyId: string }[] }[] };

describe.skipIf(databaseUnavailable())('policies legal can edit', () => {
  let svc: TestService;
  let dir: string;
  let legal: string;
  let admin: string;
  let vendor: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-policies-'));
    cpSync(SHIPPED_POLICIES_DIR, dir, { recursive: true });
    svc = await startTestService({ POLICIES_DIR: dir });
    [legal, admin, vendor] = await Promise.all([svc.token('legal'), svc.token('admin'), svc.token('vendor')]);
  });
  afterAll(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('changes decisions and the policy digest when a policy file is added, and logs the new set', async () => {
    const a = await licensedAsset(svc, legal);
    const d = await dataset(svc, legal, [a.assetId], 'style pass', 'acme-vfx');
    const ask = async () =>
      (await (await svc.call('POST', `/v1/datasets/${d.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'veo-3.0-generate-001' } })).json()) as Clearance;
    const before = await ask();
    expect(before.decision).toBe('allow');

    writeFileSync(
      path.join(dir, 'studio.cedar'),
      `@id("no-veo-this-season")\n@reason("The studio has paused Veo fine-tunes.")\nforbid (principal, action == Clearframe::Action::"train", resource)\nwhen { context.request.baseModelFamily == "veo" };\n`,
    );
    expect((await svc.call('POST', '/v1/policies/reload', { token: legal })).status).toBe(403);
    const reload = await svc.call('POST', '/v1/policies/reload', { token: admin });
    expect(reload.status).toBe(200);
    const reloaded = (await reload.json()) as { changed: boolean; digest: string };
    expect(reloaded.changed).toBe(true);
    expect(reloaded.digest).not.toBe(before.policyDigest);

    const after = await ask();
    expect(after.decision).toBe('deny');
    expect(after.policyDigest).toBe(reloaded.digest);
    expect(after.assets[0]!.reasons.map((r) => r.policyId)).toEqual(['no-veo-this-season']);

    const log = (await (await svc.call('GET', '/v1/audit/events?from=0&limit=1000', { token: legal })).json()) as { events: { action: string; content: { digest?: string } }[] };
    const loaded = log.events.filter((e) => e.action === 'policy-set.loaded').map((e) => e.content.digest);
    expect(loaded).toEqual([before.policyDigest, reloaded.digest]);
  });

  it('refuses an invalid edit and keeps the set in force', async () => {
    const digest = svc.runtime.ctx.policies.current.digest;
    writeFileSync(path.join(dir, 'broken.cedar'), '@id("broken")\n@reason("x")\nforbid (principal, action, resource) when { context.nope == };\n');
    const res = await svc.call('POST', '/v1/policies/reload', { token: admin });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { errors: { field: string }[] };
    expect(problem.errors[0]!.field).toMatch(/^broken\.cedar:3:/);
    expect(svc.runtime.ctx.policies.current.digest).toBe(digest);
    rmSync(path.join(dir, 'broken.cedar'));
  });

  it('stops start-up on an invalid policy set, naming the file and position', async () => {
    const bad = mkdtempSync(path.join(tmpdir(), 'clearframe-bad-policies-'));
    cpSync(SHIPPED_POLICIES_DIR, bad, { recursive: true });
    writeFileSync(path.join(bad, 'typo.cedar'), '@id("typo")\n@reason("r")\npermit (principal, action, resource) when { context.licence.revoked };\n');
    const db = await createTestDatabase();
    const config = loadConfig({ KEYS_DIR: path.join(bad, 'keys'), POLICIES_DIR: bad, LOG_LEVEL: 'silent' });
    const error = await startRuntime(config, { database: db.database, logger: createLogger({ logLevel: 'silent' }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicySetError);
    expect((error as Error).message).toMatch(/typo\.cedar:3:\d+/);
    await db.drop().catch(() => {});
    rmSync(bad, { recursive: true, force: true });
  });
});

describe.skipIf(databaseUnavailable())('art that says it must not be used for training', () => {
  let svc: TestService;
  let legal: string;
  let vendor: string;
  const engine = createC2paWasmEngine();
  const identity = createLocalSigningIdentity();
  const signer = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });

  beforeAll(async () => {
    svc = await startTestService();
    [legal, vendor] = await Promise.all([svc.token('legal'), svc.token('vendor')]);
  });
  afterAll(async () => svc?.close());

  async function upload(bytes: Uint8Array, type: string, name: string) {
    const form = new FormData();
    form.set('file', new File([bytes], name, { type }));
    form.set('title', name);
    form.set('creator', 'R. Ortiz');
    form.set('production', 'dear-upstairs-neighbors');
    const res = await svc.call('POST', '/v1/assets', { token: legal, form });
    expect(res.status).toBe(201);
    const asset = (await res.json()) as { id: string; embeddedTrainingMining: { c2pa: string | null; cawg: string | null } };
    await svc.call('POST', `/v1/assets/${asset.id}/licenses`, { token: legal, json: licenseBody() });
    return asset;
  }

  it('reads C2PA 1.x and CAWG training-mining assertions from uploads and refuses to clear them', async () => {
    const created = { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation' }] } };
    const c2paArt = await engine.sign({
      bytes: makeJpeg({ seed: 11 }),
      mimeType: 'image/jpeg',
      manifest: {
        title: 'c2pa.jpg',
        assertions: [created, trainingMiningAssertion('c2pa', { ai_generative_training: { use: 'notAllowed' }, ai_training: { use: 'notAllowed' } })],
      },
      signer,
    });
    const cawgArt = await engine.sign({
      bytes: makePng({ seed: 12 }),
      mimeType: 'image/png',
      manifest: { title: 'cawg.png', assertions: [created, trainingMiningAssertion('cawg', { ai_training: { use: 'notAllowed' } })] },
      signer,
    });
    const a1 = await upload(c2paArt.bytes, 'image/jpeg', 'c2pa.jpg');
    const a2 = await upload(cawgArt.bytes, 'image/png', 'cawg.png');
    const plain = await upload(makePng({ seed: 13 }), 'image/png', 'plain.png');
    expect(a1.embeddedTrainingMining).toEqual({ c2pa: 'notAllowed', cawg: null });
    expect(a2.embeddedTrainingMining).toEqual({ c2pa: null, cawg: 'notAllowed' });
    expect(plain.embeddedTrainingMining).toEqual({ c2pa: null, cawg: null });

    const d = await dataset(svc, legal, [a1.id, a2.id, plain.id], 'style pass', 'acme-vfx');
    const res = await svc.call('POST', `/v1/datasets/${d.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001' } });
    const c = (await res.json()) as Clearance;
    expect(c.decision).toBe('deny');
    const reasons = new Map(c.assets.map((o) => [o.assetId, o.reasons.map((r) => r.policyId)]));
    expect(reasons.get(a1.id)).toEqual(['c2pa-training-mining-not-allowed']);
    expect(reasons.get(a2.id)).toEqual(['cawg-training-mining-not-allowed']);
    expect(reasons.get(plain.id)).toEqual(['training-permitted']);
  });
});
