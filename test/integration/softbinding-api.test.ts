/**
 * The C2PA Soft Binding Resolution API under /v1/soft-binding (issue 20): a signed output, stripped and
 * re-encoded, is found by its content and by its binding value (base64 or hex), nearest first, with the
 * roles of /v1/verify; bad input is the specification's 400 (problem+json) and changes nothing; the manifest
 * store is not kept, which GET /manifests says by naming the output. And /v1/verify decodes a file without a
 * manifest only when some fingerprint could match it.
 */
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvent, treeSize } from '../../src/audit/log-store.ts';
import { addFingerprint } from '../../src/fingerprints/store.ts';
import { outputFingerprints } from '../../src/fingerprints/tables.ts';
import { fingerprintImage } from '../../src/media/fingerprint.ts';
import { SOFT_BINDING_ALG } from '../../src/outputs/manifest.ts';
import { outputs } from '../../src/outputs/tables.ts';
import { type FingerprintFile, verifyFile } from '../../src/outputs/verify.ts';
import { matchesByContent } from '../../src/softbinding/service.ts';
import { makeMp4 } from '../fixtures/media.ts';
import { blockPicture, strippedReencode } from '../fixtures/pictures.ts';
import { databaseUnavailable } from '../support/db.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

type Match = { manifestId: string; similarityScore: number; outputId: string; distance: number; threshold: number; endpoint?: string };
const API = '/v1/soft-binding';

/** The real decoder, counted. */
function countingFingerprint(): FingerprintFile & { calls: number } {
  const f = Object.assign(
    async (bytes: Uint8Array) => {
      f.calls += 1;
      return fingerprintImage(bytes);
    },
    { calls: 0 },
  );
  return f;
}

