// @vitest-environment happy-dom
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { HttpOwpApi } from '../../protocol/index.ts';
import OwpPoolPlugin from '../main.ts';
import { Notice, type App } from '../testing/obsidian-fake/index.ts';
import {
  commitInto,
  eventually,
  startPlugin,
  stopPlugin,
  withText,
  type StartedPlugin,
} from './testing/plugin-harness.ts';
import { servePool, type PoolServer } from './testing/pool-server.ts';

vi.mock('./sql-wasm.ts', () => ({ sqlWasmBinary: undefined }));

const ADMIN_TOKEN = 'remote-mode-admin-token-0123456789abcdef';
let server: PoolServer;
let base: string;
let admin: HttpOwpApi;
const streamRequests: (string | undefined)[] = [];
let started: StartedPlugin | null = null;

beforeAll(async () => {
  server = await servePool(ADMIN_TOKEN, (app) =>
    app.addHook('onRequest', async (request) => {
      if (request.url.split('?')[0] === '/v1/events') {
        const id = request.headers['last-event-id'];
        streamRequests.push(typeof id === 'string' ? id : undefined);
      }
    }),
  );
  ({ base, admin } = server);
  await admin.upsertRepo({ repo: 'acme/app' });
});

afterEach(async () => {
  if (started) {
    await stopPlugin(started);
    started.app.destroy();
    started = null;
  }
});

afterAll(async () => {
  await server.close();
});

/** The plugin in remote mode as admin; `vaultPath` opens a vault again, with its data file. */
async function startRemote(vaultPath?: string): Promise<StartedPlugin> {
  started = await startPlugin(OwpPoolPlugin, {
    ...(vaultPath
      ? { vaultPath }
      : {
          data: {
            settings: {
              mode: 'remote',
              serverUrl: base,
              role: 'admin',
              secretPrefix: 'owp-pool-test',
            },
          },
        }),
    beforeLoad: (app: App) =>
      app.secretStorage!.setSecret('owp-pool-test-admin-token', ADMIN_TOKEN),
  });
  return started;
}

async function property(app: App, path: string, key: string): Promise<unknown> {
  await app.metadataCache.settled();
  return app.metadataCache.getCache(path)?.frontmatter?.[key];
}

it('remote mode: a worker driven elsewhere shows up in the notes and on the board within a second', async () => {
  const task = await admin.createTask({
    repo: 'acme/app',
    title: 'Tidy the release notes',
    required_skills: ['docs'],
  });
  const { app, plugin } = await startRemote();
  const path = 'Tasks/Tidy the release notes.md';
  await eventually(async () => expect(await property(app, path, 'owp_id')).toBe(task.task_id));
  await plugin.openView('board');
  await eventually(() => expect(plugin.controller.running!.store.snapshot.connection).toBe('live'));

  // A worker elsewhere (the CLI does the same calls) registers and asks for work.
  const registered = await admin.registerWorker({ name: 'Robin', skills: ['docs'] });
  const robin = new HttpOwpApi({ baseUrl: base, workerToken: registered.token });
  await robin.heartbeat({ status: 'idle' });
  const granted = performance.now();

  await eventually(async () => {
    expect(await property(app, path, 'status')).toBe('leased');
    expect(await property(app, path, 'assignee')).toBe('Robin');
  }, 1000);
  await eventually(() => {
    const leased = app.workspace.containerEl.querySelector(
      `.owp-column[data-status="leased"] [data-task-id="${task.task_id}"]`,
    );
    expect(leased).not.toBeNull();
  }, 1000);
  console.log(
    `[figures] remote mode: a worker's lease reached the note and the board in ${(performance.now() - granted).toFixed(0)} ms`,
  );
});

