/**
 * The API reference at /docs: Swagger UI from the swagger-ui-dist package, served by the service itself
 * (no CDN, no URL elsewhere), its assets under a versioned path from a fixed allow-list, and the page
 * under a Content-Security-Policy that admits only this origin. Nothing here depends on the database, so
 * it runs on PGlite only.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.ts';

const pkgJson = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');
const pkgDir = path.dirname(pkgJson);
const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
const assets = `/docs/assets/${version}`;

describe.skipIf(process.env.CLEARFRAME_TEST_DB !== 'pglite')('the API reference page (/docs)', () => {
  let svc: TestService;
  let page: Response;
  let html: string;

  beforeAll(async () => {
    svc = await startTestService();
    page = await svc.call('GET', '/docs');
    html = await page.text();
  });
  afterAll(() => svc?.close());

  const refs = () => [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']*)["']/g)].map((m) => m[1]!);

  it('is Swagger UI on /openapi.json, loading only same-origin paths', async () => {
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(html).toContain('id="swagger-ui"');
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const paths = refs();
    expect(paths).toEqual(expect.arrayContaining([`${assets}/swagger-ui-bundle.js`, `${assets}/swagger-ui.css`, `${assets}/clearframe-docs.js`]));
    for (const p of paths) expect(p, p).toMatch(/^\/(?!\/)/);
    const init = await (await svc.call('GET', `${assets}/clearframe-docs.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('tryItOutEnabled: true');
    expect(init).toContain('validatorUrl: null'); // else Swagger UI asks validator.swagger.io
    expect(init).not.toMatch(/https?:\/\//);
  });

  it('carries a Content-Security-Policy that admits only this origin', () => {
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-/);
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).not.toMatch(/https?:/);
  });

  it("serves every script and stylesheet it names: the package's bytes, typed and cached by version", async () => {
    const scripts = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]!);
    const sheets = [...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    expect(sheets.length).toBeGreaterThan(0);
    for (const [url, type] of [...scripts.map((u) => [u, 'text/javascript'] as const), ...sheets.map((u) => [u, 'text/css'] as const)]) {
      const res = await svc.call('GET', url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toContain(type);
      expect(res.headers.get('cache-control'), url).toContain('immutable');
      const name = url.slice(assets.length + 1);
      if (name !== 'clearframe-docs.js') expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(path.join(pkgDir, name))), url).toBe(true);
    }
  });

  it('answers 404 problem+json for any other asset name, another version, or a path out of the package', async () => {
    // Beside names that do answer: the 404s are the allow-list's, not a missing route's.
    expect((await svc.call('GET', `${assets}/swagger-ui.css`)).status).toBe(200);
    expect((await svc.call('GET', `${assets}/favicon-32x32.png`)).headers.get('content-type')).toBe('image/png');
    for (const url of [
      `${assets}/package.json`,
      `${assets}/swagger-ui.js.map`,
      `${assets}/nothing.js`,
      `${assets}/..%2Fpackage.json`,
      `${assets}/%2E%2E%2F%2E%2E%2Fpackage.json`,
      `${assets}/../../../package.json`,
      '/docs/assets/0.0.0/swagger-ui-bundle.js',
      '/docs/assets/..%2F..%2Fpackage.json/swagger-ui.css',
    ]) {
      const res = await svc.call('GET', url);
      expect(res.status, url).toBe(404);
      expect(res.headers.get('content-type'), url).toContain('application/problem+json');
    }
  });

  it('is still listed in the OpenAPI document, which keeps its bearer scheme for try-it', async () => {
    const doc = (await (await svc.call('GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, { 'x-roles'?: string[] }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    };
    const docs = doc.paths['/docs']?.get as { responses: Record<string, { headers?: Record<string, unknown> }> } | undefined;
    expect(docs?.responses['200']?.headers).toHaveProperty(['Content-Security-Policy']);
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/docs/assets'))).toBe(false);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/assets']?.post?.['x-roles']).toEqual(expect.arrayContaining(['legal', 'admin']));
  });
});
