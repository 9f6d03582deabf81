import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { AppContext } from './app-context.ts';
import { assetRoutes } from './assets/routes.ts';
import { appendBlocker } from './audit/log-store.ts';
import { auditRoutes } from './audit/routes.ts';
import { availsRoutes } from './avails/routes.ts';
import { FromAvails } from './avails/schemas.ts';
import { availableAssetIds } from './avails/service.ts';
import { revocationDownstream } from './checkpoints/downstream.ts';
import { checkpointRoutes } from './checkpoints/routes.ts';
import { consoleRoutes } from './console/routes.ts';
import { consoleSignInRoutes } from './console/sign-in-routes.ts';
import { datasetRoutes, datasetSelection } from './datasets/routes.ts';
import { docsAsset, docsContentSecurityPolicy, renderDocsPage, swaggerUiVersion } from './docs-page.ts';
import { gateRoutes } from './gate/routes.ts';
import type { AppEnv } from './http/env.ts';
import { loggableError } from './http/error-log.ts';
import { hostileInput } from './http/json-body.ts';
import { publicRoute, rateLimited } from './http/openapi-common.ts';
import { Problem, problemResponse } from './http/problem.ts';
import { rateLimit } from './http/rate-limit.ts';
import { securityHeaders } from './http/security-headers.ts';
import { importRoutes } from './imports/routes.ts';
import { keyRoutes } from './keys/routes.ts';
import { licenseRoutes } from './licenses/routes.ts';
import { assetLicenseCondition } from './licenses/service.ts';
import { notificationRoutes } from './notifications/routes.ts';
import { findOutput } from './outputs/reader.ts';
import { outputRoutes } from './outputs/routes.ts';
import { reportRoutes } from './reports/routes.ts';
import { rightsRoutes } from './rights/routes.ts';
import { softBindingRoutes } from './softbinding/routes.ts';
import { tuningRoutes } from './tuning/routes.ts';

/** The document's head: the version, what the service is, and where it answers (PUBLIC_URL). */
const openApiInfo = (publicUrl: string) => ({
  openapi: '3.1.0',
  info: {
    title: 'Clearframe',
    version: '0.1.0',
    description:
      'Rights and provenance ledger for concept art used to fine-tune generative models: licenses, training clearances, checkpoints, signed outputs, and a tamper-evident audit log. Each operation behind a bearer token names the token roles it admits in `x-roles`.',
    license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
  },
  servers: [{ url: publicUrl, description: 'This ledger (PUBLIC_URL)' }],
});

const Health = z.object({ status: z.literal('ok') });
const Readiness = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.object({ database: z.boolean(), migrations: z.boolean(), keys: z.boolean(), auditLog: z.boolean() }),
  reasons: z.array(z.string()).openapi({ description: 'each failing check in words (empty when ready)' }),
});
const anyJson = z.record(z.string(), z.unknown());

/**
 * Operations whose JSON bodies are lists of asset ids (up to 200,000), or an import's file hashes: MAX_JSON_LIST_BYTES,
 * not MAX_JSON_BYTES.
 */
const LIST_BODY_OPERATIONS = new Set(['createDataset', 'evaluateGate', 'createImport']);
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

type RouteDefinition = { method: string; path: string; operationId?: string; request?: { body?: { content?: Record<string, unknown> } } } & Record<string, unknown>;

/**
 * Each operation's body limits, per media type, as the service enforces them: written into the
 * OpenAPI document as `x-body-limit` (bytes), and looked up per request by hono's route path.
 */
function declareBodyLimits(api: OpenAPIHono<AppEnv>, config: AppContext['config']): Map<string, number> {
  const jsonLimits = new Map<string, number>();
  for (const def of api.openAPIRegistry.definitions) {
    if (def.type !== 'route') continue;
    const route = def.route as unknown as RouteDefinition;
    const content = route.request?.body?.content;
    if (!content) continue;
    const json = LIST_BODY_OPERATIONS.has(route.operationId ?? '') ? config.http.maxJsonListBytes : config.http.maxJsonBytes;
    route['x-body-limit'] = Object.fromEntries(Object.keys(content).map((type) => [type, JSON_MEDIA_TYPE.test(type) ? json : config.maxUploadBytes]));
    jsonLimits.set(`${route.method.toUpperCase()} ${route.path.replace(/\{(\w+)\}/g, ':$1')}`, json);
  }
  return jsonLimits;
}

