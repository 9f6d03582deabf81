/**
 * The Import page in Chromium: legal chooses a folder of art and its terms sheet, checks it (a dry run that
 * writes nothing), imports it with the progress read from the job's Server-Sent Events, and downloads the
 * error file of a sheet with a failing row. Against the whole service on 127.0.0.1 over PGlite.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLUMNS } from '../../src/imports/sheet.ts';
import { makeJpeg, makePng } from '../fixtures/media.ts';
import { type ConsoleHarness, expectClean, startConsole } from '../support/console-browser.ts';

const TERMS = 'Ortiz Studio,Upstairs Films,acme-vfx,allowed,allowed,notAllowed,US;CA,theatrical;streaming,2026-01-01,2030-12-31,false,,,';
const csv = (...rows: string[]) => Buffer.from(`\uFEFF${COLUMNS.join(',')}\r\n${rows.join('\r\n')}\r\n`);

describe('the Import page in Chromium', () => {
  let harness: ConsoleHarness;
  let legal: string;
  let dir: string;
  let folder: string;
  const art: Record<string, Uint8Array> = {
    'env/stairwell.png': makePng({ seed: 1, noise: true }),
    'env/kitchen.png': makePng({ seed: 2, noise: true }),
    'chars/lead.jpg': makeJpeg({ seed: 3 }),
  };

  beforeAll(async () => {
    harness = await startConsole();
    legal = await harness.svc.token('legal', 'lee@studio.example');
    dir = mkdtempSync(path.join(tmpdir(), 'clearframe-console-import-'));
    folder = path.join(dir, 'dear-upstairs');
    for (const [rel, bytes] of Object.entries(art)) {
      mkdirSync(path.dirname(path.join(folder, rel)), { recursive: true });
      writeFileSync(path.join(folder, rel), bytes);
    }
    writeFileSync(path.join(folder, 'notes.txt'), 'not art');
  });
  afterAll(async () => {
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (token: string) => harness.open('/console/imports', token);

  const assets = async () => {
    const res = await harness.svc.call('GET', '/v1/assets?production=dear-upstairs', { token: legal });
    return ((await res.json()) as { items: { sha256: string; title: string }[] }).items;
  };

  it('checks a folder and its sheet (nothing written), then imports it with its progress', async () => {
    const t = await open(legal);
    const { page } = t;
    await page.getByRole('heading', { name: 'Import' }).waitFor();
    await page.locator('#import-folder').setInputFiles(folder);
    await expect.poll(() => page.locator('#import-folder-help').textContent()).toBe('3 files of art in dear-upstairs.');
    expect(await page.getByLabel('Production').inputValue()).toBe('dear-upstairs');
    await page
      .getByLabel('Terms sheet (CSV or XLSX)')
      .setInputFiles({ name: 'terms.csv', mimeType: 'text/csv', buffer: csv(`env/*.png,,R. Ortiz,Ortiz Studio,${TERMS}`, `chars/*.jpg,Lead,M. Chen,,${TERMS}`) });
    await page.getByRole('button', { name: 'Check the sheet' }).click();
    await expect.poll(() => page.locator('#import-progress-text').textContent()).toMatch(/^Dry run, nothing written: 3 new assets, 3 new license versions, 0 unchanged/);
    expect(await assets()).toEqual([]);
    await expectClean(t, 'imports-dry-run.png');

    await page.getByLabel('Dry run: check and plan, write nothing').uncheck();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.locator('#import-progress-text').textContent(), { timeout: 30_000 }).toMatch(/^Imported: 3 created, 0 amended, 0 unchanged/);
    expect(await page.evaluate(`(() => { const p = document.getElementById('import-progress'); return p.value === p.max; })()`)).toBe(true);
    const got = await assets();
    expect(got.map((a) => a.sha256).sort()).toEqual(
      Object.values(art)
        .map((b) => createHash('sha256').update(b).digest('hex'))
        .sort(),
    );
    expect(got.map((a) => a.title).sort()).toEqual(['Lead', 'kitchen.png', 'stairwell.png']);
    await expectClean(t, 'imports-done.png');

    // Again: every file is there with these terms.
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.locator('#import-progress-text').textContent()).toMatch(/^Imported: 0 created, 0 amended, 3 unchanged/);
    await t.context.close();
  });

  it('a failing row: nothing imported, and the error file downloads with the row and the problem', async () => {
    const t = await open(legal);
    const { page } = t;
    await page.locator('#import-folder').setInputFiles(folder);
    await page.getByLabel('Production').fill('other-production');
    await page
      .getByLabel('Terms sheet (CSV or XLSX)')
      .setInputFiles({ name: 'terms.csv', mimeType: 'text/csv', buffer: csv(`**/*,,R. Ortiz,,${TERMS.replace('US;CA', 'US;XX')}`) });
    await page.getByLabel('Dry run: check and plan, write nothing').uncheck();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.locator('#import-progress-text').textContent()).toBe('Nothing was imported: 1 row failed.');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Download the error file \(1 row\)/ }).click()]);
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text).toMatch(/^row,path,.*,errorColumn,error\r\n2,\*\*\/\*,/);
    expect(text).toMatch(/territories,"""XX"" is not an ISO 3166-1 alpha-2 code or WORLD"/);
    await expectClean(t, 'imports-errors.png');
    await t.context.close();
  });

  it('takes files dropped on the page', async () => {
    const t = await open(legal);
    const { page } = t;
    // A drop as the browser delivers it (loose files: Chromium gives a synthetic drop no folder entries).
    await page.evaluate(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array([1, 2, 3])], 'dropped.png', { type: 'image/png' }));
      dt.items.add(new File(['x'], 'readme.txt', { type: 'text/plain' }));
      document.querySelector('.import-drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    })()`);
    await expect.poll(() => page.locator('#import-folder-help').textContent()).toBe('1 file of art in the folder.');
    await t.context.close();
  });

  it('is not offered to a distributor, and says so at its address', async () => {
    const t = await open(await harness.svc.token('distributor'));
    await expect.poll(() => t.page.locator('main').textContent()).toContain('cannot use this page');
    expect(await t.page.locator('nav').getByRole('link', { name: 'Import' }).count()).toBe(0);
    await expectClean(t, 'imports-distributor.png');
    await t.context.close();
  });
});
