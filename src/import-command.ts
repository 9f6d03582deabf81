import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { Ledger } from './audit/ledger.ts';
import type { Config } from './config/config.ts';
import { fileFact, walkFolder } from './imports/file-facts.ts';
import type { FileFact } from './imports/plan.ts';
import { type ImportJobView, startImport } from './imports/service.ts';
import { parseSheet, SheetError, TEMPLATE } from './imports/sheet.ts';
import { createC2paWasmEngine } from './provenance/c2pa/c2pa-wasm.ts';
import type { ManifestEngine } from './provenance/c2pa/types.ts';
import { openConfiguredDatabase, StartupError } from './runtime.ts';
import { C2PA_FILES } from './signing/keyring.ts';

/** What the command line hands the import command: its way to stop with one line (exit 2 for usage). */
export type CommandIo = { fail(message: string, code?: number): never; usage(message: string): never };

/**
 * `clearframe import DIR --terms FILE`: the folder hashed here, then planned and imported against the
 * configured database (or a running service with --server), with a progress bar on a terminal and
 * plain lines otherwise, an error file beside the sheet, and a summary. Exit 0 when every file is
 * imported (or, for a dry run, would be), 1 when a row or file failed, 2 for bad usage.
 */
export async function importCommand(args: string[], config: Config, io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      terms: { type: 'string' },
      production: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'skip-errors': { type: 'boolean' },
      amend: { type: 'boolean' },
      server: { type: 'string' },
      token: { type: 'string' },
      template: { type: 'boolean' },
    },
  });
  if (values.template) {
    if (positionals.length > 0 || values.terms) io.fail('import --template takes nothing else', 2);
    process.stdout.write(TEMPLATE);
    return 0;
  }
  const [dir, ...extra] = positionals;
  if (!dir || extra.length > 0) io.fail('import needs one DIR, the folder of art', 2);
  if (!values.terms) io.fail('import needs --terms FILE, the terms sheet (CSV or XLSX; clearframe import --template prints one)', 2);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) io.fail(`import: ${dir} is not a folder`, 2);
  if (!existsSync(values.terms) || !statSync(values.terms).isFile()) io.fail(`import: --terms ${values.terms}: no such file`, 2);
  const token = values.token ?? process.env.CLEARFRAME_TOKEN;
  if (values.server && !token) io.fail('import --server needs --token (or CLEARFRAME_TOKEN) for a legal or admin token', 2);
  if (values.token && !values.server) io.fail('import --token goes with --server URL', 2);
  let server: URL | undefined;
  if (values.server) {
    try {
      server = new URL(values.server);
    } catch {
      io.fail(`import --server: not a URL: ${values.server}`, 2);
    }
  }
  const production = (values.production ?? path.basename(path.resolve(dir))).trim();
  if (!production || production.length > 300) io.fail('import --production: 1 to 300 characters', 2);
  const sheetBytes = new Uint8Array(readFileSync(values.terms));
  const sheetName = path.basename(values.terms);
  try {
    parseSheet(sheetName, sheetBytes); // unreadable: said now, before the folder is hashed
  } catch (e) {
    if (e instanceof SheetError) io.fail(`import: ${e.message}`, 1);
    throw e;
  }
  const options = { production, dryRun: Boolean(values['dry-run']), skipErrors: Boolean(values['skip-errors']), amend: Boolean(values.amend) };
  const progress = new Progress();
  const started = performance.now();

  // 1. The folder, hashed (a few files at a time: reading one while hashing another).
  const names: string[] = [];
  for await (const rel of walkFolder(dir)) names.push(rel);
  let engine: ManifestEngine | undefined;
  const anchors = () => {
    const pems = [...config.trustAnchorsPem];
    const localCa = path.join(config.keysDir, C2PA_FILES.caCert);
    if (existsSync(localCa)) pems.push(readFileSync(localCa, 'utf8'));
    return pems;
  };
  const lazyEngine = () => (engine ??= createC2paWasmEngine({ trustAnchorsPem: anchors() }));
  const files: FileFact[] = new Array(names.length);
  progress.phase('hashed', names.length);
  let next = 0;
  let bytes = 0;
  const hashLane = async () => {
    const buffer = Buffer.allocUnsafe(1 << 20);
    while (next < names.length) {
      const i = next++;
      files[i] = await fileFact(dir, names[i]!, lazyEngine, buffer);
      bytes += files[i]!.byteSize;
      progress.tick(1, bytes);
    }
  };
  await Promise.all(Array.from({ length: 4 }, hashLane));
  progress.end();

  // 2. Planned and imported: here, or by the service.
  const sheet = { name: sheetName, bytes: sheetBytes };
  let job: ImportJobView;
  let errorsCsv: string | null;
  if (server) ({ job, errorsCsv } = await importThroughService(server, token!, { ...options, sheet, files }, progress, io));
  else ({ job, errorsCsv } = await importHere(config, { ...options, sheet, files }, progress, io));

  // 3. The error file beside the sheet, and the summary.
  const errorFile = path.join(path.dirname(values.terms), `${path.basename(values.terms, path.extname(values.terms))}.errors.csv`);
  if (errorsCsv) writeFileSync(errorFile, errorsCsv);
  else rmSync(errorFile, { force: true }); // one from an earlier run would describe rows that now pass
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const c = job.counts;
  const out = process.stdout;
  if (job.state === 'rejected') {
    out.write(`nothing imported for ${production}: ${c.errors} row(s) failed among ${c.files} files (${c.newAssets} new assets, ${c.unchanged} unchanged would have been)\n`);
  } else if (options.dryRun) {
    out.write(
      `dry run of ${c.files} files for ${production} (nothing written): ${c.newAssets} new assets, ${c.newVersions} new license versions${c.planned - c.newAssets > 0 ? ` (${c.planned - c.newAssets} on assets already registered)` : ''}, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.errors} errors\n`,
    );
  } else {
    out.write(
      `imported ${c.files} files for ${production}: ${c.created} created, ${c.amended} amended, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.errors} errors in ${seconds} s (${job.id})\n`,
    );
  }
  if (errorsCsv) {
    const rows = errorsCsv.split('\r\n').length - 2;
    process.stderr.write(`clearframe: ${rows} row(s) failed: ${errorFile}${job.state === 'rejected' ? ' (nothing was written; fix them, or import with --skip-errors)' : ''}\n`);
  } else if (job.state === 'failed') process.stderr.write(`clearframe: ${job.message ?? 'the import failed'}\n`);
  return c.errors === 0 && job.state !== 'failed' && job.state !== 'rejected' ? 0 : 1;
}

