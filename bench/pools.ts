/**
 * C2PA at render-farm rates (issue 22): the service's `/v1/verify` and `POST /v1/outputs` under many
 * clients over real HTTP (autocannon, keep-alive), each beside a bare pool of c2pa-rs on worker threads,
 * one per core (pools-bare.ts: @contentauth/c2pa-wasm used directly, the file kept in the thread, the
 * service's own C2PA key and chain), driven by this process with as many jobs in flight as the service has
 * clients, in interleaved rounds:
 *
 *   POST /v1/verify, 1 MB JPEG, 16 clients    vs the bare reader pool (16 reads in flight)      goal ≥ 0.8
 *   POST /v1/outputs, 1 MB JPEG, 8 clients    vs the bare signer pool (8 signs in flight; each  goal ≥ 0.7
 *                                                signed file read back, as the service does)
 *
 * Every output is checked to be audit-logged (an `output.signed` entry at its index, naming it), and the
 * log dense. The service runs on PostgreSQL with C2PA_WORKERS threads (default: one per core).
 *
 *   npm run bench -- pools     BENCH_POOLS_SECONDS=5 (per round), BENCH_POOLS_ROUNDS=2, BENCH_POOLS_WORKERS,
 *                              BENCH_POOLS_VERIFIERS=16, BENCH_POOLS_GENERATORS=8
 *
 * The load generator shares the machine's cores with the server and with the bare pools: the figures are
 * ratios for that reason.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { issueToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { TRAINED_ALGORITHMIC_MEDIA } from '../src/outputs/manifest.ts';
import type { C2paWasmEngine } from '../src/provenance/c2pa/c2pa-wasm.ts';
import { createLogger, type Runtime, serveHttp, startRuntime } from '../src/runtime.ts';
import { KEY_FILES } from '../src/signing/keyring.ts';
import { makeJpeg } from '../test/fixtures/media.ts';
import { benchCheckpoint } from './c2pa.ts';
import { type BenchSection, createBenchDatabase, distribution, intFromEnv, now, onCleanup, Reporter } from './harness.ts';
import type { BareWorkerData } from './pools-bare.ts';

type Load = { rps: number; p50: number; p99: number; ok: number; failures: number };

/** N bare c2pa-rs threads; a job goes to a free one, else waits its turn. */
class BarePool {
  #workers: Worker[] = [];
  #free: Worker[] = [];
  #queue: { op: 'read' | 'sign'; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #waiting = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  #next = 0;

  static async start(size: number, data: BareWorkerData): Promise<BarePool> {
    const pool = new BarePool();
    await Promise.all(
      Array.from(
        { length: size },
        () =>
          new Promise<void>((resolve, reject) => {
            const w = new Worker(new URL('./pools-worker.js', import.meta.url), { workerData: data });
            pool.#workers.push(w);
            w.on('error', reject);
            w.on('message', (m: { ready?: true; id?: number; error?: string }) => {
              if (m.ready) {
                pool.#release(w);
                resolve();
                return;
              }
              const job = pool.#waiting.get(m.id!);
              pool.#waiting.delete(m.id!);
              if (m.error) job?.reject(new Error(m.error));
              else job?.resolve();
              pool.#release(w);
            });
          }),
      ),
    );
    return pool;
  }

  run(op: 'read' | 'sign'): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = this.#free.pop();
      if (w) this.#post(w, { op, resolve, reject });
      else this.#queue.push({ op, resolve, reject });
    });
  }

  #post(w: Worker, job: { op: 'read' | 'sign'; resolve: () => void; reject: (e: unknown) => void }) {
    const id = this.#next++;
    this.#waiting.set(id, job);
    w.postMessage({ id, op: job.op });
  }

  #release(w: Worker) {
    const next = this.#queue.shift();
    if (next) this.#post(w, next);
    else this.#free.push(w);
  }

  async close() {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** `inFlight` loops, each starting its next job when the last is done, for `seconds`. */
async function drive(inFlight: number, seconds: number, job: () => Promise<void>): Promise<Load> {
  const latencies: number[] = [];
  let failures = 0;
  const start = now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (now() < end) {
        const t = now();
        try {
          await job();
          latencies.push(now() - t);
        } catch {
          failures++;
        }
      }
    }),
  );
  const d = distribution(latencies.length ? latencies : [0]);
  return { rps: latencies.length / ((now() - start) / 1000), p50: d.p50, p99: d.p99, ok: latencies.length, failures };
}

