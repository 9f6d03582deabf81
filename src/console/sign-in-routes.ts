// GET /v1/console/config: how the console signs in, public, so that the browser learns it from the documented
// API like everything else it does. It names the issuer and the console's public client id (neither is a
// secret: both are in every authorization request the browser sends), never a key or a token.
import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../config/config.ts';
import { authErrors, publicRoute } from '../http/openapi-common.ts';
import { router } from '../http/validation.ts';

/** Where the issuer sends the browser back with the code, and where it lands after signing out there. */
export const OIDC_REDIRECT_PATH = '/console/callback';
export const OIDC_POST_LOGOUT_PATH = '/console';

const ConsoleSignIn = z
  .discriminatedUnion('signIn', [
    z.object({ signIn: z.literal('token').openapi({ description: 'A bearer token pasted into the sign-in form (the embedded mode, or an issuer without a console client id)' }) }),
    z.object({
      signIn: z.literal('oidc').openapi({ description: 'OpenID Connect authorization code with PKCE (S256) at the issuer, in the browser' }),
      oidc: z.object({
        issuer: z.string().openapi({ description: 'AUTH_ISSUER: the discovery document is at {issuer}/.well-known/openid-configuration', example: 'https://id.example' }),
        clientId: z.string().openapi({ description: 'CONSOLE_OIDC_CLIENT_ID: a public client (no secret) registered at the issuer', example: 'clearframe-console' }),
        scope: z.string().openapi({ description: 'CONSOLE_OIDC_SCOPE (default `openid`)', example: 'openid' }),
        redirectPath: z.literal(OIDC_REDIRECT_PATH).openapi({ description: 'Appended to the console’s origin: the redirect URI to register at the issuer' }),
        postLogoutRedirectPath: z
          .literal(OIDC_POST_LOGOUT_PATH)
          .openapi({ description: 'Appended to the console’s origin: where the issuer returns after signing out (when it offers an end_session_endpoint)' }),
      }),
    }),
  ])
  .openapi('ConsoleSignIn');

export function consoleSignInRoutes(config: Pick<Config, 'consoleOidc'>) {
  const r = router();
  const answer: z.infer<typeof ConsoleSignIn> = config.consoleOidc
    ? { signIn: 'oidc', oidc: { ...config.consoleOidc, redirectPath: OIDC_REDIRECT_PATH, postLogoutRedirectPath: OIDC_POST_LOGOUT_PATH } }
    : { signIn: 'token' };
  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/console/config',
      operationId: 'getConsoleConfig',
      tags: ['Console'],
      summary: 'How the web console signs in: a pasted bearer token, or OpenID Connect at the configured issuer',
      ...publicRoute,
      responses: { 200: { description: 'The console’s sign-in', content: { 'application/json': { schema: ConsoleSignIn } } }, 429: authErrors[429] },
    }),
    (c) => c.json(answer, 200),
  );
  return r;
}
