// The console's script and stylesheet, held in memory and served by the service itself (no CDN, nothing
// fetched at start). `npm run build` bundles the script into dist/console/console.js (build.ts); from src/
// (npm start, the tests) there is no such file and esbuild bundles it here, once per process, in memory,
// so a fresh clone needs no build step. Each is kept with its gzip and a content hash for its ETag.
// OpenID Connect sign-in (oidc.js, with oauth4webapi) is a script of its own, loaded by console.js only when
// the service is configured for it: the embedded mode's first load does not carry it.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export type ConsoleAsset = { body: Uint8Array; gzip: Uint8Array; etag: string; contentType: string };
export type ConsoleAssets = { script: ConsoleAsset; oidc: ConsoleAsset; style: ConsoleAsset };

/** Each browser script: its entry in client/ and the file `npm run build` writes beside this module. */
export const SCRIPTS = {
  script: { entry: fileURLToPath(new URL('./client/main.ts', import.meta.url)), file: 'console.js' },
  oidc: { entry: fileURLToPath(new URL('./client/oidc.ts', import.meta.url)), file: 'oidc.js' },
} as const;
const STYLE = new URL('./client/console.css', import.meta.url);

/** esbuild's options for the browser script: one ES module, minified, for browsers of the last two years. */
export const bundleOptions = {
  bundle: true,
  format: 'esm',
  target: ['chrome120', 'firefox121', 'safari17'],
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
} as const;

let loading: Promise<ConsoleAssets> | null = null;

export function consoleAssets(): Promise<ConsoleAssets> {
  loading ??= load();
  loading.catch(() => {
    loading = null; // a failed bundle is tried again on the next request
  });
  return loading;
}

async function load(): Promise<ConsoleAssets> {
  const script = (which: keyof typeof SCRIPTS) => readFile(new URL(`./${SCRIPTS[which].file}`, import.meta.url)).catch(() => bundle(SCRIPTS[which].entry));
  const [main, oidc, style] = await Promise.all([script('script'), script('oidc'), readFile(STYLE)]);
  const js = 'text/javascript; charset=utf-8';
  return { script: asset(main, js), oidc: asset(oidc, js), style: asset(style, 'text/css; charset=utf-8') };
}

async function bundle(entry: string): Promise<Uint8Array> {
  // A dev dependency: present wherever src/ runs (npm start, tests); dist/ carries the prebuilt bundles.
  const esbuild = await import('esbuild');
  const out = await esbuild.build({ ...bundleOptions, entryPoints: [entry], target: [...bundleOptions.target], write: false, logLevel: 'silent' });
  return out.outputFiles[0]!.contents;
}

function asset(body: Uint8Array, contentType: string): ConsoleAsset {
  return { body, gzip: gzipSync(body, { level: 9 }), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, contentType };
}
