/**
 * The service under many clients at once (issue 22): each route over real HTTP with autocannon (32
 * connections, its own worker thread, keep-alive), beside a baseline doing the least the same answer needs,
 * in interleaved rounds in one process:
 *
 *   /healthz                           vs a bare Hono route on @hono/node-server
 *   GET /v1/policies (token verified)  vs the same bare route
 *   GET /v1/assets/{id} (PostgreSQL)   vs a bare route doing the same primary-key SELECT through postgres.js (prepared)
 *   GET /v1/audit/checkpoint (PG)      vs the same bare SELECT route
 *   GET /v1/assets/{id} (PGlite)       vs a bare route doing the same SELECT through the same PGlite
 *   token verification                 ES256 by jose alone vs the service's verifier (remembered tokens)
 *
 *   npm run bench -- http      BENCH_HTTP_SECONDS=3 (per round), BENCH_HTTP_ROUNDS=2, BENCH_HTTP_CONNECTIONS=32
 *
 * The load generator shares the machine's two cores with the server: the figures are ratios for that reason.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import { Hono } from 'hono';
import { createLocalJWKSet, jwtVerify } from 'jose';
import postgres from 'postgres';
import { issueToken, tokenVerifier } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { type Database, openDatabase, queryTextPrepared } from '../src/db/database.ts';
import { createLogger, type Runtime, serveHttp, startRuntime } from '../src/runtime.ts';
import { type BenchSection, createBenchDatabase, intFromEnv, onCleanup, Reporter } from './harness.ts';

type Listening = { url: string; close(): Promise<void> };
type Load = { rps: number; p50: number; p99: number; non2xx: number; errors: number };

const ASSET_SELECT = 'select * from assets where id = $1';

function listen(app: Hono): Promise<Listening> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
      resolve({ url: `http://127.0.0.1:${info.port}`, close: () => new Promise((r) => server.close(() => r())) }),
    );
  });
}

async function load(url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<Load> {
  const result = await autocannon({ url, headers, connections, duration: seconds, workers: 1 });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export const httpSection: BenchSection = {
  name: 'http',
  title: 'HTTP throughput: routes under 32 clients against bare baselines (issue 22)',
  timeoutS: 900,
  async run() {
    const seconds = intFromEnv('BENCH_HTTP_SECONDS', 3);
    const rounds = intFromEnv('BENCH_HTTP_ROUNDS', 2);
    const connections = intFromEnv('BENCH_HTTP_CONNECTIONS', 32);
    const rep = new Reporter('http', httpSection.title);
    Object.assign(rep.parameters, { seconds, rounds, connections, loadGenerator: 'autocannon 9 (one worker thread, same machine)', order: 'interleaved rounds' });

    const bdb = await rep.phase('setup.database', () => createBenchDatabase());
    rep.env.postgres = bdb.serverVersion;
    const dirs: string[] = [];
    const closers: (() => Promise<unknown>)[] = [];
    onCleanup(async () => {
      for (const close of closers.reverse()) await close().catch(() => {});
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    const service = async (label: string, database: Database) => {
      const dir = mkdtempSync(path.join(tmpdir(), `clearframe-bench-http-${label}-`));
      dirs.push(dir);
      // The limits a public deployment keeps, set high enough that 32 clients of one address are not refused.
      const config = loadConfig({ KEYS_DIR: dir, DATA_DIR: dir, LOG_LEVEL: 'silent', RATE_LIMIT_REQUESTS: '100000000', MAX_CONNECTIONS_PER_CLIENT: '256' });
      const runtime: Runtime = await startRuntime(config, { database, logger: createLogger({ logLevel: 'silent' }) });
      const server = await new Promise<AddressInfo>((resolve) => {
        const s = serveHttp(runtime, { port: 0, hostname: '127.0.0.1' }, resolve);
        closers.push(() => new Promise((r) => s.close(() => r(undefined))));
      });
      const issuer = runtime.ctx.keyring.tokenIssuer;
      const token = await issueToken(
        { privateKey: issuer.privateKey, kid: issuer.signer.kid },
        { issuer: config.auth.issuer, audience: config.auth.audience, sub: 'lee@studio.example', role: 'legal', ttl: '1h' },
      );
      const auth = { authorization: `Bearer ${token}` };
      const res = await runtime.app.request('/v1/assets', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ sha256: 'a'.repeat(64), title: 'Stairwell', mediaType: 'image/png', creator: 'R. Ortiz', production: 'dun', rightsHolder: 'Ortiz Studio' }),
      });
      if (res.status !== 201) throw new Error(`${label}: register answered ${res.status} ${await res.text()}`);
      const { id } = (await res.json()) as { id: string };
      return { url: `http://127.0.0.1:${server.port}`, auth, assetId: id, runtime, token, config };
    };

    const pg = await rep.phase('setup.service.postgres', () => service('pg', bdb.database));
    const lite = await rep.phase('setup.service.pglite', async () => {
      const database = await openDatabase({ kind: 'pglite' });
      await database.migrate();
      closers.push(() => database.close());
      return { ...(await service('pglite', database)), database };
    });

    // Baselines: the least each answer needs.
    const bare = new Hono();
    bare.get('/', (c) => c.json({ status: 'ok' }));
    const rawPg = postgres(bdb.url, { max: 10, onnotice: () => {} });
    closers.push(() => rawPg.end({ timeout: 5 }));
    bare.get('/pg/:id', async (c) => c.json((await rawPg.unsafe(ASSET_SELECT, [c.req.param('id')], { prepare: true }))[0]));
    bare.get('/pglite/:id', async (c) => c.json((await queryTextPrepared(lite.database.db, ASSET_SELECT, [c.req.param('id')], 'bench_asset'))[0]));
    const baseline = await listen(bare);
    closers.push(() => baseline.close());

    const pairs: { id: string; label: string; baselineLabel: string; route: [string, Record<string, string>]; base: [string, Record<string, string>]; goal: number }[] = [
      { id: 'healthz', label: '/healthz', baselineLabel: 'bare Hono route', route: [`${pg.url}/healthz`, {}], base: [`${baseline.url}/`, {}], goal: 0.7 },
      {
        id: 'policies',
        label: 'GET /v1/policies (token verified)',
        baselineLabel: 'bare Hono route',
        route: [`${pg.url}/v1/policies`, pg.auth],
        base: [`${baseline.url}/`, {}],
        goal: 0,
      },
      {
        id: 'asset.postgres',
        label: 'GET /v1/assets/{id} on PostgreSQL',
        baselineLabel: 'bare route, same SELECT via postgres.js',
        route: [`${pg.url}/v1/assets/${pg.assetId}`, pg.auth],
        base: [`${baseline.url}/pg/${pg.assetId}`, {}],
        goal: 0.7,
      },
      {
        id: 'checkpoint.postgres',
        label: 'GET /v1/audit/checkpoint on PostgreSQL',
        baselineLabel: 'bare route, same SELECT via postgres.js',
        route: [`${pg.url}/v1/audit/checkpoint`, {}],
        base: [`${baseline.url}/pg/${pg.assetId}`, {}],
        goal: 0.7,
      },
      {
        id: 'asset.pglite',
        label: 'GET /v1/assets/{id} on PGlite',
        baselineLabel: 'bare route, same SELECT via the same PGlite',
        route: [`${lite.url}/v1/assets/${lite.assetId}`, lite.auth],
        base: [`${baseline.url}/pglite/${lite.assetId}`, {}],
        goal: 0,
      },
    ];

    await rep.phase('warmup', async () => {
      for (const p of pairs) {
        await load(...p.route, 1, 8);
        await load(...p.base, 1, 8);
      }
    });
    const results = new Map<string, { route: Load[]; base: Load[] }>();
    await rep.phase('measure', async () => {
      for (let round = 0; round < rounds; round++) {
        for (const p of pairs) {
          const r = results.get(p.id) ?? { route: [], base: [] };
          results.set(p.id, r);
          // Alternate which side runs first, so neither always gets the warmer machine.
          if (round % 2 === 0) {
            r.route.push(await load(...p.route, seconds, connections));
            r.base.push(await load(...p.base, seconds, connections));
          } else {
            r.base.push(await load(...p.base, seconds, connections));
            r.route.push(await load(...p.route, seconds, connections));
          }
        }
      }
    });
    const mean = (xs: Load[], k: keyof Load) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
    for (const p of pairs) {
      const r = results.get(p.id)!;
      const value = mean(r.route, 'rps');
      const base = mean(r.base, 'rps');
      const ratio = value / base;
      const failures = r.route.reduce((s, x) => s + x.non2xx + x.errors, 0) + r.base.reduce((s, x) => s + x.non2xx + x.errors, 0);
      rep.figure({
        id: `throughput.${p.id}`,
        label: `${p.label} (${connections} clients)`,
        value,
        unit: 'req/s',
        baseline: { label: p.baselineLabel, value: base, unit: 'req/s' },
        ratio,
        ...(p.goal > 0 ? { goal: `≥ ${p.goal} × baseline`, met: ratio >= p.goal } : {}),
        note: `p99 ${mean(r.route, 'p99').toFixed(1)} ms (baseline ${mean(r.base, 'p99').toFixed(1)} ms)${failures ? `; ${failures} non-2xx or errors` : ''}`,
      });
      rep.figure({ id: `correctness.${p.id}.answered`, label: `${p.label}: every request answered 2xx`, value: failures, unit: 'failures', met: failures === 0 });
    }

    await rep.phase('tokens', async () => {
      // One ES256 token, verified by jose alone and by the service's verifier, in the same loop.
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'ES256' };
      const token = await issueToken({ privateKey, kid: 'bench' }, { issuer: 'bench', audience: 'bench', sub: 's', role: 'legal', ttl: '1h' });
      const keys = createLocalJWKSet({ keys: [jwk] });
      const service = tokenVerifier({ mode: 'local', issuer: 'bench', audience: 'bench' } as never, jwk);
      const n = 4000;
      const time = async (fn: () => Promise<unknown>) => {
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await fn();
        return (performance.now() - t0) / n;
      };
      const bareMs = await time(() => jwtVerify(token, keys, { algorithms: ['ES256'] }));
      const serviceMs = await time(() => service(token));
      rep.figure({
        id: 'tokens.verify',
        label: 'token check per request (the same token each time)',
        value: serviceMs * 1000,
        unit: 'µs',
        baseline: { label: 'ES256 verification by jose', value: bareMs * 1000, unit: 'µs' },
        ratio: bareMs / serviceMs,
        ratioMeaning: 'times faster than verifying each time',
      });
    });
    return rep.finish();
  },
};
