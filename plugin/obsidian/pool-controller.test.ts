// @vitest-environment happy-dom
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpOwpApi } from '../../protocol/index.ts';
import OwpPoolPlugin from '../main.ts';
import { localWorkerId, workerTokenSlot } from './settings.ts';
import { Notice, type App } from '../testing/obsidian-fake/index.ts';
import {
  eventually,
  startPlugin,
  stopPlugin,
  withText,
  type StartedPlugin,
} from './testing/plugin-harness.ts';
import { servePool, type PoolServer } from './testing/pool-server.ts';

vi.mock('./sql-wasm.ts', () => ({ sqlWasmBinary: undefined }));

const ADMIN_TOKEN = 'pool-controller-admin-token-0123456789';
let server: PoolServer;
let base: string;
let admin: HttpOwpApi;
/** Every request the server refused for its credentials: each one a failed sign-in it counts. */
const refused: string[] = [];
let started: StartedPlugin | null = null;

beforeAll(async () => {
  server = await servePool(ADMIN_TOKEN, (app) =>
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode === 401) refused.push(`${request.method} ${request.url.split('?')[0]}`);
    }),
  );
  ({ base, admin } = server);
  await admin.upsertRepo({ repo: 'acme/app' });
});

beforeEach(() => {
  Notice.clear();
  refused.length = 0;
  // The page logs each refused request; here they are the point, and counted above.
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
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

/** The plugin in remote mode with the role given and no token yet (`adminToken` adds one). */
async function startRemote(role: 'worker' | 'admin', adminToken?: string) {
  started = await startPlugin(OwpPoolPlugin, {
    data: { settings: { mode: 'remote', serverUrl: base, role, secretPrefix: 'owp-pool-test' } },
    beforeLoad: (app: App) => {
      if (adminToken) app.secretStorage!.setSecret('owp-pool-test-admin-token', adminToken);
    },
  });
  return started;
}

function banner(app: App): string {
  return (
    app.workspace.containerEl.querySelector('[data-testid="connection-banner"]')?.textContent ?? ''
  );
}

describe('PoolController, when the pool refuses the credentials', () => {
  // Was: "Can't reach the pool. Send the worker token as Authorization: Bearer <token>." and
  // GET /v1/work, refused, every 5 s — three such vaults behind one address locked it out.
  it('asks a worker’s vault not registered yet once, says to register, and works once it has', async () => {
    const { app, plugin } = await startRemote('worker');
    await plugin.openView('myWork');
    await eventually(() => expect(banner(app)).toContain('Register this vault’s worker first.'));
    expect(banner(app)).not.toContain('Can’t reach');
    expect(refused).toEqual(['GET /v1/work']);

    // Coming back to the app asks once more; nothing else does.
    document.dispatchEvent(new Event('visibilitychange'));
    await eventually(() => expect(refused).toHaveLength(2));

    const myWork = app.workspace.containerEl.querySelector('[data-testid="owp-my-work"]')!;
    withText<HTMLElement>(myWork, 'button', 'Register as worker')[0]!.click();
    await eventually(() => expect(plugin.controller.running!.store.snapshot.phase).toBe('ready'));
    expect(banner(app)).toBe('');
    expect(refused).toHaveLength(2);
  });

  it('says the pool refuses a wrong admin token, and asks no more until it is changed', async () => {
    const { app, plugin } = await startRemote('admin', 'not-the-admin-token-0123456789');
    await plugin.openView('board');
    await eventually(() => expect(banner(app)).toContain('The pool refuses this vault’s token.'));
    expect(banner(app)).toContain(
      'The admin token is wrong. Enter the current admin token in the settings.',
    );
    // The views' load and the note sync asked once each; past the store's 5 s retry, neither
    // has asked again.
    const asked = refused.length;
    await new Promise((resolve) => setTimeout(resolve, 5500));
    expect(refused).toHaveLength(asked);

    await plugin.settings.setToken('admin', ADMIN_TOKEN);
    await plugin.controller.restart(true);
    await eventually(() => expect(plugin.controller.running!.store.snapshot.phase).toBe('ready'));
    expect(banner(app)).toBe('');
    expect(refused).toHaveLength(asked);
  }, 15_000);
});

/** A worker token pasted in the settings field, and the session that starts with it. */
async function pasteWorkerToken(plugin: StartedPlugin['plugin'], token: string) {
  await plugin.settings.setToken('worker', token, workerTokenSlot(plugin.settings.settings));
  await plugin.controller.restart(true);
}

describe('PoolController, with a worker token pasted in the settings', () => {
  // Was: the token was read only for a worker this vault had registered itself, so one pasted
  // for a worker registered elsewhere (as the setting invites) was never used.
  it('acts as the worker the token belongs to, and a refused one is said to be', async () => {
    const other = await new HttpOwpApi({ baseUrl: base }).registerWorker({ name: 'Elsewhere' });
    const { app, plugin } = await startRemote('worker');
    await pasteWorkerToken(plugin, other.token);
    expect(localWorkerId(plugin.settings.settings)).toBe(other.worker_id);
    await eventually(() => expect(plugin.controller.running!.store.snapshot.phase).toBe('ready'));
    expect(plugin.controller.running!.store.snapshot.me).toBe(other.worker_id);
    await plugin.openView('myWork');
    expect(banner(app)).toBe('');

    // Another worker's token in its place: the vault follows it, the record too.
    const third = await new HttpOwpApi({ baseUrl: base }).registerWorker({ name: 'Third' });
    await pasteWorkerToken(plugin, third.token);
    expect(localWorkerId(plugin.settings.settings)).toBe(third.worker_id);

    await pasteWorkerToken(plugin, 'owpw_not-a-token-of-this-pool-0123456789');
    expect(
      Notice.messages.some((m) => m.includes('refuses the worker token in the settings')),
    ).toBe(true);
  });
});

describe('PoolController, giving a worker a new token', () => {
  it('asks first, shows the token once, and the old one is refused from then on', async () => {
    const bob = await new HttpOwpApi({ baseUrl: base }).registerWorker({ name: 'Bob' });
    const asBob = new HttpOwpApi({ baseUrl: base, workerToken: bob.token });
    await asBob.heartbeat();
    const { plugin } = await startRemote('admin', ADMIN_TOKEN);
    await plugin.openView('workers');
    const row = () =>
      document.querySelector<HTMLElement>(`[data-worker-id="${bob.worker_id}"]`) ?? undefined;
    await eventually(() => expect(row()).toBeDefined());

    withText<HTMLElement>(row()!, 'button', 'New token')[0]!.click();
    const modal = () => document.querySelector<HTMLElement>('.modal-container');
    expect(modal()!.textContent).toContain('New token for Bob');
    expect(modal()!.textContent).toContain('The token Bob uses now is refused at once.');
    withText<HTMLElement>(modal()!, 'button', 'Cancel')[0]!.click();
    expect(modal()).toBeNull();
    await asBob.heartbeat();

    withText<HTMLElement>(row()!, 'button', 'New token')[0]!.click();
    withText<HTMLElement>(modal()!, 'button', 'Give a new token')[0]!.click();
    const field = () => modal()?.querySelector<HTMLInputElement>('input.owp-token-field');
    await eventually(() => expect(field()).toBeTruthy());
    const token = field()!.value;
    expect(field()!.readOnly).toBe(true);
    await expect(asBob.heartbeat()).rejects.toMatchObject({ code: 'unauthorized' });
    const renewed = new HttpOwpApi({ baseUrl: base, workerToken: token });
    await expect(renewed.heartbeat()).resolves.toMatchObject({ ok: true });
    withText<HTMLElement>(modal()!, 'button', 'Done')[0]!.click();
    expect(modal()).toBeNull();
  });
});
