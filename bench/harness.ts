/**
 * Shared helpers for `npm run bench` sections: timing, memory sampling, reporting, and a fresh
 * PostgreSQL database per run.
 *
 * Method (see docs/benchmarks.md): every speed goal is a RATIO against a baseline measured side by
 * side in the same process, on the same database, in the same run. Absolute figures are printed too,
 * but they depend on the machine; the ratios are what a section's goals are judged on.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { type Database, openDatabase } from '../src/db/database.ts';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

// ---------------------------------------------------------------------------
// Time

export const now = (): number => performance.now();

/** Runs `fn` and returns its value with the elapsed wall time in milliseconds. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const start = now();
  const value = await fn();
  return { value, ms: now() - start };
}

export type Distribution = { count: number; mean: number; p50: number; p95: number; p99: number; min: number; max: number };

/** Nearest-rank percentiles of a list of samples (e.g. per-call milliseconds). */
export function distribution(samples: readonly number[]): Distribution {
  if (samples.length === 0) throw new Error('distribution of no samples');
  const s = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  return {
    count: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: rank(50),
    p95: rank(95),
    p99: rank(99),
    min: s[0]!,
    max: s[s.length - 1]!,
  };
}

/** Deterministic PRNG (mulberry32), so a run's random indices and payloads can be reproduced from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------
// Memory

/**
 * Peaks of process.memoryUsage() over a span, and the values when it started (so a phase's own growth
 * shows even when earlier phases left memory behind). arrayBuffers is Buffer/Uint8Array memory outside the JS heap.
 */
export type MemoryPeak = {
  peakRssMiB: number;
  peakHeapUsedMiB: number;
  peakArrayBuffersMiB: number;
  startRssMiB: number;
  startHeapUsedMiB: number;
  samples: number;
};

type Tracker = { rss: number; heap: number; buffers: number; start: NodeJS.MemoryUsage | undefined; samples: number };

/**
 * Samples process.memoryUsage() every `intervalMs` (and at every track()/stop()) and keeps the peaks of
 * every span that is being tracked. Spans may nest (a section and its phases). A long synchronous
 * stretch delays samples, so peaks are a lower bound; the bench code awaits between pages/chunks.
 */
