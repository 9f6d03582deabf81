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

/** Error responses every authenticated route can give. */
export const authErrors = {
  401: problem('Missing, expired or invalid bearer token'),
  403: problem('The token’s role may not do this'),
  429: {
    ...problem('Too many requests from this client (RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW_SECONDS)'),
    headers: { 'Retry-After': { description: 'seconds until the client may send again', schema: { type: 'integer' as const } } },
  },
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
