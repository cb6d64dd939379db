import {
  type HeartbeatRequest,
  type OwpApi,
  type RegisterWorkerRequest,
  type RegisterWorkerResponse,
} from '../../protocol/index.ts';
import { EmbeddedBackend } from '../backend/embedded-backend.ts';
import type { PoolBackend } from '../backend/pool-backend.ts';
import { RemoteBackend } from '../backend/remote-backend.ts';
import type { PoolSnapshot } from '../state/pool-snapshot.ts';
import { isRefusal, meansNoWorker, PoolStore } from '../state/pool-store.ts';
import type { NoteStore } from '../sync/note-store.ts';
import {
  NoteSync,
  type DeletedNotes,
  type NoteSyncSettings,
  type ReconcileReport,
} from '../sync/note-sync.ts';
import { creatingReposOnDemand } from './repo-on-demand.ts';

/** Timers the session runs its heartbeat with; the glue passes the window's. */
export interface SessionTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface PoolSessionOptions {
  backend: PoolBackend;
  /** Admin credentials: the whole pool is shown and the notes are synced. */
  admin: boolean;
  /** The local worker, when this vault has registered one in this pool. */
  workerId: string | null;
  /** The task notes; null turns the note sync off (it needs admin credentials). */
  notes: { store: NoteStore; settings: NoteSyncSettings; deleted?: DeletedNotes } | null;
  notify: (message: string) => void;
  timers: SessionTimers;
  /** How often an online worker sends its heartbeat (default 30 s; the pool's TTL is 90 s). */
  heartbeatMs?: number;
  /** How the store batches redraws (the glue passes `requestAnimationFrame`). */
  scheduleBatch?: (run: () => void) => void;
  /** Quiet time before a note edit is sent (default: the sync's). */
  syncDebounceMs?: number;
}

/** How long a stopping session waits for the pool to hear that its worker is going. */
const PAUSED_ON_STOP_WAIT_MS = 3_000;

/**
 * One connection to one pool, with everything that runs on it: the backend (embedded engine or
 * remote server), the live store the views read, the two-way note sync, and — while the worker is
 * online — the heartbeat. Settings that change the pool (mode, server, tokens) replace the whole
 * session; nothing here imports `obsidian`, so it is tested as it is.
 */
export class PoolSession {
  readonly store: PoolStore;
  private noteSync: NoteSync | null;
  /** The timer of the next try at starting the note sync, after one failed. */
  private syncRetry: unknown = null;
  private heartbeat: unknown = null;
  private beating: Promise<void> = Promise.resolve();
  private workerId: string | null;
  private readonly onlineListeners = new Set<(online: boolean) => void>();
  private stopped = false;
  private started: Promise<ReconcileReport | null> | null = null;
  /**
   * The note sync is stopped because the pool refused the credentials: its event stream would
   * otherwise ask again with them every 15 s, for as long as Obsidian runs, each a failed sign-in
   * the server counts against the address. It starts again once the store is let in (`storeChanged`).
   */
  private syncRefused = false;

  constructor(private readonly options: PoolSessionOptions) {
    this.workerId = options.workerId;
    this.store = new PoolStore({
      backend: options.backend,
      admin: options.admin,
      workerId: options.workerId,
      scheduleBatch: options.scheduleBatch,
      timers: options.timers,
    });
    this.noteSync = this.newSync();
    this.store.subscribe((snapshot) => this.storeChanged(snapshot));
  }

  /** The two-way note sync, or null without admin credentials or notes. */
  get sync(): NoteSync | null {
    return this.noteSync;
  }

  private newSync(): NoteSync | null {
    const { admin, notes, backend } = this.options;
    if (!admin || !notes) return null;
    return new NoteSync({
      api: lazyApi(() => this.syncApi()),
      store: notes.store,
      settings: notes.settings,
      ...(notes.deleted ? { deletedNotes: notes.deleted } : {}),
      notify: this.options.notify,
      subscribe: (after, onEvent, onStatus) => backend.subscribe(after, onEvent, onStatus),
      timers: this.options.timers,
      debounceMs: this.options.syncDebounceMs,
    });
  }

  private syncApiCache: { api: OwpApi; wrapped: OwpApi } | null = null;

  /** The note sync's API: in embedded mode a new note's unknown repo is created, not refused. */
  private syncApi(): OwpApi {
    const backend = this.options.backend;
    if (!(backend instanceof EmbeddedBackend)) return backend.api;
    if (this.syncApiCache?.api !== backend.api) {
      this.syncApiCache = { api: backend.api, wrapped: creatingReposOnDemand(backend.api) };
    }
    return this.syncApiCache.wrapped;
  }

  get backend(): PoolBackend {
    return this.options.backend;
  }

  get api(): OwpApi {
    return this.options.backend.api;
  }

