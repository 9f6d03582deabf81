import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, databaseUnavailable, type TestDatabase, testDbKind } from '../support/db.ts';
import { freePort } from '../support/free-port.ts';

const BIN = path.resolve('bin/clearframe.js');
const ROOT = path.resolve('.');

type Result = { code: number | null; stdout: string; stderr: string };

/** The command as a user runs it, with its exit code and both streams whatever the outcome. */
function runCli(env: NodeJS.ProcessEnv, args: string[], timeout = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/** A port nothing listens on (free when returned). */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}

async function waitForHealth(port: number, child: ChildProcess, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no /healthz on ${port} within ${ms} ms`);
}

async function portAnswers(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/healthz`).then(
    () => true,
    () => false,
  );
}

/** Every process below pid (its children, theirs, ...). */
function descendants(pid: number): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const rows = out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of rows) {
      if (parent === p) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

function collect(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return { stdout: () => stdout, stderr: () => stderr };
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));

/** One line of error on stderr, nothing resembling a pino record or a stack trace anywhere. */
function expectOneLineError(r: Result) {
  expect(r.stdout).not.toMatch(/"level"|"err"|\n\s+at /);
  expect(r.stderr).not.toMatch(/\n\s+at |"level"/);
  expect(r.stderr.split('\n')[0]).toMatch(/^clearframe: \S/);
}

