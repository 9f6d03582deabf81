/**
 * State replay benchmark: `npm run bench -- state`.
 *
 * A ledger of ~50,000 entries written through the services (half asset registrations, half license
 * versions, plus datasets), then, side by side and alternating: `verifyStoredLog` (what `audit verify`
 * did before, the tree) and `verifyState` (the state tables replayed against the same log, what it adds).
 * The figure is the replay's time as a multiple of the tree check's.
 *
 * Knobs: BENCH_STATE_ENTRIES (50000), BENCH_STATE_ROUNDS (3), BENCH_STATE_TIMEOUT_S (900).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registerAsset } from '../src/assets/service.ts';
import { verifyStoredLog } from '../src/audit/verify-log.ts';
import { loadConfig } from '../src/config/config.ts';
import { createDataset } from '../src/datasets/service.ts';
import { addLicenseVersion } from '../src/licenses/service.ts';
import { createLogger, type Runtime, startRuntime } from '../src/runtime.ts';
import { verifyState } from '../src/state-projections.ts';
import { type BenchSection, createBenchDatabase, FixtureGen, fmt, intFromEnv, now, Reporter, rng } from './harness.ts';

export const stateSection: BenchSection = {
  name: 'state',
  title: 'audit verify: the state tables replayed from the log vs the tree check alone',
  timeoutS: intFromEnv('BENCH_STATE_TIMEOUT_S', 900),
  run: runState,
};

const LEGAL = { sub: 'legal@studio', role: 'legal' };

async function runState() {
  const rep = new Reporter('state', stateSection.title);
  const target = intFromEnv('BENCH_STATE_ENTRIES', 50_000);
  const rounds = intFromEnv('BENCH_STATE_ROUNDS', 3);
  rep.parameters.entries = target;
  rep.parameters.rounds = rounds;
  const bdb = await rep.phase('setup.database', () => createBenchDatabase());
  rep.env.postgres = bdb.serverVersion;
  const keysDir = mkdtempSync(path.join(tmpdir(), 'clearframe-bench-keys-'));
  let runtime: Runtime | undefined;
  try {
    const config = loadConfig({ DATABASE_URL: bdb.url, KEYS_DIR: keysDir, DATA_DIR: keysDir, LOG_LEVEL: 'silent' });
    runtime = await startRuntime(config, { database: bdb.database, logger: createLogger({ logLevel: 'silent' }) });
    const { ledger } = runtime.ctx;
    const gen = new FixtureGen(rng(Number(process.env.BENCH_SEED ?? 17)));
    const pairs = Math.floor(target / 2) - 50;
    const assetIds: string[] = [];
    await rep.phase('populate', async () => {
      const started = now();
      // Many writers at a time: the ledger groups them 64 to a transaction.
      for (let i = 0; i < pairs; i += 512) {
        await Promise.all(
          Array.from({ length: Math.min(512, pairs - i) }, async () => {
            const asset = await registerAsset(
              ledger,
              LEGAL,
              { sha256: gen.sha256(), title: 'key frame', mediaType: 'image/png', creator: 'R. Ortiz', production: 'bench', rightsHolder: 'Ortiz Studio' },
              async () => undefined,
            );
            assetIds.push(asset.id);
            await addLicenseVersion(ledger, LEGAL, asset.id, {
              licensor: 'Ortiz Studio',
              licensee: 'Upstairs Films',
              vendors: ['acme-vfx'],
              grants: { training: 'allowed', derivatives: 'notAllowed', commercial: 'notAllowed' },
              territories: ['US'],
              media: ['streaming'],
              term: { start: '2026-01-01T00:00:00Z', end: '2028-12-31T23:59:59Z' },
              exclusivity: false,
            });
          }),
        );
      }
      for (let d = 0; d < 50; d++) await createDataset(ledger, { ...LEGAL, role: 'legal' }, { name: `pass ${d}`, assetIds: assetIds.slice(d * 200, d * 200 + 200) });
      rep.log(`wrote ${fmt(2 * pairs + 50)} entries in ${((now() - started) / 1000).toFixed(1)} s`);
    });
    const tree: number[] = [];
    const state: number[] = [];
    let entries = 0;
    for (let r = 0; r < rounds; r++) {
      let t = now();
      const log = await rep.phase(`tree.${r}`, () => verifyStoredLog(bdb.database));
      tree.push(now() - t);
      t = now();
      const replay = await rep.phase(`state.${r}`, () => verifyState(bdb.database.db));
      state.push(now() - t);
      if (!log.ok || !replay.ok) throw new Error(`the bench ledger does not verify: ${JSON.stringify({ log: log.problem, state: replay.problem })}`);
      entries = replay.entries;
      rep.details.rows = replay.rows;
    }
    const best = (xs: number[]) => Math.min(...xs);
    rep.parameters.entries = entries;
    rep.details.treeMs = tree;
    rep.details.stateMs = state;
    rep.figure({
      id: 'state.replay-vs-tree',
      label: `state replay over ${fmt(entries)} entries (fastest of ${rounds}), × the tree check over the same log`,
      value: best(state) / 1000,
      unit: 's',
      baseline: { label: 'verifyStoredLog (the tree)', value: best(tree) / 1000, unit: 's' },
      ratio: best(state) / best(tree),
      ratioMeaning: 'replay time / tree-check time',
    });
    return rep.finish();
  } finally {
    await runtime?.close();
    rmSync(keysDir, { recursive: true, force: true });
  }
}