/**
 * autocannon's worker thread gets its options by message, where a Buffer body arrives as a plain
 * Uint8Array it refuses; the body is read there, from a file, by a client setup module written beside it.
 */
function bodyModule(dir: string, name: string, body: Uint8Array): string {
  const file = path.join(dir, `${name}.body`);
  writeFileSync(file, body);
  const setup = path.join(dir, `${name}.cjs`);
  writeFileSync(setup, `const body = require('node:fs').readFileSync(${JSON.stringify(file)});\nmodule.exports = (client) => client.setBody(body);\n`);
  return setup;
}

async function cannon(url: string, headers: Record<string, string>, setupClient: string, connections: number, seconds: number): Promise<Load> {
  const r = (await autocannon({ url, method: 'POST', headers, setupClient, connections, duration: seconds, workers: 1 } as Parameters<typeof autocannon>[0])) as Awaited<
    ReturnType<typeof autocannon>
  > & { '2xx': number };
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], failures: r.non2xx + r.errors + r.timeouts };
}

function multipart(fields: Record<string, string>, file: { name: string; type: string; bytes: Uint8Array }): { body: Buffer; type: string } {
  const boundary = `----clearframe-bench-${Date.now().toString(36)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${file.name}"\r\ncontent-type: ${file.type}\r\n\r\n`));
  parts.push(Buffer.from(file.bytes));
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

