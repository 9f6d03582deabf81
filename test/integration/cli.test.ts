import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger, startRuntime } from '../../src/runtime.ts';
import { makeJpeg, tamperImageData } from '../fixtures/media.ts';
import { createTestDatabase, databaseUnavailable, type TestDatabase, testDbKind } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';

const run = promisify(execFile);
const BIN = path.resolve('bin/clearframe.js');

/** The `clearframe` command as a user runs it: a separate process, configured by the environment. */
// Each case starts the real command several times (a Node process that loads TypeScript through tsx,
// several seconds apiece on a busy 2-core machine): more time than the suite's default per case.
describe.skipIf(databaseUnavailable())('the clearframe command', { timeout: 180_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let testDb: TestDatabase | undefined;
  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { env, timeout: 60_000 });
  const cliStatus = (...args: string[]) =>
    cli(...args).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-cli-'));
    env = { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent' };
    if (testDbKind === 'postgres') {
      testDb = await createTestDatabase();
      await testDb.database.close(); // the CLI opens its own connection
      env.DATABASE_URL = testDb.url;
    }
  });
  afterAll(async () => {
    if (testDb) await testDb.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates keys once and never overwrites them', async () => {
    expect((await cli('keys', 'init')).stdout).toMatch(/created audit, tokenIssuer, clearance/);
    const before = readFileSync(path.join(dir, 'keys', 'audit-checkpoint.ed25519.pem'), 'utf8');
    expect((await cli('keys', 'init')).stdout).toMatch(/all keys present/);
    expect(readFileSync(path.join(dir, 'keys', 'audit-checkpoint.ed25519.pem'), 'utf8')).toBe(before);
  });

  it('issues tokens and refuses bad arguments', async () => {
    const { stdout } = await cli('token', 'issue', '--role', 'vendor', '--sub', 'v@acme', '--vendor', 'acme-vfx', '--ttl', '5m');
    const claims = JSON.parse(Buffer.from(stdout.trim().split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ role: 'vendor', vendor: 'acme-vfx', sub: 'v@acme', iss: 'clearframe-local', aud: 'clearframe' });
    expect(claims.exp - claims.iat).toBe(300);
    expect((await cliStatus('token', 'issue', '--role', 'root', '--sub', 'x')).stderr).toMatch(/--role must be one of/);
    expect((await cliStatus('token', 'issue', '--role', 'vendor', '--sub', 'x')).code).toBe(2);
  });

  it('stops on bad configuration, naming the variable', async () => {
    const bad = await run(process.execPath, [BIN, 'migrate'], { env: { ...env, PORT: 'eighty' } }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/PORT/);
  });

  it('migrates, verifies the stored log, exports evidence and checks it offline', async () => {
    expect((await cli('migrate')).stdout).toMatch(/migrations applied/);
    // Some history, written the way the service writes it (the CLI process is not running meanwhile).
    const runtime = await startRuntime(loadConfig(env), { logger: createLogger({ logLevel: 'silent' }) });
    try {
      for (const role of ['legal', 'admin'] as const) {
        const token = await issueToken(
          { privateKey: runtime.ctx.keyring.tokenIssuer.privateKey, kid: runtime.ctx.keyring.tokenIssuer.signer.kid },
          { issuer: 'clearframe-local', audience: 'clearframe', sub: role, role, ttl: '1m' },
        );
        const res = await runtime.app.request('/v1/assets', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(assetBody()),
        });
        expect(res.status).toBe(201);
      }
    } finally {
      await runtime.close();
    }
    const verify = JSON.parse((await cli('audit', 'verify')).stdout);
    // four keys and the policy set registered at start, then the two assets
    expect(verify).toMatchObject({ ok: true, entries: 7 });
    expect(JSON.parse((await cli('audit', 'verify', '--hash-here')).stdout)).toMatchObject({ ok: true, entries: 7, rootHash: verify.rootHash });
    const out = path.join(dir, 'evidence.json');
    await cli('audit', 'export', '--from', '0', '--out', out);
    const bundle = JSON.parse(readFileSync(out, 'utf8'));
    expect(bundle.format).toBe('clearframe-audit-evidence/v1');
    const checked = await cliStatus('audit', 'verify', '--bundle', out, '--key', bundle.verifierKey);
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true, keySource: 'given' });

    bundle.entries[0].leaf = Buffer.from('{"index":0,"forged":true}').toString('base64');
    writeFileSync(out, JSON.stringify(bundle));
    const forged = await cliStatus('audit', 'verify', '--bundle', out);
    expect(forged.code).toBe(1);
    expect(JSON.parse(forged.stdout).failures[0]).toMatchObject({ index: 0 });
  });

  it('verifies a signed output offline (manifest, lineage, evidence bundle) and through a server', async () => {
    const runtime = await startRuntime(loadConfig(env), { logger: createLogger({ logLevel: 'silent' }) });
    const server = serve({ fetch: runtime.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const shim = {
      runtime,
      call: (method: string, url: string, call: { token?: string; json?: unknown; form?: FormData } = {}) =>
        runtime.app.request(url, {
          method,
          headers: { ...(call.token ? { authorization: `Bearer ${call.token}` } : {}), ...(call.json !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: call.json !== undefined ? JSON.stringify(call.json) : call.form,
        }),
    };
    const mint = (role: 'legal' | 'vendor' | 'generator' | 'distributor') =>
      issueToken(
        { privateKey: runtime.ctx.keyring.tokenIssuer.privateKey, kid: runtime.ctx.keyring.tokenIssuer.signer.kid },
        { issuer: 'clearframe-local', audience: 'clearframe', sub: role, role, vendor: role === 'vendor' ? 'acme-vfx' : undefined, ttl: '5m' },
      );
    const file = path.join(dir, 'frame.jpg');
    let distributorToken: string;
    try {
      const { checkpoint, assets } = await activeCheckpoint(shim as never, await mint('legal'), await mint('vendor'), 1);
      const form = new FormData();
      form.set('file', new File([makeJpeg({ seed: 77 })], 'frame.jpg', { type: 'image/jpeg' }));
      form.set('checkpointId', checkpoint.id);
      const res = await shim.call('POST', '/v1/outputs', { token: await mint('generator'), form });
      expect(res.status).toBe(200);
      writeFileSync(file, new Uint8Array(await res.arrayBuffer()));
      distributorToken = await mint('distributor');
      const online = await cliStatus('verify', file, '--server', `http://127.0.0.1:${port}`, '--token', distributorToken, '--type', 'image/jpeg');
      expect(online.code).toBe(0);
      expect(JSON.parse(online.stdout)).toMatchObject({ verdict: 'verified', ledger: { match: 'exact' }, standing: { status: 'good' } });
      // Its rights fall away: still verified, but the exit code says tainted (docs/outputs.md).
      const revoked = await shim.call('POST', `/v1/licenses/${assets[0]!.licenseId}/revoke`, { token: await mint('legal'), json: { reason: 'contract terminated' } });
      expect(revoked.status).toBe(200);
      const tainted = await cliStatus('verify', file, '--server', `http://127.0.0.1:${port}`, '--token', distributorToken, '--type', 'image/jpeg');
      expect(tainted.code).toBe(3);
      expect(JSON.parse(tainted.stdout)).toMatchObject({ verdict: 'verified', standing: { status: 'tainted', cause: { code: 'license-revoked' } } });
    } finally {
      await new Promise((r) => server.close(r));
      await runtime.close();
    }

    const out = path.join(dir, 'evidence-output.json');
    await cli('audit', 'export', '--from', '0', '--out', out);
    const key = JSON.parse(readFileSync(out, 'utf8')).verifierKey as string;
    const offline = await cliStatus('verify', file, '--bundle', out, '--key', key);
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toMatchObject({ verdict: 'valid', c2pa: { trusted: true, intact: true }, evidence: { ok: true } });

    const bytes = new Uint8Array(readFileSync(file));
    writeFileSync(file, tamperImageData(bytes, 'image/jpeg'));
    const tampered = await cliStatus('verify', file, '--bundle', out);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout).verdict).toBe('tampered');
  });
});
