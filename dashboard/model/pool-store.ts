import type { StreamStatus } from '../../protocol/api.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { OwpEvent } from '../../protocol/events.ts';
import type { Repo } from '../../protocol/repos.ts';
import type { Task, TaskListQuery } from '../../protocol/tasks.ts';
import type { Worker } from '../../protocol/workers.ts';
import type { DashboardApi, LiveSubscription } from './connection.ts';
import { describeError, type ErrorText } from './error-text.ts';
import { RefreshQueue, type RefreshBatch } from './refresh-queue.ts';
import { countsFromState, StatusHistory } from './status-history.ts';

/** The calls the store makes: a slice of `DashboardApi`, so tests can hand it a fake. */
export type PoolApi = Pick<
  DashboardApi,
  'state' | 'listTasks' | 'listRepos' | 'listWorkers' | 'getWorker' | 'getTask' | 'events'
> & {
  subscribe(
    after: number,
    onEvent: (event: OwpEvent) => void,
    onStatus?: (status: StreamStatus) => void,
    onRefused?: (error: OwpError) => void,
  ): LiveSubscription;
};

/** Everything the panels show, replaced (never mutated) on each change. */
export interface PoolView {
  phase: 'loading' | 'ready' | 'failed';
  loadError: ErrorText | null;
  stream: StreamStatus;
  /** When the stream dropped (ms), for the offline banner; null while connected. */
  offlineSince: number | null;
  tasks: ReadonlyMap<string, Task>;
  /**
   * The pool has more tasks than the page loads (`maxTasks`): the table's repo and status filters
   * then go to the server, and the list shows at most `maxTasks` of the matching tasks.
   */
  tasksTruncated: boolean;
  repos: readonly Repo[];
  workers: readonly Worker[];
  /** Newest first. */
  feed: readonly OwpEvent[];
  /** Counts by status over time; `historyVersion` changes whenever it does. */
  history: StatusHistory;
  historyVersion: number;
  lastSeq: number;
  /** The last failed re-read, cleared by the next good one. */
  refreshError: ErrorText | null;
  /**
   * The server refused the page's token (401: rotated, revoked), on the first load, a re-read or
   * the stream. The store has stopped following the pool; the page signs out with this reason.
   */
  tokenRefused: ErrorText | null;
}

export interface PoolStoreOptions {
  /** Tasks loaded at most (default 5000); beyond that the table filters on the server. */
  maxTasks?: number;
  /** Tasks per list request (default 500, the server's maximum). */
  taskPageSize?: number;
  /** Events replayed into the charts at most (default 50 000, the newest). */
  maxHistoryEvents?: number;
  /** Lines kept in the live feed (default 100). */
  feedSize?: number;
  /** Coalescing delay for re-reads after events (default 100 ms). */
  refreshDelayMs?: number;
  /** Heartbeats make no events, so the workers are re-read this often (default 15 s; 0 = never). */
  workerRefreshMs?: number;
  now?: () => number;
}

const EVENT_PAGE = 1000;

/**
 * Above this many changed tasks, or workers, in one burst, one list read is cheaper than one read
 * each. Below it the list is not read again: at 10,000 workers it is ~4 MB and ~65 ms of the
 * server's thread, and a busy pool changes some worker's load several times a second.
 */
const REREAD_ALL_OVER = 50;

/** A 401: the token was rotated or revoked, and no retry will pass. */
const isUnauthorized = (error: unknown) =>
  error instanceof OwpError && error.code === 'unauthorized';

/**
 * The pool as the dashboard knows it: loads a snapshot (tasks, repos, workers, event history),
 * then follows the live stream, re-reading whatever each event touched. After the stream comes
 * back from a drop it resumes with `Last-Event-ID` (missed events replay) and re-reads everything,
 * since a heartbeat or a timeout can change what no replayed event describes.
 */
