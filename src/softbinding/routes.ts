/**
 * The C2PA Soft Binding Resolution API (1.1.0) under `/v1/soft-binding`: its paths, parameters and answers,
 * for the roles that verify files (docs/api.md maps each operation to the specification's). Bad input is
 * the specification's 400 (as problem+json), not the 422 of the rest of the API.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../http/env.ts';
import { authErrors, guardedBy, json, ProblemSchema } from '../http/openapi-common.ts';
import { fieldErrors, problems } from '../http/problem.ts';
import { requireRole } from '../http/role-guard.ts';
import type { OutputDeps } from '../outputs/deps.ts';
import { SOFT_BINDING_ALG } from '../outputs/manifest.ts';
import { resultCount, SUPPORTED_ALGORITHMS } from './query.ts';
import { manifestStoreById, matchesByBinding, matchesByContent } from './service.ts';

export const SOFT_BINDING_PREFIX = '/v1/soft-binding';

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });
const invalid = { 400: problem('Invalid query value or request body: the failing fields are listed') };

const Alg = z
  .string()
  .min(1)
  .max(200)
  .openapi({ description: `the soft binding algorithm: \`${SOFT_BINDING_ALG}\` (PDQ, the name the manifests' c2pa.soft-binding assertion uses)`, example: SOFT_BINDING_ALG });
const Value = z
  .string()
  .min(1)
  .max(200)
  .openapi({ description: 'the PDQ hash: its 32 bytes in base64 (as the specification states values), or the 64 hex digits the manifest’s assertion carries' });
const MaxResults = z.coerce.number().int().min(1).optional().openapi({ description: 'at most this many manifests (default 10; more than 100 is answered with 100)' });

const Match = z
  .object({
    manifestId: z.string().openapi({ description: 'the label of the output’s active manifest (urn:c2pa:…)' }),
    endpoint: z.string().optional().openapi({ description: 'never given: the manifest is this service’s' }),
    similarityScore: z.number().int().min(0).max(100).openapi({ description: '100 for the same fingerprint, falling evenly to 0 just past the threshold' }),
    outputId: z.string().openapi({ description: 'Clearframe: the output; its record is GET /v1/outputs/{id}' }),
    distance: z.number().int().openapi({ description: 'Clearframe: Hamming distance in bits (of 256) between the fingerprints' }),
    threshold: z.number().int().openapi({ description: 'Clearframe: the largest distance matched (the one /v1/verify recovers at)' }),
  })
  .openapi('SoftBindingMatch');
const QueryResult = z.object({ matches: z.array(Match) }).openapi('SoftBindingQueryResult');
const AlgList = z.object({ watermarks: z.array(z.object({ alg: z.string() })), fingerprints: z.array(z.object({ alg: z.string() })) }).openapi('SoftBindingAlgList');

/** The raw bodies `matches/byContent` reads. */
const CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'] as const;

