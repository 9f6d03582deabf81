/**
 * Bulk import: `npm run bench -- imports` (issue 18).
 *
 * A folder of BENCH_IMPORT_FILES files of BENCH_IMPORT_FILE_BYTES each (random bytes, named .png), then,
 * side by side on the same machine and the same PostgreSQL:
 *   1. hashing: `sha256sum` over the same files (one process, as a user would run it), against the
 *      hashing phase of `clearframe import --dry-run` (its own "hashed N/N files in S s" line);
 *   2. registration: the same number of bare `POST /v1/assets` (JSON, by hash) sent to `clearframe serve`
 *      as fast as it takes them (BENCH_IMPORT_CLIENTS at once), against the whole
 *      `clearframe import --server` of the folder (hashing, plan, each asset and its license version);
 *   3. memory: the peak RSS of `clearframe import` (embedded in the command, against the database) at
 *      BENCH_IMPORT_RSS_SMALL and BENCH_IMPORT_RSS_LARGE files of BENCH_IMPORT_RSS_FILE_BYTES (small files:
 *      what grows with the count is the command's, not the page cache's).
 * Goals (issue 18): hashing ≥ 0.8 × sha256sum; the import ≥ 0.5 × the bare registrations' files/s; the
 * peak RSS at the large count within 10 % of the small one.
 *
 * Knobs: BENCH_IMPORT_FILES (10000), BENCH_IMPORT_FILE_BYTES (1000000), BENCH_IMPORT_CLIENTS (32),
 * BENCH_IMPORT_RSS_SMALL (10000), BENCH_IMPORT_RSS_LARGE (50000), BENCH_IMPORT_RSS_FILE_BYTES (4096),
 * BENCH_IMPORT_TIMEOUT_S (5400).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { COLUMNS } from '../src/imports/sheet.ts';
import { BENCH_DIR, type BenchSection, createBenchDatabase, fmt, intFromEnv, now, Reporter, sleep } from './harness.ts';

const BIN = path.resolve(BENCH_DIR, '..', 'bin', 'clearframe.js');
const TERMS = 'Ortiz Studio,Upstairs Films,acme-vfx,allowed,allowed,notAllowed,US;CA,theatrical;streaming,2026-01-01,2030-12-31,false,,,';

export const importsSection: BenchSection = {
  name: 'imports',
  title: 'bulk import of a folder with its terms sheet, beside sha256sum and bare registrations',
  timeoutS: intFromEnv('BENCH_IMPORT_TIMEOUT_S', 5400),
  run: runImports,
};

type ChildRun = { ms: number; maxRssMiB: number; code: number; stdout: string; stderr: string };

async function runImports() {
  const files = intFromEnv('BENCH_IMPORT_FILES', 10_000);
  const fileBytes = intFromEnv('BENCH_IMPORT_FILE_BYTES', 1_000_000);
  const clients = intFromEnv('BENCH_IMPORT_CLIENTS', 32);
  const rssSmall = intFromEnv('BENCH_IMPORT_RSS_SMALL', 10_000);
  const rssLarge = intFromEnv('BENCH_IMPORT_RSS_LARGE', 50_000);
  const rssFileBytes = intFromEnv('BENCH_IMPORT_RSS_FILE_BYTES', 4096);
  const rep = new Reporter('imports', importsSection.title);
  Object.assign(rep.parameters, { files, fileBytes, clients, rssSmall, rssLarge, rssFileBytes });
  const bdb = await rep.phase('setup', () => createBenchDatabase({ maxConnections: 2 }));
  rep.env.postgres = bdb.serverVersion;
  const dir = mkdtempSync(path.join(tmpdir(), 'clearframe-bench-imports-'));
  const port = 18_000 + Math.floor(Math.random() * 2000);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: path.join(dir, 'data'),
    DATABASE_URL: bdb.url,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_REQUESTS: '0',
    PORT: String(port),
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(path.join(BENCH_DIR, 'rss-report.mjs')).href}`.trim(),
  };
  let service: ReturnType<typeof spawn> | undefined;
  try {
    const art = path.join(dir, 'art');
    await rep.phase('fixtures', async () => writeFolder(art, files, fileBytes));
    const sheet = path.join(dir, 'terms.csv');
    writeFileSync(sheet, `${COLUMNS.join(',')}\r\n**/*.png,,R. Ortiz,Ortiz Studio,${TERMS}\r\n`);

    // 1. Hashing, side by side (sha256sum first: both then read the files as the page cache holds them).
    const sum = await rep.phase('sha256sum', () => shell(`find ${art} -type f -print0 | xargs -0 sha256sum > /dev/null`));
    const dry = await rep.phase('import --dry-run', () => runChild(['import', art, '--terms', sheet, '--production', 'bench-dry', '--dry-run'], env));
    if (dry.code !== 0) throw new Error(`import --dry-run failed: ${dry.stderr}`);
    const hashed = /hashed (\d+)\/\d+ files in ([\d.]+) s/.exec(dry.stdout);
    if (!hashed) throw new Error(`no hashing line in: ${dry.stdout}`);
    const totalMB = (files * fileBytes) / 1e6;
    const sumMBs = totalMB / (sum.ms / 1000);
    const oursMBs = totalMB / Number(hashed[2]);
    rep.figure({
      id: 'hashing.throughput',
      label: `hashing ${fmt(files)} files of ${fmt(fileBytes)} bytes`,
      value: oursMBs,
      unit: 'MB/s',
      baseline: { label: 'sha256sum, same files', value: sumMBs, unit: 'MB/s' },
      ratio: oursMBs / sumMBs,
      ratioMeaning: '× sha256sum',
      goal: '≥ 0.8 × sha256sum',
      met: oursMBs / sumMBs >= 0.8,
    });

    // 2. Registration: bare POST /v1/assets, then the whole import, against the same running service.
    service = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    await rep.phase('serve', () => waitFor(`http://127.0.0.1:${port}/healthz`));
    const token = (await runChild(['token', 'issue', '--role', 'legal', '--sub', 'bench@studio.example', '--ttl', '2h'], env)).stdout.trim();
    const bare = await rep.phase('bare registrations', () => bareRegistrations(`http://127.0.0.1:${port}`, token, files, clients));
    const whole = await rep.phase('import --server', () =>
      runChild(['import', art, '--terms', sheet, '--production', 'bench-import', '--server', `http://127.0.0.1:${port}`, '--token', token], env),
    );
    if (whole.code !== 0) throw new Error(`import --server failed: ${whole.stderr}`);
    const bareRate = files / (bare.ms / 1000);
    const importRate = files / (whole.ms / 1000);
    rep.details.bare = { seconds: round(bare.ms / 1000), failed: bare.failed, perSecond: Math.round(bareRate) };
    rep.details.import = { seconds: round(whole.ms / 1000), maxRssMiB: whole.maxRssMiB, summary: lastLine(whole.stdout) };
    rep.figure({
      id: 'import.throughput',
      label: `the whole import (hash, plan, asset and license version each), ${fmt(files)} files`,
      value: importRate,
      unit: 'files/s',
      baseline: { label: `bare POST /v1/assets by hash, ${clients} at once`, value: bareRate, unit: 'registrations/s' },
      ratio: importRate / bareRate,
      ratioMeaning: '× bare registrations',
      goal: '≥ 0.5 × bare registrations',
      met: importRate / bareRate >= 0.5,
    });
    service.kill('SIGTERM');
    service = undefined;

    // 3. Memory: the embedded import at two counts of small files.
    const runs: Record<string, ChildRun> = {};
    for (const n of [rssSmall, rssLarge]) {
      const folder = path.join(dir, `rss-${n}`);
      await rep.phase(`fixtures ${n}`, async () => writeFolder(folder, n, rssFileBytes));
      runs[n] = await rep.phase(`import ${n}`, () => runChild(['import', folder, '--terms', sheet, '--production', `bench-rss-${n}`], env));
      if (runs[n]!.code !== 0) throw new Error(`import of ${n} files failed: ${runs[n]!.stderr}`);
      rmSync(folder, { recursive: true, force: true });
    }
    const small = runs[rssSmall]!;
    const large = runs[rssLarge]!;
    rep.details.memory = Object.fromEntries(
      Object.entries(runs).map(([n, r]) => [n, { seconds: round(r.ms / 1000), maxRssMiB: r.maxRssMiB, filesPerSecond: Math.round(Number(n) / (r.ms / 1000)) }]),
    );
    rep.figure({
      id: 'import.peak-rss',
      label: `clearframe import: peak RSS at ${fmt(rssLarge)} files`,
      value: large.maxRssMiB,
      unit: 'MiB',
      baseline: { label: `the same at ${fmt(rssSmall)} files`, value: small.maxRssMiB, unit: 'MiB' },
      ratio: large.maxRssMiB / small.maxRssMiB,
      ratioMeaning: `× at ${fmt(rssSmall)}`,
      goal: 'within 10 %',
      met: large.maxRssMiB / small.maxRssMiB <= 1.1,
    });
  } finally {
    service?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    await sleep(500);
    await bdb.drop();
  }
  return rep.finish();
}

