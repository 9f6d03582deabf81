/**
 * The web console: `npm run bench -- console`.
 *
 * Issue 23 figures: the first load of /console/verify (bytes of shell, script and style, gzipped as served;
 * time from navigation to the signed-in page in Chromium), and drop-to-verdict for a 1 MB JPEG against the
 * API call alone (goal ≤ 1.2 ×), both measured inside the same page with performance.now():
 *
 *   console    a drop event carrying the file on the Verify page, until its row shows the verdict, and until
 *              "Proof checked in your browser" (hashing the file, the key, SHA-256 path, Ed25519 note)
 *   API alone  fetch('/v1/verify') with the same File from the same page, and its JSON read
 *
 * Interleaved rounds (each round runs both, alternating which goes first), after warm-up; p50 judged.
 * Knobs: BENCH_CONSOLE_ITERATIONS (15), BENCH_CONSOLE_WARMUP (3), BENCH_CONSOLE_JPEG_BYTES (1000000),
 * CHROMIUM_PATH (/usr/bin/chromium), BENCH_CONSOLE_TIMEOUT_S (240).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { chromium } from 'playwright-core';
import { issueToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger, type Runtime, startRuntime } from '../src/runtime.ts';
import { makeJpeg } from '../test/fixtures/media.ts';
import { benchCheckpoint } from './c2pa.ts';
import { type BenchSection, createBenchDatabase, distribution, intFromEnv, Reporter } from './harness.ts';

const GOAL_RATIO = 1.2;

export const consoleSection: BenchSection = {
  name: 'console',
  title: 'Web console: first load of /console/verify, and drop-to-verdict (1 MB JPEG) vs the API call alone, in Chromium',
  timeoutS: intFromEnv('BENCH_CONSOLE_TIMEOUT_S', 240),
  run: runConsole,
};

async function runConsole() {
  const iterations = intFromEnv('BENCH_CONSOLE_ITERATIONS', 15);
  const warmup = intFromEnv('BENCH_CONSOLE_WARMUP', 3);
  const jpegBytes = intFromEnv('BENCH_CONSOLE_JPEG_BYTES', 1_000_000);
  const rep = new Reporter('console', consoleSection.title);
  Object.assign(rep.parameters, { iterations, warmup, jpegTargetBytes: jpegBytes, order: 'interleaved rounds, alternating order' });

  const bdb = await rep.phase('setup.database', () => createBenchDatabase());
  rep.env.postgres = bdb.serverVersion;
  const keysDir = mkdtempSync(path.join(tmpdir(), 'clearframe-bench-keys-'));
  let runtime: Runtime | undefined;
  let server: ReturnType<typeof serve> | undefined;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  try {
    const config = loadConfig({ DATABASE_URL: bdb.url, KEYS_DIR: keysDir, DATA_DIR: keysDir, LOG_LEVEL: 'silent' });
    runtime = await rep.phase('setup.runtime', () => startRuntime(config, { database: bdb.database, logger: createLogger({ logLevel: 'silent' }) }));
    const rt = runtime;
    server = serve({ fetch: rt.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const setup = await rep.phase('setup.checkpoint', () => benchCheckpoint(rt, config));
    const issuer = rt.ctx.keyring.tokenIssuer;
    const token = (role: 'generator' | 'distributor') =>
      issueToken({ privateKey: issuer.privateKey, kid: issuer.signer.kid }, { issuer: config.auth.issuer, audience: config.auth.audience, sub: `${role}@bench`, role, ttl: '1h' });
    const form = new FormData();
    form.set('file', new File([makeJpeg({ targetBytes: jpegBytes, seed: 7 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', setup.checkpoint.id);
    const signedRes = await rt.app.request('/v1/outputs', { method: 'POST', headers: { authorization: `Bearer ${await token('generator')}` }, body: form });
    if (signedRes.status !== 200) throw new Error(`sign: ${signedRes.status} ${await signedRes.text()}`);
    const signed = new Uint8Array(await signedRes.arrayBuffer());
    rep.details.file = { bytes: signed.byteLength };

    // First load: what a browser fetches for /console/verify, gzipped as served.
    // node:http, not fetch: fetch would undo the gzip before the bytes are counted.
    const bytes = (p: string) =>
      new Promise<number>((resolve, reject) => {
        get(base + p, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          let n = 0;
          res.on('data', (chunk: Buffer) => (n += chunk.length));
          res.on('end', () => resolve(n));
        }).on('error', reject);
      });
    const [shell, script, style] = await Promise.all([bytes('/console/verify'), bytes('/console/assets/console.js'), bytes('/console/assets/console.css')]);
    rep.figure({ id: 'load.script', label: 'first load: script (gzip)', value: script, unit: 'bytes' });
    rep.figure({ id: 'load.style', label: 'first load: style (gzip)', value: style, unit: 'bytes' });
    rep.figure({ id: 'load.shell', label: 'first load: page shell (uncompressed)', value: shell, unit: 'bytes' });

    const distributor = await token('distributor');
    const context = await browser.newContext();
    // The session as sign-in leaves it (an init script runs over the DevTools protocol, outside the page's CSP).
    await context.addInitScript(`sessionStorage.setItem('clearframe.console.token', ${JSON.stringify(distributor)})`);
    const page = await context.newPage();
    const interactive: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await page.goto(`${base}/console/verify`);
      await page.locator('#files').waitFor({ state: 'attached' });
      interactive.push(performance.now() - t0);
    }
    rep.figure({ id: 'load.interactive', label: 'navigation to a usable Verify page (p50 of 5, warm cache)', value: distribution(interactive).p50, unit: 'ms' });

    await page.evaluate(
      `window.__benchFile = new File([Uint8Array.from(atob(${JSON.stringify(Buffer.from(signed).toString('base64'))}), (c) => c.charCodeAt(0))], 'frame.jpg', { type: 'image/jpeg' })`,
    );
    const viaConsole = () =>
      page.evaluate(`new Promise((resolve, reject) => {
        const before = document.querySelectorAll('li.result').length;
        const t0 = performance.now();
        let verdictAt = null;
        const dt = new DataTransfer();
        dt.items.add(window.__benchFile);
        document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        const row = document.querySelector('li.result');
        if (document.querySelectorAll('li.result').length !== before + 1) reject(new Error('no row'));
        new MutationObserver((_, obs) => {
          if (verdictAt === null && row.querySelector('.verdict')) verdictAt = performance.now() - t0;
          if (row.querySelector('.proof-checked')) { obs.disconnect(); resolve({ verdict: verdictAt ?? performance.now() - t0, proof: performance.now() - t0 }); }
          if (row.querySelector('.error, .proof-failed')) { obs.disconnect(); reject(new Error(row.textContent)); }
        }).observe(row, { childList: true, subtree: true });
      })`) as Promise<{ verdict: number; proof: number }>;
    const viaApi = () =>
      page.evaluate(`(async () => {
        const t0 = performance.now();
        const res = await fetch('/v1/verify', { method: 'POST', body: window.__benchFile, headers: { authorization: 'Bearer ' + sessionStorage.getItem('clearframe.console.token'), 'content-type': 'image/jpeg' } });
        const answer = await res.json();
        if (answer.verdict !== 'verified') throw new Error(answer.verdict);
        return performance.now() - t0;
      })()`) as Promise<number>;

    const samples = { verdict: [] as number[], proof: [] as number[], api: [] as number[] };
    await rep.phase('measure', async () => {
      for (let i = 0; i < warmup + iterations; i++) {
        const order = i % 2 === 0 ? ['console', 'api'] : ['api', 'console'];
        for (const which of order) {
          if (which === 'api') {
            const ms = await viaApi();
            if (i >= warmup) samples.api.push(ms);
          } else {
            const t = await viaConsole();
            if (i >= warmup) {
              samples.verdict.push(t.verdict);
              samples.proof.push(t.proof);
            }
          }
        }
        if (i % 5 === 4) await page.evaluate(`document.querySelector('ol.results').replaceChildren()`);
      }
    });
    const api = distribution(samples.api);
    const verdict = distribution(samples.verdict);
    const proof = distribution(samples.proof);
    rep.details.distributions = { api, verdict, proof };
    const baseline = { label: 'POST /v1/verify from the page, alone', value: api.p50, unit: 'ms' };
    rep.figure({
      id: 'drop.verdict',
      label: 'drop → verdict shown (1 MB JPEG, p50)',
      value: verdict.p50,
      unit: 'ms',
      baseline,
      ratio: verdict.p50 / api.p50,
      goal: `≤ ${GOAL_RATIO} × the API call`,
      met: verdict.p50 / api.p50 <= GOAL_RATIO,
    });
    rep.figure({
      id: 'drop.proof',
      label: 'drop → proof checked in the browser (1 MB JPEG, p50)',
      value: proof.p50,
      unit: 'ms',
      baseline,
      ratio: proof.p50 / api.p50,
      goal: `≤ ${GOAL_RATIO} × the API call`,
      met: proof.p50 / api.p50 <= GOAL_RATIO,
    });
    await context.close();
  } finally {
    await browser.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await runtime?.close();
    await bdb.drop();
    rmSync(keysDir, { recursive: true, force: true });
  }
  return rep.finish();
}
