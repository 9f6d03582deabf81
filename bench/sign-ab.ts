/**
 * Two versions of signOutput side by side in one process: `npx tsx bench/sign-ab.ts`.
 *
 * `npm run bench -- c2pa` measures one build against bare c2pa-rs; a change to the sign path is judged by
 * running both builds in the same rounds, because this machine's speed moves by a third within minutes and
 * two bench runs minutes apart do not compare. This runs, round by round in rotating order: the bare
 * c2pa-rs sign (as in bench/c2pa.ts), the base build's signOutput (SIGN_AB_BASE: the root of another
 * checkout, e.g. `git worktree add /tmp/cf-base <rev>` with `node_modules` linked in), and this build's.
 * Prints p50 and its ratio to bare per variant, and per block of SIGN_AB_BLOCK rounds (so a phase in which
 * the machine changed speed shows). Both builds get THIS build's C2PA engine (the c2pa-wasm instance and
 * its Node shims are process-wide), so it compares service changes, not engine changes.
 * Knobs: SIGN_AB_ROUNDS (100), SIGN_AB_BLOCK (0: none), SIGN_AB_MEDIA (jpeg | mp4).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Principal } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { TRAINED_ALGORITHMIC_MEDIA } from '../src/outputs/manifest.ts';
import { signOutput } from '../src/outputs/sign.ts';
import { createC2paWasmEngine, createLocalKeySigner, loadC2paWasm } from '../src/provenance/c2pa/c2pa-wasm.ts';
import { createLocalSigningIdentity } from '../src/provenance/c2pa/local-ca.ts';
import type { ManifestDefinition } from '../src/provenance/c2pa/types.ts';
import { createLogger, startRuntime } from '../src/runtime.ts';
import { makeJpeg, makeMp4 } from '../test/fixtures/media.ts';
import { benchCheckpoint } from './c2pa.ts';
import { createBenchDatabase, distribution, intFromEnv, now } from './harness.ts';

const GENERATOR: Principal = { sub: 'render@studio.example', role: 'generator' };
const base = process.env.SIGN_AB_BASE;
if (!base) throw new Error('set SIGN_AB_BASE to the root of the checkout to compare with (see the header)');
const rounds = intFromEnv('SIGN_AB_ROUNDS', 100);
const block = intFromEnv('SIGN_AB_BLOCK', 0);
const mp4 = process.env.SIGN_AB_MEDIA === 'mp4';
const bytes = mp4 ? makeMp4({ targetBytes: 5_000_000, seed: 7 }) : makeJpeg({ targetBytes: 1_000_000, seed: 7 });
const mimeType = mp4 ? 'video/mp4' : 'image/jpeg';

// Checkouts before issue 15 kept the sign path in src/outputs/service.ts.
const baseSignPath = ['src/outputs/sign.ts', 'src/outputs/service.ts'].map((f) => path.resolve(base, f)).find((f) => existsSync(f))!;
const { signOutput: baseSignOutput } = (await import(baseSignPath)) as { signOutput: typeof signOutput };
const bdb = await createBenchDatabase();
const keysDir = mkdtempSync(path.join(tmpdir(), 'clearframe-sign-ab-'));
// Soft binding off: the sign path itself is compared (an older checkout may not fingerprint at all).
const config = loadConfig({ DATABASE_URL: bdb.url, KEYS_DIR: keysDir, DATA_DIR: keysDir, LOG_LEVEL: 'silent', OUTPUT_SOFT_BINDING: 'off' });
const runtime = await startRuntime(config, { database: bdb.database, logger: createLogger({ logLevel: 'silent' }) });
try {
  const ctx = runtime.ctx;
  const setup = await benchCheckpoint(runtime, config);
  await loadC2paWasm();
  const input = {
    bytes,
    mimeType,
    title: 'Stairwell, night',
    checkpointId: setup.checkpoint.id,
    sourceAssetIds: [setup.assets[0]!.assetId],
    prompt: 'the stairwell at night',
    generator: { name: 'imagen-runner', version: '2.1' },
  };
  const identity = createLocalSigningIdentity();
  const bareSigner = createLocalKeySigner({ privateKey: identity.signer.privateKeyPem, certChainDer: identity.signer.chainDer });
  const bareEngine = createC2paWasmEngine({ trustAnchorsPem: [identity.signer.trustAnchorPem] });
  const minimal: ManifestDefinition = {
    title: 'bench',
    claim_generator_info: [{ name: 'bench', version: '1' }],
    assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] } }],
  };
  const variants: Record<string, () => Promise<unknown>> = {
    bare: () => bareEngine.sign({ bytes, mimeType, manifest: minimal, signer: bareSigner }),
    base: () => baseSignOutput(ctx, GENERATOR, input),
    this: () => signOutput(ctx, GENERATOR, input),
  };
  const names = Object.keys(variants);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -5; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + 5 + k) % names.length]!;
      const t = now();
      await variants[name]!();
      if (round >= 0) samples[name]!.push(now() - t);
      await yieldToLoop();
    }
  }
  const p50 = (xs: number[]) => distribution(xs).p50;
  const line = (from: number, to: number) => {
    const bare = p50(samples.bare!.slice(from, to));
    return `bare ${bare.toFixed(1)} ms | ${names
      .filter((n) => n !== 'bare')
      .map((n) => `${n} ${p50(samples[n]!.slice(from, to)).toFixed(1)} (${(p50(samples[n]!.slice(from, to)) / bare).toFixed(3)})`)
      .join(' | ')}`;
  };
  if (block > 0) for (let i = 0; i + block <= rounds; i += block) console.log(`rounds ${i}-${i + block}: ${line(i, i + block)}`);
  console.log(`${mp4 ? 'MP4' : 'JPEG'}, ${rounds} rounds, p50 (ratio to bare): ${line(0, rounds)}`);
} finally {
  await runtime.close();
  await bdb.drop();
  rmSync(keysDir, { recursive: true, force: true });
}
