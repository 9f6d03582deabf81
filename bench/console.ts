/**
 * The web console: `npm run bench -- console`.
 *
 * Issue 23 figures: the first load of /console/verify (bytes of script and style, gzipped as served, and the
 * OpenID Connect script that only that sign-in loads; time to interactive in Chromium: from the navigation's
 * start, in the page's own clock, until the Verify page's file input is there, with an empty cache and a warm
 * one), and drop-to-verdict for a 1 MB JPEG and a 5 MB MP4 against the API call alone (goal ≤ 1.2 ×), both
 * measured inside the same page with performance.now():
 *
 *   console    a drop event carrying the file on the Verify page, until its row shows the verdict, and until
 *              "Proof checked in your browser" (hashing the file, the key, SHA-256 path, Ed25519 note)
 *   API alone  fetch('/v1/verify') with the same File from the same page, and its JSON read
 *
 * Interleaved rounds (each round runs both, alternating which goes first), after warm-up; p50 judged.
 * Knobs: BENCH_CONSOLE_ITERATIONS (60), BENCH_CONSOLE_WARMUP (3), BENCH_CONSOLE_JPEG_BYTES (1000000),
 * BENCH_CONSOLE_MP4_BYTES (5000000), BENCH_CONSOLE_LOADS (5), CHROMIUM_PATH (/usr/bin/chromium),
 * BENCH_CONSOLE_TIMEOUT_S (360).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { chromium, type Page } from 'playwright-core';
import { issueToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config/config.ts';
import { createLogger, type Runtime, startRuntime } from '../src/runtime.ts';
import { makeJpeg, makeMp4 } from '../test/fixtures/media.ts';
import { benchCheckpoint } from './c2pa.ts';
import { type BenchSection, createBenchDatabase, distribution, intFromEnv, Reporter } from './harness.ts';

const GOAL_RATIO = 1.2;

export const consoleSection: BenchSection = {
  name: 'console',
  title: 'Web console: first load of /console/verify, and drop-to-verdict (1 MB JPEG, 5 MB MP4) vs the API call alone, in Chromium',
  timeoutS: intFromEnv('BENCH_CONSOLE_TIMEOUT_S', 360),
  run: runConsole,
};

async function runConsole() {
  const iterations = intFromEnv('BENCH_CONSOLE_ITERATIONS', 60);
  const warmup = intFromEnv('BENCH_CONSOLE_WARMUP', 3);
  const jpegBytes = intFromEnv('BENCH_CONSOLE_JPEG_BYTES', 1_000_000);
  const mp4Bytes = intFromEnv('BENCH_CONSOLE_MP4_BYTES', 5_000_000);
  const loads = intFromEnv('BENCH_CONSOLE_LOADS', 5);
  const rep = new Reporter('console', consoleSection.title);
  Object.assign(rep.parameters, { iterations, warmup, loads, jpegTargetBytes: jpegBytes, mp4TargetBytes: mp4Bytes, order: 'interleaved rounds, alternating order' });

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
    const sign = async (bytes: Uint8Array, name: string, type: string) => {
      const form = new FormData();
      form.set('file', new File([bytes as Uint8Array<ArrayBuffer>], name, { type }));
      form.set('checkpointId', setup.checkpoint.id);
      const res = await rt.app.request('/v1/outputs', { method: 'POST', headers: { authorization: `Bearer ${await token('generator')}` }, body: form });
      if (res.status !== 200) throw new Error(`sign ${name}: ${res.status} ${await res.text()}`);
      return new Uint8Array(await res.arrayBuffer());
    };
    const files = [
      { id: 'jpeg', label: '1 MB JPEG', name: 'frame.jpg', type: 'image/jpeg', bytes: await sign(makeJpeg({ targetBytes: jpegBytes, seed: 7 }), 'frame.jpg', 'image/jpeg') },
      { id: 'mp4', label: '5 MB MP4', name: 'clip.mp4', type: 'video/mp4', bytes: await sign(makeMp4({ targetBytes: mp4Bytes, seed: 7 }), 'clip.mp4', 'video/mp4') },
    ];
    rep.details.files = Object.fromEntries(files.map((f) => [f.id, { bytes: f.bytes.byteLength, type: f.type }]));

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
    const [shell, script, style, oidc] = await Promise.all([
      bytes('/console/verify'),
      bytes('/console/assets/console.js'),
      bytes('/console/assets/console.css'),
      bytes('/console/assets/oidc.js'),
    ]);
    rep.figure({ id: 'load.bytes', label: 'first load: script + style (gzip)', value: script + style, unit: 'bytes' });
    rep.figure({ id: 'load.script', label: 'first load: script (gzip)', value: script, unit: 'bytes' });
    rep.figure({ id: 'load.style', label: 'first load: style (gzip)', value: style, unit: 'bytes' });
    rep.figure({ id: 'load.shell', label: 'first load: page shell (uncompressed)', value: shell, unit: 'bytes' });
    rep.figure({ id: 'load.oidc', label: 'OpenID Connect sign-in script, loaded only in that mode (gzip)', value: oidc, unit: 'bytes' });

    const distributor = await token('distributor');
    // The session as sign-in leaves it, and a watch for the moment the Verify page can take a file, in the
    // page's clock from the navigation's start (init scripts run over the DevTools protocol, outside the CSP).
    const session = `sessionStorage.setItem('clearframe.console.token', ${JSON.stringify(distributor)});
      new MutationObserver((_, o) => { if (document.getElementById('files')) { window.__interactiveAt = performance.now(); o.disconnect(); } })
        .observe(document, { childList: true, subtree: true });`;
    const interactiveIn = async (p: Page) => {
      await p.goto(`${base}/console/verify`);
      await p.locator('#files').waitFor({ state: 'attached' });
      return (await p.evaluate('window.__interactiveAt')) as number;
    };
    const cold: number[] = [];
    for (let i = 0; i < loads; i++) {
      const fresh = await browser.newContext(); // an empty cache each time
      await fresh.addInitScript(session);
      cold.push(await interactiveIn(await fresh.newPage()));
      await fresh.close();
    }
    const context = await browser.newContext();
    await context.addInitScript(session);
    const page = await context.newPage();
    await interactiveIn(page); // fills the cache
    const warm: number[] = [];
    for (let i = 0; i < loads; i++) warm.push(await interactiveIn(page));
    rep.details.interactive = { cold: distribution(cold), warm: distribution(warm) };
    rep.figure({ id: 'load.interactive.cold', label: `time to interactive, empty cache (p50 of ${loads})`, value: distribution(cold).p50, unit: 'ms' });
    rep.figure({ id: 'load.interactive', label: `time to interactive, warm cache (p50 of ${loads})`, value: distribution(warm).p50, unit: 'ms' });

    for (const file of files) {
      await page.evaluate(
        `window.__benchFile = new File([Uint8Array.from(atob(${JSON.stringify(Buffer.from(file.bytes).toString('base64'))}), (c) => c.charCodeAt(0))], ${JSON.stringify(file.name)}, { type: ${JSON.stringify(file.type)} })`,
      );
      await measureDrop(file);
      await page.evaluate(`document.querySelector('ol.results').replaceChildren()`);
    }
    await context.close();

    async function measureDrop(file: (typeof files)[number]) {
      const viaConsole = () =>
        page.evaluate(`new Promise((resolve, reject) => {
          // Each drop is timed on its own page of results, as a user's first drop is: rows left by earlier
          // rounds (each with its decoded thumbnail) would make every later layout dearer.
          document.querySelector('ol.results')?.replaceChildren();
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
          const res = await fetch('/v1/verify', { method: 'POST', body: window.__benchFile, headers: { authorization: 'Bearer ' + sessionStorage.getItem('clearframe.console.token'), 'content-type': window.__benchFile.type } });
          const answer = await res.json();
          if (answer.verdict !== 'verified') throw new Error(answer.verdict);
          return performance.now() - t0;
        })()`) as Promise<number>;

      const samples = { verdict: [] as number[], proof: [] as number[], api: [] as number[] };
      await rep.phase(`measure.${file.id}`, async () => {
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
          // Rows (and their thumbnails' object URLs) would pile up: a user clears them by leaving the page.
          if (i % 5 === 4) await page.evaluate(`document.querySelector('ol.results').replaceChildren()`);
        }
      });
      const api = distribution(samples.api);
      const verdict = distribution(samples.verdict);
      const proof = distribution(samples.proof);
      rep.details[`distributions.${file.id}`] = { api, verdict, proof };
      const baseline = { label: `POST /v1/verify from the page, alone (${file.label})`, value: api.p50, unit: 'ms' };
      // The JPEG's figures keep the ids they had before the MP4 came.
      const id = file.id === 'jpeg' ? 'drop' : `drop.${file.id}`;
      rep.figure({
        id: `${id}.verdict`,
        label: `drop → verdict shown (${file.label}, p50)`,
        value: verdict.p50,
        unit: 'ms',
        baseline,
        ratio: verdict.p50 / api.p50,
        goal: `≤ ${GOAL_RATIO} × the API call`,
        met: verdict.p50 / api.p50 <= GOAL_RATIO,
      });
      rep.figure({
        id: `${id}.proof`,
        label: `drop → proof checked in the browser (${file.label}, p50)`,
        value: proof.p50,
        unit: 'ms',
        baseline,
        ratio: proof.p50 / api.p50,
        goal: `≤ ${GOAL_RATIO} × the API call`,
        met: proof.p50 / api.p50 <= GOAL_RATIO,
      });
    }
  } finally {
    await browser.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await runtime?.close();
    await bdb.drop();
    rmSync(keysDir, { recursive: true, force: true });
  }
  return rep.finish();
}
