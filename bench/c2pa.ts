/**
 * C2PA signing and verification benchmark: `npm run bench -- c2pa`.
 *
 * Issue goals: Clearframe's sign path ≤ 1.3 × a bare c2pa-rs sign of the same 1 MB JPEG and 5 MB MP4, and
 * its verification ≤ 1.3 × a bare c2pa-rs read, with peak memory.
 *
 *   Clearframe sign    signOutput (src/outputs/service.ts): the checkpoint, its clearance and the source
 *                      assets read together (input hashed on the thread pool meanwhile), then in one ledger
 *                      change: the generation gate (checkpoint status with its clearance standing, under the
 *                      append lock), manifest build (lineage, training-mining,
 *                      model and source ingredients), c2pa-rs sign with the service's C2PA key, sha256 of the
 *                      signed file, output row and audit event, COMMIT.
 *   bare sign          the engine's sign (src/provenance/c2pa/c2pa-wasm.ts) with a minimal manifest (one
 *                      c2pa.actions "created" assertion) and a local key signer (createLocalSigningIdentity +
 *                      createLocalKeySigner): nothing but c2pa-rs and an ECDSA signature.
 *   Clearframe verify  verifyFile (src/outputs/verify.ts): c2pa-rs read with trust (sha256 on the thread pool
 *                      meanwhile), ledger lookup with the checkpoint and the tree size, then checkpoint
 *                      standing and the inclusion proof against a freshly signed tree head.
 *   bare read          the engine's read of the same signed bytes, with the same trust anchors.
 *
 * The engine's `verifyAfterSign` (default true, and what the service runs) reads every signed file back
 * before returning it, which roughly doubles a sign. Both sides are measured with it on and with it off,
 * and the goal is judged like with like; the cross ratios are reported too.
 *
 * Besides the timed variants, `profile()` runs an instrumented copy of the earlier path (gate awaited before
 * signing, hashes on this thread, read-back as a stage of its own) and times each stage: gate reads,
 * manifest build, hashing, c2pa-rs sign, read-back, row insert, and the ledger's lock and COMMIT around
 * them; and it measures whether the gate's queries, sent before a sign, are answered by the time it ends.
 *
 * Every variant runs in the same rounds, interleaved (round i runs each variant once, in rotating order),
 * after warm-up (wasm instantiation, JIT). p50 and p95 per variant; goals judged on p50.
 * Knobs: BENCH_C2PA_ITERATIONS (25), BENCH_C2PA_WARMUP (3), BENCH_C2PA_JPEG_BYTES (1000000),
 * BENCH_C2PA_MP4_BYTES (5000000), BENCH_C2PA_TIMEOUT_S (300).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { eq, inArray } from 'drizzle-orm';
import type { AppContext } from '../src/app-context.ts';
import { type Principal, type Role, issueToken } from '../src/auth/tokens.ts';
import { checkpointStatus } from '../src/checkpoints/service.ts';
import { checkpoints } from '../src/checkpoints/tables.ts';
import { loadConfig } from '../src/config/config.ts';
import { resolveMembers } from '../src/datasets/service.ts';
import { assets } from '../src/assets/tables.ts';
import { newId } from '../src/ids.ts';
import { TRAINED_ALGORITHMIC_MEDIA, buildOutputManifest, readOutputLineage } from '../src/outputs/manifest.ts';
import { c2paSignerFrom, signOutput, supportedType } from '../src/outputs/service.ts';
import { outputs } from '../src/outputs/tables.ts';
import { registrationProof, verifyFile } from '../src/outputs/verify.ts';
import { createC2paWasmEngine, createLocalKeySigner, loadC2paWasm } from '../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalSigningIdentity } from '../src/provenance/c2pa/local-ca.ts';
import type { C2paSigner, ManifestDefinition, ManifestEngine, ReadInput, ReadResult, SignInput, SignResult } from '../src/provenance/c2pa/types.ts';
import { type Runtime, createLogger, startRuntime } from '../src/runtime.ts';
import { makeJpeg, makeMp4 } from '../test/fixtures/media.ts';
import { activeCheckpoint } from '../test/support/gate-fixtures.ts';
import type { TestService } from '../test/support/service.ts';
import { type BenchSection, type Distribution, Reporter, createBenchDatabase, distribution, fmt, intFromEnv, mib, now } from './harness.ts';

const GOAL_RATIO = 1.3;
const GENERATOR: Principal = { sub: 'render@studio.example', role: 'generator' };

export const c2paSection: BenchSection = {
  name: 'c2pa',
  title: 'C2PA: signOutput and verifyFile vs bare c2pa-rs sign and read (1 MB JPEG, 5 MB MP4)',
  timeoutS: intFromEnv('BENCH_C2PA_TIMEOUT_S', 300),
  run: runC2pa,
};

type Media = { name: string; mimeType: 'image/jpeg' | 'video/mp4'; bytes: Uint8Array };

async function runC2pa() {
  const iterations = intFromEnv('BENCH_C2PA_ITERATIONS', 25);
  const warmup = intFromEnv('BENCH_C2PA_WARMUP', 3);
  const jpegBytes = intFromEnv('BENCH_C2PA_JPEG_BYTES', 1_000_000);
  const mp4Bytes = intFromEnv('BENCH_C2PA_MP4_BYTES', 5_000_000);
  const rep = new Reporter('c2pa', c2paSection.title);
  Object.assign(rep.parameters, { iterations, warmup, jpegTargetBytes: jpegBytes, mp4TargetBytes: mp4Bytes, order: 'interleaved rounds, rotating order' });

  const media = await rep.phase('setup.media', async (): Promise<Media[]> => [
    { name: 'JPEG', mimeType: 'image/jpeg', bytes: makeJpeg({ targetBytes: jpegBytes, seed: 7 }) },
    { name: 'MP4', mimeType: 'video/mp4', bytes: makeMp4({ targetBytes: mp4Bytes, seed: 7 }) },
  ]);
  rep.details.media = Object.fromEntries(media.map((m) => [m.name, { mimeType: m.mimeType, bytes: m.bytes.byteLength, sha256: createHash('sha256').update(m.bytes).digest('hex') }]));

  const bdb = await rep.phase('setup.database', () => createBenchDatabase());
  rep.env.postgres = bdb.serverVersion;
  rep.details.database = bdb.name;
  const keysDir = mkdtempSync(path.join(tmpdir(), 'clearframe-bench-keys-'));
  let runtime: Runtime | undefined;
  try {
    const config = loadConfig({ DATABASE_URL: bdb.url, KEYS_DIR: keysDir, DATA_DIR: keysDir, LOG_LEVEL: 'silent' });
    runtime = await rep.phase('setup.runtime', () => startRuntime(config, { database: bdb.database, logger: createLogger({ logLevel: 'silent' }) }));
    const rt = runtime;
    const ctx = rt.ctx;

    // A real active checkpoint, made through the API as a studio would (test/support/gate-fixtures.ts).
    const setup = await rep.phase('setup.checkpoint', async () => {
      const issuer = ctx.keyring.tokenIssuer;
      const token = (role: Role, sub: string, vendor?: string) =>
        issueToken({ privateKey: issuer.privateKey, kid: issuer.signer.kid }, { issuer: config.auth.issuer, audience: config.auth.audience, sub, role, vendor, ttl: '1h' });
      const svc = {
        call: (method: string, url: string, call: { token?: string; json?: unknown } = {}) =>
          rt.app.request(url, {
            method,
            headers: { ...(call.token ? { authorization: `Bearer ${call.token}` } : {}), ...(call.json !== undefined ? { 'content-type': 'application/json' } : {}) },
            body: call.json !== undefined ? JSON.stringify(call.json) : undefined,
          }),
      } as unknown as TestService;
      const made = await activeCheckpoint(svc, await token('legal', 'lee@studio.example'), await token('vendor', 'ml@acme.example', 'acme-vfx'), 2);
      if (!made.checkpoint.id?.startsWith('ckp_')) throw new Error(`no checkpoint: ${JSON.stringify(made.checkpoint)}`);
      return made;
    });
    rep.details.checkpoint = { id: setup.checkpoint.id, clearanceId: setup.clearance.id, datasetId: setup.dataset.id, sourceAssetId: setup.assets[0]!.assetId };

    // Engines: the service's own (verifyAfterSign on, as configured by startRuntime), the same with the
    // read-back off, and bare engines for the baselines with their own local signing identity.
    const anchors = ctx.keyring.c2pa.trustAnchorsPem;
    // Clearframe's contexts get their engine wrapped so the time spent inside c2pa-rs (with Clearframe's
    // own manifest) is known for every timed call; the rest of signOutput / verifyFile is ledger work.
    const served = timedEngine(ctx.c2pa);
    const unchecked = timedEngine(createC2paWasmEngine({ trustAnchorsPem: [...anchors, ...config.trustAnchorsPem], verifyAfterSign: false }));
    const cfCtx: AppContext = { ...ctx, c2pa: served.engine };
    const ctxNoCheck: AppContext = { ...ctx, c2pa: unchecked.engine };
    const identity = createLocalSigningIdentity();
    const bareSigner: C2paSigner = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
    const bareChecked = createC2paWasmEngine({ trustAnchorsPem: [identity.signer.trustAnchorPem] });
    const bareUnchecked = createC2paWasmEngine({ trustAnchorsPem: [identity.signer.trustAnchorPem], verifyAfterSign: false });
    const bareReader = createC2paWasmEngine({ trustAnchorsPem: anchors });
    await rep.phase('setup.wasm', () => loadC2paWasm());

    for (const m of media) {
      // Per Clearframe call: the time inside c2pa-rs, and the rest (total minus inside) of the same call.
      const inside: Record<string, number[]> = { clearframe: [], clearframeNoCheck: [], verify: [] };
      const outside: Record<string, number[]> = { clearframe: [], clearframeNoCheck: [], verify: [] };
      const withEngine = async <T>(e: ReturnType<typeof timedEngine>, kind: string, fn: () => Promise<T>): Promise<T> => {
        e.reset();
        const t = now();
        const out = await fn();
        const total = now() - t;
        inside[kind]!.push(e.ms());
        outside[kind]!.push(total - e.ms());
        return out;
      };
      const sign = {
        clearframe: () => withEngine(served, 'clearframe', () => clearframeSign(cfCtx, setup, m)),
        clearframeNoCheck: () => withEngine(unchecked, 'clearframeNoCheck', () => clearframeSign(ctxNoCheck, setup, m)),
        bare: () => bareSign(bareChecked, bareSigner, m),
        bareNoCheck: () => bareSign(bareUnchecked, bareSigner, m),
      };
      const signed = await rep.phase(`${m.name}.sign`, () => interleave(rep, sign, warmup, iterations));
      const signedBytes = (await clearframeSign(ctx, setup, m)).bytes;

      const verify = {
        clearframe: () => withEngine(served, 'verify', () => verifyFile(cfCtx, signedBytes, m.mimeType)),
        bare: () => bareReader.read({ bytes: signedBytes, mimeType: m.mimeType }),
      };
      const verified = await rep.phase(`${m.name}.verify`, () => interleave(rep, verify, warmup, iterations));
      // Timed calls only (warm-up calls come first in each list).
      const p50Of = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([k, xs]) => [k, r1(distribution(xs.slice(-iterations)).p50)]));
      const insideP50 = p50Of(inside);
      const outsideP50 = p50Of(outside);

      // Correctness: what was timed is what it claims to be.
      const v = await verifyFile(ctx, signedBytes, m.mimeType);
      const bareRead = (await bareReader.read({ bytes: signedBytes, mimeType: m.mimeType })) as ReadResult;
      const bareOwn = await bareUnchecked.read({ bytes: (await sign.bareNoCheck()).bytes, mimeType: m.mimeType });
      rep.figure({
        id: `correctness.${m.name}`,
        label: `${m.name}: verifyFile says "verified", bare read trusted and intact, bare-signed file intact`,
        value: v.verdict === 'verified' ? 1 : 0,
        unit: '',
        goal: 'all three',
        met: v.verdict === 'verified' && bareRead.kind === 'manifest' && bareRead.trusted && bareRead.intact && bareOwn.kind === 'manifest' && bareOwn.intact,
        note: `verifyFile: ${v.verdict}; bare read: ${bareRead.kind === 'manifest' ? bareRead.validationState : 'no manifest'}`,
      });

      const p = (x: Distribution) => x.p50;
      const ms = (d: Distribution) => `p50 ${fmt(d.p50)} ms, p95 ${fmt(d.p95)} ms`;
      const S = signed.dist;
      const V = verified.dist;
      rep.details[m.name] = {
        bytes: m.bytes.byteLength,
        signedBytes: signedBytes.byteLength,
        manifestOverheadBytes: signedBytes.byteLength - m.bytes.byteLength,
        bareSignedBytes: (await sign.bareNoCheck()).bytes.byteLength,
        signMs: Object.fromEntries(Object.entries(S).map(([k, d]) => [k, round(d)])),
        verifyMs: Object.fromEntries(Object.entries(V).map(([k, d]) => [k, round(d)])),
        insideC2paRsP50Ms: {
          note: 'p50 of the time each timed Clearframe call spent in the engine (c2pa-rs with its own manifest); the rest is gate, ledger and hashing',
          ...insideP50,
        },
        outsideC2paRsP50Ms: { note: 'p50 over the timed calls of (call time - time inside c2pa-rs)', ...outsideP50 },
      };
      rep.log(`  ${m.name}: sign ${Object.entries(S).map(([k, d]) => `${k} ${ms(d)}`).join('; ')}`);
      rep.log(`  ${m.name}: verify ${Object.entries(V).map(([k, d]) => `${k} ${ms(d)}`).join('; ')}`);
      rep.log(`  ${m.name}: inside c2pa-rs (p50): ${JSON.stringify(insideP50)}; outside (p50): ${JSON.stringify(outsideP50)}`);
      const signFigure = (id: string, label: string, cf: Distribution, base: Distribution, baseLabel: string, goal: boolean) => {
        const ratio = p(cf) / p(base);
        rep.figure({
          id,
          label,
          value: p(cf),
          unit: 'ms',
          baseline: { label: baseLabel, value: p(base), unit: 'ms' },
          ratio,
          ratioMeaning: 'Clearframe p50 / bare p50',
          ...(goal ? { goal: `≤ ${GOAL_RATIO} × bare`, met: ratio <= GOAL_RATIO } : {}),
          note: `Clearframe ${ms(cf)}; bare ${ms(base)}; p95 ratio ${(cf.p95 / base.p95).toFixed(2)}`,
        });
      };
      signFigure(`sign.${m.name}.with-check`, `${m.name} signOutput, verifyAfterSign on (service default), p50`, S.clearframe!, S.bare!, 'bare c2pa-rs sign, verifyAfterSign on, p50', true);
      signFigure(`sign.${m.name}.no-check`, `${m.name} signOutput, verifyAfterSign off, p50`, S.clearframeNoCheck!, S.bareNoCheck!, 'bare c2pa-rs sign, verifyAfterSign off, p50', true);
      signFigure(`sign.${m.name}.cross`, `${m.name} signOutput as shipped (check on) vs bare sign without the check, p50`, S.clearframe!, S.bareNoCheck!, 'bare c2pa-rs sign, verifyAfterSign off, p50', false);
      const vr = p(V.clearframe!) / p(V.bare!);
      rep.figure({
        id: `verify.${m.name}`,
        label: `${m.name} verifyFile, p50`,
        value: p(V.clearframe!),
        unit: 'ms',
        baseline: { label: 'bare c2pa-rs read (same bytes, same trust anchors), p50', value: p(V.bare!), unit: 'ms' },
        ratio: vr,
        ratioMeaning: 'Clearframe p50 / bare p50',
        goal: `≤ ${GOAL_RATIO} × bare`,
        met: vr <= GOAL_RATIO,
        note: `Clearframe ${ms(V.clearframe!)}; bare ${ms(V.bare!)}; p95 ratio ${(V.clearframe!.p95 / V.bare!.p95).toFixed(2)}`,
      });

      // Where Clearframe's extra time goes: the non-c2pa parts of each path, timed on their own.
      rep.details[`${m.name}.parts`] = await rep.phase(`${m.name}.parts`, () => parts(ctx, setup, m, signedBytes, iterations));
      // And stage by stage, in an instrumented copy of each path (the service itself is not instrumented).
      const profiled = await rep.phase(`${m.name}.profile`, () => profile(ctx, unchecked.engine, setup, m, signedBytes, iterations));
      rep.details[`${m.name}.profile`] = profiled;
      rep.log(`  ${m.name}: sign stages p50 (ms): ${JSON.stringify(profiled.sign)}`);
      rep.log(`  ${m.name}: verify stages p50 (ms): ${JSON.stringify(profiled.verify)}`);
      rep.log(`  ${m.name}: gate overlap p50 (ms): ${JSON.stringify(profiled.gateOverlap)}; sign yields to the loop: ${profiled.signYieldsToLoop}`);

      // Memory per variant: a few runs of each alone. wasm linear memory only grows, so RSS growth shows
      // the first variant that needed more; heap and arrayBuffers peaks are per variant.
      const memory: Record<string, unknown> = {};
      for (const [name, fn] of [...Object.entries(sign).map(([k, f]) => [`sign.${k}`, f] as const), ...Object.entries(verify).map(([k, f]) => [`verify.${k}`, f] as const)]) {
        const phase = `${m.name}.memory.${name}`;
        await rep.phase(phase, async () => {
          for (let i = 0; i < 3; i++) {
            await fn();
            await yieldToLoop();
          }
        });
        const peak = rep.memory[phase]!;
        memory[name] = { peakRssMiB: peak.peakRssMiB, rssGrowthMiB: r1(peak.peakRssMiB - peak.startRssMiB), peakHeapUsedMiB: peak.peakHeapUsedMiB, peakArrayBuffersMiB: peak.peakArrayBuffersMiB };
      }
      rep.details[`${m.name}.memory`] = memory;
    }
    rep.details.wasmMemoryNote = 'c2pa-rs runs in one WebAssembly instance whose linear memory grows to the largest asset handled and never shrinks; it is part of RSS';
    rep.details.rssNow = mib(process.memoryUsage().rss);
  } finally {
    await runtime?.close().catch(() => {});
    await bdb.drop();
    rmSync(keysDir, { recursive: true, force: true });
  }
  return rep.finish();
}

type Setup = Awaited<ReturnType<typeof activeCheckpoint>>;

function clearframeSign(app: AppContext, setup: Setup, m: Media) {
  return signOutput(app, GENERATOR, {
    bytes: m.bytes,
    mimeType: m.mimeType,
    title: `Stairwell, night — generated ${m.name}`,
    checkpointId: setup.checkpoint.id,
    sourceAssetIds: [setup.assets[0]!.assetId],
    prompt: 'the stairwell at night, rain on the skylight',
    generator: { name: 'imagen-runner', version: '2.1' },
  });
}

const MINIMAL = (m: Media): ManifestDefinition => ({
  title: `bench ${m.name}`,
  claim_generator_info: [{ name: 'bench', version: '1' }],
  assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] } }],
});

function bareSign(engine: ManifestEngine, signer: C2paSigner, m: Media) {
  return engine.sign({ bytes: m.bytes, mimeType: m.mimeType, manifest: MINIMAL(m), signer });
}

/** Runs every variant once per round, rotating which goes first; returns per-variant distributions (ms). */
async function interleave(rep: Reporter, variants: Record<string, () => Promise<unknown>>, warmup: number, iterations: number) {
  const names = Object.keys(variants);
  for (let i = 0; i < warmup; i++) for (const n of names) await variants[n]!();
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < iterations; round++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(round + k) % names.length]!;
      const t = now();
      await variants[n]!();
      samples[n]!.push(now() - t);
      await yieldToLoop();
    }
    if ((round + 1) % 10 === 0) rep.log(`  round ${round + 1} / ${iterations}`);
  }
  return { dist: Object.fromEntries(names.map((n) => [n, distribution(samples[n]!)])) as Record<string, Distribution> };
}

