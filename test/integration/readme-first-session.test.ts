import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';

// The README's "A first session" runs as written (issue 16): its ```sh block, extracted here, runs with
// bash -euo pipefail from the checkout's root against a service of its own (embedded PGlite in a temp
// DATA_DIR, on a free port), so the README cannot drift from the service. One project only: the block
// starts its own embedded service whatever database the project tests.
const ROOT = path.resolve('.');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const IDS = ['ASSET', 'LICENSE', 'DATASET', 'CLR', 'CKP', 'OUT'] as const;

/** The ```sh blocks under "## A first session", joined. */
function firstSessionScript(readme: string): string {
  const start = readme.indexOf('\n## A first session\n');
  if (start < 0) throw new Error('README has no "## A first session" section');
  const rest = readme.slice(start + 1);
  const next = rest.indexOf('\n## ', 1);
  const section = next < 0 ? rest : rest.slice(0, next);
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  if (blocks.length === 0) throw new Error('"## A first session" has no ```sh block');
  return blocks.join('\n');
}

type Run = { code: number | null; stdout: string; stderr: string };

describe.skipIf(process.env.CLEARFRAME_TEST_DB !== 'pglite')('README: A first session', { timeout: 300_000 }, () => {
  let dir: string;
  let run: Run;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-readme-'));
    port = await freePort();
    const block = firstSessionScript(README);
    // The test's own base URL and start (the service in the script's job table, so `kill %1` stops it),
    // and a trailer naming every id the session captured.
    expect(block).toMatch(/^CF=http:\/\/127\.0\.0\.1:8080 /m);
    expect(block).toMatch(/^npm start &/m);
    const script = [
      block.replace(/^CF=\S+/m, `CF=http://127.0.0.1:${port}`).replace(/^npm start &.*$/m, 'node bin/clearframe.js serve &'),
      ...IDS.map((id) => `echo "${id}=$${id}"`),
    ].join('\n');
    const file = path.join(dir, 'first-session.sh');
    writeFileSync(file, script);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: path.join(dir, 'data'),
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'warn',
    };
    delete env.DATABASE_URL;
    delete env.KEYS_DIR;
    const child = spawn('bash', ['-euo', 'pipefail', file], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(timer);
    // A step that failed leaves the service it started running: stop the script's whole process group.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    run = { code, stdout, stderr };
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs to the end (exit 0) and captures every id', () => {
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const ids = Object.fromEntries(run.stdout.split('\n').flatMap((l) => (/^[A-Z]+=/.test(l) ? [l.split('=', 2) as [string, string]] : [])));
    const prefixes = { ASSET: 'ast_', LICENSE: 'lic_', DATASET: 'dst_', CLR: 'clr_', CKP: 'ckp_', OUT: 'out_' };
    for (const id of IDS) expect(ids[id], id).toMatch(new RegExp(`^${prefixes[id]}[A-Za-z0-9_-]+$`));
  });

  it('clears, signs and verifies before the revocation, and shows the output tainted after it', () => {
    const lines = run.stdout.split('\n');
    const at = (text: string) => lines.indexOf(text);
    const clearance = lines.find((l) => l.includes('"decision"'));
    expect(JSON.parse(clearance!)).toMatchObject({ decision: 'allow', counts: { assets: 1, allowed: 1, denied: 0 } });
    expect(at('{"valid":true,"standing":"standing"}')).toBeGreaterThanOrEqual(0);
    const good = at('{"verdict":"verified","standing":"good"}');
    const tainted = at('{"verdict":"verified","standing":"tainted"}');
    expect(good).toBeGreaterThanOrEqual(0);
    expect(at('{"verdict":"cleared","reasons":[]}')).toBeGreaterThan(good);
    const revoked = lines.findIndex((l) => l.startsWith('{"status":"revoked"'));
    expect(revoked).toBeGreaterThan(good);
    expect(tainted).toBeGreaterThan(revoked);
  });

  it('verifies the whole log and the exported bundle with the service stopped', () => {
    const lines = run.stdout.split('\n');
    expect(lines.some((l) => /^\{"ok":true,"entries":\d+,"state":true\}$/.test(l))).toBe(true);
    expect(lines.at(lines.findIndex((l) => l.startsWith('ASSET=')) - 1)).toBe('{"ok":true}');
    expect(run.stderr).not.toMatch(/curl: \(/);
  });
});
