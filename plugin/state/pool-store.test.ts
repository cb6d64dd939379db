import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fetchTransport,
  OwpError,
  type OwpApi,
  type StreamStatus,
  type Subscription,
} from '../../protocol/index.ts';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { ManualClock } from '../../scheduler/testing/manual-clock.ts';
import { buildApp } from '../../server/app.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import { EmbeddedBackend } from '../backend/embedded-backend.ts';
import type { PoolBackend } from '../backend/pool-backend.ts';
import { RemoteBackend } from '../backend/remote-backend.ts';
import { ManualTimers } from '../testing/manual-timers.ts';
import { MemoryBinaryStore } from '../testing/memory-binary-store.ts';
import type { PoolSnapshot } from './pool-snapshot.ts';
import { PoolStore, type PoolStoreOptions } from './pool-store.ts';

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/**
 * A backend passed through a window the test controls: it counts API calls, can make them fail
 * as a lost network does (or with the error given: a refusal, say), and can report a stream status.
 */
function observed(inner: PoolBackend) {
  const calls: string[] = [];
  let failing: boolean | Error = false;
  let reportStatus: ((status: StreamStatus) => void) | undefined;
  const backend: PoolBackend = {
    mode: inner.mode,
    get api() {
      return new Proxy(inner.api, {
        get(target, name, receiver) {
          const value: unknown = Reflect.get(target, name, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            calls.push(String(name));
            if (failing instanceof Error) return Promise.reject(failing);
            if (failing) return Promise.reject(new TypeError('Failed to fetch'));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }) as OwpApi;
    },
    start: () => inner.start(),
    stop: () => inner.stop(),
    subscribe(after, onEvent, onStatus): Subscription {
      reportStatus = onStatus;
      return inner.subscribe(after, onEvent, onStatus);
    },
  };
  return {
    backend,
    calls,
    count: (name: keyof OwpApi) => calls.filter((c) => c === name).length,
    setFailing: (value: boolean | Error) => (failing = value),
    reportStatus: (status: StreamStatus) => reportStatus?.(status),
  };
}

/** An embedded pool with a repo, as admin; the store over it runs its batches on a 0 ms timer. */
async function world(options: Partial<PoolStoreOptions> = {}) {
  const clock = new ManualClock();
  const embedded = new EmbeddedBackend({
    store: new MemoryBinaryStore(),
    credentials: { admin: true },
    clock,
    timers: new ManualTimers(),
  });
  await embedded.start();
  cleanup.push(() => embedded.stop());
  const admin = embedded.api;
  await admin.upsertRepo({ repo: 'demo', max_open_prs: 3 });
  const view = observed(embedded);
  const timers = new ManualTimers();
  const make = (extra: Partial<PoolStoreOptions> = {}) => {
    const store = new PoolStore({
      backend: view.backend,
      admin: true,
      scheduleBatch: (run) => setTimeout(run, 0),
      timers,
      ...options,
      ...extra,
    });
    cleanup.push(() => store.stop());
    return store;
  };
  const join = async (name: string, skills: string[] = []) => {
    const { worker_id, token } = await admin.registerWorker({ name, skills });
    return { id: worker_id, token, api: embedded.apiAs({ workerToken: token }) };
  };
  return { embedded, admin, clock, view, timers, make, join };
}

describe('PoolStore: loading', () => {
  it('loads every page of tasks, the workers, repos, counts and the recent events', async () => {
    const { admin, make, join } = await world();
    await join('Alice');
    for (let i = 0; i < 510; i++) await admin.createTask({ repo: 'demo', title: `Task ${i}` });
    const store = make();
    await store.start();

    const s = store.snapshot;
    expect(s.phase).toBe('ready');
    expect(s.tasks.size).toBe(510);
    expect([...s.workers.values()].map((w) => w.name)).toEqual(['Alice']);
    expect([...s.repos.keys()]).toEqual(['demo']);
    expect(s.state?.tasks_ready).toBe(510);
    expect(s.lastSeq).toBe(512); // the repo, the worker, 510 tasks
    expect(s.events).toHaveLength(200);
    expect(s.events.at(-1)!.seq).toBe(512);
  });

  it('is a Svelte store: subscribe runs at once and on every change, until unsubscribed', async () => {
    const { admin, make } = await world();
    const store = make();
    const seen: PoolSnapshot[] = [];
    const unsubscribe = store.subscribe((s) => seen.push(s));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.phase).toBe('idle');
    await store.start();
    expect(seen.at(-1)!.phase).toBe('ready');

    unsubscribe();
    const count = seen.length;
    await admin.createTask({ repo: 'demo', title: 'Unheard' });
    await store.whenIdle();
    expect(seen).toHaveLength(count);
    expect(store.snapshot.tasks.size).toBe(1);
  });

  it('retries a failed first load and then shows the pool', async () => {
    const { admin, view, timers, make } = await world();
    await admin.createTask({ repo: 'demo', title: 'Waiting' });
    const store = make({ retryMs: 1000 });
    view.setFailing(true);
    await store.start();
    expect(store.snapshot).toMatchObject({ phase: 'failed', connection: 'offline' });
    expect(store.snapshot.error).toMatch(/Failed to fetch/);

    view.setFailing(false);
    await timers.advance(1000);
    await store.whenIdle();
    expect(store.snapshot).toMatchObject({ phase: 'ready', connection: 'live', error: null });
    expect(store.snapshot.tasks.size).toBe(1);
  });
});

describe('PoolStore: credentials the pool refuses', () => {
  const refusal = () => new OwpError('unauthorized', 'The admin token is wrong.');

  // Was: a load every 5 s for ever, each a failed sign-in the server counts against the address
  // (30 a minute lock out every vault behind it), under "Can't reach the pool".
  it('asks once and waits: no retry until asked again, and it says the pool refused', async () => {
    const { admin, view, timers, make } = await world();
    await admin.createTask({ repo: 'demo', title: 'Waiting' });
    const store = make({ retryMs: 1000 });
    view.setFailing(refusal());
    await store.start();
    expect(store.snapshot).toMatchObject({
      phase: 'failed',
      connection: 'offline',
      refused: 'The admin token is wrong.',
    });
    expect(timers.pending).toBe(0);
    await timers.advance(60_000);
    expect(view.count('state')).toBe(1);

    view.setFailing(false);
    await store.retryRefused();
    expect(store.snapshot).toMatchObject({ phase: 'ready', connection: 'live', refused: null });
    expect(store.snapshot.tasks.size).toBe(1);
    await store.retryRefused(); // nothing refused now: nothing asked
    expect(view.count('state')).toBe(2);
  });

  it('stops following the pool when a refresh is refused, keeping the last picture', async () => {
    const { admin, view, timers, make } = await world();
    const store = make({ retryMs: 1000 });
    await store.start();
    const seen = await admin.createTask({ repo: 'demo', title: 'Seen' });
    await store.whenIdle();

    view.setFailing(refusal());
    await admin.createTask({ repo: 'demo', title: 'Refused' });
    await store.whenIdle();
    expect(store.snapshot).toMatchObject({ phase: 'ready', refused: 'The admin token is wrong.' });
    expect([...store.snapshot.tasks.keys()]).toEqual([seen.task_id]);
    const asked = view.calls.length;
    await admin.createTask({ repo: 'demo', title: 'Not heard' });
    await timers.advance(60_000);
    await store.whenIdle();
    expect(view.calls.length).toBe(asked);
    expect(timers.pending).toBe(0);
  });

  it('still retries what is not a refusal: a server error', async () => {
    const { view, timers, make } = await world();
    const store = make({ retryMs: 1000 });
    view.setFailing(new OwpError('internal_error', 'Something broke.'));
    await store.start();
    expect(store.snapshot).toMatchObject({ phase: 'failed', refused: null });
    expect(timers.pending).toBe(1);
    view.setFailing(false);
    await timers.advance(1000);
    await store.whenIdle();
    expect(store.snapshot.phase).toBe('ready');
  });
});

describe('PoolStore: following events', () => {
  it('follows a task through its life, with the workers, the repo budget and the counts', async () => {
    const { admin, make, join } = await world();
    const alice = await join('Alice');
    const store = make();
    await store.start();

    await alice.api.heartbeat();
    const task = await admin.createTask({ repo: 'demo', title: 'Fix login', estimate_points: 2 });
    await store.whenIdle();
    let s = store.snapshot;
    expect(s.tasks.get(task.task_id)).toMatchObject({ status: 'leased', assignee: alice.id });
    expect(s.workers.get(alice.id)).toMatchObject({ online: true, points_in_use: 2 });
    expect(s.repos.get('demo')!.budget_used).toBe(1);
    expect(s.state).toMatchObject({ tasks_leased: 1, workers_online: 1 });

    const lease = s.tasks.get(task.task_id)!.lease!;
    await alice.api.updateStatus(task.task_id, { status: 'in_progress', lease_id: lease.lease_id });
    await alice.api.updateStatus(task.task_id, {
      status: 'pr_opened',
      lease_id: lease.lease_id,
      artifact: { pr_url: 'https://example.test/pull/7' },
    });
    await store.whenIdle();
    s = store.snapshot;
    expect(s.tasks.get(task.task_id)).toMatchObject({
      status: 'pr_opened',
      artifact: { pr_url: 'https://example.test/pull/7' },
    });
    expect(s.repos.get('demo')!.open_prs).toBe(1);
    expect(s.events.slice(-2).map((e) => e.type === 'task.status_changed' && e.data.to)).toEqual([
      'in_progress',
      'pr_opened',
    ]);
  });

  it('refreshes a burst of events in one batch, and a big burst by reloading the list', async () => {
    const { admin, view, make } = await world();
    const store = make();
    await store.start();
    const snapshots: PoolSnapshot[] = [];
    store.subscribe((s) => snapshots.push(s));
    snapshots.length = 0;

    for (let i = 0; i < 3; i++) await admin.createTask({ repo: 'demo', title: `Small ${i}` });
    await store.whenIdle();
    expect(view.count('getTask')).toBe(3);
    expect(view.count('state')).toBe(2); // once to load, once for the whole burst
    expect(snapshots.length).toBeLessThanOrEqual(2); // the feed at once, the refresh after

    const listsBefore = view.count('listTasks');
    for (let i = 0; i < 60; i++) await admin.createTask({ repo: 'demo', title: `Big ${i}` });
    await store.whenIdle();
    expect(view.count('getTask')).toBe(3);
    expect(view.count('listTasks')).toBe(listsBefore + 1);
    expect(store.snapshot.tasks.size).toBe(63);
  });

  it('re-reads only the workers events name, and the whole list past a big burst', async () => {
    const { admin, view, make, join } = await world();
    const alice = await join('Alice');
    const bob = await join('Bob');
    const store = make();
    await store.start();
    const listsBefore = view.count('listWorkers');

    await alice.api.heartbeat(); // worker.online, Alice's alone
    const task = await admin.createTask({ repo: 'demo', title: 'Fix login', estimate_points: 2 });
    await store.whenIdle();
    expect(store.snapshot.tasks.get(task.task_id)!.assignee).toBe(alice.id);
    expect(store.snapshot.workers.get(alice.id)).toMatchObject({ online: true, points_in_use: 2 });
    expect(view.count('listWorkers')).toBe(listsBefore);
    expect(view.count('getWorker')).toBeGreaterThan(0);

    // A newcomer is added; the others stay as they were.
    const cyd = await join('Cyd');
    await store.whenIdle();
    expect([...store.snapshot.workers.keys()]).toEqual([alice.id, bob.id, cyd.id]);
    expect(view.count('listWorkers')).toBe(listsBefore);

    const singleReads = view.count('getWorker');
    for (let i = 0; i < 60; i++) await join(`W${i}`);
    await store.whenIdle();
    expect(view.count('listWorkers')).toBe(listsBefore + 1);
    expect(view.count('getWorker')).toBe(singleReads);
    expect(store.snapshot.workers.size).toBe(63);
  });

  // Was: the repo's tasks stayed on the board, and the repo in its filter, until a reload.
  it('drops a deleted repo and its tasks, and reads the counts again', async () => {
    const { admin, make } = await world();
    await admin.upsertRepo({ repo: 'old' });
    const gone = await admin.createTask({ repo: 'old', title: 'Old work' });
    await admin.cancelTask(gone.task_id);
    const kept = await admin.createTask({ repo: 'demo', title: 'Kept' });
    const store = make();
    await store.start();
    expect(store.snapshot.state).toMatchObject({ tasks_cancelled: 1 });

    await admin.deleteRepo('old');
    await store.whenIdle();
    const s = store.snapshot;
    expect([...s.tasks.keys()]).toEqual([kept.task_id]);
    expect([...s.repos.keys()]).toEqual(['demo']);
    expect(s.state).toMatchObject({ tasks_cancelled: 0, tasks_ready: 1 });
  });

  it('applies a renewed lease from the event alone', async () => {
    const { admin, clock, view, make, join } = await world();
    const alice = await join('Alice');
    await alice.api.heartbeat();
    const task = await admin.createTask({ repo: 'demo', title: 'Long one' });
    const store = make();
    await store.start();
    const lease = store.snapshot.tasks.get(task.task_id)!.lease!;

    clock.advanceSeconds(60);
    const renewed = await alice.api.renewLease(lease.lease_id);
    await store.whenIdle();
    expect(store.snapshot.tasks.get(task.task_id)!.lease!.expires_at).toBe(renewed.expires_at);
    expect(view.count('getTask')).toBe(0);
  });

  it('keeps the last picture while offline, and refreshes what failed once live again', async () => {
    const { admin, view, timers, make } = await world();
    const task = await admin.createTask({ repo: 'demo', title: 'Before' });
    const store = make({ retryMs: 60_000 });
    await store.start();

    view.reportStatus('offline');
    view.setFailing(true);
    await admin.updateTask(task.task_id, { title: 'Renamed while away' });
    await store.whenIdle();
    expect(store.snapshot).toMatchObject({ connection: 'offline', phase: 'ready' });
    expect(store.snapshot.tasks.get(task.task_id)!.title).toBe('Before');
    expect(store.snapshot.error).toMatch(/Failed to fetch/);

    view.setFailing(false);
    view.reportStatus('live');
    await store.whenIdle();
    expect(store.snapshot.tasks.get(task.task_id)!.title).toBe('Renamed while away');
    expect(store.snapshot).toMatchObject({ connection: 'live', error: null });
    expect(timers.pending).toBe(1); // the retry timer, now moot
  });
});

describe('PoolStore: a worker without the admin role', () => {
  it('sees its own leases and PRs, its own events, and loses a task it released', async () => {
    const { embedded, admin, join } = await world();
    const alice = await join('Alice');
    const bob = await join('Bob');
    await alice.api.heartbeat();
    const first = await admin.createTask({ repo: 'demo', title: 'Alice reviews this' });
    const second = await admin.createTask({ repo: 'demo', title: 'Alice holds this' });
    await bob.api.heartbeat();
    const bobs = await admin.createTask({ repo: 'demo', title: 'Bob holds this' });
    const firstLease = (await alice.api.getWork()).leases.find((l) => l.task_id === first.task_id)!;
    await alice.api.updateStatus(first.task_id, { status: 'in_progress' });
    await alice.api.updateStatus(first.task_id, {
      status: 'pr_opened',
      lease_id: firstLease.lease_id,
      artifact: { pr_url: 'https://example.test/pull/1' },
    });

    const workerBackend: PoolBackend = {
      mode: 'embedded',
      api: alice.api,
      start: async () => undefined,
      stop: async () => undefined,
      subscribe: (after, onEvent, onStatus) => alice.api.subscribe(after, onEvent, onStatus),
    };
    const store = new PoolStore({
      backend: workerBackend,
      admin: false,
      scheduleBatch: (run) => setTimeout(run, 0),
    });
    cleanup.push(() => store.stop());
    await store.start();

    let s = store.snapshot;
    expect(s).toMatchObject({ scope: 'worker', me: alice.id, phase: 'ready', state: null });
    expect([...s.tasks.keys()].sort()).toEqual([first.task_id, second.task_id].sort());
    expect(s.tasks.has(bobs.task_id)).toBe(false);
    expect(s.events.every((e) => e.worker_id === alice.id)).toBe(true);

    const secondLease = s.tasks.get(second.task_id)!.lease!;
    await alice.api.releaseLease(secondLease.lease_id, 'not for me');
    await store.whenIdle();
    s = store.snapshot;
    expect([...s.tasks.keys()]).toEqual([first.task_id]);
    expect(embedded.engine.getTask(second.task_id).assignee).not.toBe(alice.id);
  });
});

describe('PoolStore: the local worker’s offers', () => {
  /** The store of a vault that is the admin and has Alice as its worker, over a repo that offers. */
  async function offering() {
    const w = await world();
    await w.admin.upsertRepo({ repo: 'offers', assignment: 'offer', offer_ttl_seconds: 600 });
    const alice = await w.join('Alice');
    const api = w.embedded.apiAs({ admin: true, workerToken: alice.token });
    const backend: PoolBackend = {
      mode: 'embedded',
      api,
      start: async () => undefined,
      stop: async () => undefined,
      subscribe: (after, onEvent, onStatus) => api.subscribe(after, onEvent, onStatus),
    };
    const store = new PoolStore({
      backend,
      admin: true,
      workerId: alice.id,
      scheduleBatch: (run) => setTimeout(run, 0),
    });
    cleanup.push(() => store.stop());
    return { ...w, alice, api, store };
  }
  const titles = (s: PoolSnapshot) => s.offers.map((o) => o.title);

  it('loads the offers, and follows them as they are made, accepted and rejected', async () => {
    const { admin, alice, api, store } = await offering();
    await alice.api.heartbeat();
    const first = await admin.createTask({ repo: 'offers', title: 'First' });
    await store.start();
    expect(store.snapshot.offers).toMatchObject([
      { task_id: first.task_id, title: 'First', repo: 'offers', contract: null },
    ]);
    expect(store.snapshot.tasks.get(first.task_id)).toMatchObject({
      status: 'offered',
      assignee: alice.id,
    });

    const second = await admin.createTask({ repo: 'offers', title: 'Second' });
    await store.whenIdle();
    expect(titles(store.snapshot)).toEqual(['First', 'Second']);

    await api.acceptOffer(store.snapshot.offers[0]!.offer_id);
    await store.whenIdle();
    expect(titles(store.snapshot)).toEqual(['Second']);
    expect(store.snapshot.tasks.get(first.task_id)).toMatchObject({ status: 'leased' });

    await api.rejectOffer(store.snapshot.offers[0]!.offer_id, { reason: 'insufficient_time' });
    await store.whenIdle();
    expect(store.snapshot.offers).toEqual([]);
    expect(store.snapshot.tasks.get(second.task_id)).toMatchObject({
      status: 'ready',
      assignee: null,
    });
  });

  it('reads the offers of a worker registered after the start', async () => {
    const { admin, alice, store } = await offering();
    await alice.api.heartbeat();
    await admin.createTask({ repo: 'offers', title: 'Waiting for Alice' });

    store.setWorkerId(null);
    await store.start();
    expect(store.snapshot.offers).toEqual([]);
    store.setWorkerId(alice.id);
    await store.whenIdle();
    expect(titles(store.snapshot)).toEqual(['Waiting for Alice']);
  });

  it('has no offers, and no error, when the pool does not know the vault’s worker', async () => {
    const { make } = await world();
    const store = make({ workerId: 'w_forgotten' });
    await store.start();
    expect(store.snapshot).toMatchObject({ phase: 'ready', offers: [], error: null });
  });
});

describe('PoolStore over a real server', () => {
  it('keeps the last picture while the server is down, and catches up after it restarts', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'owp-pool-store-'));
    cleanup.push(() => rm(folder, { recursive: true, force: true }));
    const path = join(folder, 'owp.sqlite');
    const ADMIN = 'pool-store-admin';
    const serve = async (port = 0) => {
      const driver = new BetterSqlite3Driver({ path });
      const engine = new Scheduler({ driver, clock: systemClock });
      const app = buildApp({ engine, adminToken: ADMIN });
      await app.listen({ host: '127.0.0.1', port });
      const stop = async () => {
        // Open event streams would hold app.close() up (they end in its onClose hook): cut them.
        const closing = app.close();
        app.server.closeAllConnections();
        await closing;
        driver.close();
      };
      cleanup.push(() => stop().catch(() => undefined));
      return { engine, stop, port: (app.server.address() as { port: number }).port };
    };
    const first = await serve();
    first.engine.upsertRepo({ repo: 'demo' });
    const task = first.engine.createTask({ repo: 'demo', title: 'Seen before the outage' });
    const backend = new RemoteBackend({
      baseUrl: `http://127.0.0.1:${first.port}`,
      adminToken: ADMIN,
      transport: fetchTransport,
    });
    cleanup.push(() => backend.stop());
    const store = new PoolStore({ backend, admin: true, retryMs: 200 });
    cleanup.push(() => store.stop());
    await store.start();
    await until(() => store.snapshot.connection === 'live');

    await first.stop();
    await until(() => store.snapshot.connection === 'offline');
    expect(store.snapshot.tasks.get(task.task_id)!.title).toBe('Seen before the outage');

    const second = await serve(first.port);
    const later = second.engine.createTask({ repo: 'demo', title: 'Made during the outage' });
    backend.notifyOnline();
    await until(() => store.snapshot.tasks.has(later.task_id));
    expect(store.snapshot.connection).toBe('live');
    expect(store.snapshot.tasks.size).toBe(2);
  });
});

