import { createRoute, z } from '@hono/zod-openapi';
import type { TokenVerifier } from '../auth/tokens.ts';
import { type CsvColumn, csvResponse, wantsCsv } from '../http/csv.ts';
import { CursorQuery, errorResponses, guardedBy, IdParam, json, jsonOrCsv, LimitQuery } from '../http/openapi-common.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import type { TuningDeps } from './service.ts';
import { getJobRow, jobView, listTuningJobs, refreshTuningJob, submitTuningJob, type TuningJobListItem } from './service.ts';
import { JOB_STATES, type TuningJobStateName } from './vertex.ts';

const gcsUri = z.string().regex(/^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}\/.+$/, 'a Cloud Storage URI: gs://bucket/path');

export const TuningJobCreate = z
  .object({
    clearanceId: z.string().min(1).max(100).optional(),
    clearanceToken: z.string().min(1).max(20_000).optional(),
    baseModel: z
      .string()
      .trim()
      .regex(/^[a-z0-9][a-z0-9.@_-]{1,120}$/)
      .openapi({ example: 'veo-3.0-generate-001' }),
    trainingDataUri: gcsUri.openapi({ example: 'gs://acme-vfx-training/dun/style-pass-1.jsonl' }),
    validationDataUri: gcsUri.optional(),
    hyperparameters: z
      .object({
        epochCount: z.number().int().min(1).max(100).optional(),
        learningRateMultiplier: z.number().positive().max(100).optional(),
        adapterSize: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8), z.literal(16), z.literal(32)]).optional(),
      })
      .strict()
      .optional(),
    displayName: z.string().trim().min(1).max(128).optional(),
  })
  .strict()
  .refine((b) => b.clearanceId !== undefined || b.clearanceToken !== undefined, { message: 'give clearanceId or clearanceToken', path: ['clearanceId'] })
  .openapi('TuningJobCreate');

const TuningJob = z.record(z.string(), z.unknown()).openapi('TuningJob');

/** GET /v1/tuning-jobs: every filter it takes; any other query parameter is a 422 naming it. */
const TuningJobListQuery = z
  .object({
    state: z
      .enum(JOB_STATES as readonly TuningJobStateName[] as [TuningJobStateName, ...TuningJobStateName[]])
      .optional()
      .openapi({ description: 'the current state, as Vertex AI last reported it (e.g. JOB_STATE_RUNNING)' }),
    clearanceId: z.string().min(1).max(100).optional(),
    cursor: CursorQuery,
    limit: LimitQuery,
  })
  .strict();

const TuningJobListItemSchema = z
  .object({
    id: z.string(),
    clearanceId: z.string(),
    vendor: z.string(),
    baseModel: z.string(),
    trainingDataUri: z.string(),
    validationDataUri: z.string().nullable(),
    displayName: z.string().nullable(),
    vertexJobName: z.string(),
    state: z.string(),
    checkpointId: z.string().nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
    auditIndex: z.number().int(),
  })
  .openapi('TuningJobListItem');

/** The CSV of GET /v1/tuning-jobs: a stable column order (new columns go at the end). */
const TUNING_CSV: CsvColumn<TuningJobListItem>[] = [
  { header: 'id', cell: (j) => j.id },
  { header: 'clearanceId', cell: (j) => j.clearanceId },
  { header: 'vendor', cell: (j) => j.vendor },
  { header: 'baseModel', cell: (j) => j.baseModel },
  { header: 'displayName', cell: (j) => j.displayName },
  { header: 'state', cell: (j) => j.state },
  { header: 'checkpointId', cell: (j) => j.checkpointId },
  { header: 'trainingDataUri', cell: (j) => j.trainingDataUri },
  { header: 'validationDataUri', cell: (j) => j.validationDataUri },
  { header: 'vertexJobName', cell: (j) => j.vertexJobName },
  { header: 'createdAt', cell: (j) => j.createdAt },
  { header: 'createdBy', cell: (j) => j.createdBy },
  { header: 'auditIndex', cell: (j) => j.auditIndex },
];

/** What the tuning routes need: tuning's own, and the token verifier. */
export type TuningRouteDeps = TuningDeps & { verifyToken: TokenVerifier };

export function tuningRoutes(app: TuningRouteDeps) {
  const trainers = requireRole(app.verifyToken, 'vendor', 'admin');
  const readers = requireRole(app.verifyToken, 'vendor', 'admin', 'legal');
  const r = router();

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/tuning-jobs',
      operationId: 'createTuningJob',
      tags: ['Tuning'],
      summary: 'Start a Vertex AI tuning job under a standing clearance (refused with reasons, and nothing sent, otherwise)',
      ...guardedBy(trainers),
      request: { body: { required: true, ...json(TuningJobCreate) } },
      responses: {
        201: { description: 'Submitted to Vertex AI', ...json(TuningJob) },
        ...errorResponses,
        502: { ...errorResponses[409], description: 'Vertex AI refused or failed; nothing recorded' },
        503: { ...errorResponses[409], description: 'Vertex AI is not configured' },
      },
    }),
    async (c) => {
      const job = await submitTuningJob(app, c.get('principal'), c.req.valid('json'));
      c.header('location', `/v1/tuning-jobs/${job.id}`);
      return c.json(job, 201);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tuning-jobs',
      operationId: 'listTuningJobs',
      tags: ['Tuning'],
      summary: 'Tuning jobs with their last recorded state, filtered by state or clearance; cursor pagination; CSV too (a vendor sees its own)',
      description:
        'Oldest first; `nextCursor` asks for the next page. The state is the last one recorded (the list does not ask Vertex AI; `GET /v1/tuning-jobs/{id}` does). An unknown query parameter is a 422 naming it. CSV columns: ' +
        TUNING_CSV.map((c) => c.header).join(', ') +
        '.',
      ...guardedBy(readers),
      request: { query: TuningJobListQuery },
      responses: { 200: jsonOrCsv('A page of tuning jobs', z.object({ items: z.array(TuningJobListItemSchema), nextCursor: z.string().nullable() })), ...errorResponses },
    }),
    async (c) => {
      const page = await listTuningJobs(app.database.db, c.get('principal'), c.req.valid('query'));
      if (wantsCsv(c.req.header('accept'))) return csvResponse(TUNING_CSV, page) as never;
      return c.json(page, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/tuning-jobs/{id}',
      operationId: 'getTuningJob',
      tags: ['Tuning'],
      summary: 'A tuning job, refreshed from Vertex AI; a succeeded job’s model is registered as a checkpoint',
      ...guardedBy(readers),
      request: { params: IdParam('tun'), query: z.object({ refresh: z.enum(['true', 'false']).default('true') }) },
      responses: { 200: { description: 'The job', ...json(TuningJob) }, ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (c.req.valid('query').refresh === 'false') return c.json(await jobView(app.database.db, await getJobRow(app.database.db, id, c.get('principal'))), 200);
      return c.json(await refreshTuningJob(app, c.get('principal'), id), 200);
    },
  );
  return r;
}
