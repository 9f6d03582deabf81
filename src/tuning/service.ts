import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { entryColumns, recordedAs } from '../audit/event.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { Principal } from '../auth/tokens.ts';
import { checkpointView, insertCheckpoint } from '../checkpoints/service.ts';
import { checkpoints } from '../checkpoints/tables.ts';
import type { Config } from '../config/config.ts';
import type { Database, Queryable } from '../db/database.ts';
import { newId } from '../db/ids.ts';
import { clearanceRefusals, refused } from '../gate/clearance-use.ts';
import { clearances } from '../gate/tables.ts';
import { Problem, problems } from '../http/problem.ts';
import type { Keyring } from '../signing/keyring.ts';
import { tuningJobStates, tuningJobs } from './tables.ts';
import type { TuningBackend } from './vertex.ts';
import { type TuningHyperParameters, type TuningJobState, type TuningJobStateName, VertexError } from './vertex.ts';

type JobRow = typeof tuningJobs.$inferSelect;

export type TuningJobInput = {
  clearanceId?: string;
  clearanceToken?: string;
  baseModel: string;
  trainingDataUri: string;
  validationDataUri?: string;
  hyperparameters?: TuningHyperParameters;
  displayName?: string;
};

/** What tuning needs from the running service: Vertex AI, when configured. */
export type TuningDeps = {
  config: Config;
  keyring: Keyring;
  database: Database;
  ledger: Ledger;
  tuning: { backend: TuningBackend; project: string; location: string } | null;
};

export async function submitTuningJob(app: TuningDeps, principal: Principal, input: TuningJobInput) {
  const vertex = app.tuning;
  const { clearance, reasons } = await clearanceRefusals(app, principal, input);
  if (reasons.length > 0 || !clearance) throw refused(reasons);
  if (!vertex) {
    throw new Problem(503, 'not-ready', 'Vertex AI tuning is not configured: set VERTEX_PROJECT and VERTEX_LOCATION (and Application Default Credentials)');
  }
  const id = newId('tun');
  let job: TuningJobState;
  try {
    job = await vertex.backend.createTuningJob({
      project: vertex.project,
      location: vertex.location,
      baseModel: input.baseModel,
      trainingDatasetUri: input.trainingDataUri,
      ...(input.validationDataUri ? { validationDatasetUri: input.validationDataUri } : {}),
      ...(input.hyperparameters ? { hyperParameters: input.hyperparameters } : {}),
      ...(input.displayName ? { displayName: input.displayName } : {}),
      labels: { clearframe_job: id.toLowerCase().replace(/[^a-z0-9_-]/g, '-'), clearframe_clearance: clearance.id.toLowerCase().replace(/[^a-z0-9_-]/g, '-') },
    });
  } catch (e) {
    if (e instanceof VertexError) throw new Problem(502, 'upstream', `Vertex AI refused the tuning job: ${e.message}`, { vertexStatus: e.status });
    if (e instanceof RangeError) throw problems.validation(e.message);
    throw e;
  }
  await app.ledger.change(principal, async ({ tx, record }) => {
    const draft = {
      id,
      clearanceId: clearance.id,
      vendor: clearance.vendor,
      baseModel: input.baseModel,
      trainingDataUri: input.trainingDataUri,
      validationDataUri: input.validationDataUri ?? null,
      hyperparameters: input.hyperparameters ?? null,
      displayName: input.displayName ?? null,
      vertexJobName: job.name,
    };
    const event = record({ action: 'tuning-job.submitted', subjectId: id, content: { ...draft, state: job.state, error: job.error ?? null, tunedModel: job.tunedModel ?? null } });
    await tx.insert(tuningJobs).values({ ...draft, ...entryColumns(event) });
    await tx
      .insert(tuningJobStates)
      .values({ jobId: id, seq: 1, state: job.state, error: job.error ?? null, tunedModel: job.tunedModel ?? null, ...recordedAs(event, 'observedAt') });
  });
  return jobView(app.database.db, await getJobRow(app.database.db, id, principal));
}

export async function getJobRow(q: Queryable, id: string, principal: Principal): Promise<JobRow> {
  const [row] = await q.select().from(tuningJobs).where(eq(tuningJobs.id, id));
  if (!row || (principal.role === 'vendor' && row.vendor !== principal.vendor)) throw problems.notFound(`no tuning job ${id}`);
  return row;
}

export async function jobView(q: Queryable, job: JobRow, refresh: { ok: boolean; error?: string } | null = null) {
  const states = await q.select().from(tuningJobStates).where(eq(tuningJobStates.jobId, job.id)).orderBy(desc(tuningJobStates.seq));
  const [checkpoint] = await q.select().from(checkpoints).where(eq(checkpoints.tuningJobId, job.id));
  const current = states[0]!;
  return {
    id: job.id,
    clearanceId: job.clearanceId,
    vendor: job.vendor,
    baseModel: job.baseModel,
    trainingDataUri: job.trainingDataUri,
    validationDataUri: job.validationDataUri,
    hyperparameters: job.hyperparameters,
    displayName: job.displayName,
    vertexJobName: job.vertexJobName,
    state: current.state,
    error: current.error,
    tunedModel: current.tunedModel,
    checkpoint: checkpoint ? await checkpointView(q, checkpoint) : null,
    stateHistory: [...states].reverse().map((s) => ({ state: s.state, observedAt: s.observedAt.toISOString(), auditIndex: s.auditIndex })),
    createdAt: job.createdAt.toISOString(),
    createdBy: job.createdBy,
    auditIndex: job.auditIndex,
    refresh,
  };
}