describe.skipIf(databaseUnavailable())('the clearframe command at start-up (issue 16)', { timeout: 180_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let testDb: TestDatabase | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-startup-'));
    const { PORT: _p, HOST: _h, PUBLIC_URL: _u, AUDIT_ORIGIN: _o, ...rest } = process.env;
    env = { ...rest, DATA_DIR: dir, LOG_LEVEL: 'silent' };
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

  it('--help, -h and COMMAND --help print usage on stdout and exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help'], ['token', 'issue', '--help'], ['serve', '-h'], ['audit', 'export', '--help']]) {
      const r = await runCli(env, args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^clearframe <command>/);
    }
  });

  it('an unknown command or flag is one line and the usage on stderr, exit 2, nothing on stdout', async () => {
    for (const args of [['frobnicate'], ['token', 'issue', '--bad-flag'], ['serve', '--bogus'], ['migrate', '--force'], ['keys', 'init', '--x'], ['audit', 'frob']]) {
      const r = await runCli(env, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expectOneLineError(r);
      expect(r.stderr).toMatch(/clearframe <command>/);
    }
    const flag = await runCli(env, ['token', 'issue', '--bad-flag']);
    expect(flag.stderr.split('\n')[0]).toMatch(/--bad-flag/);
  });

  it('token issue --ttl beyond TOKEN_MAX_TTL_SECONDS, or not a duration, is refused in one line, exit 2', async () => {
    const long = await runCli(env, ['token', 'issue', '--role', 'legal', '--sub', 'lee', '--ttl', '400d']);
    expect(long.code).toBe(2);
    expect(long.stdout).toBe('');
    expectOneLineError(long);
    expect(long.stderr).toMatch(/TOKEN_MAX_TTL_SECONDS/);
    const capped = await runCli({ ...env, TOKEN_MAX_TTL_SECONDS: '3600' }, ['token', 'issue', '--role', 'legal', '--sub', 'lee', '--ttl', '2h']);
    expect(capped.code).toBe(2);
    expect(capped.stderr).toMatch(/3600/);
    const nonsense = await runCli(env, ['token', 'issue', '--role', 'legal', '--sub', 'lee', '--ttl', 'soon']);
    expect(nonsense.code).toBe(2);
    expectOneLineError(nonsense);
    const ok = await runCli({ ...env, TOKEN_MAX_TTL_SECONDS: '3600' }, ['token', 'issue', '--role', 'legal', '--sub', 'lee', '--ttl', '1h']);
    expect(ok.code).toBe(0);
    const claims = JSON.parse(Buffer.from(ok.stdout.trim().split('.')[1]!, 'base64url').toString());
    expect(claims.exp - claims.iat).toBe(3600);
  });

  it('a failing command is one line on stderr with a non-zero exit, not a pino stack trace on stdout', async () => {
    const r = await runCli(env, ['audit', 'verify', '--bundle', path.join(dir, 'no-such-bundle.json')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expectOneLineError(r);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no-such-bundle\.json/);
  });

  it('a refused `audit export` leaves no database open behind it (no stale PGlite lock)', async () => {
    const r = await runCli(env, ['audit', 'export', '--to', '3']);
    expect(r.code).toBe(2);
    expectOneLineError(r);
    expect(r.stderr).toMatch(/--from N is required/);
    expect(() => readFileSync(path.join(dir, 'pglite', 'clearframe.pid'))).toThrow();
  });

  it('serve on a port in use says so in one line naming the port, HOST and PORT, and exits non-zero', async () => {
    const held = await holdPort();
    try {
      const r = await runCli({ ...env, PORT: String(held.port) }, ['serve'], 90_000);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBeNull();
      expectOneLineError(r);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`${held.port}`));
      expect(r.stderr).toMatch(/PORT/);
      expect(r.stderr).toMatch(/HOST/);
    } finally {
      await new Promise((r) => held.server.close(r));
    }
  });

  it('serve --port and --host override PORT and HOST; SIGTERM stops it with one log line; the identity is written for the CLI', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
      env: { ...env, PORT: '1', HOST: 'localhost', LOG_LEVEL: 'info', AUTH_ISSUER: 'studio-ledger' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = collect(child);
    try {
      await waitForHealth(port, child);
      const checkpoint = await (await fetch(`http://127.0.0.1:${port}/v1/audit/checkpoint`)).text();
      expect(checkpoint.split('\n')[0]).toBe(`127.0.0.1:${port}/clearframe/audit`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
    const stopped = out
      .stdout()
      .split('\n')
      .filter((l) => /stopped/.test(l));
    expect(stopped).toHaveLength(1);
    expect(await portAnswers(port)).toBe(false);

    // Commands that sign for the service use the identity it ran with, not PUBLIC_URL's default here.
    const identity = JSON.parse(readFileSync(path.join(dir, 'identity.json'), 'utf8'));
    expect(identity).toMatchObject({ publicUrl: `http://127.0.0.1:${port}`, auditOrigin: `127.0.0.1:${port}/clearframe/audit`, tokenIssuer: 'studio-ledger' });
    const bundleFile = path.join(dir, 'bundle.json');
    const exported = await runCli(env, ['audit', 'export', '--from', '0', '--out', bundleFile]);
    expect(exported.code).toBe(0);
    // The identity it used, then the streamed export's end line naming the file (its progress lines only on a long export).
    const said = exported.stderr.trim().split('\n');
    expect(said[0]).toMatch(/identity\.json/);
    expect(said.at(-1)).toMatch(/^wrote .*bundle\.json: \d+ entries/);
    expect(said.every((l) => !/^\s+at /.test(l))).toBe(true);
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8'));
    expect(JSON.stringify(bundle)).toContain(`127.0.0.1:${port}/clearframe/audit`);
    expect(JSON.stringify(bundle)).not.toContain('127.0.0.1:8080');
    const token = await runCli(env, ['token', 'issue', '--role', 'legal', '--sub', 'lee']);
    expect(token.code).toBe(0);
    expect(token.stderr).toMatch(/identity\.json/);
    expect(JSON.parse(Buffer.from(token.stdout.trim().split('.')[1]!, 'base64url').toString())).toMatchObject({ iss: 'studio-ledger' });
  });

  // Skipped: it hung (the child did not exit in 180 s) in 2 of 5 full runs, once on a quiet machine; the
  // cause is not found yet (see the session note). Flaky, it would stop every landing.
  it('SIGTERM during start-up stops the service cleanly once it has started (exit 0, one stop line, port free)', async () => {
    const port = await freePort();
    const data = mkdtempSync(path.join(tmpdir(), 'clearframe-early-stop-'));
    // A node diagnostic report on SIGUSR2 (JavaScript stack, libuv handles): if the child does not stop,
    // the failure says where it is.
    const child = spawn(process.execPath, ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${data}`, BIN, 'serve'], {
      env: { ...env, DATA_DIR: data, PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = collect(child);
    const t0 = Date.now();
    try {
      // The first start-up log line (keys created, or loaded) comes before the policies, the C2PA engine and listening.
      expect(await until(() => out.stdout().includes('\n'), 120_000), `no start-up line within 120 s; stderr: ${out.stderr()}`).toBe(true);
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([exited(child), new Promise<'running'>((r) => setTimeout(() => r('running'), 40_000))]);
      if (code === 'running') {
        child.kill('SIGUSR2');
        await until(() => readdirSync(data).some((f) => f.startsWith('report.')), 5_000);
        const report = readdirSync(data).find((f) => f.startsWith('report.'));
        const detail = report ? JSON.parse(readFileSync(path.join(data, report), 'utf8')) : {};
        const where = JSON.stringify({ js: detail.javascriptStack?.stack?.slice(0, 12), handles: detail.libuv?.filter((h: { is_active?: boolean }) => h.is_active) });
        throw new Error(`still running 40 s after SIGTERM (first line after ${signalledAt - t0} ms); stdout: ${out.stdout()} stderr: ${out.stderr()} report: ${where}`);
      }
      expect(code).toBe(0);
      expect(out.stdout()).toMatch(/clearframe stopped/);
      expect(await portAnswers(port)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  }, 240_000);

  it('`npm start` then SIGTERM to npm stops the whole process tree and frees the port', async () => {
    const port = await freePort();
    const data = mkdtempSync(path.join(tmpdir(), 'clearframe-npm-start-'));
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { ...env, DATA_DIR: data, PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = collect(npm);
    let tree: number[] = [];
    try {
      await waitForHealth(port, npm, 90_000);
      tree = descendants(npm.pid!);
      expect(tree.length).toBeGreaterThan(0);
      npm.kill('SIGTERM');
      await exited(npm);
      expect(await until(() => tree.every((pid) => !alive(pid)), 10_000), `still running: ${tree.filter(alive).join(', ')}`).toBe(true);
      expect(await portAnswers(port)).toBe(false);
      expect(out.stdout()).toMatch(/stopped/);
      // The PGlite lock went with the process.
      if (testDbKind === 'pglite') expect(() => readFileSync(path.join(data, 'pglite', 'clearframe.pid'))).toThrow();
    } finally {
      for (const pid of [npm.pid!, ...tree, ...descendants(npm.pid!)]) if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('a refusing database names DATABASE_URL in one line after a bounded retry', async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await runCli({ ...env, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nope`, DATABASE_CONNECT_ATTEMPTS: '3', DATABASE_CONNECT_INTERVAL_MS: '300' }, [
      'migrate',
    ]);
    expect(r.code).toBe(1);
    expectOneLineError(r);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/DATABASE_URL/);
    expect(r.stderr).toMatch(/3 attempts/);
    expect(r.stderr).not.toMatch(/postgres:\/\/postgres@/); // a URL may carry a password: only its host is named
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('an unusable PGlite directory is named in one line', async () => {
    const file = path.join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const { DATABASE_URL: _d, ...pgliteEnv } = env;
    const r = await runCli({ ...pgliteEnv, DATA_DIR: file }, ['migrate']);
    expect(r.code).toBe(1);
    expectOneLineError(r);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/DATA_DIR/);
    expect(r.stderr).toContain(file);
  });

  it('an unreachable Cloud KMS fails within KMS_TIMEOUT_MS, naming KMS_API_ENDPOINT in one line', async () => {
    const port = await freePort();
    const chain = path.join(dir, 'chain.pem');
    writeFileSync(chain, '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n');
    const ring = 'projects/p/locations/l/keyRings/r/cryptoKeys';
    const started = Date.now();
    const r = await runCli(
      {
        ...env,
        KEY_BACKEND: 'kms',
        KMS_API_ENDPOINT: `http://127.0.0.1:${port}`,
        KMS_TIMEOUT_MS: '1500',
        KMS_AUDIT_KEY: `${ring}/a/cryptoKeyVersions/1`,
        KMS_CLEARANCE_KEY: `${ring}/c/cryptoKeyVersions/1`,
        KMS_C2PA_KEY: `${ring}/m/cryptoKeyVersions/1`,
        C2PA_CERT_CHAIN: chain,
      },
      ['serve'],
    );
    const seconds = (Date.now() - started) / 1000;
    expect(r.code).toBe(1);
    expectOneLineError(r);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/KMS_API_ENDPOINT/);
    expect(r.stderr).toMatch(/KMS_TIMEOUT_MS/);
    expect(seconds).toBeLessThan(25);
  });
});
