/**
 * The checkpoint pages in Chromium: a vendor lists its own checkpoints only (another vendor's is not found
 * even by its link), a tainted checkpoint shows the revoked license as its cause, its status history and the
 * outputs it signed, which link to their rights chains for legal; a distributor is told the pages are not for
 * their role. Against the whole service on 127.0.0.1 over PGlite.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../fixtures/media.ts';
import { type ConsoleHarness, expectClean, startConsole } from '../support/console-browser.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import type { TestService } from '../support/service.ts';

describe('the checkpoint pages in Chromium', () => {
  let harness: ConsoleHarness;
  let svc: TestService;
  let base: string;
  let legal: string;
  let vendor: string;
  let generator: string;
  let distributor: string;
  let active: string;
  let tainted: { id: string; licenseId: string; assetId: string };
  let theirs: string;
  let outputs: string[];

  beforeAll(async () => {
    harness = await startConsole();
    svc = harness.svc;
    base = harness.base;
    legal = await svc.token('legal', 'lee@studio.example');
    vendor = await svc.token('vendor', 'ops@acme.example');
    const other = await svc.token('vendor', 'ops@other.example', 'other-house');
    generator = await svc.token('generator', 'render@upstairs.example');
    distributor = await svc.token('distributor');

    active = (await activeCheckpoint(svc, legal, vendor, 1)).checkpoint.id;
    const doomed = await activeCheckpoint(svc, legal, vendor, 1);
    theirs = (await activeCheckpoint(svc, legal, other, 1, { vendors: ['other-house'] })).checkpoint.id;
    outputs = [];
    for (const seed of [51, 52]) {
      const form = new FormData();
      form.set('file', new File([makeJpeg({ seed, width: 48, height: 32 })], 'frame.jpg', { type: 'image/jpeg' }));
      form.set('checkpointId', doomed.checkpoint.id);
      const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
      expect(res.status).toBe(200);
      outputs.push(res.headers.get('clearframe-output-id')!);
    }
    const revoked = await svc.call('POST', `/v1/licenses/${doomed.assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'Contract C-17 terminated' } });
    expect(revoked.status).toBe(200);
    tainted = { id: doomed.checkpoint.id, licenseId: doomed.assets[0]!.licenseId!, assetId: doomed.assets[0]!.assetId };
  });
  afterAll(async () => {
    await harness?.close();
  });

  const open = (path: string, token: string) => harness.open(path, token);

  const listed = async (page: Page) => {
    await page.locator('main p[role="status"]', { hasText: /checkpoint/ }).waitFor();
    return page.locator('tr[data-checkpoint]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-checkpoint')));
  };

  it('serves the shell for both paths with the console CSP', async () => {
    for (const path of ['/console/checkpoints', `/console/checkpoints/${tainted.id}`]) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toMatch(/unsafe-inline|unsafe-eval/);
    }
  });

  it("lists a vendor's own checkpoints only, and answers another vendor's link as not found", async () => {
    const t = await open('/console', vendor);
    const { page } = t;
    await expect.poll(() => new URL(page.url()).pathname).toBe('/console/checkpoints'); // a vendor's first page
    await page.getByRole('heading', { name: 'Checkpoints' }).waitFor();
    expect(await listed(page)).toEqual([tainted.id, active]); // newest first; not the other vendor's
    expect(await page.locator(`tr[data-checkpoint="${tainted.id}"] [data-status]`).getAttribute('data-status')).toBe('tainted');
    expect(await page.locator(`tr[data-checkpoint="${active}"] [data-status]`).getAttribute('data-status')).toBe('active');
    await expectClean(t, 'checkpoints.png');

    // The list opens a checkpoint's page; the outputs it signed are listed, not linked (a vendor reads no chain).
    await page.getByRole('link', { name: tainted.id }).click();
    await page.getByRole('heading', { name: `Checkpoint ${tainted.id}` }).waitFor();
    await page.locator('tr[data-output]').first().waitFor();
    expect(await page.locator('tr[data-output]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-output')))).toEqual([...outputs].reverse());
    expect(await page.locator('tr[data-output] a').count()).toBe(0);

    // Another vendor's checkpoint, by its link: the API's not-found, nothing of it shown.
    await page.goto(`${base}/console/checkpoints/${theirs}`);
    await expect.poll(() => page.locator('main .error').textContent()).toContain(`no checkpoint ${theirs}`);
    expect(await page.locator('.ckp-status-big').count()).toBe(0);
    // A filter by clearance stays in the URL and narrows the list.
    await page.goto(`${base}/console/checkpoints?clearanceId=clr_none`);
    await expect.poll(() => page.locator('main p[role="status"]').textContent()).toBe('No checkpoint here.');
    expect(await page.getByLabel('Trained under clearance').inputValue()).toBe('clr_none');
    await t.context.close();
  });

  it('shows a tainted checkpoint with its cause, its history and its downstream outputs linked to their rights chains', async () => {
    const t = await open(`/console/checkpoints/${tainted.id}`, legal);
    const { page } = t;
    await page.getByRole('heading', { name: `Checkpoint ${tainted.id}` }).waitFor();
    expect(await page.locator('.ckp-status-big [data-status]').getAttribute('data-status')).toBe('tainted');
    const cause = page.locator('ul.ckp-causes li[data-kind="license-revoked"]');
    expect(await cause.textContent()).toContain(`License revoked: ${tainted.licenseId} of asset ${tainted.assetId}`);
    expect(await cause.textContent()).toContain('Contract C-17 terminated');
    expect(await cause.getByRole('link', { name: tainted.assetId }).getAttribute('href')).toBe(`/console/assets/${tainted.assetId}`);
    const history = page.locator('ol.timeline li');
    expect(await history.evaluateAll((items) => items.map((i) => i.getAttribute('data-status')))).toEqual(['active', 'tainted']);
    expect(await history.nth(1).textContent()).toMatch(/audit entry \d+/);
    await page.locator('tr[data-output]').nth(1).waitFor();
    expect(await page.locator('.ckp-outputs').textContent()).toContain('render@upstairs.example');
    await expectClean(t, 'checkpoint-tainted.png');

    // Each output downstream links to its rights chain, which the taint fails.
    await page.getByRole('link', { name: outputs[0]! }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/console/outputs/${outputs[0]}/rights-chain`);
    await page.locator('.chain-verdict').waitFor();
    expect(await page.locator('.chain-verdict [data-verdict]').getAttribute('data-verdict')).toBe('notCleared');
    expect(await page.locator(`li[data-node="checkpoint"][data-id="${tainted.id}"] > .node-head .mark`).getAttribute('data-mark')).toBe('notCleared');
    expect(await page.locator('ul.chain-reasons').textContent()).toContain(`checkpoint ${tainted.id} is tainted`);
    // And the chain's checkpoint node leads back to this page.
    await page.locator(`li[data-node="checkpoint"][data-id="${tainted.id}"]`).getByRole('link', { name: 'Its status and history' }).click();
    await page.getByRole('heading', { name: `Checkpoint ${tainted.id}` }).waitFor();
    expect(t.violations).toEqual([]);
    await t.context.close();
  });

  it('shows a generator every checkpoint, and tells a distributor the pages are not for their role', async () => {
    const g = await open('/console/checkpoints', generator);
    const all = await listed(g.page);
    expect(all).toContain(theirs);
    expect(all).toContain(active);
    await g.context.close();

    const d = await open(`/console/checkpoints/${tainted.id}`, distributor);
    await expect.poll(() => d.page.locator('main').textContent()).toContain('cannot use this page');
    expect(await d.page.locator('.ckp-status-big').count()).toBe(0);
    expect(await d.page.getByRole('link', { name: 'Checkpoints' }).count()).toBe(0); // no nav entry either
    await expectClean(d, 'checkpoint-distributor.png');
    await d.context.close();
  });
});
