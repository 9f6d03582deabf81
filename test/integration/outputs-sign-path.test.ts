/**
 * The order of work in signOutput and verifyFile: what the manifest needs is read before the ledger change
 * (together, while the input is hashed on the thread pool), the generation gate is asked under the append
 * lock before anything is signed, and the signed file is hashed while c2pa-rs reads it back. A refused
 * output is never signed (no c2pa-rs, key or TSA call), answers 409 and records nothing; errors keep the
 * precedence they had when the reads ran one after another; the hashes recorded are those of the bytes.
 */
import { createHash } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app-context.ts';
import { readEvent, treeSize } from '../../src/audit/log-store.ts';
import { Problem } from '../../src/http/problem.ts';
import { signOutput } from '../../src/outputs/service.ts';
import { outputs } from '../../src/outputs/tables.ts';
import { verifyFile } from '../../src/outputs/verify.ts';
import { C2paError } from '../../src/provenance/c2pa/errors.ts';
import type { TimestampAuthority } from '../../src/provenance/c2pa/tsa-client.ts';
import type { ManifestEngine, SignInput } from '../../src/provenance/c2pa/types.ts';
import { makeJpeg, makeMp4 } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const GENERATOR = { sub: 'render-farm', role: 'generator' as const };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The service's engine, with a log of sign calls and an optional failure in place of the signature. */
function spyEngine(real: ManifestEngine, fail?: () => unknown) {
  const signs: SignInput[] = [];
  const engine: ManifestEngine = {
    sign: async (input) => {
      signs.push(input);
      if (fail) throw fail();
      return real.sign(input);
    },
    read: (input) => real.read(input),
  };
  return { engine, signs };
}