export function softBindingRoutes(app: OutputDeps) {
  const verifiers = requireRole(app.verifyToken, 'distributor', 'legal', 'admin');
  const r = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === 'json' ? 'body' : result.target;
        throw problems.badRequest(`the request ${where} is not valid`, fieldErrors(result.error.issues));
      }
    },
  });
  const tags = ['Soft binding'];

  r.openapi(
    createRoute({
      method: 'get',
      path: `${SOFT_BINDING_PREFIX}/matches/byBinding`,
      operationId: 'softBindingQueryByBinding',
      tags,
      summary: 'C2PA manifests whose soft binding matches a value (the specification’s queryByBinding)',
      description: `The outputs whose PDQ fingerprint lies within the threshold of \`value\`, nearest first. Only \`${SOFT_BINDING_ALG}\` is answered; another algorithm is a 400.`,
      ...guardedBy(verifiers),
      request: { query: z.object({ alg: Alg, value: Value, maxResults: MaxResults }) },
      responses: { 200: { description: 'The matches (none is an empty list)', ...json(QueryResult) }, ...invalid, ...authErrors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json({ matches: await matchesByBinding(app, q.alg, q.value, resultCount(q.maxResults)) }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: `${SOFT_BINDING_PREFIX}/matches/byBinding`,
      operationId: 'softBindingQueryByLargeBinding',
      tags,
      summary: 'The same, with the binding in a JSON body (the specification’s queryByLargeBinding)',
      ...guardedBy(verifiers),
      request: {
        query: z.object({ maxResults: MaxResults }),
        body: { required: true, content: { 'application/json': { schema: z.object({ alg: Alg, value: Value }).openapi('SoftBindingQuery') } } },
      },
      responses: { 200: { description: 'The matches', ...json(QueryResult) }, ...invalid, ...authErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json({ matches: await matchesByBinding(app, body.alg, body.value, resultCount(c.req.valid('query').maxResults)) }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'post',
      path: `${SOFT_BINDING_PREFIX}/matches/byContent`,
      operationId: 'softBindingQueryByContent',
      tags,
      summary: 'C2PA manifests matching an uploaded image (the specification’s uploadFile)',
      description:
        'The raw image as the body (JPEG, PNG or WebP; `application/octet-stream` is sniffed). Its PDQ fingerprint is taken, as `/v1/verify` takes it for a file without a manifest, and matched as `matches/byBinding` matches; a picture too flat to recognise matches nothing. When no fingerprint is registered at all, the image is not decoded. `hintAlg` and `hintValue` are accepted and not used.',
      ...guardedBy(verifiers),
      request: {
        query: z.object({ alg: Alg.optional(), maxResults: MaxResults, hintAlg: z.string().max(200).optional(), hintValue: z.string().max(2000).optional() }),
        body: {
          required: true,
          description: 'The image',
          content: Object.fromEntries(CONTENT_TYPES.map((t) => [t, { schema: { type: 'string' as const, format: 'binary' } }])),
        },
      },
      responses: {
        200: { description: 'The matches', ...json(QueryResult) },
        ...invalid,
        413: problem('Larger than MAX_UPLOAD_BYTES'),
        415: problem('Not a JPEG, PNG or WebP image'),
        ...authErrors,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      if (bytes.byteLength === 0) throw problems.badRequest('the body is empty: send the image', [{ field: 'body', message: 'empty' }]);
      let declared = c.req.header('content-type')?.split(';')[0]?.trim() || undefined;
      if (declared === 'application/octet-stream') declared = undefined;
      return c.json({ matches: await matchesByContent(app, bytes, declared, { alg: q.alg, maxResults: resultCount(q.maxResults) }) }, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: `${SOFT_BINDING_PREFIX}/manifests/{manifestId}`,
      operationId: 'softBindingGetManifestById',
      tags,
      summary: 'The C2PA manifest store of a manifest identifier (the specification’s getManifestById)',
      description:
        'The manifest store (JUMBF, `application/c2pa`) the output whose active manifest this is was signed with, as c2pa-rs embedded it: kept with the output, its SHA-256 stated in the output’s audit entry. An output’s store holds its own manifest only (its sources are byte-less ingredients), so `returnActiveManifest` changes nothing. A manifest signed before stores were kept is a 404 whose problem names the output (`outputId`, `record`); an unknown one a plain 404.',
      ...guardedBy(verifiers),
      request: {
        params: z.object({
          manifestId: z
            .string()
            .min(1)
            .max(300)
            .openapi({ param: { name: 'manifestId', in: 'path' }, example: 'urn:c2pa:3fa85f64-5717-4562-b3fc-2c963f66afa6' }),
        }),
        query: z.object({ returnActiveManifest: z.enum(['true', 'false']).optional().openapi({ description: 'only the active manifest (default false)' }) }),
      },
      responses: {
        200: { description: 'The manifest store', content: { 'application/c2pa': { schema: z.string().openapi({ format: 'binary' }) } } },
        ...invalid,
        404: problem('No manifest store here: unknown, or signed by this ledger before stores were kept (the problem names the output)'),
        ...authErrors,
      },
    }),
    async (c) => {
      const { outputId, store } = await manifestStoreById(app, c.req.valid('param').manifestId);
      return c.body(new Uint8Array(store), 200, { 'content-type': 'application/c2pa', 'clearframe-output-id': outputId });
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: `${SOFT_BINDING_PREFIX}/services/supportedAlgorithms`,
      operationId: 'softBindingSupportedAlgorithms',
      tags,
      summary: 'The soft binding algorithms this service answers for (the specification’s getSupportedBindings)',
      ...guardedBy(verifiers),
      responses: { 200: { description: 'The algorithms', ...json(AlgList) }, ...authErrors },
    }),
    (c) => c.json(SUPPORTED_ALGORITHMS, 200),
  );

  return r;
}
