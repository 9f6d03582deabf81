/**
 * GET /v1/audit/evidence: the evidence bundle `clearframe audit export` writes, over HTTP for legal and admin,
 * as a download that the offline verifier accepts under the published key; bad ranges are 422 before anything
 * is streamed, other roles 403. And GET /v1/clearances?requestedDatasetId=, which lists a subset clearance
 * under the dataset it was asked on (the console's dataset page reads it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundleText } from '../../src/audit/bundle-file.ts';
import { databaseUnavailable } from '../support/db.ts';
import { assetBody } from '../support/fixtures.ts';
import { dataset, licensedAsset } from '../support/gate-fixtures.ts';
import { startTestService, type TestService } from '../support/service.ts';

async function* once(text: string) {
  yield text;
}

async function* body(res: Response) {
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) yield decoder.decode(chunk, { stream: true });
}

describe.skipIf(databaseUnavailable())('the evidence bundle over HTTP', () => {
  let svc: TestService;
  let legal: string;
  let vkey: string;

  beforeAll(async () => {
    svc = await startTestService();
    legal = await svc.token('legal');
    for (let i = 0; i < 5; i++) await svc.call('POST', '/v1/assets', { token: legal, json: assetBody({ title: `Evidence ${i}` }) });
    vkey = ((await (await svc.call('GET', '/v1/audit/key')).json()) as { vkey: string }).vkey;
  });
  afterAll(async () => svc?.close());

  const size = async () => ((await (await svc.call('GET', '/v1/audit/events?from=0&limit=1', { token: legal })).json()) as { treeSize: number }).treeSize;

  it('answers legal and admin with a bundle of the range, as an attachment, that verifies offline under the published key', async () => {
    const n = await size();
    expect(n).toBeGreaterThanOrEqual(5);
    for (const role of ['legal', 'admin'] as const) {
      const res = await svc.call('GET', '/v1/audit/evidence?from=1&to=4', { token: await svc.token(role) });
      expect(res.status, role).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="clearframe-evidence-1-3.json"');
      expect(res.headers.get('clearframe-tree-size')).toBe(String(n));
      const text = await res.text();
      const bundle = JSON.parse(text) as { format: string; from: number; to: number; entries: { index: number }[]; checkpoint: string };
      expect({ format: bundle.format, from: bundle.from, to: bundle.to, indices: bundle.entries.map((e) => e.index) }).toEqual({
        format: 'clearframe-audit-evidence/v1',
        from: 1,
        to: 4,
        indices: [1, 2, 3],
      });
      expect(bundle.checkpoint.split('\n')[1]).toBe(String(n));
      const verdict = await verifyBundleText(once(text), vkey);
      expect(verdict).toMatchObject({ ok: true, entriesChecked: 3, keySource: 'given', failures: [] });
    }
  });

  it('caps `to` at the log and defaults it to the log; the stream verifies as it arrives', async () => {
    const n = await size();
    const capped = await svc.call('GET', `/v1/audit/evidence?from=2&to=${n + 50}`, { token: legal });
    expect(capped.status).toBe(200);
    expect(capped.headers.get('content-disposition')).toBe(`attachment; filename="clearframe-evidence-2-${n - 1}.json"`);
    expect(await verifyBundleText(body(capped), vkey)).toMatchObject({ ok: true, entriesChecked: n - 2 });
    const all = await svc.call('GET', '/v1/audit/evidence?from=0', { token: legal });
    const bundle = (await all.json()) as { from: number; to: number; entries: unknown[] };
    expect({ from: bundle.from, to: bundle.to, entries: bundle.entries.length }).toEqual({ from: 0, to: n, entries: n });
    // Under another key it fails: the verdict depends on the key, not only on the bundle's own.
    const other = vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
    const res = await svc.call('GET', '/v1/audit/evidence?from=0&to=2', { token: legal });
    expect((await verifyBundleText(once(await res.text()), other)).ok).toBe(false);
  });

  it('refuses a range outside the log, or backwards, with a 422 naming the field, and other roles with 403', async () => {
    const n = await size();
    const past = await svc.call('GET', `/v1/audit/evidence?from=${n}`, { token: legal });
    expect(past.status).toBe(422);
    expect(past.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await past.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['from']);
    const backwards = await svc.call('GET', '/v1/audit/evidence?from=3&to=3', { token: legal });
    expect(backwards.status).toBe(422);
    expect(((await backwards.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['to']);
    const bad = await svc.call('GET', '/v1/audit/evidence?from=-1', { token: legal });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    expect((await svc.call('GET', '/v1/audit/evidence', { token: legal })).status).toBe(422); // from is required
    for (const role of ['vendor', 'distributor', 'generator'] as const) {
      expect((await svc.call('GET', '/v1/audit/evidence?from=0', { token: await svc.token(role) })).status, role).toBe(403);
    }
    expect((await svc.call('GET', '/v1/audit/evidence?from=0')).status).toBe(401);
    expect(await size()).toBe(n); // an export records nothing
  });

  it('lists clearances by the dataset they were asked on: a subset clearance under its parent', async () => {
    const vendor = await svc.token('vendor');
    const good = await licensedAsset(svc, legal);
    const bad = await licensedAsset(svc, legal, { grants: { training: 'notAllowed', derivatives: 'notAllowed', commercial: 'notAllowed' } });
    const d = await dataset(svc, legal, [good.assetId, bad.assetId], 'mixed', 'acme-vfx');
    const asked = await svc.call('POST', `/v1/datasets/${d.id}/clearances`, {
      token: vendor,
      json: { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001', mode: 'subset' },
    });
    const subset = (await asked.json()) as { id: string; decision: string; datasetId: string; requestedDatasetId: string };
    expect(subset).toMatchObject({ decision: 'allow', requestedDatasetId: d.id });
    expect(subset.datasetId).not.toBe(d.id);
    type Page = { items: { id: string; datasetId: string; requestedDatasetId: string }[] };
    const list = async (q: string) => ((await (await svc.call('GET', `/v1/clearances?${q}`, { token: vendor })).json()) as Page).items;
    expect((await list(`datasetId=${d.id}`)).map((c) => c.id)).toEqual([]);
    expect(await list(`requestedDatasetId=${d.id}`)).toEqual([expect.objectContaining({ id: subset.id, datasetId: subset.datasetId, requestedDatasetId: d.id })]);
    expect((await list(`datasetId=${subset.datasetId}`)).map((c) => c.id)).toEqual([subset.id]);
    // Another vendor sees none of it.
    const other = await svc.token('vendor', 'ops@other.example', 'other-vfx');
    const theirs = (await (await svc.call('GET', `/v1/clearances?requestedDatasetId=${d.id}`, { token: other })).json()) as Page;
    expect(theirs.items).toEqual([]);
  });
});