export class MemorySampler {
  private readonly active = new Set<Tracker>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 20) {}

  private sample(): void {
    const m = process.memoryUsage();
    for (const t of this.active) {
      t.start ??= m;
      t.rss = Math.max(t.rss, m.rss);
      t.heap = Math.max(t.heap, m.heapUsed);
      t.buffers = Math.max(t.buffers, m.arrayBuffers);
      t.samples += 1;
    }
  }

  /** Starts a span; call the returned function to end it and get its peaks. */
  track(): () => MemoryPeak {
    const t: Tracker = { rss: 0, heap: 0, buffers: 0, start: undefined, samples: 0 };
    this.active.add(t);
    this.sample();
    if (!this.timer) {
      this.timer = setInterval(() => this.sample(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.sample();
      this.active.delete(t);
      if (this.active.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
      return {
        peakRssMiB: mib(t.rss),
        peakHeapUsedMiB: mib(t.heap),
        peakArrayBuffersMiB: mib(t.buffers),
        startRssMiB: mib(t.start?.rss ?? 0),
        startHeapUsedMiB: mib(t.start?.heapUsed ?? 0),
        samples: t.samples,
      };
    };
  }
}

const loadAverage = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

export const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

// ---------------------------------------------------------------------------
// Reporting

/** One measured figure, with its baseline and goal where it has them. */
export type Figure = {
  id: string;
  label: string;
  value: number;
  unit: string;
  /** The same-process baseline this figure is compared with. */
  baseline?: { label: string; value: number; unit: string };
  /** value / baseline.value (or baseline/value for "lower is better" figures, as `ratioMeaning` says). */
  ratio?: number;
  ratioMeaning?: string;
  /** Human-readable goal, e.g. "≥ 0.5 × raw INSERT". */
  goal?: string;
  met?: boolean;
  note?: string;
};

export type SectionReport = {
  section: string;
  title: string;
  startedAt: string;
  durationS: number;
  environment: Environment;
  parameters: Record<string, unknown>;
  figures: Figure[];
  /** Peaks of process.memoryUsage() per phase (and for the whole section under "section"). */
  memory: Record<string, MemoryPeak>;
  details: Record<string, unknown>;
};

export type Environment = {
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  totalMemGiB: number;
  /** 1/5/15-minute load averages when the section started and ended: other work on the machine skews figures. */
  loadAverage: { start: number[]; end?: number[] };
  postgres?: string;
};

export function environment(): Environment {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    loadAverage: { start: loadAverage() },
  };
}

/** Collects one section's figures, memory peaks and details, and writes them out at the end. */
export class Reporter {
  readonly figures: Figure[] = [];
  readonly memory: Record<string, MemoryPeak> = {};
  readonly details: Record<string, unknown> = {};
  readonly parameters: Record<string, unknown> = {};
  readonly env = environment();
  private readonly started = new Date();
  private readonly startMs = now();
  private readonly sampler = new MemorySampler();
  private readonly endSection: () => MemoryPeak;

  constructor(
    readonly section: string,
    readonly title: string,
  ) {
    this.endSection = this.sampler.track();
  }

  log(message: string): void {
    const t = ((now() - this.startMs) / 1000).toFixed(1).padStart(6);
    console.log(`[${this.section} ${t}s] ${message}`);
  }

  /** Runs one phase, logging its start and end and recording its memory peaks under `name`. */
  async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.log(`${name} ...`);
    const stop = this.sampler.track();
    const start = now();
    try {
      return await fn();
    } finally {
      const peak = stop();
      this.memory[name] = peak;
      this.log(
        `${name} done in ${((now() - start) / 1000).toFixed(1)} s (RSS ${peak.startRssMiB} → peak ${peak.peakRssMiB} MiB, heap used ${peak.startHeapUsedMiB} → peak ${peak.peakHeapUsedMiB} MiB)`,
      );
    }
  }

  figure(f: Figure): Figure {
    this.figures.push(f);
    const base = f.baseline ? `  | baseline ${f.baseline.label}: ${fmt(f.baseline.value)} ${f.baseline.unit}` : '';
    const ratio = f.ratio !== undefined ? `  | ratio ${f.ratio.toFixed(3)}${f.ratioMeaning ? ` (${f.ratioMeaning})` : ''}` : '';
    const goal = f.goal ? `  | goal ${f.goal}: ${f.met ? 'MET' : 'MISSED'}` : '';
    this.log(`RESULT ${f.label}: ${fmt(f.value)} ${f.unit}${base}${ratio}${goal}`);
    return f;
  }

  /** Writes and prints the report; throws, after writing it, if any correctness check failed. */
  finish(): SectionReport {
    this.memory.section = this.endSection();
    this.env.loadAverage.end = loadAverage();
    const report: SectionReport = {
      section: this.section,
      title: this.title,
      startedAt: this.started.toISOString(),
      durationS: Math.round((now() - this.startMs) / 100) / 10,
      environment: this.env,
      parameters: this.parameters,
      figures: this.figures,
      memory: this.memory,
      details: this.details,
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${this.section}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    printSummary(report);
    console.log(`[${this.section}] results written to ${path.relative(process.cwd(), file)}`);
    // Figures about speed may miss their goals; a failed correctness check makes the whole section fail.
    const failures = report.figures.filter((f) => f.id.startsWith('correctness.') && !f.met);
    if (failures.length > 0) throw new Error(`correctness check(s) failed: ${failures.map((f) => f.label).join(', ')}`);
    return report;
  }
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  if (abs >= 10) return x.toFixed(1);
  if (abs >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

function printSummary(r: SectionReport): void {
  const rows = r.figures.map((f) => [
    f.label,
    `${fmt(f.value)} ${f.unit}`,
    f.baseline ? `${fmt(f.baseline.value)} ${f.baseline.unit}` : '',
    f.ratio !== undefined ? f.ratio.toFixed(3) : '',
    f.goal ? `${f.goal} → ${f.met ? 'met' : 'MISSED'}` : '',
  ]);
  const head = ['figure', 'measured', 'baseline', 'ratio', 'goal'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  console.log(
    `\n== ${r.section}: ${r.title} (${r.durationS} s; ${r.environment.cpus} cores, Node ${r.environment.node}${r.environment.postgres ? `, ${r.environment.postgres}` : ''})`,
  );
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(line(row));
  console.log('memory (MiB): start → peak');
  for (const [name, m] of Object.entries(r.memory)) {
    console.log(
      `  ${name.padEnd(32)} RSS ${m.startRssMiB} → ${m.peakRssMiB}   heap used ${m.startHeapUsedMiB} → ${m.peakHeapUsedMiB}   array buffers peak ${m.peakArrayBuffersMiB}`,
    );
  }
  console.log('');
}

// ---------------------------------------------------------------------------
// Cleanup that must also happen when the run is cut short (watchdog, Ctrl-C)

const cleanups = new Set<() => Promise<unknown>>();

export function onCleanup(fn: () => Promise<unknown>): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Runs every registered cleanup once, each bounded by `timeoutMs`. */
export async function runCleanups(timeoutMs = 15_000): Promise<void> {
  const all = [...cleanups];
  cleanups.clear();
  for (const fn of all.reverse()) {
    await Promise.race([fn().catch((e) => console.error('[bench] cleanup failed:', e)), sleep(timeoutMs)]);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

// ---------------------------------------------------------------------------
// A fresh PostgreSQL database per section

export const serverUrl = (): string => process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export type BenchDatabase = {
  name: string;
  url: string;
  /** The application's own adapter (drizzle over postgres.js), migrated. */
  database: Database;
  /** A raw postgres.js client on the same database, for DDL and COPY. */
  raw: postgres.Sql;
  /** PostgreSQL's version string, e.g. "PostgreSQL 15.20". */
  serverVersion: string;
  drop(): Promise<void>;
};

/**
 * Creates `cf_bench_<random>` on the server, migrates it with the application's migrations, and
 * registers its drop as a cleanup (so it is dropped even if the run is interrupted).
 */
export async function createBenchDatabase(opts: { maxConnections?: number } = {}): Promise<BenchDatabase> {
  const server = serverUrl();
  const name = `cf_bench_${randomBytes(5).toString('hex')}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  let serverVersion: string;
  try {
    await admin.unsafe(`create database ${name}`);
    const [v] = await admin<{ v: string }[]>`select current_setting('server_version') as v`;
    serverVersion = `PostgreSQL ${v!.v}`;
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  let database: Database | undefined;
  let raw: postgres.Sql | undefined;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await Promise.allSettled([database?.close(), raw?.end({ timeout: 5 })]);
    if (process.env.BENCH_KEEP_DB === '1') {
      console.log(`[bench] BENCH_KEEP_DB=1: keeping database ${name} (drop it with: drop database ${name})`);
      return;
    }
    const again = postgres(server, { max: 1, onnotice: () => {} });
    try {
      await again.unsafe(`drop database if exists ${name} with (force)`);
    } finally {
      await again.end({ timeout: 5 });
    }
  };
  const unregister = onCleanup(drop);
  try {
    database = await openDatabase({ kind: 'postgres', url: url.toString(), maxConnections: opts.maxConnections ?? 10 });
    await database.migrate();
    raw = postgres(url.toString(), { max: 4, onnotice: () => {} });
  } catch (e) {
    unregister();
    await drop();
    throw e;
  }
  return {
    name,
    url: url.toString(),
    database,
    raw,
    serverVersion,
    async drop() {
      unregister();
      await drop();
    },
  };
}

// ---------------------------------------------------------------------------
// Sections

export type BenchSection = {
  name: string;
  title: string;
  /** Hard limit for the section; the runner stops the process (after cleanups) past it. */
  timeoutS: number;
  run(): Promise<SectionReport>;
};

/** Reads a positive integer knob from the environment (for quick local runs, e.g. BENCH_AUDIT_ENTRIES=100000). */
export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

// ---------------------------------------------------------------------------
// Fixture data

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const HEX = '0123456789abcdef';

/** Deterministic ids, hashes and picks from a seeded PRNG, shaped like the service's own. */
export class FixtureGen {
  constructor(readonly r: () => number) {}
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }
  /** Like src/db/ids.ts newId: prefix + 16 base64url characters. */
  id(prefix: string): string {
    let s = `${prefix}_`;
    for (let i = 0; i < 16; i++) s += B64URL[Math.floor(this.r() * 64)];
    return s;
  }
  sha256(): string {
    let s = '';
    for (let i = 0; i < 8; i++) {
      const x = Math.floor(this.r() * 2 ** 32);
      for (let j = 28; j >= 0; j -= 4) s += HEX[(x >>> j) & 15];
    }
    return s;
  }
}
