/**
 * The rights chain page in Chromium: legal opens a deep link to an output two generations deep (an output
 * made with art that was registered from an earlier output), signs in in the same tab, asks about proposed
 * uses and reads the answer, each node's mark and the reasons naming each license; folds and unfolds the
 * tree; sees the license at clearance beside the license now where an amendment changed a rule; reaches the
 * chain from the verify page's row. A distributor is told the page is not for their role. Against the whole
 * service on 127.0.0.1 over PGlite.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg, makePng } from '../fixtures/media.ts';
import { type ConsoleHarness, expectClean, seriousA11yViolations, shot, signIn, startConsole } from '../support/console-browser.ts';
import { assetBody, licenseBody } from '../support/fixtures.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import type { TestService } from '../support/service.ts';

const ALL_ALLOWED = { training: 'allowed', derivatives: 'allowed', commercial: 'allowed' };
const XSS_TITLE = '<img src=x onerror=alert(1)>';

describe('the rights chain page in Chromium', () => {
  let harness: ConsoleHarness;
  let svc: TestService;
  let base: string;
  let legal: string;
  let distributor: string;
  // Generation 1: art S (US streaming; commercial use needs an approval) trains checkpoint 1, which makes
  // output A; A is registered back as art X. Generation 2: checkpoint 2 (its own art T) makes output B with X.
  let s: { assetId: string; licenseV1: string; licenseV2: string };
  let t: { assetId: string; licenseId: string };
  let x: { assetId: string; licenseId: string };
  let ckp1: string;
  let ckp2: string;
  let outA: string;
  let outB: string;
  let signedB: Uint8Array;

  beforeAll(async () => {
    harness = await startConsole();
    svc = harness.svc;
    base = harness.base;
    const [vendor, generator] = await Promise.all([svc.token('vendor'), svc.token('generator')]);
    legal = await svc.token('legal', 'lee@studio.example');
    distributor = await svc.token('distributor', 'qc@distributor.example');

    const sign = async (bytes: Uint8Array, type: string, checkpointId: string, sourceAssetIds?: string) => {
      const form = new FormData();
      form.set('file', new File([bytes], `frame.${type.split('/')[1]}`, { type }));
      form.set('checkpointId', checkpointId);
      if (sourceAssetIds) form.set('sourceAssetIds', sourceAssetIds);
      const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
      expect(res.status).toBe(200);
      return { id: res.headers.get('clearframe-output-id')!, bytes: new Uint8Array(await res.arrayBuffer()) };
    };

    const gen1 = await activeCheckpoint(svc, legal, vendor, 1, {
      grants: { training: 'allowed', derivatives: 'allowed', commercial: 'requiresApproval' },
      territories: ['US'],
      media: ['streaming'],
    });
    ckp1 = gen1.checkpoint.id;
    outA = (await sign(makeJpeg({ seed: 41, width: 64, height: 48 }), 'image/jpeg', ckp1)).id;
    const xAsset = (await (await svc.call('POST', '/v1/assets', { token: legal, json: assetBody({ title: XSS_TITLE, derivedFromOutputId: outA }) })).json()) as {
      id: string;
    };
    const xLicense = (await (
      await svc.call('POST', `/v1/assets/${xAsset.id}/licenses`, {
        token: legal,
        json: licenseBody({ grants: ALL_ALLOWED, territories: ['WORLD'], media: ['streaming', 'theatrical'] }),
      })
    ).json()) as { id: string };
    x = { assetId: xAsset.id, licenseId: xLicense.id };

    const gen2 = await activeCheckpoint(svc, legal, vendor, 1, { grants: ALL_ALLOWED, territories: ['WORLD'], media: ['streaming', 'theatrical'] });
    ckp2 = gen2.checkpoint.id;
    t = { assetId: gen2.assets[0]!.assetId, licenseId: gen2.assets[0]!.licenseId! };
    const b = await sign(makePng({ seed: 42 }), 'image/png', ckp2, x.assetId);
    outB = b.id;
    signedB = b.bytes;

    // After the clearance, S's license is amended to take in France too: at clearance and now then differ.
    const amended = await svc.call('POST', `/v1/assets/${gen1.assets[0]!.assetId}/licenses`, {
      token: legal,
      json: licenseBody({ grants: { training: 'allowed', derivatives: 'allowed', commercial: 'requiresApproval' }, territories: ['US', 'FR'], media: ['streaming'] }),
    });
    expect(amended.status).toBe(201);
    s = { assetId: gen1.assets[0]!.assetId, licenseV1: gen1.assets[0]!.licenseId!, licenseV2: ((await amended.json()) as { id: string }).id };
  });
  afterAll(async () => {
    await harness?.close();
  });

  const nodeOf = (page: Page, kind: string, id: string) => page.locator(`li[data-node="${kind}"][data-id="${id}"]`).first();
  const markOf = (page: Page, kind: string, id: string) => nodeOf(page, kind, id).locator(':scope > .node-head .mark').getAttribute('data-mark');
  const verdict = (page: Page) => page.locator('.chain-verdict [data-verdict]').getAttribute('data-verdict');
  const reasons = async (page: Page) => (await page.locator('ul.chain-reasons li').allTextContents()).join('\n');

  async function propose(page: Page, use: { territory: string; media: string; commercial: boolean }) {
    const before = await page.locator('.chain-verdict').count();
    await page.getByLabel('Territory').fill(use.territory);
    await page.getByLabel('Medium').fill(use.media);
    await page.getByLabel('Commercial use').setChecked(use.commercial);
    if (before) await page.locator('.chain-verdict').evaluate((el) => el.setAttribute('data-stale', ''));
    await page.getByRole('button', { name: 'Check this use' }).click();
    await page.locator('.chain-verdict:not([data-stale])').waitFor();
  }

  it('serves the shell for the deep path with the console CSP (no inline script or eval, never framed)', async () => {
    const res = await fetch(`${base}/console/outputs/${outB}/rights-chain?territory=US`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(await res.text()).not.toContain(outB); // the shell holds no ledger value: the script asks the API
  });

  it('opens from a deep link after sign-in and walks both generations for proposed uses: marks, reasons naming each license', async () => {
    const tab = await harness.tab();
    const { page } = tab;
    await page.goto(`${base}/console/outputs/${outB}/rights-chain`);
    await signIn(page, legal);
    await page.getByRole('heading', { name: 'Rights chain' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/console/outputs/${outB}/rights-chain`); // the deep link, kept through sign-in
    expect(await page.locator('.chain-output-id').textContent()).toBe(outB);
    await page.locator('.chain-verdict').waitFor();
    // No territory or medium: only the grants are asked, and they hold.
    expect(await verdict(page)).toBe('cleared');

    // Commercial streaming in the US: S's license asks an approval for commercial use that nobody recorded.
    await propose(page, { territory: 'US', media: 'streaming', commercial: true });
    expect(await verdict(page)).toBe('requiresApproval');
    const pending = await reasons(page);
    expect(pending).toContain(`license ${s.licenseV2} v2 (current)`);
    expect(pending).toContain('commercial: requires approval');
    expect(pending).toContain(`output ${outA}`); // the reason walks through the earlier output
    expect(await markOf(page, 'output', outB)).toBe('requiresApproval');
    expect(await markOf(page, 'asset', x.assetId)).toBe('requiresApproval'); // through what X derives from
    expect(await markOf(page, 'output', outA)).toBe('requiresApproval');
    expect(await markOf(page, 'asset', s.assetId)).toBe('requiresApproval');
    expect(await markOf(page, 'asset', t.assetId)).toBe('cleared');
    expect(await markOf(page, 'checkpoint', ckp1)).toBe('cleared');
    expect(await markOf(page, 'checkpoint', ckp2)).toBe('cleared');
    const query = new URL(page.url()).searchParams;
    expect([query.get('territory'), query.get('media'), query.get('commercial')]).toEqual(['US', 'streaming', 'true']);

    // Theatrical in France: S's license (amended to take in France) has no theatrical: not cleared, naming it.
    await propose(page, { territory: 'FR', media: 'theatrical', commercial: false });
    expect(await verdict(page)).toBe('notCleared');
    const refused = await reasons(page);
    expect(refused).toContain(`license ${s.licenseV2} v2 (current): theatrical is not among the licensed media (streaming)`);
    expect(refused).not.toContain(t.licenseId); // T's and X's licenses cover it: not named
    expect(refused).not.toContain(x.licenseId);
    expect(await markOf(page, 'asset', s.assetId)).toBe('notCleared');
    expect(await markOf(page, 'asset', x.assetId)).toBe('notCleared');
    expect(await markOf(page, 'asset', t.assetId)).toBe('cleared');
    expect(await markOf(page, 'license', x.licenseId)).toBe('cleared');
    // X's title is markup: it shows as those characters, and nothing of it runs (expectClean() counts dialogs).
    expect(await nodeOf(page, 'asset', x.assetId).locator(':scope > .node-head').textContent()).toContain(`“${XSS_TITLE}”`);
    expect(await page.locator('main img').count()).toBe(0);

    // At clearance (v1, US only) France failed; now (v2) it passes: side by side, the changed row marked.
    const s1 = nodeOf(page, 'license', s.licenseV2);
    const table = s1.locator('table.then-now');
    expect(await table.locator('thead').textContent()).toContain(`At clearance: license ${s.licenseV1} v1`);
    expect(await table.locator('thead').textContent()).toContain(`Now: license ${s.licenseV2} v2`);
    const territoryRow = table.locator('tr[data-rule="territory"]');
    expect(await territoryRow.getAttribute('data-changed')).not.toBeNull();
    expect(await territoryRow.locator('td').nth(0).textContent()).toContain('FR is not among the licensed territories (US)');
    expect(await territoryRow.locator('td').nth(1).textContent()).toContain('FR: licensed');
    expect(await table.locator('tr[data-rule="media"]').getAttribute('data-changed')).toBeNull();
    expect(await page.locator('ul.chain-notes').textContent()).toContain(s.licenseV1);
    // A license that did not change shows once.
    expect(await nodeOf(page, 'license', t.licenseId).locator('table').count()).toBe(0);
    await expectClean(tab, 'rights-chain.png');

    // A reload keeps the proposed use (it is in the URL) and gives the same answer.
    await page.reload();
    await page.locator('.chain-verdict').waitFor();
    expect(await page.getByLabel('Territory').inputValue()).toBe('FR');
    expect(await verdict(page)).toBe('notCleared');
    await tab.context.close();
  });

  it('folds and unfolds the tree with its buttons (aria-expanded), one node or all', async () => {
    const tab = await harness.tab();
    const { page } = tab;
    // A use in 2029, after every term here ends (2028-12-31): the date from the URL is the form's and the API's.
    await page.goto(`${base}/console/outputs/${outB}/rights-chain?territory=US&media=streaming&date=2029-06-01&commercial=false`);
    await signIn(page, legal);
    await page.locator('.chain-verdict').waitFor();
    expect(await page.getByLabel('Date of the use').inputValue()).toBe('2029-06-01');
    expect(await verdict(page)).toBe('notCleared');
    const late = await reasons(page);
    for (const license of [s.licenseV2, t.licenseId, x.licenseId]) expect(late).toContain(`license ${license} v`);
    expect(late).toContain('use date 2029-06-01T00:00:00.000Z is after the term ends');
    const gen1 = page.getByRole('button', { name: `Output ${outA} (generation 1 below)` });
    const under = nodeOf(page, 'checkpoint', ckp1);
    expect(await gen1.getAttribute('aria-expanded')).toBe('true');
    expect(await under.isVisible()).toBe(true);
    await gen1.click();
    expect(await gen1.getAttribute('aria-expanded')).toBe('false');
    expect(await under.isVisible()).toBe(false);
    expect(await nodeOf(page, 'checkpoint', ckp2).isVisible()).toBe(true); // the other generation stays open
    await page.screenshot({ path: shot('rights-chain-folded.png'), fullPage: true });
    await gen1.click();
    expect(await gen1.getAttribute('aria-expanded')).toBe('true');
    expect(await under.isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Fold all', exact: true }).click();
    const rootButton = page.getByRole('button', { name: `Output ${outB}`, exact: true });
    expect(await rootButton.getAttribute('aria-expanded')).toBe('false');
    expect(await nodeOf(page, 'checkpoint', ckp2).isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Unfold all' }).click();
    expect(await under.isVisible()).toBe(true);
    expect(await page.locator('button.fold[aria-expanded="false"]').count()).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);

    // The earlier output's own chain is a link away.
    await nodeOf(page, 'output', outA).getByRole('link', { name: 'Open its own rights chain' }).click();
    await expect.poll(() => page.locator('.chain-output-id').textContent()).toBe(outA);
    await page.locator('.chain-verdict').waitFor();
    expect(await markOf(page, 'checkpoint', ckp1)).toBe('cleared');

    // /console/outputs alone asks for an output id and opens its chain.
    await page.goto(`${base}/console/outputs`);
    await page.getByLabel('Output ID').fill(outB);
    await page.getByRole('button', { name: 'Open its rights chain' }).click();
    await expect.poll(() => page.locator('.chain-output-id').textContent()).toBe(outB);
    expect(tab.violations).toEqual([]);
    await tab.context.close();
  });

  it("links a verified output's row on the verify page to its chain, and shows an API refusal beside its field", async () => {
    const tab = await harness.tab();
    const { page } = tab;
    await page.goto(`${base}/console/verify`);
    await signIn(page, legal);
    await page.locator('#files').setInputFiles({ name: 'frame-b.png', mimeType: 'image/png', buffer: Buffer.from(signedB) });
    await page.locator('li.result[data-verdict="verified"]').waitFor();
    await page.getByRole('link', { name: 'Its rights chain, for a proposed use' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/console/outputs/${outB}/rights-chain`);
    await page.locator('.chain-verdict').waitFor();

    // A territory that is no ISO code: the API's 422 lands beside Territory, the typing kept.
    await page.getByLabel('Territory').fill('USA');
    await page.getByRole('button', { name: 'Check this use' }).click();
    await expect.poll(() => page.locator('#use-territory-error').textContent()).not.toBe('');
    expect(await page.locator('#use-territory').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Territory').inputValue()).toBe('USA');
    await expectClean(tab, 'rights-chain-error.png');
    await tab.context.close();
  });

  it('tells a distributor the page is not for their role, and the API refuses them too', async () => {
    const tab = await harness.tab();
    const { page } = tab;
    await page.goto(`${base}/console/outputs/${outB}/rights-chain`);
    await signIn(page, distributor);
    await expect.poll(() => page.locator('main').textContent()).toContain('cannot use this page');
    expect(await page.locator('ul.tree').count()).toBe(0);
    expect((await svc.call('GET', `/v1/outputs/${outB}/rights-chain`, { token: distributor })).status).toBe(403);
    // Their verify row has no link to a chain they cannot read.
    await page.goto(`${base}/console/verify`);
    await page.locator('#files').setInputFiles({ name: 'frame-b.png', mimeType: 'image/png', buffer: Buffer.from(signedB) });
    await page.locator('li.result[data-verdict="verified"]').waitFor();
    expect(await page.locator('a.rights-chain-link, .rights-chain-row').count()).toBe(0);
    await expectClean(tab, 'rights-chain-distributor.png');
    await tab.context.close();
  });
});
