import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { registerAsset } from '../assets/service.ts';
import { assets } from '../assets/tables.ts';
import type { Actor } from '../audit/event.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { Queryable } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { csvLine } from '../http/csv.ts';
import { Problem, problems } from '../http/problem.ts';
import { addLicenseVersion } from '../licenses/service.ts';
import { licenseRevocations, licenseVersions } from '../licenses/tables.ts';
import { type Action, type Decision, type Existing, emptyCounts, errorFileCsv, type FileFact, type ImportCounts, ImportPlanner } from './plan.ts';
import { type LicenseTerms, type ParsedSheet, parseSheet, type RowProblem, type RowTerms, SheetError, termsKey } from './sheet.ts';
import { type ImportState, importJobs } from './tables.ts';

export type ImportOptions = { production: string; dryRun: boolean; skipErrors: boolean; amend: boolean };
export type ImportInput = ImportOptions & { sheet: { name: string; bytes: Uint8Array }; files: FileFact[] };

export type ImportJobView = {
  id: string;
  production: string;
  state: ImportState;
  dryRun: boolean;
  skipErrors: boolean;
  amend: boolean;
  sheet: { name: string; sha256: string };
  counts: ImportCounts;
  /** Rows in the error file (GET /v1/imports/{id}/errors). */
  errorRows: number;
  message: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  finishedAt: string | null;
};

type JobRow = typeof importJobs.$inferSelect;

/** A running job not heard of for this long was interrupted (its process stopped, or lost its database). */
const STALE_MS = 30_000;
const TERMINAL: readonly ImportState[] = ['planned', 'rejected', 'done', 'failed', 'interrupted'];
export const isFinished = (s: ImportState) => TERMINAL.includes(s);

/** This process, as a job's runner is named: a job run here by a process that is gone is over. */
const RUNNER = `${hostname()}:${process.pid}`;

/**
 * A running job is still running while its runner writes to it (at least every second) and, when it runs
 * on this machine, while its process is there: an import killed with SIGKILL and run again at once must
 * not wait for its heartbeat to go stale.
 */
