import { createRoute, z } from '@hono/zod-openapi';
import { getAsset } from '../assets/service.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Database } from '../db/database.ts';
import { errorResponses, guardedBy, IdParam, json } from '../http/openapi-common.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import { listApprovals, recordApproval } from './approvals.ts';
import { Approval, ApprovalCreate, License, LicenseCreate, LicenseHistory, RevocationImpact, RevokeBody } from './schemas.ts';
import { addLicenseVersion, getLicense, licenseHistory, type RevocationDownstream, revocationImpact, revokeLicense } from './service.ts';

/** What the license routes need from the running service. */
export type LicenseDeps = {
  database: Database;
  ledger: Ledger;
  verifyToken: TokenVerifier;
  /** The clearances and checkpoints a revocation reaches (checkpoints/downstream.ts). */
  revocationDownstream: RevocationDownstream;
};

export function licenseRoutes(app: LicenseDeps) {
  const legal = requireRole(app.verifyToken, 'legal', 'admin');
  const r = router();

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/assets/{id}/licenses',
      operationId: 'addLicenseVersion',
      tags: ['Licenses'],
      summary: 'Record a new license version for an asset; it supersedes the previous version',
      ...guardedBy(legal),
      request: { params: IdParam('ast'), body: { required: true, ...json(LicenseCreate) } },
      responses: { 201: { description: 'The new version', ...json(License) }, ...errorResponses },
    }),
    async (c) => {
      const license = await addLicenseVersion(app.ledger, c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
      c.header('location', `/v1/licenses/${license.id}`);
      return c.json(license, 201);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/assets/{id}/licenses',
      operationId: 'listLicenseVersions',
      tags: ['Licenses'],
      summary: 'License history of an asset, newest first',
      ...guardedBy(legal),
      request: { params: IdParam('ast') },
      responses: { 200: { description: 'Every version, newest first', ...json(LicenseHistory) }, ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await getAsset(app.database.db, id);
      return c.json({ assetId: id, items: await licenseHistory(app.database.db, id) }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/licenses/{id}',
      operationId: 'getLicense',
      tags: ['Licenses'],
      summary: 'One license version with its current standing',
      ...guardedBy(legal),
      request: { params: IdParam('lic') },
      responses: { 200: { description: 'The version', ...json(License) }, ...errorResponses },
    }),
    async (c) => c.json(await getLicense(app.database.db, c.req.valid('param').id), 200),
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/licenses/{id}/revoke',
      operationId: 'revokeLicense',
      tags: ['Licenses'],
      summary: 'Revoke a license version (recorded as a revocation; the version itself is not changed). dryRun=true shows what it would hit',
      description:
        'Only the current version can be revoked, which revokes the license with every earlier version; a superseded version answers 409 with `currentLicenseId` (the dry run too).',
      ...guardedBy(legal),
      request: {
        params: IdParam('lic'),
        query: z.object({ dryRun: z.enum(['true', 'false']).optional().openapi({ description: 'true: change nothing, list the clearances and checkpoints it would hit' }) }),
        body: { required: true, ...json(RevokeBody) },
      },
      responses: {
        200: {
          description: 'The revoked version with the checkpoints it tainted, or (dryRun) what it would hit',
          ...json(z.union([License.extend({ taintedCheckpoints: z.array(z.string()) }), RevocationImpact])),
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      if (c.req.valid('query').dryRun === 'true') return c.json(await revocationImpact(app.database.db, id, app.revocationDownstream), 200);
      return c.json(await revokeLicense(app.ledger, c.get('principal'), id, c.req.valid('json').reason, app.revocationDownstream), 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/licenses/{id}/approvals',
      operationId: 'addApproval',
      tags: ['Licenses'],
      summary: 'Record an approval for a vendor, purpose and period, where a grant requires one',
      ...guardedBy(legal),
      request: { params: IdParam('lic'), body: { required: true, ...json(ApprovalCreate) } },
      responses: { 201: { description: 'The approval', ...json(Approval) }, ...errorResponses },
    }),
    async (c) => c.json(await recordApproval(app.ledger, c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 201),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/licenses/{id}/approvals',
      operationId: 'listApprovals',
      tags: ['Licenses'],
      summary: 'Approvals recorded on a license version',
      ...guardedBy(legal),
      request: { params: IdParam('lic') },
      responses: { 200: { description: 'Approvals, oldest first', ...json(z.object({ items: z.array(Approval) })) }, ...errorResponses },
    }),
    async (c) => c.json({ items: await listApprovals(app.database.db, c.req.valid('param').id) }, 200),
  );

  return r;
}
