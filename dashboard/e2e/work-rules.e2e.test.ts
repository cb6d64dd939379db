import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpOwpApi } from '../../protocol/index.ts';
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
let page: Page;
/** One worker, kept online by the steps that need it. */
let ada: { id: string; api: HttpOwpApi };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owp-dashboard-work-rules-'));
  server = await startTestServer({ dbPath: dbPathIn(dir) });
  const registered = await new HttpOwpApi({ baseUrl: server.base }).registerWorker({
    name: 'ada',
  });
  ada = {
    id: registered.worker_id,
    api: new HttpOwpApi({ baseUrl: server.base, workerToken: registered.token }),
  };
  await ada.api.heartbeat({ status: 'idle' });
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

const rowOf = (taskId: string) => page.locator(`tr[data-task-id="${taskId}"]`);
const workerRow = (p: Page) => p.locator(`li[data-worker-id="${ada.id}"]`);

describe('OWP v1 work rules in the dashboard', () => {
  // One story: each step uses the repo, tasks and worker the steps before left.
  let schemaId: string;

  it('adds a repo with offer assignment, trust rules and a contract from the dialog', async () => {
    await page.getByRole('button', { name: 'Add repo' }).click();
    const form = page.getByRole('dialog');
    await form.getByLabel('Repo key').fill('acme/web');
    await form.getByLabel('Max attempts', { exact: true }).fill('2');
    await form.getByLabel('Offer: a worker accepts or rejects it first').check();
    await form.getByLabel('Offer TTL (seconds to answer)').fill('600');
    for (const [tier, value] of [
      ['Untrusted', '2'],
      ['Basic', '1'],
      ['Trusted', '2'],
      ['Maintainer', '3'],
    ]) {
      await form.getByLabel(tier!, { exact: true }).fill(value!);
    }
    await form.getByLabel('Setup', { exact: true }).fill('npm ci');
    await form.getByLabel('Test', { exact: true }).fill('npm test');
    await form.getByLabel('PR template', { exact: true }).fill('## Why\n\n## How\n');

    // A more trusted tier taking less is refused in the form, in words.
    await form.getByRole('button', { name: 'Add repo' }).click();
    await expect(form.locator('#repo-trust-error').textContent()).resolves.toBe(
      'basic (1) may not take less than untrusted (2): a more trusted tier takes at least what a less trusted one takes',
    );
    await form.getByLabel('Untrusted', { exact: true }).fill('-1');
    await form.getByRole('button', { name: 'Add repo' }).click();
    await form.waitFor({ state: 'hidden' });

    expect(await server.admin.getRepo('acme/web')).toMatchObject({
      max_attempts: 2,
      assignment: 'offer',
      offer_ttl_seconds: 600,
      trust_rules: { untrusted: -1, basic: 1, trusted: 2, maintainer: 3 },
      contract: { setup: 'npm ci', test: 'npm test', pr_template: '## Why\n\n## How\n' },
    });
    const repoRow = page.locator('li[data-repo="acme/web"]');
    await expect(repoRow.getByTestId('repo-policy').textContent()).resolves.toMatch(
      /offers · 10 min to answer\s*·\s*2 attempts/,
    );
    await expect(repoRow.getByTestId('contract-indicator').getAttribute('title')).resolves.toBe(
      'Contract sent with every lease and offer: setup, test, PR template',
    );
  });

  it('creates a task that depends on another, refusing an unknown id in words', async () => {
    const schema = await server.admin.createTask({ repo: 'acme/web', title: 'Schema' });
    schemaId = schema.task_id;
    // Offer assignment: the task waits for ada's answer.
    expect(schema.status).toBe('offered');
    await expect(rowOf(schemaId).locator('.badge').textContent()).resolves.toBe('Offered');

    await page.getByRole('button', { name: 'New task' }).click();
    const form = page.getByRole('dialog');
    // A select's label reads with its chosen option: `Repo acme/web`.
    await form.getByRole('combobox', { name: /^Repo/ }).selectOption('acme/web');
    await form.getByLabel('Title').fill('API on the schema');
    await form.getByLabel('Max attempts', { exact: true }).fill('2');
    await form.getByLabel('Task ids (comma-separated)').fill('t_nope');
    await form.getByRole('button', { name: 'Create task' }).click();
    await expect(form.locator('#task-depends_on-error').textContent()).resolves.toBe(
      'No task with id t_nope; a task can depend only on existing tasks.',
    );
    // Said once, next to its field: not again for the whole form.
    await expect(form.getByText(/No task with id t_nope/).count()).resolves.toBe(1);

    await form.getByRole('button', { name: 'Remove dependency t_nope' }).click();
    await form.getByLabel('Pick an open task').selectOption(schemaId);
    await expect(form.getByLabel('Task ids (comma-separated)').inputValue()).resolves.toBe(
      schemaId,
    );
    await form.getByRole('button', { name: 'Create task' }).click();

    const detail = page.getByRole('dialog', { name: 'API on the schema' });
    await expect(detail.getByTestId('depends-on').textContent()).resolves.toMatch(
      new RegExp(`Offered\\s*Schema\\s*${schemaId}\\s*not merged yet`),
    );
    const [api] = (await server.admin.listTasks({ repo: 'acme/web' })).tasks.filter(
      (t) => t.title === 'API on the schema',
    );
    expect(api).toMatchObject({
      status: 'ready',
      depends_on: [schemaId],
      dependencies_pending: 1,
      max_attempts: 2,
    });
    // The panel says why the task is not handed out: the server's explanation, in words.
    await expect(detail.getByTestId('task-explanation').textContent()).resolves.toBe(
      `Waits for 1 task to be merged: ${schemaId} "Schema" (offered).`,
    );
    const marker = rowOf(api!.task_id).getByTestId('waiting-marker');
    await expect(marker.textContent()).resolves.toBe('waiting on 1');
    await expect(marker.getAttribute('title')).resolves.toBe(
      'Starts once merged: “Schema” (offered)',
    );

    // From a dependency to what it blocks, and back.
    await detail.getByRole('button', { name: 'Schema', exact: true }).click();
    const schemaDetail = page.getByRole('dialog', { name: 'Schema' });
    await expect(schemaDetail.getByTestId('blocks').textContent()).resolves.toContain(
      'API on the schema',
    );
    await schemaDetail.getByRole('button', { name: 'API on the schema', exact: true }).click();
    await detail.getByTestId('depends-on').waitFor();
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });
  });

  it("changes a worker's trust tier with a reason, and shows its reputation", async () => {
    await ada.api.heartbeat({ status: 'idle' });
    const row = workerRow(page);
    await expect(row.getByTestId('trust-tier').textContent()).resolves.toBe('Basic');
    await row.getByRole('button', { name: 'Change trust tier of ada' }).click();
    const form = row.getByRole('form', { name: 'Trust tier of ada' });
    await form.getByLabel('Trust tier').selectOption('trusted');
    await form.getByRole('button', { name: 'Save tier' }).click();
    await expect(form.locator('.error-text').textContent()).resolves.toBe(
      'give a reason: the audit log keeps it with the change',
    );
    await form.getByLabel('Reason (kept in the audit log)').fill('Two years of merged PRs');
    await form.getByRole('button', { name: 'Save tier' }).click();
    await form.waitFor({ state: 'hidden' });
    await row.getByTestId('trust-tier').filter({ hasText: 'Trusted' }).waitFor();

    expect((await server.admin.listWorkers()).find((w) => w.worker_id === ada.id)).toMatchObject({
      trust_tier: 'trusted',
    });
    const changed = server.engine.events({}).find((e) => e.type === 'worker.trust_changed');
    expect(changed).toMatchObject({
      worker_id: ada.id,
      data: { from: 'basic', to: 'trusted', reason: 'Two years of merged PRs' },
    });

    await row.getByRole('button', { name: 'reputation 0.50' }).click();
    const details = row.getByTestId('reputation-details');
    await details.locator('dl').waitFor();
    await expect(details.locator('dl').textContent()).resolves.toBe(
      'Completion 50% no history yet, counted as 50%' +
        'On time 50% no history yet, counted as 50%' +
        'Offer acceptance 50% no history yet, counted as 50%',
    );
  });

  it('marks a task out of attempts as failed, and the admin requeues it', async () => {
    await server.admin.upsertRepo({ repo: 'acme/ops', max_attempts: 1 });
    await ada.api.heartbeat({ status: 'idle' });
    const flaky = await server.admin.createTask({ repo: 'acme/ops', title: 'Flaky deploy' });
    expect(flaky).toMatchObject({ status: 'leased', assignee: ada.id });
    await ada.api.releaseLease(flaky.lease!.lease_id, 'cannot reproduce');

    const row = page.locator(`tr.failed[data-task-id="${flaky.task_id}"]`);
    await expect(row.locator('.badge').textContent()).resolves.toBe('Failed');
    // Out of the queue chart, and said beside it, so the counts add up with the table's "open".
    await page
      .getByTestId('queue-summary')
      .filter({ hasText: '(and 1 failed, waiting for an admin)' })
      .waitFor({ timeout: 2000 });
    await row.getByRole('button', { name: 'Flaky deploy' }).click();
    const detail = page.getByRole('dialog', { name: 'Flaky deploy' });
    // The reason the worker gave is kept on the line that failed the task.
    await detail
      .getByTestId('task-history')
      .filter({ hasText: 'released by ada — cannot reproduce); waiting for an admin' })
      .waitFor({ timeout: 2000 });
    await expect(detail.getByTestId('failed-notice').textContent()).resolves.toBe(
      'Out of attempts (1 of 1 used): nothing will lease it again until an admin requeues it, ' +
        'which starts the count over, or cancels it.',
    );

    // With ada paused, the requeued task stays in the queue instead of going straight back to her.
    await server.admin.pauseWorker(ada.id);
    await detail.getByRole('button', { name: 'Requeue' }).click();
    await detail.getByTestId('detail-status').filter({ hasText: 'Ready' }).waitFor();
    await expect(detail.getByTestId('failed-notice').count()).resolves.toBe(0);
    // The count starts over.
    expect(await server.admin.getTask(flaky.task_id)).toMatchObject({
      status: 'ready',
      attempts: 0,
    });
    const moves = server.engine
      .events({ task_id: flaky.task_id })
      .flatMap((e) => (e.type === 'task.status_changed' ? [`${e.data.from}>${e.data.to}`] : []));
    expect(moves).toEqual(['ready>leased', 'leased>failed', 'failed>ready']);
    await page.keyboard.press('Escape');
    await server.admin.resumeWorker(ada.id);
  });

  it('shows a viewer the trust tiers and reputations, with no admin action', async () => {
    const viewer = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await viewer.goto(server.base);
    await viewer.getByRole('radio', { name: /Viewer/ }).check();
    await viewer.getByLabel('Viewer token').fill(VIEWER_TOKEN);
    await viewer.getByLabel('Viewer token').press('Enter');
    await viewer.getByText('Viewer · read-only').waitFor();
    const row = workerRow(viewer);
    await expect(row.getByTestId('trust-tier').textContent()).resolves.toBe('Trusted');
    await expect(
      row.getByRole('button', { name: 'Change trust tier of ada' }).count(),
    ).resolves.toBe(0);
    await expect(row.getByRole('button', { name: 'New token for ada' }).count()).resolves.toBe(0);

    await row.getByRole('button', { name: /^reputation/ }).click();
    await expect(
      row.getByTestId('reputation-details').locator('dl').textContent(),
    ).resolves.toContain('Completion');
    await viewer.close();
  });

  it('gives a worker a new token, asked first and shown once; the old one is refused', async () => {
    const row = workerRow(page);
    await row.getByRole('button', { name: 'New token for ada' }).click();
    const form = row.getByRole('group', { name: 'New token for ada' });
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'hidden' });
    expect(server.engine.events({}).some((e) => e.type === 'worker.token_replaced')).toBe(false);

    await row.getByRole('button', { name: 'New token for ada' }).click();
    await expect(form.textContent()).resolves.toContain('The one it uses now is refused at once');
    await form.getByRole('button', { name: 'Give a new token' }).click();
    const field = form.getByLabel('New token for ada, shown this once');
    await field.waitFor();
    const token = await field.inputValue();
    expect(token).toMatch(/^owpw_/);

    await expect(ada.api.heartbeat({ status: 'idle' })).rejects.toMatchObject({
      code: 'unauthorized',
    });
    const renewed = new HttpOwpApi({ baseUrl: server.base, workerToken: token });
    await expect(renewed.heartbeat({ status: 'idle' })).resolves.toMatchObject({ ok: true });
    ada = { id: ada.id, api: renewed };
    await form.getByRole('button', { name: 'Done' }).click();
    await form.waitFor({ state: 'hidden' });
    // The feed says it happened; the token itself is in no event.
    await page.getByText('ada got a new token; the old one is refused').first().waitFor();
    expect(JSON.stringify(server.engine.events({}))).not.toContain(token);
  });
});