export function stillRunning(r: Pick<JobRow, 'state' | 'updatedAt' | 'runner'>, now = Date.now()): boolean {
  if (r.state !== 'running' || now - r.updatedAt.getTime() > STALE_MS) return false;
  const [host, pid] = (r.runner ?? '').split(/:(?=\d+$)/);
  if (host !== hostname() || !pid) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function jobView(r: JobRow, now = Date.now()): ImportJobView {
  const interrupted = r.state === 'running' && !stillRunning(r, now);
  return {
    id: r.id,
    production: r.production,
    state: interrupted ? 'interrupted' : r.state,
    dryRun: r.dryRun,
    skipErrors: r.skipErrors,
    amend: r.amend,
    sheet: { name: r.sheetName, sha256: r.sheetSha256 },
    counts: r.counts,
    errorRows: r.errorsCsv ? r.errorsCsv.split('\r\n').length - 2 : 0,
    message: interrupted ? 'the import stopped before it finished; run it again: what was written stays, and the rest is imported' : r.message,
    createdAt: r.createdAt.toISOString(),
    createdBy: r.createdBy,
    updatedAt: r.updatedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

/**
 * One import of a production at a time: two would plan against the same state, and both record the same
 * file's license (a version too many). A running job not heard of for STALE_MS is over (interrupted).
 */
async function refuseBeside(q: Queryable, production: string): Promise<void> {
  const running = await q
    .select({ id: importJobs.id, state: importJobs.state, updatedAt: importJobs.updatedAt, runner: importJobs.runner })
    .from(importJobs)
    .where(and(eq(importJobs.production, production), eq(importJobs.state, 'running')));
  const live = running.find((r) => stillRunning(r));
  if (live) {
    throw problems.conflict(`an import of production "${production}" is running (${live.id}); wait for it to finish, or follow /v1/imports/${live.id}/events`, {
      runningImportId: live.id,
    });
  }
}

export async function getImport(q: Queryable, id: string): Promise<JobRow> {
  const [row] = await q.select().from(importJobs).where(eq(importJobs.id, id));
  if (!row) throw problems.notFound(`no import ${id}`);
  return row;
}

/** One planned file: what to do, with which row's terms. */
export type PlanItem = { file: FileFact; action: Action; row: RowTerms; assetId?: string };

export type ImportPlan = { sheet: ParsedSheet; items: PlanItem[]; problems: RowProblem[]; counts: ImportCounts; errorsCsv: string | null };

/**
 * Every row checked and every file decided, before anything is written: the sheet's own problems, files
 * that two rows give different terms, content already registered in the production with other terms,
 * and rows that name no file.
 */
export async function planImport(q: Queryable, input: Omit<ImportInput, 'dryRun' | 'skipErrors'>): Promise<ImportPlan> {
  let sheet: ParsedSheet;
  try {
    sheet = parseSheet(input.sheet.name, input.sheet.bytes);
  } catch (e) {
    if (e instanceof SheetError) throw problems.validation(e.message, [{ field: 'sheet', message: e.message }]);
    throw e;
  }
  const counts = emptyCounts();
  counts.files = input.files.length;
  const planner = new ImportPlanner(sheet.rows, { amend: input.amend });
  const found = await existingContent(
    q,
    input.production,
    input.files.map((f) => f.sha256),
  );
  const problemsFound: RowProblem[] = [...sheet.problems];
  const items: PlanItem[] = [];
  const seen = new Map<string, string>();
  for (const file of input.files) {
    const twin = seen.get(file.sha256);
    let d: Decision;
    if (twin !== undefined) {
      // The same bytes twice in the folder: one asset per content and production, so the second is left.
      const first = planner.rowFor(file);
      d = first.kind === 'planned' ? { kind: 'planned', action: 'unchanged', row: first.row } : first;
    } else d = planner.decide(file, found.get(file.sha256));
    seen.set(file.sha256, file.path);
    if (d.kind === 'unmatched') counts.skipped++;
    else if (d.kind === 'error') {
      counts.errors++;
      for (const line of d.lines) problemsFound.push({ line, column: d.column, message: d.message });
    } else if (twin !== undefined) counts.unchanged++;
    else {
      items.push({ file, action: d.action, row: d.row, ...(d.assetId ? { assetId: d.assetId } : {}) });
      if (d.action === 'unchanged') counts.unchanged++;
    }
  }
  problemsFound.push(...(sheet.rows.length > 0 || sheet.problems.length === 0 ? planner.unmatchedRows() : []));
  const failingLines = new Set(problemsFound.map((p) => p.line));
  // A row with a problem imports nothing, not even its files that checked out.
  const kept = items.filter((i) => !failingLines.has(i.row.line));
  counts.skipped += items.length - kept.length;
  counts.errors = failingLines.size;
  const writing = kept.filter((i) => i.action !== 'unchanged');
  counts.planned = writing.length;
  counts.newAssets = writing.filter((i) => i.action === 'create').length;
  counts.newVersions = writing.filter((i) => i.row.license).length;
  const errorsCsv = problemsFound.length > 0 ? errorFileCsv(sheet.header, sheet.cells, problemsFound, csvLine) : null;
  return { sheet, items: kept, problems: problemsFound, counts, errorsCsv };
}

/** What the ledger holds for these contents in the production: the asset and its latest version. */
async function existingContent(q: Queryable, production: string, hashes: string[]): Promise<Map<string, Existing>> {
  const out = new Map<string, Existing>();
  const unique = [...new Set(hashes)];
  for (let i = 0; i < unique.length; i += 1000) {
    const chunk = unique.slice(i, i + 1000);
    const rows = await q
      .select({ id: assets.id, sha256: assets.sha256 })
      .from(assets)
      .where(and(eq(assets.production, production), inArray(assets.sha256, chunk)));
    if (rows.length === 0) continue;
    const ids = rows.map((r) => r.id);
    // The asset's first license, the one an import amends (an asset with several standing licenses is
    // refused by addLicenseVersion, which asks for the license to be named).
    const versions = await q.select().from(licenseVersions).where(inArray(licenseVersions.assetId, ids)).orderBy(asc(licenseVersions.auditIndex));
    const latest = new Map<string, (typeof versions)[number]>();
    for (const v of versions) {
      const seen = latest.get(v.assetId);
      if (!seen || (seen.licenseId === v.licenseId && v.version > seen.version)) latest.set(v.assetId, v);
    }
    const latestIds = [...latest.values()].map((v) => v.id);
    const revoked = new Set(
      latestIds.length > 0
        ? (await q.select({ id: licenseRevocations.licenseId }).from(licenseRevocations).where(inArray(licenseRevocations.licenseId, latestIds))).map((r) => r.id)
        : [],
    );
    for (const r of rows) {
      const v = latest.get(r.id);
      out.set(r.sha256, { assetId: r.id, licenseKey: v ? termsKey({ license: versionTerms(v) }) : 'none', revoked: v ? revoked.has(v.id) : false });
    }
  }
  return out;
}

function versionTerms(v: typeof licenseVersions.$inferSelect): LicenseTerms {
  return {
    licensor: v.licensor,
    licensee: v.licensee,
    vendors: v.vendors,
    grants: { training: v.grantTraining, derivatives: v.grantDerivatives, commercial: v.grantCommercial },
    territories: v.territories,
    media: v.media,
    term: { start: v.termStart.toISOString(), end: v.termEnd.toISOString() },
    exclusivity: v.exclusivity,
    ...(v.attribution ? { attribution: v.attribution } : {}),
    ...(v.contractRefId && v.contractRefSha256 ? { contractRef: { id: v.contractRefId, sha256: v.contractRefSha256 } } : {}),
  };
}

export type ImportRunDeps = { ledger: Ledger };

export type StartedImport = {
  job: ImportJobView;
  plan: ImportPlan /** Settles when the import has finished (at once for a dry run or a rejected one). */;
  finished: Promise<ImportJobView>;
};

/**
 * An import job: planned now (nothing written when any row fails, unless skipErrors), then, unless a dry
 * run, run in this process: each file registered with registerAsset and its terms recorded with
 * addLicenseVersion, so each asset and version is its own audit entry as if sent one by one. Run again after
 * an interruption, the plan finds what was written and imports the rest.
 */
export async function startImport(
  deps: ImportRunDeps,
  actor: Actor,
  input: ImportInput,
  opts: { onProgress?: (counts: ImportCounts) => void; concurrency?: number } = {},
): Promise<StartedImport> {
  if (!input.dryRun) await refuseBeside(deps.ledger.db, input.production);
  const plan = await planImport(deps.ledger.db, input);
  const now = new Date();
  const blocked = plan.problems.length > 0 && !input.skipErrors;
  const state: ImportState = input.dryRun ? 'planned' : blocked ? 'rejected' : plan.counts.planned === 0 ? 'done' : 'running';
  const values = {
    id: newId('imp'),
    production: input.production,
    state,
    dryRun: input.dryRun,
    skipErrors: input.skipErrors,
    amend: input.amend,
    sheetName: input.sheet.name,
    sheetSha256: createHash('sha256').update(input.sheet.bytes).digest('hex'),
    counts: plan.counts,
    errorsCsv: plan.errorsCsv,
    message: blocked && !input.dryRun ? 'rows failed: nothing was written (fix them, or import with skipErrors to import the rows that pass)' : null,
    createdAt: now,
    createdBy: actor.sub,
    runner: RUNNER,
    updatedAt: now,
    finishedAt: state === 'running' ? null : now,
  };
  // The check above lets a reader through early; this one decides. Two imports of a production sent at the same
  // instant both pass it, so the one that starts running is chosen under a lock on the production's name.
  const [row] =
    state === 'running'
      ? await deps.ledger.db.transaction(async (tx) => {
          await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`clearframe-import:${input.production}`}, 0))`);
          await refuseBeside(tx, input.production);
          return tx.insert(importJobs).values(values).returning();
        })
      : await deps.ledger.db.insert(importJobs).values(values).returning();
  const job = jobView(row!);
  if (state !== 'running') return { job, plan, finished: Promise.resolve(job) };
  return { job, plan, finished: runPlan(deps, actor, row!.id, input.production, plan, opts) };
}

async function runPlan(
  deps: ImportRunDeps,
  actor: Actor,
  id: string,
  production: string,
  plan: ImportPlan,
  opts: { onProgress?: (counts: ImportCounts) => void; concurrency?: number },
): Promise<ImportJobView> {
  const counts = plan.counts;
  const db = deps.ledger.db;
  const flush = async (state: ImportState = 'running', message: string | null = null) => {
    const at = new Date();
    await db
      .update(importJobs)
      .set({ counts: { ...counts }, state, updatedAt: at, ...(state === 'running' ? {} : { finishedAt: at, message }) })
      .where(eq(importJobs.id, id));
  };
  const beat = setInterval(() => {
    void flush().catch(() => {});
  }, 500);
  beat.unref();
  const work = plan.items.filter((i) => i.action !== 'unchanged');
  let next = 0;
  const failures: string[] = [];
  const one = async (item: PlanItem) => {
    try {
      let assetId = item.assetId;
      if (item.action === 'create') {
        const asset = await registerAsset(
          deps.ledger,
          actor,
          {
            sha256: item.file.sha256,
            title: item.row.title ?? baseName(item.file.path),
            mediaType: item.file.mediaType,
            creator: item.row.creator,
            production,
            byteSize: item.file.byteSize,
            ...(item.row.rightsHolder ? { rightsHolder: item.row.rightsHolder } : {}),
            ...(item.file.embedded ? { embeddedTrainingMining: item.file.embedded.trainingMining, embeddedManifest: item.file.embedded.manifest } : {}),
          },
          noOutputs,
        );
        assetId = asset.id;
      }
      if (item.row.license) await addLicenseVersion(deps.ledger, actor, assetId!, item.row.license);
      if (item.action === 'amend') counts.amended++;
      else counts.created++;
    } catch (e) {
      counts.errors++;
      failures.push(`${item.file.path}: ${e instanceof Problem ? e.message : (e as Error).message}`);
    }
    counts.done++;
    opts.onProgress?.(counts);
  };
  const lane = async () => {
    while (next < work.length) await one(work[next++]!);
  };
  try {
    // Many changes in flight: the ledger takes them in batches (64 at most), one transaction and one append
    // each, and keeps its second lane's batch waiting on the lock with as many again.
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 128, Math.max(1, work.length)) }, lane));
    clearInterval(beat);
    const message = failures.length > 0 ? `${failures.length} file(s) failed: ${failures.slice(0, 3).join('; ')}` : null;
    await flush(failures.length > 0 ? 'failed' : 'done', message);
  } catch (e) {
    clearInterval(beat);
    await flush('failed', (e as Error).message).catch(() => {});
    throw e;
  }
  opts.onProgress?.({ ...counts });
  return jobView(await getImport(db, id));
}

const noOutputs = async () => undefined;
const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