/** The ledger parts of Clearframe's paths (what signOutput and verifyFile do besides c2pa-rs), each alone. */
async function parts(ctx: AppContext, setup: Setup, m: Media, signedBytes: Uint8Array, iterations: number) {
  const n = Math.max(5, Math.min(iterations, 15));
  const db = ctx.database.db;
  const time = async (fn: () => Promise<unknown> | unknown) => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = now();
      await fn();
      xs.push(now() - t);
    }
    return r1(distribution(xs).p50);
  };
  const [row] = await db.select().from(checkpoints).where(eq(checkpoints.id, setup.checkpoint.id));
  const [output] = await db.select().from(outputs).where(eq(outputs.signedSha256, createHash('sha256').update(signedBytes).digest('hex')));
  return {
    note: 'p50 ms over a few runs each, every part alone (as if nothing overlapped): the generation gate, source asset lookup, an audit-logged change with one event, the two hashes, and verifyFile\'s inclusion proof against a freshly signed tree head',
    runs: n,
    generationGate: await time(async () => {
      const [r] = await db.select().from(checkpoints).where(eq(checkpoints.id, setup.checkpoint.id));
      return checkpointStatus(db, r!);
    }),
    checkpointStatus: await time(() => checkpointStatus(db, row!)),
    resolveSourceAssets: await time(() => resolveMembers(db, [setup.assets[0]!.assetId])),
    emptyLedgerChangeWithOneEvent: await time(() => ctx.ledger.change(GENERATOR, async ({ record }) => void record({ action: 'bench.noop', subjectId: 'bench', content: { n: 1 } }))),
    sha256OfInput: await time(() => createHash('sha256').update(m.bytes).digest('hex')),
    sha256OfSigned: await time(() => createHash('sha256').update(signedBytes).digest('hex')),
    registrationProof: await time(() => registrationProof(ctx, output!.auditIndex)),
  };
}

