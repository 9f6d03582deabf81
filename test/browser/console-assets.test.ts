/**
 * The Assets and licenses page in Chromium: legal registers art by upload, records and amends its license,
 * records an approval, and revokes after reading the dry run; API field errors land beside their fields with
 * what was typed kept. Against the whole service on 127.0.0.1 over PGlite.
 */
import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../fixtures/media.ts';
import { type ConsoleHarness, expectClean, startConsole } from '../support/console-browser.ts';
import { dataset, licensedAsset, vendorOf } from '../support/gate-fixtures.ts';
import type { TestService } from '../support/service.ts';

const XSS_TITLE = '<img src=x onerror=alert(1)>';
const LEGAL_SUB = 'lee@studio.example';

describe('the asset page and its license forms in Chromium', () => {
  let harness: ConsoleHarness;
  let svc: TestService;
  let base: string;
  let legal: string;
  let vendor: string;
  let distributor: string;

  beforeAll(async () => {
    harness = await startConsole();
    svc = harness.svc;
    base = harness.base;
    legal = await svc.token('legal', LEGAL_SUB);
    vendor = await svc.token('vendor');
    distributor = await svc.token('distributor');
  });
  afterAll(async () => {
    await harness?.close();
  });

  const open = (path: string, token: string) => harness.open(path, token);

  const events = (page: Page, kind: string) => page.locator(`ol.timeline li[data-kind="${kind}"]`);

  it('registers by upload, records and amends the license (errors beside fields, typing kept), approves, previews and revokes', async () => {
    const t = await open('/console/assets', legal);
    const { page } = t;
    await page.getByRole('link', { name: 'Register an asset' }).click();
    await page.getByRole('heading', { name: 'Register an asset' }).waitFor();

    // Submitted without a title: the API's error appears beside Title, and the rest stays as typed.
    const bytes = makeJpeg({ seed: 77, width: 80, height: 60 });
    await page.locator('#register-file').setInputFiles({ name: 'stairwell.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(bytes) });
    await page.getByLabel('Creator').fill('R. Ortiz');
    await page.getByLabel('Production').fill('dear-upstairs-neighbors');
    await page.getByLabel('Rights holder').fill('Ortiz Studio');
    await page.getByRole('button', { name: 'Register the asset' }).click();
    await expect.poll(() => page.locator('#register-title-error').textContent()).not.toBe('');
    expect(await page.locator('#register-title').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#register-title').getAttribute('aria-describedby')).toContain('register-title-error');
    expect(await page.getByLabel('Creator').inputValue()).toBe('R. Ortiz');
    expect(await page.getByLabel('Rights holder').inputValue()).toBe('Ortiz Studio');
    await expectClean(t, 'asset-register-error.png');

    await page.getByLabel('Title').fill('Stairwell, night, key frame 3');
    await page.getByRole('button', { name: 'Register the asset' }).click();
    await page.getByRole('heading', { name: 'Stairwell, night, key frame 3' }).waitFor();
    const assetId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    expect(assetId).toMatch(/^ast_/);
    expect(await page.locator('.asset-sha256').textContent()).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await page.locator('[data-state]').textContent()).toBe('none'); // a plain JPEG: no manifest of its own
    await page.waitForFunction(`(() => { const i = document.querySelector('img.asset-thumb'); return !!i && i.complete && i.naturalWidth === 80; })()`);
    expect(await events(page, 'registered').locator('.by').textContent()).toBe(LEGAL_SUB);

    // The license: a term that ends before it starts is refused beside "Term ends", with the typing kept.
    await page.getByLabel('Licensee').fill('Upstairs Films');
    await page.getByLabel('Vendors (comma-separated)').fill('acme-vfx');
    await page.getByLabel('Training').selectOption('allowed');
    await page.getByLabel('Derivatives').selectOption('allowed');
    await page.getByLabel('Territories (comma-separated)').fill('US, CA');
    await page.getByLabel('Media (comma-separated)').fill('theatrical, streaming');
    await page.getByLabel('Term starts').fill('2026-01-01');
    await page.getByLabel('Term ends').fill('2025-06-30');
    await page.getByRole('button', { name: 'Record the license' }).click();
    await expect.poll(() => page.locator('#license-term-end-error').textContent()).toBe('term.end must be after term.start');
    expect(await page.locator('#license-term-end').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#license-territories').getAttribute('aria-invalid')).toBeNull();
    expect(await page.getByLabel('Licensee').inputValue()).toBe('Upstairs Films');
    expect(await page.getByLabel('Territories (comma-separated)').inputValue()).toBe('US, CA');
    expect(await page.getByLabel('Term ends').inputValue()).toBe('2025-06-30');
    expect(await page.getByLabel('Training').inputValue()).toBe('allowed');
    expect(((await (await svc.call('GET', `/v1/assets/${assetId}/licenses`, { token: legal })).json()) as { items: unknown[] }).items).toEqual([]);
    await expectClean(t, 'asset-license-error.png');

    await page.getByLabel('Term ends').fill('2030-12-31');
    await page.getByRole('button', { name: 'Record the license' }).click();
    await events(page, 'recorded').waitFor();
    expect(await events(page, 'recorded').locator('.by').textContent()).toBe(LEGAL_SUB);

    // The amendment starts from version 1's terms; an unknown territory is refused beside Territories.
    await page.getByRole('heading', { name: 'Amend the license (now version 1)' }).waitFor();
    expect(await page.getByLabel('Licensee').inputValue()).toBe('Upstairs Films');
    await page.getByLabel('Territories (comma-separated)').fill('US, CA, ZZ');
    await page.getByRole('button', { name: 'Record the amendment' }).click();
    await expect.poll(() => page.locator('#license-territories-error').textContent()).toMatch(/^item 3: must be an ISO 3166-1 alpha-2 code/);
    expect(await page.locator('#license-territories').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Territories (comma-separated)').inputValue()).toBe('US, CA, ZZ');
    await page.getByLabel('Territories (comma-separated)').fill('US, CA, GB');
    await page.getByLabel('Derivatives').selectOption('requiresApproval');
    await page.getByRole('button', { name: 'Record the amendment' }).click();
    await events(page, 'amended').waitFor();
    // Both versions on the timeline, each with who and when.
    const amended = events(page, 'amended');
    expect(await amended.locator('h3').textContent()).toBe('License amended (version 2, supersedes version 1)');
    expect(await amended.locator('.by').textContent()).toBe(LEGAL_SUB);
    expect(await amended.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await amended.textContent()).toContain('US, CA, GB');
    expect(await events(page, 'recorded').textContent()).toContain('superseded');
    expect(await events(page, 'recorded').locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);

    // An approval on the current version, for the grant that now requires one (the form proposes it).
    expect(await page.getByLabel('Grant it approves').inputValue()).toBe('derivatives');
    await page.getByLabel('Vendor', { exact: true }).fill('acme-vfx');
    await page.getByLabel('Valid from').fill('2026-01-01');
    await page.getByLabel('Valid until').fill('2027-12-31');
    await page.getByRole('button', { name: 'Record the approval' }).click();
    await events(page, 'approval').waitFor();
    expect(await events(page, 'approval').locator('h3').textContent()).toBe('Approval recorded on version 2: derivatives for acme-vfx (fine-tune)');
    expect(await events(page, 'approval').locator('.by').textContent()).toBe(LEGAL_SUB);
    await expectClean(t, 'asset.png');

    // Something for the revocation to reach: a vendor's clearance on this art and a checkpoint trained under it.
    const d = await dataset(svc, legal, [assetId], 'style pass', vendorOf(vendor));
    const clearance = (await (
      await svc.call('POST', `/v1/datasets/${d.id}/clearances`, { token: vendor, json: { purpose: 'fine-tune', baseModel: 'imagen-4.0-generate-001' } })
    ).json()) as { id: string; decision: string };
    expect(clearance.decision).toBe('allow');
    const checkpoint = (await (
      await svc.call('POST', '/v1/checkpoints', {
        token: vendor,
        json: { clearanceId: clearance.id, baseModel: 'imagen-4.0-generate-001', externalRef: 's3://acme/ckpt', artifactDigest: `sha256:${'34'.repeat(32)}` },
      })
    ).json()) as { id: string };

    // The preview lists what would be tainted; nothing is revoked until the confirm button.
    await page.getByLabel('Reason').fill('Contract C-17 terminated');
    await page.getByRole('button', { name: 'Preview the revocation' }).click();
    const confirm = page.getByRole('button', { name: 'Confirm the revocation' });
    await confirm.waitFor();
    expect(await page.locator('.would-taint').textContent()).toContain(checkpoint.id);
    expect(await page.locator('.would-revoke').textContent()).toContain(clearance.id);
    const history = async () => (await (await svc.call('GET', `/v1/assets/${assetId}/licenses`, { token: legal })).json()) as { items: { status: string }[] };
    expect((await history()).items[0]!.status).toBe('active');
    await expectClean(t, 'asset-revoke-preview.png');

    await confirm.click();
    await events(page, 'revoked').waitFor();
    expect(await events(page, 'revoked').textContent()).toContain('Contract C-17 terminated');
    expect(await events(page, 'revoked').locator('.by').textContent()).toBe(LEGAL_SUB);
    expect((await history()).items[0]!.status).toBe('revoked');
    const ckp = (await (await svc.call('GET', `/v1/checkpoints/${checkpoint.id}`, { token: legal })).json()) as { status: string };
    expect(ckp.status).toBe('tainted');
    expect(await page.getByRole('button', { name: 'Preview the revocation' }).count()).toBe(0); // nothing left to revoke

    // The list links to the page.
    await page.getByRole('link', { name: 'Assets', exact: true }).first().click();
    await page.getByRole('link', { name: 'Stairwell, night, key frame 3' }).click();
    await page.getByRole('heading', { name: 'Stairwell, night, key frame 3' }).waitFor();
    await t.context.close();
  });

  it('keeps the dry run from being confirmed without a reason: the error shows beside Reason', async () => {
    const { assetId } = await licensedAsset(svc, legal);
    const t = await open(`/console/assets/${assetId}`, legal);
    await t.page.getByRole('button', { name: 'Preview the revocation' }).click();
    await expect.poll(() => t.page.locator('#revoke-reason-error').textContent()).not.toBe('');
    expect(await t.page.locator('#revoke-reason').getAttribute('aria-invalid')).toBe('true');
    expect(await t.page.getByRole('button', { name: 'Confirm the revocation' }).count()).toBe(0);
    await t.context.close();
  });

  it('tells a distributor this page is not for their role', async () => {
    const { assetId } = await licensedAsset(svc, legal);
    const t = await open(`/console/assets/${assetId}`, distributor);
    await expect.poll(() => t.page.locator('main').textContent()).toContain('cannot use this page');
    expect(await t.page.locator('.asset-sha256').count()).toBe(0);
    await expectClean(t, 'asset-distributor.png');
    await t.context.close();
  });

  it('shows an asset titled with markup as those characters', async () => {
    const { assetId } = await licensedAsset(svc, legal, {}, { title: XSS_TITLE });
    const t = await open(`/console/assets/${assetId}`, legal);
    await t.page.locator('h1.asset-title').waitFor();
    expect(await t.page.locator('h1.asset-title').textContent()).toBe(XSS_TITLE);
    expect(await t.page.locator('img[src="x"]').count()).toBe(0);
    expect(t.dialogs).toEqual([]);
    await expectClean(t, 'asset-xss.png');
    await t.context.close();
  });

  it('shows the preview the service made in any tab, and says why there is none for art registered by hash', async () => {
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 31, width: 800, height: 600 })], 'wide.jpg', { type: 'image/jpeg' }));
    form.set('title', 'Wide establishing shot');
    form.set('creator', 'R. Ortiz');
    form.set('production', 'dear-upstairs-neighbors');
    const uploaded = (await (await svc.call('POST', '/v1/assets', { token: legal, form })).json()) as { id: string };
    const t = await open(`/console/assets/${uploaded.id}`, legal);
    // A tab that never had the file: the picture is the service's, fitted inside 320 px.
    await t.page.waitForFunction(
      `(() => { const i = document.querySelector('img.asset-thumb'); return !!i && i.complete && i.naturalWidth === 320 && i.naturalHeight === 240; })()`,
    );
    expect(await t.page.locator('img.asset-thumb').getAttribute('alt')).toBe('Thumbnail of Wide establishing shot');
    await expectClean(t, 'asset-preview.png');

    const { assetId } = await licensedAsset(svc, legal);
    await t.page.goto(`${base}/console/assets/${assetId}`);
    await expect.poll(() => t.page.locator('.asset-thumb-none').textContent()).toContain('registered by its hash');
    expect(await t.page.locator('img.asset-thumb').count()).toBe(0);
    await t.context.close();
  });
});
