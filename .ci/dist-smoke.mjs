#!/usr/bin/env node
// The image's runtime stage, reproduced without Docker: in a fresh temporary directory, what the
// Dockerfile's second stage copies and installs (production dependencies only, dist/ and no src/), then
// the service started as the image starts it (`node dist/cli.js serve`) and through bin/clearframe.js,
// each until /healthz and /readyz answer, then stopped with SIGTERM. It also runs the Dockerfile's
// HEALTHCHECK command, /docs with its Swagger UI bundle (read from the production install), and both
// worker threads (they are started by file name from import.meta.url, so a file tsc does not emit, or a
// path that only holds in src/, shows up here and nowhere else).
// Run after `npm run build`. Exits non-zero with one line on stderr on any failure.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const READY_WITHIN_MS = 60_000;
const STOP_WITHIN_MS = 15_000;
// The smallest JPEG c2pa-rs reads (SOI, a JFIF APP0, EOI): it carries no manifest.
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

class SmokeFailure extends Error {}
const fail = (message) => {
  throw new SmokeFailure(message);
};
/** The telling line of a process's output: its last error line, else its last line (Node's version line aside). */
const lastLine = (text) => {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !/^Node\.js v\d/.test(l));
  return (lines.findLast((l) => /error/i.test(l)) ?? lines.at(-1) ?? '').trim().slice(0, 300);
};
const since = (t) => `${((performance.now() - t) / 1000).toFixed(1)} s`;

const work = mkdtempSync(path.join(tmpdir(), 'clearframe-dist-smoke-'));
let running; // the service while it runs, to be killed if the smoke stops early

// A clean environment, as in the image: nothing from this shell (DATABASE_URL, KEY_BACKEND, ...) leaks in.
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME ?? work,
  ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  DATA_DIR: path.join(work, 'data'),
  LOG_LEVEL: 'info',
};

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function get(url, token) {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

/** Starts `node ...args` in the copy, waits for /healthz and /readyz, runs `check`, then stops it. */
async function serve(args, check) {
  const label = args.join(' ');
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: work, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  running = child;
  let output = '';
  const keep = (chunk) => (output = (output + chunk).slice(-20_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let gone;
  exited.then((e) => (gone = e));

  const base = `http://127.0.0.1:${port}`;
  for (let ready = false; !ready; ) {
    if (gone) fail(`${label} exited (${gone.code ?? gone.signal}) before it was ready: ${lastLine(output)}`);
    if (performance.now() - started > READY_WITHIN_MS) fail(`${label} not ready within ${READY_WITHIN_MS / 1000} s: ${lastLine(output)}`);
    const health = await get(`${base}/healthz`).catch(() => null);
    if (health?.status === 200) {
      if (JSON.parse(health.body).status !== 'ok') fail(`${label}: /healthz answered ${health.body}`);
      const readiness = await get(`${base}/readyz`).catch(() => null);
      ready = readiness?.status === 200;
    }
    if (!ready) await new Promise((r) => setTimeout(r, 250));
  }
  const readyIn = since(started);
  await check?.(base, port);

  child.kill('SIGTERM');
  const stop = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), STOP_WITHIN_MS).unref())]);
  if (!stop) fail(`${label} still running ${STOP_WITHIN_MS / 1000} s after SIGTERM`);
  if (stop.code !== 0) fail(`${label} exited ${stop.code ?? stop.signal} on SIGTERM: ${lastLine(output)}`);
  running = undefined;
  console.log(`dist-smoke: ${label}: healthy and ready in ${readyIn}, stopped cleanly on SIGTERM`);
}

