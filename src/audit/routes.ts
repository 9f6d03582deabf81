import { PassThrough, Readable } from 'node:stream';
import { createRoute, z } from '@hono/zod-openapi';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Config } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import { errorResponses, guardedBy, publicRoute, rateLimited } from '../http/openapi-common.ts';
import { problems } from '../http/problem.ts';
import { requireRole } from '../http/role-guard.ts';
import { router } from '../http/validation.ts';
import type { Keyring } from '../signing/keyring.ts';
import { streamEvidence, writeEvidence } from './export.ts';
import { treeSize } from './log-store.ts';
import { auditVerifierKey, consistency, inclusion, listEvents, signedTreeHead } from './service.ts';

const index = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const Event = z
  .object({
    index: z.number().int(),
    time: z.string(),
    actor: z.object({ sub: z.string(), role: z.string() }),
    action: z.string(),
    subjectId: z.string(),
    content: z.unknown(),
    leaf: z.string().openapi({ description: 'base64 of the leaf bytes: RFC 8785 JSON of the event' }),
    leafHash: z.string().openapi({ description: 'base64 SHA-256(0x00 || leaf)' }),
  })
  .openapi('AuditEvent');

/** What the audit routes need from the running service. */
export type AuditDeps = {
  config: Config;
  database: Database;
  keyring: Keyring;
  verifyToken: TokenVerifier;
};

export function auditRoutes(app: AuditDeps) {
  const auditors = requireRole(app.verifyToken, 'legal', 'admin');
  const origin = app.config.auditOrigin;
  const signer = app.keyring.audit;
  const r = router();
  const db = () => app.database.db;

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/checkpoint',
      operationId: 'getAuditCheckpoint',
      tags: ['Audit'],
      summary: 'Signed tree head: a C2SP tlog-checkpoint signed note (public)',
      ...publicRoute,
      responses: { 200: { description: 'The checkpoint note', content: { 'text/plain': { schema: z.string() } } }, ...rateLimited },
    }),
    async (c) => {
      const head = await signedTreeHead(db(), origin, signer);
      c.header('cache-control', 'no-store');
      return c.text(head.note, 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/key',
      operationId: 'getAuditKey',
      tags: ['Audit'],
      summary: 'The checkpoint verifier key (public): signed-note vkey and JWK',
      ...publicRoute,
      responses: {
        200: {
          description: 'Verifier key',
          content: {
            'application/json': {
              schema: z.object({ origin: z.string(), vkey: z.string(), algorithm: z.literal('Ed25519'), jwk: z.record(z.string(), z.unknown()) }),
            },
          },
        },
        ...rateLimited,
      },
    }),
    (c) => c.json({ origin, vkey: auditVerifierKey(origin, signer), algorithm: 'Ed25519' as const, jwk: { ...signer.publicJwk } }, 200),
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/events',
      operationId: 'listAuditEvents',
      tags: ['Audit'],
      summary: 'Log entries from an index, with their leaf bytes',
      ...guardedBy(auditors),
      request: { query: z.object({ from: index.default(0), limit: z.coerce.number().int().min(1).max(1000).default(100) }) },
      responses: {
        200: {
          description: 'Entries',
          content: {
            'application/json': { schema: z.object({ treeSize: z.number().int(), events: z.array(Event), next: z.number().int().nullable() }) },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { from, limit } = c.req.valid('query');
      return c.json(await listEvents(db(), from, limit), 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/proofs/inclusion',
      operationId: 'getInclusionProof',
      tags: ['Audit'],
      summary: 'RFC 9162 inclusion proof of one entry in the tree of a given size (default: now)',
      ...guardedBy(auditors),
      request: { query: z.object({ index, treeSize: index.optional() }) },
      responses: {
        200: {
          description: 'Inclusion proof (hashes base64)',
          content: {
            'application/json': {
              schema: z.object({ index: z.number(), treeSize: z.number(), leafHash: z.string(), hashes: z.array(z.string()), rootHash: z.string() }),
            },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await inclusion(db(), q.index, q.treeSize), 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/proofs/consistency',
      operationId: 'getConsistencyProof',
      tags: ['Audit'],
      summary: 'RFC 9162 consistency proof between two tree sizes (default to: now)',
      ...guardedBy(auditors),
      request: { query: z.object({ from: index, to: index.optional() }) },
      responses: {
        200: {
          description: 'Consistency proof (hashes base64)',
          content: {
            'application/json': {
              schema: z.object({ from: z.number(), to: z.number(), hashes: z.array(z.string()), fromRootHash: z.string(), toRootHash: z.string() }),
            },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await consistency(db(), q.from, q.to), 200);
    },
  );

  r.openapi(
    createRoute({
      method: 'get',
      path: '/v1/audit/evidence',
      operationId: 'exportEvidenceBundle',
      tags: ['Audit'],
      summary: 'An evidence bundle of the entries [from, to): each with its leaf and inclusion proof in a checkpoint signed now',
      description:
        'What `clearframe audit export` writes (format `clearframe-audit-evidence/v1`), streamed as the entries are read, as a download. `to` defaults to the log’s size and is capped at it; the bundle’s own `from` and `to` say what it holds. Check it offline with `clearframe audit verify --bundle FILE --key VKEY` (the key of `GET /v1/audit/key`). A response cut short is not one whole JSON document, and the verifier refuses it.',
      ...guardedBy(auditors),
      request: {
        query: z.object({
          from: index.openapi({ description: 'the first entry' }),
          to: index.optional().openapi({ description: 'one past the last entry (default: the log’s size)' }),
        }),
      },
      responses: {
        200: {
          description: 'The bundle (attachment)',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()).openapi({ description: 'clearframe-audit-evidence/v1: see docs/audit-log.md' }) } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const size = await treeSize(db());
      // Refused before anything is streamed: once the 200 has gone out, an error can only cut the body short.
      if (q.from >= size) throw problems.validation(`from ${q.from} is not in the log (${size} entries)`, [{ field: 'from', message: `must be less than ${size}` }]);
      if (q.to !== undefined && q.to <= q.from) throw problems.validation(`to must be greater than from (${q.from})`, [{ field: 'to', message: 'must be greater than from' }]);
      const stream = await streamEvidence(db(), origin, signer, q.from, q.to);
      const out = new PassThrough();
      // The bundle is written as it is read, at the pace the client takes it (writeEvidence waits for drain).
      writeEvidence(stream, out).then(
        () => out.end(),
        (e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))),
      );
      const last = stream.header.to! - 1;
      return c.body(Readable.toWeb(out) as ReadableStream<Uint8Array>, 200, {
        'content-type': 'application/json',
        'content-disposition': `attachment; filename="clearframe-evidence-${q.from}-${last}.json"`,
        'clearframe-tree-size': String(stream.treeSize),
      }) as never;
    },
  );

  return r;
}
