/**
 * The Audit log page in Chromium: the signed tree head checked in the browser, entries newest first a page at
 * a time, an entry opened to its canonical leaf with its inclusion proof checked in the browser, and the same
 * page NOT claiming a check when the proof, the leaf, the entry shown or the checkpoint is altered in transit
 * (page.route); an evidence bundle for a range downloaded and verified by the offline verifier under the
 * published key; vendors and distributors refused. Against the whole service on 127.0.0.1 over PGlite.
 */
import path from 'node:path';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundleFile } from '../../src/audit/bundle-file.ts';
import { type ConsoleHarness, expectClean, SHOTS, startConsole } from '../support/console-browser.ts';
import { assetBody } from '../support/fixtures.ts';
import type { TestService } from '../support/service.ts';

type AuditEvent = { index: number; action: string; subjectId: string; leaf: string };

describe('the Audit log page in Chromium', () => {
  let harness: ConsoleHarness;
  let svc: TestService;
  let legal: string;
  let vkey: string;
  let size: number;
  let events: AuditEvent[];

  beforeAll(async () => {
    harness = await startConsole();
    svc = harness.svc;
    legal = await svc.token('legal', 'lee@studio.example');
    // More entries than one page (25) holds.
    for (let i = 0; i < 30; i++) await svc.call('POST', '/v1/assets', { token: legal, json: assetBody({ title: `Audit page ${i}` }) });
    vkey = ((await (await svc.call('GET', '/v1/audit/key')).json()) as { vkey: string }).vkey;
    const page = (await (await svc.call('GET', '/v1/audit/events?from=0&limit=1000', { token: legal })).json()) as { treeSize: number; events: AuditEvent[] };
    size = page.treeSize;
    events = page.events;
    expect(size).toBeGreaterThan(25); // two pages
    expect(size).toBeLessThanOrEqual(50);
  });
  afterAll(async () => {
    await harness?.close();
  });

  const open = (token: string, before?: (page: Page) => Promise<unknown>) => harness.open('/console/audit', token, before);

  const indices = (page: Page) => page.locator('ol.audit-entries > li').evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-index'))));
  const entry = (page: Page, index: number) => page.locator(`ol.audit-entries > li[data-index="${index}"]`);

  /** Opens entry `index` and waits for its proof's outcome. */
  async function expand(page: Page, index: number) {
    const li = entry(page, index);
    await li.locator('summary').click();
    await li.locator('.entry-proof .proof-checked, .entry-proof .proof-failed').waitFor();
    return li;
  }

  /** A route that answers with the service's JSON, edited. */
  const editJson = (edit: (body: Record<string, unknown>) => void) => async (route: Route) => {
    const res = await route.fetch();
    const body = (await res.json()) as Record<string, unknown>;
    edit(body);
    await route.fulfill({ response: res, body: JSON.stringify(body) });
  };

  it('shows the checked head and key, entries newest first a page at a time, and an entry’s leaf with its proof checked in the browser', async () => {
    const t = await open(legal);
    const { page } = t;
    await page.locator('ol.audit-entries > li').first().waitFor();
    expect(await page.locator('.head-checked').textContent()).toBe('Signature checked in your browser: Ed25519, under the published key');
    expect(await page.locator('.vkey').textContent()).toBe(vkey);
    const note = await (await svc.call('GET', '/v1/audit/checkpoint')).text();
    expect(await page.locator('pre.checkpoint').textContent()).toBe(note);
    expect(await page.locator('.root-hash').textContent()).toBe(note.split('\n')[2]);

    // Newest first: the last 25, then the rest down to entry 0.
    const newest = Array.from({ length: 25 }, (_, i) => size - 1 - i);
    expect(await indices(page)).toEqual(newest);
    expect(
      await entry(page, size - 1)
        .locator('.entry-action')
        .textContent(),
    ).toBe(events[size - 1]!.action);
    await page.getByRole('button', { name: 'Show older entries' }).click();
    await expect.poll(() => indices(page).then((x) => x.length)).toBe(size);
    expect(await indices(page)).toEqual(Array.from({ length: size }, (_, i) => size - 1 - i));
    expect(await page.getByRole('button', { name: 'Show older entries' }).isVisible()).toBe(false);
    expect(await page.locator('#entries-h ~ [role="status"]').textContent()).toContain(`${size} of ${size} entries shown`);

    // One entry opened: its exact leaf bytes, and the proof folded and checked here.
    const pick = size - 3;
    const li = await expand(page, pick);
    expect(await li.locator('pre.leaf').textContent()).toBe(Buffer.from(events[pick]!.leaf, 'base64').toString('utf8'));
    expect(await li.locator('.proof-checked').textContent()).toBe('Proof checked in your browser');
    expect(await li.locator('.proof-failed').count()).toBe(0);
    expect(await li.textContent()).toContain(`${pick} of a log of ${size} entries`);
    await expectClean(t, 'audit.png');
    await t.context.close();
  });

  it('does NOT report a proof as checked when the path, the leaf, the entry shown or the checkpoint is altered in transit', async () => {
    const pick = size - 2;
    // A path hash flipped.
    let t = await open(legal, (page) =>
      page.route(
        '**/v1/audit/proofs/inclusion?**',
        editJson((b) => {
          const hashes = b.hashes as string[];
          const h = Buffer.from(hashes[0]!, 'base64');
          h[0]! ^= 1;
          hashes[0] = h.toString('base64');
        }),
      ),
    );
    let li = await expand(t.page, pick);
    expect(await li.locator('.proof-checked').count()).toBe(0);
    expect(await li.locator('.proof-failed').textContent()).toMatch(/^The proof did NOT check in your browser: the path leads to a root other than/);
    await expectClean(t, 'audit-tampered.png');
    await t.context.close();

    // The leaf rewritten (another subject), and shown as such: its hash no longer fits the path.
    const forged = (e: Record<string, unknown>) => {
      const leaf = JSON.parse(Buffer.from(String(e.leaf), 'base64').toString('utf8')) as Record<string, unknown>;
      leaf.subjectId = 'ast_forged';
      e.leaf = Buffer.from(JSON.stringify(leaf)).toString('base64');
      e.subjectId = 'ast_forged';
    };
    const editEvent = (edit: (e: Record<string, unknown>) => void) =>
      editJson((b) => {
        for (const e of b.events as Record<string, unknown>[]) if (e.index === pick) edit(e);
      });
    t = await open(legal, (page) => page.route('**/v1/audit/events?**', editEvent(forged)));
    li = await expand(t.page, pick);
    expect(await li.locator('.entry-subject').textContent()).toBe('ast_forged');
    expect(await li.locator('.proof-checked').count()).toBe(0);
    expect(await li.locator('.proof-failed').textContent()).toMatch(/root other than/);
    await t.context.close();

    // The leaf intact but the line shown about it altered: the proof holds for a leaf that says otherwise.
    t = await open(legal, (page) =>
      page.route(
        '**/v1/audit/events?**',
        editEvent((e) => {
          e.action = 'license.revoked';
        }),
      ),
    );
    li = await expand(t.page, pick);
    expect(await li.locator('.proof-checked').count()).toBe(0);
    expect(await li.locator('.proof-failed').textContent()).toMatch(/the entry shown differs from the leaf that was proved/);
    await t.context.close();

    // A checkpoint not signed by the published key: nothing on the page is proved against it.
    t = await open(legal, (page) =>
      page.route('**/v1/audit/checkpoint', async (route) => {
        const res = await route.fetch();
        const note = (await res.text()).replace(/\n(\d+)\n/, (_, n: string) => `\n${Number(n) + 1}\n`);
        await route.fulfill({ response: res, body: note });
      }),
    );
    await t.page.locator('.audit-head .proof-failed').waitFor();
    expect(await t.page.locator('.audit-head .proof-failed').textContent()).toMatch(/signature did NOT check in your browser: the checkpoint’s signature does not verify/);
    expect(await t.page.locator('.proof-checked').count()).toBe(0);
    expect(await t.page.locator('ol.audit-entries > li').count()).toBe(0);
    await t.context.close();
  });

  it('downloads an evidence bundle for a range that the offline verifier accepts under the published key; a bad range is refused beside its field', async () => {
    const t = await open(legal);
    const { page } = t;
    await page.locator('ol.audit-entries > li').first().waitFor();
    await page.getByLabel('First entry').fill(String(size + 5));
    await page.getByRole('button', { name: 'Download the evidence bundle' }).click();
    await expect.poll(() => page.locator('#evidence-from-error').textContent()).toBe(`must be less than ${size}`);
    expect(await page.locator('#evidence-from').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('First entry').fill('2');
    await page.getByLabel('Up to (not including)').fill('12');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the evidence bundle' }).click()]);
    expect(download.suggestedFilename()).toBe('clearframe-evidence-2-11.json');
    const file = path.join(SHOTS, 'clearframe-evidence-2-11.json');
    await download.saveAs(file);
    const verdict = await verifyBundleFile(file, vkey);
    expect(verdict).toMatchObject({ ok: true, format: 'clearframe-audit-evidence/v1', entriesChecked: 10, keySource: 'given', failures: [] });
    await expect.poll(() => page.locator('.evidence-saved').textContent()).toMatch(/^Saved clearframe-evidence-2-11\.json \([\d,]+ bytes\)\.$/);
    expect(await page.locator('pre.command').textContent()).toContain(vkey);
    expect(await page.locator('#evidence-from').getAttribute('aria-invalid')).toBeNull();
    await expectClean(t, 'audit-evidence.png');
    await t.context.close();
  });

  it('refuses vendors and distributors, and gives them no entry in the navigation', async () => {
    for (const role of ['vendor', 'distributor'] as const) {
      const t = await open(await svc.token(role));
      await expect.poll(() => t.page.locator('main').textContent()).toContain('cannot use this page');
      expect(await t.page.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
      expect(await t.page.locator('ol.audit-entries').count()).toBe(0);
      await expectClean(t, `audit-${role}.png`);
      await t.context.close();
    }
  });
});