type Input = Parameters<typeof startImport>[2];

/** Against the configured database, in this process: the same service the API runs. */
async function importHere(config: Config, input: Input, progress: Progress, io: CommandIo): Promise<{ job: ImportJobView; errorsCsv: string | null }> {
  let database: Awaited<ReturnType<typeof openConfiguredDatabase>>;
  try {
    database = await openConfiguredDatabase(config);
  } catch (e) {
    if (e instanceof StartupError && /in use by process/.test(e.message)) {
      io.fail(`${e.message}; or import through it: clearframe import ... --server URL --token T`, 1);
    }
    throw e;
  }
  try {
    await database.migrate();
    const ledger = new Ledger(database);
    const actor = { sub: `${os.userInfo().username}@${os.hostname()} (clearframe import)`, role: 'legal' };
    const started = await startImport({ ledger }, actor, input, { onProgress: (c) => progress.at(c.done) });
    if (started.job.state === 'running') progress.phase('registered', started.job.counts.planned);
    const job = await started.finished;
    progress.end();
    return { job, errorsCsv: started.plan.errorsCsv };
  } finally {
    await database.close();
  }
}

/** Through a running service's public API: the hashes sent, the job followed by its event stream. */
async function importThroughService(base: URL, token: string, input: Input, progress: Progress, io: CommandIo): Promise<{ job: ImportJobView; errorsCsv: string | null }> {
  const headers = { authorization: `Bearer ${token}` };
  const call = (p: string, init: RequestInit = {}) =>
    fetch(new URL(p, base), { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } }).catch((e: unknown) =>
      io.fail(`cannot reach ${base.origin}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`, 1),
    );
  const body = JSON.stringify({
    production: input.production,
    sheet: { name: input.sheet.name, content: Buffer.from(input.sheet.bytes).toString('base64') },
    files: input.files,
    dryRun: input.dryRun,
    skipErrors: input.skipErrors,
    amend: input.amend,
  });
  const res = await call('/v1/imports', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (res.status !== 202) {
    const problem = (await res.json().catch(() => ({}))) as { detail?: string; errors?: { field: string; message: string }[] };
    const fields = problem.errors?.length ? ` (${problem.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})` : '';
    io.fail(`the service answered ${res.status}: ${problem.detail ?? res.statusText}${fields}`, res.status === 401 || res.status === 403 ? 2 : 1);
  }
  let job = (await res.json()) as ImportJobView;
  if (job.state === 'running') {
    progress.phase('registered', job.counts.planned);
    job = await followEvents(call, job, (j) => progress.at(j.counts.done));
    progress.end();
  }
  const errorsCsv = job.errorRows > 0 ? await (await call(`/v1/imports/${job.id}/errors`)).text() : null;
  return { job, errorsCsv };
}

