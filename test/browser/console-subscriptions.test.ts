/**
 * The subscriptions page in Chromium: legal makes a subscription (callback URL and events), a URL outside
 * WEBHOOK_ALLOWED_ORIGINS is refused beside its field, a revocation's deliveries show in the log, a
 * subscription is deleted in two clicks; a distributor is offered the standing of outputs only and sees its
 * own subscriptions. Against the whole service on 127.0.0.1 over PGlite, with a receiver on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, expectClean, startConsole } from '../support/console-browser.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import { until, WebhookReceiver } from '../support/webhook-receiver.ts';

describe('the subscriptions page in Chromium', () => {
  let harness: ConsoleHarness;
  let receiver: WebhookReceiver;
  let legal: string;
  let vendor: string;
  let distributor: string;

  beforeAll(async () => {
    receiver = new WebhookReceiver();
    await receiver.up();
    harness = await startConsole({ WEBHOOK_ALLOWED_ORIGINS: receiver.origin, WEBHOOK_WORKER_INTERVAL_MS: '50', LICENSE_ENDING_CHECK_SECONDS: '0' });
    legal = await harness.svc.token('legal', 'lee@studio.example');
    vendor = await harness.svc.token('vendor', 'ops@acme.example');
    distributor = await harness.svc.token('distributor', 'dist@cinema.example');
  });
  afterAll(async () => {
    await harness?.close();
    await receiver?.down();
  });

  it('legal subscribes, sees a refused URL beside its field, reads the deliveries of a revocation, and deletes', async () => {
    const { assets } = await activeCheckpoint(harness.svc, legal, vendor, 1);
    const t = await harness.open('/console/subscriptions', legal);
    const { page } = t;
    await page.getByRole('heading', { name: 'New subscription' }).waitFor();
    await page.getByText('No subscription yet.').waitFor();
    await expectClean(t, 'subscriptions-empty.png');

    await page.getByLabel('Callback URL').fill('http://169.254.169.254/latest');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await expect.poll(() => page.locator('#sub-url').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#sub-url-error').textContent()).toMatch(/not an allowed origin/);

    await page.getByLabel('Callback URL').fill(`${receiver.origin}/studio`);
    await page.locator('#sub-events').selectOption(['license.revoked', 'checkpoint.tainted']);
    await page.getByRole('button', { name: 'Subscribe' }).click();
    const row = page.locator('tr[data-subscription]');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain(`${receiver.origin}/studio`);
    expect(await page.locator('#sub-url').getAttribute('aria-invalid')).toBeNull();

    const revoked = await harness.svc.call('POST', `/v1/licenses/${assets[0]!.licenseId}/revoke`, { token: legal, json: { reason: 'rescinded' } });
    expect(revoked.status).toBe(200);
    await until('two events', () => receiver.events().length >= 2);
    await row.getByRole('button', { name: 'Deliveries' }).click();
    const delivered = page.locator('tr[data-event]');
    await expect.poll(() => delivered.count()).toBe(2);
    expect(await delivered.allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('license.revoked'), expect.stringContaining('checkpoint.tainted')]));
    for (const text of await delivered.allTextContents()) expect(text).toContain('delivered');
    await expectClean(t, 'subscriptions-deliveries.png');

    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: /Confirm/ }).click();
    await page.getByText('No subscription yet.').waitFor();
    const api = (await (await harness.svc.call('GET', '/v1/subscriptions', { token: legal })).json()) as { items: unknown[] };
    expect(api.items).toEqual([]);
  });

  it('a distributor is offered the standing of outputs only, and sees its own subscriptions', async () => {
    await harness.svc.call('POST', '/v1/subscriptions', { token: legal, json: { url: `${receiver.origin}/legal`, events: ['license.revoked'] } });
    const t = await harness.open('/console/subscriptions', distributor);
    const { page } = t;
    await page.getByText('No subscription yet.').waitFor();
    const offered = await page.locator('#sub-events option').evaluateAll((os) => os.map((o) => o.getAttribute('value')));
    expect(offered).toEqual(['output.standingChanged']);
    expect(await page.locator('#sub-daysBefore').count()).toBe(0);
    await page.getByLabel('Callback URL').fill(`${receiver.origin}/cinema`);
    await page.getByRole('button', { name: 'Subscribe' }).click();
    const row = page.locator('tr[data-subscription]');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('output.standingChanged');
    expect(await row.textContent()).toContain('dist@cinema.example');
    await expectClean(t, 'subscriptions-distributor.png');
  });
});
