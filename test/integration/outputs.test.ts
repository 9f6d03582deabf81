import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { leafHash, verifyInclusion } from '../../src/audit/merkle.ts';
import { parseCheckpoint, parseVerifierKey, verifyNote } from '../../src/audit/signed-note.ts';
import { readOutputLineage } from '../../src/outputs/manifest.ts';
import { createC2paWasmEngine, createLocalKeySigner } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalSigningIdentity } from '../../src/provenance/c2pa/local-ca.ts';
import { extractTrainingMining } from '../../src/provenance/c2pa/training-mining.ts';
import { makeJpeg, makeMp4, makePng, tamperImageData } from '../fixtures/media.ts';
import { blockPicture } from '../fixtures/pictures.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody, licenseBody } from '../support/fixtures.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Verdict = {
  verdict: string;
  c2pa: { trusted: boolean; intact: boolean; failureCodes: string[]; signer?: { commonName: string | null; alg: string | null; time: string | null } | null } | null;
  ledger: { match: string; outputId?: string } | null;
  lineage: { outputId: string; checkpoint: { id: string }; auditIndex: number; dataset: { digest: string } } | null;
  standing: { checkpoint: { status: string } } | null;
  proof: { index: number; treeSize: number; leaf: string; hashes: string[]; checkpoint: string } | null;
};
const b = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe.skipIf(databaseUnavailable())('signed outputs, verification and rights chains', () => {
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

  async function sign(bytes: Uint8Array, type: string, checkpointId: string, extra: Record<string, string> = {}, token = generator) {
    const form = new FormData();
    form.set('file', new File([bytes], `frame.${type.split('/')[1]}`, { type }));
    form.set('checkpointId', checkpointId);
    for (const [k, v] of Object.entries(extra)) form.set(k, v);
    return svc.call('POST', '/v1/outputs', { token, form });
  }
  async function verify(bytes: Uint8Array, type: string, token = distributor) {
    const res = await svc.call('POST', '/v1/verify', { token, body: bytes, headers: { 'content-type': type } });
    expect(res.status).toBe(200);
    return (await res.json()) as Verdict;
  }

  it('signs JPEG, PNG and MP4 outputs that c2pa-rs validates with every assertion, and verifies them with a proof', async () => {
    // Its source is used for a derivative: its license allows that (outputs-sources.test.ts has the refusals).
    const { checkpoint, clearance, dataset, assets } = await activeCheckpoint(svc, legal, vendor, 2, {
      grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' },
    });
    const engine = createC2paWasmEngine({ trustAnchorsPem: svc.runtime.ctx.keyring.c2pa.trustAnchorsPem });
    for (const [bytes, type] of [
      [makeJpeg({ seed: 1 }), 'image/jpeg'],
      [makePng({ seed: 2 }), 'image/png'],
      [makeMp4({ frames: 2 }), 'video/mp4'],
    ] as const) {
      const res = await sign(bytes, type, checkpoint.id, {
        sourceAssetIds: assets[0]!.assetId,
        prompt: 'the stairwell at night, rain',
        generatorName: 'imagen-runner',
        generatorVersion: '2.1',
      });
      expect(res.status, type).toBe(200);
      const outputId = res.headers.get('clearframe-output-id')!;
      expect(outputId).toMatch(/^out_/);
      const signed = new Uint8Array(await res.arrayBuffer());

      const read = await engine.read({ bytes: signed, mimeType: type });
      if (read.kind !== 'manifest') throw new Error('no manifest');
      expect(read.trusted && read.intact && read.failureCodes.length === 0, read.failureCodes.join()).toBe(true);
      const actions = read.assertions.find((a) => a.label.startsWith('c2pa.actions'))!.data as { actions: { action: string; digitalSourceType: string }[] };
      expect(actions.actions[0]).toMatchObject({ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia' });
      expect(JSON.stringify(actions)).toContain('imagen-4.0-generate-001');
      expect(JSON.stringify(actions)).toContain(checkpoint.id);
      const lineage = readOutputLineage(read)!;
      expect(lineage).toMatchObject({
        outputId,
        checkpoint: { id: checkpoint.id },
        clearanceId: clearance.id,
        dataset: { id: dataset.id, digest: dataset.digest },
        ledgerUrl: 'http://clearframe.test',
        generator: { name: 'imagen-runner', version: '2.1' },
      });
      expect(lineage.prompt).toBeNull();
      expect(lineage.promptSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(lineage.sourceAssets.map((s) => s.assetId)).toEqual([assets[0]!.assetId]);
      const mining = extractTrainingMining(read).filter((e) => e.assertionLabel === 'c2pa.training-mining');
      expect(mining.length).toBeGreaterThan(0);
      expect(mining.every((e) => e.use === 'notAllowed')).toBe(true);

      const v = await verify(signed, type);
      expect(v.verdict).toBe('verified');
      // Who signed, as the claim signature's certificate names them, and its algorithm.
      expect(v.c2pa!.signer).toMatchObject({ commonName: 'Clearframe C2PA Signer', alg: 'Es256' });
      // No time-stamp on this output: the signature states no time of its own (the registration's time is the leaf's).
      expect(v.c2pa!.signer!.time).toBeNull();
      expect(v.ledger).toMatchObject({ match: 'exact', outputId });
      expect(v.standing!.checkpoint.status).toBe('active');
      // The proof checks against the signed checkpoint with the published key, and the leaf is the registration.
      const key = (await (await svc.call('GET', '/v1/audit/key')).json()) as { vkey: string };
      const head = parseCheckpoint(verifyNote(v.proof!.checkpoint, [parseVerifierKey(key.vkey)]).body);
      expect(head.treeSize).toBe(v.proof!.treeSize);
      const leaf = b(v.proof!.leaf);
      expect(verifyInclusion(leafHash(leaf), v.proof!.index, head.treeSize, v.proof!.hashes.map(b), head.rootHash)).toBe(true);
      const entry = JSON.parse(Buffer.from(leaf).toString());
      expect(entry).toMatchObject({ index: lineage.auditIndex, action: 'output.signed', subjectId: outputId });
      expect(entry.content.signedSha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('reports one changed byte as tampered, a foreign signer as untrusted, and plain or broken files clearly', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const signed = new Uint8Array(await (await sign(makeJpeg({ seed: 9 }), 'image/jpeg', checkpoint.id)).arrayBuffer());
    const tampered = tamperImageData(signed, 'image/jpeg');
    const t = await verify(tampered, 'image/jpeg');
    expect(t.verdict).toBe('tampered');
    expect(t.c2pa!.failureCodes).toContain('assertion.dataHash.mismatch');
    expect(t.ledger!.match).toBe('manifest-only');

    const stranger = createLocalSigningIdentity();
    const elsewhere = await createC2paWasmEngine().sign({
      bytes: makePng({ seed: 3 }),
      mimeType: 'image/png',
      manifest: {
        title: 'x.png',
        assertions: [
          { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation' }] } },
        ],
      },
      signer: createLocalKeySigner({ privateKey: stranger.signer.privateKeyPem, certChainDer: stranger.signer.chainDer }),
    });
    const u = await verify(elsewhere.bytes, 'image/png');
    expect(u.verdict).toBe('untrusted');
    expect(u.c2pa!.failureCodes).toContain('signingCredential.untrusted');
    expect(u.ledger!.match).toBe('none');

    // A picture no output looks like (the fixtures' plain gradients are all one picture, whatever the seed,
    // and one of them was signed above: with soft binding on, a copy of it is `recovered`).
    expect((await verify(await blockPicture(404, 'image/png'), 'image/png')).verdict).toBe('no-manifest');
    expect((await verify(makePng({ seed: 4 }), 'image/png')).verdict).toBe('recovered');
    expect((await verify(new TextEncoder().encode('not an image at all'), 'image/jpeg')).verdict).toBe('damaged');

    // multipart works too
    const form = new FormData();
    form.set('file', new File([signed], 'frame.jpg', { type: 'image/jpeg' }));
    const multipart = await svc.call('POST', '/v1/verify', { token: legal, form });
    expect(((await multipart.json()) as Verdict).verdict).toBe('verified');
    expect((await svc.call('POST', '/v1/verify', { token: generator, body: signed, headers: { 'content-type': 'image/jpeg' } })).status).toBe(403);
  });

  it('signs nothing for a tainted or retired checkpoint, and refuses bad files', async () => {
    const { checkpoint, assets } = await activeCheckpoint(svc, legal, vendor, 1);
    const before = await treeSize(svc.runtime.ctx.database.db);
    expect((await sign(makeJpeg({ seed: 5 }), 'image/bmp', checkpoint.id)).status).toBe(415);
    expect((await sign(makeJpeg({ seed: 5 }), 'image/png', checkpoint.id)).status).toBe(422); // JPEG bytes sent as PNG
    expect((await sign(new TextEncoder().encode('garbage'), 'image/jpeg', checkpoint.id)).status).toBe(422);
    expect((await sign(makeJpeg({ seed: 5 }), 'image/jpeg', 'ckp_nope')).status).toBe(404);
    expect((await sign(makeJpeg({ seed: 5 }), 'image/jpeg', checkpoint.id, { sourceAssetIds: 'ast_nope' })).status).toBe(422);
    expect((await sign(makeJpeg({ seed: 5 }), 'image/jpeg', checkpoint.id, {}, vendor)).status).toBe(403);
    expect(await treeSize(svc.runtime.ctx.database.db)).toBe(before);

    await svc.call('POST', `/v1/licenses/${assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'withdrawn' } });
    const after = await treeSize(svc.runtime.ctx.database.db);
    const refused = await sign(makeJpeg({ seed: 5 }), 'image/jpeg', checkpoint.id);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(new RegExp(`tainted: license ${assets[0]!.licenseId}`));
    expect(await treeSize(svc.runtime.ctx.database.db)).toBe(after);

    const other = await activeCheckpoint(svc, legal, vendor, 1);
    await svc.call('POST', `/v1/checkpoints/${other.checkpoint.id}/retire`, { token: legal, json: { reason: 'superseded' } });
    const retired = await sign(makeJpeg({ seed: 6 }), 'image/jpeg', other.checkpoint.id);
    expect(retired.status).toBe(409);
    expect(((await retired.json()) as { detail: string }).detail).toMatch(/retired: superseded/);
  });

  it('walks the rights chain through a two-generation derivative and answers a proposed use with reasons', async () => {
    // Generation 1: art S (streaming in US only) trains checkpoint A; output A is registered back as art X.
    const gen1 = await activeCheckpoint(svc, legal, vendor, 1, {
      grants: { training: 'allowed', derivatives: 'allowed', commercial: 'allowed' },
      territories: ['US'],
      media: ['streaming'],
    });
    const outA = (await sign(makeJpeg({ seed: 21 }), 'image/jpeg', gen1.checkpoint.id)).headers.get('clearframe-output-id')!;
    const x = (await (await svc.call('POST', '/v1/assets', { token: legal, json: assetBody({ title: 'Generated stairwell', derivedFromOutputId: outA }) })).json()) as {
      id: string;
    };
    await svc.call('POST', `/v1/assets/${x.id}/licenses`, {
      token: legal,
      json: licenseBody({ grants: { training: 'allowed', derivatives: 'allowed', commercial: 'allowed' }, territories: ['WORLD'], media: ['streaming', 'theatrical'] }),
    });
    // Generation 2: another checkpoint, output B uses X directly as reference.
    const gen2 = await activeCheckpoint(svc, legal, vendor, 1, {
      grants: { training: 'allowed', derivatives: 'allowed', commercial: 'allowed' },
      territories: ['WORLD'],
      media: ['streaming', 'theatrical'],
    });
    const outB = (await sign(makePng({ seed: 22 }), 'image/png', gen2.checkpoint.id, { sourceAssetIds: x.id })).headers.get('clearframe-output-id')!;

    const chain = async (query: string) =>
      (await (await svc.call('GET', `/v1/outputs/${outB}/rights-chain?${query}`, { token: legal })).json()) as { verdict: string; reasons: string[] };
    expect((await chain('territory=US&media=streaming&commercial=true')).verdict).toBe('cleared');
    const abroad = await chain('territory=FR&media=streaming');
    expect(abroad.verdict).toBe('notCleared');
    expect(abroad.reasons.join('\n')).toContain(gen1.assets[0]!.licenseId!); // the deep license, two generations down

    await svc.call('POST', `/v1/licenses/${gen1.assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'artist withdrew consent' } });
    const revoked = await chain('territory=US&media=streaming');
    expect(revoked.verdict).toBe('notCleared');
    expect(revoked.reasons.join('\n')).toMatch(/revoked/);

    expect((await svc.call('GET', `/v1/outputs/${outB}/rights-chain?territory=USA`, { token: legal })).status).toBe(422);
    expect((await svc.call('GET', `/v1/outputs/${outB}/rights-chain`, { token: distributor })).status).toBe(403);
    expect((await svc.call('POST', '/v1/assets', { token: legal, json: assetBody({ derivedFromOutputId: 'out_nope' }) })).status).toBe(422);
  });
});