/** `node ...args` in the copy, to completion; its stdout. */
function node(label, args) {
  const r = spawnSync(process.execPath, args, { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) fail(`${label} failed (${r.status ?? r.signal}): ${lastLine(r.stderr || r.stdout)}`);
  return r.stdout;
}

async function main() {
  if (!existsSync(path.join(repo, 'dist', 'cli.js'))) fail('no dist/cli.js here: run `npm run build` first');

  // The Dockerfile's runtime stage: package files and tools/ (it holds the cbor-extract override), then
  // the production install, then the build and the files it reads at run time. No src/, no tsx.
  for (const f of ['package.json', 'package-lock.json', 'tools']) cpSync(path.join(repo, f), path.join(work, f), { recursive: true });
  const t = performance.now();
  const ci = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: work, env: { ...process.env, NODE_ENV: 'production' }, encoding: 'utf8' });
  if (ci.status !== 0) fail(`npm ci --omit=dev failed (${ci.status ?? ci.error?.message}): ${lastLine(ci.stderr ?? '')}`);
  console.log(`dist-smoke: npm ci --omit=dev in ${since(t)} (${work})`);
  for (const f of ['dist', 'migrations', 'policies', 'bin']) cpSync(path.join(repo, f), path.join(work, f), { recursive: true });
  if (existsSync(path.join(work, 'node_modules', 'tsx'))) fail('npm ci --omit=dev installed tsx: the image must run without it (keep it a devDependency)');

  // As the image runs it; the first start creates the local keys in DATA_DIR.
  await serve(['dist/cli.js', 'serve'], async (base, port) => {
    // The image's HEALTHCHECK, word for word from the Dockerfile.
    const healthcheck = /^HEALTHCHECK\b.*?\bCMD (.+)$/m.exec(readFileSync(path.join(repo, 'Dockerfile'), 'utf8'))?.[1];
    if (!healthcheck) fail('no HEALTHCHECK ... CMD line in the Dockerfile');
    const hc = spawnSync('/bin/sh', ['-c', healthcheck], { cwd: work, env: { ...env, PORT: String(port) }, timeout: 10_000 });
    if (hc.status !== 0) fail(`the Dockerfile's HEALTHCHECK failed (${hc.status ?? hc.signal}) against a ready service`);
    // A read on the c2pa-rs pool (c2pa-worker.js, started from dist/provenance/c2pa/).
    const token = node('dist/cli.js token issue', ['dist/cli.js', 'token', 'issue', '--role', 'distributor', '--sub', 'dist-smoke', '--ttl', '5m']).trim();
    const res = await fetch(`${base}/v1/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' },
      body: JPEG,
      signal: AbortSignal.timeout(30_000),
    });
    const body = await res.text();
    if (res.status !== 200 || JSON.parse(body).verdict !== 'no-manifest') fail(`POST /v1/verify (the c2pa-rs pool) answered ${res.status}: ${body.slice(0, 200)}`);
    // The API reference and the Swagger UI bundle it loads, read from swagger-ui-dist in the production install.
    const docs = await get(`${base}/docs`);
    const bundle = /<script src="(\/docs\/assets\/[^"]+\/swagger-ui-bundle\.js)"/.exec(docs.body)?.[1];
    if (docs.status !== 200 || !bundle) fail(`GET /docs answered ${docs.status} without the Swagger UI bundle: ${docs.body.slice(0, 200)}`);
    const js = await fetch(`${base}${bundle}`, { signal: AbortSignal.timeout(10_000) });
    const jsBytes = Buffer.from(await js.arrayBuffer());
    const want = readFileSync(path.join(work, 'node_modules', 'swagger-ui-dist', 'swagger-ui-bundle.js'));
    if (js.status !== 200 || !js.headers.get('content-type')?.includes('javascript') || !jsBytes.equals(want))
      fail(`GET ${bundle} answered ${js.status} (${js.headers.get('content-type')}, ${jsBytes.length} bytes), not swagger-ui-dist's bundle`);
  });

  // Through the command's entry point: with no src/ beside it, bin/clearframe.js must take dist/.
  await serve(['bin/clearframe.js', 'serve']);

  // The audit hash thread (hash-worker.js): it falls back to this thread silently when it cannot start,
  // so ask it for one leaf hash directly and compare.
  // (A file, not `node --input-type=module -e`: worker threads inherit the flag and refuse to start.)
  writeFileSync(
    path.join(work, 'hash-check.mjs'),
    `import { createHash } from 'node:crypto';
     import { HashHelper } from './dist/audit/hash-helper.js';
     const helper = await HashHelper.start();
     if (!helper) throw new Error('the hash thread did not start');
     const out = new SharedArrayBuffer(32);
     const alive = setTimeout(() => {}, 30_000); // the helper's thread is unref'd: keep this process up
     await helper.leaves(new Uint8Array([1, 2, 3]), new Int32Array([0, 3]), out, 0);
     clearTimeout(alive);
     await helper.close();
     const want = createHash('sha256').update(Uint8Array.of(0, 1, 2, 3)).digest();
     if (!Buffer.from(out).equals(want)) throw new Error('the hash thread computed a wrong leaf hash');
`,
  );
  node('the hash thread check', ['hash-check.mjs']);
  console.log('dist-smoke: read and hash worker threads ran from dist/');
}

const cleanUp = () => {
  running?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanUp();
    process.exit(1);
  });
}
const t0 = performance.now();
try {
  await main();
  console.log(`dist-smoke: ok in ${since(t0)}`);
} catch (err) {
  process.stderr.write(`dist-smoke: ${err instanceof SmokeFailure ? err.message : (err?.stack ?? String(err)).split('\n')[0]}\n`);
  process.exitCode = 1;
} finally {
  cleanUp();
}
