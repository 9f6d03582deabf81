import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config/config.ts';
import { queryRows } from '../../src/db/database.ts';
import { readCsv as parseCsv } from '../../src/http/csv.ts';
import { COLUMNS } from '../../src/imports/sheet.ts';
import { createLogger, openConfiguredDatabase, serveHttp, startRuntime } from '../../src/runtime.ts';
import { createTestDatabase, databaseUnavailable, type TestDatabase, testDbKind } from '../support/db.ts';

const run = promisify(execFile);
const BIN = path.resolve('bin/clearframe.js');
const HEADER = COLUMNS.join(',');
const TERMS = 'Ortiz Studio,Upstairs Films,acme-vfx,allowed,allowed,notAllowed,US;CA,theatrical;streaming,2026-01-01,2030-12-31,false,,,';

/**
 * `clearframe import` as users run it: the real command in its own process, against the configured
 * database (PGlite in DATA_DIR, or PostgreSQL), and through a running service.
 */
describe.skipIf(databaseUnavailable())('clearframe import', { timeout: 300_000 }, () => {
  let dir: string;
  let art: string;
  let env: NodeJS.ProcessEnv;
  let testDb: TestDatabase | undefined;
  const cli = (...args: string[]) =>
    run(process.execPath, [BIN, ...args], { env, timeout: 120_000 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  /** What the ledger holds, read with the command not running (PGlite admits one process). */
  const ledger = async () => {
    const database = await openConfiguredDatabase(loadConfig(env));
    try {
      const one = async (q: SQL) => Number((await queryRows<{ n: string | number }>(database.db, q))[0]!.n);
      return {
        assets: await one(sql`select count(*) as n from assets where production = 'dun'`),
        distinct: await one(sql`select count(distinct sha256) as n from assets where production = 'dun'`),
        versions: await one(sql`select count(*) as n from license_versions v join assets a on a.id = v.asset_id where a.production = 'dun'`),
        unlicensed: await one(sql`select count(*) as n from assets a where a.production = 'dun' and not exists (select 1 from license_versions v where v.asset_id = a.id)`),
      };
    } finally {
      await database.close();
    }
  };
  const sheet = (name: string, ...rows: string[]) => {
    const file = path.join(dir, name);
    // As a spreadsheet saves it: a byte-order mark and CRLF line ends.
    writeFileSync(file, `\uFEFF${HEADER}\r\n${rows.join('\r\n')}\r\n`);
    return file;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-cli-import-'));
    art = path.join(dir, 'dear-upstairs');
    for (const [sub, n, ext] of [
      ['env', 150, 'png'],
      ['chars', 45, 'jpg'],
      ['chars/turnarounds', 5, 'psd'],
    ] as const) {
      mkdirSync(path.join(art, sub), { recursive: true });
      for (let i = 0; i < n; i++) writeFileSync(path.join(art, sub, `${String(i).padStart(3, '0')}.${ext}`), randomBytes(2048 + i));
    }
    writeFileSync(path.join(art, 'notes.txt'), 'not art: not imported');
    env = { ...process.env, DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent' };
    if (testDbKind === 'postgres') {
      testDb = await createTestDatabase();
      await testDb.database.close();
      env.DATABASE_URL = testDb.url;
    }
  });
  afterAll(async () => {
    if (testDb) await testDb.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('bad usage exits 2 with one line on stderr; --template prints a sheet that imports', async () => {
    for (const args of [
      ['import'],
      ['import', art],
      ['import', path.join(dir, 'nowhere'), '--terms', 'x.csv'],
      ['import', art, '--terms', path.join(dir, 'none.csv')],
      ['import', art, '--terms', 'x', '--server', 'http://127.0.0.1:1'],
    ]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^clearframe: [^\n]+\n$/);
      expect(r.stdout).toBe('');
    }
    const t = await cli('import', '--template');
    expect(t.code).toBe(0);
    expect(parseCsv(t.stdout)[0]!.cells).toEqual([...COLUMNS]);
  });

  it('--dry-run prints the plan and writes the error file beside the sheet, changing nothing', async () => {
    const terms = sheet(
      'terms.csv',
      `env/*.png,,R. Ortiz,Ortiz Studio,${TERMS}`,
      `chars/*.jpg,,M. Chen,,${TERMS.replace('allowed,allowed,notAllowed', 'allowed,sometimes,notAllowed')}`,
      `props/*.png,,P,,${TERMS}`,
    );
    const r = await cli('import', art, '--terms', terms, '--production', 'dun', '--dry-run');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/dry run of 200 files for dun \(nothing written\): 150 new assets, 150 new license versions, 0 unchanged, 50 skipped, 2 errors/);
    expect(r.stderr).toMatch(/^clearframe: 2 row\(s\) failed: .*terms\.errors\.csv\n$/);
    const errors = parseCsv(readFileSync(path.join(dir, 'terms.errors.csv'), 'utf8')).map((x) => x.cells);
    expect(errors.map((row) => [row[0], row.at(-2)])).toEqual([
      ['row', 'errorColumn'],
      ['3', 'derivatives'],
      ['4', 'path'],
    ]);
    expect(await ledger()).toMatchObject({ assets: 0, versions: 0 });
    // A real run with the same errors writes nothing either.
    const real = await cli('import', art, '--terms', terms, '--production', 'dun');
    expect(real.code).toBe(1);
    expect(real.stdout).toMatch(/nothing imported for dun: 2 row\(s\) failed/);
    expect(await ledger()).toMatchObject({ assets: 0, versions: 0 });
  });

  it('killed with SIGKILL mid-import and run again, it finishes: every file once, each with its license, the log intact', async () => {
    const terms = sheet('good.csv', `env/*.png,,R. Ortiz,Ortiz Studio,${TERMS}`, `chars/**,,M. Chen,Chen Design,${TERMS}`);
    const child: ChildProcess = spawn(process.execPath, [BIN, 'import', art, '--terms', terms, '--production', 'dun'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // As soon as it has begun registering (and, on PostgreSQL, once some assets are there), kill -9.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (/registering 200 files/.test(out)) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
      void exited.then(() => reject(new Error(`the import ended before it was killed: ${out}`)));
    });
    if (testDb) {
      const probe = await openConfiguredDatabase(loadConfig(env));
      for (let n = 0; n < 2000; n++) {
        const rows = await queryRows<{ n: string | number }>(probe.db, sql`select count(*) as n from assets where production = 'dun'`);
        if (Number(rows[0]!.n) >= 20) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      await probe.close();
    } else {
      // PGlite: once it says how far it has got (a line at each tenth), some are written and most are not.
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (/registered [1-9]\d*\/200 files \(/.test(out)) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
        void exited.then(() => reject(new Error(`the import ended before it was killed: ${out}`)));
      });
    }
    child.kill('SIGKILL');
    expect(await exited).toBeNull(); // killed, not finished
    const between = await ledger();
    // Stopped short: 200 assets and 200 license versions make a finished import.
    expect(between.assets + between.versions).toBeLessThan(400);
    // Where the kill fell (between an asset and its license, too): the rerun must finish whatever it left.
    console.info(`killed after ${between.assets} assets and ${between.versions} license versions`);

    const again = await cli('import', art, '--terms', terms, '--production', 'dun');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const summary = /imported 200 files for dun: (\d+) created, 0 amended, (\d+) unchanged, 0 skipped, 0 errors/.exec(again.stdout);
    expect(summary, again.stdout).not.toBeNull();
    expect(Number(summary![1]) + Number(summary![2])).toBe(200);
    expect(await ledger()).toEqual({ assets: 200, distinct: 200, versions: 200, unlicensed: 0 });
    const verify = await cli('audit', 'verify');
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, state: { ok: true } });

    // Once more: everything is there already.
    const third = await cli('import', art, '--terms', terms, '--production', 'dun');
    expect(third.code).toBe(0);
    expect(third.stdout).toMatch(/imported 200 files for dun: 0 created, 0 amended, 200 unchanged/);
    expect(existsSync(path.join(dir, 'good.errors.csv'))).toBe(false);
  });

  it('through a running service (--server): the embedded database it holds is named, and the API does the import', async () => {
    const config = loadConfig({ ...env, PORT: '0' });
    const runtime = await startRuntime(config, { logger: createLogger({ logLevel: 'silent' }) });
    const server = serveHttp(runtime, { port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
    const port = (server.address() as { port: number }).port;
    try {
      const terms = sheet('amend.csv', `env/*.png,,R. Ortiz,Ortiz Studio,${TERMS.replace('US;CA', 'WORLD')}`, `chars/**,,M. Chen,Chen Design,${TERMS}`);
      if (!testDb) {
        const held = await cli('import', art, '--terms', terms, '--production', 'dun');
        expect(held.code).toBe(1);
        expect(held.stderr).toMatch(/^clearframe: the embedded database in .* is in use by process \d+.*--server URL --token T\n$/);
      }
      const issuer = runtime.ctx.keyring.tokenIssuer;
      const token = await issueToken(
        { privateKey: issuer.privateKey, kid: issuer.signer.kid },
        { issuer: config.auth.issuer, audience: config.auth.audience, sub: 'lee@legal', role: 'legal', ttl: '10m' },
      );
      const url = `http://127.0.0.1:${port}`;
      const refused = await cli('import', art, '--terms', terms, '--production', 'dun', '--server', url, '--token', token);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/1 row\(s\) failed/);
      const amended = await cli('import', art, '--terms', terms, '--production', 'dun', '--amend', '--server', url, '--token', token);
      expect(amended.stderr).toBe('');
      expect(amended.code).toBe(0);
      expect(amended.stdout).toMatch(/registering 150 files/);
      expect(amended.stdout).toMatch(/imported 200 files for dun: 0 created, 150 amended, 50 unchanged, 0 skipped, 0 errors/);
      const vendor = await issueToken(
        { privateKey: issuer.privateKey, kid: issuer.signer.kid },
        { issuer: config.auth.issuer, audience: config.auth.audience, sub: 'ops', role: 'vendor', vendor: 'acme-vfx', ttl: '10m' },
      );
      const forbidden = await cli('import', art, '--terms', terms, '--production', 'dun', '--server', url, '--token', vendor);
      expect(forbidden.code).toBe(2);
      expect(forbidden.stderr).toMatch(/^clearframe: the service answered 403: [^\n]+\n$/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    }
    expect(await ledger()).toMatchObject({ assets: 200, versions: 350 });
  });
});
