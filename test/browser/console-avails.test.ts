/**
 * The Availability page in Chromium: legal asks what a vendor may fine-tune on, reads each reason, downloads
 * the same rows as CSV and freezes the available assets into a dataset; a vendor asks for itself; a
 * distributor has no such page. Against the whole service on 127.0.0.1 over PGlite.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, type ConsoleTab, expectClean, startConsole } from '../support/console-browser.ts';
import { licensedAsset } from '../support/gate-fixtures.ts';
import type { TestService } from '../support/service.ts';

const XSS_TITLE = '<img src=x onerror=alert(1)>';

describe('the Availability page in Chromium', () => {
  let harness: ConsoleHarness;
  let svc: TestService;
  let legal: string;
  let vendor: string;
  let distributor: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    harness = await startConsole();
    svc = harness.svc;
    legal = await svc.token('legal', 'lee@studio.example');
    vendor = await svc.token('vendor');
    distributor = await svc.token('distributor');
    const term = { start: '2026-01-01T00:00:00Z', end: '2030-12-31T23:59:59Z' };
    ids.open = (await licensedAsset(svc, legal, { term, territories: ['WORLD'] }, { title: XSS_TITLE, production: 'dun' })).assetId;
    ids.closed = (
      await licensedAsset(svc, legal, { term, grants: { training: 'notAllowed', derivatives: 'allowed', commercial: 'allowed' } }, { title: 'No training', production: 'dun' })
    ).assetId;
    ids.unlicensed = (await licensedAsset(svc, legal, null, { title: 'Unlicensed sketch', production: 'dun' })).assetId;
    ids.gb = (await licensedAsset(svc, legal, { term, territories: ['GB'] }, { title: 'British only', production: 'dun' })).assetId;
  });
  afterAll(async () => {
    await harness?.close();
  });

  const open = (path: string, token: string) => harness.open(path, token);

  const row = (t: ConsoleTab, id: string) => t.page.locator(`tr[data-asset="${id}"]`);

  it('answers a use with reasons, downloads CSV and freezes the available assets into a dataset', async () => {
    const t = await open('/console/avails', legal);
    const { page } = t;
    await page.getByRole('heading', { name: 'Availability' }).waitFor();
    // Without a vendor the API's error lands beside the field
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('#avails-vendor-error').textContent()).not.toBe('');
    await page.getByLabel('Vendor').fill('acme-vfx');
    await page.getByLabel('Territory').fill('US');
    await page.getByRole('button', { name: 'Search' }).click();
    await row(t, ids.gb!).waitFor();
    expect(await row(t, ids.open!).getAttribute('data-status')).toBe('available');
    expect(await row(t, ids.open!).locator('td.asset-title a').textContent()).toBe(XSS_TITLE); // text, not markup
    expect(await row(t, ids.closed!).locator('li[data-code]').getAttribute('data-code')).toBe('grantNotAllowed');
    expect(await row(t, ids.unlicensed!).locator('li[data-code]').getAttribute('data-code')).toBe('noLicense');
    expect(await row(t, ids.gb!).locator('li[data-code]').getAttribute('data-code')).toBe('territory');
    expect(await row(t, ids.gb!).textContent()).toContain('The proposed territory is not among');
    // the query is in the URL: a reload answers it again
    expect(new URL(page.url()).searchParams.get('territory')).toBe('US');
    await page.reload();
    await row(t, ids.gb!).waitFor();
    expect(await page.getByRole('button', { name: 'Show more' }).isVisible()).toBe(false); // one page holds them all
    await expectClean(t, 'avails-legal.png');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('assetId,title,production,rightsHolder,licenseId,status,reasonCodes,policyIds,reasons');
    expect(csv).toContain(`${ids.gb},British only,dun`);
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(5);

    await page.getByLabel('Dataset name').fill('US-available DUN art');
    await page.getByRole('button', { name: 'Freeze these into a dataset' }).click();
    await page.locator('code.frozen-id').waitFor();
    const datasetId = await page.locator('code.frozen-id').textContent();
    const ds = (await (await svc.call('GET', `/v1/datasets/${datasetId}`, { token: legal })).json()) as { assetCount: number; ownerVendor: string; assets: { assetId: string }[] };
    expect(ds.ownerVendor).toBe('acme-vfx');
    expect(ds.assets.map((a) => a.assetId)).toEqual([ids.open]);
    await expectClean(t, 'avails-frozen.png');
  });

  it('a vendor asks for itself; a distributor has no Availability page', async () => {
    const t = await open('/console/avails?purpose=reference&baseModel=veo-3.0-generate-001', vendor);
    const { page } = t;
    await row(t, ids.closed!).waitFor();
    expect(await page.getByLabel('Vendor').count()).toBe(0);
    // as a source, the derivatives grant decides: allowed on one, awaiting an approval on the other
    expect(await row(t, ids.closed!).getAttribute('data-status')).toBe('available');
    expect(await row(t, ids.open!).locator('li[data-code]').getAttribute('data-code')).toBe('requiresApproval');
    expect(await row(t, ids.closed!).locator('td.asset-title a').count()).toBe(0); // no asset pages for vendors
    expect(await page.locator('p[role="status"]').first().textContent()).toContain('acme-vfx');
    await expectClean(t, 'avails-vendor.png');

    const d = await open('/console/avails', distributor);
    await d.page.getByText('Your role (distributor) cannot use this page').waitFor();
    expect(await d.page.getByRole('link', { name: 'Availability' }).count()).toBe(0);
    await expectClean(d, 'avails-distributor.png');
  });
});
