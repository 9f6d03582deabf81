/**
 * c2pa-rs's conformance corpus (test/fixtures/third-party) on POST /v1/verify: every file gets the verdict
 * the table gives it, the service and the offline `clearframe verify` agree on each, none gets a 5xx, and
 * hostile files are answered within a second. Then the sign path: TIFF and GIF are signed and verified as
 * c2pa-rs does, and a truncated JPEG or MP4 is refused (422) with nothing signed or recorded.
 */
import { readFileSync } from 'node:fs';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeSize } from '../../src/audit/log-store.ts';
import { outputs } from '../../src/outputs/tables.ts';
import { verifyOffline } from '../../src/outputs/verify-offline.ts';
import { createC2paWasmEngine } from '../../src/provenance/c2pa/c2pa-wasm.ts';
import { makeJpeg, makeMp4 } from '../fixtures/media.ts';
import { CORPUS } from '../fixtures/third-party/corpus.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

const fixture = (file: string) => new Uint8Array(readFileSync(new URL(`../fixtures/third-party/${file}`, import.meta.url)));
type Answer = { verdict: string; c2pa: { failureCodes?: string[]; codes?: string[]; remoteUrl?: string | null } | null };

describe.skipIf(databaseUnavailable())('the conformance corpus on /v1/verify', () => {
  let svc: TestService;
  let distributor: string;
  let legal: string;
  let vendor: string;
  let generator: string;
  const offline = createC2paWasmEngine();

  beforeAll(async () => {
    svc = await startTestService();
    [distributor, legal, vendor, generator] = await Promise.all([svc.token('distributor'), svc.token('legal'), svc.token('vendor'), svc.token('generator')]);
  });
  afterAll(async () => {
    await offline.close();
    await svc?.close();
  });

  it.each(CORPUS)('$file: $verdict, as offline, never a 5xx', async ({ file, verdict, codes, hostile }) => {
    const bytes = fixture(file);
    const started = performance.now();
    const res = await svc.call('POST', '/v1/verify', { token: distributor, body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    const took = performance.now() - started;
    expect(res.status).toBeLessThan(500);
    // A guard against hangs, not a timing: a hostile file is answered long before a second.
    if (hostile) expect(took).toBeLessThan(1000);
    const cli = (await verifyOffline(offline, bytes, {})) as Answer;
    if (verdict === 'unsupported') {
      expect(res.status).toBe(415);
      expect(cli.verdict).toBe('unsupported');
      return;
    }
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Answer;
    const reported = answer.c2pa?.failureCodes ?? answer.c2pa?.codes ?? [];
    expect({ file, verdict: answer.verdict, codes: reported }).toEqual({ file, verdict, codes });
    expect(cli.verdict).toBe(answer.verdict);
    if (verdict === 'remote-manifest') expect(answer.c2pa?.remoteUrl).toMatch(/^https?:\/\//);
  });

  it('signs TIFF and GIF outputs and verifies them', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    for (const [file, type] of [
      ['TUSCANY.TIF', 'image/tiff'],
      ['sample1.gif', 'image/gif'],
    ] as const) {
      const form = new FormData();
      form.set('file', new File([fixture(file)], file, { type }));
      form.set('checkpointId', checkpoint.id);
      const signed = await svc.call('POST', '/v1/outputs', { token: generator, form });
      expect({ file, status: signed.status }).toEqual({ file, status: 200 });
      const bytes = new Uint8Array(await signed.arrayBuffer());
      const res = await svc.call('POST', '/v1/verify', { token: distributor, body: bytes, headers: { 'content-type': type } });
      expect({ file, verdict: ((await res.json()) as Answer).verdict }).toEqual({ file, verdict: 'verified' });
    }
  });

  it('refuses a truncated JPEG or MP4 with 422, signing and recording nothing (issue 17)', async () => {
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const db = svc.runtime.ctx.database.db;
    const jpeg = makeJpeg({ seed: 21 });
    const mp4 = makeMp4({ frames: 3 });
    for (const [bytes, type] of [
      [jpeg.subarray(0, jpeg.length - 200), 'image/jpeg'],
      [mp4.subarray(0, mp4.length - 200), 'video/mp4'],
    ] as const) {
      const [logBefore, [rowsBefore]] = await Promise.all([treeSize(db), db.select({ n: count() }).from(outputs)]);
      const form = new FormData();
      form.set('file', new File([bytes], `cut.${type.split('/')[1]}`, { type }));
      form.set('checkpointId', checkpoint.id);
      const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
      expect({ type, status: res.status, contentType: res.headers.get('content-type') }).toEqual({ type, status: 422, contentType: 'application/problem+json' });
      expect(((await res.json()) as { detail: string }).detail).toMatch(new RegExp(`does not decode as ${type}`));
      const [logAfter, [rowsAfter]] = await Promise.all([treeSize(db), db.select({ n: count() }).from(outputs)]);
      expect({ log: logAfter, rows: rowsAfter!.n }).toEqual({ log: logBefore, rows: rowsBefore!.n });
    }
  });
});
