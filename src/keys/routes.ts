import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../config/config.ts';
import { router } from '../http/validation.ts';
import type { Keyring } from '../signing/keyring.ts';

/** Public keys anyone needs to verify what the service signs, offline. */
/** What the key routes read: the keys the service signs with. */
export type KeyDeps = {
  config: Config;
  keyring: Keyring;
};

export function keyRoutes(app: KeyDeps) {
  const r = router();
  r.openapi(
    createRoute({
      method: 'get',
      path: '/.well-known/jwks.json',
      tags: ['Keys'],
      summary: 'Public verification keys: audit checkpoints (EdDSA), clearances (ES256), and the local token issuer in the embedded mode',
      responses: {
        200: {
          description: 'JWK Set',
          content: { 'application/json': { schema: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) } },
        },
      },
    }),
    (c) => {
      const keys: Record<string, unknown>[] = [{ ...app.keyring.audit.publicJwk }, { ...app.keyring.clearance.publicJwk }];
      if (app.config.auth.mode === 'local') keys.push({ ...app.keyring.tokenIssuer.signer.publicJwk });
      return c.json({ keys }, 200);
    },
  );
  return r;
}
