/**
 * The verify page with a file recovered by its pixels (issue 20), in Chromium against the whole service
 * with OUTPUT_SOFT_BINDING=pdq: a signed output, stripped and re-encoded with sharp, dropped on the page,
 * shows the output it looks like (id, distance within the threshold, record, lineage, standing), the proof
 * of that output's registration checked in the browser, and the plain statement that these bytes are not
 * the signed ones; an unrelated picture stays `no-manifest`.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockPicture, strippedReencode } from '../fixtures/pictures.ts';
import { type ConsoleHarness, expectClean, startConsole } from '../support/console-browser.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';

describe('the verify page with a recovered file, in Chromium', () => {
  let harness: ConsoleHarness;
  let distributor: string;
  let outputId: string;
  let checkpointId: string;
  let copy: Uint8Array;

  beforeAll(async () => {
    harness = await startConsole({ OUTPUT_SOFT_BINDING: 'pdq' });
    const svc = harness.svc;
    const [legal, vendor, generator] = await Promise.all([svc.token('legal'), svc.token('vendor'), svc.token('generator')]);
    distributor = await svc.token('distributor');
    checkpointId = (await activeCheckpoint(svc, legal, vendor, 1)).checkpoint.id;
    const form = new FormData();
    form.set('file', new File([await blockPicture(61)], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpointId);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status).toBe(200);
    outputId = res.headers.get('clearframe-output-id')!;
    copy = await strippedReencode(new Uint8Array(await res.arrayBuffer()), 60);
  });
  afterAll(async () => harness?.close());

  it('shows a dropped stripped copy as recovered: its candidate, checked proof, and that the bytes differ', async () => {
    const t = await harness.open('/console/verify', distributor);
    const { page } = t;
    await page.getByRole('heading', { name: 'Verify a file' }).waitFor();
    const dataTransfer = await page.evaluateHandle(
      `(() => { const dt = new DataTransfer(); dt.items.add(new File([Uint8Array.from(atob('${Buffer.from(copy).toString('base64')}'), (c) => c.charCodeAt(0))], 'reposted.jpg', { type: 'image/jpeg' })); return dt; })()`,
    );
    await page.dispatchEvent('body', 'dragover', { dataTransfer });
    await page.dispatchEvent('body', 'drop', { dataTransfer });
    await page.locator('input[type="file"]').setInputFiles({ name: 'unrelated.png', mimeType: 'image/png', buffer: Buffer.from(await blockPicture(62, 'image/png')) });

    const row = page.locator('li.result', { has: page.getByRole('heading', { name: 'reposted.jpg' }) });
    const other = page.locator('li.result', { has: page.getByRole('heading', { name: 'unrelated.png' }) });
    await row.locator('.verdict').waitFor();
    expect(await row.locator('.verdict').getAttribute('data-verdict')).toBe('recovered');
    expect(await row.locator('.verdict').textContent()).toBe('Recovered by its pixels');
    expect(await row.locator('.bytes-differ').textContent()).toMatch(/^Not the signed file: these bytes differ from the signed ones/);

    const candidates = row.locator('li.candidate');
    expect(await candidates.count()).toBe(1);
    const c = candidates.first();
    expect(await c.getAttribute('data-output-id')).toBe(outputId);
    expect(await c.locator('h4').first().textContent()).toBe(`Output ${outputId}`);
    expect(await c.textContent()).toMatch(/\d+ of 256 bits apart \(PDQ\), within the threshold of 31/);
    expect(await c.textContent()).toContain(checkpointId); // the lineage, from the record
    expect(await c.locator('[data-standing]').getAttribute('data-standing')).toBe('good');
    await c.getByText('The registration of this output was checked in your browser; this file is not the bytes it registered.').waitFor();
    expect(await row.locator('.proof-failed').count()).toBe(0);
    // Nothing says the file itself is verified.
    expect(await row.getByText('Proof checked in your browser', { exact: true }).count()).toBe(0);

    await other.locator('.verdict').waitFor();
    expect(await other.locator('.verdict').getAttribute('data-verdict')).toBe('no-manifest');
    expect(await other.locator('li.candidate').count()).toBe(0);

    // The verdict as JSON, with each candidate's proof as the browser checked it.
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: /Download the verdict/ }).click()]);
    const record = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { answer: { verdict: string }; proofCheckedInBrowser: { ok: boolean }[] };
    expect(record.answer.verdict).toBe('recovered');
    expect(record.proofCheckedInBrowser.map((p) => p.ok)).toEqual([true]);

    await expectClean(t, 'verify-recovered.png');
    await t.context.close();
  });
});
