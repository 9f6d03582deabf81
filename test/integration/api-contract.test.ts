/**
 * What distributors and clients read off the service without a token and before a call: the C2PA trust
 * anchors (an output verifies offline against what /v1/trust/c2pa serves), and the OpenAPI document
 * (patterns a plain JavaScript RegExp compiles and the documented examples match, servers, the security of
 * every operation, the roles each admits, held equal to the role guards and to the README's roles table).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/auth/tokens.ts';
import { verifyOffline } from '../../src/outputs/verify-offline.ts';
import { createC2paWasmEngine } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Operation = {
  security?: Record<string, string[]>[];
  'x-roles'?: string[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, unknown>;
};
type Document = { openapi: string; servers?: { url: string }[]; paths: Record<string, Record<string, Operation>>; components?: unknown };

const ROLES: Role[] = ['admin', 'legal', 'vendor', 'distributor', 'generator'];
const PUBLIC = [
  'GET /.well-known/jwks.json',
  'GET /v1/trust/c2pa',
  'GET /v1/audit/checkpoint',
  'GET /v1/audit/key',
  'GET /healthz',
  'GET /readyz',
  'GET /openapi.json',
  'GET /docs',
  'GET /v1/console/config',
];

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, method, path, op })));

/** Every schema object in the document, with where it is. */
function* schemas(node: unknown, at = '#'): Generator<{ at: string; schema: Record<string, unknown> }> {
  if (Array.isArray(node)) {
    for (const [i, v] of node.entries()) yield* schemas(v, `${at}/${i}`);
  } else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (typeof o.pattern === 'string') yield { at, schema: o };
    for (const [k, v] of Object.entries(o)) yield* schemas(v, `${at}/${k}`);
  }
}