export class PoolStore {
  private current: PoolView;
  private readonly listeners = new Set<(view: PoolView) => void>();
  private readonly eventWatchers = new Set<(event: OwpEvent) => void>();
  private readonly queue: RefreshQueue;
  private subscription: LiveSubscription | null = null;
  private workerTimer: ReturnType<typeof setInterval> | null = null;
  private serverFilter: Pick<TaskListQuery, 'repo' | 'status'> = {};
  /** The last unfiltered read stopped at `maxTasks`: filters then go to the server. */
  private poolTooLarge = false;
  private stopped = false;
  private readonly options: Required<PoolStoreOptions>;

  constructor(
    private readonly api: PoolApi,
    options: PoolStoreOptions = {},
  ) {
    this.options = {
      maxTasks: 5000,
      taskPageSize: 500,
      maxHistoryEvents: 50_000,
      feedSize: 100,
      refreshDelayMs: 100,
      workerRefreshMs: 15_000,
      now: () => Date.now(),
      ...options,
    };
    this.queue = new RefreshQueue((batch) => this.reread(batch), this.options.refreshDelayMs);
    this.current = {
      phase: 'loading',
      loadError: null,
      stream: 'connecting',
      offlineSince: null,
      tasks: new Map(),
      tasksTruncated: false,
      repos: [],
      workers: [],
      feed: [],
      history: StatusHistory.fromEvents([]),
      historyVersion: 0,
      lastSeq: 0,
      refreshError: null,
      tokenRefused: null,
    };
  }

  get view(): PoolView {
    return this.current;
  }

