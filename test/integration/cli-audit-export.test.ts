import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger, startRuntime } from '../../src/runtime.ts';
import { createTestDatabase, databaseUnavailable, type TestDatabase, testDbKind } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';

const run = promisify(execFile);
const BIN = path.resolve('bin/clearframe.js');

// `audit export` streams its bundle to a file and says what it wrote; `audit verify --bundle` reads
// it as a stream and says which format it read (issue 17, evidence export at scale).
describe.skipIf(databaseUnavailable())('clearframe audit export and verify --bundle, streamed', { timeout: 180_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let testDb: TestDatabase | undefined;
  let size = 0;
  const cli = (...args: string[]) =>
    run(process.execPath, [BIN, ...args], { env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-export-'));
    env = { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent' };
    if (testDbKind === 'postgres') {
      testDb = await createTestDatabase();
      await testDb.database.close();
      env.DATABASE_URL = testDb.url;
    }
    const runtime = await startRuntime(loadConfig(env), { logger: createLogger({ logLevel: 'silent' }) });
    try {
      const token = await issueToken(
        { privateKey: runtime.ctx.keyring.tokenIssuer.privateKey, kid: runtime.ctx.keyring.tokenIssuer.signer.kid },
        { issuer: 'clearframe-local', audience: 'clearframe', sub: 'legal', role: 'legal', ttl: '5m' },
      );
      for (let i = 0; i < 5; i++) {
        const res = await runtime.app.request('/v1/assets', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(assetBody({ title: `Export ${i}` })),
        });
        expect(res.status).toBe(201);
      }
      size = ((await (await runtime.app.request('/v1/audit/events?limit=1', { headers: { authorization: `Bearer ${token}` } })).json()) as { treeSize: number }).treeSize;
    } finally {
      await runtime.close();
    }
  });
  afterAll(async () => {
    if (testDb) await testDb.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the file, then names it with its entry count and checkpoint size', async () => {
    const out = path.join(dir, 'bundle.json');
    const exported = await cli('audit', 'export', '--from', '2', '--out', out);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe('');
    expect(exported.stderr).toMatch(new RegExp(`wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${size - 2} entries \\(2\\.\\.${size - 1}\\), checkpoint of ${size} entries`));
    // no temporary file left beside it
    expect(readdirSync(dir).filter((f) => f.startsWith('bundle.json'))).toEqual(['bundle.json']);
    const bundle = JSON.parse(readFileSync(out, 'utf8'));
    expect({ format: bundle.format, from: bundle.from, to: bundle.to, n: bundle.entries.length }).toEqual({
      format: 'clearframe-audit-evidence/v1',
      from: 2,
      to: size,
      n: size - 2,
    });

    const checked = await cli('audit', 'verify', '--bundle', out, '--key', bundle.verifierKey);
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true, format: 'clearframe-audit-evidence/v1', entriesChecked: size - 2, keySource: 'given' });
    expect(checked.stderr).toMatch(/read .* as clearframe-audit-evidence\/v1: \d+ entries, all proved/);

    // The same bundle on stdout, byte for byte but for its export time and the line on stderr.
    const toStdout = await cli('audit', 'export', '--from', '2');
    expect(toStdout.code).toBe(0);
    expect(toStdout.stderr).toMatch(/wrote stdout: \d+ entries/);
    expect({ ...JSON.parse(toStdout.stdout), exportedAt: bundle.exportedAt }).toEqual(bundle);
  });

  it('refuses the exported file with an entry line removed or two lines swapped', async () => {
    const out = path.join(dir, 'lines.json');
    expect((await cli('audit', 'export', '--from', '0', '--out', out)).code).toBe(0);
    const lines = readFileSync(out, 'utf8').split('\n');
    const entryLines = lines.map((l, i) => (l.trimStart().startsWith('{"index"') ? i : -1)).filter((i) => i >= 0);
    expect(entryLines.length).toBe(size);
    // Each entry line but the first starts with nothing and ends with a comma, except the last.
    const removed = [...lines];
    removed.splice(entryLines[2]!, 1);
    writeFileSync(out, removed.join('\n'));
    const gap = await cli('audit', 'verify', '--bundle', out);
    expect(gap.code).toBe(1);
    expect(JSON.parse(gap.stdout).failures).toContainEqual({ index: 3, reason: 'entry 3 stands where entry 2 belongs' });

    const swapped = [...lines];
    [swapped[entryLines[1]!], swapped[entryLines[2]!]] = [swapped[entryLines[2]!]!, swapped[entryLines[1]!]!];
    writeFileSync(out, swapped.join('\n'));
    const moved = await cli('audit', 'verify', '--bundle', out);
    expect(moved.code).toBe(1);
    expect(JSON.parse(moved.stdout).failures).toContainEqual({ index: 2, reason: 'entry 2 stands where entry 1 belongs' });
  });

  it('says in one line that a bundle cut short is not a bundle, and leaves no file when an export cannot start', async () => {
    const out = path.join(dir, 'cut.json');
    expect((await cli('audit', 'export', '--from', '0', '--out', out)).code).toBe(0);
    const text = readFileSync(out, 'utf8');
    writeFileSync(out, text.slice(0, Math.floor(text.length * 0.6)));
    const cut = await cli('audit', 'verify', '--bundle', out);
    expect(cut.code).toBe(1);
    expect(cut.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^clearframe: .*cut\.json is not an evidence bundle: the bundle ends before its JSON does/)]);

    const none = path.join(dir, 'none.json');
    const refused = await cli('audit', 'export', '--from', String(size + 5), '--out', none);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/nothing to export/);
    expect(existsSync(none)).toBe(false);
  });
});
