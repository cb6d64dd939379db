import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.ts';
import { ADMIN_TOKEN, dbPathIn, startTestServer, type TestServer } from './harness.ts';

let dir: string;
let server: TestServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owp-dashboard-admin-'));
  server = await startTestServer({ dbPath: dbPathIn(dir) });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(server.base);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor({ timeout: 5000 });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const IMPORT_FILE = `
- title: Write the upgrade guide
  priority: 20
  required_skills: [docs]
- title: Broken item
  priority: high
- title: Add a changelog check
  estimate_points: 2
`;

describe('admin actions from the page', () => {
  it('adds a repo, then edits its review budget', async () => {
    await page.getByRole('button', { name: 'Add repo' }).click();
    const form = page.getByRole('dialog');
    // A form opens on its first field, not on the Close button.
    const focused = (label: string) =>
      form.getByLabel(label).evaluate((el) => el === document.activeElement);
    await expect(focused('Repo key')).resolves.toBe(true);
    await form.getByLabel('Repo key').fill('owner/site');
    await form.getByLabel('Review budget (open PRs at most)').fill('2');
    await form.getByRole('button', { name: 'Add repo' }).click();
    await form.waitFor({ state: 'hidden' });
    const row = page.locator('li[data-repo="owner/site"]');
    await expect(row.textContent()).resolves.toMatch(/0\/2 used · 2 left/);
    expect((await server.admin.getRepo('owner/site')).max_open_prs).toBe(2);

    await page.getByRole('button', { name: 'Edit repo owner/site' }).click();
    await expect(focused('Review budget (open PRs at most)')).resolves.toBe(true);
    await form.getByLabel('Review budget (open PRs at most)').fill('0');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.waitFor({ state: 'hidden' });
    await row.filter({ hasText: 'Paused' }).waitFor();
    expect((await server.admin.getRepo('owner/site')).max_open_prs).toBe(0);
  });

  it('refuses to add a repo under a key that exists, and leaves that repo as it was', async () => {
    // Was: the dialog closed and owner/site's budget of 0 became the form's 3 (the POST is an upsert).
    await page.getByRole('button', { name: 'Add repo' }).click();
    const form = page.getByRole('dialog', { name: 'Add a repo' });
    await form.getByLabel('Repo key').fill('owner/site');
    await form.getByRole('button', { name: 'Add repo' }).click();
    await expect(form.locator('#repo-key-error').textContent({ timeout: 2000 })).resolves.toBe(
      'owner/site exists already; edit it from its row',
    );
    await expect(form.getByLabel('Repo key').getAttribute('aria-invalid')).resolves.toBe('true');
    // The refusal is at the head of a long form: the key gets the focus, so it is seen and heard.
    await expect(
      form.getByLabel('Repo key').evaluate((el) => el === document.activeElement),
    ).resolves.toBe(true);
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'hidden' });
    expect((await server.admin.getRepo('owner/site')).max_open_prs).toBe(0);
  });

  it('keeps a half-written task when the form is closed, until it is created or started over', async () => {
    await page.getByRole('button', { name: 'New task' }).click();
    const form = page.getByRole('dialog');
    await form.getByLabel('Title').fill('Half written');
    await form.getByLabel('Priority').fill('33');
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'hidden' });

    await page.getByRole('button', { name: 'New task' }).click();
    await form.getByRole('status').filter({ hasText: 'as you left it' }).waitFor();
    await expect(form.getByLabel('Title').inputValue()).resolves.toBe('Half written');
    await expect(form.getByLabel('Priority').inputValue()).resolves.toBe('33');
    await form.getByRole('button', { name: 'Start over' }).click();
    await expect(form.getByLabel('Title').inputValue()).resolves.toBe('');
    await expect(form.getByLabel('Priority').inputValue()).resolves.toBe('10');
    await expect(
      form.getByLabel('Title').evaluate((el) => el === document.activeElement),
    ).resolves.toBe(true);
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'hidden' });

    // Nothing typed: nothing kept, and the next form opens plain.
    await page.getByRole('button', { name: 'New task' }).click();
    await expect(form.getByLabel('Title').inputValue()).resolves.toBe('');
    await expect(form.getByText('as you left it').count()).resolves.toBe(0);
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'hidden' });
    expect((await server.admin.listTasks({ repo: 'owner/site' })).tasks).toEqual([]);
  });

  it('creates a task from the form and opens it', async () => {
    await page.getByRole('button', { name: 'New task' }).click();
    const form = page.getByRole('dialog');
    await expect(
      form.getByLabel('Title').evaluate((el) => el === document.activeElement),
    ).resolves.toBe(true);
    await form.getByRole('button', { name: 'Create task' }).click();
    await expect(form.locator('#task-title-error').textContent()).resolves.toBeTruthy();

    await form.getByLabel('Title').fill('Add a dark theme');
    await form.getByLabel('Skills (comma-separated)').fill('css, svelte');
    await form.getByLabel('Priority').fill('40');
    await form.getByRole('button', { name: 'Create task' }).click();
    const detail = page.getByRole('dialog', { name: 'Add a dark theme' });
    await detail.getByTestId('detail-status').filter({ hasText: 'Ready' }).waitFor();
    const [task] = (await server.admin.listTasks({ repo: 'owner/site' })).tasks;
    expect(task).toMatchObject({
      title: 'Add a dark theme',
      priority: 40,
      required_skills: ['css', 'svelte'],
    });
    await page.keyboard.press('Escape');
    // The draft kept while the first try was refused ends with the task it became.
    await page.getByRole('button', { name: 'New task' }).click();
    await expect(form.getByLabel('Title').inputValue()).resolves.toBe('');
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'hidden' });
  });

  it('imports a YAML file: each bad item named with its problem, the good ones created with progress', async () => {
    await page.getByRole('button', { name: 'Import YAML' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('YAML file').setInputFiles({
      name: 'tasks.yaml',
      mimeType: 'text/yaml',
      buffer: Buffer.from(IMPORT_FILE),
    });
    await expect(dialog.getByTestId('import-summary').textContent()).resolves.toMatch(
      /3 items · 2 ready to create · 1 with problems/,
    );
    const broken = dialog.locator('tr', { hasText: 'Broken item' });
    await expect(broken.textContent()).resolves.toMatch(/priority/);

    await dialog.getByRole('button', { name: 'Create 2 tasks' }).click();
    await dialog.getByText('Created 2 of 2').waitFor({ timeout: 5000 });
    await dialog.getByRole('status').filter({ hasText: '2 created' }).waitFor();
    const titles = (await server.admin.listTasks({ repo: 'owner/site' })).tasks.map((t) => t.title);
    expect(titles).toEqual([
      'Add a dark theme',
      'Write the upgrade guide',
      'Add a changelog check',
    ]);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('button', { name: 'Write the upgrade guide', exact: true }).waitFor();

    // The same file again (a run cut short, sent again): answered, marked, nothing made twice.
    await page.getByRole('button', { name: 'Import YAML' }).click();
    await dialog.getByLabel('YAML file').setInputFiles({
      name: 'tasks.yaml',
      mimeType: 'text/yaml',
      buffer: Buffer.from(IMPORT_FILE),
    });
    await dialog.getByRole('button', { name: 'Create 2 tasks' }).click();
    await dialog
      .getByRole('status')
      .filter({ hasText: '2 created (2 made by an earlier import of the same items' })
      .waitFor();
    await expect(dialog.getByText('made before').count()).resolves.toBe(2);
    expect((await server.admin.listTasks({ repo: 'owner/site' })).tasks).toHaveLength(3);
    await dialog.getByRole('button', { name: 'Done' }).click();
  });

  it('rejects a file that is not a YAML list, in words', async () => {
    await page.getByRole('button', { name: 'Import YAML' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('YAML file').setInputFiles({
      name: 'oops.yaml',
      mimeType: 'text/yaml',
      buffer: Buffer.from('title: not a list\n'),
    });
    await expect(dialog.getByRole('alert').textContent()).resolves.toMatch(/oops\.yaml: .*list/);
    await page.keyboard.press('Escape');
  });

  it('keeps filtering after the table is sorted by a column', async () => {
    const guide = (await server.admin.listTasks({ repo: 'owner/site' })).tasks.find(
      (t) => t.title === 'Write the upgrade guide',
    )!;
    await server.admin.cancelTask(guide.task_id);
    const pager = page.getByRole('navigation', { name: 'Task pages' }).locator('span');
    const status = page.getByLabel('Filter by status');
    await status.selectOption({ label: 'All statuses' });
    await pager.filter({ hasText: 'of 3' }).waitFor();

    await page.getByRole('button', { name: /^Prio/ }).click();
    await status.selectOption({ label: 'Cancelled' });
    await pager.filter({ hasText: '1–1 of 1' }).waitFor();
    await status.selectOption({ label: 'All statuses' });
    await page.getByLabel('Search tasks').fill('changelog');
    await pager.filter({ hasText: '1–1 of 1' }).waitFor();
    await expect(page.locator('tbody tr').first().textContent()).resolves.toContain(
      'Add a changelog check',
    );
    // Sorting again keeps the search, and clearing it shows everything.
    await page.getByRole('button', { name: /^Prio/ }).click();
    await pager.filter({ hasText: '1–1 of 1' }).waitFor();
    await page.getByLabel('Search tasks').fill('');
    await pager.filter({ hasText: 'of 3' }).waitFor();
  });

  it('takes a deleted repo’s tasks off the page and out of the counts; its task says it is gone', async () => {
    await server.admin.upsertRepo({ repo: 'owner/old', max_open_prs: 1 });
    const old = await server.admin.createTask({ repo: 'owner/old', title: 'Retired work' });
    await server.admin.cancelTask(old.task_id);
    await page.getByLabel('Filter by status').selectOption({ label: 'All statuses' });
    const row = page.locator(`tr[data-task-id="${old.task_id}"]`);
    const cancelledTile = page.locator('.value[data-status="cancelled"]');
    await row.filter({ hasText: 'Cancelled' }).waitFor({ timeout: 2000 });
    const cancelledBefore = Number(await cancelledTile.textContent());

    await row.getByRole('button', { name: 'Retired work' }).click();
    const detail = page.getByRole('dialog');
    await detail.getByTestId('detail-status').filter({ hasText: 'Cancelled' }).waitFor();
    await server.admin.deleteRepo('owner/old');
    await row.waitFor({ state: 'detached', timeout: 2000 });
    await detail
      .getByRole('alert')
      .filter({ hasText: `No task with id ${old.task_id}` })
      .waitFor({ timeout: 2000 });
    await cancelledTile
      .filter({ hasText: new RegExp(`^${cancelledBefore - 1}$`) })
      .waitFor({ timeout: 2000 });
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });

    // Opened again from the feed, its history (still kept) answering after the refusal must not
    // hide the refusal.
    const history = `${server.base}/v1/events/history?*`;
    await page.route(history, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await route.continue();
    });
    await page
      .getByTestId('event-feed')
      .getByRole('button', { name: '“Retired work” created in owner/old' })
      .click();
    await detail
      .getByTestId('task-history')
      .filter({ hasText: /created/i })
      .waitFor();
    const alerts = await detail.getByRole('alert').allTextContents();
    expect(alerts.join(' ')).toContain(`No task with id ${old.task_id}`);
    await page.unroute(history);
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });
  });

  it('makes one task when Create is pressed again after its answer was lost', async () => {
    await server.admin.upsertRepo({ repo: 'owner/retry', max_open_prs: 1 });
    await page.reload();
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor({ timeout: 5000 });
    // The server makes the task; the answer never reaches the page (a connection reset).
    const keys: (string | undefined)[] = [];
    await page.route('**/v1/admin/tasks', async (route) => {
      keys.push(route.request().headers()['idempotency-key']);
      await route.fetch();
      await route.abort('connectionreset');
    });
    await page.getByRole('button', { name: 'New task' }).click();
    const form = page.getByRole('dialog');
    await form.getByLabel('Repo').selectOption('owner/retry');
    await form.getByLabel('Title').fill('Pressed twice');
    await form.getByRole('button', { name: 'Create task' }).click();
    await form.getByRole('alert').waitFor();
    expect((await server.admin.listTasks({ repo: 'owner/retry' })).tasks).toHaveLength(1);

    await page.unroute('**/v1/admin/tasks');
    await form.getByRole('button', { name: 'Create task' }).click();
    await page.getByRole('dialog', { name: 'Pressed twice' }).waitFor();
    // Was: a second "Pressed twice".
    const { tasks } = await server.admin.listTasks({ repo: 'owner/retry' });
    expect(tasks.map((t) => t.title)).toEqual(['Pressed twice']);
    expect(keys[0]).toMatch(/^dashboard-/);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
  });

  it('downloads a backup of the database from the top bar', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Backup', exact: true }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^owp-\d{4}-\d\d-\d\dT\d{6}Z\.db$/);
    const saved = join(dir, 'downloaded.db');
    await download.saveAs(saved);
    const copy = new Database(saved, { readonly: true });
    const titles = copy.prepare('SELECT title FROM tasks').pluck().all();
    copy.close();
    expect(titles).toContain('Pressed twice');
    await page
      .getByTestId('backup-note')
      .filter({ hasText: `Backup downloaded: ${download.suggestedFilename()}` })
      .waitFor();
  });

  /** The `.table-wrap`s on show that scroll sideways: their table is wider than their box. */
  const tablesWiderThanTheirBox = () =>
    page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('.table-wrap')]
        .filter((wrap) => wrap.offsetParent !== null && wrap.scrollWidth > wrap.clientWidth + 1)
        .map((wrap) => `${wrap.scrollWidth} > ${wrap.clientWidth}`),
    );

  it('wraps a long unbroken task title inside the tasks table at 1280 px', async () => {
    // Last but one: a task more in the table would change the counts the tests above expect.
    await server.admin.upsertRepo({ repo: 'owner/long', max_open_prs: 1 });
    const title = `Rename${'_the_legacy_billing_export_module'.repeat(4)}`;
    expect(title).toHaveLength(138);
    const task = await server.admin.createTask({ repo: 'owner/long', title });
    await page.getByLabel('Search tasks').fill('');
    await page.locator(`tr[data-task-id="${task.task_id}"]`).waitFor({ timeout: 2000 });
    // Was: the title cell took its whole width and pushed every other column off the side.
    expect(await tablesWiderThanTheirBox(), 'tasks table at 1280 px').toEqual([]);
  });

  it('keeps each actor badge in the audit log whole at 400 px', async () => {
    const audit = page.getByRole('tabpanel', { name: 'Audit log' });
    /** The badges whose name takes more than one line. */
    const brokenBadges = () =>
      audit.evaluate((root) =>
        [...root.querySelectorAll<HTMLElement>('.actor')]
          .filter((badge) => {
            const range = document.createRange();
            range.selectNodeContents(badge);
            return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
          })
          .map((badge) => badge.textContent),
      );
    // Was: "Adm|in", "Alic|e": the phone layout let every cell break anywhere, badges too, and
    // the long title above took the room.
    const alice = await server.admin.registerWorker({ name: 'Alice' });
    await page.setViewportSize({ width: 400, height: 900 });
    await page.getByRole('tab', { name: 'Audit log' }).click();
    await audit
      .locator(`td[data-actor="${alice.worker_id}"] .actor`, { hasText: 'Alice' })
      .first()
      .waitFor();
    await audit.locator('td[data-actor="admin"]').first().waitFor();
    expect(await brokenBadges(), 'short actor names on more than one line').toEqual([]);

    // A long name is cut short rather than widening the table, and said whole on hover.
    const longName = 'build-agent-for-the-nightly-integration-fleet-7';
    const fleet = await server.admin.registerWorker({ name: longName });
    // Shown by its id until the worker's name reaches the page.
    const fleetBadge = audit
      .locator(`td[data-actor="${fleet.worker_id}"] .actor`, { hasText: longName })
      .first();
    await fleetBadge.waitFor();
    expect(await brokenBadges(), 'actor names on more than one line').toEqual([]);
    expect(await tablesWiderThanTheirBox(), 'audit table at 400 px').toEqual([]);
    await expect(fleetBadge.getAttribute('title')).resolves.toBe(longName);
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
