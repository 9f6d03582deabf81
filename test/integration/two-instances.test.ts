/**
 * Two service processes on one PostgreSQL, as a deployment behind a load balancer runs them (issue 22): both
 * start at once on an empty database (one migrates, the other waits), writers and signers on both, and then
 * the log is one dense tree that either instance proves, every acknowledged write is there and readable from
 * the other, checkpoints from either are consistent with each other (`audit monitor`, a consistency proof),
 * and `audit verify` passes over the whole database.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable, testDbKind } from '../support/db.ts';
import { assetBody, licenseBody } from '../support/fixtures.ts';
import { freePort } from '../support/free-port.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import type { Call, TestService } from '../support/service.ts';

const BIN = path.resolve('bin/clearframe.js');
const PUBLIC_URL = 'http://clearframe.test';

type Result = { code: number | null; stdout: string; stderr: string };
function runCli(env: NodeJS.ProcessEnv, args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

type Instance = { name: string; base: string; child: ChildProcess; stderr: () => string };

async function startInstance(name: string, env: NodeJS.ProcessEnv): Promise<Instance> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), `clearframe-${name}-`));
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...env, DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  return { name, base: `http://127.0.0.1:${port}`, child, stderr: () => err };
}

async function healthy(instance: Instance, ms = 90_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (instance.child.exitCode !== null) throw new Error(`${instance.name} exited with ${instance.child.exitCode}: ${instance.stderr()}`);
    const ok = await fetch(`${instance.base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${instance.name}: not ready within ${ms} ms: ${instance.stderr()}`);
}

/** The fixtures' view of a service (`call`), over HTTP to one instance. */
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

