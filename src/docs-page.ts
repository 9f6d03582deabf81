/**
 * The API reference at `/docs`: Swagger UI (the swagger-ui-dist package, a production dependency) served
 * by the service itself, pointed at `/openapi.json`. No CDN, no inline script: the page, its assets and
 * the document all come from this origin, which the page's Content-Security-Policy enforces.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const packageJson = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');
const packageDir = path.dirname(packageJson);

/** The swagger-ui-dist version served; it is in every asset path, so an asset's bytes never change under its URL. */
export const swaggerUiVersion: string = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;

/** Where the page's assets answer: `/docs/assets/<version>/<name>`. */
export const docsAssetsBase = `/docs/assets/${swaggerUiVersion}`;

/** The one script of our own: starts Swagger UI on `/openapi.json`, with try-it and bearer auth. */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: true,
    persistAuthorization: false,
    displayRequestDuration: true,
    showExtensions: true,
    showCommonExtensions: true,
    defaultModelsExpandDepth: 1,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
});
`;

/** The files the page may load: a fixed allow-list (nothing else in the package, no path from the request). */
const ASSETS: Record<string, { file?: string; body?: string; contentType: string }> = {
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', contentType: 'text/javascript; charset=utf-8' },
  'swagger-ui.css': { file: 'swagger-ui.css', contentType: 'text/css; charset=utf-8' },
  'favicon-32x32.png': { file: 'favicon-32x32.png', contentType: 'image/png' },
  'favicon-16x16.png': { file: 'favicon-16x16.png', contentType: 'image/png' },
  'clearframe-docs.js': { body: INIT_SCRIPT, contentType: 'text/javascript; charset=utf-8' },
};

const loaded = new Map<string, Uint8Array>();

/** An allow-listed asset's bytes and content type, or undefined for any other name. */
export function docsAsset(name: string): { body: Uint8Array; contentType: string } | undefined {
  if (!Object.hasOwn(ASSETS, name)) return undefined;
  const asset = ASSETS[name]!;
  let body = loaded.get(name);
  if (!body) {
    body = asset.file ? new Uint8Array(readFileSync(path.join(packageDir, asset.file))) : new TextEncoder().encode(asset.body);
    loaded.set(name, body);
  }
  return { body, contentType: asset.contentType };
}

/**
 * The page's policy: only this origin. Swagger UI sets inline styles (React style attributes) and its
 * stylesheet draws icons from data: URIs; it needs nothing else.
 */
export const docsContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function renderDocsPage(info: { title: string; version: string }): string {
  const a = docsAssetsBase;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} ${esc(info.version)} API reference</title>
<link rel="stylesheet" href="${a}/swagger-ui.css">
<link rel="icon" type="image/png" href="${a}/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="${a}/favicon-16x16.png" sizes="16x16">
</head>
<body>
<noscript><p>The API reference needs JavaScript. The OpenAPI 3.1 document is at <a href="/openapi.json">/openapi.json</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="${a}/swagger-ui-bundle.js"></script>
<script src="${a}/clearframe-docs.js"></script>
</body>
</html>
`;
}