  /** Whether the session acts with admin credentials. */
  get admin(): boolean {
    return this.options.admin;
  }

  /** Whether the heartbeat is running. */
  get online(): boolean {
    return this.heartbeat !== null;
  }

  get localWorkerId(): string | null {
    return this.workerId;
  }

  onOnlineChange(listener: (online: boolean) => void): () => void {
    this.onlineListeners.add(listener);
    return () => this.onlineListeners.delete(listener);
  }

  /**
   * Opens the backend, loads the picture the views show, then reconciles the notes. Resolves with
   * the reconcile's report (null without note sync); a failed reconcile is told to the user, the
   * rest runs on, and the sync tries again later (see `syncFailed`).
   */
  start(): Promise<ReconcileReport | null> {
    this.started ??= (async () => {
      const { backend } = this.options;
      await backend.start();
      if (backend instanceof EmbeddedBackend && backend.upgradeCopy) {
        this.options.notify(
          `OWP Pool upgraded its database for this version; the one from before is kept as ` +
            `${backend.upgradeCopy} in the plugin's folder.`,
        );
      }
      // The views first: the store's load is quick, the reconcile of every note is not, and both
      // share one thread. The notes follow; their edits made meanwhile wait in the sync's buffer.
      await this.store.start();
      return this.startSync(0);
    })();
    return this.started;
  }

  private async startSync(failures: number): Promise<ReconcileReport | null> {
    const sync = this.noteSync;
    if (!sync || this.stopped) return null;
    try {
      const report = await sync.start();
      if (failures > 0) this.options.notify('The task notes are in sync with the pool again.');
      return report;
    } catch (error) {
      // Stopped meanwhile (the session, or the pool refusing the credentials): nothing to retry.
      if (sync === this.noteSync && !this.syncRefused) this.syncFailed(error, failures + 1);
      return null;
    }
  }

  /**
   * The store's credentials refused (a token changed or revoked on the server while Obsidian ran):
   * the note sync stops with the store, and starts again — reconciling what was edited meanwhile —
   * once the store is let in again (the same token accepted after `retryRefused`).
   */
  private storeChanged(snapshot: PoolSnapshot): void {
    if (this.stopped || !this.noteSync) return;
    if (snapshot.refused !== null) {
      if (this.syncRefused) return;
      this.syncRefused = true;
      if (this.syncRetry !== null) this.options.timers.clearTimeout(this.syncRetry);
      this.syncRetry = null;
      this.noteSync.stop();
      this.options.notify(
        'The task notes stop syncing while the pool refuses this vault’s token; note edits made ' +
          'meanwhile are sent once it lets the vault in again.',
      );
    } else if (this.syncRefused && snapshot.phase === 'ready') {
      this.syncRefused = false;
      this.noteSync = this.newSync();
      void this.startSync(1);
    }
  }

  /**
   * The sync could not start — the server unreachable as Obsidian opened, say. The views recover
   * by themselves when the server is back; the notes try again with a new sync after 5 s, then
   * less often, up to once a minute, telling the user once. Credentials the pool refused are not
   * tried again: new ones start a new session anyway.
   */
  private syncFailed(error: unknown, failures: number): void {
    const refused = isRefusal(error);
    if (refused) this.syncRefused = true;
    if (failures === 1) {
      this.options.notify(
        `Could not sync the task notes: ${messageOf(error)}` +
          (refused ? '' : '; trying again in the background.'),
      );
    }
    if (refused || this.stopped) return;
    const delay = Math.min(60_000, 5_000 * 2 ** (failures - 1));
    this.syncRetry = this.options.timers.setTimeout(() => {
      this.syncRetry = null;
      if (this.stopped) return;
      this.noteSync = this.newSync();
      void this.startSync(failures);
    }, delay);
  }

  /**
   * Stops the heartbeat — an online worker says it is going, as going offline does —, sends note
   * edits still waiting, stops following the pool and closes the backend — in embedded mode that
   * saves the database one last time.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.syncRetry !== null) this.options.timers.clearTimeout(this.syncRetry);
    this.syncRetry = null;
    const wasOnline = this.online;
    this.stopHeartbeat();
    await this.started?.catch(() => null);
    // Without it the pool counts the worker online, and grants it new leases, for up to 90 s
    // after the last beat. Bounded: a server that does not answer must not hold up the stop.
    if (wasOnline) await this.sayPaused(PAUSED_ON_STOP_WAIT_MS);
    try {
      await this.sync?.flush();
    } finally {
      this.sync?.stop();
      this.store.stop();
      await this.options.backend.stop();
    }
  }

  /**
   * Registers the local worker. In embedded mode the session acts as it at once; a remote
   * session's credentials are fixed, so the host starts a new session with the token returned.
   */
  async registerWorker(request: RegisterWorkerRequest): Promise<RegisterWorkerResponse> {
    const backend = this.options.backend;
    const registered =
      backend instanceof EmbeddedBackend
        ? await backend.registerLocalWorker(request.name, request.skills ?? [], {
            capacity_points: request.capacity_points,
            max_concurrent_tasks: request.max_concurrent_tasks,
            github_handle: request.github_handle,
          })
        : await backend.api.registerWorker(request);
    if (backend instanceof EmbeddedBackend) {
      this.workerId = registered.worker_id;
      this.store.setWorkerId(registered.worker_id);
    }
    return registered;
  }

