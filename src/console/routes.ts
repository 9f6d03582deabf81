// The web console at /console: the shell page for every console path (the browser script routes) and its two
// assets. It calls only the public API, from the browser; nothing here reads the ledger. Not API operations,
// so not in /openapi.json (as /docs/assets are not).
import { type Context, Hono } from 'hono';
import type { Config } from '../config/config.ts';
import { Problem } from '../http/problem.ts';
import { type ConsoleAsset, consoleAssets } from './assets.ts';
import { consoleSecurityHeaders } from './security.ts';
import { renderShell } from './shell.ts';

export function consoleRoutes(config: Pick<Config, 'consoleOidc'>) {
  const r = new Hono();

  // With OpenID Connect sign-in the browser also reads the issuer's discovery document and token endpoint.
  const headers = consoleSecurityHeaders(config.consoleOidc ? [new URL(config.consoleOidc.issuer).origin] : []);
  const secure = async (c: Context, next: () => Promise<void>) => {
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  };
  r.use('/console', secure);
  r.use('/console/*', secure);

  const serve = (pick: (a: Awaited<ReturnType<typeof consoleAssets>>) => ConsoleAsset) => async (c: Context) => {
    const asset = pick(await consoleAssets());
    const headers: Record<string, string> = { 'content-type': asset.contentType, etag: asset.etag, 'cache-control': 'no-cache', vary: 'accept-encoding' };
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
    const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    if (gzip) headers['content-encoding'] = 'gzip';
    return c.body((gzip ? asset.gzip : asset.body) as Uint8Array<ArrayBuffer>, 200, headers);
  };
  r.get(
    '/console/assets/console.js',
    serve((a) => a.script),
  );
  r.get(
    '/console/assets/oidc.js',
    serve((a) => a.oidc),
  );
  r.get(
    '/console/assets/console.css',
    serve((a) => a.style),
  );

  const shell = async (c: Context) => {
    const a = await consoleAssets();
    c.header('cache-control', 'no-store');
    return c.html(renderShell({ scriptEtag: a.script.etag, styleEtag: a.style.etag }));
  };
  // A file name (with an extension) under /console/assets/ is a script or style that is not here; anything
  // else there is an asset's page (/console/assets/{id}), which the script renders.
  r.get('/console/assets/:name{.+}', (c) => {
    if (!c.req.param('name').includes('.')) return shell(c);
    throw new Problem(404, 'not-found', `no console asset ${c.req.path}`);
  });
  // Every page path (verify, assets, audit, outputs/{id}/rights-chain, ...): the script routes.
  r.get('/console', shell);
  r.get('/console/*', shell);
  return r;
}
