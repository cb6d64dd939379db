import {
  listAllTasks,
  OwpError,
  type OwpApi,
  type OwpEvent,
  type Repo,
  type StreamStatus,
  type Subscription,
  type Task,
  type TaskStatus,
  type WorkOffer,
  type Worker,
} from '../../protocol/index.ts';
import type { PoolBackend } from '../backend/pool-backend.ts';
import { EMPTY_SNAPSHOT, type PoolSnapshot } from './pool-snapshot.ts';
import { platformTimers } from '../../scheduler/timers.ts';

export interface StoreTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PoolStoreOptions {
  backend: PoolBackend;
  /** Whether the credentials are an admin's: the whole pool, or only the worker's own tasks. */
  admin: boolean;
  /** The local worker's id, for "my work"; a worker-only store learns it from `getWork`. */
  workerId?: string | null;
  /** Events kept for the activity feed (default 200). */
  feedSize?: number;
  /**
   * Runs a batch of refreshes soon: the glue passes `requestAnimationFrame`, so a burst of events
   * costs one redraw. Default: a 16 ms timer.
   */
  scheduleBatch?: (run: () => void) => void;
  timers?: StoreTimers;
  /**
   * Wait before retrying a failed load or refresh (default 5 s). Credentials the pool refused are
   * not retried: see `refusedBy`.
   */
  retryMs?: number;
  /**
   * More changed tasks, or workers, than this in one batch reload that whole list instead
   * (default 50).
   */
  reloadThreshold?: number;
}

/** What a load produces: the picture up to `lastSeq`, which the stream then continues. */
type Picture = Pick<
  PoolSnapshot,
  'tasks' | 'workers' | 'repos' | 'offers' | 'state' | 'lastSeq' | 'events' | 'me'
>;

const PAGE = 500;
/** Statuses in which a task is still the worker's business (and readable by it). */
const WORKER_OWNED: readonly TaskStatus[] = ['leased', 'in_progress', 'blocked', 'pr_opened'];
/** Refresh answers that mean "this task is gone from your view", not "try again". */
const GONE_CODES = new Set(['task_not_found', 'forbidden', 'not_lease_holder']);
/**
 * Offer answers that mean "this vault has no worker the pool knows" (a token gone, or an admin-only
 * vault with a stale worker id): no offers, rather than an error to retry forever.
 */
const NO_WORKER_CODES = new Set(['unauthorized', 'forbidden', 'worker_not_found']);
/**
 * Credentials the pool does not take (wrong, changed on the server, or none: a worker not
 * registered yet): no retry will help. The same codes stop the note sync (`PoolSession`).
 */
const REFUSED_CODES = new Set(['unauthorized', 'forbidden']);

const DEFAULT_TIMERS: StoreTimers = platformTimers;

/**
 * The live picture of the pool the views read, fed by any `PoolBackend`. It loads everything once,
 * then follows the event stream from the sequence it loaded up to: what an event says by itself
 * (the feed, a renewed lease) is applied at once; anything else refetches what the event touched,
 * batched so a burst costs one round of calls and one redraw. Refreshes are idempotent, so events
 * replayed after a reconnect do no harm. Offline, the last picture stays, marked `offline`.
 *
 * A Svelte store: `subscribe(run)` calls `run` at once with the current snapshot.
 */
export class PoolStore {
  private current: PoolSnapshot;
  private readonly listeners = new Set<(snapshot: PoolSnapshot) => void>();
  private readonly feedSize: number;
  private readonly timers: StoreTimers;
  private readonly scheduleBatch: (run: () => void) => void;

  private subscription: Subscription | null = null;
  /** Bumped by every load: answers to an older load or batch are dropped. */
  private generation = 0;
  private loading: Promise<void> = Promise.resolve();
  private stopped = true;
  private retryTimer: unknown = null;

  private incoming: OwpEvent[] = [];
  private readonly staleTasks = new Set<string>();
  /** Workers an event named: each is read again on its own, unless `staleWorkers` reads them all. */
  private readonly staleWorkerIds = new Set<string>();
  private staleWorkers = false;
  private staleRepos = false;
  private staleState = false;
  private staleOffers = false;
  private batchScheduled = false;
  private batches: Promise<void> = Promise.resolve();