describe.skipIf(databaseUnavailable())('signOutput and verifyFile: order of work', () => {
  let svc: TestService;
  let legal: string;
  let vendor: string;
  let ctx: AppContext;

  beforeAll(async () => {
    svc = await startTestService();
    [legal, vendor] = await Promise.all([svc.token('legal'), svc.token('vendor')]);
    ctx = svc.runtime.ctx;
  });
  afterAll(async () => svc?.close());

  const outputCount = async () => (await ctx.database.db.select({ n: count() }).from(outputs))[0]!.n;
  const refusedWith = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(Problem);
    return e as Problem;
  };

  async function taintedCheckpoint() {
    const made = await activeCheckpoint(svc, legal, vendor, 1);
    const res = await svc.call('POST', `/v1/licenses/${made.assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'withdrawn' } });
    expect(res.status).toBe(200);
    return made;
  }

  it('a refused gate: nothing is signed, 409, nothing recorded', async () => {
    const { checkpoint, assets } = await taintedCheckpoint();
    const spy = spyEngine(ctx.c2pa);
    const [size, n] = [await treeSize(ctx.database.db), await outputCount()];
    const e = await refusedWith(
      signOutput({ ...ctx, c2pa: spy.engine }, GENERATOR, { bytes: makeJpeg({ seed: 41 }), mimeType: 'image/jpeg', title: 't', checkpointId: checkpoint.id, sourceAssetIds: [assets[0]!.assetId] }),
    );
    expect(e.status).toBe(409);
    expect(e.message).toMatch(new RegExp(`tainted: license ${assets[0]!.licenseId}.*nothing was signed`));
    expect(spy.signs).toHaveLength(0);
    expect(await treeSize(ctx.database.db)).toBe(size);
    expect(await outputCount()).toBe(n);

    // Through HTTP: the same 409 and nothing in the log.
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 42 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpoint.id);
    const res = await svc.call('POST', '/v1/outputs', { token: await svc.token('generator'), form });
    expect(res.status).toBe(409);
    expect(await treeSize(ctx.database.db)).toBe(size);
  });

  it('a failing signature is 502 and records nothing; a refused gate is 409 whatever the key would do', async () => {
    const tainted = await taintedCheckpoint();
    const failing = spyEngine(ctx.c2pa, () => new C2paError('signing_failed', 'KMS down'));
    const input = (checkpointId: string) => ({ bytes: makeJpeg({ seed: 43 }), mimeType: 'image/jpeg', title: 't', checkpointId, sourceAssetIds: [] });
    expect((await refusedWith(signOutput({ ...ctx, c2pa: failing.engine }, GENERATOR, input(tainted.checkpoint.id)))).status).toBe(409);
    expect(failing.signs).toHaveLength(0);

    const active = await activeCheckpoint(svc, legal, vendor, 1);
    const [size, n] = [await treeSize(ctx.database.db), await outputCount()];
    const e = await refusedWith(signOutput({ ...ctx, c2pa: failing.engine }, GENERATOR, input(active.checkpoint.id)));
    expect(e.status).toBe(502);
    expect(e.message).toMatch(/KMS down/);
    expect(failing.signs).toHaveLength(1);
    expect(await treeSize(ctx.database.db)).toBe(size);
    expect(await outputCount()).toBe(n);
  });

  it('with a time-stamp authority: a refused output asks neither c2pa-rs nor the TSA', async () => {
    const { checkpoint } = await taintedCheckpoint();
    const spy = spyEngine(ctx.c2pa);
    const stamps: Uint8Array[] = [];
    const tsa: TimestampAuthority = { name: 'spy-tsa', stamp: async (imprint) => {
        stamps.push(imprint);
        throw new Error('the TSA must not be asked for a refused output');
      },
    };
    const size = await treeSize(ctx.database.db);
    const e = await refusedWith(
      signOutput({ ...ctx, c2pa: spy.engine, timestampAuthority: tsa }, GENERATOR, { bytes: makeJpeg({ seed: 44 }), mimeType: 'image/jpeg', title: 't', checkpointId: checkpoint.id, sourceAssetIds: [] }),
    );
    expect(e.status).toBe(409);
    expect(spy.signs).toHaveLength(0);
    expect(stamps).toHaveLength(0);
    expect(await treeSize(ctx.database.db)).toBe(size);
  });

  it('unknown sources are judged before an unknown checkpoint (422, then 404), as before the reads ran together', async () => {
    const base = { bytes: makeJpeg({ seed: 45 }), mimeType: 'image/jpeg', title: 't' };
    expect((await refusedWith(signOutput(ctx, GENERATOR, { ...base, checkpointId: 'ckp_nope', sourceAssetIds: ['ast_nope'] }))).status).toBe(422);
    expect((await refusedWith(signOutput(ctx, GENERATOR, { ...base, checkpointId: 'ckp_nope', sourceAssetIds: [] }))).status).toBe(404);
  });

  it('records the hashes of the input and of the signed bytes, and verify finds them with a proof', async () => {
    const { checkpoint, assets } = await activeCheckpoint(svc, legal, vendor, 2);
    for (const [bytes, mimeType] of [[makeJpeg({ seed: 46 }), 'image/jpeg'], [makeMp4({ frames: 4, seed: 46 }), 'video/mp4']] as const) {
      const { bytes: signed, output } = await signOutput(ctx, GENERATOR, { bytes, mimeType, title: 't', checkpointId: checkpoint.id, sourceAssetIds: assets.map((a) => a.assetId), prompt: 'p' });
      expect(output.originalSha256).toBe(sha(bytes));
      expect(output.signedSha256).toBe(sha(signed));
      expect(output.signedSize).toBe(signed.byteLength);
      const event = await readEvent(ctx.database.db, output.auditIndex);
      expect(event!.content).toMatchObject({ id: output.id, originalSha256: sha(bytes), signedSha256: sha(signed), manifestLabel: output.manifestLabel, policyDigest: output.policyDigest });
      const [row] = await ctx.database.db.select().from(outputs).where(eq(outputs.id, output.id));
      expect(row!.sourceAssetIds).toEqual(assets.map((a) => a.assetId));

      const v = await verifyFile(ctx, signed, mimeType);
      expect(v.verdict).toBe('verified');
      expect(v.sha256).toBe(sha(signed));
      expect(v.ledger).toMatchObject({ match: 'exact', outputId: output.id });
      expect(v.standing).toMatchObject({ checkpoint: { id: checkpoint.id, status: 'active' }, clearance: { standing: 'standing' } });
      expect(v.proof!.index).toBe(output.auditIndex);
      expect(v.proof!.treeSize).toBeGreaterThan(output.auditIndex);
    }
  });
});