export function createApp(app: AppContext): OpenAPIHono<AppEnv> {
  const api = new OpenAPIHono<AppEnv>();

  api.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    const logger = app.logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('logger', logger);
    c.header('x-request-id', requestId);
    const started = performance.now();
    await next();
    // Method, path and status only: never headers (tokens) or bodies.
    logger.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  });

  api.use('*', securityHeaders());
  api.use('*', rateLimit({ ...app.config.http.rateLimit, trustProxy: app.config.http.trustProxy, verifyToken: app.verifyToken }));
  // Filled once every route is mounted (below): the limits come from the routes' own definitions.
  let jsonLimits = new Map<string, number>();
  const uploadLimit = bodyLimit({
    maxSize: app.config.maxUploadBytes,
    onError: () => {
      throw new Problem(413, 'payload-too-large', `the request body is larger than ${app.config.maxUploadBytes} bytes`, { limit: app.config.maxUploadBytes });
    },
  });
  api.use(
    '*',
    hostileInput({
      json: (method, routePath) => jsonLimits.get(`${method} ${routePath}`) ?? app.config.http.maxJsonBytes,
      upload: app.config.maxUploadBytes,
      other: uploadLimit,
    }),
  );

  api.onError((err, c) => {
    if (err instanceof Problem) return problemResponse(c, err);
    if (err instanceof HTTPException) {
      const status = err.status;
      const type = status === 415 ? 'unsupported-media-type' : status === 413 ? 'payload-too-large' : status === 401 ? 'unauthenticated' : 'validation';
      // e.g. malformed JSON from the validator: still a client error, still problem+json
      return problemResponse(c, new Problem(status as 400, type, err.message || 'the request could not be read'));
    }
    // Never the error as it is: a database error carries the statement's parameters, i.e. request content.
    c.get('logger')?.error({ err: loggableError(err) }, 'unhandled error');
    return problemResponse(c, new Problem(500, 'internal', 'an internal error occurred; the request id identifies it in the logs', { requestId: c.get('requestId') }));
  });

  api.notFound((c) => problemResponse(c, new Problem(404, 'not-found', `no route ${c.req.method} ${c.req.path}`)));

  api.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });

  const operations = ['Operations'];
  api.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: operations,
      summary: 'Liveness: the process answers',
      operationId: 'healthz',
      ...publicRoute,
      responses: { 200: { description: 'Alive', content: { 'application/json': { schema: Health } } }, ...rateLimited },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );
  api.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags: operations,
      summary: 'Readiness: the database (with its migrations), the signing keys, and an audit log that can be appended to',
      operationId: 'readyz',
      ...publicRoute,
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: Readiness } } },
        503: { description: 'Not ready: the failing check is false', content: { 'application/json': { schema: Readiness } } },
        ...rateLimited,
      },
    }),
    async (c) => {
      const database = await app.database.ready().catch(() => false);
      const keys = Boolean(app.keyring.audit && app.keyring.tokenIssuer);
      // Ready means a write can succeed: a log whose tip lacks its tree nodes refuses every append.
      const blocker = database ? await appendBlocker(app.database.db).catch((e: unknown) => `the audit log could not be read: ${(e as Error).message}`) : null;
      const auditLog = database && blocker === null;
      const reasons = [
        ...(database ? [] : ['the database does not answer, or a migration is not applied']),
        ...(keys ? [] : ['the signing keys are not loaded']),
        ...(blocker ? [blocker] : []),
      ];
      const ready = database && keys && auditLog;
      return c.json({ status: ready ? ('ready' as const) : ('not ready' as const), checks: { database, migrations: database, keys, auditLog }, reasons }, ready ? 200 : 503);
    },
  );

  api.route('/', keyRoutes(app));
  // Ports of lower capabilities onto higher ones: an asset derives from an output, a revocation reaches checkpoints.
  api.route('/', assetRoutes({ ...app, findOutput, assetLicenseCondition }));
  api.route('/', licenseRoutes({ ...app, revocationDownstream }));
  api.route('/', auditRoutes(app));
  // A dataset may be frozen from an availability search (avails sits above datasets).
  api.route('/', datasetRoutes({ ...app, fromAvails: datasetSelection({ schema: FromAvails, select: (principal, query, max) => availableAssetIds(app, principal, query, max) }) }));
  api.route('/', gateRoutes(app));
  api.route('/', tuningRoutes(app));
  api.route('/', checkpointRoutes(app));
  api.route('/', outputRoutes(app));
  api.route('/', softBindingRoutes(app));
  api.route('/', rightsRoutes(app));
  api.route('/', reportRoutes(app));
  api.route('/', consoleSignInRoutes(app.config));
  api.route('/', availsRoutes(app));
  api.route('/', importRoutes(app));
  api.route('/', notificationRoutes(app));

  api.openAPIRegistry.registerPath({
    method: 'get',
    path: '/openapi.json',
    tags: operations,
    summary: 'This OpenAPI 3.1 document',
    operationId: 'openapi',
    ...publicRoute,
    responses: { 200: { description: 'The OpenAPI 3.1 document', content: { 'application/json': { schema: anyJson } } }, ...rateLimited },
  });
  api.openAPIRegistry.registerPath({
    method: 'get',
    path: '/docs',
    tags: operations,
    summary: 'The API reference (Swagger UI, served by this service with its assets), with try-it',
    operationId: 'docs',
    ...publicRoute,
    responses: {
      200: {
        description: 'The reference page; its scripts and stylesheet answer under `/docs/assets/<swagger-ui-dist version>/`',
        headers: {
          'Content-Security-Policy': { description: 'Only this origin: the page loads nothing from elsewhere', schema: { type: 'string' } },
        },
        content: { 'text/html': { schema: z.string() } },
      },
      ...rateLimited,
    },
  });
  jsonLimits = declareBodyLimits(api, app.config);
  const info = openApiInfo(app.config.publicUrl);
  api.doc31('/openapi.json', info);
  api.get('/docs', (c) => {
    c.header('content-security-policy', docsContentSecurityPolicy);
    c.header('x-content-type-options', 'nosniff');
    c.header('cache-control', 'no-cache');
    return c.html(renderDocsPage(info.info));
  });
  // The page's assets, from the swagger-ui-dist package: a fixed allow-list of names, the version in the path.
  api.get('/docs/assets/:version/:name', (c) => {
    const { version, name } = c.req.param();
    const asset = version === swaggerUiVersion ? docsAsset(name) : undefined;
    if (!asset) throw new Problem(404, 'not-found', `no docs asset ${c.req.path}`);
    c.header('content-type', asset.contentType);
    c.header('cache-control', 'public, max-age=31536000, immutable');
    c.header('x-content-type-options', 'nosniff');
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200);
  });
  // The web console (src/console): its shell and assets, with its own CSP; it reaches the ledger only through
  // the routes above, from the browser.
  api.route('/', consoleRoutes(app.config));
  return api;
}
