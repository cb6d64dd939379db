import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpOwpApi } from '../../protocol/index.ts';
import { launchBrowser } from './browser.ts';
import { ADMIN_TOKEN, dbPathIn, startTestServer, type TestServer } from './harness.ts';

let dir: string;
let server: TestServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owp-dashboard-live-'));
  server = await startTestServer({ dbPath: dbPathIn(dir) });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const rowOf = (taskId: string) => page.locator(`tr[data-task-id="${taskId}"]`);
const queueSummary = () => page.getByTestId('queue-summary');
/** What the queue-depth chart has drawn: its canvas, as an image. */
const chartImage = () =>
  page
    .getByTestId('queue-chart')
    .locator('canvas')
    .evaluate((c: HTMLCanvasElement) => c.toDataURL());

describe('the dashboard, live against a real server', () => {
  // One story, step by step: each step needs the state the one before left.
  let taskId: string;
  let worker: { id: string; api: HttpOwpApi };

  it('signs in with the admin token, keeps it in session storage and out of the URL', async () => {
    await server.admin.upsertRepo({ repo: 'demo', max_open_prs: 3 });
    const registered = await new HttpOwpApi({ baseUrl: server.base }).registerWorker({
      name: 'ada',
      skills: ['ts'],
    });
    worker = {
      id: registered.worker_id,
      api: new HttpOwpApi({ baseUrl: server.base, workerToken: registered.token }),
    };

    await page.goto(server.base);
    await page.getByLabel('Admin token').fill('not-the-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('unauthorized');

    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor({ timeout: 5000 });
    expect(page.url()).toBe(`${server.base}/`);
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    const stored = await page.evaluate(() => JSON.stringify(sessionStorage));
    expect(stored).toContain(ADMIN_TOKEN);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(ADMIN_TOKEN);
  });

  it('shows a task created through the API within a second', async () => {
    const drawnBefore = await chartImage();
    const created = await server.admin.createTask({
      repo: 'demo',
      title: 'Fix the flaky login test',
    });
    taskId = created.task_id;
    const started = Date.now();
    await rowOf(taskId).waitFor({ timeout: 1000 });
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(rowOf(taskId).textContent()).resolves.toContain('Fix the flaky login test');
    await expect(rowOf(taskId).textContent()).resolves.toContain('Ready');
    await page
      .getByTestId('queue-summary')
      .filter({ hasText: /\b1 ready\b/ })
      .waitFor({ timeout: 1000 });
    expect(await chartImage()).not.toBe(drawnBefore);
    await expect(page.getByTestId('event-feed').textContent()).resolves.toContain(
      '“Fix the flaky login test” created in demo',
    );
  });

  it('follows a worker taking the task, and shows its load', async () => {
    await worker.api.heartbeat({ status: 'idle' });
    const work = await worker.api.getWork();
    expect(work.leases.map((l) => l.task_id)).toEqual([taskId]);
    await rowOf(taskId).filter({ hasText: 'Leased' }).waitFor({ timeout: 1000 });
    await expect(rowOf(taskId).textContent()).resolves.toContain('ada');
    await queueSummary()
      .filter({ hasText: /\b0 ready\s+1 leased\b/ })
      .waitFor({ timeout: 1000 });
    await page
      .locator(`[data-worker-id="${worker.id}"]`)
      .filter({ hasText: '1/5 pts · 1/2 tasks' })
      .waitFor({ timeout: 2000 });
  });

  it('pauses the worker and requeues the task from the page; the chart follows', async () => {
    // Paused first, so the requeued task is not granted straight back to the same worker.
    await page.getByRole('button', { name: 'Pause worker ada' }).click();
    await page.getByRole('button', { name: 'Resume worker ada' }).waitFor({ timeout: 2000 });
    expect((await server.admin.listWorkers())[0]!.paused_by_admin).toBe(true);
    // From the keyboard the button keeps the focus through the change: Enter undoes it, and again.
    await page.getByRole('button', { name: 'Resume worker ada' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Pause worker ada' }).waitFor({ timeout: 2000 });
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label')))
      .toBe('Pause worker ada');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Resume worker ada' }).waitFor({ timeout: 2000 });
    expect((await server.admin.listWorkers())[0]!.paused_by_admin).toBe(true);

    const drawnBefore = await chartImage();
    await rowOf(taskId).getByRole('button', { name: 'Fix the flaky login test' }).click();
    const detail = page.getByRole('dialog');
    await detail.getByTestId('detail-status').filter({ hasText: 'Leased' }).waitFor();
    await detail.getByRole('button', { name: 'Requeue' }).click();
    await detail
      .getByTestId('detail-status')
      .filter({ hasText: 'Ready' })
      .waitFor({ timeout: 2000 });
    await detail
      .getByTestId('task-history')
      .filter({ hasText: /requeued by an admin/i })
      .waitFor({ timeout: 2000 });
    expect((await server.admin.getTask(taskId)).status).toBe('ready');

    await queueSummary()
      .filter({ hasText: /\b1 ready\s+0 leased\b/ })
      .waitFor({ timeout: 1000 });
    expect(await chartImage()).not.toBe(drawnBefore);
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });
  });

  it('shows a resume that cannot reach the server in words, next to the worker', async () => {
    const row = page.locator(`[data-worker-id="${worker.id}"]`);
    const resumeUrl = `${server.base}/v1/admin/workers/${worker.id}/resume`;
    await page.route(resumeUrl, (route) => route.abort('connectionrefused'));
    await row.getByRole('button', { name: 'Resume worker ada' }).click();
    const alert = row.getByRole('alert').filter({ hasText: /Cannot reach the server/ });
    await alert.waitFor({ timeout: 2000 });
    // The worker keeps working meanwhile: its heartbeat (a newer copy of it) leaves the message.
    const seen = page.waitForResponse((r) => r.url().includes(`/v1/admin/workers/${worker.id}`));
    await worker.api.heartbeat({ status: 'working' });
    await seen;
    await expect(alert.count()).resolves.toBe(1);
    await page.unroute(resumeUrl);
    expect((await server.admin.listWorkers())[0]!.paused_by_admin).toBe(true);
  });

  it('shows an action the server refuses in words, next to the button', async () => {
    await rowOf(taskId).getByRole('button', { name: 'Fix the flaky login test' }).click();
    const detail = page.getByRole('dialog');
    await detail.getByRole('button', { name: 'Cancel task…' }).click();

    // Someone else cancels the task while this page's copy of it is held back (its re-read
    // waits), so the page still offers "Yes, cancel it" and the server has to refuse.
    let releaseReread!: () => void;
    const held = new Promise<void>((resolve) => (releaseReread = resolve));
    const rereads: Array<Promise<void>> = [];
    const taskUrl = `${server.base}/v1/tasks/${taskId}`;
    await page.route(taskUrl, (route) => {
      const reread = held.then(() => route.continue());
      rereads.push(reread);
      return reread;
    });
    await server.admin.cancelTask(taskId);
    await detail.getByRole('button', { name: 'Yes, cancel it' }).click();
    const refusal = detail.getByRole('alert');
    await refusal.filter({ hasText: 'invalid_transition' }).waitFor({ timeout: 2000 });
    await expect(refusal.textContent()).resolves.toMatch(/cancel/i);

    releaseReread();
    await Promise.all(rereads);
    await page.unroute(taskUrl);
    await detail
      .getByTestId('detail-status')
      .filter({ hasText: 'Cancelled' })
      .waitFor({ timeout: 2000 });
    await expect(detail.getByRole('button', { name: 'Requeue' }).count()).resolves.toBe(0);
    await expect(refusal.textContent()).resolves.toContain('invalid_transition');
    await page.keyboard.press('Escape');

    // A form problem shows under its field before anything is sent.
    await page.getByRole('button', { name: 'Edit repo demo' }).click();
    const form = page.getByRole('dialog');
    await form.getByLabel('Review budget (open PRs at most)').fill('500');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(form.locator('#repo-budget-error').textContent()).resolves.toMatch(/100/);
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'hidden' });
  });

  it('goes offline when the server stops, then resumes with Last-Event-ID after a restart', async () => {
    const lastSeq = (await server.admin.state()).last_event_seq;
    await page
      .locator('.seq')
      .filter({ hasText: new RegExp(`^#${lastSeq}$`) })
      .waitFor({ timeout: 2000 });
    const { port } = server;
    const before = server.streamRequests.length;
    expect(before).toBeGreaterThan(0);
    await server.stop();
    await page.getByTestId('offline-banner').waitFor({ timeout: 5000 });
    await expect(page.getByTestId('stream-status').textContent()).resolves.toContain('Offline');
    // Reconnecting backs off (up to 15 s); a person who knows the server is back need not wait.
    const retry = page.getByTestId('offline-banner').getByRole('button', { name: 'Retry now' });
    await retry.click();
    await page.getByTestId('offline-banner').waitFor({ timeout: 5000 });
    // A task opened while offline says its history could not be read, not that it has none.
    await rowOf(taskId).getByRole('button', { name: 'Fix the flaky login test' }).click();
    const detail = page.getByRole('dialog');
    const history = detail.getByTestId('task-history');
    await detail.getByText(/Cannot reach the server/).waitFor({ timeout: 5000 });
    await expect(history.textContent()).resolves.not.toContain('No events recorded');

    // Same port, same database file: a restart as the page sees it.
    server = await startTestServer({ dbPath: dbPathIn(dir), port });
    // Made while the page may still be waiting to reconnect: it must arrive either way.
    const missed = await server.admin.createTask({
      repo: 'demo',
      title: 'Made during the restart',
    });
    await page
      .getByTestId('stream-status')
      .filter({ hasText: 'Live' })
      .waitFor({ timeout: 15_000 });
    await page.getByTestId('offline-banner').waitFor({ state: 'hidden' });
    // Back live, the open task reads its history again.
    await history.filter({ hasText: /requeued by an admin/i }).waitFor({ timeout: 5000 });
    await expect(detail.getByText(/Cannot reach the server/).count()).resolves.toBe(0);
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });
    await rowOf(missed.task_id).waitFor({ timeout: 2000 });
    expect(server.streamRequests[0]).toBe(String(lastSeq));

    const after = await server.admin.createTask({ repo: 'demo', title: 'Made after the restart' });
    const started = Date.now();
    await rowOf(after.task_id).waitFor({ timeout: 1000 });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('signs out with the reason when the admin token is rotated while the page is open', async () => {
    const { port } = server;
    await server.stop();
    await page.getByTestId('offline-banner').waitFor({ timeout: 5000 });
    server = await startTestServer({
      dbPath: dbPathIn(dir),
      port,
      adminToken: 'e2e-rotated-admin-token-0123456789',
    });
    await page.getByTestId('offline-banner').getByRole('button', { name: 'Retry now' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Signed out: The admin token is wrong.' })
      .waitFor({ timeout: 5000 });
    await page.getByLabel('Admin token').waitFor();
    expect(await page.evaluate(() => JSON.stringify(sessionStorage))).not.toContain(ADMIN_TOKEN);
  });
});
