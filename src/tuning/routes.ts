import { createRoute, z } from '@hono/zod-openapi';
import type { TokenVerifier } from '../auth/tokens.ts';
import { errorResponses, guardedBy, IdParam, json } from '../http/openapi-common.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import type { TuningDeps } from './service.ts';
import { getJobRow, jobView, refreshTuningJob, submitTuningJob } from './service.ts';

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
