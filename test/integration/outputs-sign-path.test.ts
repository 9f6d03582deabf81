/**
 * The order of work in signOutput and verifyFile: what the manifest needs is read together with the log's
 * tip (while the input is hashed on the thread pool); the generation gate is asked before the signature
 * (no key or TSA call for a refused output, which answers 409 and records nothing); the sign holds no lock,
 * and its commit writes only if the log did not move meanwhile, else the output is made again under the
 * lock with a new index. Errors keep their precedence; the hashes recorded are those of the bytes.
 */
import { createHash } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app-context.ts';
import { Ledger, LogMovedOn, type PreparedAppend } from '../../src/audit/ledger.ts';
import { readEvent, readFrontier, treeSize } from '../../src/audit/log-store.ts';
import { verifyStoredLog } from '../../src/audit/verify-log.ts';
import { checkpointStatus } from '../../src/checkpoints/service.ts';
import { checkpoints } from '../../src/checkpoints/tables.ts';
import { queryTextPrepared } from '../../src/db/database.ts';
import { restingLicenses } from '../../src/gate/resting.ts';
import { clearanceStanding } from '../../src/gate/standing.ts';
import { Problem } from '../../src/http/problem.ts';
import { readOutputLineage } from '../../src/outputs/manifest.ts';
import { getOutput } from '../../src/outputs/reader.ts';
import { signOutput } from '../../src/outputs/sign.ts';
import { outputs, outputWithdrawals } from '../../src/outputs/tables.ts';
import { verifyFile } from '../../src/outputs/verify.ts';
import { C2paError } from '../../src/provenance/c2pa/errors.ts';
import type { TimestampAuthority } from '../../src/provenance/c2pa/tsa-client.ts';
import type { ManifestEngine, SignInput } from '../../src/provenance/c2pa/types.ts';
import type { Signer } from '../../src/signing/signer.ts';
import { makeJpeg, makeMp4 } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';
import { activeCheckpoint, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const GENERATOR = { sub: 'render-farm', role: 'generator' as const };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Sources used for a derivative need a license that allows one (src/outputs/source-clearance.ts). */
const DERIVATIVES = { grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' } };

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

/** The context with its C2PA key wrapped: every signature the key makes is counted. */
function countingKey(ctx: AppContext) {
  const key = ctx.keyring.c2pa.signer;
  const signatures: Uint8Array[] = [];
  const counted: Signer = { kid: key.kid, alg: key.alg, publicJwk: key.publicJwk, sign: async (data) => (signatures.push(data), key.sign(data)) };
  return { ctx: { ...ctx, keyring: { ...ctx.keyring, c2pa: { ...ctx.keyring.c2pa, signer: counted } } } as AppContext, signatures };
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
    const key = countingKey(ctx);
    const [size, n] = [await treeSize(ctx.database.db), await outputCount()];
    const e = await refusedWith(
      signOutput(key.ctx, GENERATOR, { bytes: makeJpeg({ seed: 41 }), mimeType: 'image/jpeg', title: 't', checkpointId: checkpoint.id, sourceAssetIds: [assets[0]!.assetId] }),
    );
    expect(e.status).toBe(409);
    expect(e.message).toMatch(new RegExp(`tainted: license ${assets[0]!.licenseId}.*nothing was signed`));
    expect(key.signatures).toHaveLength(0);
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
    // c2pa-rs fails before it asks for the signature; the gate's refusal still answers.
    expect((await refusedWith(signOutput({ ...ctx, c2pa: failing.engine }, GENERATOR, input(tainted.checkpoint.id)))).status).toBe(409);

    const active = await activeCheckpoint(svc, legal, vendor, 1);
    const [size, n] = [await treeSize(ctx.database.db), await outputCount()];
    const e = await refusedWith(signOutput({ ...ctx, c2pa: failing.engine }, GENERATOR, input(active.checkpoint.id)));
    expect(e.status).toBe(502);
    expect(e.message).toMatch(/KMS down/);
    expect(failing.signs).toHaveLength(2);
    expect(await treeSize(ctx.database.db)).toBe(size);
    expect(await outputCount()).toBe(n);
  });

  it('with a time-stamp authority: a refused output asks neither the key nor the TSA', async () => {
    const { checkpoint } = await taintedCheckpoint();
    const key = countingKey(ctx);
    const stamps: Uint8Array[] = [];
    const tsa: TimestampAuthority = {
      name: 'spy-tsa',
      stamp: async (imprint) => {
        stamps.push(imprint);
        throw new Error('the TSA must not be asked for a refused output');
      },
    };
    const size = await treeSize(ctx.database.db);
    const e = await refusedWith(
      signOutput({ ...key.ctx, timestampAuthority: tsa }, GENERATOR, {
        bytes: makeJpeg({ seed: 44 }),
        mimeType: 'image/jpeg',
        title: 't',
        checkpointId: checkpoint.id,
        sourceAssetIds: [],
      }),
    );
    expect(e.status).toBe(409);
    expect(key.signatures).toHaveLength(0);
    expect(stamps).toHaveLength(0);
    expect(await treeSize(ctx.database.db)).toBe(size);
  });

  it('unknown sources are judged before an unknown checkpoint (422, then 404), as before the reads ran together', async () => {
    const base = { bytes: makeJpeg({ seed: 45 }), mimeType: 'image/jpeg', title: 't' };
    expect((await refusedWith(signOutput(ctx, GENERATOR, { ...base, checkpointId: 'ckp_nope', sourceAssetIds: ['ast_nope'] }))).status).toBe(422);
    expect((await refusedWith(signOutput(ctx, GENERATOR, { ...base, checkpointId: 'ckp_nope', sourceAssetIds: [] }))).status).toBe(404);
  });

  it('records the hashes of the input and of the signed bytes, and verify finds them with a proof', async () => {
    const { checkpoint, assets } = await activeCheckpoint(svc, legal, vendor, 2, DERIVATIVES);
    for (const [bytes, mimeType] of [
      [makeJpeg({ seed: 46 }), 'image/jpeg'],
      [makeMp4({ frames: 4, seed: 46 }), 'video/mp4'],
    ] as const) {
      const { bytes: signed, output } = await signOutput(ctx, GENERATOR, {
        bytes,
        mimeType,
        title: 't',
        checkpointId: checkpoint.id,
        sourceAssetIds: assets.map((a) => a.assetId),
        prompt: 'p',
      });
      expect(output.originalSha256).toBe(sha(bytes));
      expect(output.signedSha256).toBe(sha(signed));
      expect(output.signedSize).toBe(signed.byteLength);
      const event = await readEvent(ctx.database.db, output.auditIndex);
      expect(event!.content).toMatchObject({
        id: output.id,
        originalSha256: sha(bytes),
        signedSha256: sha(signed),
        manifestLabel: output.manifestLabel,
        policyDigest: output.policyDigest,
      });
      const [row] = await ctx.database.db.select().from(outputs).where(eq(outputs.id, output.id));
      expect(row!.sourceAssetIds).toEqual(assets.map((a) => a.assetId));

      const v = await verifyFile(ctx, signed, mimeType);
      expect(v.verdict).toBe('verified');
      expect(v.sha256).toBe(sha(signed));
      expect(v.ledger).toMatchObject({ match: 'exact', outputId: output.id });
      expect(v.standing).toMatchObject({ status: 'good', cause: null, checkpoint: { id: checkpoint.id, status: 'active' }, clearance: { standing: 'standing' } });
      expect(v.proof!.index).toBe(output.auditIndex);
      expect(v.proof!.treeSize).toBeGreaterThan(output.auditIndex);
    }
  });

  it('the sign holds no lock: a change landing meanwhile is not held up, and the output is made again under the lock with the next index', async () => {
    const { checkpoint, assets } = await activeCheckpoint(svc, legal, vendor, 1, DERIVATIVES);
    const db = ctx.database.db;
    const key = countingKey(ctx);
    let landed: { assetId: string } | undefined;
    const engine: ManifestEngine = {
      sign: async (input) => {
        // Another writer's change during the first sign (in the old design it waited for the sign's lock).
        landed ??= await licensedAsset(svc, legal, null);
        return key.ctx.c2pa.sign(input);
      },
      read: (input) => ctx.c2pa.read(input),
    };
    const before = await treeSize(db);
    const bytes = makeJpeg({ seed: 47 });
    const { bytes: signed, output } = await signOutput({ ...key.ctx, c2pa: engine }, GENERATOR, {
      bytes,
      mimeType: 'image/jpeg',
      title: 't',
      checkpointId: checkpoint.id,
      sourceAssetIds: [assets[0]!.assetId],
    });
    expect((await readEvent(db, before))!.subjectId).toBe(landed!.assetId);
    // The first signature named index `before`, which the asset took: it was dropped, and the output signed again.
    expect(key.signatures).toHaveLength(2);
    expect(output.auditIndex).toBe(before + 1);
    expect(await treeSize(db)).toBe(before + 2);
    const read = await ctx.c2pa.read({ bytes: signed, mimeType: 'image/jpeg' });
    expect(readOutputLineage(read)!.auditIndex).toBe(output.auditIndex);
    expect((await readEvent(db, output.auditIndex))!.content).toMatchObject({ id: output.id, signedSha256: sha(signed), manifestLabel: output.manifestLabel });
    expect((await verifyFile(ctx, signed, 'image/jpeg')).verdict).toBe('verified');
    expect((await verifyStoredLog(ctx.database)).ok).toBe(true);
  });

  it('the common case signs once, at the index it read, and leaves the log whole', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const key = countingKey(ctx);
    const before = await treeSize(ctx.database.db);
    const { bytes: signed, output } = await signOutput(key.ctx, GENERATOR, {
      bytes: makeMp4({ frames: 3, seed: 48 }),
      mimeType: 'video/mp4',
      title: 't',
      checkpointId: checkpoint.id,
      sourceAssetIds: [],
    });
    expect(key.signatures).toHaveLength(1);
    expect(output.auditIndex).toBe(before);
    expect(readOutputLineage(await ctx.c2pa.read({ bytes: signed, mimeType: 'video/mp4' }))!.auditIndex).toBe(before);
    expect((await verifyStoredLog(ctx.database)).ok).toBe(true);
  });

  it('a revocation landing during the sign: 409 under the lock, nothing recorded, no file', async () => {
    const { checkpoint, assets } = await activeCheckpoint(svc, legal, vendor, 1);
    let revoked = false;
    const engine: ManifestEngine = {
      sign: async (input) => {
        if (!revoked) {
          const res = await svc.call('POST', `/v1/licenses/${assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'withdrawn mid-sign' } });
          expect(res.status).toBe(200);
          revoked = true;
        }
        return ctx.c2pa.sign(input);
      },
      read: (input) => ctx.c2pa.read(input),
    };
    const [size, n] = [await treeSize(ctx.database.db), await outputCount()];
    const e = await refusedWith(
      signOutput({ ...ctx, c2pa: engine }, GENERATOR, { bytes: makeJpeg({ seed: 49 }), mimeType: 'image/jpeg', title: 't', checkpointId: checkpoint.id, sourceAssetIds: [] }),
    );
    expect(e.status).toBe(409);
    expect(e.message).toMatch(/revoked/);
    // The revocation's entries (and the checkpoint's taint), none for an output.
    const after = await treeSize(ctx.database.db);
    const actions = await Promise.all(Array.from({ length: after - size }, async (_, i) => (await readEvent(ctx.database.db, size + i))!.action));
    expect(actions).toContain('license.revoked');
    expect(actions).not.toContain('output.signed');
    expect(await outputCount()).toBe(n);
  });

  it('the commit goes out beside the read-back: recorded by the time the read-back ends, and the file leaves only after both', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const db = ctx.database.db;
    let sizeWhenSigned = -1;
    let recordedDuringReadBack = false;
    const engine: ManifestEngine = {
      sign: (input) =>
        ctx.c2pa.sign({
          ...input,
          onSigned: async (s) => {
            sizeWhenSigned = await treeSize(db);
            await input.onSigned!(s);
            // The read-back runs after this returns; the output's statement is already on its way.
            for (let i = 0; i < 200 && !recordedDuringReadBack; i++) {
              recordedDuringReadBack =
                (
                  await db
                    .select({ n: count() })
                    .from(outputs)
                    .where(eq(outputs.signedSha256, sha(s.bytes)))
                )[0]!.n === 1;
            }
          },
        }),
      read: (input) => ctx.c2pa.read(input),
    };
    const { bytes, output } = await signOutput({ ...ctx, c2pa: engine }, GENERATOR, {
      bytes: makeJpeg({ seed: 50 }),
      mimeType: 'image/jpeg',
      title: 't',
      checkpointId: checkpoint.id,
      sourceAssetIds: [],
      prompt: 'rain on the skylight',
      generator: { name: 'imagen-runner', version: '2.1' },
    });
    expect(output.auditIndex).toBe(sizeWhenSigned);
    expect(recordedDuringReadBack).toBe(true);
    expect(output.signedSha256).toBe(sha(bytes));
    // The row handed back is the row stored (the statement returns only its index).
    expect(await getOutput(db, output.id)).toEqual({ ...output, withdrawal: null });
  });

  it('a read-back that refuses a file already recorded: the output is withdrawn in its own entry, the file never leaves, and nothing rests on it', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const db = ctx.database.db;
    let asSigned: Uint8Array | undefined;
    // The signed file is damaged after the service saw it and before the read-back: the read-back refuses.
    const engine: ManifestEngine = {
      sign: (input) =>
        ctx.c2pa.sign({
          ...input,
          onSigned: async (s) => {
            await input.onSigned!(s);
            asSigned = s.bytes.slice();
            s.bytes[s.bytes.length - 10]! ^= 0xff;
          },
        }),
      read: (input) => ctx.c2pa.read(input),
    };
    const [size, n] = [await treeSize(db), await outputCount()];
    const e = await refusedWith(
      signOutput({ ...ctx, c2pa: engine }, GENERATOR, { bytes: makeJpeg({ seed: 51 }), mimeType: 'image/jpeg', title: 't', checkpointId: checkpoint.id, sourceAssetIds: [] }),
    );
    expect(e.status).toBe(500);
    expect(e.message).toMatch(/does not validate/);
    // Two entries: the output as signed, then its withdrawal, which says why.
    expect(await treeSize(db)).toBe(size + 2);
    expect(await outputCount()).toBe(n + 1);
    const [signedEntry, withdrawnEntry] = [(await readEvent(db, size))!, (await readEvent(db, size + 1))!];
    expect(signedEntry.action).toBe('output.signed');
    expect(withdrawnEntry).toMatchObject({
      action: 'output.withdrawn',
      subjectId: signedEntry.subjectId,
      content: { outputId: signedEntry.subjectId, signedSha256: sha(asSigned!) },
    });
    expect((withdrawnEntry.content as { reason: string }).reason).toMatch(/^sign_self_check_failed/);
    const outputId = signedEntry.subjectId;
    const [w] = await db.select().from(outputWithdrawals).where(eq(outputWithdrawals.outputId, outputId));
    expect(w).toMatchObject({ auditIndex: size + 1 });
    expect((await getOutput(db, outputId)).withdrawal).toMatchObject({ auditIndex: size + 1 });
    // Were the bytes as recorded ever presented, verify says withdrawn; the rights chain rests on nothing.
    const v = await verifyFile(ctx, asSigned!, 'image/jpeg');
    expect(v.verdict).toBe('withdrawn');
    expect(v.ledger).toMatchObject({ match: 'exact', outputId, withdrawal: { auditIndex: size + 1 } });
    expect(v.standing).toMatchObject({ status: 'withdrawn', cause: { code: 'output-withdrawn' } });
    const chain = await svc.call('GET', `/v1/outputs/${outputId}/rights-chain`, { token: legal });
    const body = (await chain.json()) as { verdict: string; reasons: string[] };
    expect(body.verdict).toBe('notCleared');
    expect(body.reasons.join('\n')).toMatch(/was withdrawn/);
    const view = await svc.call('GET', `/v1/outputs/${outputId}`, { token: legal });
    const shown = ((await view.json()) as { withdrawal: { auditIndex: number; codes: string[] } }).withdrawal;
    expect(shown.auditIndex).toBe(size + 1);
    // The same withdrawal wherever it is shown, c2pa-rs' codes included.
    expect(v.ledger).toMatchObject({ withdrawal: shown });
    // Nothing can be registered as made from it.
    const asset = await svc.call('POST', '/v1/assets', {
      token: legal,
      json: assetBody({ title: 'from a withdrawn output', derivedFromOutputId: outputId }),
    });
    expect(asset.status).toBe(422);
    expect(await treeSize(db)).toBe(size + 2);
    expect((await verifyStoredLog(ctx.database)).ok).toBe(true);
  });

  it("a remembered tip another process has passed: the sign stops before its signature and signs once at the log's tip", async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const db = ctx.database.db;
    const key = countingKey(ctx);
    // Another process's ledger on the same database appends: this process's remembered tip is now behind.
    const remembered = ctx.ledger.rememberedTip()!;
    expect(remembered.size).toBe(await treeSize(db));
    const other = new Ledger(ctx.database);
    await other.change({ sub: 'other-instance', role: 'admin' }, async ({ record }) => void record({ action: 'test.other-process', subjectId: 'tst_other', content: {} }));
    const spy = spyEngine(key.ctx.c2pa);
    const { bytes, output } = await signOutput({ ...key.ctx, c2pa: spy.engine }, GENERATOR, {
      bytes: makeJpeg({ seed: 53 }),
      mimeType: 'image/jpeg',
      title: 't',
      checkpointId: checkpoint.id,
      sourceAssetIds: [],
    });
    expect(spy.signs).toHaveLength(2); // the first stopped when c2pa-rs asked for its signature
    expect(key.signatures).toHaveLength(1);
    expect(output.auditIndex).toBe(remembered.size + 1);
    expect(readOutputLineage(await ctx.c2pa.read({ bytes, mimeType: 'image/jpeg' }))!.auditIndex).toBe(remembered.size + 1);
    expect(ctx.ledger.rememberedTip()!.size).toBe(remembered.size + 2);
    expect((await verifyStoredLog(ctx.database)).ok).toBe(true);
  });

  it('a checkpoint status counts the licenses that fell, as the full list would, and says the log size of its snapshot', async () => {
    const { checkpoint, clearance, assets } = await activeCheckpoint(svc, legal, vendor, 3);
    const db = ctx.database.db;
    const [row] = await db.select().from(checkpoints).where(eq(checkpoints.id, checkpoint.id));
    const before = await checkpointStatus(db, row!);
    expect(before).toMatchObject({ status: 'active', asOfLogSize: await treeSize(db) });
    expect((await restingLicenses(db, [clearance.id])).get(clearance.id)).toHaveLength(3);
    // One of three licenses revoked: the status counts that one, with its revocation, as the full list would.
    const res = await svc.call('POST', `/v1/licenses/${assets[1]!.licenseId}/revoke`, { token: legal, json: { reason: 'rights lapsed' } });
    expect(res.status).toBe(200);
    const after = await checkpointStatus(db, row!);
    expect(after.asOfLogSize).toBe(await treeSize(db));
    expect(after.asOfLogSize).toBeGreaterThan(before.asOfLogSize);
    expect(after.status).toBe('tainted');
    expect(after.standing.causes).toEqual([
      expect.objectContaining({ cause: 'license-revoked', licenseId: assets[1]!.licenseId, assetId: assets[1]!.assetId, reason: 'rights lapsed' }),
    ]);
    const all = (await restingLicenses(db, [clearance.id])).get(clearance.id)!;
    expect(clearanceStanding(after.clearance, all, new Date()).causes).toEqual(after.standing.causes);
  });

  it('a log other instances keep moving: one restart, then the commit decides and the sign is made under the lock', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const db = ctx.database.db;
    const key = countingKey(ctx);
    const other = new Ledger(ctx.database);
    const otherAppends = () =>
      other.change({ sub: 'other-instance', role: 'admin' }, async ({ record }) => void record({ action: 'test.other-process', subjectId: 'tst_busy', content: {} }));
    await otherAppends(); // the remembered tip is behind before the sign begins
    // Every time this instance reads the log's tip, another appends before its gate can read.
    let tipReads = 0;
    const ledger = new Proxy(ctx.ledger, {
      get: (target, prop) => {
        if (prop === 'tip')
          return async () => {
            const tip = await target.tip();
            if (++tipReads <= 3) await otherAppends();
            return tip;
          };
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const spy = spyEngine(key.ctx.c2pa);
    const { bytes, output } = await signOutput({ ...key.ctx, ledger, c2pa: spy.engine }, GENERATOR, {
      bytes: makeJpeg({ seed: 54 }),
      mimeType: 'image/jpeg',
      title: 't',
      checkpointId: checkpoint.id,
      sourceAssetIds: [],
    });
    // Stopped before its signature once; the restart signed and its commit found the log moved; then
    // gate, sign and record under the lock. Not a second restart.
    expect(tipReads).toBe(1);
    expect(spy.signs).toHaveLength(3);
    expect(key.signatures).toHaveLength(2);
    expect(output.auditIndex).toBe((await treeSize(db)) - 1);
    expect(readOutputLineage(await ctx.c2pa.read({ bytes, mimeType: 'image/jpeg' }))!.auditIndex).toBe(output.auditIndex);
    expect((await verifyStoredLog(ctx.database)).ok).toBe(true);
  });

  it('signs made at once from the same remembered tip: each signed once, side by side, and lands at the index its manifest names', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const db = ctx.database.db;
    const key = countingKey(ctx);
    const before = await treeSize(db);
    const made = await Promise.all(
      [61, 62, 63, 64].map((seed) =>
        signOutput(key.ctx, GENERATOR, { bytes: makeJpeg({ seed }), mimeType: 'image/jpeg', title: `frame ${seed}`, checkpointId: checkpoint.id, sourceAssetIds: [] }),
      ),
    );
    // Each had an index of its own reserved (Ledger.reserveIndex): none was made again under the lock.
    expect(key.signatures).toHaveLength(4);
    expect(made.map((m) => m.output.auditIndex).sort((x, y) => x - y)).toEqual([before, before + 1, before + 2, before + 3]);
    expect(await treeSize(db)).toBe(before + 4);
    for (const { bytes, output } of made) {
      expect(readOutputLineage(await ctx.c2pa.read({ bytes, mimeType: 'image/jpeg' }))!.auditIndex).toBe(output.auditIndex);
      expect((await readEvent(db, output.auditIndex))!).toMatchObject({ action: 'output.signed', subjectId: output.id, content: { signedSha256: sha(bytes) } });
      expect((await verifyFile(ctx, bytes, 'image/jpeg')).verdict).toBe('verified');
    }
    expect((await verifyStoredLog(ctx.database)).ok).toBe(true);
  });

  it('another process appending in the middle of signs made side by side: every one still lands once, at the index its manifest names', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const db = ctx.database.db;
    const key = countingKey(ctx);
    const other = new Ledger(ctx.database);
    let signs = 0;
    const engine: ManifestEngine = {
      sign: async (input) => {
        // The second sign to start: another instance takes an index meanwhile (the chain's second slot or a later one).
        if (++signs === 2)
          await other.change({ sub: 'other-instance', role: 'admin' }, async ({ record }) => void record({ action: 'test.other-process', subjectId: 'tst_mid', content: {} }));
        return key.ctx.c2pa.sign(input);
      },
      read: (input) => ctx.c2pa.read(input),
    };
    const before = await treeSize(db);
    const made = await Promise.all(
      [71, 72, 73, 74, 75].map((seed) =>
        signOutput({ ...key.ctx, c2pa: engine }, GENERATOR, {
          bytes: makeJpeg({ seed }),
          mimeType: 'image/jpeg',
          title: `frame ${seed}`,
          checkpointId: checkpoint.id,
          sourceAssetIds: [],
        }),
      ),
    );
    expect(await treeSize(db)).toBe(before + 6);
    const indices = made.map((m) => m.output.auditIndex);
    expect(new Set(indices).size).toBe(5);
    for (const { bytes, output } of made) {
      expect(readOutputLineage(await ctx.c2pa.read({ bytes, mimeType: 'image/jpeg' }))!.auditIndex).toBe(output.auditIndex);
      expect((await readEvent(db, output.auditIndex))!).toMatchObject({ action: 'output.signed', subjectId: output.id, content: { signedSha256: sha(bytes) } });
    }
    // The ones after the foreign entry were signed again; none is recorded twice.
    expect(key.signatures.length).toBeGreaterThan(5);
    expect((await db.select({ n: count() }).from(outputs).where(eq(outputs.checkpointId, checkpoint.id)))[0]!.n).toBe(5);
    expect((await verifyStoredLog(ctx.database)).ok).toBe(true);
  });

  it('Ledger.appendAt writes only at the size it was prepared for, in the statement that embeds it', async () => {
    const db = ctx.database.db;
    const tip = await ctx.ledger.tip();
    const stale = { size: tip.size - 1, frontier: await readFrontier(db, tip.size - 1) };
    const draft = { action: 'test.append-at', subjectId: 'tst_1', content: { n: 1 } };
    const select = async ({ entryIndexText, entryIndexParams }: PreparedAppend) => {
      const [row] = await queryTextPrepared<{ idx: string | number }>(db, `select ${entryIndexText(1)} as idx`, entryIndexParams, 'test_append_at');
      return { value: Number(row!.idx), appendedAt: Number(row!.idx) };
    };
    await expect(ctx.ledger.appendAt(stale, GENERATOR, draft, select)).rejects.toBeInstanceOf(LogMovedOn);
    expect(await treeSize(db)).toBe(tip.size);
    expect(await ctx.ledger.appendAt(tip, GENERATOR, draft, select)).toBe(tip.size);
    expect((await readEvent(db, tip.size))!).toMatchObject({ action: 'test.append-at', subjectId: 'tst_1', actor: GENERATOR, content: { n: 1 } });
    // The same tip again: the log has moved on by the entry just written.
    await expect(ctx.ledger.appendAt(tip, GENERATOR, draft, select)).rejects.toBeInstanceOf(LogMovedOn);
    // Batched changes after it resume from the edge appendAt left (cached) and keep the tree whole.
    await Promise.all([1, 2, 3].map(() => licensedAsset(svc, legal, null)));
    expect((await verifyStoredLog(ctx.database)).ok).toBe(true);
    // A statement that never evaluates the append is refused, and its edge is not kept.
    const next = await ctx.ledger.tip();
    await expect(ctx.ledger.appendAt(next, GENERATOR, draft, async () => ({ value: 0, appendedAt: -1 }))).rejects.toThrow(/did not append/);
    expect(await treeSize(db)).toBe(next.size);
    await licensedAsset(svc, legal, null);
    expect((await verifyStoredLog(ctx.database)).ok).toBe(true);
  });
});
