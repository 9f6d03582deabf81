/**
 * The OpenAPI document the service serves at /openapi.json, built in-process on a throw-away
 * configuration (PGlite and keys in a temporary directory), and `npm run lint:openapi`: that document
 * linted by Redocly CLI with its recommended rules (errors fail; warnings are printed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger, startRuntime } from '../../src/runtime.ts';

export async function servedOpenApiDocument(env: Record<string, string> = {}): Promise<unknown> {
  const dir = mkdtempSync(path.join(tmpdir(), 'clearframe-openapi-'));
  try {
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', PUBLIC_URL: 'https://clearframe.example', ...env });
    const runtime = await startRuntime(config, { logger: createLogger({ logLevel: 'silent' }) });
    try {
      const res = await runtime.app.request('/openapi.json');
      if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
      return await res.json();
    } finally {
      await runtime.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the served document to `file` and runs `redocly lint --extends=recommended` on it; its exit status. */
export function redoclyLint(file: string): number {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const cli = path.join(root, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
  const run = spawnSync(process.execPath, [cli, 'lint', '--extends=recommended', file], {
    stdio: 'inherit',
    // No telemetry, no update check: CI runs offline-clean.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_UPDATE_NOTIFIER: '1' },
  });
  if (run.error) throw run.error;
  return run.status ?? 1;
}

// `tsx test/support/openapi-document.ts [--out FILE] [--lint]`: writes the document (stdout without --out), and lints it.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const lint = args.includes('--lint');
  const tmp = lint && outAt < 0 ? mkdtempSync(path.join(tmpdir(), 'clearframe-openapi-lint-')) : undefined;
  const out = outAt >= 0 ? args[outAt + 1] : tmp ? path.join(tmp, 'openapi.json') : undefined;
  const text = `${JSON.stringify(await servedOpenApiDocument(), null, 2)}\n`;
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
  const status = lint ? redoclyLint(out!) : 0;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  process.exit(status);
}