/** n files of `bytes` random bytes, 500 to a folder, named .png (the import takes them by name). */
function writeFolder(root: string, n: number, bytes: number): void {
  const block = randomBytes(Math.max(bytes, 64));
  for (let i = 0; i < n; i++) {
    const sub = path.join(root, `set-${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(sub, { recursive: true });
    // Every file distinct: its first bytes are its number.
    const content = Buffer.from(block.subarray(0, bytes));
    content.writeUInt32BE(i, 0);
    content.writeUInt32BE(n, 4);
    writeFileSync(path.join(sub, `${String(i).padStart(6, '0')}.png`), content);
  }
}

async function bareRegistrations(base: string, token: string, n: number, clients: number): Promise<{ ms: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const started = now();
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const sha256 = Buffer.alloc(32);
      sha256.writeUInt32BE(i, 0);
      sha256.writeUInt32BE(0xbeef, 4);
      const res = await fetch(`${base}/v1/assets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          sha256: sha256.toString('hex'),
          title: `bare ${i}`,
          mediaType: 'image/png',
          creator: 'R. Ortiz',
          production: 'bench-bare',
          rightsHolder: 'Ortiz Studio',
        }),
      });
      if (res.status !== 201) failed++;
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: clients }, lane));
  return { ms: now() - started, failed };
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`${url} did not answer`);
}

function shell(command: string): Promise<{ ms: number }> {
  const started = now();
  return new Promise((resolve, reject) => execFile('bash', ['-c', command], { maxBuffer: 64 * 1024 * 1024 }, (err) => (err ? reject(err) : resolve({ ms: now() - started }))));
}

/** One `clearframe` process: its wall time and, from its own report at exit, its peak RSS. */
function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<ChildRun> {
  const started = now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const ms = now() - started;
      const marker = /\[bench-rss\] (\{.*\})/.exec(stderr);
      const usage = marker ? (JSON.parse(marker[1]!) as { maxRssKiB: number }) : { maxRssKiB: Number.NaN };
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ ms, maxRssMiB: round(usage.maxRssKiB / 1024), code: typeof code === 'number' ? code : 1, stdout, stderr: stderr.replace(/\n?\[bench-rss\] .*\n?/, '') });
    });
  });
}

const round = (x: number) => Math.round(x * 100) / 100;
const lastLine = (s: string) => s.trim().split('\n').at(-1) ?? '';
