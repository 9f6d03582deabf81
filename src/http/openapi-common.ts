import { z } from '@hono/zod-openapi';
import type { RoleGuard } from './role-guard.ts';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .openapi('Problem');

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The rate limit's answer, which every route can give, public ones too (they are counted per address). */
export const rateLimited = {
  429: {
    ...problem('Too many requests from this client (RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW_SECONDS)'),
    headers: { 'Retry-After': { description: 'seconds until the client may send again', schema: { type: 'integer' as const } } },
  },
} as const;

/** Error responses every authenticated route can give. */
export const authErrors = {
  401: problem('Missing, expired or invalid bearer token'),
  403: problem('The token’s role may not do this'),
  ...rateLimited,
} as const;

export const errorResponses = {
  ...authErrors,
  404: problem('Not found'),
  409: problem('Conflicts with the current state'),
  422: problem('Invalid request: the failing fields are listed'),
} as const;

export const bearer = [{ bearerAuth: [] }];

/**
 * The `createRoute` fields of a route behind a role guard: its bearer security, the guard as its
 * middleware, and the guard's roles as `x-roles`, so the document cannot name other roles than the guard's.
 */
export function guardedBy<G extends RoleGuard>(guard: G) {
  return { security: bearer, middleware: [guard] as [G], 'x-roles': [...guard.roles] };
}

/** The `createRoute` fields of a public route: no token (`security: []` overrides any default). */
export const publicRoute = { security: [] as { [name: string]: string[] }[] };

export const IdParam = (prefix: string) =>
  z.object({
    id: z
      .string()
      .min(1)
      .max(100)
      .openapi({ param: { name: 'id', in: 'path' }, example: `${prefix}_8hX2kq0aVbq4Zz1mR9sT` }),
  });

/** A JSON request or response body with this schema. */
export const json = <T>(schema: T) => ({ content: { 'application/json': { schema } } });

/** A list's page size: 50 unless asked, at most 200. */
export const LimitQuery = z.coerce.number().int().min(1).max(200).default(50).openapi({ description: 'rows per page, 1 to 200 (default 50)' });

/** A cursor this API handed out as `nextCursor`: an audit index. */
export const CursorQuery = z
  .string()
  .regex(/^[0-9]{1,15}$/, 'not a cursor from this API')
  .optional()
  .openapi({ description: 'the `nextCursor` of the previous page' });

/** A date filter: a calendar date (midnight UTC) or an RFC 3339 date-time, answered as a Date. */
export const DateQuery = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/, 'must be a date (2026-06-30) or an RFC 3339 date-time')
  .refine((s) => {
    // Date.parse rolls 2026-02-30 over to March: the calendar date must be one that exists.
    const [y, m, d] = s.slice(0, 10).split('-').map(Number) as [number, number, number];
    const day = new Date(Date.UTC(y, m - 1, d));
    return day.getUTCMonth() === m - 1 && day.getUTCDate() === d && !Number.isNaN(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s));
  }, 'not a real date')
  .transform((s) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s))
  .optional();

/**
 * A list's 200 answer: JSON by default, the same rows as RFC 4180 CSV for `Accept: text/csv` (http/csv.ts),
 * whose next page's cursor is the `Clearframe-Next-Cursor` header.
 */
export const jsonOrCsv = <T>(description: string, schema: T) => ({
  description: `${description}; as CSV (a header row, then one row per item) for Accept: text/csv`,
  headers: { 'Clearframe-Next-Cursor': { description: 'CSV answers: the cursor of the next page, absent on the last', schema: { type: 'string' as const } } },
  content: {
    'application/json': { schema },
    'text/csv': { schema: z.string().openapi({ description: 'RFC 4180, CRLF line ends, a header row' }) },
  },
});