export const poolsSection: BenchSection = {
  name: 'pools',
  title: 'C2PA on worker pools: /v1/verify (16 clients) and POST /v1/outputs (8) vs bare c2pa-rs pools (issue 22)',
  timeoutS: 900,
  async run() {
    const seconds = intFromEnv('BENCH_POOLS_SECONDS', 5);
    const rounds = intFromEnv('BENCH_POOLS_ROUNDS', 2);
    const threads = intFromEnv('BENCH_POOLS_WORKERS', availableParallelism());
    const verifiers = intFromEnv('BENCH_POOLS_VERIFIERS', 16);
    const generators = intFromEnv('BENCH_POOLS_GENERATORS', 8);
    const rep = new Reporter('pools', poolsSection.title);
    Object.assign(rep.parameters, {
      seconds,
      rounds,
      threads,
      verifiers,
      generators,
      loadGenerator: 'autocannon 9 (one worker thread, same machine)',
      order: 'interleaved rounds',
    });

    const bdb = await rep.phase('setup.database', () => createBenchDatabase());
    rep.env.postgres = bdb.serverVersion;
    const dir = mkdtempSync(path.join(tmpdir(), 'clearframe-bench-pools-'));
    const closers: (() => Promise<unknown>)[] = [];
    onCleanup(async () => {
      for (const close of closers.reverse()) await close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    });

    const config = loadConfig({
      DATABASE_URL: bdb.url,
      KEYS_DIR: dir,
      DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_REQUESTS: '100000000',
      MAX_CONNECTIONS_PER_CLIENT: '256',
      C2PA_WORKERS: String(threads),
      // The bare signer pool does not fingerprint: neither does the service here (the c2pa section measures it).
      OUTPUT_SOFT_BINDING: 'off',
    });
    const runtime: Runtime = await rep.phase('setup.runtime', () => startRuntime(config, { database: bdb.database, logger: createLogger({ logLevel: 'silent' }) }));
    closers.push(() => runtime.close());
    const server = await new Promise<AddressInfo>((resolve) => {
      const s = serveHttp(runtime, { port: 0, hostname: '127.0.0.1' }, resolve);
      closers.push(() => new Promise((r) => s.close(() => r(undefined))));
    });
    const url = `http://127.0.0.1:${server.port}`;
    const setup = await rep.phase('setup.checkpoint', () => benchCheckpoint(runtime, config));
    const issuer = runtime.ctx.keyring.tokenIssuer;
    const token = (role: 'generator' | 'distributor', sub: string) =>
      issueToken({ privateKey: issuer.privateKey, kid: issuer.signer.kid }, { issuer: config.auth.issuer, audience: config.auth.audience, sub, role, ttl: '1h' });
    const generator = { authorization: `Bearer ${await token('generator', 'render@studio.example')}` };
    const distributor = { authorization: `Bearer ${await token('distributor', 'qc@distributor.example')}` };

    const jpeg = makeJpeg({ targetBytes: 1_000_000, seed: 7 });
    const upload = multipart(
      {
        checkpointId: setup.checkpoint.id,
        sourceAssetIds: setup.assets[0]!.assetId,
        title: 'Stairwell, night',
        prompt: 'the stairwell at night',
        generatorName: 'imagen-runner',
        generatorVersion: '2.1',
      },
      { name: 'frame.jpg', type: 'image/jpeg', bytes: jpeg },
    );
    const outputsHeaders = { ...generator, 'content-type': upload.type };
    // The file every verification sends: one the service signed, so verify finds its output in the ledger.
    const first = await fetch(`${url}/v1/outputs`, { method: 'POST', headers: outputsHeaders, body: upload.body });
    if (first.status !== 200) throw new Error(`POST /v1/outputs answered ${first.status}: ${await first.text()}`);
    const signed = new Uint8Array(await first.arrayBuffer());
    const verifyHeaders = { ...distributor, 'content-type': 'image/jpeg' };
    const check = await fetch(`${url}/v1/verify`, { method: 'POST', headers: verifyHeaders, body: signed });
    const verdict = ((await check.json()) as { verdict?: string }).verdict;
    if (check.status !== 200 || verdict !== 'verified') throw new Error(`POST /v1/verify answered ${check.status}: ${verdict}`);
    rep.details.files = {
      jpegBytes: jpeg.byteLength,
      signedBytes: signed.byteLength,
      verifyBody: 'image/jpeg raw body',
      outputsBody: `multipart, ${upload.body.byteLength} bytes`,
    };

    const engine = runtime.ctx.c2pa as C2paWasmEngine;
    const bare = await rep.phase('setup.bare-pools', () =>
      BarePool.start(threads, {
        mimeType: 'image/jpeg',
        signed,
        original: jpeg,
        privateKeyPem: readFileSync(path.join(dir, KEY_FILES.c2pa.file), 'utf8'),
        certChainDer: runtime.ctx.keyring.c2pa.certChainDer,
        settings: engine.settingsJson(),
        manifest: JSON.stringify({
          title: 'bench',
          claim_generator_info: [{ name: 'bench', version: '1' }],
          assertions: [{ label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: TRAINED_ALGORITHMIC_MEDIA }] } }],
        }),
      }),
    );
    closers.push(() => bare.close());

    // How many times c2pa-rs signs per output recorded: more than once when a sign begun at the log's tip
    // found the tip taken by another output and was made again under the append lock.
    let signs = 0;
    const sign = engine.sign.bind(engine);
    engine.sign = (input) => {
      signs++;
      return sign(input);
    };
    const verifyBody = bodyModule(dir, 'verify', signed);
    const outputsBody = bodyModule(dir, 'outputs', upload.body);
    const pairs = [
      {
        id: 'verify',
        label: `POST /v1/verify, 1 MB JPEG (${verifiers} clients)`,
        baselineLabel: `bare c2pa-rs reader pool, ${threads} threads, ${verifiers} reads in flight`,
        goal: 0.8,
        route: (s: number) => cannon(`${url}/v1/verify`, verifyHeaders, verifyBody, verifiers, s),
        base: (s: number) => drive(verifiers, s, () => bare.run('read')),
      },
      {
        id: 'outputs',
        label: `POST /v1/outputs, 1 MB JPEG (${generators} generators)`,
        baselineLabel: `bare c2pa-rs signer pool, ${threads} threads, ${generators} signs in flight (each read back)`,
        goal: 0.7,
        route: (s: number) => cannon(`${url}/v1/outputs`, outputsHeaders, outputsBody, generators, s),
        base: (s: number) => drive(generators, s, () => bare.run('sign')),
      },
    ];
    await rep.phase('warmup', async () => {
      for (const p of pairs) {
        await p.route(1);
        await p.base(1);
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
            r.route.push(await p.route(seconds));
            r.base.push(await p.base(seconds));
          } else {
            r.base.push(await p.base(seconds));
            r.route.push(await p.route(seconds));
          }
          rep.log(`  round ${round + 1}: ${p.id} ${r.route.at(-1)!.rps.toFixed(1)} vs ${r.base.at(-1)!.rps.toFixed(1)} /s`);
        }
      }
    });
    const mean = (xs: Load[], k: keyof Load) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
    for (const p of pairs) {
      const r = results.get(p.id)!;
      const value = mean(r.route, 'rps');
      const base = mean(r.base, 'rps');
      const failures = [...r.route, ...r.base].reduce((s, x) => s + x.failures, 0);
      rep.figure({
        id: `throughput.${p.id}`,
        label: p.label,
        value,
        unit: 'req/s',
        baseline: { label: p.baselineLabel, value: base, unit: 'jobs/s' },
        ratio: value / base,
        goal: `≥ ${p.goal} × baseline`,
        met: value / base >= p.goal,
        note: `p99 ${mean(r.route, 'p99').toFixed(1)} ms (baseline ${mean(r.base, 'p99').toFixed(1)} ms); p50 ${mean(r.route, 'p50').toFixed(1)} ms (baseline ${mean(r.base, 'p50').toFixed(1)} ms)`,
      });
      rep.figure({ id: `correctness.${p.id}.answered`, label: `${p.label}: every request answered 2xx`, value: failures, unit: 'failures', met: failures === 0 });
    }

    // Every output the service answered is in the ledger, each with its own output.signed entry.
    const answered = 1 + [...results.get('outputs')!.route].reduce((s, x) => s + x.ok, 0);
    const [row] = await bdb.raw<{ outputs: number; logged: number; events: number; hi: number }[]>`
      select (select count(*)::int from outputs) as outputs,
             (select count(*)::int from outputs o join audit_event_facts e on e.idx = o.audit_index
                where e.action = 'output.signed' and e.subject_id = o.id) as logged,
             (select count(*)::int from audit_events) as events,
             (select coalesce(max(idx), -1)::int from audit_events) as hi`;
    rep.figure({
      id: 'correctness.outputs.logged',
      label: 'outputs without their output.signed audit entry',
      value: row!.outputs - row!.logged,
      unit: 'outputs',
      met: row!.outputs === row!.logged,
    });
    rep.figure({
      id: 'correctness.outputs.answered',
      label: 'outputs answered 2xx in the measured rounds, and not recorded',
      value: Math.max(0, answered - row!.outputs),
      unit: 'outputs',
      met: row!.outputs >= answered,
    });
    rep.figure({
      id: 'outputs.signsPerOutput',
      label: 'c2pa-rs signs per output recorded (above 1: signs made again under the lock)',
      value: signs / (row!.outputs - 1),
      unit: 'signs',
    });
    rep.figure({ id: 'correctness.log.dense', label: 'audit log indices dense', value: row!.hi + 1 - row!.events, unit: 'gaps', met: row!.hi + 1 === row!.events });
    return rep.finish();
  },
};
