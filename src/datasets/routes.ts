import { createRoute, z } from '@hono/zod-openapi';
import type { Ledger } from '../audit/ledger.ts';
import type { Principal, TokenVerifier } from '../auth/tokens.ts';
import type { Database } from '../db/database.ts';
import { errorResponses, guardedBy, IdParam, json } from '../http/openapi-common.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import { Dataset, DatasetCreate, DatasetMembershipProof, DatasetWithMembers, datasetCreateWith, MAX_DATASET_ASSETS } from './schemas.ts';
import { createDataset, datasetMembers, datasetView, getDataset, listDatasets, membershipProof } from './service.ts';

/**
 * A selection of the library that a dataset may be frozen from, filled by the composition root (the
 * availability search sits above datasets): its query's schema, and the asset ids it selects now.
 */
export type DatasetSelection<S extends z.ZodType = z.ZodType> = {
  schema: S;
  select(principal: Principal, query: z.infer<S>, max: number): Promise<string[]>;
};

/** A selection typed by its schema, as DatasetDeps holds it (the route validates the query with that schema). */
export const datasetSelection = <S extends z.ZodType>(selection: DatasetSelection<S>): DatasetSelection => selection as unknown as DatasetSelection;

/** What the dataset routes need from the running service. */
export type DatasetDeps = {
  database: Database;
  ledger: Ledger;
  verifyToken: TokenVerifier;
  /** `fromAvails` on POST /v1/datasets: absent, the body takes `assetIds` only. */
  fromAvails?: DatasetSelection;
};

export function datasetRoutes(app: DatasetDeps) {
  const users = requireRole(app.verifyToken, 'vendor', 'legal', 'admin');
  const r = router();
  const db = () => app.database.db;
  const fromAvails = app.fromAvails;

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/datasets',
      operationId: 'createDataset',
      tags: ['Datasets'],
      summary: 'Freeze a set of assets as a dataset; its digest is the Merkle root over their hashes',
      ...guardedBy(users),
      request: { body: { required: true, ...json(fromAvails ? datasetCreateWith(fromAvails.schema) : DatasetCreate) } },
      responses: { 201: { description: 'The dataset', ...json(Dataset) }, ...errorResponses },
    }),
    async (c) => {
      const principal = c.get('principal');
      const body = c.req.valid('json') as { name: string; assetIds?: string[]; vendor?: string; fromAvails?: unknown };
      const { fromAvails: selection, ...rest } = body;
      // The selection is decided now; the dataset then freezes exactly those assets.
      const assetIds = selection !== undefined && fromAvails ? await fromAvails.select(principal, selection, MAX_DATASET_ASSETS) : rest.assetIds!;
      const dataset = await createDataset(app.ledger, principal, { ...rest, assetIds });
      c.header('location', `/v1/datasets/${dataset.id}`);
      return c.json(dataset, 201);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/datasets/{id}',
      operationId: 'getDataset',
      tags: ['Datasets'],
      summary: 'A dataset with its members in canonical (leaf) order',
      ...guardedBy(users),
      request: { params: IdParam('dst') },
      responses: { 200: { description: 'The dataset', ...json(DatasetWithMembers) }, ...errorResponses },
    }),
    async (c) => {
      const d = await getDataset(db(), c.req.valid('param').id, c.get('principal'));
      return c.json({ ...datasetView(d), assets: await datasetMembers(db(), d.id) }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/datasets',
      operationId: 'listDatasets',
      tags: ['Datasets'],
      summary: 'Datasets, newest first (a vendor sees its own)',
      ...guardedBy(users),
      request: { query: z.object({ cursor: z.string().regex(/^\d+$/).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }) },
      responses: { 200: { description: 'A page', ...json(z.object({ items: z.array(Dataset), nextCursor: z.string().nullable() })) }, ...errorResponses },
    }),
    async (c) => c.json(await listDatasets(db(), c.get('principal'), c.req.valid('query')), 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/datasets/{id}/proofs/inclusion',
      operationId: 'getDatasetInclusionProof',
      tags: ['Datasets'],
      summary: 'Proof that an asset is (or is not) in the dataset, against its digest',
      ...guardedBy(users),
      request: { params: IdParam('dst'), query: z.object({ assetId: z.string().min(1).max(100) }) },
      responses: { 200: { description: 'Membership or absence proof', ...json(DatasetMembershipProof) }, ...errorResponses },
    }),
    async (c) => {
      const d = await getDataset(db(), c.req.valid('param').id, c.get('principal'));
      return c.json(await membershipProof(db(), d, c.req.valid('query').assetId), 200);
    },
  );

  return r;
}