  /** Calls `listener` now and on every change; returns the unsubscribe function. */
  subscribe(listener: (view: PoolView) => void): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => this.listeners.delete(listener);
  }

  /** Every live event as it arrives (a task's detail view appends its own). */
  watchEvents(listener: (event: OwpEvent) => void): () => void {
    this.eventWatchers.add(listener);
    return () => this.eventWatchers.delete(listener);
  }

  /** Loads the snapshot, then goes live. A failure leaves `phase: 'failed'` with the reason. */
  async start(): Promise<void> {
    this.update({ phase: 'loading', loadError: null });
    try {
      const state = await this.api.state();
      const events = await this.loadEvents(
        Math.max(0, state.last_event_seq - this.options.maxHistoryEvents),
      );
      const history = StatusHistory.fromEvents(events, {
        seq: state.last_event_seq,
        counts: countsFromState(state),
      });
      const lastSeq = Math.max(state.last_event_seq, events.at(-1)?.seq ?? 0);
      const [tasks, repos, workers] = await Promise.all([
        this.loadTasks(),
        this.api.listRepos(),
        this.api.listWorkers(),
      ]);
      if (this.stopped) return;
      this.update({
        phase: 'ready',
        ...tasks,
        repos,
        workers,
        history,
        historyVersion: this.current.historyVersion + 1,
        feed: events.slice(-this.options.feedSize).reverse(),
        lastSeq,
      });
      this.subscription = this.api.subscribe(
        lastSeq,
        (event) => this.onEvent(event),
        (status) => this.onStreamStatus(status),
        (error) => this.onTokenRefused(error),
      );
      if (this.options.workerRefreshMs > 0) {
        this.workerTimer = setInterval(() => {
          if (this.current.stream === 'live') this.queue.mark('workers');
        }, this.options.workerRefreshMs);
      }
    } catch (error) {
      if (this.stopped) return;
      this.update({ phase: 'failed', loadError: describeError(error) });
      if (isUnauthorized(error)) this.onTokenRefused(error);
    }
  }

  stop(): void {
    this.stopped = true;
    this.stopFollowing();
    this.listeners.clear();
    this.eventWatchers.clear();
  }

  private stopFollowing(): void {
    this.subscription?.close();
    if (this.workerTimer) clearInterval(this.workerTimer);
    this.queue.cancel();
  }

  /**
   * A 401 will not pass on a retry, so the store stops (rather than showing "reconnecting" for
   * ever) and says why; the listeners stay, to hear it.
   */
  private onTokenRefused(error: unknown): void {
    if (this.stopped || this.current.tokenRefused) return;
    this.stopFollowing();
    this.update({ tokenRefused: describeError(error) });
  }

  /** Reconnects the stream at once: the page became visible again, or the network came back. */
  reconnectNow(): void {
    this.subscription?.reconnectNow();
  }

  /** Resolves when no re-read is queued or running. */
  settled(): Promise<void> {
    return this.queue.settled();
  }

  /**
   * The table's repo and status filters. With every task loaded they filter in the page; when
   * the pool has more tasks than the page loads, they are sent to the server instead.
   */
  setServerFilter(filter: Pick<TaskListQuery, 'repo' | 'status'>): void {
    const same =
      filter.repo === this.serverFilter.repo && filter.status === this.serverFilter.status;
    this.serverFilter = { repo: filter.repo, status: filter.status };
    if (!same && this.poolTooLarge) this.queue.mark('all');
  }

  /** A task an admin action returned: shown at once, without waiting for its event. */
  applyTask(task: Task): void {
    const tasks = this.withTasks([task]);
    if (tasks) this.update({ tasks });
  }

  applyWorker(worker: Worker): void {
    this.update({
      workers: this.current.workers.map((w) => (w.worker_id === worker.worker_id ? worker : w)),
    });
  }

  applyRepo(repo: Repo): void {
    const others = this.current.repos.filter((r) => r.repo !== repo.repo);
    this.update({ repos: [...others, repo] });
  }

  private onEvent(event: OwpEvent): void {
    const changedHistory = this.current.history.apply(event);
    if (event.task_id && (event.type.startsWith('task.') || event.type === 'lease.renewed')) {
      this.queue.task(event.task_id);
    }
    // A status change moves budgets, area locks and worker load along with the task.
    if (event.type.startsWith('repo.') || event.type === 'task.status_changed') {
      this.queue.mark('repos');
    }
    // A move changes the load of the worker it names (a release names the one let go).
    if (event.type.startsWith('worker.') || event.type === 'task.status_changed') {
      if (event.worker_id) this.queue.worker(event.worker_id);
      else if (event.type.startsWith('worker.')) this.queue.mark('workers');
    }
    // The server deletes a repo's (finished) tasks with it, and no event names them: they leave
    // the table now (the counts by status drop by the event's `tasks_deleted`).
    const tasks = event.type === 'repo.deleted' ? this.withoutRepo(event.repo) : null;
    this.update({
      ...(tasks ? { tasks } : {}),
      lastSeq: event.seq,
      feed: [event, ...this.current.feed].slice(0, this.options.feedSize),
      historyVersion: this.current.historyVersion + (changedHistory ? 1 : 0),
    });
    for (const watcher of this.eventWatchers) watcher(event);
  }

  private onStreamStatus(status: StreamStatus): void {
    if (status === 'offline') {
      this.update({
        stream: status,
        offlineSince: this.current.offlineSince ?? this.options.now(),
      });
      return;
    }
    const wasOffline = this.current.offlineSince !== null;
    // Trying again is still offline, as far as the banner is concerned.
    if (status === 'connecting' && wasOffline) return;
    if (status === 'live' && wasOffline) this.queue.mark('all');
    this.update({ stream: status, offlineSince: null });
  }

  private async reread(batch: RefreshBatch): Promise<void> {
    try {
      const everything = batch.all || batch.taskIds.size > REREAD_ALL_OVER;
      const allWorkers = batch.all || batch.workers || batch.workerIds.size > REREAD_ALL_OVER;
      const [tasks, repos, workers] = await Promise.all([
        everything ? this.loadTasks() : this.rereadTasks(batch.taskIds),
        batch.all || batch.repos ? this.api.listRepos() : null,
        allWorkers ? this.api.listWorkers() : this.rereadWorkers(batch.workerIds),
      ]);
      if (this.stopped) return;
      this.update({
        ...(tasks ?? {}),
        ...(repos ? { repos } : {}),
        ...(workers ? { workers } : {}),
        refreshError: null,
      });
    } catch (error) {
      if (isUnauthorized(error)) this.onTokenRefused(error);
      else if (!this.stopped) this.update({ refreshError: describeError(error) });
    }
  }

  /** Re-reads single tasks; one that is gone (404) leaves the table. */
  private async rereadTasks(ids: Set<string>): Promise<Pick<PoolView, 'tasks'> | null> {
    if (ids.size === 0) return null;
    const gone: string[] = [];
    const found = await Promise.all(
      [...ids].map((id) =>
        this.api.getTask(id).catch((error: unknown) => {
          if (error instanceof OwpError && error.code === 'task_not_found') gone.push(id);
          else throw error;
          return null;
        }),
      ),
    );
    const tasks = this.withTasks(
      found.filter((t): t is Task => t !== null),
      gone,
    );
    return tasks ? { tasks } : null;
  }

  /**
   * Re-reads single workers: each replaces its row, a new one comes last (as the list orders them,
   * by registration), one that is gone (404) leaves.
   */
  private async rereadWorkers(ids: Set<string>): Promise<Worker[] | null> {
    if (ids.size === 0) return null;
    const read = await Promise.all(
      [...ids].map((id) =>
        this.api.getWorker(id).catch((error: unknown) => {
          if (error instanceof OwpError && error.code === 'worker_not_found') return id;
          throw error;
        }),
      ),
    );
    const found = new Map<string, Worker>();
    const gone = new Set<string>();
    for (const result of read) {
      if (typeof result === 'string') gone.add(result);
      else found.set(result.worker_id, result);
    }
    const known = new Set(this.current.workers.map((w) => w.worker_id));
    return [
      ...this.current.workers
        .filter((w) => !gone.has(w.worker_id))
        .map((w) => found.get(w.worker_id) ?? w),
      ...[...found.values()].filter((w) => !known.has(w.worker_id)),
    ];
  }

  /** A copy of the task map with these tasks put in (unless older than what is there). */
  private withTasks(updated: Task[], removed: string[] = []): Map<string, Task> | null {
    const tasks = new Map(this.current.tasks);
    let changed = false;
    for (const task of updated) {
      const known = tasks.get(task.task_id);
      if (known && known.version > task.version) continue;
      tasks.set(task.task_id, task);
      changed = true;
    }
    for (const id of removed) changed = tasks.delete(id) || changed;
    return changed ? tasks : null;
  }

  /** A copy of the task map without the repo's tasks, or null when it held none. */
  private withoutRepo(repo: string | null): Map<string, Task> | null {
    const tasks = new Map([...this.current.tasks].filter(([, task]) => task.repo !== repo));
    return tasks.size < this.current.tasks.size ? tasks : null;
  }

  private async loadTasks(): Promise<Pick<PoolView, 'tasks' | 'tasksTruncated'>> {
    const filter = this.poolTooLarge ? this.serverFilter : {};
    const newestFirst: Task[] = [];
    let cursor: string | undefined;
    let capped = false;
    for (;;) {
      // Newest first: past the cap, the oldest tasks are the ones left out.
      const page = await this.api.listTasks({
        ...filter,
        order: 'newest',
        limit: this.options.taskPageSize,
        cursor,
      });
      newestFirst.push(...page.tasks);
      if (!page.next_cursor) break;
      if (newestFirst.length >= this.options.maxTasks) {
        capped = true;
        break;
      }
      cursor = page.next_cursor;
    }
    // Only an unfiltered read says whether the whole pool fits in the page.
    if (!filter.repo && !filter.status) this.poolTooLarge = capped;
    // Kept in creation order, as the pool lists them.
    const tasks = new Map(newestFirst.reverse().map((task) => [task.task_id, task]));
    return { tasks, tasksTruncated: this.poolTooLarge };
  }

  private async loadEvents(after: number): Promise<OwpEvent[]> {
    const events: OwpEvent[] = [];
    for (;;) {
      const page = await this.api.events(after, EVENT_PAGE);
      events.push(...page);
      if (page.length < EVENT_PAGE) return events;
      after = page.at(-1)!.seq;
    }
  }

  private update(patch: Partial<PoolView>): void {
    this.current = { ...this.current, ...patch };
    for (const listener of this.listeners) listener(this.current);
  }
}
