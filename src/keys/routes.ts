import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../config/config.ts';
import { errorResponses, publicRoute, rateLimited } from '../http/openapi-common.ts';
import { problems } from '../http/problem.ts';
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
      operationId: 'getJwks',
      tags: ['Keys'],
      summary: 'Public verification keys: audit checkpoints (EdDSA), clearances (ES256), and the local token issuer in the embedded mode',
      ...publicRoute,
      responses: {
        200: {
          description: 'JWK Set',
          content: { 'application/json': { schema: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) } },
        },
        ...rateLimited,
      },
    }),
    (c) => {
      const keys: Record<string, unknown>[] = [{ ...app.keyring.audit.publicJwk }, { ...app.keyring.clearance.publicJwk }];
      if (app.config.auth.mode === 'local') keys.push({ ...app.keyring.tokenIssuer.signer.publicJwk });
      return c.json({ keys }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/trust/c2pa',
      operationId: 'getC2paTrustAnchors',
      tags: ['Keys'],
      summary: 'The C2PA trust anchors the service signs outputs under: PEM root certificates, for offline verification',
      description:
        'Save the answer as a file and hand it to an offline C2PA validator as its trust anchors (e.g. `clearframe verify FILE --trust anchors.pem`): without it a signed output verifies as `untrusted` off the server. With local keys this is the local root CA; with Cloud KMS, C2PA_TRUST_ANCHOR.',
      ...publicRoute,
      responses: {
        200: {
          description: 'One or more PEM certificates (`-----BEGIN CERTIFICATE-----`), concatenated',
          content: { 'application/x-pem-file': { schema: z.string().openapi({ example: '-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n' }) } },
        },
        404: { ...errorResponses[404], description: 'No trust anchor is configured (Cloud KMS without C2PA_TRUST_ANCHOR)' },
      },
    }),
    (c) => {
      const anchors = app.keyring.c2pa.trustAnchorsPem;
      if (anchors.length === 0) throw problems.notFound('no C2PA trust anchor is configured: the signing chain ends at a root set by C2PA_TRUST_ANCHOR');
      const pem = anchors.map((a) => (a.endsWith('\n') ? a : `${a}\n`)).join('');
      return c.body(pem, 200, { 'content-type': 'application/x-pem-file', 'cache-control': 'public, max-age=300' }) as never;
    },
  );
  return r;
}