/** GET /v1/imports/{id}/events read until its `done` event; a dropped stream is opened again. */
async function followEvents(call: (p: string) => Promise<Response>, job: ImportJobView, onJob: (j: ImportJobView) => void): Promise<ImportJobView> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const res = await call(`/v1/imports/${job.id}/events`);
    if (!res.ok || !res.body) throw new Error(`the service answered ${res.status} for the import's events`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data) {
            job = JSON.parse(data) as ImportJobView;
            onJob(job);
            if (event === 'done') return job;
          }
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // the connection dropped: the job runs on in the service; read its events again
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`lost the import's event stream (${job.id}); GET /v1/imports/${job.id} says where it stands`);
}

/**
 * A progress bar on a terminal (files, rate, time left); plain lines at most once a second otherwise, so
 * a log or a CI run shows it moving without a line per file.
 */
class Progress {
  private readonly tty = Boolean(process.stdout.isTTY);
  private bar: SingleBar | undefined;
  private verb = '';
  private total = 0;
  private done = 0;
  private bytes = 0;
  private startedAt = 0;
  private lastLine = 0;

  phase(verb: string, total: number): void {
    this.end();
    this.verb = verb;
    this.total = total;
    this.done = 0;
    this.bytes = 0;
    this.startedAt = performance.now();
    this.lastLine = this.startedAt;
    this.tenth = 0;
    if (this.tty) {
      this.bar = new SingleBar({
        format: `${verb.padEnd(10)} [{bar}] {value}/{total} files | {rate} | {eta_formatted} left`,
        hideCursor: true,
        etaBuffer: 50,
        stream: process.stdout,
      });
      this.bar.start(total, 0, { rate: '' });
    } else process.stdout.write(`${verb === 'hashed' ? 'hashing' : 'registering'} ${total} files\n`);
  }

  tick(n: number, bytes?: number): void {
    this.at(this.done + n, bytes);
  }

  at(done: number, bytes?: number): void {
    if (!this.verb) return;
    this.done = done;
    if (bytes !== undefined) this.bytes = bytes;
    const now = performance.now();
    const seconds = (now - this.startedAt) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const mb = seconds > 0 && this.bytes > 0 ? `, ${(this.bytes / 1048576 / seconds).toFixed(0)} MB/s` : '';
    if (this.bar) this.bar.update(done, { rate: `${rate.toFixed(0)} files/s${mb}` });
    else if (now - this.lastLine >= 1000 || this.crossesTenth(done)) {
      this.lastLine = now;
      const left = rate > 0 ? Math.ceil((this.total - done) / rate) : 0;
      process.stdout.write(`${this.verb} ${done}/${this.total} files (${rate.toFixed(0)}/s${mb}, ${left} s left)\n`);
    }
  }

  /** A line at each tenth of the way as well, so that a short run still shows it moving. */
  private tenth = 0;
  private crossesTenth(done: number): boolean {
    const t = this.total > 0 ? Math.floor((10 * done) / this.total) : 0;
    if (t <= this.tenth || done >= this.total) return false;
    this.tenth = t;
    return true;
  }

  end(): void {
    if (!this.verb) return;
    if (this.bar) {
      this.bar.update(this.done);
      this.bar.stop();
      this.bar = undefined;
    } else {
      const seconds = (performance.now() - this.startedAt) / 1000;
      process.stdout.write(`${this.verb} ${this.done}/${this.total} files in ${seconds.toFixed(1)} s\n`);
    }
    this.verb = '';
  }
}