describe.skipIf(databaseUnavailable())('the Soft Binding Resolution API', () => {
  let svc: TestService;
  let distributor: string;
  let generator: string;
  let legal: string;
  let out: { id: string; manifestId: string; signed: Uint8Array; copy: Uint8Array };

  beforeAll(async () => {
    svc = await startTestService({ OUTPUT_SOFT_BINDING: 'pdq' });
    let vendor: string;
    [legal, vendor, generator, distributor] = await Promise.all([svc.token('legal'), svc.token('vendor'), svc.token('generator'), svc.token('distributor')]);
    const checkpointId = (await activeCheckpoint(svc, legal, vendor, 1)).checkpoint.id;
    const form = new FormData();
    form.set('file', new File([await blockPicture(41)], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpointId);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status).toBe(200);
    const id = res.headers.get('clearframe-output-id')!;
    const [row] = await svc.runtime.ctx.database.db.select({ label: outputs.manifestLabel }).from(outputs).where(eq(outputs.id, id));
    const signed = new Uint8Array(await res.arrayBuffer());
    out = { id, manifestId: row!.label, signed, copy: await strippedReencode(signed, 60) };
  });
  afterAll(async () => svc?.close());

  const matchesOf = async (res: Response) => {
    expect(res.status, await res.clone().text()).toBe(200);
    return ((await res.json()) as { matches: Match[] }).matches;
  };
  const byContent = (bytes: Uint8Array, type: string, query = '', token = distributor) =>
    svc.call('POST', `${API}/matches/byContent${query}`, { token, body: bytes, headers: { 'content-type': type } });

  it('finds the output of a stripped, re-encoded copy by its content, and by its binding value in base64 or hex, GET or POST', async () => {
    const [m, ...others] = await matchesOf(await byContent(out.copy, 'image/jpeg'));
    expect(others).toEqual([]);
    expect(m).toMatchObject({ manifestId: out.manifestId, outputId: out.id, threshold: 31 });
    expect(m!.manifestId).toMatch(/^urn:/);
    expect(m!.distance).toBeGreaterThan(0);
    expect(m!.distance).toBeLessThanOrEqual(31);
    expect(m!.similarityScore).toBe(Math.round(100 * (1 - m!.distance / 32)));
    expect(m).not.toHaveProperty('endpoint');

    const fp = (await fingerprintImage(out.copy))!;
    const b64 = Buffer.from(fp.value, 'hex').toString('base64');
    for (const value of [b64, fp.value, b64.replace(/=$/, '')]) {
      const q = new URLSearchParams({ alg: SOFT_BINDING_ALG, value });
      expect(await matchesOf(await svc.call('GET', `${API}/matches/byBinding?${q}`, { token: legal })), value).toEqual([m]);
    }
    expect(await matchesOf(await svc.call('POST', `${API}/matches/byBinding?maxResults=3`, { token: distributor, json: { alg: SOFT_BINDING_ALG, value: b64 } }))).toEqual([m]);
    // The signed output's own fingerprint, as its manifest states it: distance 0, score 100.
    const [own] = await svc.runtime.ctx.database.db.select({ value: outputFingerprints.value }).from(outputFingerprints).where(eq(outputFingerprints.outputId, out.id));
    const exact = await matchesOf(await svc.call('GET', `${API}/matches/byBinding?${new URLSearchParams({ alg: SOFT_BINDING_ALG, value: own!.value })}`, { token: distributor }));
    expect(exact).toEqual([{ ...m, distance: 0, similarityScore: 100 }]);
  });

  it('matches nothing for an unrelated picture, or a binding value far from every output', async () => {
    expect(await matchesOf(await byContent(await blockPicture(42, 'image/png'), 'image/png'))).toEqual([]);
    const far = (await fingerprintImage(await blockPicture(43)))!.value;
    expect(await matchesOf(await svc.call('GET', `${API}/matches/byBinding?${new URLSearchParams({ alg: SOFT_BINDING_ALG, value: far })}`, { token: distributor }))).toEqual([]);
  });

  it('names the algorithm it supports', async () => {
    const res = await svc.call('GET', `${API}/services/supportedAlgorithms`, { token: distributor });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ watermarks: [], fingerprints: [{ alg: 'com.clearframe.pdq.1' }] });
  });

  it('hands out the manifest store an output was signed with (application/c2pa), the one its entry names; an unknown one is a 404', async () => {
    const known = await svc.call('GET', `${API}/manifests/${encodeURIComponent(out.manifestId)}`, { token: distributor });
    expect(known.status).toBe(200);
    expect(known.headers.get('content-type')).toBe('application/c2pa');
    expect(known.headers.get('clearframe-output-id')).toBe(out.id);
    const store = new Uint8Array(await known.arrayBuffer());
    // A JUMBF superbox labelled c2pa, holding the output's own manifest.
    expect(Buffer.from(store.subarray(4, 8)).toString('latin1')).toBe('jumb');
    expect(Buffer.from(store).includes(Buffer.from('c2pa'))).toBe(true);
    expect(Buffer.from(store).includes(Buffer.from(out.manifestId.replace(/^urn:c2pa:/, '')))).toBe(true);
    // The bytes the output's audit entry names, and the very JUMBF in the signed file.
    const db = svc.runtime.ctx.database.db;
    const [row] = await db.select({ auditIndex: outputs.auditIndex }).from(outputs).where(eq(outputs.id, out.id));
    const entry = (await readEvent(db, row!.auditIndex))!;
    expect((entry.content as { manifestStoreSha256: string }).manifestStoreSha256).toBe(createHash('sha256').update(store).digest('hex'));
    expect(Buffer.from(out.signed).includes(Buffer.from(store.subarray(0, 64)))).toBe(true);
    const only = await svc.call('GET', `${API}/manifests/${encodeURIComponent(out.manifestId)}?returnActiveManifest=true`, { token: distributor });
    expect(new Uint8Array(await only.arrayBuffer())).toEqual(store);

    const unknown = await svc.call('GET', `${API}/manifests/${encodeURIComponent('urn:c2pa:00000000-0000-4000-8000-000000000000')}`, { token: distributor });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await unknown.json()).not.toHaveProperty('outputId');
  });

  it('refuses bad input with the specification’s 400 (problem+json) or 415, and writes nothing', async () => {
    const db = svc.runtime.ctx.database.db;
    const before = await treeSize(db);
    const fp = (await fingerprintImage(out.copy))!.value;
    const bad: [string, string, Record<string, unknown>?][] = [
      ['GET', `${API}/matches/byBinding?${new URLSearchParams({ alg: 'org.example.watermark.1', value: fp })}`],
      ['GET', `${API}/matches/byBinding?${new URLSearchParams({ alg: SOFT_BINDING_ALG, value: 'not-a-hash' })}`],
      ['GET', `${API}/matches/byBinding?${new URLSearchParams({ alg: SOFT_BINDING_ALG, value: fp.slice(2) })}`],
      ['GET', `${API}/matches/byBinding?${new URLSearchParams({ alg: SOFT_BINDING_ALG })}`],
      ['GET', `${API}/matches/byBinding?${new URLSearchParams({ alg: SOFT_BINDING_ALG, value: fp, maxResults: '0' })}`],
      ['POST', `${API}/matches/byBinding`, { alg: SOFT_BINDING_ALG }],
    ];
    for (const [method, path, json] of bad) {
      const res = await svc.call(method, path, { token: distributor, ...(json ? { json } : {}) });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type'), path).toMatch(/application\/problem\+json/);
      expect(((await res.json()) as { errors: unknown[] }).errors.length, path).toBeGreaterThan(0);
    }
    expect((await byContent(out.copy, 'image/jpeg', '?alg=org.example.watermark.1')).status).toBe(400);
    expect((await byContent(new Uint8Array(0), 'image/jpeg')).status).toBe(400);
    const broken = await byContent(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6]), 'image/jpeg');
    expect(broken.status).toBe(400);
    expect(broken.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await byContent(makeMp4({ frames: 2 }), 'video/mp4')).status).toBe(415);
    expect(await treeSize(db)).toBe(before);
  });

  it('is for the roles of /v1/verify: a generator or vendor is refused, and a request without a token', async () => {
    const vendor = await svc.token('vendor');
    const value = (await fingerprintImage(out.copy))!.value;
    const q = `${API}/matches/byBinding?${new URLSearchParams({ alg: SOFT_BINDING_ALG, value })}`;
    for (const token of [generator, vendor]) {
      expect((await svc.call('GET', q, { token })).status).toBe(403);
      expect((await byContent(out.copy, 'image/jpeg', '', token)).status).toBe(403);
      expect((await svc.call('GET', `${API}/manifests/${encodeURIComponent(out.manifestId)}`, { token })).status).toBe(403);
      expect((await svc.call('GET', `${API}/services/supportedAlgorithms`, { token })).status).toBe(403);
    }
    expect((await svc.call('GET', q)).status).toBe(401);
  });
});

