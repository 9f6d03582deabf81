/**
 * The Datasets pages in Chromium: a vendor sees only its vendor's datasets, checks the digest and a member's
 * proof in the browser, asks for a clearance through the form, and reads the deny's per-asset reasons,
 * filtered by reason code and by text; legal sees every dataset and the same clearance, without the ask
 * button; a distributor is refused. Against the whole service on 127.0.0.1 over PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, expectClean, startConsole } from '../support/console-browser.ts';
import { dataset, licensedAsset } from '../support/gate-fixtures.ts';
import type { TestService } from '../support/service.ts';

type Outcome = { assetId: string; decision: string; reasons: { policyId: string; reason: string }[] };

describe('the Datasets pages in Chromium', () => {
  let harness: ConsoleHarness;
  let svc: TestService;
  let base: string;
  let legal: string;
  let vendor: string;
  let distributor: string;
  let ours: { id: string; digest: string };
  let theirs: { id: string };
  let studio: { id: string };
  let assets: string[];

  beforeAll(async () => {
    harness = await startConsole();
    svc = harness.svc;
    base = harness.base;
    legal = await svc.token('legal', 'lee@studio.example');
    vendor = await svc.token('vendor', 'ops@acme.example', 'acme-vfx');
    distributor = await svc.token('distributor');
    // Two assets it may train on, two it may not (training not allowed; no license at all).
    const good1 = await licensedAsset(svc, legal);
    const good2 = await licensedAsset(svc, legal);
    const notAllowed = await licensedAsset(svc, legal, { grants: { training: 'notAllowed', derivatives: 'notAllowed', commercial: 'notAllowed' } });
    const unlicensed = await licensedAsset(svc, legal, null);
    assets = [good1.assetId, good2.assetId, notAllowed.assetId, unlicensed.assetId];
    ours = await dataset(svc, legal, assets, 'DUN style pass 1', 'acme-vfx');
    theirs = await dataset(svc, legal, [good1.assetId], 'Other vendor pass', 'other-vfx');
    studio = await dataset(svc, legal, [good2.assetId], 'Studio reference set');
  });
  afterAll(async () => {
    await harness?.close();
  });

  const open = (path: string, token: string) => harness.open(path, token);

  it('shows a vendor its own datasets only; it checks the digest and a proof, asks for a clearance and filters the deny’s reasons', async () => {
    const t = await open('/console/datasets', vendor);
    const { page } = t;
    await page.locator('table.datasets tbody tr').first().waitFor();
    const listed = await page.locator('table.datasets tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(listed).toEqual([ours.id]);
    expect(await page.getByRole('link', { name: 'Datasets', exact: true }).getAttribute('aria-current')).toBe('page');
    expect(await page.getByRole('link', { name: 'Audit log' }).count()).toBe(0); // not a vendor's page
    await expectClean(t, 'datasets-vendor.png');

    await page.getByRole('link', { name: 'DUN style pass 1', exact: true }).click();
    await page.getByRole('heading', { name: 'DUN style pass 1' }).waitFor();
    expect(await page.locator('.dataset-digest').textContent()).toBe(ours.digest);
    await expect.poll(() => page.locator('.digest-check').textContent()).toContain('Digest checked in your browser');
    expect(await page.locator('table.members tbody tr').count()).toBe(4);
    await page.locator('table.members tbody tr').nth(2).getByRole('button', { name: 'Check' }).click();
    await expect.poll(() => page.locator('table.members tbody tr').nth(2).locator('.member-proof').textContent()).toBe('Proof checked in your browser');
    await expect.poll(() => page.locator('.clearances').textContent()).toContain('No clearance has been asked');

    // The ask: the same request the API takes; a deny, with its reasons, recorded.
    await page.getByLabel('Base model').fill('imagen-4.0-generate-001');
    await page.getByRole('button', { name: 'Ask for a clearance' }).click();
    await expect.poll(() => page.locator('.ask-decision').getAttribute('data-decision')).toBe('deny');
    const article = page.locator('article.clearance').first();
    await article.waitFor();
    const clearanceId = await article.getAttribute('data-clearance');
    const recorded = (await (await svc.call('GET', `/v1/clearances/${clearanceId}`, { token: vendor })).json()) as { decision: string; assets: Outcome[] };
    expect(recorded.decision).toBe('deny');
    expect(await article.locator('[data-decision]').textContent()).toBe('Deny');

    // Every denied asset's reasons, a row each, open at once; filtered by code, then by text.
    const rows = article.locator('table.reasons-table tbody tr');
    const denied = recorded.assets.filter((a) => a.decision === 'deny').flatMap((a) => a.reasons.map((r) => ({ assetId: a.assetId, ...r })));
    expect(denied.length).toBeGreaterThanOrEqual(2);
    expect(await rows.count()).toBe(denied.length);
    const shownAssets = new Set(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-asset'))));
    expect(shownAssets).toEqual(new Set([assets[2], assets[3]]));
    const codes = [...new Set(denied.map((r) => r.policyId))];
    expect(codes.length).toBeGreaterThanOrEqual(2);
    const code = denied.find((r) => r.assetId === assets[3])!.policyId; // the unlicensed asset's reason
    await article.getByLabel('Reason code').selectOption(code);
    expect(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-code')))).toEqual(denied.filter((r) => r.policyId === code).map(() => code));
    expect(await article.locator('.reasons-count').textContent()).toBe(
      `${denied.filter((r) => r.policyId === code).length} of ${recorded.assets.flatMap((a) => a.reasons).length} reasons shown.`,
    );
    await article.getByLabel('Reason code').selectOption('');
    const words = denied
      .find((r) => r.assetId === assets[2])!
      .reason.split(' ')
      .slice(-3)
      .join(' ');
    await article.getByLabel('Text').fill(words.toUpperCase());
    const byText = denied.filter((r) => r.reason.toLowerCase().includes(words.toLowerCase()));
    expect(await rows.count()).toBe(byText.length);
    expect(await rows.locator('.reason-text').allTextContents()).toEqual(byText.map((r) => r.reason));
    await article.getByLabel('Text').fill(assets[3]!);
    expect(new Set(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-asset'))))).toEqual(new Set([assets[3]]));
    await article.getByLabel('Text').fill('');
    await article.getByLabel('Decision').selectOption('allow');
    expect(new Set(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-asset'))))).toEqual(new Set([assets[0], assets[1]]));
    await article.getByLabel('Decision').selectOption('deny');
    await expectClean(t, 'dataset-vendor-deny.png');

    // An API error lands beside its field, nothing recorded.
    const before = ((await (await svc.call('GET', `/v1/clearances?requestedDatasetId=${ours.id}`, { token: vendor })).json()) as { items: unknown[] }).items.length;
    await page.getByLabel('Base model').fill('Not A Model!');
    await page.getByRole('button', { name: 'Ask for a clearance' }).click();
    await expect.poll(() => page.locator('#ask-baseModel-error').textContent()).not.toBe('');
    expect(await page.locator('#ask-baseModel').getAttribute('aria-invalid')).toBe('true');
    expect(((await (await svc.call('GET', `/v1/clearances?requestedDatasetId=${ours.id}`, { token: vendor })).json()) as { items: unknown[] }).items.length).toBe(before);

    // Another vendor's dataset and the studio's are not found for this vendor, as the API says.
    for (const other of [theirs, studio]) {
      await page.goto(`${base}/console/datasets/${other.id}`);
      await expect.poll(() => page.locator('main .error').textContent()).toMatch(/not found|no dataset/i);
    }
    await t.context.close();
  });

  it('lets a vendor clear the passing subset: an allow with its token, the derived dataset linked both ways', async () => {
    const t = await open(`/console/datasets/${ours.id}`, vendor);
    const { page } = t;
    await page.getByRole('heading', { name: 'DUN style pass 1' }).waitFor();
    await page.getByLabel('Mode', { exact: true }).selectOption('subset');
    await page.getByRole('button', { name: 'Ask for a clearance' }).click();
    await expect.poll(() => page.locator('.ask-decision').getAttribute('data-decision')).toBe('allow');
    const token = await page.locator('#ask-token').inputValue();
    const verdict = (await (await svc.call('POST', '/v1/clearances/verify', { token: vendor, json: { token } })).json()) as { valid: boolean };
    expect(verdict.valid).toBe(true);
    // Listed under the dataset it was asked on, newest first, its assets' decisions folded.
    const article = page.locator('article.clearance').first();
    await expect.poll(() => article.locator('[data-decision]').textContent()).toBe('Allow');
    expect(await article.locator('details.reasons').getAttribute('open')).toBeNull();
    expect(await page.locator('article.clearance').count()).toBe(2);
    await page.locator('.ask-answer').getByRole('link').click();
    await page.getByRole('heading', { name: 'DUN style pass 1 (cleared subset)' }).waitFor();
    expect(await page.locator('table.members tbody tr').count()).toBe(2);
    await expect.poll(() => page.locator('.digest-check').textContent()).toContain('Digest checked in your browser');
    const derived = page.locator('article.clearance');
    await expect.poll(() => derived.count()).toBe(1);
    expect(await derived.locator('[data-decision]').textContent()).toBe('Allow');
    await derived.getByRole('link', { name: ours.id }).click();
    await page.getByRole('heading', { name: 'DUN style pass 1', exact: true }).waitFor();
    await expectClean(t, 'dataset-vendor-subset.png');
    await t.context.close();
  });

  it('shows legal every dataset and the vendor’s clearance, with no ask button', async () => {
    const t = await open('/console/datasets', legal);
    const { page } = t;
    await page.locator(`table.datasets tbody tr[data-id="${studio.id}"]`).waitFor();
    const listed = await page.locator('table.datasets tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    const all = ((await (await svc.call('GET', '/v1/datasets', { token: legal })).json()) as { items: { id: string }[] }).items.map((d) => d.id);
    expect(listed).toEqual(all); // newest first
    expect(listed.slice(-3)).toEqual([studio.id, theirs.id, ours.id]);
    expect(await page.locator(`tr[data-id="${studio.id}"]`).textContent()).toContain('the studio');
    expect(await page.locator(`tr[data-id="${theirs.id}"]`).textContent()).toContain('other-vfx');
    await expectClean(t, 'datasets-legal.png');

    await page.getByRole('link', { name: 'DUN style pass 1', exact: true }).click();
    await page.locator('article.clearance').first().waitFor();
    expect(await page.locator('article.clearance > h3 [data-decision]').allTextContents()).toEqual(['Allow', 'Deny']); // the subset, then the deny
    expect(await page.locator('article.clearance').first().textContent()).toContain('acme-vfx');
    expect(await page.getByRole('button', { name: 'Ask for a clearance' }).count()).toBe(0);
    await expectClean(t, 'dataset-legal.png');
    await t.context.close();
  });

  it('tells a distributor the page is not for their role', async () => {
    const t = await open(`/console/datasets/${ours.id}`, distributor);
    await expect.poll(() => t.page.locator('main').textContent()).toContain('cannot use this page');
    expect(await t.page.locator('.dataset-digest').count()).toBe(0);
    await expectClean(t, 'dataset-distributor.png');
    await t.context.close();
  });
});
