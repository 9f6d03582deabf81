/**
 * The reports legal files, out of the ledger: a checkpoint's training summary (a subset clearance that left
 * out a revoked asset and an asset whose own C2PA manifest refuses training) and the chain of title of an
 * asset and of an output two generations deep, whose every audit index is an entry of the stated action
 * and verifies against the tree head the document names. JSON and Markdown agree; roles are enforced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyInclusion } from '../../src/audit/merkle.ts';
import { parseCheckpoint, parseVerifierKey, verifyNote } from '../../src/audit/signed-note.ts';
import { createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import { trainingMiningAssertion } from '../../src/provenance/c2pa/training-mining.ts';
import type { ChainOfTitle } from '../../src/reports/chain-of-title-render.ts';
import type { TrainingSummary } from '../../src/reports/training-summary-render.ts';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { type FakeVertex, startFakeVertex } from '../support/fake-vertex.ts';
import { assetBody, licenseBody } from '../support/fixtures.ts';
import { dataset, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const HOSTILE_TITLE = 'Stairwell | night *key* _frame_\n# not a heading\n<script>alert(1)</script> [link](javascript:x)';
const open = { grants: { training: 'allowed', derivatives: 'allowed', commercial: 'allowed' }, territories: ['WORLD'] };

describe.skipIf(databaseUnavailable())('the reports legal files', () => {
  let svc: TestService;
  let legal: string;
  let admin: string;
  let vendor: string;
  let otherVendor: string;
  let generator: string;
  let distributor: string;
  const engine = createC2paWasmEngine();
  const identity = createLocalSigningIdentity();
  const c2paSigner = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });

  let kept: { assetId: string; licenseId: string | null }[];
  let revoked: { assetId: string; licenseId: string | null };
  let optedOut: string;
  let requested: { id: string; digest: string };
  let clearance: { id: string; datasetId: string; policyDigest: string; datasetDigest: string; auditIndex: number; counts: { assets: number; allowed: number; denied: number } };
  let checkpointId: string;
  let outputA: string;
  let derived: string;
  let checkpointB: string;
  let outputB: string;
  let amendedLicense: string;

  const get = (path: string, token: string, headers: Record<string, string> = {}) => svc.call('GET', path, { token, headers });
  const json = async <T>(res: Response | Promise<Response>): Promise<T> => {
    const r = await res;
    expect([200, 201], await r.clone().text()).toContain(r.status);
    return (await r.json()) as T;
  };
  const sign = async (checkpoint: string, seed: number, sourceAssetIds?: string) => {
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed, width: 48, height: 32 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpoint);
    if (sourceAssetIds) form.set('sourceAssetIds', sourceAssetIds);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status, await res.clone().text()).toBe(200);
    return res.headers.get('clearframe-output-id')!;
  };
  const register = async (checkpoint: string, clearanceId: string) => {
    const res = await svc.call('POST', '/v1/checkpoints', {
      token: vendor,
      json: { clearanceId, baseModel: 'imagen-4.0-generate-001', externalRef: `s3://acme/${clearanceId}`, artifactDigest: `sha256:${'34'.repeat(32)}` },
    });
    expect(res.status, checkpoint).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };

  beforeAll(async () => {
    svc = await startTestService();
    [legal, admin, vendor, otherVendor, generator, distributor] = await Promise.all([
      svc.token('legal', 'lee@studio.example'),
      svc.token('admin'),
      svc.token('vendor', 'ops@acme.example', 'acme-vfx'),
      svc.token('vendor', 'ops@other.example', 'other-house'),
      svc.token('generator', 'render@upstairs.example'),
      svc.token('distributor'),
    ]);

    // Two assets that train (one with a hostile title, one amended and approved), one revoked, one opted out.
    kept = [
      await licensedAsset(svc, legal, open, { title: HOSTILE_TITLE, rightsHolder: 'Ortiz | Studio' }),
      await licensedAsset(
        svc,
        legal,
        { grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' } },
        { rightsHolder: 'Kim Ateliers', mediaType: 'image/jpeg' },
      ),
    ];
    const amended = await svc.call('POST', `/v1/assets/${kept[1]!.assetId}/licenses`, {
      token: legal,
      json: licenseBody({ licensor: 'Kim Ateliers', grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'allowed' } }),
    });
    expect(amended.status).toBe(201);
    amendedLicense = ((await amended.json()) as { id: string }).id;
    kept[1]!.licenseId = amendedLicense;
    const approval = await svc.call('POST', `/v1/licenses/${amendedLicense}/approvals`, {
      token: legal,
      json: { grant: 'derivatives', vendor: 'acme-vfx', purpose: 'fine-tune', validFrom: '2026-01-01T00:00:00Z', validUntil: '2028-01-01T00:00:00Z' },
    });
    expect(approval.status).toBe(201);
    revoked = await licensedAsset(svc, legal, open);
    expect((await svc.call('POST', `/v1/licenses/${revoked.licenseId}/revoke`, { token: legal, json: { reason: 'Contract C-17 terminated' } })).status).toBe(200);

    const created = { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation' }] } };
    const art = await engine.sign({
      bytes: makeJpeg({ seed: 31 }),
      mimeType: 'image/jpeg',
      manifest: { title: 'opted-out.jpg', assertions: [created, trainingMiningAssertion('c2pa', { ai_training: { use: 'notAllowed' } })] },
      signer: c2paSigner,
    });
    const form = new FormData();
    form.set('file', new File([art.bytes], 'opted-out.jpg', { type: 'image/jpeg' }));
    form.set('title', 'Opted out');
    form.set('creator', 'R. Ortiz');
    form.set('production', 'dear-upstairs-neighbors');
    form.set('rightsHolder', 'Ortiz Studio');
    const up = await svc.call('POST', '/v1/assets', { token: legal, form });
    expect(up.status).toBe(201);
    optedOut = ((await up.json()) as { id: string }).id;
    expect((await svc.call('POST', `/v1/assets/${optedOut}/licenses`, { token: legal, json: licenseBody(open) })).status).toBe(201);

    requested = await dataset(svc, legal, [kept[0]!.assetId, revoked.assetId, kept[1]!.assetId, optedOut], 'style pass', 'acme-vfx');
    clearance = await json(
      svc.call('POST', `/v1/datasets/${requested.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001', mode: 'subset' } }),
    );
    checkpointId = await register('A', clearance.id);
    outputA = await sign(checkpointId, 41);

    // Generation 2: output A registered back as art, trained on, and an output of that checkpoint.
    const x = (await (await svc.call('POST', '/v1/assets', { token: legal, json: assetBody({ title: 'Generated stairwell', derivedFromOutputId: outputA }) })).json()) as {
      id: string;
    };
    derived = x.id;
    expect((await svc.call('POST', `/v1/assets/${derived}/licenses`, { token: legal, json: licenseBody(open) })).status).toBe(201);
    const d2 = await dataset(svc, legal, [derived], 'second pass', 'acme-vfx');
    const c2 = await json<{ id: string; decision: string }>(
      svc.call('POST', `/v1/datasets/${d2.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001' } }),
    );
    expect(c2.decision).toBe('allow');
    checkpointB = await register('B', c2.id);
    outputB = await sign(checkpointB, 42);
  });
  afterAll(async () => svc?.close());

  it('summarises a checkpoint’s training content from the ledger, with what the gate left out and why', async () => {
    expect(clearance.counts).toEqual({ assets: 4, allowed: 2, denied: 2 });
    const s = await json<TrainingSummary>(get(`/v1/checkpoints/${checkpointId}/training-summary`, legal));
    expect(s.document).toBe('training-summary');
    expect(s.template).toContain('Article 53(1)(d)');
    const g = s.generalInformation;
    expect(g.provider.name).toBe('acme-vfx');
    expect(g.model).toMatchObject({ checkpointId, baseModel: 'imagen-4.0-generate-001', source: 'external', statusNow: 'active' });
    expect(g.trainingDataSize).toMatchObject({ assets: 2, bytes: 0, bytesKnownFor: 0 }); // registered by hash, not uploaded
    expect(g.modalities).toEqual([
      {
        modality: 'image',
        assetCount: 2,
        mediaTypes: expect.arrayContaining([
          { name: 'image/png', count: 1 },
          { name: 'image/jpeg', count: 1 },
        ]),
      },
    ]);

    // The data sources: the trained dataset (the clearance's subset) and the one asked for, their counts as the ledger has them.
    const l = s.dataSources.licensedData;
    expect(l.dataset.id).toBe(clearance.datasetId);
    expect(l.dataset.digest).toBe(clearance.datasetDigest);
    expect(l.requestedDataset).toMatchObject({ id: requested.id, digest: requested.digest, assetCount: 4 });
    expect(l.assetCount).toBe(2);
    expect(l.rightsHolders).toEqual(
      expect.arrayContaining([
        { name: 'Ortiz | Studio', count: 1 },
        { name: 'Kim Ateliers', count: 1 },
      ]),
    );
    expect(l.productions).toEqual([{ name: 'dear-upstairs-neighbors', count: 2 }]);
    expect(l.period.firstRegisteredAt! <= l.period.lastRegisteredAt!).toBe(true);

    // Tied to the clearance: its id, digests and audit index.
    const c = s.dataProcessing.clearance;
    expect(c).toMatchObject({ id: clearance.id, policyDigest: clearance.policyDigest, datasetDigest: clearance.datasetDigest, mode: 'subset', decision: 'allow' });
    expect(c.counts).toEqual({ requested: 4, allowed: 2, denied: 2 });
    expect(c.granted.auditIndex).toBe(clearance.auditIndex);
    expect(c.policySetLoaded?.action).toBe('policy-set.loaded');

    // The rights reservation honoured: the opted-out asset, by its C2PA training-mining signal.
    const rr = s.dataProcessing.rightsReservations;
    expect(rr.excluded.map((e) => e.assetId)).toEqual([optedOut]);
    expect(rr.excluded[0]!.signals.c2paTrainingMining).toBe('notAllowed');
    expect(rr.excluded[0]!.reasons.map((r) => r.policyId)).toEqual(['c2pa-training-mining-not-allowed']);
    const c2pa = rr.signalsRead.find((r) => r.signal === 'c2pa.training-mining')!;
    expect(c2pa).toMatchObject({ stored: true, excluded: 1, counts: { absent: 3, notAllowed: 1 } });
    expect(rr.signalsRead.find((r) => r.signal === 'IPTC plus:DataMining')!.stored).toBe(false);
    // The revoked asset: excluded by its license, not by a reservation.
    expect(s.dataProcessing.otherExclusions.map((e) => [e.assetId, e.licenseId, e.reasons.map((r) => r.policyId)])).toEqual([
      [revoked.assetId, revoked.licenseId, ['license-revoked']],
    ]);

    // The licenses relied on: the versions the clearance rested on, one per trained asset.
    const lic = s.dataProcessing.licensesReliedOn;
    expect(lic.count).toBe(2);
    expect(lic.items.map((i) => i.licenseId).sort()).toEqual([kept[0]!.licenseId, amendedLicense].sort());
    expect(lic.items.find((i) => i.licenseId === amendedLicense)).toMatchObject({
      version: 2,
      licensor: 'Kim Ateliers',
      standingNow: 'standing',
      recorded: { action: 'license.amended' },
    });
    expect(lic.byLicensor).toEqual(
      expect.arrayContaining([
        { name: 'Kim Ateliers', count: 1 },
        { name: 'Ortiz Studio', count: 1 },
      ]),
    );
  });

  it('answers the same summary as Markdown, by Accept or by format, with its numbers and the hostile title escaped', async () => {
    const s = await json<TrainingSummary>(get(`/v1/checkpoints/${checkpointId}/training-summary`, legal));
    for (const res of [
      await get(`/v1/checkpoints/${checkpointId}/training-summary`, legal, { accept: 'text/markdown' }),
      await get(`/v1/checkpoints/${checkpointId}/training-summary?format=markdown`, legal),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/markdown/);
      const md = await res.text();
      for (const h of ['## 1. General information', '## 2. List of data sources', '## 3. Data processing aspects', '#### Licenses relied on']) expect(md).toContain(h);
      expect(md).toContain(`\`${clearance.policyDigest}\``);
      expect(md).toContain(`\`${s.dataSources.licensedData.dataset.digest}\``);
      expect(md).toContain(`- **Assets asked for:** ${s.dataProcessing.clearance.counts.requested}`);
      expect(md).toContain(`- **Excluded by the gate:** ${s.dataProcessing.clearance.counts.denied}`);
      expect(md).toContain(`- **Assets:** ${s.dataSources.licensedData.assetCount}`);
      expect(md).toContain(`\`${optedOut}\``);
      expect(md).toContain('Ortiz \\| Studio (1)');
      expect(md).not.toContain('<script>');
    }
    // JSON stays the default, and for an explicit JSON preference.
    expect((await get(`/v1/checkpoints/${checkpointId}/training-summary`, legal, { accept: 'application/json, text/markdown' })).headers.get('content-type')).toMatch(/json/);
  });

  it('gives the summary to legal, admin and the checkpoint’s own vendor only', async () => {
    const path = `/v1/checkpoints/${checkpointId}/training-summary`;
    expect((await get(path, admin)).status).toBe(200);
    expect((await get(path, vendor)).status).toBe(200);
    expect((await get(path, otherVendor)).status).toBe(404);
    expect((await get(path, generator)).status).toBe(403);
    expect((await get(path, distributor)).status).toBe(403);
    expect((await svc.call('GET', path)).status).toBe(401);
    expect((await get('/v1/checkpoints/ckp_nope/training-summary', legal)).status).toBe(404);
    expect((await get(`${path}?format=pdf`, legal)).status).toBe(422);
  });

  /** Each audit index is an entry of the stated action, included in the tree head the document names, whose note verifies. */
  async function expectVerifiable(doc: ChainOfTitle) {
    const key = (await json<{ vkey: string }>(svc.call('GET', '/v1/audit/key'))).vkey;
    const verified = verifyNote(doc.treeHead.note, [parseVerifierKey(key)]);
    const body = parseCheckpoint(verified.body);
    expect(body.treeSize).toBe(doc.treeHead.treeSize);
    expect(Buffer.from(body.rootHash).toString('base64')).toBe(doc.treeHead.rootHash);
    const root = Buffer.from(doc.treeHead.rootHash, 'base64');
    expect(doc.entries.length).toBeGreaterThan(0);
    for (const f of doc.entries) {
      const { events } = await json<{ events: { index: number; action: string; time: string; actor: { sub: string }; leafHash: string }[] }>(
        get(`/v1/audit/events?from=${f.auditIndex}&limit=1`, legal),
      );
      expect(events[0]!.index).toBe(f.auditIndex);
      expect(events[0]!.action, `entry ${f.auditIndex}`).toBe(f.action);
      expect(events[0]!.time).toBe(f.at);
      expect(events[0]!.actor.sub).toBe(f.by);
      const proof = await json<{ hashes: string[] }>(get(`/v1/audit/proofs/inclusion?index=${f.auditIndex}&treeSize=${doc.treeHead.treeSize}`, legal));
      const ok = verifyInclusion(
        Buffer.from(events[0]!.leafHash, 'base64'),
        f.auditIndex,
        doc.treeHead.treeSize,
        proof.hashes.map((h) => Buffer.from(h, 'base64')),
        root,
      );
      expect(ok, `entry ${f.auditIndex} in the tree of ${doc.treeHead.treeSize}`).toBe(true);
    }
  }

  it('writes an asset’s chain of title: registration, versions, amendment, approval, revocation, each with its audit entry', async () => {
    const doc = await json<ChainOfTitle>(get(`/v1/reports/chain-of-title?assetId=${kept[1]!.assetId}`, legal));
    expect(doc.subject).toEqual({ kind: 'asset', id: kept[1]!.assetId });
    const a = doc.asset!;
    expect(a.registered.action).toBe('asset.registered');
    expect(a.licenses.map((l) => [l.version, l.recorded.action, l.statusNow])).toEqual([
      [1, 'license.granted', 'superseded'],
      [2, 'license.amended', 'active'],
    ]);
    expect(a.licenses[1]!.approvals.map((p) => [p.action, p.by])).toEqual([['license.approval-recorded', 'lee@studio.example']]);
    expect(doc.entries.map((e) => e.action)).toEqual(['asset.registered', 'license.granted', 'license.amended', 'license.approval-recorded']);
    await expectVerifiable(doc);

    const gone = await json<ChainOfTitle>(get(`/v1/reports/chain-of-title?assetId=${revoked.assetId}`, legal));
    expect(gone.asset!.licenses[0]!.revocation).toMatchObject({ action: 'license.revoked', by: 'lee@studio.example' });
    expect(gone.asset!.licenses[0]!.statusNow).toBe('revoked');
    await expectVerifiable(gone);

    const md = await (await get(`/v1/reports/chain-of-title?assetId=${revoked.assetId}&format=markdown`, legal)).text();
    for (const e of gone.entries) expect(md).toContain(`| ${e.auditIndex} | \`${e.action}\` |`);
    expect(md).toContain(`- **Tree size:** ${gone.treeHead.treeSize}`);
    expect(md).toContain(gone.treeHead.note);
  });

  it('writes an output’s chain of title through the asset registered from an earlier output, and every index verifies', async () => {
    const doc = await json<ChainOfTitle>(get(`/v1/reports/chain-of-title?outputId=${outputB}`, legal));
    const o = doc.output!;
    expect(o).toMatchObject({ outputId: outputB, checkpoint: { id: checkpointB }, signed: { action: 'output.signed', by: 'render@upstairs.example' } });
    expect(o.assets.map((a) => [a.role, a.asset.assetId])).toEqual([['training', derived]]);
    const deeper = o.assets[0]!.derivedFrom as NonNullable<ChainOfTitle['output']>;
    expect(deeper.outputId).toBe(outputA);
    expect(deeper.checkpoint.id).toBe(checkpointId);
    expect(deeper.clearance).toMatchObject({ id: clearance.id, policyDigest: clearance.policyDigest });
    expect(deeper.dataset.id).toBe(clearance.datasetId);
    expect(deeper.assets.map((a) => a.asset.assetId).sort()).toEqual([kept[0]!.assetId, kept[1]!.assetId].sort());
    expect(deeper.assets.find((a) => a.asset.assetId === kept[1]!.assetId)!.licenseAtClearanceId).toBe(amendedLicense);
    const actions = new Set(doc.entries.map((e) => e.action));
    for (const a of [
      'output.signed',
      'checkpoint.registered',
      'clearance.granted',
      'dataset.created',
      'asset.registered',
      'license.granted',
      'license.amended',
      'license.approval-recorded',
    ])
      expect(actions, a).toContain(a);
    await expectVerifiable(doc);

    // The Markdown states the same entries and the same tree head, and the hostile title cannot break it.
    const md = await (await get(`/v1/reports/chain-of-title?outputId=${outputB}`, legal, { accept: 'text/markdown' })).text();
    for (const e of doc.entries) expect(md).toContain(`| ${e.auditIndex} | \`${e.action}\` |`);
    expect(md).toContain(`\`${doc.treeHead.rootHash}\``);
    expect(md).not.toContain('<script>');
    expect(md).not.toMatch(/^# not a heading/m);
    expect(md).toContain('Stairwell \\| night \\*key\\* \\_frame\\_ \\# not a heading &lt;script&gt;');
  });

  it('takes exactly one subject, answers unknown ones 404, and serves legal and admin only', async () => {
    expect((await get('/v1/reports/chain-of-title', legal)).status).toBe(422);
    const both = await get(`/v1/reports/chain-of-title?assetId=${derived}&outputId=${outputB}`, legal);
    expect(both.status).toBe(422);
    expect(both.headers.get('content-type')).toContain('application/problem+json');
    expect((await get('/v1/reports/chain-of-title?assetId=ast_nope', legal)).status).toBe(404);
    expect((await get('/v1/reports/chain-of-title?outputId=out_nope', legal)).status).toBe(404);
    expect((await get(`/v1/reports/chain-of-title?assetId=${derived}`, admin)).status).toBe(200);
    for (const t of [vendor, generator, distributor]) expect((await get(`/v1/reports/chain-of-title?assetId=${derived}`, t)).status).toBe(403);
  });
});