  /**
   * Online: a heartbeat now and every `heartbeatMs`, which keeps the worker eligible and renews its
   * leases; the pool assigns work on each. Offline: the heartbeat stops, after one last beat that
   * reports the worker paused, so no new lease is granted in the time the pool still counts it
   * online. Leases already held stay until they expire or are released.
   */
  async setOnline(online: boolean): Promise<void> {
    if (online === this.online || this.stopped) return;
    if (!this.workerId) throw new Error('Register as a worker first.');
    if (online) {
      await this.beat();
      if (this.stopped || this.online) return;
      this.heartbeat = this.options.timers.setInterval(
        () => void this.beat().catch((error: unknown) => this.heartbeatFailed(error)),
        this.options.heartbeatMs ?? 30_000,
      );
      this.announceOnline();
    } else {
      this.stopHeartbeat();
      await this.sayPaused();
    }
  }

  /**
   * The app became visible or the network came back: reconnect at once, and beat if online.
   * Credentials the pool refused are tried once more too — never on a timer: see `PoolStore`.
   */
  wake(reason: 'visible' | 'online'): void {
    const backend = this.options.backend;
    if (backend instanceof RemoteBackend) {
      if (reason === 'online') backend.notifyOnline();
      else backend.notifyVisible();
    }
    void this.store.retryRefused();
    if (this.online) void this.beat().catch((error: unknown) => this.heartbeatFailed(error));
  }

  /** The app is going to the background (a phone may stop it there): save now. */
  async sleep(): Promise<void> {
    const backend = this.options.backend;
    if (backend instanceof EmbeddedBackend) await backend.persister.flush();
  }

  /**
   * The last beat, after the heartbeat stopped: the worker is paused, so the pool grants it no new
   * lease in the time it still counts it online. A failure is let go (the pool then learns it from
   * the missing beats); `waitMs` bounds the wait for an answer.
   */
  private async sayPaused(waitMs?: number): Promise<void> {
    // After the beat on its way, if any, so the pause is the last word.
    const said = this.beating
      .catch(() => undefined)
      .then(() => this.api.heartbeat({ status: 'paused' }))
      .then(
        () => undefined,
        () => undefined,
      );
    if (waitMs === undefined) return said;
    const { timers } = this.options;
    let timer: unknown = null;
    const waited = new Promise<void>((resolve) => {
      timer = timers.setTimeout(() => resolve(), waitMs);
    });
    await Promise.race([said, waited]);
    timers.clearTimeout(timer);
  }

  private beat(): Promise<void> {
    const request: HeartbeatRequest = { status: this.isWorking() ? 'working' : 'idle' };
    this.beating = this.api.heartbeat(request).then(() => undefined);
    return this.beating;
  }

  private isWorking(): boolean {
    for (const task of this.store.snapshot.tasks.values()) {
      if (task.assignee === this.workerId && task.status === 'in_progress') return true;
    }
    return false;
  }

  private heartbeatFailed(error: unknown): void {
    if (meansNoWorker(error)) {
      // Beating on would be refused every 30 s, each a failed sign-in the server counts.
      if (!this.online) return;
      this.stopHeartbeat();
      this.options.notify(
        `The pool refused this vault’s worker (${messageOf(error)}), so it is offline now. ` +
          'Enter its current token in the settings, or register again, then go online.',
      );
      return;
    }
    // The stream's offline banner already says the pool is unreachable; one notice per outage.
    if (this.store.snapshot.connection !== 'offline') {
      this.options.notify(`Heartbeat failed: ${messageOf(error)}`);
    }
  }

  private stopHeartbeat(): void {
    if (this.heartbeat === null) return;
    this.options.timers.clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.announceOnline();
  }

  private announceOnline(): void {
    for (const listener of this.onlineListeners) listener(this.online);
  }
}

/**
 * An `OwpApi` that looks the real one up on each call: the note sync is made before the backend
 * has started, and a started backend's `api` is only readable then.
 */
function lazyApi(resolve: () => OwpApi): OwpApi {
  return new Proxy({} as OwpApi, {
    get(_target, property) {
      const api = resolve();
      const value: unknown = Reflect.get(api, property, api);
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(api)
        : value;
    },
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
