import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEventsToCsv } from '../../protocol/audit.ts';
import { STATUS_COLORS } from '../model/statuses.ts';
import { launchBrowser } from './browser.ts';
import {
  ADMIN_TOKEN,
  dbPathIn,
  startTestServer,
  VIEWER_TOKEN,
  type TestServer,
} from './harness.ts';

let dir: string;
let server: TestServer;
let browser: Browser;
let worker: string;

/** owner/app with one task merged: Alice took it, opened its PR, and the admin merged it. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owp-dashboard-insights-'));
  server = await startTestServer({ dbPath: dbPathIn(dir) });
  const { engine } = server;
  engine.upsertRepo({ repo: 'owner/app', max_open_prs: 2 });
  worker = engine.registerWorker({ name: 'Alice' }).worker_id;
  engine.heartbeat(worker, {});
  const task = engine.createTask({ repo: 'owner/app', title: 'Measure me' });
  engine.updateStatus(worker, task.task_id, { status: 'in_progress' });
  engine.updateStatus(worker, task.task_id, { status: 'pr_opened' });
  engine.markMerged(task.task_id);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(page: Page, role: 'Admin' | 'Viewer', token: string) {
  await page.goto(server.base);
  await page.getByRole('radio', { name: new RegExp(role) }).check();
  await page.getByLabel(`${role} token`).fill(token);
  await page.getByLabel(`${role} token`).press('Enter');
  await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor({ timeout: 5000 });
}

/** In the page: how many pixels of `canvas` have the colour `hex` (any opacity but none). */
function countPixelsOf(canvas: HTMLCanvasElement, hex: string): number {
  const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
  let count = 0;
  for (let i = 0; i < data.length; i += 4) {
    const alpha = data[i + 3]! / 255;
    if (alpha === 0) continue;
    // Drawn at ~70 % over a transparent canvas: compare the un-premultiplied colour.
    const near = want.every((c, k) => Math.abs(data[i + k]! - c) <= 24);
    if (near) count++;
  }
  return count;
}

describe('analytics and the audit log in the dashboard', () => {
  it("shows a repo's analytics, and the audit log with its actors and a CSV export", async () => {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    await signIn(page, 'Admin', ADMIN_TOKEN);

    // The tabs follow the keyboard: arrows, Home and End move the selection and the focus.
    await page.getByRole('tab', { name: 'Pool' }).focus();
    await page.keyboard.press('End');
    await page.getByRole('tab', { name: 'Audit log', selected: true }).waitFor();
    await page.keyboard.press('ArrowRight'); // wraps round
    await page.getByRole('tab', { name: 'Pool', selected: true }).waitFor();
    await page.keyboard.press('ArrowRight');
    const analyticsTab = page.getByRole('tab', { name: 'Analytics', selected: true });
    await analyticsTab.waitFor();
    await expect(analyticsTab.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await expect(analyticsTab.getAttribute('aria-controls')).resolves.toBe('panel-analytics');
    await page.getByRole('tabpanel', { name: 'Analytics' }).waitFor();
    const analytics = page.getByTestId('analytics-panel');
    await expect(analytics.getByLabel('Repo for analytics').inputValue()).resolves.toBe(
      'owner/app',
    );
    const completed = analytics.locator('[data-figure="completed"]');
    await completed
      .filter({ hasText: /^\s*Completed\s*1\s*tasks merged\s*$/ })
      .waitFor({ timeout: 5000 });
    await expect(analytics.locator('[data-figure="requeue"] .value').textContent()).resolves.toBe(
      '0%',
    );
    await expect(analytics.locator('[data-figure="offers"] .detail').textContent()).resolves.toBe(
      'no offers yet',
    );
    const chart = analytics.getByTestId('analytics-completed-chart').locator('canvas');
    await chart.waitFor();
    // The task was merged today, in the last bucket: its bar is drawn (the scale once ended at
    // that bucket's start, and the bar fell outside it).
    await expect
      .poll(() => chart.evaluate(countPixelsOf, STATUS_COLORS.merged), { timeout: 5000 })
      .toBeGreaterThan(100);

    await page.getByRole('tab', { name: 'Audit log' }).click();
    const audit = page.getByTestId('audit-panel');
    await audit.locator('tr[data-seq]').first().waitFor();
    const actors = await audit
      .locator('td[data-actor]')
      .evaluateAll((cells) => cells.map((cell) => cell.textContent!.trim()));
    expect(actors).toEqual([
      'Admin',
      'Alice',
      'Alice',
      'Admin',
      'System',
      'Alice',
      'Alice',
      'Admin',
    ]);

    await audit.getByLabel('Actor').fill('admin');
    await audit.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="audit-panel"] tr[data-seq]').length === 3,
    );
    const download = page.waitForEvent('download');
    await audit.getByRole('button', { name: 'Export CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('owp-audit.csv');
    const csv = readFileSync((await file.path())!, 'utf8');
    expect(csv).toBe(auditEventsToCsv(server.engine.auditEvents({ actor: 'admin' }).events));
    expect(csv.split('\r\n')[0]).toBe('seq,at,type,actor,repo,task_id,worker_id,data');
    await audit.getByRole('status').filter({ hasText: 'owp-audit.csv: 3 events.' }).waitFor();

    // Live: a new event that matches the filters joins the end as it happens; one that does not,
    // does not (the log was a snapshot until searched again).
    server.engine.heartbeat(worker, { status: 'working' });
    await server.admin.upsertRepo({ repo: 'owner/live', max_open_prs: 1 });
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="audit-panel"] tr[data-seq]').length === 4,
      undefined,
      { timeout: 5000 },
    );
    await expect(audit.locator('tr[data-seq]').last().textContent()).resolves.toContain(
      'repo.upserted',
    );
    await page.close();
  });

  it('shows a viewer the analytics but not the audit log', async () => {
    const page = await browser.newPage();
    await signIn(page, 'Viewer', VIEWER_TOKEN);
    await page.getByRole('tab', { name: 'Analytics' }).click();
    await page
      .getByTestId('analytics-panel')
      .locator('[data-figure="completed"]')
      .filter({ hasText: /Completed\s*1\s/ })
      .waitFor({ timeout: 5000 });
    await expect(page.getByRole('tab', { name: 'Audit log' }).count()).resolves.toBe(0);
    await page.close();
  });
});