/** Reads the job's state from Vertex; records a change, and on success registers the checkpoint. */
export async function refreshTuningJob(app: TuningDeps, principal: Principal, id: string) {
  const job = await getJobRow(app.database.db, id, principal);
  if (!app.tuning) return jobView(app.database.db, job, { ok: false, error: 'Vertex AI tuning is not configured' });
  let remote: TuningJobState;
  try {
    remote = await app.tuning.backend.getTuningJob(job.vertexJobName);
  } catch (e) {
    if (e instanceof VertexError) return jobView(app.database.db, job, { ok: false, error: `Vertex AI: ${e.message}` });
    throw e;
  }
  await app.ledger.change({ sub: principal.sub, role: principal.role }, async (ctx) => {
    const [last] = await ctx.tx.select().from(tuningJobStates).where(eq(tuningJobStates.jobId, job.id)).orderBy(desc(tuningJobStates.seq)).limit(1);
    if (last!.state !== remote.state) {
      const event = ctx.record({
        action: 'tuning-job.state-changed',
        subjectId: job.id,
        content: { jobId: job.id, from: last!.state, to: remote.state, error: remote.error ?? null, tunedModel: remote.tunedModel ?? null },
      });
      await ctx.tx
        .insert(tuningJobStates)
        .values({ jobId: job.id, seq: last!.seq + 1, state: remote.state, error: remote.error ?? null, tunedModel: remote.tunedModel ?? null, ...recordedAs(event, 'observedAt') });
    }
    if (remote.state === 'JOB_STATE_SUCCEEDED' && remote.tunedModel) {
      const [existing] = await ctx.tx.select({ id: checkpoints.id }).from(checkpoints).where(eq(checkpoints.tuningJobId, job.id));
      if (!existing) {
        const [clearance] = await ctx.tx.select().from(clearances).where(eq(clearances.id, job.clearanceId));
        await insertCheckpoint(ctx, clearance!, {
          source: 'vertex',
          baseModel: job.baseModel,
          tuningJobId: job.id,
          externalRef: remote.tunedModel.model,
          vertexModel: remote.tunedModel.model,
          vertexEndpoint: remote.tunedModel.endpoint,
        });
      }
    }
  });
  return jobView(app.database.db, job, { ok: true });
}

export type TuningJobListFilter = { state?: TuningJobStateName | undefined; clearanceId?: string | undefined; cursor?: string | undefined; limit: number };

/**
 * Tuning jobs oldest first (cursor: the last one's audit index), with their current state (the last one
 * Vertex reported) and the checkpoint a success registered; a vendor sees its own jobs only.
 */
export async function listTuningJobs(q: Queryable, principal: Principal, f: TuningJobListFilter) {
  const current = sql<string>`(select ${tuningJobStates.state} from ${tuningJobStates} where ${tuningJobStates.jobId} = ${tuningJobs.id} order by ${tuningJobStates.seq} desc limit 1)`;
  const rows = await q
    .select({ job: tuningJobs, state: current, checkpointId: checkpoints.id })
    .from(tuningJobs)
    .leftJoin(checkpoints, eq(checkpoints.tuningJobId, tuningJobs.id))
    .where(
      and(
        principal.role === 'vendor' ? eq(tuningJobs.vendor, principal.vendor ?? '') : undefined,
        f.clearanceId === undefined ? undefined : eq(tuningJobs.clearanceId, f.clearanceId),
        f.state === undefined ? undefined : sql`${current} = ${f.state}`,
        f.cursor === undefined ? undefined : gt(tuningJobs.auditIndex, Number(f.cursor)),
      ),
    )
    .orderBy(asc(tuningJobs.auditIndex))
    .limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  const items = page.map(({ job, state, checkpointId }) => ({
    id: job.id,
    clearanceId: job.clearanceId,
    vendor: job.vendor,
    baseModel: job.baseModel,
    trainingDataUri: job.trainingDataUri,
    validationDataUri: job.validationDataUri,
    displayName: job.displayName,
    vertexJobName: job.vertexJobName,
    state,
    checkpointId: checkpointId ?? null,
    createdAt: job.createdAt.toISOString(),
    createdBy: job.createdBy,
    auditIndex: job.auditIndex,
  }));
  return { items, nextCursor: rows.length > f.limit ? String(page[page.length - 1]!.job.auditIndex) : null };
}

export type TuningJobListItem = Awaited<ReturnType<typeof listTuningJobs>>['items'][number];
