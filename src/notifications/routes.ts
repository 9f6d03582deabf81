import { createRoute, z } from '@hono/zod-openapi';
import type { Ledger } from '../audit/ledger.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Config } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import { CursorQuery, errorResponses, guardedBy, IdParam, json, LimitQuery } from '../http/openapi-common.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import { EVENT_TYPES } from './events.ts';
import { createSubscription, deleteSubscription, getSubscriptionRow, listDeliveries, listSubscriptions, subscriptionView } from './service.ts';

const Ids = (prefix: string, what: string) =>
  z
    .array(z.string().min(1).max(100))
    .max(1000)
    .optional()
    .openapi({ description: `only events that concern one of these ${what}`, example: [`${prefix}_8hX2kq0aVbq4Zz1mR9sT`] });

export const SubscriptionCreate = z
  .object({
    url: z
      .string()
      .min(1)
      .max(2000)
      .openapi({ description: 'the callback; its origin must be in WEBHOOK_ALLOWED_ORIGINS', example: 'https://hooks.distributor.example/clearframe' }),
    events: z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length),
    daysBefore: z
      .union([z.number().int().min(1).max(3650), z.array(z.number().int().min(1).max(3650)).min(1).max(10)])
      .optional()
      .transform((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]))
      .openapi({ description: 'with `license.ending`: how many days before a term ends to tell (one number or up to ten)', example: [30, 7] }),
    filter: z
      .object({ assetIds: Ids('ast', 'assets'), checkpointIds: Ids('ckp', 'checkpoints'), outputIds: Ids('out', 'outputs') })
      .strict()
      .optional()
      .openapi({ description: 'narrows the subscription: each list given must name one of the ids the event concerns (a distributor may give `outputIds` only)' }),
  })
  .strict()
  .openapi('SubscriptionCreate');

const Subscription = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.enum(EVENT_TYPES)),
    daysBefore: z.array(z.number().int()),
    filter: z.record(z.string(), z.array(z.string())),
    owner: z.object({ sub: z.string(), role: z.string() }),
    status: z.enum(['active', 'deleted']),
    createdAt: z.string(),
    auditIndex: z.number().int(),
    deletedAt: z.string().nullable(),
    deletedBy: z.string().nullable(),
    deletedAuditIndex: z.number().int().nullable(),
  })
  .openapi('Subscription');

const Delivery = z
  .object({
    eventId: z.string().openapi({ description: 'the event id: the `Clearframe-Event-Id` header and the body’s `id`, the same on every attempt' }),
    type: z.enum(EVENT_TYPES),
    state: z.enum(['pending', 'delivered', 'failed', 'cancelled']),
    auditIndex: z.number().int().nullable().openapi({ description: 'the audit entry of the change that caused it (null for license.ending)' }),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    lastError: z.string().nullable(),
    attempts: z.array(
      z.object({
        attempt: z.number().int(),
        attemptedAt: z.string(),
        outcome: z.enum(['delivered', 'retry', 'failed']),
        statusCode: z.number().int().nullable(),
        error: z.string().nullable(),
        durationMs: z.number().int(),
      }),
    ),
    body: z.record(z.string(), z.unknown()).openapi({ description: 'the JSON body as sent' }),
  })
  .openapi('SubscriptionDelivery');

/** What the notification routes need from the running service. */
export type NotificationDeps = {
  config: Config;
  database: Database;
  ledger: Ledger;
  verifyToken: TokenVerifier;
};

export function notificationRoutes(app: NotificationDeps) {
  const subscribers = requireRole(app.verifyToken, 'legal', 'admin', 'distributor');
  const r = router();
  const db = () => app.database.db;

  r.openapi(
    createRoute({
      method: 'post',
      path: '/v1/subscriptions',
      operationId: 'createSubscription',
      tags: ['Notifications'],
      summary: 'Subscribe a callback URL to license revocations, ending terms, checkpoint taints or output standing',
      description:
        'Each event is POSTed to `url` as JSON, signed (a detached JWS in `Clearframe-Signature`, key in /.well-known/jwks.json) and with a stable `Clearframe-Event-Id`; retried with backoff until a 2xx. The URL’s origin must be one of WEBHOOK_ALLOWED_ORIGINS (unset: no subscription can be made), else 422. A distributor may subscribe to `output.standingChanged` only (it reads outputs, not licenses or checkpoints), filtered by `outputIds` at most; anything else is 403.',
      ...guardedBy(subscribers),
      request: { body: { required: true, ...json(SubscriptionCreate) } },
      responses: { 201: { description: 'Subscribed', ...json(Subscription) }, ...errorResponses },
    }),
    async (c) => {
      const view = await createSubscription(app.ledger, c.get('principal'), c.req.valid('json'), app.config.notifications.allowedOrigins);
      c.header('location', `/v1/subscriptions/${view.id}`);
      return c.json(view, 201);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/subscriptions',
      operationId: 'listSubscriptions',
      tags: ['Notifications'],
      summary: 'Active subscriptions, newest first (a distributor sees its own)',
      ...guardedBy(subscribers),
      request: { query: z.object({ cursor: CursorQuery, limit: LimitQuery }).strict() },
      responses: { 200: { description: 'A page', ...json(z.object({ items: z.array(Subscription), nextCursor: z.string().nullable() })) }, ...errorResponses },
    }),
    async (c) => c.json(await listSubscriptions(db(), c.get('principal'), c.req.valid('query')), 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/subscriptions/{id}',
      operationId: 'getSubscription',
      tags: ['Notifications'],
      summary: 'A subscription, deleted ones included',
      ...guardedBy(subscribers),
      request: { params: IdParam('sub') },
      responses: { 200: { description: 'The subscription', ...json(Subscription) }, ...errorResponses },
    }),
    async (c) => c.json(subscriptionView(await getSubscriptionRow(db(), c.get('principal'), c.req.valid('param').id)), 200),
  );

  r.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/subscriptions/{id}',
      operationId: 'deleteSubscription',
      tags: ['Notifications'],
      summary: 'Delete a subscription: nothing more is sent to it (what was still pending is cancelled)',
      ...guardedBy(subscribers),
      request: { params: IdParam('sub') },
      responses: { 200: { description: 'The deleted subscription', ...json(Subscription) }, ...errorResponses },
    }),
    async (c) => c.json(await deleteSubscription(app.ledger, c.get('principal'), c.req.valid('param').id), 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/subscriptions/{id}/deliveries',
      operationId: 'listSubscriptionDeliveries',
      tags: ['Notifications'],
      summary: 'The delivery log: each event written for the subscription, newest first, with its state and every attempt',
      ...guardedBy(subscribers),
      request: {
        params: IdParam('sub'),
        query: z.object({ cursor: z.string().max(200).optional().openapi({ description: 'the `nextCursor` of the previous page' }), limit: LimitQuery }).strict(),
      },
      responses: { 200: { description: 'A page', ...json(z.object({ items: z.array(Delivery), nextCursor: z.string().nullable() })) }, ...errorResponses },
    }),
    async (c) => c.json(await listDeliveries(db(), c.get('principal'), c.req.valid('param').id, c.req.valid('query')), 200),
  );
  return r;
}
