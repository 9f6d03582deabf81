/**
 * Evidence export at scale: `npm run bench -- audit-export` (issue 17).
 *
 * Builds a log of 1,000,000 entries on PostgreSQL (leaves and nodes written by COPY exactly as
 * Ledger.change would store them; the section checks with `audit verify` that the result is a valid log),
 * then runs, each as its own `clearframe` process over that same log:
 *   1. `audit verify`               (the baseline: the whole tree recomputed from the database)
 *   2. `audit export --from 0 --out` (the whole log as one evidence bundle, streamed)
 *   3. `audit verify --bundle`      (that bundle checked offline, streamed)
 * and reports each one's wall time and peak RSS (getrusage maxrss, reported by the child at exit through
 * bench/rss-report.mjs), side by side. Goal: export and offline verify each under 300 MiB peak RSS.
 * PostgreSQL, not PGlite: the bulk load of 1,000,000 entries into PGlite takes far longer than the
 * section's own subject.
 *
 * Knobs: BENCH_EXPORT_ENTRIES (1000000), BENCH_SEED, BENCH_EXPORT_TIMEOUT_S (3600),
 * BENCH_EXPORT_VERIFY_ARGS (extra arguments for the baseline `audit verify`, space-separated);
 * BENCH_KEEP_DB=1 keeps the database, the data directory and the bundle for inspection.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { type AuditEvent, storedEventLeaf } from '../src/audit/event.ts';
import type { StoredNode } from '../src/audit/log-store.ts';
import { leafHash, MerkleTreeBuilder } from '../src/audit/merkle.ts';
import { BENCH_DIR, type BenchDatabase, type BenchSection, createBenchDatabase, FixtureGen, fmt, intFromEnv, now, Reporter, rng } from './harness.ts';

const BIN = path.resolve(BENCH_DIR, '..', 'bin', 'clearframe.js');
const RSS_GOAL_MIB = 300;

export const auditExportSection: BenchSection = {
  name: 'audit-export',
  title: 'evidence export and offline verification of 1,000,000 entries, beside audit verify',
  timeoutS: intFromEnv('BENCH_EXPORT_TIMEOUT_S', 3600),
  run: runAuditExport,
};

type ChildRun = { ms: number; maxRssMiB: number; userMs: number; systemMs: number; code: number; stdout: string; stderr: string };

async function runAuditExport() {
  const entries = intFromEnv('BENCH_EXPORT_ENTRIES', 1_000_000);
  const seed = intFromEnv('BENCH_SEED', 20_251_203);
  const rep = new Reporter('audit-export', auditExportSection.title);
  Object.assign(rep.parameters, { entries, seed, rssGoalMiB: RSS_GOAL_MIB });
  const bdb = await rep.phase('setup', () => createBenchDatabase({ maxConnections: 2 }));
  rep.env.postgres = bdb.serverVersion;
  const dir = mkdtempSync(path.join(tmpdir(), 'clearframe-bench-export-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dir,
    DATABASE_URL: bdb.url,
    LOG_LEVEL: 'silent',
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(path.join(BENCH_DIR, 'rss-report.mjs')).href}`.trim(),
  };
  const cli = (args: string[]) => runChild(args, env);
  try {
    await rep.phase('populate', () => populate(rep, bdb, entries, seed));
    const keys = await cli(['keys', 'init']);
    if (keys.code !== 0) throw new Error(`keys init failed: ${keys.stderr}`);

    const extra = (process.env.BENCH_EXPORT_VERIFY_ARGS ?? '').split(/\s+/).filter(Boolean);
    const verify = await rep.phase('audit verify', () => cli(['audit', 'verify', ...extra]));
    const verdict = parseJson(verify.stdout) as { ok?: boolean; entries?: number };
    rep.figure({
      id: 'correctness.log-valid',
      label: 'the bulk-built log passes audit verify',
      value: verify.code === 0 && verdict?.ok === true && verdict.entries === entries ? 1 : 0,
      unit: 'bool',
      goal: 'audit verify: ok, every entry',
      met: verify.code === 0 && verdict?.ok === true && verdict.entries === entries,
      note: verify.code === 0 ? undefined : lastLines(verify.stderr),
    });

    const file = path.join(dir, 'evidence.json');
    const exported = await rep.phase('audit export', () => cli(['audit', 'export', '--from', '0', '--out', file]));
    if (exported.code !== 0) throw new Error(`audit export failed: ${lastLines(exported.stderr)}`);
    const bytes = statSync(file).size;
    const bundleCheck = await rep.phase('audit verify --bundle', () => cli(['audit', 'verify', '--bundle', file]));
    const offline = parseJson(bundleCheck.stdout) as { ok?: boolean; entriesChecked?: number };
    if (process.env.BENCH_KEEP_DB !== '1') rm(file);

    rep.details.runs = Object.fromEntries(
      Object.entries({ 'audit verify': verify, 'audit export': exported, 'audit verify --bundle': bundleCheck }).map(([k, r]) => [
        k,
        {
          seconds: round(r.ms / 1000),
          maxRssMiB: r.maxRssMiB,
          userCpuS: round(r.userMs / 1000),
          systemCpuS: round(r.systemMs / 1000),
          entriesPerSecond: Math.round(entries / (r.ms / 1000)),
        },
      ]),
    );
    rep.details.bundle = { bytes, mib: round(bytes / 1024 / 1024), bytesPerEntry: Math.round(bytes / entries), exportEndLine: lastLines(exported.stderr, 1) };
    rep.figure({
      id: 'correctness.bundle-valid',
      label: 'the exported bundle verifies offline, every entry',
      value: bundleCheck.code === 0 && offline?.ok === true && offline.entriesChecked === entries ? 1 : 0,
      unit: 'bool',
      goal: 'ok, every entry',
      met: bundleCheck.code === 0 && offline?.ok === true && offline.entriesChecked === entries,
      note: bundleCheck.code === 0 ? undefined : lastLines(bundleCheck.stderr),
    });
    const baseline = { label: 'audit verify, same log', value: verify.maxRssMiB, unit: 'MiB' };
    for (const [id, label, r] of [
      ['export', 'audit export', exported],
      ['offline-verify', 'audit verify --bundle', bundleCheck],
    ] as const) {
      rep.figure({
        id: `${id}.peak-rss`,
        label: `${label}: peak RSS, ${fmt(entries)} entries`,
        value: r.maxRssMiB,
        unit: 'MiB',
        baseline,
        ratio: r.maxRssMiB / verify.maxRssMiB,
        ratioMeaning: '× audit verify',
        goal: `< ${RSS_GOAL_MIB} MiB`,
        met: r.maxRssMiB < RSS_GOAL_MIB,
      });
      rep.figure({
        id: `${id}.seconds`,
        label: `${label}: wall time`,
        value: r.ms / 1000,
        unit: 's',
        baseline: { label: 'audit verify, same log', value: verify.ms / 1000, unit: 's' },
        ratio: r.ms / verify.ms,
        ratioMeaning: '× audit verify',
      });
    }
  } finally {
    if (process.env.BENCH_KEEP_DB === '1') rep.log(`BENCH_KEEP_DB=1: keeping ${dir}`);
    else rm(dir);
    await bdb.drop();
  }
  return rep.finish();
}

/** One `clearframe` process: its wall time and, from its own report at exit, its peak RSS. */
function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<ChildRun> {
  const started = now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const ms = now() - started;
      const marker = /\[bench-rss\] (\{.*\})/.exec(stderr);
      const usage = marker ? (JSON.parse(marker[1]!) as { maxRssKiB: number; userMs: number; systemMs: number }) : { maxRssKiB: Number.NaN, userMs: 0, systemMs: 0 };
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({
        ms,
        maxRssMiB: round(usage.maxRssKiB / 1024),
        userMs: usage.userMs,
        systemMs: usage.systemMs,
        code: typeof code === 'number' ? code : 1,
        stdout,
        stderr: stderr.replace(/\n?\[bench-rss\] .*\n?/, ''),
      });
    });
  });
}