describe.skipIf(databaseUnavailable())('the training summary of a checkpoint tuned on Vertex AI', () => {
  let svc: TestService;
  let fake: FakeVertex;

  beforeAll(async () => {
    fake = await startFakeVertex({ progression: 'manual' });
    const { port } = fake.clientOptions();
    svc = await startTestService({ VERTEX_PROJECT: 'dun-prod', VERTEX_LOCATION: 'us-central1', VERTEX_API_ENDPOINT: `http://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await svc?.close();
    await fake?.close();
  });

  it('names the tuning job the checkpoint came from, with its audit entry', async () => {
    const [legal, vendor] = await Promise.all([svc.token('legal'), svc.token('vendor', 'ml@acme', 'acme-vfx')]);
    const a = await licensedAsset(svc, legal);
    const d = await dataset(svc, legal, [a.assetId], 'style pass', 'acme-vfx');
    const clearance = (await (
      await svc.call('POST', `/v1/datasets/${d.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'veo-3.0-generate-001' } })
    ).json()) as { token: string; decision: string };
    expect(clearance.decision).toBe('allow');
    const res = await svc.call('POST', '/v1/tuning-jobs', {
      token: vendor,
      json: { clearanceToken: clearance.token, baseModel: 'veo-3.0-generate-001', trainingDataUri: 'gs://acme-vfx-training/dun/pass1.jsonl', displayName: 'dun | style *1*' },
    });
    expect(res.status).toBe(201);
    const job = (await res.json()) as { id: string; vertexJobName: string; auditIndex: number };
    fake.advance(job.vertexJobName);
    fake.advance(job.vertexJobName);
    const done = (await (await svc.call('GET', `/v1/tuning-jobs/${job.id}`, { token: vendor })).json()) as { checkpoint: { id: string } | null };
    expect(done.checkpoint).not.toBeNull();

    const s = (await (await svc.call('GET', `/v1/checkpoints/${done.checkpoint!.id}/training-summary`, { token: vendor })).json()) as TrainingSummary;
    expect(s.generalInformation.model.source).toBe('vertex');
    expect(s.generalInformation.model.name).toMatch(/^projects\/.+\/models\//);
    expect(s.generalInformation.model.tuningJob).toMatchObject({
      id: job.id,
      displayName: 'dun | style *1*',
      trainingDataUri: 'gs://acme-vfx-training/dun/pass1.jsonl',
      recorded: { action: 'tuning-job.submitted', by: 'ml@acme' },
    });
    const { events } = (await (await svc.call('GET', `/v1/audit/events?from=${s.generalInformation.model.tuningJob!.recorded.auditIndex}&limit=1`, { token: legal })).json()) as {
      events: { action: string; subjectId: string }[];
    };
    expect(events[0]).toMatchObject({ action: 'tuning-job.submitted', subjectId: job.id });
    const md = await (await svc.call('GET', `/v1/checkpoints/${done.checkpoint!.id}/training-summary?format=markdown`, { token: vendor })).text();
    expect(md).toContain(`- **Tuning job:** \`${job.id}\` dun \\| style \\*1\\*`);
  });
});