  constructor(private readonly options: PoolStoreOptions) {
    this.feedSize = options.feedSize ?? 200;
    this.timers = options.timers ?? DEFAULT_TIMERS;
    this.scheduleBatch = options.scheduleBatch ?? ((run) => this.timers.setTimeout(run, 16));
    this.current = {
      ...EMPTY_SNAPSHOT,
      scope: options.admin ? 'admin' : 'worker',
      me: options.workerId ?? null,
    };
  }

  /** The current snapshot. */
  get snapshot(): PoolSnapshot {
    return this.current;
  }

  /** Svelte's store contract: `run` now and on every change; returns the unsubscribe function. */
  subscribe(run: (snapshot: PoolSnapshot) => void): () => void {
    this.listeners.add(run);
    run(this.current);
    return () => this.listeners.delete(run);
  }

  /** Loads the picture and follows the stream. Resolves after the first load, even a failed one. */
  start(): Promise<void> {
    this.stopped = false;
    return this.reload();
  }

  /** Stops following the stream; the last picture stays readable. */
  stop(): void {
    this.stopped = true;
    this.generation++;
    this.subscription?.close();
    this.subscription = null;
    this.cancelRetry();
  }

  /** Loads everything again (after re-registering, or when the host knows the network is back). */
  reload(): Promise<void> {
    this.loading = this.load();
    return this.loading;
  }

  /**
   * Asks once more after the pool refused the credentials (the user is back, or the network is):
   * a refusal is never retried by itself. Without one, does nothing.
   */
  retryRefused(): Promise<void> {
    return this.current.refused === null || this.stopped ? Promise.resolve() : this.reload();
  }

  /** Sets the local worker, e.g. after "register as worker", and reads its offers. */
  setWorkerId(workerId: string | null): void {
    this.publish({ me: workerId, ...(workerId ? {} : { offers: [] }) });
    if (workerId) this.refreshOffers();
  }

  /**
   * Reads the local worker's offers again soon. Events keep them current; after the worker answers
   * one, the host asks as well, so the list follows even while the stream is down.
   */
  refreshOffers(): void {
    if (!this.current.me) return;
    this.staleOffers = true;
    this.requestBatch();
  }

  /** Resolves once nothing is loading, queued or being refreshed (for tests and the glue). */
  async whenIdle(): Promise<void> {
    for (;;) {
      await this.loading;
      await this.batches;
      if (!this.batchScheduled && this.incoming.length === 0) return;
      await new Promise((resolve) => platformTimers.setTimeout(() => resolve(undefined), 1));
    }
  }

  // ── loading ──────────────────────────────────────────────────────────────────────────────────

  private async load(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.cancelRetry();
    this.subscription?.close();
    this.subscription = null;
    if (this.current.phase !== 'ready') this.publish({ phase: 'loading' });
    let picture: Picture;
    try {
      picture = this.options.admin ? await this.loadAdmin() : await this.loadWorker();
    } catch (error) {
      if (generation !== this.generation) return;
      if (isRefusal(error)) return this.refusedBy(error);
      // Keep a picture we already had; without one, say the pool is unreachable (which says
      // nothing of the token any more: an earlier refusal is no longer known to hold).
      this.publish({
        phase: this.current.phase === 'ready' ? 'ready' : 'failed',
        connection: 'offline',
        error: describe(error),
        refused: null,
      });
      this.retryLater(() => void this.reload());
      return;
    }
    if (generation !== this.generation) return;
    // The picture is newer than anything queued before it; the stream replays what came after.
    this.incoming = [];
    this.staleTasks.clear();
    this.staleWorkerIds.clear();
    this.staleWorkers = this.staleRepos = this.staleState = this.staleOffers = false;
    this.publish({ ...picture, phase: 'ready', error: null, refused: null });
    this.subscription = this.options.backend.subscribe(
      picture.lastSeq,
      (event) => this.receive(event),
      (status) => this.connectionChanged(status),
    );
  }

  /** Everything, as an admin sees it. The sequence is read first so no event falls in between. */
  private async loadAdmin(): Promise<Picture> {
    const api = this.api;
    const state = await api.state();
    const lastSeq = state.last_event_seq;
    const me = this.current.me;
    const [tasks, workers, repos, recent, offers] = await Promise.all([
      listAllTasks(api),
      api.listWorkers(),
      api.listRepos(),
      api.events(Math.max(0, lastSeq - this.feedSize), this.feedSize),
      me ? readOffers(api) : [],
    ]);
    return {
      tasks: new Map(tasks.map((t) => [t.task_id, t])),
      workers: new Map(workers.map((w) => [w.worker_id, w])),
      repos: new Map(repos.map((r) => [r.repo, r])),
      offers,
      state,
      lastSeq,
      events: recent.filter((e) => e.seq <= lastSeq),
      me,
    };
  }