describe.skipIf(databaseUnavailable() || testDbKind !== 'postgres')('two instances on one PostgreSQL', { timeout: 300_000 }, () => {
  let url: string;
  let dbName: string;
  let keysDir: string;
  let env: NodeJS.ProcessEnv;
  let a: Instance;
  let b: Instance;
  const token = async (role: string, sub: string, vendor?: string) => {
    const r = await runCli(env, ['token', 'issue', '--role', role, '--sub', sub, ...(vendor ? ['--vendor', vendor] : []), '--ttl', '1h']);
    if (r.code !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };

  beforeAll(async () => {
    // An empty database: neither instance finds it migrated.
    const serverUrl = inject('postgresUrl')!;
    dbName = `cf_two_${Date.now().toString(36)}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${dbName}`);
    await admin.end();
    const u = new URL(serverUrl);
    u.pathname = `/${dbName}`;
    url = u.toString();
    keysDir = mkdtempSync(path.join(tmpdir(), 'clearframe-two-keys-'));
    const { PORT: _p, HOST: _h, AUDIT_ORIGIN: _o, ...rest } = process.env;
    env = { ...rest, DATABASE_URL: url, KEYS_DIR: keysDir, PUBLIC_URL, LOG_LEVEL: 'warn', DATA_DIR: keysDir, DATABASE_MAX_CONNECTIONS: '4' };
    // Keys are provisioned once and shared, as a deployment mounts one secret (or names one KMS key ring).
    const init = await runCli(env, ['keys', 'init']);
    expect(init.code, init.stderr).toBe(0);
    [a, b] = await Promise.all([startInstance('a', env), startInstance('b', env)]);
    await Promise.all([healthy(a), healthy(b)]);
  });

  afterAll(async () => {
    for (const i of [a, b]) i?.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    const admin = postgres(inject('postgresUrl')!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('keeps one dense log with every acknowledged write, proved and checkpointed alike by both', async () => {
    const [legal, vendor, generator, distributor] = await Promise.all([
      token('legal', 'lee@studio.example'),
      token('vendor', 'ops@acme.example', 'acme-vfx'),
      token('generator', 'render-farm'),
      token('distributor', 'dist@example'),
    ]);
    const { checkpoint } = await activeCheckpoint(over(a), legal, vendor, 2, { grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' } });

    // Writers on both at once: registrations and licenses, and signed outputs.
    const acknowledged: { on: Instance; kind: 'asset' | 'output'; id: string; auditIndex: number; bytes?: Uint8Array }[] = [];
    const register = async (on: Instance, i: number) => {
      const res = await over(on).call('POST', '/v1/assets', { token: legal, json: assetBody({ title: `${on.name} ${i}` }) });
      expect(res.status).toBe(201);
      const asset = (await res.json()) as { id: string; auditIndex: number };
      acknowledged.push({ on, kind: 'asset', id: asset.id, auditIndex: asset.auditIndex });
      const lic = await over(on).call('POST', `/v1/assets/${asset.id}/licenses`, { token: legal, json: licenseBody() });
      expect(lic.status).toBe(201);
    };
    const sign = async (on: Instance, i: number) => {
      const form = new FormData();
      form.set('file', new File([makeJpeg({ seed: 1000 + i + (on === b ? 500 : 0), width: 96, height: 72 })], 'frame.jpeg', { type: 'image/jpeg' }));
      form.set('checkpointId', checkpoint.id);
      const res = await over(on).call('POST', '/v1/outputs', { token: generator, form });
      expect(res.status, res.ok ? '' : await res.clone().text()).toBe(200);
      const id = res.headers.get('clearframe-output-id')!;
      const bytes = new Uint8Array(await res.arrayBuffer());
      const record = (await (await over(on).call('GET', `/v1/outputs/${id}`, { token: generator })).json()) as { auditIndex: number };
      acknowledged.push({ on, kind: 'output', id, auditIndex: record.auditIndex, bytes });
    };
    const work: Promise<void>[] = [];
    for (let i = 0; i < 24; i++) {
      work.push(register(i % 2 ? a : b, i));
      if (i % 3 === 0) work.push(sign(i % 2 ? b : a, i));
    }
    await Promise.all(work);
    expect(acknowledged.filter((w) => w.kind === 'output')).toHaveLength(8);

    // Every acknowledged write is readable from the other instance; a frame signed on one verifies on the other.
    for (const w of acknowledged) {
      const other = w.on === a ? b : a;
      if (w.kind === 'asset') {
        expect((await over(other).call('GET', `/v1/assets/${w.id}`, { token: legal })).status).toBe(200);
      } else {
        const res = await over(other).call('POST', '/v1/verify', { token: distributor, body: w.bytes, headers: { 'content-type': 'image/jpeg' } });
        const verdict = (await res.json()) as { verdict: string };
        expect(verdict.verdict).toBe('verified');
      }
    }

    // One dense log: indices 0..n-1, no gap, no duplicate, every acknowledged write's entry among them.
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      type Shape = { n: number; lo: number; hi: number; distinct: number };
      const rows = (await sql`select count(*)::int as n, min(idx)::int as lo, max(idx)::int as hi, count(distinct idx)::int as distinct from audit_events`) as unknown as Shape[];
      const { n, lo, hi, distinct } = rows[0]!;
      expect([lo, hi, distinct]).toEqual([0, n - 1, n]);
      // Each instance kept to its pool (DATABASE_MAX_CONNECTIONS=4), whatever the load: the sum a server must allow.
      const activity = (await sql`select count(*)::int as open from pg_stat_activity where datname = ${dbName}`) as unknown as { open: number }[];
      expect(activity[0]!.open).toBeLessThanOrEqual(2 * 4 + 1);
      const indices = acknowledged.map((w) => w.auditIndex);
      expect(indices.every((i) => Number.isInteger(i) && i >= 0 && i < n)).toBe(true);
      expect(new Set(indices).size).toBe(indices.length);
    } finally {
      await sql.end();
    }

    // Checkpoints from either instance are one tree: B's extends A's (a consistency proof checked by
    // `audit monitor`), and at the same size they agree byte for byte on the root.
    const stateFile = path.join(keysDir, 'monitor.json');
    const first = await runCli(env, ['audit', 'monitor', a.base, '--state', stateFile, '--token', legal]);
    expect(first.code, first.stderr).toBe(0);
    await register(b, 99); // the tree grows through the other instance
    const second = await runCli(env, ['audit', 'monitor', b.base, '--state', stateFile, '--token', legal]);
    expect(second.code, second.stderr + second.stdout).toBe(0);
    const [ca, cb] = await Promise.all([fetch(`${a.base}/v1/audit/checkpoint`).then((r) => r.text()), fetch(`${b.base}/v1/audit/checkpoint`).then((r) => r.text())]);
    const body = (note: string) => note.split('\n\n')[0];
    expect(body(ca)).toBe(body(cb));
    expect(ca.split('\n')[0]).toBe('clearframe.test/clearframe/audit');

    // And the whole database passes the full verification, log and state.
    for (const i of [a, b]) expect(i.child.exitCode).toBeNull();
    const verified = await runCli(env, ['audit', 'verify']);
    expect(verified.code, verified.stderr + verified.stdout).toBe(0);
  });
});
