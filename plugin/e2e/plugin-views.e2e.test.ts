import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../../dashboard/e2e/browser.ts';
import { buildPlugin, ROOT } from '../../scripts/plugin-build.mjs';
import { buildHarness } from './build-harness.ts';
import { seedDemoPool, type DemoPool } from './demo-pool.ts';
import { ADMIN_TOKEN, startPoolServer, type PoolServer } from './pool-server.ts';

const run = promisify(execFile);
const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');

let dir: string;
let server: PoolServer;
let demo: DemoPool;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owp-plugin-e2e-'));
  // The views as built: the plugin's styles.css (`npm run test:e2e` builds it first), and the
  // components compiled as for main.js.
  if (!existsSync(join(ROOT, 'dist', 'plugin', 'styles.css'))) await buildPlugin();
  await buildHarness(join(dir, 'harness'));
  server = await startPoolServer(dir, join(dir, 'harness'));
  demo = await seedDemoPool(server);
  browser = await launchBrowser();
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type ViewName = 'board' | 'workers' | 'activity' | 'my-work';

const FILLED: Record<ViewName, string> = {
  board: '.owp-card',
  workers: '.owp-worker',
  activity: '.owp-feed-item',
  'my-work': '.owp-work',
};

interface PageOptions {
  width?: number;
  height?: number;
  dark?: boolean;
  phone?: boolean;
}

/** A page showing one view, as an admin who is also the worker Ana, loaded and live. */
async function openView(view: ViewName, options: PageOptions = {}): Promise<Page> {
  const phone = options.phone ?? false;
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    deviceScaleFactor: phone ? 2 : 1,
    hasTouch: phone,
    isMobile: phone,
    colorScheme: options.dark ? 'dark' : 'light',
  });
  const page = await context.newPage();
  const query = new URLSearchParams({
    view,
    admin: ADMIN_TOKEN,
    worker: demo.me.token,
    me: demo.me.workerId,
    online: '1',
    theme: options.dark ? 'dark' : 'light',
    ...(phone ? { phone: '1' } : {}),
  });
  await page.goto(`${server.base}/harness?${query}`);
  await page.locator(FILLED[view]).first().waitFor({ timeout: 10_000 });
  if (view === 'activity') {
    await page.getByText('Live', { exact: true }).waitFor({ timeout: 10_000 });
  }
  await page.mouse.move(0, 0);
  return page;
}

const shoot = (page: Page, name: string) =>
  page.screenshot({ path: join(SCREENSHOTS, `plugin-${name}.png`) });

/** `owp` as a person runs it, against the test server, with its own credentials file. */
async function owp(...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [join(ROOT, 'bin', 'owp.js'), '--url', server.base, '--config', join(dir, 'cli.json'), ...args],
    { cwd: ROOT, env: { ...process.env, HOME: dir, OWP_ADMIN_TOKEN: '' } },
  );
  return stdout;
}

/** Milliseconds until `locator` is there, failing after one second. */
async function appearsWithinASecond(page: Page, selector: string): Promise<number> {
  const start = Date.now();
  await page.locator(selector).first().waitFor({ timeout: 1000 });
  return Date.now() - start;
}

