/**
 * kill -9 of the service between the commit of a revocation and the delivery of its notification loses
 * nothing (issue 19): the real CLI `serve` on a PGlite data directory (pglite project) or a PostgreSQL
 * database (postgres project), a receiver that holds the first delivery without answering, SIGKILL while it
 * hangs, a restart on the same data, and the event arrives with the same id.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../fixtures/media.ts';
import { createTestDatabase, databaseUnavailable, type TestDatabase, testDbKind } from '../support/db.ts';
import { freePort } from '../support/free-port.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import type { Call, TestService } from '../support/service.ts';
import { until, WebhookReceiver } from '../support/webhook-receiver.ts';

const BIN = path.resolve('bin/clearframe.js');

function runCli(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

type Instance = { base: string; child: ChildProcess; stderr: () => string };

async function serve(env: NodeJS.ProcessEnv): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const instance = { base: `http://127.0.0.1:${port}`, child, stderr: () => err };
  await until(
    'the service ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${err}`);
      return fetch(`${instance.base}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
    },
    90_000,
  );
  return instance;
}

function over(instance: Instance): TestService {
  return {
    async call(method: string, url: string, call: Call = {}) {
      const headers: Record<string, string> = { ...call.headers };
      if (call.token) headers.authorization = `Bearer ${call.token}`;
      let body: RequestInit['body'] = call.body;
      if (call.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(call.json);
      } else if (call.form) body = call.form;
      return fetch(instance.base + url, { method, headers, body });
    },
  } as TestService;
}

describe.skipIf(databaseUnavailable())(`kill -9 between commit and delivery (${testDbKind})`, { timeout: 240_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let receiver: WebhookReceiver;
  let testDb: TestDatabase | undefined;
  const running: Instance[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-notify-crash-'));
    receiver = new WebhookReceiver();
    await receiver.up();
    const { PORT: _p, HOST: _h, DATABASE_URL: _d, ...rest } = process.env;
    env = {
      ...rest,
      DATA_DIR: dir,
      KEYS_DIR: path.join(dir, 'keys'),
      PUBLIC_URL: 'http://clearframe.test',
      LOG_LEVEL: 'warn',
      WEBHOOK_ALLOWED_ORIGINS: receiver.origin,
      WEBHOOK_WORKER_INTERVAL_MS: '100',
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_RETRY_CAP_MS: '500',
    };
    if (testDbKind === 'postgres') {
      testDb = await createTestDatabase();
      await testDb.database.close();
      env.DATABASE_URL = testDb.url!;
    }
  });

  afterAll(async () => {
    for (const i of running) if (i.child.exitCode === null) i.child.kill('SIGKILL');
    await receiver?.down();
    if (testDb) {
      const { default: postgres } = await import('postgres');
      const u = new URL(testDb.url!);
      const name = u.pathname.slice(1);
      u.pathname = '/postgres';
      const admin = postgres(u.toString(), { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await admin.end();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('the notification of a revocation committed before the kill arrives after the restart, with the same id', async () => {
    const token = async (role: string, sub: string, vendor?: string) => {
      const r = await runCli(env, ['token', 'issue', '--role', role, '--sub', sub, ...(vendor ? ['--vendor', vendor] : []), '--ttl', '1h']);
      if (r.code !== 0) throw new Error(r.stderr);
      return r.stdout.trim();
    };
    const first = await serve(env);
    running.push(first);
    const [legal, vendor, generator] = [await token('legal', 'lee@studio.example'), await token('vendor', 'ops@acme.example', 'acme-vfx'), await token('generator', 'render-farm')];
    const svc = over(first);
    const { assets, checkpoint } = await activeCheckpoint(svc, legal, vendor, 1, { grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' } });
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 5 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpoint.id);
    const signed = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(signed.status).toBe(200);
    const outputId = signed.headers.get('clearframe-output-id')!;
    const sub = await svc.call('POST', '/v1/subscriptions', { token: legal, json: { url: `${receiver.origin}/hook`, events: ['license.revoked'] } });
    expect(sub.status).toBe(201);

    // The receiver holds the delivery: the revocation is committed, its notification not yet delivered.
    receiver.mode = 'hang';
    const revoked = await svc.call('POST', `/v1/licenses/${assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'rescinded' } });
    expect(revoked.status).toBe(200);
    const hung = await until('the delivery in flight', () => receiver.received.find((r) => r.answered === 'hung'));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(receiver.events()).toEqual([]);

    receiver.mode = 'ok';
    const second = await serve(env);
    running.push(second);
    const [event] = await until('the event after the restart', () => receiver.events().length > 0 && receiver.events(), 60_000);
    expect(event!.id).toBe(JSON.parse(hung.body).id);
    expect(event!.type).toBe('license.revoked');
    expect(event!.data.taintedOutputs).toEqual([{ id: outputId, checkpointId: checkpoint.id }]);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});
