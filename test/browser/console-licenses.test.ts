/**
 * Several licenses on the asset page in Chromium: legal adds a second license beside an exclusive one, is
 * refused for the overlap (the conflicting license listed beside the form), then records it with an override
 * and its reason; both licenses are drawn, each with its own timeline. Against the whole service over PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, expectClean, startConsole } from '../support/console-browser.ts';
import { licensedAsset } from '../support/gate-fixtures.ts';
import type { TestService } from '../support/service.ts';

describe('several licenses and exclusivity conflicts on the asset page', () => {
  let harness: ConsoleHarness;
  let svc: TestService;
  let legal: string;

  beforeAll(async () => {
    harness = await startConsole();
    svc = harness.svc;
    legal = await svc.token('legal', 'lee@studio.example');
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('adds another license, sees the conflict refused, then overrides it with a reason', async () => {
    const first = await licensedAsset(svc, legal, { exclusivity: true, territories: ['WORLD'], media: ['streaming'] });
    const t = await harness.open(`/console/assets/${first.assetId}`, legal);
    const { page } = t;
    await page.getByRole('heading', { name: 'Amend the license (now version 1)' }).waitFor();

    await page.getByRole('button', { name: 'Add another license' }).click();
    const add = page.locator('.license-add');
    await add.getByRole('heading', { name: 'Add another license' }).waitFor();
    await add.getByLabel('Licensee').fill('Merch Co');
    await add.getByLabel('Territories (comma-separated)').fill('US');
    await add.getByLabel('Media (comma-separated)').fill('streaming');
    await add.getByLabel('Term starts').fill('2026-01-01');
    await add.getByLabel('Term ends').fill('2027-12-31');
    await add.getByLabel('Exclusive').check();
    await add.getByRole('button', { name: 'Record the new license' }).click();

    // Refused: the conflicting license is named beside the form, and the override is offered.
    await expect.poll(() => add.locator('.license-conflicts').textContent()).toContain(first.licenseId!);
    expect(await add.locator('.license-conflicts').textContent()).toContain('Upstairs Films');
    const why = add.getByLabel('Why record it despite the conflict');
    expect(await why.isVisible()).toBe(true);
    const listed = async () => ((await (await svc.call('GET', `/v1/licenses?assetId=${first.assetId}`, { token: legal })).json()) as { items: { licensee: string }[] }).items;
    expect(await listed()).toHaveLength(1);
    await expectClean(t, 'asset-license-conflict.png');

    await why.fill('Licensor carved out US merchandise streaming, letter L-9');
    await add.getByRole('button', { name: 'Record the new license' }).click();
    await expect.poll(() => page.locator('section.license').count()).toBe(2);
    expect((await listed()).map((l) => l.licensee).sort()).toEqual(['Merch Co', 'Upstairs Films']);
    await page.getByRole('heading', { name: 'License 2: Ortiz Studio → Merch Co' }).waitFor();
    // Each license its own timeline: the second one recorded, not amended.
    expect(await page.locator('section.license').nth(1).locator('ol.timeline li[data-kind="recorded"]').count()).toBe(1);
    expect(await page.locator('section.license').nth(1).locator('ol.timeline li[data-kind="registered"]').count()).toBe(0);
    // Amending the second license names it: its version 2 lands on it, not on the first.
    const second = page.locator('section.license').nth(1);
    // (no longer exclusive: an exclusive amendment would overlap the first license again and be refused too)
    await second.getByLabel('Attribution').fill('Merch attribution v2');
    await second.getByLabel('Exclusive').uncheck();
    await second.getByRole('button', { name: 'Record the amendment' }).click();
    await expect.poll(() => page.locator('section.license').nth(1).locator('ol.timeline li[data-kind="amended"]').count()).toBe(1);
    expect(await page.locator('section.license').nth(0).locator('ol.timeline li[data-kind="amended"]').count()).toBe(0);
    await expectClean(t, 'asset-two-licenses.png');
    await t.context.close();
  });
});
