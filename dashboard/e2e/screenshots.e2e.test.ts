import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.ts';
import { LaggingClock, simulateDay } from './demo-pool.ts';
import { ADMIN_TOKEN, dbPathIn, startTestServer, type TestServer } from './harness.ts';

const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

let dir: string;
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owp-dashboard-shots-'));
  const clock = new LaggingClock();
  server = await startTestServer({ dbPath: dbPathIn(dir), clock, heartbeatTtlMs: 15 * 60_000 });
  simulateDay(server.engine, clock);
  browser = await launchBrowser();
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function signedInPage(viewport: { width: number; height: number }, dark = false) {
  const context = await browser.newContext({
    viewport,
    deviceScaleFactor: viewport.width < 500 ? 2 : 1,
    colorScheme: dark ? 'dark' : 'light',
  });
  const page = await context.newPage();
  await page.goto(server.base);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor({ timeout: 10_000 });
  // No hover highlight in the pictures; let uPlot lay out at the final width.
  await page.mouse.move(0, 0);
  await page.waitForTimeout(300);
  return page;
}

const shoot = (page: Page, name: string) =>
  page.screenshot({ path: join(SCREENSHOTS, `dashboard-${name}.png`) });

describe('dashboard screenshots (docs/screenshots/dashboard-*.png)', () => {
  it('desktop, 1280×800: every panel on one screen, nothing overflowing', async () => {
    const page = await signedInPage({ width: 1280, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      1280,
    );
    await expect(page.locator('tbody tr[data-task-id]').count()).resolves.toBeGreaterThan(10);
    await shoot(page, 'desktop');
    await page.context().close();
  });

  it('desktop in the dark theme', async () => {
    const page = await signedInPage({ width: 1280, height: 800 }, true);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).not.toBe('rgb(243, 244, 246)');
    await shoot(page, 'desktop-dark');
    await page.context().close();
  });

  it('task detail with its history', async () => {
    const page = await signedInPage({ width: 1280, height: 800 });
    // A task with a PR open: a full history, a PR link and the admin's buttons.
    const [withPr] = (await server.admin.listTasks({ status: 'pr_opened' })).tasks;
    await page.getByLabel('Search tasks').fill(withPr!.task_id);
    await page.locator(`tr[data-task-id="${withPr!.task_id}"]`).getByRole('button').click();
    await page.getByTestId('task-history').locator('li').first().waitFor();
    await shoot(page, 'task-detail');
    await page.context().close();
  });

  it('phone, 375×812: one column, no sideways scrolling', async () => {
    const page = await signedInPage({ width: 375, height: 812 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      375,
    );
    await shoot(page, 'phone');
    // Every status tile says its whole name: "In pr…" and "Merg…" told a phone user nothing.
    const cutLabels = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('.tiles .label')]
        .filter((label) => label.scrollWidth > label.clientWidth + 1)
        .map((label) => label.textContent),
    );
    expect(cutLabels, 'status tiles at 375 px').toEqual([]);
    // The other tabs too: the analytics header (repo, window, Refresh) once ran off the side.
    // The tables fit their boxes too: nothing cut off behind a sideways scroll.
    const tablesWiderThanTheirBox = () =>
      page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('.table-wrap')]
          .filter((wrap) => wrap.offsetParent !== null && wrap.scrollWidth > wrap.clientWidth + 1)
          .map((wrap) => `${wrap.scrollWidth} > ${wrap.clientWidth}`),
      );
    expect(await tablesWiderThanTheirBox(), 'tasks table at 375 px').toEqual([]);
    for (const tab of ['Analytics', 'Audit log']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.getByRole('tab', { name: tab, selected: true }).waitFor();
      expect(
        await page.evaluate(() => document.documentElement.scrollWidth),
        `${tab} at 375 px`,
      ).toBeLessThanOrEqual(375);
    }
    await page.locator('tr[data-seq]').first().waitFor();
    expect(await tablesWiderThanTheirBox(), 'audit table at 375 px').toEqual([]);
    await page.context().close();
  });

  it('the new-task dialog fits its width, at 1280 px and on a phone, long task titles included', async () => {
    // Last in the file: the pictures above show the demo pool as it was.
    await server.admin.createTask({
      repo: 'acme/docs',
      title: `Rework ${'the very long-winded migration plan for legacy billing exports '.repeat(3)}`,
    });
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 375, height: 812 },
    ]) {
      const page = await signedInPage(viewport);
      await page.getByRole('button', { name: 'New task', exact: true }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Pick an open task').waitFor();
      const overflow = await dialog.evaluate((root) => {
        const box = root.getBoundingClientRect();
        return [...root.querySelectorAll('input, select, textarea, fieldset, button')]
          .filter((el) => el.getBoundingClientRect().right > box.right + 1)
          .map((el) => `${el.tagName.toLowerCase()} ${el.getAttribute('aria-label') ?? ''}`);
      });
      expect(overflow, `${viewport.width} px`).toEqual([]);
      await page.context().close();
    }
  });
});