  /**
   * What a worker may see: its leases, plus tasks its own events show it still has (a PR waiting
   * for review is no lease in `getWork`, but still its task).
   */
  private async loadWorker(): Promise<Picture> {
    const api = this.api;
    const work = await api.getWork();
    const lastStatus = new Map<string, TaskStatus>();
    let recent: OwpEvent[] = [];
    let lastSeq = 0;
    for (;;) {
      const page = await api.events(lastSeq, PAGE);
      for (const event of page) {
        if (event.type === 'task.status_changed' && event.task_id) {
          lastStatus.set(event.task_id, event.data.to);
        }
      }
      recent = [...recent, ...page].slice(-this.feedSize);
      lastSeq = page.at(-1)?.seq ?? lastSeq;
      if (page.length < PAGE) break;
    }
    const ids = new Set(work.leases.map((l) => l.task_id));
    for (const [id, status] of lastStatus) if (WORKER_OWNED.includes(status)) ids.add(id);
    const [tasks, offers] = await Promise.all([
      Promise.all([...ids].map((id) => readTask(api, id))),
      readOffers(api),
    ]);
    return {
      tasks: new Map(tasks.filter((t): t is Task => t !== null).map((t) => [t.task_id, t])),
      workers: new Map(),
      repos: new Map(),
      offers,
      state: null,
      lastSeq,
      events: recent,
      me: work.worker_id,
    };
  }

  // ── following the stream ─────────────────────────────────────────────────────────────────────

  private receive(event: OwpEvent): void {
    this.incoming.push(event);
    const admin = this.options.admin;
    switch (event.type) {
      case 'task.created':
      case 'task.updated':
        if (event.task_id) this.staleTasks.add(event.task_id);
        this.staleState ||= admin;
        break;
      case 'task.status_changed':
        if (event.task_id) this.staleTasks.add(event.task_id);
        // A move changes the load of the worker it names, the repo's budget and the counts too.
        if (admin) this.workerChanged(event.worker_id);
        this.staleRepos ||= admin;
        this.staleState ||= admin;
        break;
      case 'lease.renewed':
        // Applied from the event itself, unless the task is not known yet.
        if (event.task_id && !this.current.tasks.has(event.task_id)) {
          this.staleTasks.add(event.task_id);
        }
        break;
      case 'repo.upserted':
        this.staleRepos ||= admin;
        break;
      case 'repo.deleted':
        // The repo and its tasks leave with the event (`applyIncoming`); the counts drop too.
        this.staleState ||= admin;
        break;
      case 'offer.made':
      case 'offer.accepted':
      case 'offer.rejected':
      case 'offer.expired':
      case 'offer.withdrawn':
        // The task's own move comes as a status change; here only the local worker's list moves.
        this.staleOffers ||= !!event.worker_id && event.worker_id === this.current.me;
        break;
      default: // worker.*
        if (admin) this.workerChanged(event.worker_id);
        this.staleState ||= admin;
    }
    this.requestBatch();
  }

  /**
   * The worker an event names is read again on its own: at 10,000 workers the whole list is ~4 MB
   * and ~65 ms of the server's thread, and a busy pool moves some worker's load many times a second.
   */
  private workerChanged(workerId: string | null): void {
    if (workerId) this.staleWorkerIds.add(workerId);
    else this.staleWorkers = true;
  }

  private connectionChanged(status: StreamStatus): void {
    this.publish(
      status === 'live' ? { connection: status, refused: null } : { connection: status },
    );
    // Back online: refresh what failed while away.
    if (status === 'live' && this.hasStale()) this.requestBatch();
    if (status === 'offline') this.askWhyOffline();
  }

  /**
   * The stream does not say why it went offline, and it retries a token the pool refuses (one
   * changed on the server) as it would a lost network, for ever: one request tells them apart, so
   * the views can say to enter the new token rather than "reconnecting…".
   */
  private askWhyOffline(): void {
    const generation = this.generation;
    this.api.events(this.current.lastSeq, 1).then(
      () => undefined,
      (error: unknown) => {
        if (generation !== this.generation || this.current.connection !== 'offline') return;
        if (isRefusal(error)) this.refusedBy(error);
      },
    );
  }

