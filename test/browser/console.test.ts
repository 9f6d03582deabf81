/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core (no browser download),
 * against the whole service listening on 127.0.0.1 over PGlite. One browser for the file; each test a fresh
 * context (a fresh tab's sessionStorage) unless it says otherwise.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg, tamperImageData } from '../fixtures/media.ts';
import { type ConsoleHarness, SHOTS, seriousA11yViolations, startConsole } from '../support/console-browser.ts';
import { activeCheckpoint, licensedAsset } from '../support/gate-fixtures.ts';
import type { TestService } from '../support/service.ts';

const XSS_TITLE = '<img src=x onerror=alert(1)>';

describe('the web console in Chromium', () => {
  let harness: ConsoleHarness;
  let svc: TestService;
  let base: string;
  let distributor: string;
  let legalToken: string;
  let signed: Uint8Array;
  let tampered: Uint8Array;
  let outputId: string;

  beforeAll(async () => {
    harness = await startConsole();
    svc = harness.svc;
    base = harness.base;
    const [legal, vendor, generator] = await Promise.all([svc.token('legal'), svc.token('vendor'), svc.token('generator')]);
    distributor = await svc.token('distributor', 'qc@distributor.example');
    legalToken = legal;
    // A source asset whose title is markup: the console must show it as those characters.
    const { checkpoint } = await activeCheckpoint(svc, legal, vendor, 1);
    const source = await licensedAsset(svc, legal, { grants: { training: 'allowed', derivatives: 'allowed', commercial: 'notAllowed' } }, { title: XSS_TITLE });
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 23, width: 64, height: 48 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpoint.id);
    form.set('sourceAssetIds', source.assetId);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status).toBe(200);
    outputId = res.headers.get('clearframe-output-id')!;
    signed = new Uint8Array(await res.arrayBuffer());
    tampered = tamperImageData(signed, 'image/jpeg');
  });
  afterAll(async () => {
    await harness?.close();
  });

  const tab = () => harness.tab();

  async function signIn(page: Page, token: string) {
    await page.locator('input[name="token"]').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Verify a file' }).waitFor();
  }

  const serious = seriousA11yViolations;

  it('serves every console response with a strict CSP that refuses framing, inline script and eval', async () => {
    for (const p of [
      '/console',
      '/console/verify',
      '/console/outputs/out_x/rights-chain',
      '/console/assets/ast_x',
      '/console/assets/console.js',
      '/console/assets/console.css',
      '/console/assets/nope.js',
    ]) {
      const res = await fetch(base + p);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, p).toContain("frame-ancestors 'none'");
      expect(csp, p).toContain("script-src 'self'");
      expect(csp, p).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers.get('x-content-type-options'), p).toBe('nosniff');
      expect(res.status, p).toBe(p.endsWith('nope.js') ? 404 : 200);
    }
    const shell = await (await fetch(`${base}/console/verify`)).text();
    expect(shell).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script at all
    expect(shell).not.toMatch(/\sstyle=|\son\w+=/);
    const js = await fetch(`${base}/console/assets/console.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('signs in with a minted token, keeps the deep link, survives a reload, and signs out', async () => {
    const { context, page, violations } = await tab();
    await page.goto(`${base}/console/verify`);
    await page.getByRole('heading', { name: 'Sign in to Clearframe' }).waitFor();
    expect(await page.locator('input[name="token"]').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'sign-in.png'), fullPage: true });
    expect(await serious(page)).toEqual([]);

    await page.locator('input[name="token"]').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#token-error').textContent()).toMatch(/not a Clearframe token/);

    await signIn(page, distributor);
    expect(new URL(page.url()).pathname).toBe('/console/verify'); // the deep link, kept through sign-in
    expect(page.url()).not.toContain(distributor.slice(-20));
    await expect.poll(() => page.locator('nav .who').textContent()).toBe('qc@distributor.example (distributor)');

    await page.reload();
    await page.getByRole('heading', { name: 'Verify a file' }).waitFor();
    // Deep links opened in the same tab, signed in.
    await page.goto(`${base}/console/outputs/${'out_x'}/rights-chain`);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.goto(`${base}/console/verify`);
    await page.getByRole('heading', { name: 'Verify a file' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Clearframe' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Clearframe' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('verifies a dropped signed JPEG (proof checked in the browser) and a chosen tampered copy, each in its own row', async () => {
    const { context, page, violations, dialogs } = await tab();
    await page.goto(`${base}/console/verify`);
    await signIn(page, distributor);

    // Dropped anywhere on the page: a real DataTransfer carrying the signed file.
    // (Page functions as strings: the test's own types have no DOM.)
    const dataTransfer = await page.evaluateHandle(
      `(() => { const dt = new DataTransfer(); dt.items.add(new File([Uint8Array.from(atob('${Buffer.from(signed).toString('base64')}'), (c) => c.charCodeAt(0))], 'signed.jpg', { type: 'image/jpeg' })); return dt; })()`,
    );
    await page.dispatchEvent('body', 'dragover', { dataTransfer });
    await page.dispatchEvent('body', 'drop', { dataTransfer });
    // Chosen with the file input.
    await page.locator('input[type="file"]').setInputFiles({ name: 'tampered.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(tampered) });

    const good = page.locator('li.result', { has: page.getByRole('heading', { name: 'signed.jpg' }) });
    const bad = page.locator('li.result', { has: page.getByRole('heading', { name: 'tampered.jpg' }) });
    await good.locator('.verdict').waitFor();
    await bad.locator('.verdict').waitFor();
    expect(await good.locator('.verdict').getAttribute('data-verdict')).toBe('verified');
    expect(await bad.locator('.verdict').getAttribute('data-verdict')).toBe('tampered');
    await good.getByText('Proof checked in your browser').waitFor();
    expect(await bad.getByText('Proof checked in your browser').count()).toBe(0);
    expect(await good.locator('[data-standing]').getAttribute('data-standing')).toBe('good');
    // The signer by its certificate's name, then the trust this ledger gives it.
    expect(await good.textContent()).toContain('Clearframe C2PA Signer');
    expect(await good.textContent()).toContain(outputId);
    expect(await good.locator('img.thumb').getAttribute('src')).toMatch(/^blob:/);
    await page.waitForFunction(`[...document.querySelectorAll('li.result img.thumb')].every((i) => i.complete && i.naturalWidth > 0)`);

    // The source asset's title is shown as those very characters, and no element was made of it.
    expect(await good.locator('.asset-title').textContent()).toBe(XSS_TITLE);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);

    // The verdict as JSON, with the browser's own proof check in it.
    const [download] = await Promise.all([page.waitForEvent('download'), good.getByRole('button', { name: /Download the verdict/ }).click()]);
    const record = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { answer: { verdict: string }; proofCheckedInBrowser: { ok: boolean } };
    expect(record.answer.verdict).toBe('verified');
    expect(record.proofCheckedInBrowser.ok).toBe(true);

    await page.screenshot({ path: path.join(SHOTS, 'verify.png'), fullPage: true });
    expect(await serious(page)).toEqual([]);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('lists assets for legal, searchable, with a title made of markup shown as text', async () => {
    const { context, page, violations, dialogs } = await tab();
    await page.goto(`${base}/console/assets`); // a deep link, through sign-in
    await page.locator('input[name="token"]').fill(legalToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Assets' }).waitFor();
    await expect.poll(() => page.locator('table.assets tbody tr').count()).toBe(2);
    await page.getByLabel('Text in title or creator').fill('onerror');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('table.assets tbody tr').count()).toBe(1);
    expect(await page.locator('table.assets .asset-title').textContent()).toBe(XSS_TITLE);
    expect(new URL(page.url()).search).toBe('?q=onerror'); // the filter, not the token, in the URL
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'assets.png'), fullPage: true });
    expect(await serious(page)).toEqual([]);
    expect(violations).toEqual([]);
    await context.close();
  });

  it('returns to sign-in when the API refuses the token, keeping the page, and goes on after signing in again', async () => {
    const { context, page } = await tab();
    await page.goto(`${base}/console/verify`);
    await signIn(page, distributor);
    // The same claims under a signature the service refuses: what an expired or revoked session looks like to the API.
    const [head, body] = distributor.split('.');
    await page.evaluate(`sessionStorage.setItem('clearframe.console.token', '${head}.${body}.${'A'.repeat(86)}')`);
    await page.locator('input[type="file"]').setInputFiles({ name: 'again.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(signed) });
    await page.getByRole('heading', { name: 'Sign in to Clearframe' }).waitFor();
    await expect.poll(() => page.locator('.notice').textContent()).toMatch(/session has ended/);
    expect(new URL(page.url()).pathname).toBe('/console/verify');
    await signIn(page, distributor);
    expect(new URL(page.url()).pathname).toBe('/console/verify');
    await context.close();
  });
});
