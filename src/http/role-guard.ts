import type { MiddlewareHandler } from 'hono';
import { type Principal, type Role, TokenError, type TokenVerifier } from '../auth/tokens.ts';
import { problems } from './problem.ts';

export type AuthEnv = { Variables: { principal: Principal } };

/** The role guard of a route: the middleware, and the roles it lets through (the OpenAPI `x-roles` of the route). */
export type RoleGuard = MiddlewareHandler<AuthEnv> & { readonly roles: readonly Role[] };

/** Requires a valid bearer token whose role is one of `roles`: 401 without one, 403 for another role. */
export function requireRole(verify: TokenVerifier, ...roles: Role[]): RoleGuard {
  const guard: MiddlewareHandler<AuthEnv> = async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i);
    if (!match) throw problems.unauthenticated('send a bearer token: Authorization: Bearer <JWT>');
    let principal: Principal;
    try {
      principal = await verify(match[1]!);
    } catch (e) {
      if (e instanceof TokenError) throw problems.unauthenticated(e.message);
      throw e;
    }
    if (!roles.includes(principal.role)) {
      throw problems.forbidden(`role "${principal.role}" may not do this; allowed: ${roles.join(', ')}`);
    }
    c.set('principal', principal);
    await next();
  };
  return Object.assign(guard, { roles: Object.freeze([...roles]) });
}