  private hasStale(): boolean {
    return (
      this.staleTasks.size > 0 ||
      this.staleWorkerIds.size > 0 ||
      this.staleWorkers ||
      this.staleRepos ||
      this.staleState ||
      this.staleOffers
    );
  }

  private requestBatch(): void {
    if (this.batchScheduled || this.stopped) return;
    this.batchScheduled = true;
    this.scheduleBatch(() => {
      this.batchScheduled = false;
      // One batch at a time, so answers are applied in the order they were asked for.
      this.batches = this.batches
        .then(() => this.runBatch())
        .catch((error: unknown) => this.publish({ error: describe(error) }));
    });
  }

  private async runBatch(): Promise<void> {
    const generation = this.generation;
    this.applyIncoming();
    if (!this.hasStale()) return;

    const ids = [...this.staleTasks];
    const workerIds = [...this.staleWorkerIds];
    const threshold = this.options.reloadThreshold ?? 50;
    const wanted = {
      workers: this.staleWorkers || workerIds.length > threshold,
      repos: this.staleRepos,
      state: this.staleState,
      offers: this.staleOffers && !!this.current.me,
    };
    this.staleTasks.clear();
    this.staleWorkerIds.clear();
    this.staleWorkers = this.staleRepos = this.staleState = this.staleOffers = false;

    const api = this.api;
    const reloadAll = this.options.admin && ids.length > threshold;
    const [tasks, workers, repos, state, offers] = await Promise.allSettled([
      reloadAll ? listAllTasks(api) : Promise.all(ids.map((id) => readTask(api, id))),
      this.readWorkers(wanted.workers, workerIds),
      wanted.repos ? api.listRepos() : null,
      wanted.state ? api.state() : null,
      wanted.offers ? readOffers(api) : null,
    ]);
    if (generation !== this.generation) return; // a reload replaced the picture meanwhile

    const patch: Partial<PoolSnapshot> = { error: null };
    const failures: unknown[] = [];
    if (tasks.status === 'fulfilled') {
      patch.tasks = reloadAll
        ? new Map(tasks.value.filter((t): t is Task => t !== null).map((t) => [t.task_id, t]))
        : mergeTasks(this.current.tasks, ids, tasks.value);
    } else {
      failures.push(tasks.reason);
      for (const id of ids) this.staleTasks.add(id);
    }
    if (workers.status === 'fulfilled') {
      if (workers.value) patch.workers = workers.value;
    } else {
      failures.push(workers.reason);
      if (wanted.workers) this.staleWorkers = true;
      else for (const id of workerIds) this.staleWorkerIds.add(id);
    }
    if (repos.status === 'fulfilled') {
      if (repos.value) patch.repos = new Map(repos.value.map((r) => [r.repo, r]));
    } else {
      failures.push(repos.reason);
      this.staleRepos = true;
    }
    if (state.status === 'fulfilled') {
      if (state.value) patch.state = state.value;
    } else {
      failures.push(state.reason);
      this.staleState = true;
    }
    if (offers.status === 'fulfilled') {
      if (offers.value) patch.offers = offers.value;
    } else {
      failures.push(offers.reason);
      this.staleOffers = true;
    }
    const refusal = failures.find(isRefusal);
    if (refusal) {
      // What did arrive is kept; nothing is asked again until the credentials change.
      this.publish(patch);
      return this.refusedBy(refusal);
    }
    if (failures.length > 0) {
      patch.error = describe(failures[0]);
      this.retryLater(() => this.requestBatch());
    }
    this.publish(patch);
  }

  /** Every worker, or those named (each replacing its entry; one gone leaves), or null: none. */
  private async readWorkers(all: boolean, ids: string[]): Promise<Map<string, Worker> | null> {
    if (all) return new Map((await this.api.listWorkers()).map((w) => [w.worker_id, w]));
    if (ids.length === 0) return null;
    const read = await Promise.all(ids.map((id) => readWorker(this.api, id)));
    const workers = new Map(this.current.workers);
    ids.forEach((id, i) => {
      const worker = read[i];
      if (worker) workers.set(id, worker);
      else workers.delete(id);
    });
    return workers;
  }

