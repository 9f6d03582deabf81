import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, type Role } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger, type Runtime, startRuntime } from '../../src/runtime.ts';
import { createTestDatabase, databaseUnavailable, type TestDatabase, testDbKind } from '../support/db.ts';
import { assetBody, licenseBody } from '../support/fixtures.ts';

const run = promisify(execFile);
const BIN = path.resolve('bin/clearframe.js');

/**
 * Issue 17's gravest finding, end to end: a license version's training grant edited from notAllowed to
 * allowed with the triggers off. The gate then allows training on the forged row; `audit verify` must
 * say so, naming the row, while the tree itself is intact.
 */
describe.skipIf(databaseUnavailable())('clearframe audit verify replays the state tables', { timeout: 180_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let testDb: TestDatabase | undefined;
  const cli = (...args: string[]) =>
    run(process.execPath, [BIN, ...args], { env, timeout: 60_000 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-cli-state-'));
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

  /** The service as it runs (the CLI process is not running meanwhile): `work` gets a caller with a role's token. */
  async function withService<T>(work: (call: (role: Role, method: string, url: string, json?: unknown) => Promise<Response>, runtime: Runtime) => Promise<T>): Promise<T> {
    const runtime = await startRuntime(loadConfig(env), { logger: createLogger({ logLevel: 'silent' }) });
    try {
      const call = async (role: Role, method: string, url: string, json?: unknown) => {
        const token = await issueToken(
          { privateKey: runtime.ctx.keyring.tokenIssuer.privateKey, kid: runtime.ctx.keyring.tokenIssuer.signer.kid },
          { issuer: 'clearframe-local', audience: 'clearframe', sub: `${role}-user`, role, vendor: role === 'vendor' ? 'acme-vfx' : undefined, ttl: '1m' },
        );
        return runtime.app.request(url, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
          body: json === undefined ? undefined : JSON.stringify(json),
        });
      };
      return await work(call, runtime);
    } finally {
      await runtime.close();
    }
  }

  it('passes an honest ledger, and names the forged grant the gate then allowed training on', async () => {
    expect((await cli('migrate')).code).toBe(0);
    const { licenseId, datasetId } = await withService(async (call) => {
      const asset = (await (await call('legal', 'POST', '/v1/assets', assetBody())).json()) as { id: string };
      const license = await call(
        'legal',
        'POST',
        `/v1/assets/${asset.id}/licenses`,
        licenseBody({ grants: { training: 'notAllowed', derivatives: 'notAllowed', commercial: 'notAllowed' } }),
      );
      expect(license.status).toBe(201);
      const d = (await (await call('legal', 'POST', '/v1/datasets', { name: 'key frames', assetIds: [asset.id], vendor: 'acme-vfx' })).json()) as { id: string };
      const clearance = (await (await call('vendor', 'POST', `/v1/datasets/${d.id}/clearances`, { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001' })).json()) as {
        decision: string;
      };
      expect(clearance.decision).toBe('deny');
      return { licenseId: ((await license.json()) as { id: string }).id, datasetId: d.id };
    });

    const honest = await cli('audit', 'verify');
    expect(honest.code, honest.stderr).toBe(0);
    expect(JSON.parse(honest.stdout)).toMatchObject({ ok: true, state: { ok: true, rows: { license_versions: 1, clearances: 1 } } });

    // A superuser turns the grant around behind the log's back; the gate now allows training on it.
    await withService(async (call, runtime) => {
      await runtime.ctx.database.db.transaction(async (tx) => {
        await tx.execute(sql`set local session_replication_role = replica`);
        await tx.execute(sql`update license_versions set grant_training = 'allowed' where id = ${licenseId}`);
      });
      const clearance = (await (await call('vendor', 'POST', `/v1/datasets/${datasetId}/clearances`, { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001' })).json()) as {
        decision: string;
      };
      expect(clearance.decision).toBe('allow');
    });

    const forged = await cli('audit', 'verify');
    expect(forged.code).toBe(1);
    const line = `clearframe: state disagrees with the log: license_versions row ${licenseId}`;
    expect(forged.stderr).toContain(line);
    expect(forged.stderr.trim().split('\n')).toHaveLength(1);
    expect(forged.stderr).toMatch(/grant_training is "allowed" in the table, the log says "notAllowed"/);
    const report = JSON.parse(forged.stdout);
    // The tree is intact: it is the table that lies.
    expect(report).toMatchObject({
      ok: true,
      state: { ok: false, problem: { table: 'license_versions', row: licenseId, column: 'grant_training', inTable: 'allowed', inLog: 'notAllowed' } },
    });

    const skipped = await cli('audit', 'verify', '--skip-state');
    expect(skipped.code).toBe(0);
    expect(JSON.parse(skipped.stdout)).toMatchObject({ ok: true, state: null });
  });
});
