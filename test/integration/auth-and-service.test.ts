import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

describe.skipIf(databaseUnavailable())('identity, roles and the service surface', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService();
  });
  afterAll(async () => svc?.close());

  const issuer = () => svc.runtime.ctx.config.auth;
  const localKey = () => svc.runtime.ctx.keyring.tokenIssuer;

  it('answers 401 problem+json without a token or with a malformed one', async () => {
    const variants: Record<string, string>[] = [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer not-a-jwt' }];
    for (const headers of variants) {
      const res = await svc.call('GET', '/v1/assets', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('refuses alg none, HMAC, expired, wrong issuer, wrong audience and foreign keys', async () => {
    const { issuer: iss, audience: aud } = issuer();
    const none = new UnsecuredJWT({ role: 'legal' }).setIssuer(iss).setAudience(aud).setSubject('x').setExpirationTime('1h').encode();
    const hmac = await new SignJWT({ role: 'legal' })
      .setProtectedHeader({ alg: 'HS256', kid: localKey().signer.kid })
      .setIssuer(iss)
      .setAudience(aud)
      .setSubject('x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!!'));
    const sign = (over: { iss?: string; aud?: string; exp?: number | string; key?: 'local' | 'foreign' }) => {
      const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      return new SignJWT({ role: 'legal' })
        .setProtectedHeader({ alg: 'ES256', kid: localKey().signer.kid })
        .setIssuer(over.iss ?? iss)
        .setAudience(over.aud ?? aud)
        .setSubject('x')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(over.exp ?? '1h')
        .sign(over.key === 'foreign' ? foreign : localKey().privateKey);
    };
    const cases: [string, string][] = [
      ['alg none', none],
      ['HS256', hmac],
      ['expired', await sign({ exp: Math.floor(Date.now() / 1000) - 3600 })],
      ['issuer', await sign({ iss: 'someone-else' })],
      ['audience', await sign({ aud: 'another-service' })],
      ['foreign key', await sign({ key: 'foreign' })],
    ];
    for (const [name, token] of cases) {
      const res = await svc.call('GET', '/v1/assets', { token });
      expect(res.status, name).toBe(401);
    }
    const good = await sign({});
    expect((await svc.call('GET', '/v1/assets', { token: good })).status).toBe(200);
  });

  it('refuses a token whose role is unknown, and a vendor token without a vendor', async () => {
    const { issuer: iss, audience: aud } = issuer();
    const mk = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: localKey().signer.kid })
        .setIssuer(iss)
        .setAudience(aud)
        .setSubject('x')
        .setExpirationTime('1h')
        .sign(localKey().privateKey);
    expect((await svc.call('GET', '/v1/assets', { token: await mk({ role: 'root' }) })).status).toBe(401);
    expect((await svc.call('GET', '/v1/assets', { token: await mk({ role: 'vendor' }) })).status).toBe(401);
  });

  it('lets legal and admin write and read; refuses other roles with 403 and writes nothing', async () => {
    const before = await treeSize(svc.runtime.ctx.database.db);
    for (const role of ['vendor', 'distributor', 'generator'] as const) {
      const token = await svc.token(role);
      const write = await svc.call('POST', '/v1/assets', { token, json: assetBody() });
      expect(write.status, role).toBe(403);
      expect(((await write.json()) as { type: string }).type).toMatch(/forbidden$/);
      expect((await svc.call('GET', '/v1/assets', { token })).status, role).toBe(403);
      expect((await svc.call('GET', '/v1/audit/events', { token })).status, role).toBe(403);
      expect((await svc.call('POST', '/v1/licenses/lic_x/revoke', { token, json: { reason: 'r' } })).status, role).toBe(403);
    }
    expect(await treeSize(svc.runtime.ctx.database.db)).toBe(before);
    for (const role of ['legal', 'admin'] as const) {
      const token = await svc.token(role);
      expect((await svc.call('POST', '/v1/assets', { token, json: assetBody() })).status, role).toBe(201);
      expect((await svc.call('GET', '/v1/assets', { token })).status, role).toBe(200);
    }
  });

  it('serves health, readiness, OpenAPI 3.1, the reference page, and JWKS', async () => {
    expect((await svc.call('GET', '/healthz')).status).toBe(200);
    const ready = await svc.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: true, keys: true } });
    const doc = (await (await svc.call('GET', '/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of [
      '/v1/assets',
      '/v1/assets/{id}',
      '/v1/assets/{id}/licenses',
      '/v1/licenses/{id}/revoke',
      '/v1/audit/checkpoint',
      '/v1/audit/proofs/inclusion',
      '/v1/audit/proofs/consistency',
    ]) {
      expect(doc.paths, p).toHaveProperty([p]);
    }
    const page = await svc.call('GET', '/docs');
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('id="swagger-ui"'); // Swagger UI, on /openapi.json (docs-ui.test.ts)
    const jwks = (await (await svc.call('GET', '/.well-known/jwks.json')).json()) as { keys: { kty: string; crv: string; kid: string }[] };
    expect(jwks.keys.some((k) => k.kty === 'OKP' && k.crv === 'Ed25519' && k.kid === svc.runtime.ctx.keyring.audit.kid)).toBe(true);
    const missing = await svc.call('GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });

  it('echoes a request id on every response', async () => {
    const res = await svc.call('GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect((await svc.call('GET', '/healthz')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('audit-logged the creation of its keys', async () => {
    const token = await svc.token('admin');
    const res = (await (await svc.call('GET', '/v1/audit/events?from=0&limit=5', { token })).json()) as { events: { action: string; subjectId: string }[] };
    const created = res.events.filter((e) => e.action === 'key.created').map((e) => e.subjectId);
    expect(created).toContain(svc.runtime.ctx.keyring.audit.kid);
    expect(created).toContain(svc.runtime.ctx.keyring.tokenIssuer.signer.kid);
  });
});