  /**
   * The feed, the sequence number, renewed leases and deleted repos: what events say by themselves.
   * A deleted repo takes its tasks with it (the pool deletes them, all finished): no task event
   * says so, and reading them again would only answer "not found".
   */
  private applyIncoming(): void {
    if (this.incoming.length === 0) return;
    const events = this.incoming;
    this.incoming = [];
    let tasks: Map<string, Task> | null = null;
    let repos: Map<string, Repo> | null = null;
    for (const event of events) {
      if (event.type === 'repo.deleted' && event.repo) {
        const gone = event.repo;
        repos ??= new Map(this.current.repos);
        repos.delete(gone);
        tasks ??= new Map(this.current.tasks);
        for (const [id, task] of tasks) if (task.repo === gone) tasks.delete(id);
        continue;
      }
      if (event.type !== 'lease.renewed' || !event.task_id) continue;
      const task = (tasks ?? this.current.tasks).get(event.task_id);
      if (!task?.lease || task.lease.lease_id !== event.data.lease_id) continue;
      tasks ??= new Map(this.current.tasks);
      tasks.set(task.task_id, {
        ...task,
        lease: { ...task.lease, expires_at: event.data.expires_at },
      });
    }
    const feed = [...this.current.events, ...events].slice(-this.feedSize);
    this.publish({
      events: feed,
      lastSeq: Math.max(this.current.lastSeq, events.at(-1)!.seq),
      ...(tasks ? { tasks } : {}),
      ...(repos ? { repos } : {}),
    });
  }

  // ── plumbing ─────────────────────────────────────────────────────────────────────────────────

  private get api(): OwpApi {
    return this.options.backend.api;
  }

  private publish(patch: Partial<PoolSnapshot>): void {
    this.current = { ...this.current, ...patch };
    for (const listener of this.listeners) listener(this.current);
  }

  /**
   * The pool refused the credentials. Asking again would not help, and every refused request
   * counts against the address's failed sign-ins (30 a minute on the server, shared by every vault
   * behind one office address; past them it refuses even good tokens): the store stops — load,
   * refreshes and the stream alike — and says why, until new credentials start a new store or
   * `retryRefused` asks once more. The last picture, if any, stays.
   */
  private refusedBy(error: unknown): void {
    this.generation++;
    this.subscription?.close();
    this.subscription = null;
    this.cancelRetry();
    this.publish({
      phase: this.current.phase === 'ready' ? 'ready' : 'failed',
      connection: 'offline',
      error: describe(error),
      refused: describe(error),
    });
  }

  private retryLater(retry: () => void): void {
    if (this.retryTimer !== null || this.stopped) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) retry();
    }, this.options.retryMs ?? 5000);
  }

  private cancelRetry(): void {
    if (this.retryTimer === null) return;
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}

/** The local worker's open offers; none when the pool does not know the worker. */
async function readOffers(api: OwpApi): Promise<WorkOffer[]> {
  try {
    return (await api.listOffers()).offers;
  } catch (error) {
    if (meansNoWorker(error)) return [];
    throw error;
  }
}

/** A task, or null when it is gone from the caller's view; other failures propagate. */
async function readTask(api: OwpApi, id: string): Promise<Task | null> {
  try {
    return await api.getTask(id);
  } catch (error) {
    if (error instanceof OwpError && GONE_CODES.has(error.code)) return null;
    throw error;
  }
}

async function readWorker(api: OwpApi, id: string): Promise<Worker | null> {
  try {
    return await api.getWorker(id);
  } catch (error) {
    if (error instanceof OwpError && error.code === 'worker_not_found') return null;
    throw error;
  }
}

/** Applies refetched tasks, never letting an older version replace a newer one. */
function mergeTasks(
  current: ReadonlyMap<string, Task>,
  ids: readonly string[],
  fetched: readonly (Task | null)[],
): Map<string, Task> {
  const tasks = new Map(current);
  ids.forEach((id, i) => {
    const task = fetched[i];
    if (!task) tasks.delete(id);
    else if ((tasks.get(id)?.version ?? 0) <= task.version) tasks.set(id, task);
  });
  return tasks;
}

/** An answer that means the pool knows no worker of this vault (`NO_WORKER_CODES`). */
export function meansNoWorker(error: unknown): boolean {
  return error instanceof OwpError && NO_WORKER_CODES.has(error.code);
}

/** Credentials the pool refused (`REFUSED_CODES`): asking again with them will not help. */
export function isRefusal(error: unknown): boolean {
  return error instanceof OwpError && REFUSED_CODES.has(error.code);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
