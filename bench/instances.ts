/**
 * One service process against two on the same PostgreSQL (issue 22, docs/deployment.md): `clearframe serve`
 * child processes sharing keys and the database, under autocannon from this process, the clients split
 * evenly across the instances, in interleaved rounds:
 *
 *   reads    GET /v1/assets/{id} with a legal token
 *   writes   POST /v1/assets, each a new asset (audit-logged; all instances append under the one lock)
 *
 *   npm run bench -- instances   BENCH_INSTANCES_SECONDS=4, BENCH_INSTANCES_ROUNDS=2, BENCH_INSTANCES_CONNECTIONS=32
 *
 * On two cores with the load generator beside them, a second process can only show what one process leaves
 * unused (its event loop, not the machine): the ratio says how much that is, and that writes stay correct.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { type BenchSection, createBenchDatabase, intFromEnv, onCleanup, Reporter } from './harness.ts';

const BIN = path.resolve('bin/clearframe.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [BIN, ...args], { env }, (err, stdout, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve(stdout.trim()))),
  );
}

async function startInstance(env: NodeJS.ProcessEnv, dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], { env: { ...env, DATA_DIR: dataDir }, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (const until = Date.now() + 90_000; Date.now() < until; ) {
    if (child.exitCode !== null) throw new Error(`instance exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, child };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`instance on ${port} not ready`);
}

type Load = { rps: number; p99: number; failures: number };

/** autocannon against each URL at once, the connections split between them; requests per second summed. */
async function loadAll(urls: string[], opts: { path: string; token: string; write: boolean; seconds: number; connections: number }): Promise<Load> {
  const per = Math.max(1, Math.floor(opts.connections / urls.length));
  const results = await Promise.all(
    urls.map((url) =>
      autocannon({
        url: url + opts.path,
        connections: per,
        duration: opts.seconds,
        method: opts.write ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
        ...(opts.write
          ? {
              requests: [
                {
                  setupRequest: (req: Record<string, unknown>) => ({
                    ...req,
                    body: JSON.stringify({
                      sha256: randomBytes(32).toString('hex'),
                      title: 'Bench frame',
                      mediaType: 'image/png',
                      creator: 'Bench',
                      production: 'bench-instances',
                    }),
                  }),
                },
              ],
            }
          : {}),
      }),
    ),
  );
  return {
    rps: results.reduce((s, r) => s + r.requests.average, 0),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    failures: results.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0),
  };
}

export const instancesSection: BenchSection = {
  name: 'instances',
  title: 'One service process against two on one PostgreSQL: reads and audit-logged writes (issue 22)',
  timeoutS: 900,
  async run() {
    const seconds = intFromEnv('BENCH_INSTANCES_SECONDS', 4);
    const rounds = intFromEnv('BENCH_INSTANCES_ROUNDS', 2);
    const connections = intFromEnv('BENCH_INSTANCES_CONNECTIONS', 32);
    const rep = new Reporter('instances', instancesSection.title);
    Object.assign(rep.parameters, { seconds, rounds, connections, loadGenerator: 'autocannon 9 in the bench process, clients split across instances' });

    const bdb = await rep.phase('setup.database', () => createBenchDatabase());
    rep.env.postgres = bdb.serverVersion;
    const keysDir = mkdtempSync(path.join(tmpdir(), 'clearframe-bench-instances-'));
    const children: ChildProcess[] = [];
    onCleanup(async () => {
      for (const c of children) c.kill('SIGTERM');
      rmSync(keysDir, { recursive: true, force: true });
    });
    const { PORT: _p, HOST: _h, ...rest } = process.env;
    const env: NodeJS.ProcessEnv = {
      ...rest,
      DATABASE_URL: bdb.url,
      KEYS_DIR: keysDir,
      DATA_DIR: keysDir,
      PUBLIC_URL: 'http://clearframe.bench',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_REQUESTS: '0',
      MAX_CONNECTIONS_PER_CLIENT: '0',
    };
    await cli(env, ['keys', 'init']);
    const [a, b] = await rep.phase('setup.instances', () =>
      Promise.all([startInstance(env, mkdtempSync(path.join(keysDir, 'a-'))), startInstance(env, mkdtempSync(path.join(keysDir, 'b-')))]),
    );
    children.push(a.child, b.child);
    const token = await cli(env, ['token', 'issue', '--role', 'legal', '--sub', 'bench@studio.example', '--ttl', '1h']);
    const created = await fetch(`${a.url}/v1/assets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sha256: 'b'.repeat(64), title: 'Stairwell', mediaType: 'image/png', creator: 'R. Ortiz', production: 'bench-instances' }),
    });
    const { id } = (await created.json()) as { id: string };

    const workloads = [
      { id: 'reads', label: 'GET /v1/assets/{id}', path: `/v1/assets/${id}`, write: false },
      { id: 'writes', label: 'POST /v1/assets (audit-logged)', path: '/v1/assets', write: true },
    ];
    await rep.phase('warmup', async () => {
      for (const w of workloads) await loadAll([a.url, b.url], { ...w, token, seconds: 1, connections: 8 });
    });
    const results = new Map<string, { one: Load[]; two: Load[] }>();
    await rep.phase('measure', async () => {
      for (let round = 0; round < rounds; round++) {
        for (const w of workloads) {
          const r = results.get(w.id) ?? { one: [], two: [] };
          results.set(w.id, r);
          const one = () => loadAll([a.url], { ...w, token, seconds, connections });
          const two = () => loadAll([a.url, b.url], { ...w, token, seconds, connections });
          if (round % 2 === 0) {
            r.one.push(await one());
            r.two.push(await two());
          } else {
            r.two.push(await two());
            r.one.push(await one());
          }
        }
      }
    });
    const mean = (xs: Load[], k: keyof Load) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
    for (const w of workloads) {
      const r = results.get(w.id)!;
      const failures = [...r.one, ...r.two].reduce((s, x) => s + x.failures, 0);
      rep.figure({
        id: `throughput.${w.id}`,
        label: `${w.label}, two processes (${connections} clients in all)`,
        value: mean(r.two, 'rps'),
        unit: 'req/s',
        baseline: { label: 'one process, the same clients', value: mean(r.one, 'rps'), unit: 'req/s' },
        ratio: mean(r.two, 'rps') / mean(r.one, 'rps'),
        note: `p99 ${mean(r.two, 'p99').toFixed(1)} ms (one process ${mean(r.one, 'p99').toFixed(1)} ms)${failures ? `; ${failures} non-2xx or errors` : ''}`,
      });
      rep.figure({ id: `correctness.${w.id}.answered`, label: `${w.label}: every request answered 2xx`, value: failures, unit: 'failures', met: failures === 0 });
    }
    // The log stayed one dense tree under writers on both.
    const [log] = await bdb.raw<{ n: number; hi: number }[]>`select count(*)::int as n, coalesce(max(idx), -1)::int as hi from audit_events`;
    const { n, hi } = log!;
    rep.figure({ id: 'correctness.log.dense', label: 'audit log indices dense after both instances wrote', value: hi + 1 - n, unit: 'gaps', met: hi + 1 === n });
    return rep.finish();
  },
};