/** The README's "Identity and roles" table: route → roles ("public" for none). */
function readmeRoles(): Map<string, string[]> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Identity and roles'));
  const body = section.slice(0, section.indexOf('\n## '));
  const table = new Map<string, string[]>();
  for (const line of body.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (!line.startsWith('| `') || cells.length < 4) continue;
    const roles = cells[2]!
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    for (const [, route] of cells[1]!.matchAll(/`([^`]+)`/g)) {
      expect(table.has(route!), `${route} is in the README table twice`).toBe(false);
      table.set(route!, roles);
    }
  }
  return table;
}

describe.skipIf(databaseUnavailable())('what distributors and clients read: trust anchors and the OpenAPI document', () => {
  let svc: TestService;
  let doc: Document;
  const tokens = {} as Record<Role, string>;

  beforeAll(async () => {
    svc = await startTestService();
    for (const role of ROLES) tokens[role] = await svc.token(role);
    const res = await svc.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = (await res.json()) as Document;
  });
  afterAll(async () => svc?.close());

  it('publishes the C2PA trust anchors without a token, and an output verifies offline against them', async () => {
    const res = await svc.call('GET', '/v1/trust/c2pa');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
    const pem = await res.text();
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
    expect(pem).toBe(svc.runtime.ctx.keyring.c2pa.trustAnchorsPem.map((a) => (a.endsWith('\n') ? a : `${a}\n`)).join(''));

    const { checkpoint } = await activeCheckpoint(svc, tokens.legal, tokens.vendor, 1);
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 16 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpoint.id);
    const signedRes = await svc.call('POST', '/v1/outputs', { token: tokens.generator, form });
    expect(signedRes.status).toBe(200);
    const signed = new Uint8Array(await signedRes.arrayBuffer());

    // A distributor's machine: no keys of the service, only the PEM it published.
    const pems = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)!;
    const distributor = createC2paWasmEngine({ trustAnchorsPem: pems });
    expect(await verifyOffline(distributor, signed, { mimeType: 'image/jpeg' })).toMatchObject({ verdict: 'valid', c2pa: { trusted: true, intact: true } });
    const stranger = createC2paWasmEngine({ trustAnchorsPem: [] });
    expect(await verifyOffline(stranger, signed, { mimeType: 'image/jpeg' })).toMatchObject({ verdict: 'untrusted' });
  });

  it('documents patterns a plain RegExp compiles, which the documented examples match', () => {
    const found = [...schemas(doc)];
    expect(found.length).toBeGreaterThan(0);
    for (const { at, schema } of found) {
      const pattern = schema.pattern as string;
      let re: RegExp;
      expect(() => (re = new RegExp(pattern, 'u')), `${at}: ${pattern}`).not.toThrow();
      const examples = [...(schema.example !== undefined ? [schema.example] : []), ...((schema.examples as unknown[]) ?? [])];
      for (const example of examples) expect(re!.test(String(example)), `${at}: ${example} against ${pattern}`).toBe(true);
    }
    const mediaType = found.find((f) => f.at.endsWith('/AssetCreate/properties/mediaType'));
    expect(mediaType?.schema.example).toBe('image/png');
    for (const type of ['image/png', 'video/mp4', 'Image/PNG']) expect(new RegExp(mediaType!.schema.pattern as string).test(type), type).toBe(true);
  });

  it('names its server, and gives every operation its security: none for the public ones, a bearer token with x-roles otherwise', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([expect.objectContaining({ url: 'http://clearframe.test' })]);
    const ops = operations(doc);
    for (const route of PUBLIC) expect(ops.map((o) => o.route)).toContain(route);
    for (const { route, op } of ops) {
      if (PUBLIC.includes(route)) {
        expect(op.security, route).toEqual([]);
        expect(op['x-roles'], route).toBeUndefined();
      } else {
        expect(op.security, route).toEqual([{ bearerAuth: [] }]);
        expect(op['x-roles']?.length, route).toBeGreaterThan(0);
        for (const role of op['x-roles']!) expect(ROLES, route).toContain(role);
      }
    }
  });

  it('gives every operation a unique operationId, for generated clients', () => {
    const ids = operations(doc).map(({ route, op }) => [route, (op as { operationId?: string }).operationId] as const);
    for (const [route, id] of ids) expect(id, route).toMatch(/^[a-z][A-Za-z0-9]+$/);
    expect(new Set(ids.map(([, id]) => id)).size).toBe(ids.length);
  });

  it('describes the body of POST /v1/verify: multipart `file`, or the raw file', () => {
    const body = doc.paths['/v1/verify']!.post!.requestBody!;
    expect(body.required).toBe(true);
    expect(body.content!['multipart/form-data']!.schema).toMatchObject({ properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] });
    for (const type of ['image/jpeg', 'image/png', 'image/webp', 'video/mp4', 'video/quicktime']) expect(body.content, type).toHaveProperty([type]);
  });

  it('x-roles are the roles each route admits: every other role gets 403, theirs get past the guard', async () => {
    for (const { route, method, path, op } of operations(doc)) {
      const url = path.replaceAll(/\{[^}]+\}/g, 'none_0');
      if (PUBLIC.includes(route)) {
        expect((await svc.call(method.toUpperCase(), url)).status, route).toBe(200);
        continue;
      }
      expect((await svc.call(method.toUpperCase(), url)).status, `${route} without a token`).toBe(401);
      for (const role of ROLES) {
        // An empty JSON object: a write that passes the guard stops at validation, changing nothing.
        const res = await svc.call(method.toUpperCase(), url, { token: tokens[role], ...(method === 'get' ? {} : { json: {} }) });
        if (op['x-roles']!.includes(role)) expect([401, 403], `${route} as ${role}: ${res.status}`).not.toContain(res.status);
        else expect(res.status, `${route} as ${role}`).toBe(403);
      }
    }
  });

  it('the README roles table lists every route the app serves, with the same roles', () => {
    const served = new Map(operations(doc).map(({ route, op }) => [route, PUBLIC.includes(route) ? ['public'] : [...op['x-roles']!]]));
    const table = readmeRoles();
    const sorted = (m: Map<string, string[]>) => Object.fromEntries([...m].map(([route, roles]) => [route, [...roles].sort()]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
    expect(sorted(table)).toEqual(sorted(served));
  });
});
