import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const run = promisify(execFile);
const BIN = path.resolve('bin/clearframe.js');

// `clearframe audit monitor URL --state FILE`, as an auditor runs it from cron (issue 17).
describe.skipIf(databaseUnavailable())('clearframe audit monitor', { timeout: 120_000 }, () => {
  let svc: TestService;
  let server: ServerType;
  let url: string;
  let dir: string;
  let legal: string;
  const monitor = (...args: string[]) =>
    run(process.execPath, [BIN, 'audit', 'monitor', ...args], { env: { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent' }, timeout: 60_000 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal');
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-monitor-'));
    server = serve({ fetch: svc.runtime.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its state across runs and exits 0 while the log extends what it saw', async () => {
    const state = path.join(dir, 'state.json');
    const first = await monitor(url, '--state', state);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ status: 'first' });
    const kept = JSON.parse(readFileSync(state, 'utf8')) as { treeSize: number };
    await svc.call('POST', '/v1/assets', { token: legal, json: assetBody() });
    const second = await monitor(url, '--state', state, '--token', legal);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: 'consistent', from: kept.treeSize, treeSize: kept.treeSize + 1 });
  });

  it('exits 1 on a fork (the state it holds is not a tree the log extends), keeping its state', async () => {
    const state = path.join(dir, 'forked.json');
    await monitor(url, '--state', state);
    const kept = JSON.parse(readFileSync(state, 'utf8')) as { rootHash: string };
    writeFileSync(state, JSON.stringify({ ...kept, rootHash: Buffer.alloc(32, 9).toString('base64') }));
    const res = await monitor(url, '--state', state, '--token', legal);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^clearframe: two different trees of \d+ entries were signed\n$/);
    expect(JSON.parse(readFileSync(state, 'utf8')).rootHash).toBe(Buffer.alloc(32, 9).toString('base64'));
  });

  it('exits 3 when the log cannot be checked, and 2 on bad usage', async () => {
    const closed = await monitor('http://127.0.0.1:9/', '--state', path.join(dir, 'none.json'));
    expect(closed.code).toBe(3);
    expect(closed.stderr).toMatch(/^clearframe: cannot reach http:\/\/127\.0\.0\.1:9/);
    expect((await monitor()).code).toBe(2);
    expect((await monitor('not a url')).code).toBe(2);
  });
});
