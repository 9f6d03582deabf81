/**
 * The reports in Chromium: a checkpoint's page offers its training summary as Markdown and JSON (to legal
 * and to its own vendor, not to a generator), and the asset and rights chain pages offer the chain of title.
 * The files saved are the API's documents. Against the whole service on 127.0.0.1 over PGlite.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../fixtures/media.ts';
import { type ConsoleHarness, expectClean, startConsole } from '../support/console-browser.ts';
import { activeCheckpoint } from '../support/gate-fixtures.ts';
import type { TestService } from '../support/service.ts';

describe('the report downloads in Chromium', () => {
  let harness: ConsoleHarness;
  let svc: TestService;
  let legal: string;
  let vendor: string;
  let generator: string;
  let checkpoint: string;
  let assetId: string;
  let outputId: string;

  beforeAll(async () => {
    harness = await startConsole();
    svc = harness.svc;
    legal = await svc.token('legal', 'lee@studio.example');
    vendor = await svc.token('vendor', 'ops@acme.example');
    generator = await svc.token('generator', 'render@upstairs.example');
    const made = await activeCheckpoint(svc, legal, vendor, 2);
    checkpoint = made.checkpoint.id;
    assetId = made.assets[0]!.assetId;
    const form = new FormData();
    form.set('file', new File([makeJpeg({ seed: 61, width: 48, height: 32 })], 'frame.jpg', { type: 'image/jpeg' }));
    form.set('checkpointId', checkpoint);
    const res = await svc.call('POST', '/v1/outputs', { token: generator, form });
    expect(res.status).toBe(200);
    outputId = res.headers.get('clearframe-output-id')!;
  });
  afterAll(async () => {
    await harness?.close();
  });

  /** Clicks a download button of a report section and reads the saved file. */
  async function save(page: Page, report: string, format: 'md' | 'json') {
    const button = page.locator(`section[data-report="${report}"] button[data-format="${format}"]`);
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    return { name: download.suggestedFilename(), body: await readFile((await download.path())!, 'utf8') };
  }

  it('downloads a checkpoint’s training summary as Markdown and as JSON, the same figures in both', async () => {
    const t = await harness.open(`/console/checkpoints/${checkpoint}`, legal);
    const { page } = t;
    await page.getByRole('heading', { name: 'Training summary' }).waitFor();
    const md = await save(page, 'ckp-summary', 'md');
    expect(md.name).toBe(`${checkpoint}.training-summary.md`);
    expect(md.body).toContain(`# Public summary of training content: checkpoint \`${checkpoint}\``);
    const json = await save(page, 'ckp-summary', 'json');
    expect(json.name).toBe(`${checkpoint}.training-summary.json`);
    const s = JSON.parse(json.body) as {
      dataProcessing: { clearance: { policyDigest: string; counts: { requested: number } } };
      dataSources: { licensedData: { assetCount: number } };
    };
    expect(s.dataSources.licensedData.assetCount).toBe(2);
    expect(md.body).toContain(`\`${s.dataProcessing.clearance.policyDigest}\``);
    expect(md.body).toContain(`- **Assets asked for:** ${s.dataProcessing.clearance.counts.requested}`);
    await expect.poll(() => page.locator('section[data-report="ckp-summary"] [role="status"]').textContent()).toContain('Downloaded');
    await expectClean(t, 'checkpoint-training-summary.png');
    await t.context.close();

    // The checkpoint's vendor may download it too; a generator, who may read the checkpoint, is not offered it.
    const v = await harness.open(`/console/checkpoints/${checkpoint}`, vendor);
    await v.page.getByRole('heading', { name: 'Training summary' }).waitFor();
    expect((await save(v.page, 'ckp-summary', 'md')).body).toContain('## 3. Data processing aspects');
    await v.context.close();
    const g = await harness.open(`/console/checkpoints/${checkpoint}`, generator);
    await g.page.getByRole('heading', { name: `Checkpoint ${checkpoint}` }).waitFor();
    expect(await g.page.locator('section[data-report]').count()).toBe(0);
    await g.context.close();
  });

  it('downloads the chain of title from the asset page and from an output’s rights chain', async () => {
    const a = await harness.open(`/console/assets/${assetId}`, legal);
    await a.page.getByRole('heading', { name: 'Chain of title' }).waitFor();
    const asset = await save(a.page, 'chain-of-title', 'json');
    expect(asset.name).toBe(`${assetId}.chain-of-title.json`);
    const doc = JSON.parse(asset.body) as { subject: { id: string }; entries: { auditIndex: number; action: string }[]; treeHead: { treeSize: number } };
    expect(doc.subject.id).toBe(assetId);
    expect(doc.entries.map((e) => e.action)).toEqual(['asset.registered', 'license.granted']);
    const md = await save(a.page, 'chain-of-title', 'md');
    for (const e of doc.entries) expect(md.body).toContain(`| ${e.auditIndex} | \`${e.action}\` |`);
    await expectClean(a, 'asset-chain-of-title.png');
    await a.context.close();

    const r = await harness.open(`/console/outputs/${outputId}/rights-chain`, legal);
    await r.page.locator('.chain-verdict').waitFor();
    const out = await save(r.page, 'chain-of-title', 'md');
    expect(out.name).toBe(`${outputId}.chain-of-title.md`);
    expect(out.body).toContain(`# Chain of title: output \`${outputId}\``);
    expect(out.body).toContain(`### Checkpoint \`${checkpoint}\``);
    expect(out.body).toContain('## Signed tree head');
    await expectClean(r, 'rights-chain-chain-of-title.png');
    await r.context.close();
  });
});
