import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owp-dashboard-access-'));
  server = await startTestServer({ dbPath: dbPathIn(dir) });
  await server.admin.upsertRepo({ repo: 'owner/app', max_open_prs: 1 });
  await server.admin.createTask({ repo: 'owner/app', title: 'Document the viewer token' });
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

describe('viewer token: a read-only dashboard', () => {
  it('shows the pool live, offers no admin action, and the server refuses one', async () => {
    const page = await browser.newPage();
    await signIn(page, 'Viewer', VIEWER_TOKEN);
    await page.getByText('Viewer · read-only').waitFor();
    await page.getByRole('button', { name: 'Document the viewer token', exact: true }).waitFor();
    for (const name of ['New task', 'Import YAML', 'Add repo', 'Edit repo owner/app', 'Backup']) {
      await expect(page.getByRole('button', { name }).count()).resolves.toBe(0);
    }
    // Live: a task created by the admin shows for the viewer too.
    const created = await server.admin.createTask({ repo: 'owner/app', title: 'Seen by a viewer' });
    await page.locator(`tr[data-task-id="${created.task_id}"]`).waitFor({ timeout: 1000 });
    await page.getByRole('button', { name: 'Seen by a viewer', exact: true }).click();
    await page
      .getByTestId('task-history')
      .filter({ hasText: /created in owner\/app/i })
      .waitFor();
    await expect(
      page.getByRole('dialog').getByRole('button', { name: 'Requeue' }).count(),
    ).resolves.toBe(0);

    // The token is read-only on the server as well: a write with it is refused.
    const refused = await page.evaluate(async (token) => {
      const res = await fetch('/v1/admin/repos', {
        method: 'POST',
        headers: { 'x-viewer-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ repo: 'owner/app', max_open_prs: 9 }),
      });
      return { status: res.status, body: await res.json() };
    }, VIEWER_TOKEN);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    await page.close();
  });

  it('refuses a wrong viewer token at sign-in, in words', async () => {
    const page = await browser.newPage();
    await page.goto(server.base);
    await page.getByRole('radio', { name: /Viewer/ }).check();
    await page.getByLabel('Viewer token').fill('wrong-viewer-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('unauthorized');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });

  it('says a refused admin token may be a viewer token', async () => {
    const page = await browser.newPage();
    await page.goto(server.base);
    await page.getByLabel('Admin token').fill(VIEWER_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'If it is a viewer token, choose Viewer.',
    );
    await page.close();
  });
});

describe('keyboard and labels', () => {
  it('signs in and opens a task with the keyboard alone', async () => {
    const page = await browser.newPage();
    await page.goto(server.base);
    // The token field has the focus from the start: paste, Enter.
    await expect(page.evaluate(() => document.activeElement?.getAttribute('name'))).resolves.toBe(
      'token',
    );
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByTestId('stream-status').filter({ hasText: 'Live' }).waitFor({ timeout: 5000 });

    const title = page.getByRole('button', { name: 'Document the viewer token', exact: true });
    for (let i = 0; i < 60 && !(await title.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    await expect(title.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('task-history').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.close();
  });

  it('gives every control a name', async () => {
    const page = await browser.newPage();
    await signIn(page, 'Admin', ADMIN_TOKEN);
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('dialog').getByLabel('Title').waitFor();
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea, button')]
        .filter((el) => {
          const control = el as HTMLInputElement;
          const labelled =
            (control.labels?.length ?? 0) > 0 ||
            el.getAttribute('aria-label') ||
            el.getAttribute('aria-labelledby') ||
            (el.tagName === 'BUTTON' && el.textContent?.trim());
          return !labelled;
        })
        .map((el) => el.outerHTML.slice(0, 120)),
    );
    expect(unnamed).toEqual([]);
    await page.close();
  });
});