/**
 * Stage timings of an instrumented copy of signOutput and verifyFile (same queries, same engine calls, in
 * the same order as src/outputs/service.ts and verify.ts), p50 over the runs. The sign copy uses the
 * engine with the read-back off and reads the signed file back itself, so the read-back is a stage of
 * its own. `queueAndLock` is from ledger.change() to the change's work starting (BEGIN, the append lock,
 * the tree size); `sealAndCommit` from the work returning to the change resolving (leaf hashes, tree
 * nodes, the event and node INSERTs, COMMIT). `signYieldsToLoop` says whether a setImmediate queued just
 * before the c2pa-rs sign ran before the sign returned (i.e. whether I/O can progress during it).
 */
async function profile(ctx: AppContext, engine: ManifestEngine, setup: Setup, m: Media, signedBytes: Uint8Array, iterations: number) {
  const n = Math.max(5, Math.min(iterations, 15));
  const db = ctx.database.db;
  const hash = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
  const signStages: Record<string, number[]> = {};
  const verifyStages: Record<string, number[]> = {};
  const add = (into: Record<string, number[]>, k: string, ms: number) => void (into[k] ??= []).push(ms);
  let yields = 0;
  const signer = c2paSignerFrom(ctx.keyring.c2pa.signer, ctx.keyring.c2pa.certChainDer, ctx.timestampAuthority);
  for (let i = 0; i < n + 2; i++) {
    const S: Record<string, number[]> = i < 2 ? {} : signStages; // two warm-up runs
    const V: Record<string, number[]> = i < 2 ? {} : verifyStages;
    // --- sign
    const t0 = now();
    let t = t0;
    const lap = (k: string) => {
      const x = now();
      add(S, k, x - t);
      t = x;
    };
    const mimeType = supportedType(m.mimeType, m.bytes);
    lap('checkType');
    const sources = await resolveMembers(db, [setup.assets[0]!.assetId]);
    const titles = await db.select({ id: assets.id, title: assets.title }).from(assets).where(inArray(assets.id, sources.map((s) => s.assetId)));
    lap('preReads');
    const promptSha256 = hash('the stairwell at night, rain on the skylight');
    const originalSha256 = hash(m.bytes);
    lap('hashInput');
    const id = newId('out');
    let signed: SignResult | undefined;
    let yielded = false;
    await ctx.ledger.change(GENERATOR, async ({ tx, record }) => {
      lap('queueAndLock');
      const [row] = await tx.select().from(checkpoints).where(eq(checkpoints.id, setup.checkpoint.id));
      const s = await checkpointStatus(tx, row!);
      if (s.status !== 'active') throw new Error('checkpoint not active');
      lap('gate');
      const event = record({ action: 'output.signed', subjectId: id, content: { id, checkpointId: row!.id, originalSha256, promptSha256, mimeType } });
      const manifest = buildOutputManifest({
        title: `profile ${m.name}`,
        mimeType,
        allowFurtherTraining: false,
        promptDisclosure: 'hash',
        claimGenerator: { name: 'Clearframe', version: '0.1.0' },
        lineage: {
          outputId: id,
          checkpoint: { id: row!.id, ref: row!.externalRef ?? row!.id, artifactDigest: row!.artifactDigest },
          baseModel: row!.baseModel,
          clearanceId: row!.clearanceId,
          dataset: { id: row!.datasetId, digest: row!.datasetDigest },
          policyDigest: s.clearance.policyDigest,
          ledgerUrl: ctx.config.publicUrl,
          auditIndex: event.index,
          sourceAssets: sources.map((x) => ({ assetId: x.assetId, sha256: x.sha256, title: titles[0]?.title ?? x.assetId })),
          promptSha256,
          prompt: null,
          generator: null,
        },
      });
      lap('manifestBuild');
      setImmediate(() => void (yielded = true));
      signed = await engine.sign({ bytes: m.bytes, mimeType, manifest, signer });
      if (yielded) yields++;
      lap('c2paSign');
      const check = await engine.read({ bytes: signed.bytes, mimeType });
      if (check.kind !== 'manifest' || !check.intact) throw new Error('read-back failed');
      lap('readBack');
      const signedSha256 = hash(signed.bytes);
      event.content.signedSha256 = signedSha256;
      lap('hashSigned');
      await tx.insert(outputs).values({
        id, checkpointId: row!.id, clearanceId: row!.clearanceId, datasetId: row!.datasetId, datasetDigest: row!.datasetDigest,
        policyDigest: s.clearance.policyDigest, mimeType, originalSha256, signedSha256, signedSize: signed.bytes.byteLength,
        manifestLabel: signed.manifestLabel, sourceAssetIds: sources.map((x) => x.assetId), promptSha256, prompt: null, generator: null,
        createdAt: new Date(event.time), createdBy: GENERATOR.sub, auditIndex: event.index,
      });
      lap('insertRow');
    });
    lap('sealAndCommit');
    add(S, 'total', now() - t0);
    await yieldToLoop();

    // --- verify
    const v0 = now();
    let u = v0;
    const vlap = (k: string) => {
      const x = now();
      add(V, k, x - u);
      u = x;
    };
    const sha = hash(signedBytes);
    vlap('hash');
    const read = await engine.read({ bytes: signedBytes, mimeType: m.mimeType });
    if (read.kind !== 'manifest') throw new Error('no manifest');
    vlap('c2paRead');
    const [output] = await db.select().from(outputs).where(eq(outputs.signedSha256, sha));
    vlap('lookup');
    const [ck] = await db.select().from(checkpoints).where(eq(checkpoints.id, output!.checkpointId));
    await checkpointStatus(db, ck!);
    vlap('standing');
    await registrationProof(ctx, output!.auditIndex);
    vlap('proof');
    readOutputLineage(read);
    vlap('lineage');
    add(V, 'total', now() - v0);
    await yieldToLoop();
  }
  // The gate's queries sent before the c2pa-rs sign and awaited after it (as signOutput now does): how
  // long the await still takes, with the queries flushed first (two event-loop turns) and without.
  const overlap: Record<string, number[]> = {};
  const [ckRow] = await db.select().from(checkpoints).where(eq(checkpoints.id, setup.checkpoint.id));
  const manifest = MINIMAL(m);
  for (let i = 0; i < n + 2; i++) {
    for (const flush of [true, false]) {
      await ctx.ledger.change(GENERATOR, async ({ tx }) => {
        const t1 = now();
        const gate = checkpointStatus(tx, ckRow!);
        if (flush) for (let k = 0; k < 2; k++) await new Promise<void>((r) => setImmediate(r));
        const t2 = now();
        await engine.sign({ bytes: m.bytes, mimeType: m.mimeType, manifest, signer });
        const t3 = now();
        await gate;
        if (i >= 2) {
          add(overlap, flush ? 'flushMs' : 'noFlushFlushMs', t2 - t1);
          add(overlap, flush ? 'gateWaitAfterSignFlushed' : 'gateWaitAfterSignNotFlushed', now() - t3);
        }
      });
      await yieldToLoop();
    }
  }
  const p50s = (x: Record<string, number[]>) => Object.fromEntries(Object.entries(x).map(([k, xs]) => [k, r1(distribution(xs).p50)]));
  return { runs: n, note: 'p50 ms per stage of an instrumented copy of each path (see profile() in bench/c2pa.ts)', sign: p50s(signStages), verify: p50s(verifyStages), gateOverlap: p50s(overlap), signYieldsToLoop: `${yields}/${n + 2}` };
}

/** An engine that adds up the time spent in its sign and read calls since the last reset. */
function timedEngine(real: ManifestEngine) {
  let ms = 0;
  const wrap =
    <A, R>(fn: (a: A) => Promise<R>) =>
    async (a: A): Promise<R> => {
      const t = now();
      try {
        return await fn(a);
      } finally {
        ms += now() - t;
      }
    };
  const engine: ManifestEngine = { sign: wrap((i: SignInput) => real.sign(i)), read: wrap((i: ReadInput) => real.read(i)) };
  return { engine, reset: () => void (ms = 0), ms: () => ms };
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const round = (d: Distribution) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, k === 'count' ? v : r1(v)]));