describe.skipIf(databaseUnavailable())('a file without a manifest is decoded only when a fingerprint could match it', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ OUTPUT_SOFT_BINDING: 'off' });
  });
  afterAll(async () => svc?.close());

  it('answers no-manifest without decoding while no fingerprint is registered; decodes once one is', async () => {
    const ctx = svc.runtime.ctx;
    const file = await strippedReencode(await blockPicture(44), 70);
    const decode = countingFingerprint();
    const v = await verifyFile(ctx, file, 'image/jpeg', decode);
    expect(v.verdict).toBe('no-manifest');
    expect(decode.calls).toBe(0);
    expect(await matchesByContent(ctx, file, 'image/jpeg', { maxResults: 10, fingerprintFile: decode })).toEqual([]);
    expect(decode.calls).toBe(0);

    // A fingerprint recorded while soft binding was on (here written directly): now pixels can lead somewhere.
    const fp = (await fingerprintImage(await blockPicture(45)))!;
    await addFingerprint(ctx.database.db, { outputId: 'out_earlier', algorithm: 'pdq', value: fp.value, quality: fp.quality });
    const again = await verifyFile(ctx, file, 'image/jpeg', decode);
    expect(again.verdict).toBe('no-manifest'); // an unrelated picture
    expect(decode.calls).toBe(1);
  });
});
