import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { issueToken, type Role } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger, type Runtime, startRuntime } from '../../src/runtime.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export type Call = { token?: string; json?: unknown; form?: FormData; body?: RequestInit['body']; headers?: Record<string, string> };

/** The whole service in-process (routes, ledger, keys) on a fresh test database. */
export type TestService = {
  runtime: Runtime;
  testDb: TestDatabase;
  keysDir: string;
  token(role: Role, sub?: string, vendor?: string): Promise<string>;
  call(method: string, path: string, call?: Call): Promise<Response>;
  close(): Promise<void>;
};

export async function startTestService(env: Record<string, string> = {}): Promise<TestService> {
  const keysDir = mkdtempSync(path.join(tmpdir(), 'clearframe-keys-'));
  const config = loadConfig({ KEYS_DIR: keysDir, DATA_DIR: keysDir, LOG_LEVEL: 'silent', PUBLIC_URL: 'http://clearframe.test', ...env });
  const testDb = await createTestDatabase();
  const runtime = await startRuntime(config, { database: testDb.database, logger: createLogger({ logLevel: 'silent' }) });
  const issuer = runtime.ctx.keyring.tokenIssuer;
  const auth = config.auth;
  return {
    runtime,
    testDb,
    keysDir,
    token: (role, sub = `${role}-user`, vendor) =>
      issueToken(
        { privateKey: issuer.privateKey, kid: issuer.signer.kid },
        { issuer: auth.issuer, audience: auth.audience, sub, role, vendor: vendor ?? (role === 'vendor' ? 'acme-vfx' : undefined), ttl: '10m' },
      ),
    async call(method, url, call = {}) {
      const headers: Record<string, string> = { ...call.headers };
      if (call.token) headers.authorization = `Bearer ${call.token}`;
      let body: RequestInit['body'] = call.body;
      if (call.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(call.json);
      } else if (call.form) body = call.form;
      return runtime.app.request(url, { method, headers, body });
    },
    async close() {
      await testDb.drop();
      rmSync(keysDir, { recursive: true, force: true });
    },
  };
}
