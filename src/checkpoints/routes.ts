import { createRoute, z } from '@hono/zod-openapi';
import { getAsset } from '../assets/service.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Config } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import { clearanceRefusals, refused } from '../gate/clearance-use.ts';
import { errorResponses, guardedBy, IdParam, json } from '../http/openapi-common.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import type { Keyring } from '../signing/keyring.ts';
import { assetDownstream } from './downstream.ts';
import { checkpointView, getCheckpointRow, insertCheckpoint, listCheckpoints, retireCheckpoint } from './service.ts';

export const CheckpointCreate = z
  .object({
    clearanceId: z.string().min(1).max(100),
    baseModel: z
      .string()
      .trim()
      .regex(/^[a-z0-9][a-z0-9.@_-]{1,120}$/)
      .openapi({ example: 'imagen-4.0-generate-001' }),
    externalRef: z.string().trim().min(1).max(1000).openapi({ example: 's3://acme-models/dun/style-pass-1/ckpt-1200' }),
    artifactDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 lowercase hex digits>'),
  })
  .strict()
  .openapi('CheckpointCreate');

const Checkpoint = z.record(z.string(), z.unknown()).openapi('Checkpoint');

/** What the checkpoint routes need from the running service. */
export type CheckpointDeps = {
  config: Config;
  keyring: Keyring;
  database: Database;
  ledger: Ledger;
  verifyToken: TokenVerifier;
};

export function checkpointRoutes(app: CheckpointDeps) {
  const trainers = requireRole(app.verifyToken, 'vendor', 'admin');
  const readers = requireRole(app.verifyToken, 'vendor', 'admin', 'legal', 'generator');
  const legal = requireRole(app.verifyToken, 'legal', 'admin');
  const r = router();
  const db = () => app.database.db;

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/checkpoints',
      operationId: 'registerCheckpoint',
      tags: ['Checkpoints'],
      summary: 'Register a checkpoint trained outside Vertex AI under a standing clearance of the caller',
      ...guardedBy(trainers),
      request: { body: { required: true, ...json(CheckpointCreate) } },
      responses: { 201: { description: 'Registered', ...json(Checkpoint) }, ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const { clearance, reasons } = await clearanceRefusals(app, principal, body);
      if (reasons.length > 0 || !clearance) throw refused(reasons);
      const row = await app.ledger.change(principal, (ctx) =>
        insertCheckpoint(ctx, clearance, { source: 'external', baseModel: body.baseModel, externalRef: body.externalRef, artifactDigest: body.artifactDigest }),
      );
      c.header('location', `/v1/checkpoints/${row.id}`);
      return c.json(await checkpointView(db(), row), 201);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/checkpoints/{id}',
      operationId: 'getCheckpoint',
      tags: ['Checkpoints'],
      summary: 'A checkpoint: clearance, dataset, base model, tuning job, status and status history',
      ...guardedBy(readers),
      request: { params: IdParam('ckp') },
      responses: { 200: { description: 'The checkpoint', ...json(Checkpoint) }, ...errorResponses },
    }),
    async (c) => c.json(await checkpointView(db(), await getCheckpointRow(db(), c.req.valid('param').id, c.get('principal'))), 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/checkpoints',
      operationId: 'listCheckpoints',
      tags: ['Checkpoints'],
      summary: 'Checkpoints, newest first (vendors see their own)',
      ...guardedBy(readers),
      request: {
        query: z.object({ clearanceId: z.string().optional(), cursor: z.string().regex(/^\d+$/).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
      },
      responses: { 200: { description: 'A page', ...json(z.object({ items: z.array(Checkpoint), nextCursor: z.string().nullable() })) }, ...errorResponses },
    }),
    async (c) => c.json(await listCheckpoints(db(), c.get('principal'), c.req.valid('query')), 200),
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/checkpoints/{id}/retire',
      operationId: 'retireCheckpoint',
      tags: ['Checkpoints'],
      summary: 'Retire a checkpoint, with a reason',
      ...guardedBy(legal),
      request: { params: IdParam('ckp'), body: { required: true, ...json(z.object({ reason: z.string().trim().min(1).max(2000) }).strict()) } },
      responses: { 200: { description: 'The retired checkpoint', ...json(Checkpoint) }, ...errorResponses },
    }),
    async (c) => {
      const principal = c.get('principal');
      return c.json(await retireCheckpoint(app.ledger, principal, principal, c.req.valid('param').id, c.req.valid('json').reason), 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/assets/{id}/downstream',
      operationId: 'getAssetDownstream',
      tags: ['Checkpoints'],
      summary: 'What depends on an asset: datasets, clearances and checkpoints (what a revocation would hit)',
      ...guardedBy(legal),
      request: { params: IdParam('ast') },
      responses: { 200: { description: 'Dependents', ...json(z.record(z.string(), z.unknown())) }, ...errorResponses },
    }),
    async (c) => {
      const asset = await getAsset(db(), c.req.valid('param').id);
      return c.json(await assetDownstream(db(), asset.id), 200);
    },
  );
  return r;
}