describe('PoolStore when the server changes its admin token', () => {
  it('says the pool refuses the token, rather than reconnecting for ever as if offline', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'owp-pool-store-'));
    cleanup.push(() => rm(folder, { recursive: true, force: true }));
    const refusedRequests: string[] = [];
    const serve = async (adminToken: string, port = 0) => {
      const driver = new BetterSqlite3Driver({ path: join(folder, 'owp.sqlite') });
      const app = buildApp({ engine: new Scheduler({ driver, clock: systemClock }), adminToken });
      app.addHook('onResponse', async (request, reply) => {
        if (reply.statusCode === 401) refusedRequests.push(`${request.method} ${request.url}`);
      });
      await app.listen({ host: '127.0.0.1', port });
      const stop = async () => {
        const closing = app.close();
        app.server.closeAllConnections();
        await closing;
        driver.close();
      };
      cleanup.push(() => stop().catch(() => undefined));
      return { stop, port: (app.server.address() as { port: number }).port };
    };
    const first = await serve('admin-token-before-the-change');
    const backend = new RemoteBackend({
      baseUrl: `http://127.0.0.1:${first.port}`,
      adminToken: 'admin-token-before-the-change',
      transport: fetchTransport,
    });
    cleanup.push(() => backend.stop());
    const store = new PoolStore({ backend, admin: true, retryMs: 200 });
    cleanup.push(() => store.stop());
    await store.start();
    await until(() => store.snapshot.connection === 'live');

    await first.stop();
    await serve('admin-token-after-the-change', first.port);
    backend.notifyOnline();
    // Was: "offline" and nothing more, with the stream knocking on with the old token for ever.
    await until(() => store.snapshot.refused !== null);
    expect(store.snapshot).toMatchObject({
      phase: 'ready',
      connection: 'offline',
      refused: 'The admin token is wrong.',
    });
    // And it stops knocking: each knock is a failed sign-in the server counts against the address.
    const knocked = refusedRequests.length;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(refusedRequests.length).toBe(knocked);
  });
});

describe('PoolStore for a worker not registered yet', () => {
  // Was: GET /v1/work, refused, every 5 s: the normal first state of a worker's vault.
  it('asks once for the work of a worker not registered yet, then waits', async () => {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    const app = buildApp({
      engine: new Scheduler({ driver, clock: systemClock }),
      adminToken: 'pool-store-admin',
    });
    const refusedRequests: string[] = [];
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode === 401) refusedRequests.push(`${request.method} ${request.url}`);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanup.push(async () => {
      await app.close();
      driver.close();
    });
    const backend = new RemoteBackend({
      baseUrl: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`,
      transport: fetchTransport,
    });
    const store = new PoolStore({ backend, admin: false, retryMs: 50 });
    cleanup.push(() => store.stop());
    await store.start();
    expect(store.snapshot).toMatchObject({ phase: 'failed', scope: 'worker', me: null });
    expect(store.snapshot.refused).toMatch(/worker token/);

    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(refusedRequests).toEqual(['GET /v1/work']);
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
