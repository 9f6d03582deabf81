import { createRoute, z } from '@hono/zod-openapi';
import { datasetMembers, getDataset, resolveMembers } from '../datasets/service.ts';
import { errorResponses, guardedBy, IdParam, json } from '../http/openapi-common.ts';
import { Problem } from '../http/problem.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import type { GateDeps } from './deps.ts';
import { PolicySetError } from './policy-engine.ts';
import { AssetOutcome, ClearanceCreate, ClearanceRecord, ClearanceResult, ClearanceVerdict, ClearanceVerify, GateEvaluate, PolicyList } from './schemas.ts';
import { clearanceView, evaluateMembers, getClearanceRow, listClearances, requestClearance, vendorFor, verifyClearance } from './service.ts';

export function gateRoutes(app: GateDeps) {
  const askers = requireRole(app.verifyToken, 'vendor', 'legal', 'admin');
  const anyone = requireRole(app.verifyToken, 'vendor', 'legal', 'admin', 'distributor', 'generator');
  const legal = requireRole(app.verifyToken, 'legal', 'admin');
  const admin = requireRole(app.verifyToken, 'admin');
  const r = router();
  const db = () => app.database.db;
  const policyList = () => {
    const set = app.policies.current;
    return { digest: set.digest, policies: set.policies.map((p) => ({ id: p.id, reason: p.reason, effect: p.effect, file: p.file })) };
  };

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/policies',
      operationId: 'listPolicies',
      tags: ['Training gate'],
      summary: 'The policy set in force, with its digest',
      ...guardedBy(anyone),
      responses: { 200: { description: 'Policies', ...json(PolicyList) }, ...errorResponses },
    }),
    (c) => c.json(policyList(), 200),
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/policies/reload',
      operationId: 'reloadPolicies',
      tags: ['Training gate'],
      summary: 'Reload policies/ from disk (an invalid set is refused and the current one stays)',
      ...guardedBy(admin),
      responses: { 200: { description: 'The policy set now in force', ...json(PolicyList.extend({ changed: z.boolean() })) }, ...errorResponses },
    }),
    async (c) => {
      try {
        const { changed } = await app.policies.reload(c.get('principal'));
        return c.json({ ...policyList(), changed }, 200);
      } catch (e) {
        if (e instanceof PolicySetError) {
          throw new Problem(422, 'unprocessable', 'the policy files on disk are not valid; the current set stays in force', {
            errors: e.issues.map((i) => ({ field: `${i.file}${i.line ? `:${i.line}:${i.column}` : ''}`, message: i.message })),
          });
        }
        throw e;
      }
    },
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/datasets/{id}/clearances',
      operationId: 'requestClearance',
      tags: ['Training gate'],
      summary: 'Ask to train on a dataset: every asset must pass the policies; an allow carries a signed token',
      ...guardedBy(askers),
      request: { params: IdParam('dst'), body: { required: true, ...json(ClearanceCreate) } },
      responses: { 201: { description: 'The decision (allow or deny), recorded', ...json(ClearanceResult) }, ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const result = await requestClearance(app, principal, c.req.valid('param').id, { ...body, vendor: vendorFor(principal, body.vendor) });
      c.header('location', `/v1/clearances/${result.id}`);
      return c.json(result, 201);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clearances/{id}',
      operationId: 'getClearance',
      tags: ['Training gate'],
      summary: 'A recorded clearance with its per-asset decisions and current standing',
      ...guardedBy(askers),
      request: { params: IdParam('clr') },
      responses: { 200: { description: 'The clearance', ...json(ClearanceRecord) }, ...errorResponses },
    }),
    async (c) => c.json(await clearanceView(db(), await getClearanceRow(db(), c.req.valid('param').id, c.get('principal'))), 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/clearances',
      operationId: 'listClearances',
      tags: ['Training gate'],
      summary: 'Clearances, newest first (vendors see their own)',
      ...guardedBy(askers),
      request: {
        query: z.object({
          datasetId: z.string().optional().openapi({ description: 'the dataset cleared (for a subset clearance, the derived dataset)' }),
          requestedDatasetId: z.string().optional().openapi({ description: 'the dataset the clearance was asked on' }),
          cursor: z.string().regex(/^\d+$/).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: { 200: { description: 'A page', ...json(z.object({ items: z.array(z.record(z.string(), z.unknown())), nextCursor: z.string().nullable() })) }, ...errorResponses },
    }),
    async (c) => c.json(await listClearances(db(), c.get('principal'), c.req.valid('query')), 200),
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/clearances/verify',
      operationId: 'verifyClearanceToken',
      tags: ['Training gate'],
      summary: 'Check a clearance token: signature, expiry, and whether it still stands',
      ...guardedBy(anyone),
      request: { body: { required: true, ...json(ClearanceVerify) } },
      responses: { 200: { description: 'The verdict', ...json(ClearanceVerdict) }, ...errorResponses },
    }),
    async (c) => c.json(await verifyClearance(app, c.req.valid('json').token), 200),
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/gate/evaluate',
      operationId: 'evaluateGate',
      tags: ['Training gate'],
      summary: 'Preview the gate on a dataset or a list of assets: no record, no token',
      ...guardedBy(legal),
      request: { body: { required: true, ...json(GateEvaluate) } },
      responses: {
        200: {
          description: 'Decisions',
          ...json(z.object({ decision: z.enum(['allow', 'deny']), policyDigest: z.string(), at: z.string(), assets: z.array(AssetOutcome) })),
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const members = body.datasetId ? await datasetMembers(db(), (await getDataset(db(), body.datasetId, c.get('principal'))).id) : await resolveMembers(db(), body.assetIds!);
      const at = body.at ? new Date(body.at).toISOString() : new Date().toISOString();
      const evaluation = await evaluateMembers(app, members, { vendor: body.vendor, purpose: body.purpose, baseModel: body.baseModel, at });
      return c.json({ decision: evaluation.decision, policyDigest: evaluation.policyDigest, at, assets: evaluation.outcomes }, 200);
    },
  );

  return r;
}
