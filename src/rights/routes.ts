import { createRoute, z } from '@hono/zod-openapi';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Database } from '../db/database.ts';
import { errorResponses, guardedBy, IdParam, json } from '../http/openapi-common.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import { isTerritory } from '../licenses/territories.ts';
import { getOutput } from '../outputs/reader.ts';
import { assembleOutputNode } from './assemble.ts';
import { evaluateRightsChain } from './chain.ts';

const ProposedUse = z.object({
  territory: z.string().refine(isTerritory, 'ISO 3166-1 alpha-2 or WORLD').optional(),
  media: z.string().trim().min(1).max(100).optional(),
  date: z.iso.datetime({ offset: true }).optional(),
  commercial: z.enum(['true', 'false']).optional(),
});

/** What the rights-chain route needs from the running service. */
export type RightsDeps = {
  database: Database;
  verifyToken: TokenVerifier;
};

/** The derivative-rights chain of an output, evaluated for a proposed use. */
export function rightsRoutes(app: RightsDeps) {
  const legal = requireRole(app.verifyToken, 'legal', 'admin');
  const r = router();
  const db = () => app.database.db;

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/outputs/{id}/rights-chain',
      operationId: 'getRightsChain',
      tags: ['Outputs'],
      summary: 'The derivative-rights chain from an output back to every license, evaluated for a proposed use',
      ...guardedBy(legal),
      request: { params: IdParam('out'), query: ProposedUse },
      responses: { 200: { description: 'The chain and its verdict', ...json(z.record(z.string(), z.unknown())) }, ...errorResponses },
    }),
    async (c) => {
      const output = await getOutput(db(), c.req.valid('param').id);
      const q = c.req.valid('query');
      const root = await assembleOutputNode(db(), output);
      const use = {
        ...(q.territory ? { territory: q.territory } : {}),
        ...(q.media ? { media: q.media } : {}),
        ...(q.date ? { date: new Date(q.date).toISOString() } : {}),
        ...(q.commercial ? { commercial: q.commercial === 'true' } : {}),
      };
      return c.json(evaluateRightsChain(root, use, new Date().toISOString()), 200);
    },
  );

  return r;
}
