import { afterEach, describe, expect, it } from 'vitest';
import type { StreamStatus } from '../../protocol/api.ts';
import { OwpError } from '../../protocol/errors.ts';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { EngineHarness } from '../../scheduler/testing/engine-harness.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import { PoolStore, type PoolApi, type PoolStoreOptions } from './pool-store.ts';
import { countsFromState } from './status-history.ts';

const stores: PoolStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.stop();
});

/**
 * A pool on the real engine, seen through the in-process API; the event stream is the engine's
 * own, with a handle to play its connection going offline and coming back.
 */
function aPool(options: PoolStoreOptions = {}) {
  const h = new EngineHarness(new BetterSqlite3Driver({ path: ':memory:' }), {
    heartbeatTtlMs: 60_000,
  });
  const local = new LocalOwpApi(h.engine, { admin: true });
  const stream = {
    after: -1,
    setStatus: (_: StreamStatus) => {},
    refuse: (_: OwpError) => {},
    reconnects: 0,
    closed: false,
  };
  const api: PoolApi = {
    state: () => local.state(),
    listTasks: (query) => local.listTasks(query),
    listRepos: () => local.listRepos(),
    listWorkers: () => local.listWorkers(),
    getWorker: (id) => local.getWorker(id),
    getTask: (id) => local.getTask(id),
    events: (after, limit) => local.events(after, limit),
    subscribe(after, onEvent, onStatus, onRefused) {
      stream.after = after;
      stream.setStatus = (status) => onStatus?.(status);
      stream.refuse = (error) => onRefused?.(error);
      const subscription = local.subscribe(after, onEvent, onStatus);
      return {
        close: () => {
          stream.closed = true;
          subscription.close();
        },
        reconnectNow: () => void stream.reconnects++,
      };
    },
  };
  const store = new PoolStore(api, { refreshDelayMs: 1, workerRefreshMs: 0, ...options });
  stores.push(store);
  return { h, api, store, stream };
}

