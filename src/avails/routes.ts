import { createRoute, z } from '@hono/zod-openapi';
import { csvLine } from '../http/csv.ts';
import { errorResponses, guardedBy } from '../http/openapi-common.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import { AvailsPage, AvailsQuery } from './schemas.ts';
import { type AvailItem, type AvailsDeps, proposedUse, searchAvails } from './service.ts';

export const CSV_COLUMNS = ['assetId', 'title', 'production', 'rightsHolder', 'licenseId', 'status', 'reasonCodes', 'policyIds', 'reasons'] as const;

/** One CSV row per asset: the JSON row's fields, the reasons' codes, policies and sentences each space-joined. */
const csvRow = (i: AvailItem) => [
  i.assetId,
  i.title,
  i.production,
  i.rightsHolder,
  i.licenseId,
  i.status,
  i.reasons.map((r) => r.code).join(' '),
  i.reasons.map((r) => r.policyId).join(' '),
  i.reasons.map((r) => r.sentence).join(' '),
];

/** CSV when the client asks for it before JSON (or alone). */
function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((p) => p.split(';')[0]!.trim().toLowerCase());
  const csv = types.indexOf('text/csv');
  const jsonAt = types.findIndex((t) => t === 'application/json' || t === 'application/*');
  return csv >= 0 && (jsonAt < 0 || csv < jsonAt);
}

export function availsRoutes(app: AvailsDeps) {
  const askers = requireRole(app.verifyToken, 'legal', 'admin', 'vendor');
  const r = router();

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/avails',
      operationId: 'searchAvails',
      tags: ['Availability'],
      summary: 'For a proposed use, every asset available or not, and why not: decided by the training gate’s policies',
      description:
        'Each asset of the library (oldest registration first, paged) is decided by the Cedar policy set in force, through the engine a clearance uses: `available` for `fine-tune` is what a clearance would allow now. An unavailable asset lists every reason as a stable `code` with its policy and sentence. `Accept: text/csv` gives the same rows as CSV (RFC 4180; the next page’s cursor in `Clearframe-Next-Cursor`). A vendor token sees only the art whose current license names its vendor. An unknown query parameter is a 422.',
      ...guardedBy(askers),
      request: { query: AvailsQuery },
      responses: {
        200: {
          description: 'A page of answers',
          headers: { 'Clearframe-Next-Cursor': { description: 'the next page’s cursor (CSV answers), absent on the last page', schema: { type: 'string' } } },
          content: {
            'application/json': { schema: AvailsPage },
            'text/csv': { schema: z.string().openapi({ description: `columns: ${CSV_COLUMNS.join(', ')}` }) },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { status, cursor, limit, production, rightsHolder, ...asked } = c.req.valid('query');
      const principal = c.get('principal');
      const use = proposedUse(principal, asked);
      const visibleTo = principal.role === 'vendor' ? use.vendor : undefined;
      const page = await searchAvails(app, { use, production, rightsHolder, status, visibleTo, after: cursor === undefined ? undefined : Number(cursor), limit });
      if (wantsCsv(c.req.header('accept'))) {
        const headers: Record<string, string> = { 'content-type': 'text/csv; charset=utf-8', vary: 'accept' };
        if (page.nextCursor !== null) headers['clearframe-next-cursor'] = page.nextCursor;
        return c.body(csvLine(CSV_COLUMNS) + page.items.map((i) => csvLine(csvRow(i))).join(''), 200, headers);
      }
      c.header('vary', 'accept');
      return c.json(
        {
          use: { purpose: use.purpose, vendor: use.vendor, baseModel: use.baseModel, date: use.at, territory: use.territory ?? null, media: use.media ?? null },
          policyDigest: page.policyDigest,
          items: page.items,
          nextCursor: page.nextCursor,
        },
        200,
      );
    },
  );

  return r;
}
