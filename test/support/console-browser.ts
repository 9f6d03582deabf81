/**
 * What every console browser test needs: Debian's Chromium (playwright-core, no browser download), the whole
 * service listening on 127.0.0.1 over a fresh test database, fresh tabs that collect CSP reports and dialogs,
 * sign-in with a token, axe-core's serious and critical findings, and a screenshot folder.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { startTestService, type TestService } from './service.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = path.resolve('test-results/console');
const AXE = readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');

export type ConsoleTab = { context: BrowserContext; page: Page; violations: string[]; dialogs: string[] };
export type ConsoleHarness = {
  svc: TestService;
  base: string;
  browser: Browser;
  /** A fresh tab (its own sessionStorage); CSP reports and dialogs are collected (none is expected). */
  tab(): Promise<ConsoleTab>;
  /** A fresh tab at `path`, signed in with `token` on the sign-in form (`before` runs first, e.g. to route requests). */
  open(path: string, token: string, before?: (page: Page) => Promise<unknown>): Promise<ConsoleTab>;
  close(): Promise<void>;
};

export async function startConsole(env: Record<string, string> = {}): Promise<ConsoleHarness> {
  const svc = await startTestService(env);
  const server = serve({ fetch: svc.runtime.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const harness: ConsoleHarness = {
    svc,
    base,
    browser,
    async open(path, token, before) {
      const t = await harness.tab();
      await before?.(t.page);
      await t.page.goto(base + path);
      await signIn(t.page, token);
      return t;
    },
    async tab() {
      const context = await browser.newContext({ acceptDownloads: true });
      const page = await context.newPage();
      const violations: string[] = [];
      const dialogs: string[] = [];
      page.on('console', (m) => {
        if (/Content[ -]Security[ -]Policy/i.test(m.text())) violations.push(m.text());
      });
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      return { context, page, violations, dialogs };
    },
    async close() {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
      await svc.close();
    },
  };
  return harness;
}

/** Signs in on the sign-in form with a bearer token; waits until the console shows the sign-out button. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.locator('input[name="token"]').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** axe-core run in the page (evaluated over the DevTools protocol: the CSP rightly refuses an injected script tag). */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const found = (await page.evaluate(() => (globalThis as unknown as { axe: { run(): Promise<unknown> } }).axe.run())) as {
    violations: { id: string; impact: string; nodes: unknown[] }[];
  };
  return found.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}, ${v.nodes.length})`);
}

export function shot(name: string): string {
  return path.join(SHOTS, name);
}

/** Keeps a screenshot of the tab, then expects no serious or critical axe finding, no CSP report and no dialog. */
export async function expectClean(tab: ConsoleTab, name: string): Promise<void> {
  await tab.page.screenshot({ path: shot(name), fullPage: true });
  expect(await seriousA11yViolations(tab.page), name).toEqual([]);
  expect(tab.violations, name).toEqual([]);
  expect(tab.dialogs, name).toEqual([]);
}
