import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../fixtures/media.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const run = promisify(execFile);
const BIN = path.resolve('bin/clearframe.js');

// A distributor verifies offline against the anchors the service publishes (issue 16).
describe.skipIf(databaseUnavailable())('clearframe verify --trust', { timeout: 120_000 }, () => {
  let svc: TestService;
  let server: ServerType;
  let url: string;
  let dir: string;
  let signed: string;
  const verify = (...args: string[]) =>
    run(process.execPath, [BIN, 'verify', ...args], { env: { ...process.env, DATA_DIR: dir, KEYS_DIR: path.join(dir, 'keys'), LOG_LEVEL: 'silent' }, timeout: 60_000 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  beforeAll(async () => {
    svc = await startTestService();
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-trust-'));
    server = serve({ fetch: svc.runtime.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { checkpoint } = await activeCheckpoint(svc, await svc.token('legal'), await svc.token('vendor'), 1);
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 78 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpoint.id);
    const res = await svc.call('POST', '/v1/outputs', { token: await svc.token('generator'), form });
    expect(res.status).toBe(200);
    signed = path.join(dir, 'frame.jpg');
    writeFileSync(signed, new Uint8Array(await res.arrayBuffer()));
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says untrusted without the service anchors, valid with them from its URL or a saved file', async () => {
    const alone = await verify(signed);
    expect(alone.code).not.toBe(0);
    expect(JSON.parse(alone.stdout)).toMatchObject({ verdict: 'untrusted' });
    const fromUrl = await verify(signed, '--trust', `${url}/v1/trust/c2pa`);
    expect(fromUrl.code, fromUrl.stderr).toBe(0);
    expect(JSON.parse(fromUrl.stdout)).toMatchObject({ verdict: 'valid' });
    const pem = path.join(dir, 'anchors.pem');
    writeFileSync(pem, await (await fetch(`${url}/v1/trust/c2pa`)).text());
    expect(JSON.parse((await verify(signed, '--trust', pem)).stdout)).toMatchObject({ verdict: 'valid' });
  });

  it('refuses a --trust that holds no certificate, in one line', async () => {
    const junk = path.join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    const res = await verify(signed, '--trust', junk);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(`clearframe: --trust: ${junk} holds no PEM certificate\n`);
  });
});