describe('the pool as the dashboard knows it', () => {
  it('loads tasks, repos, workers and the event history, then follows the stream from there', async () => {
    const { h, store, stream } = aPool();
    h.repo({ repo: 'demo', max_open_prs: 2 });
    const first = h.task({ title: 'First' });
    const second = h.task({ title: 'Second' });
    const worker = h.onlineWorker({ name: 'ada' });
    const seqBefore = h.engine.state().last_event_seq;

    await store.start();
    const view = store.view;
    expect(view.phase).toBe('ready');
    expect([...view.tasks.keys()]).toEqual([first.task_id, second.task_id]);
    expect(view.repos.map((r) => r.repo)).toEqual(['demo']);
    expect(view.workers.map((w) => w.worker_id)).toEqual([worker]);
    expect(view.history.counts).toMatchObject({ ready: 0, leased: 2 });
    expect(view.feed[0]!.seq).toBe(seqBefore); // newest first
    expect(view.lastSeq).toBe(seqBefore);
    expect(stream.after).toBe(seqBefore);
    expect(view.stream).toBe('live');
  });

  it('shows a new task, its counts and its event as soon as the stream delivers them', async () => {
    const { h, store } = aPool();
    h.repo();
    await store.start();
    const versionBefore = store.view.historyVersion;
    const seen: string[] = [];
    store.watchEvents((event) => seen.push(event.type));

    const task = h.task({ title: 'Arrives live' });
    expect(store.view.feed[0]).toMatchObject({ type: 'task.created', task_id: task.task_id });
    expect(store.view.history.counts.ready).toBe(1);
    expect(store.view.historyVersion).toBeGreaterThan(versionBefore);
    expect(seen).toEqual(['task.created']);
    await store.settled();
    expect(store.view.tasks.get(task.task_id)?.title).toBe('Arrives live');
  });

  it('re-reads budgets and worker load when a task changes hands', async () => {
    const { h, store } = aPool();
    h.repo({ repo: 'demo', max_open_prs: 1 });
    const worker = h.onlineWorker({ name: 'ada' });
    await store.start();

    const task = h.task({ estimate_points: 3 });
    await store.settled();
    expect(store.view.tasks.get(task.task_id)).toMatchObject({
      status: 'leased',
      assignee: worker,
    });
    expect(store.view.repos[0]).toMatchObject({ budget_used: 1 });
    expect(store.view.workers[0]).toMatchObject({ points_in_use: 3, active_tasks: 1 });

    h.engine.requeueTask(task.task_id);
    h.engine.pauseWorker(worker);
    await store.settled();
    expect(store.view.workers[0]).toMatchObject({ paused_by_admin: true });
  });

  it('re-reads only the workers events name, and the whole list past a burst', async () => {
    const { h, api, store } = aPool();
    h.repo({ repo: 'demo', max_open_prs: 100 });
    const [ada, bob] = [h.onlineWorker({ name: 'ada' }), h.onlineWorker({ name: 'bob' })];
    await store.start();
    const reads = { list: 0, one: [] as string[] };
    const { listWorkers, getWorker } = api;
    api.listWorkers = () => (reads.list++, listWorkers());
    api.getWorker = (id) => (reads.one.push(id), getWorker(id));

    const task = h.task({ estimate_points: 3 });
    const holder = h.engine.getTask(task.task_id).assignee!;
    await store.settled();
    expect(reads).toEqual({ list: 0, one: [holder] });
    expect(store.view.workers.find((w) => w.worker_id === holder)).toMatchObject({
      points_in_use: 3,
      active_tasks: 1,
    });

    // A newcomer comes last, as in the list; one read each still.
    const cyd = h.onlineWorker({ name: 'cyd' });
    h.engine.pauseWorker(bob);
    await store.settled();
    expect(store.view.workers.map((w) => w.worker_id)).toEqual([ada, bob, cyd]);
    expect(store.view.workers[1]).toMatchObject({ paused_by_admin: true });
    expect(reads.list).toBe(0);

    // More workers than a burst's worth of single reads: the list once instead.
    for (let i = 0; i < 60; i++) h.onlineWorker({ name: `w${i}` });
    await store.settled();
    expect(reads.list).toBe(1);
    expect(store.view.workers).toHaveLength(63);
  });

  it('drops a worker the server no longer knows', async () => {
    const { h, api, store } = aPool();
    const ada = h.onlineWorker({ name: 'ada' });
    const bob = h.onlineWorker({ name: 'bob' });
    await store.start();
    const { getWorker } = api;
    api.getWorker = (id) =>
      id === bob ? Promise.reject(new OwpError('worker_not_found', 'gone')) : getWorker(id);
    h.engine.pauseWorker(bob);
    h.engine.pauseWorker(ada);
    await store.settled();
    expect(store.view.workers.map((w) => w.worker_id)).toEqual([ada]);
    expect(store.view.workers[0]).toMatchObject({ paused_by_admin: true });
  });

  it('drops a deleted repo’s tasks from the table and the counts', async () => {
    const { h, store } = aPool();
    h.repo({ repo: 'gone' });
    h.repo({ repo: 'kept' });
    const done = h.task({ repo: 'gone' });
    const kept = h.task({ repo: 'kept' });
    h.engine.cancelTask(done.task_id);
    await store.start();
    expect(store.view.history.counts).toMatchObject({ cancelled: 1 });
    const versionBefore = store.view.historyVersion;

    h.engine.deleteRepo('gone');
    expect([...store.view.tasks.keys()]).toEqual([kept.task_id]);
    await store.settled();
    expect([...store.view.tasks.keys()]).toEqual([kept.task_id]);
    expect(store.view.history.counts).toMatchObject({ cancelled: 0 });
    expect(store.view.history.counts).toEqual(countsFromState(h.engine.state()));
    expect(store.view.historyVersion).toBeGreaterThan(versionBefore);
    expect(store.view.repos.map((r) => r.repo)).toEqual(['kept']);
  });

  it('never lets an older copy of a task replace a newer one', async () => {
    const { h, store } = aPool();
    h.repo();
    await store.start();
    const created = h.task();
    const cancelled = h.engine.cancelTask(created.task_id);
    store.applyTask(cancelled);
    store.applyTask(created);
    expect(store.view.tasks.get(created.task_id)?.status).toBe('cancelled');
  });

  it('marks when the stream dropped, and re-reads everything when it is back', async () => {
    const { h, store, stream } = aPool();
    const worker = h.onlineWorker({ name: 'ada' });
    await store.start();
    const heartbeatBefore = store.view.workers[0]!.last_heartbeat_at;

    stream.setStatus('offline');
    expect(store.view.stream).toBe('offline');
    expect(store.view.offlineSince).toEqual(expect.any(Number));

    // A heartbeat makes no event: only the re-read after reconnecting can show it.
    h.clock.advanceSeconds(30);
    h.engine.heartbeat(worker, { status: 'working' });
    stream.setStatus('connecting');
    expect(store.view.stream).toBe('offline'); // still the banner until actually back
    stream.setStatus('live');
    expect(store.view).toMatchObject({ stream: 'live', offlineSince: null });
    await store.settled();
    expect(store.view.workers[0]!.last_heartbeat_at).not.toBe(heartbeatBefore);

    store.reconnectNow();
    expect(stream.reconnects).toBe(1);
  });

  it('reports a load that fails, in words', async () => {
    const { api, store } = aPool();
    api.state = async () => {
      throw new OwpError('unauthorized', 'The admin token is wrong.');
    };
    await store.start();
    expect(store.view).toMatchObject({
      phase: 'failed',
      loadError: { code: 'unauthorized', message: 'The admin token is wrong.' },
      tokenRefused: { code: 'unauthorized', message: 'The admin token is wrong.' },
    });
  });

  it('stops and says why when the stream refuses a rotated token, rather than reconnecting for ever', async () => {
    const { h, api, store, stream } = aPool();
    h.repo();
    await store.start();
    const reads: string[] = [];
    api.getTask = async (id) => (reads.push(id), h.engine.getTask(id));

    stream.setStatus('offline');
    stream.refuse(new OwpError('unauthorized', 'The admin token is wrong.'));
    expect(store.view.tokenRefused).toEqual({
      code: 'unauthorized',
      message: 'The admin token is wrong.',
    });
    expect(stream.closed).toBe(true);
    h.task();
    await store.settled();
    expect(reads).toEqual([]);
  });

  it('stops and says why when a re-read is refused a rotated token', async () => {
    const { h, api, store, stream } = aPool();
    h.repo();
    await store.start();
    api.getTask = async () => {
      throw new OwpError('unauthorized', 'The viewer token is wrong.');
    };
    h.task();
    await store.settled();
    expect(store.view).toMatchObject({
      tokenRefused: { code: 'unauthorized', message: 'The viewer token is wrong.' },
      refreshError: null,
    });
    expect(stream.closed).toBe(true);
  });

  it('keeps a failed re-read visible until the next good one', async () => {
    const { h, api, store } = aPool();
    h.repo();
    await store.start();
    const getTask = api.getTask;
    api.getTask = async () => {
      throw new OwpError('internal_error', 'An unexpected error; it has been logged.');
    };
    h.task();
    await store.settled();
    expect(store.view.refreshError).toEqual({
      code: 'internal_error',
      message: 'An unexpected error; it has been logged.',
    });
    api.getTask = getTask;
    h.task();
    await store.settled();
    expect(store.view.refreshError).toBeNull();
  });

  it('in a pool too large to load, sends the repo and status filters to the server', async () => {
    const { h, store } = aPool({ maxTasks: 4, taskPageSize: 2 });
    h.repo({ repo: 'big' });
    h.repo({ repo: 'small' });
    for (let i = 0; i < 6; i++) h.task({ repo: 'big', title: `big ${i}` });
    const wanted = h.task({ repo: 'small', title: 'the one in small' });
    await store.start();
    expect(store.view.tasks.size).toBe(4);
    expect(store.view.tasksTruncated).toBe(true);
    // The newest are shown, the oldest left out (the newest were the ones missing).
    expect([...store.view.tasks.values()].map((t) => t.title).sort()).toEqual([
      'big 3',
      'big 4',
      'big 5',
      'the one in small',
    ]);

    store.setServerFilter({ repo: 'small' });
    await store.settled();
    expect([...store.view.tasks.keys()]).toEqual([wanted.task_id]);
    expect(store.view.tasksTruncated).toBe(true);

    store.setServerFilter({});
    await store.settled();
    expect(store.view.tasks.size).toBe(4);
  });
});