// ---------------------------------------------------------------------------
// The log: asset registrations as the service records them, stored as Ledger.change stores entries

const TITLES = ['Stairwell, dusk', 'Upstairs kitchen', 'Night bus interior', 'Roof garden, rain', 'Lobby mural'];
const PRODUCTIONS = ['dear-upstairs-neighbors', 'night-shift-pilot', 'the-long-stair'];
const copyBytea = (b: Uint8Array) => `\\\\x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;

async function populate(rep: Reporter, bdb: BenchDatabase, target: number, seed: number): Promise<void> {
  const gen = new FixtureGen(rng(seed));
  let created: StoredNode[] = [];
  const builder = new MerkleTreeBuilder({ onNode: (id, hash) => created.push({ ...id, hash }) });
  // Loaded past the append path (migrations/0013 refuses any other INSERT), which is back afterwards.
  await bdb.raw.unsafe('alter table audit_events disable trigger audit_events_append_path');
  const eventsCopy = await bdb.raw`copy audit_events (idx, leaf) from stdin`.writable();
  const nodesCopy = await bdb.raw`copy audit_nodes (level, idx, hash) from stdin`.writable();
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  const started = now();
  let leafBytes = 0;
  const CHUNK = 10_000;
  for (let size = 0; size < target; ) {
    const n = Math.min(CHUNK, target - size);
    const lines: string[] = [];
    created = [];
    for (let index = size; index < size + n; index++) {
      const id = gen.id('ast');
      const event: AuditEvent = {
        index,
        time: new Date(t0 + index * 7).toISOString(),
        actor: { sub: 'lee@studio.example', role: 'legal' },
        action: 'asset.registered',
        subjectId: id,
        content: {
          id,
          sha256: gen.sha256(),
          title: gen.pick(TITLES),
          mediaType: 'image/png',
          creator: 'R. Ortiz',
          production: gen.pick(PRODUCTIONS),
          sourceUri: `gs://clearframe-art/${gen.pick(PRODUCTIONS)}/${gen.id('f')}.png`,
          rightsHolder: 'Ortiz Studio',
          byteSize: 50_000 + (index % 40_000_000),
        },
      };
      const leaf = storedEventLeaf(event);
      leafBytes += leaf.length;
      builder.push(leafHash(leaf));
      lines.push(`${index}\t${copyBytea(leaf)}\n`);
    }
    const nodeLines = created.map((node) => `${node.level}\t${node.index}\t${copyBytea(node.hash)}\n`).join('');
    await Promise.all([write(eventsCopy, lines.join('')), write(nodesCopy, nodeLines)]);
    size += n;
    if (size % 200_000 < CHUNK) rep.log(`  populated ${fmt(size)} / ${fmt(target)} entries`);
    await yieldToLoop();
  }
  eventsCopy.end();
  nodesCopy.end();
  await Promise.all([finished(eventsCopy), finished(nodesCopy)]);
  await bdb.raw.unsafe('alter table audit_events enable trigger audit_events_append_path');
  await bdb.raw.unsafe('vacuum (analyze) audit_events');
  await bdb.raw.unsafe('vacuum (analyze) audit_nodes');
  rep.details.populate = { entries: target, seconds: round((now() - started) / 1000), averageLeafBytes: Math.round(leafBytes / target) };
}

async function write(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
}

const round = (x: number) => Math.round(x * 10) / 10;
const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
const lastLines = (text: string, n = 3) => text.trim().split('\n').slice(-n).join(' | ');
const rm = (p: string) => rmSync(p, { recursive: true, force: true });