it('reconnects the event stream with Last-Event-ID when the app becomes visible or the network returns', async () => {
  const { plugin } = await startRemote();
  await eventually(() => expect(plugin.controller.running!.store.snapshot.connection).toBe('live'));
  const before = streamRequests.length;
  await admin.createTask({ repo: 'acme/app', title: 'Seen before the app slept' });
  const seq = (await admin.state()).last_event_seq;
  await eventually(() => expect(plugin.controller.running!.store.snapshot.lastSeq).toBe(seq));

  document.dispatchEvent(new Event('visibilitychange'));
  await eventually(() => expect(streamRequests.length).toBeGreaterThan(before));
  expect(streamRequests.slice(before)).toContain(String(seq));

  // The same when the network comes back.
  const afterVisible = streamRequests.length;
  window.dispatchEvent(new Event('online'));
  await eventually(() => expect(streamRequests.length).toBeGreaterThan(afterVisible));
  expect(streamRequests.slice(afterVisible)).toContain(String(seq));
});

it('keeps showing the last known data, marked offline, when the server goes away', async () => {
  const lonely = await servePool(ADMIN_TOKEN);
  const { base: url, admin: api } = lonely;
  await api.upsertRepo({ repo: 'acme/app' });
  await api.createTask({ repo: 'acme/app', title: 'Still on the board' });
  started = await startPlugin(OwpPoolPlugin, {
    data: {
      settings: { mode: 'remote', serverUrl: url, role: 'admin', secretPrefix: 'owp-pool-test' },
    },
    beforeLoad: (app: App) =>
      app.secretStorage!.setSecret('owp-pool-test-admin-token', ADMIN_TOKEN),
  });
  const { app, plugin } = started;
  await plugin.openView('board');
  await eventually(() => expect(plugin.controller.running!.store.snapshot.connection).toBe('live'));

  vi.spyOn(console, 'error').mockImplementation(() => undefined); // the refused reconnects
  await lonely.close();

  const board = () => app.workspace.containerEl.querySelector('[data-testid="owp-board"]')!;
  await eventually(() => expect(board().textContent).toContain('Offline.'));
  expect(board().textContent).toContain('Still on the board');
  expect(app.statusBarEl.textContent).toMatch(/^Offline · /);
});

it('takes a server URL only with its scheme, and without a /v1 of its own', async () => {
  const { app, plugin } = await startRemote();
  // Opening the settings in remote mode froze the app (see settings-tab.ts, tokenSetting); the
  // fake fails such a promise (an unhandled rejection fails the run) rather than looping.
  const el = app.setting.openTab(app.setting.pluginTabs[0]!);
  const input = withText<HTMLElement>(el, '.setting-item', 'Server URL')[0]!.querySelector(
    'input',
  )!;
  // Without its scheme, the address was resolved against Obsidian's own page.
  commitInto(input, base.replace('http://', ''));
  expect(Notice.messages.at(-1)).toBe(
    `Start the server URL with http:// or https://, as in ${base}.`,
  );
  expect(input.value).toBe(base);
  // A /v1 of its own doubled every path (/v1/v1/…: 404).
  commitInto(input, `${base}/v1/`);
  expect(input.value).toBe(base);
  expect(plugin.settings.settings.serverUrl).toBe(base);
  app.setting.close();
});

it('remote mode: does not write again a task note deleted while Obsidian was closed', async () => {
  const task = await admin.createTask({ repo: 'acme/app', title: 'Dropped while closed' });
  const other = await admin.createTask({ repo: 'acme/app', title: 'Kept while closed' });
  const first = await startRemote();
  const path = 'Tasks/Dropped while closed.md';
  await eventually(async () =>
    expect(await property(first.app, path, 'owp_id')).toBe(task.task_id),
  );
  await stopPlugin(first);
  started = null;
  const vaultPath = first.app.vault.basePath;

  rmSync(join(vaultPath, path));
  const again = await startRemote(vaultPath);
  again.app.markTemporary();
  await again.plugin.controller.running!.sync!.flush();
  expect(existsSync(join(vaultPath, path))).toBe(false);
  // The pool's other tasks still have their notes; this one stays open, without one.
  expect(again.plugin.controller.running!.sync!.pathOf(other.task_id)).toBe(
    'Tasks/Kept while closed.md',
  );
  expect((await admin.getTask(task.task_id)).status).toBe('ready');
});
