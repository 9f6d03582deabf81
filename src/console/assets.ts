// The console's script and stylesheet, held in memory and served by the service itself (no CDN, nothing
// fetched at start). `npm run build` bundles the script into dist/console/console.js (build.ts); from src/
// (npm start, the tests) there is no such file and esbuild bundles it here, once per process, in memory,
// so a fresh clone needs no build step. Each is kept with its gzip and a content hash for its ETag.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export type ConsoleAsset = { body: Uint8Array; gzip: Uint8Array; etag: string; contentType: string };
export type ConsoleAssets = { script: ConsoleAsset; style: ConsoleAsset };

const ENTRY = fileURLToPath(new URL('./client/main.ts', import.meta.url));
const PREBUILT = new URL('./console.js', import.meta.url);
const STYLE = new URL('./client/console.css', import.meta.url);

/** esbuild's options for the browser script: one ES module, minified, for browsers of the last two years. */
export const bundleOptions = {
  entryPoints: [ENTRY],
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
  const [script, style] = await Promise.all([readFile(PREBUILT).catch(() => bundle()), readFile(STYLE)]);
  return { script: asset(script, 'text/javascript; charset=utf-8'), style: asset(style, 'text/css; charset=utf-8') };
}

async function bundle(): Promise<Uint8Array> {
  // A dev dependency: present wherever src/ runs (npm start, tests); dist/ carries the prebuilt bundle.
  const esbuild = await import('esbuild');
  const out = await esbuild.build({ ...bundleOptions, entryPoints: [...bundleOptions.entryPoints], target: [...bundleOptions.target], write: false, logLevel: 'silent' });
  return out.outputFiles[0]!.contents;
}

function asset(body: Uint8Array, contentType: string): ConsoleAsset {
  return { body, gzip: gzipSync(body, { level: 9 }), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, contentType };
}
