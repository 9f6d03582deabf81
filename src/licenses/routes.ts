import { createRoute, z } from '@hono/zod-openapi';
import { getAsset } from '../assets/service.ts';
import type { Ledger } from '../audit/ledger.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Database } from '../db/database.ts';
import { type CsvColumn, csvResponse, wantsCsv } from '../http/csv.ts';
import { errorResponses, guardedBy, IdParam, json, jsonOrCsv } from '../http/openapi-common.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import { listApprovals, recordApproval } from './approvals.ts';
import { Approval, ApprovalCreate, License, LicenseCreate, LicenseHistory, LicenseList, LicenseListQuery, RevocationImpact, RevokeBody } from './schemas.ts';
import { addLicenseVersion, getLicense, type LicenseListItem, licenseHistory, listLicenses, type RevocationDownstream, revocationImpact, revokeLicense } from './service.ts';

/** The CSV of GET /v1/licenses: a stable column order (new columns go at the end). */
const LICENSE_CSV: CsvColumn<LicenseListItem>[] = [
  { header: 'id', cell: (l) => l.id },
  { header: 'assetId', cell: (l) => l.assetId },
  { header: 'assetTitle', cell: (l) => l.assetTitle },
  { header: 'version', cell: (l) => l.version },
  { header: 'status', cell: (l) => l.status },
  { header: 'licensor', cell: (l) => l.licensor },
  { header: 'licensee', cell: (l) => l.licensee },
  { header: 'vendors', cell: (l) => l.vendors },
  { header: 'training', cell: (l) => l.grants.training },
  { header: 'derivatives', cell: (l) => l.grants.derivatives },
  { header: 'commercial', cell: (l) => l.grants.commercial },
  { header: 'territories', cell: (l) => l.territories },
  { header: 'media', cell: (l) => l.media },
  { header: 'baseModelFamilies', cell: (l) => l.baseModelFamilies },
  { header: 'termStart', cell: (l) => l.term.start },
  { header: 'termEnd', cell: (l) => l.term.end },
  { header: 'exclusivity', cell: (l) => l.exclusivity },
  { header: 'revokedAt', cell: (l) => l.revocation?.revokedAt },
  { header: 'auditIndex', cell: (l) => l.auditIndex },
];

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
      summary: 'Record a new license version for an asset; it supersedes the previous version of its license, or (newLicense) starts another license',
      description:
        "Without `licenseId` the asset's one license is amended (its first version if none); with several standing, name the license (`licenseId`) or 409 lists them. An exclusive grant overlapping another licensee's standing exclusive grant (territory, media and term) is 409 with `conflicts`, unless `overrideConflict.reason` is given, which the audit entry keeps.",
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
      path: '/v1/licenses',
      operationId: 'listLicenses',
      tags: ['Licenses'],
      summary: 'The current version of every license, filtered by asset, licensee, vendor, grants, state or term end; cursor pagination; CSV too',
      description:
        'Only versions nothing supersedes, oldest recorded first; `nextCursor` asks for the next page. Filters combine (and). An unknown query parameter is a 422 naming it. CSV columns: ' +
        LICENSE_CSV.map((c) => c.header).join(', ') +
        ' (lists joined by `;`).',
      ...guardedBy(legal),
      request: { query: LicenseListQuery },
      responses: { 200: jsonOrCsv('A page of current license versions', LicenseList), ...errorResponses },
    }),
    async (c) => {
      const page = await listLicenses(app.database.db, c.req.valid('query'));
      if (wantsCsv(c.req.header('accept'))) return csvResponse(LICENSE_CSV, page) as never;
      return c.json(page, 200);
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
