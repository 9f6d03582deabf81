/**
 * What durability costs a write: 1,000 license versions through the service (POST /v1/assets/{id}/licenses,
 * one at a time, so every commit waits for its own flush) on PostgreSQL with `synchronous_commit = on`
 * (durable: the commit is acknowledged once its WAL is flushed) beside the same on a database set to
 * `synchronous_commit = off` (acknowledged before the flush), in interleaved blocks in one process. The
 * embedded PGlite on disk is measured beside them: it has no durable mode to compare (README, "The
 * embedded default is not durable"), so its figure says what the not-durable default writes at.
 *
 *   npm run bench -- durability        BENCH_DURABILITY_WRITES=1000 (per database), BENCH_DURABILITY_BLOCK=100
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { issueToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { type Database, openDatabase } from '../src/db/database.ts';
import { createLogger, type Runtime, startRuntime } from '../src/runtime.ts';
import { type BenchSection, createBenchDatabase, intFromEnv, now, onCleanup, Reporter } from './harness.ts';

const sha = (i: number) => i.toString(16).padStart(64, '0');

type Writer = { label: string; write(): Promise<void>; close(): Promise<void>; ms: number; count: number };

async function writer(label: string, database: Database, dir: string, env: Record<string, string>): Promise<Writer> {
  const config = loadConfig({ KEYS_DIR: dir, DATA_DIR: dir, LOG_LEVEL: 'silent', ...env });
  const runtime: Runtime = await startRuntime(config, { database, logger: createLogger({ logLevel: 'silent' }) });
  const issuer = runtime.ctx.keyring.tokenIssuer;
  const token = await issueToken(
    { privateKey: issuer.privateKey, kid: issuer.signer.kid },
    { issuer: config.auth.issuer, audience: config.auth.audience, sub: 'lee@studio.example', role: 'legal', ttl: '1h' },
  );
  const call = async (url: string, body: unknown) => {
    const res = await runtime.app.request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`${label}: ${url} answered ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  const asset = await call('/v1/assets', { sha256: sha(1), title: 'Stairwell', mediaType: 'image/png', creator: 'R. Ortiz', production: 'dun', rightsHolder: 'Ortiz Studio' });
  const license = {
    licensor: 'Ortiz Studio',
    licensee: 'Upstairs Films',
    vendors: ['acme-vfx'],
    grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'notAllowed' },
    territories: ['US'],
    media: ['streaming'],
    term: { start: '2026-01-01T00:00:00Z', end: '2028-12-31T23:59:59Z' },
    exclusivity: false,
    attribution: 'Concept art by R. Ortiz',
  };
  let n = 0;
  const w: Writer = {
    label,
    ms: 0,
    count: 0,
    async write() {
      n += 1;
      await call(`/v1/assets/${asset.id}/licenses`, { ...license, contractRef: { id: `C-${n}`, sha256: sha(n + 2) } });
    },
    close: () => runtime.close(),
  };
  return w;
}

export const durabilitySection: BenchSection = {
  name: 'durability',
  title: 'License writes, durable (synchronous_commit on) beside not durable, and the embedded PGlite',
  timeoutS: 900,
  async run() {
    const writes = intFromEnv('BENCH_DURABILITY_WRITES', 1_000);
    const block = intFromEnv('BENCH_DURABILITY_BLOCK', 100);
    const rep = new Reporter('durability', durabilitySection.title);
    Object.assign(rep.parameters, { writes, block, request: 'POST /v1/assets/{id}/licenses, one at a time' });
    const durableDb = await rep.phase('setup.durable', () => createBenchDatabase());
    const relaxedDb = await rep.phase('setup.relaxed', () => createBenchDatabase());
    rep.env.postgres = durableDb.serverVersion;
    const [settings] = await durableDb.raw<{ fsync: string; sc: string }[]>`select current_setting('fsync') as fsync, current_setting('synchronous_commit') as sc`;
    rep.details.server = settings;
    // New sessions of the relaxed database acknowledge commits before their WAL is flushed.
    await relaxedDb.raw.unsafe(`alter database ${relaxedDb.name} set synchronous_commit = off`);
    await relaxedDb.database.close();
    const relaxedDatabase = await openDatabase({ kind: 'postgres', url: relaxedDb.url });
    const [check] = await relaxedDb.raw<{ sc: string }[]>`select setting as sc from pg_db_role_setting, unnest(setconfig) as setting`;
    rep.details.relaxedSetting = check?.sc;

    const dirs = [0, 1, 2].map(() => mkdtempSync(path.join(tmpdir(), 'clearframe-bench-durability-')));
    onCleanup(async () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    const pglite = await openDatabase({ kind: 'pglite', dataDir: path.join(dirs[2]!, 'pglite') });
    await pglite.migrate();
    const writers = [
      await writer('PostgreSQL, synchronous_commit on (durable)', durableDb.database, dirs[0]!, { DATABASE_URL: durableDb.url }),
      await writer('PostgreSQL, synchronous_commit off', relaxedDatabase, dirs[1]!, { DATABASE_URL: durableDb.url }),
      await writer('PGlite on disk (embedded default, not durable)', pglite, dirs[2]!, {}),
    ];
    await rep.phase('warmup', async () => {
      for (const w of writers) for (let i = 0; i < 20; i++) await w.write();
    });
    await rep.phase('writes', async () => {
      // Interleaved blocks: load on the machine falls on all three alike.
      for (let done = 0; done < writes; done += block) {
        for (const w of writers) {
          const n = Math.min(block, writes - done);
          const t = now();
          for (let i = 0; i < n; i++) await w.write();
          w.ms += now() - t;
          w.count += n;
        }
      }
    });
    const [durable, relaxed, embedded] = writers.map((w) => ({ label: w.label, perWriteMs: w.ms / w.count, totalS: w.ms / 1000 }));
    rep.figure({
      id: 'durability.postgres',
      label: `${durable!.label}, ${writes} license writes, mean per write`,
      value: durable!.perWriteMs,
      unit: 'ms',
      baseline: { label: relaxed!.label, value: relaxed!.perWriteMs, unit: 'ms' },
      ratio: durable!.perWriteMs / relaxed!.perWriteMs,
      ratioMeaning: 'durable / not durable (the cost of waiting for the WAL flush)',
    });
    rep.figure({
      id: 'durability.pglite',
      label: `${embedded!.label}, ${writes} license writes, mean per write`,
      value: embedded!.perWriteMs,
      unit: 'ms',
      baseline: { label: durable!.label, value: durable!.perWriteMs, unit: 'ms' },
      ratio: embedded!.perWriteMs / durable!.perWriteMs,
      ratioMeaning: 'embedded PGlite / durable PostgreSQL',
    });
    for (const w of writers) await w.close();
    await relaxedDatabase.close().catch(() => {});
    await pglite.close().catch(() => {});
    return rep.finish();
  },
};