describe('the plugin’s views in a browser, against a running server', () => {
  it('board: every column, filters, cards with points, skills, area, assignee and countdown', async () => {
    const page = await openView('board');
    for (const status of ['ready', 'leased', 'in_progress', 'blocked', 'pr_opened']) {
      await expect(page.locator(`.owp-column[data-status="${status}"]`).count()).resolves.toBe(1);
    }
    const card = page.locator('.owp-column[data-status="in_progress"] .owp-card').first();
    await expect(card.locator('.owp-countdown').textContent()).resolves.toMatch(/left$/);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      1280,
    );
    await shoot(page, 'board');

    await page.getByLabel('Repo').selectOption('acme/docs');
    await expect(page.locator('.owp-card').count()).resolves.toBe(2);
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.context().close();
  });

  it('board in the dark theme', async () => {
    const page = await openView('board', { dark: true });
    const background = await page.evaluate(
      () => getComputedStyle(document.querySelector('.owp-card')!).backgroundColor,
    );
    expect(background).toBe('rgb(30, 30, 30)');
    await shoot(page, 'board-dark');
    await page.context().close();
  });

  it('board on a phone: the columns stack, nothing scrolls sideways', async () => {
    const page = await openView('board', { width: 390, height: 844, phone: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      390,
    );
    const columns = await page
      .locator('.owp-column')
      .evaluateAll((els) => els.map((el) => el.getBoundingClientRect().left));
    expect(new Set(columns.map(Math.round)).size).toBe(1); // one above the other
    await shoot(page, 'board-phone');
    await page.context().close();
  });

  it('workers, activity and my work, at sidebar width', async () => {
    const workers = await openView('workers', { width: 400, height: 760 });
    await expect(workers.locator('.owp-worker').count()).resolves.toBe(4);
    await expect(workers.locator('.owp-worker.is-offline').count()).resolves.toBe(1);
    await shoot(workers, 'workers');
    await workers.context().close();

    const activity = await openView('activity', { width: 400, height: 760 });
    await expect(activity.getByText('Bo Lin is blocked on').count()).resolves.toBe(1);
    await shoot(activity, 'activity');
    await activity.context().close();

    const myWork = await openView('my-work', { width: 400, height: 760 });
    await expect(myWork.locator('.owp-work').count()).resolves.toBeGreaterThanOrEqual(2);
    await shoot(myWork, 'my-work');
    await myWork.context().close();
  });

  it('my work on a phone, asking for the PR link', async () => {
    const page = await openView('my-work', { width: 390, height: 844, phone: true, dark: true });
    const inProgress = page.locator('.owp-work[data-status="in_progress"]').first();
    await inProgress.getByRole('button', { name: 'PR opened' }).click();
    await inProgress.getByLabel('Pull request link').fill('github.com/acme/app/pull/420');
    await inProgress.getByRole('button', { name: 'Save' }).click();
    await inProgress.getByText('That is not a link').waitFor();
    await inProgress.getByLabel('Pull request link').fill('https://github.com/acme/app/pull/420');
    await shoot(page, 'my-work-phone');
    await inProgress.getByRole('button', { name: 'Save' }).click();
    await page.locator('.owp-work[data-status="pr_opened"] >> text=pull/420').waitFor();
    await page.context().close();
  });

  it('an admin drags a blocked card back to the queue', async () => {
    const page = await openView('board');
    const blocked = page.locator('.owp-column[data-status="blocked"] .owp-card').first();
    const taskId = (await blocked.getAttribute('data-task-id'))!;
    // Grabbed by its edge, as a person would: the title is a button, which does not start a drag.
    await blocked.dragTo(page.locator('.owp-column[data-status="ready"]'), {
      sourcePosition: { x: 8, y: 4 },
    });
    // Requeued — and at once granted again to an online worker who can take it.
    await page
      .locator(`.owp-column[data-status="blocked"] .owp-card[data-task-id="${taskId}"]`)
      .waitFor({ state: 'detached', timeout: 2000 });
    const events = await server.admin.events(0, 500);
    const causes = events
      .filter((e) => e.type === 'task.status_changed' && e.task_id === taskId)
      .map((e) => (e.type === 'task.status_changed' ? e.data.cause : null));
    expect(causes).toContain('requeue');
    await page.context().close();
  });

  it('a worker driven from the CLI shows up in the views within a second', async () => {
    const board = await openView('board');
    const workers = await openView('workers', { width: 400, height: 760 });
    const shown: Record<string, number> = {};

    await owp(
      'worker',
      'register',
      '--name',
      'Eve from the CLI',
      '--skills',
      'docs',
      '--points',
      '3',
    );
    shown.registered = await appearsWithinASecond(workers, '.owp-worker >> text=Eve from the CLI');

    const work = JSON.parse(await owp('--json', 'worker', 'next')) as {
      leases: { task_id: string }[];
    };
    expect(work.leases.length).toBeGreaterThan(0);
    const taskId = work.leases[0]!.task_id;
    const card = (status: string) =>
      `.owp-column[data-status="${status}"] .owp-card[data-task-id="${taskId}"]`;
    shown.leased = await appearsWithinASecond(board, card('leased'));

    await owp('worker', 'status', taskId, 'in_progress');
    shown.started = await appearsWithinASecond(board, card('in_progress'));
    await owp(
      'worker',
      'status',
      taskId,
      'pr_opened',
      '--pr-url',
      'https://github.com/acme/docs/pull/9',
    );
    shown.prOpened = await appearsWithinASecond(board, card('pr_opened'));
    console.log(
      `[figures] CLI change → view (ms): ${Object.entries(shown)
        .map(([what, ms]) => `${what} ${ms}`)
        .join(', ')}`,
    );
    await board.context().close();
    await workers.context().close();
  });
});
