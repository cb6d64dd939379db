import { Notice, parseYaml, type App, type TFile } from 'obsidian';
import { readable, writable, type Readable, type Writable } from 'svelte/store';
import {
  explanationText,
  importKeys,
  type OfferRejectRequest,
  type TaskCreateRequest,
  type TaskStatus,
} from '../../protocol/index.ts';
import { EmbeddedBackend } from '../backend/embedded-backend.ts';
import type { PoolBackend } from '../backend/pool-backend.ts';
import { RemoteBackend } from '../backend/remote-backend.ts';
import type { MyWorkItem, WorkAction } from '../state/my-work.ts';
import { EMPTY_SNAPSHOT, type PoolSnapshot } from '../state/pool-snapshot.ts';
import { meansNoWorker } from '../state/pool-store.ts';
import type { ReconcileReport } from '../sync/note-sync.ts';
import { PoolActions } from '../ui/pool-actions.ts';
import type { PoolViewHost, SessionInfo } from '../ui/view-host.ts';
import { PoolSession, type SessionTimers } from './pool-session.ts';
import { requestUrlTransport } from './request-url-transport.ts';
import {
  isAdminRole,
  isWorkerRole,
  localWorker,
  localWorkerId,
  poolKey,
  withLocalWorker,
  workerTokenSlot,
  type OwpSettings,
} from './settings.ts';
import type { SettingsStore } from './settings-store.ts';
import { describeProblem, ImportFileError, readTaskImport } from './task-import.ts';
import { NewTokenModal } from './new-token-modal.ts';
import { TrustTierModal } from './trust-tier-modal.ts';
import { VaultBinaryStore } from './vault-binary-store.ts';
import { VaultNoteStore } from './vault-note-store.ts';

export interface PoolControllerOptions {
  app: App;
  settings: SettingsStore;
  /** The plugin's folder (`manifest.dir`); the embedded database lives in `db/` under it. */
  pluginDir: string;
  /** The sql.js WASM the build inlines; undefined lets sql.js look for it (tests). */
  sqlWasm?: Uint8Array;
  /** Tells the user something; a `Notice` by default. */
  notify?: (message: string) => void;
  /** Opens a note; the workspace by default. */
  openNote?: (file: TFile) => Promise<void>;
  /** Quiet time before a note edit is sent (tests shorten it). */
  syncDebounceMs?: number;
  /** How often an online worker beats (tests shorten it). */
  heartbeatMs?: number;
}

/** Settings a running session depends on: a change to any of them starts a new one. */
function sessionKey(settings: OwpSettings): string {
  const { mode, serverUrl, role, tasksFolder, archiveFolder, defaultRepo, cancelOnDelete } =
    settings;
  return JSON.stringify([
    mode,
    serverUrl,
    role,
    tasksFolder,
    archiveFolder,
    defaultRepo,
    cancelOnDelete,
  ]);
}

const windowTimers: SessionTimers = {
  setTimeout: (callback, ms) => window.setTimeout(callback, ms),
  clearTimeout: (handle) => window.clearTimeout(handle as number),
  setInterval: (callback, ms) => window.setInterval(callback, ms),
  clearInterval: (handle) => window.clearInterval(handle as number),
};

/**
 * The plugin's pool, kept running across setting changes: builds a `PoolSession` from the settings
 * (embedded or remote, admin or worker), replaces it when they change, and gives the views one
 * steady host whatever session is current — the live picture, who the vault acts as, and the
 * operations behind every button and command.
 */
export class PoolController implements PoolViewHost {
  readonly pool: Writable<PoolSnapshot> = writable(EMPTY_SNAPSHOT);
  readonly session: Writable<SessionInfo>;
  readonly clock: Readable<number> = readable(Date.now(), (set) => {
    // Countdowns show minutes; a few seconds' tick keeps them right without redrawing much.
    const tick = window.setInterval(() => set(Date.now()), 5000);
    return () => window.clearInterval(tick);
  });

  private current: PoolSession | null = null;
  private currentKey = '';
  /** Who the current session's worker is (`workerIdentity`): null without one. */
  private currentWorker: string | null = null;
  /** Starts and stops run one after another. */
  private switching: Promise<unknown> = Promise.resolve();
  private detach: (() => void)[] = [];
  private restartTimer: number | null = null;
  private forceRestart = false;
  private stopped = false;
  private readonly actions = new PoolActions(() => this.requireSession().api);
  private readonly notify: (message: string) => void;

  constructor(private readonly options: PoolControllerOptions) {
    this.notify = options.notify ?? ((message) => new Notice(message));
    this.session = writable(this.sessionInfo(options.settings.settings, null));
  }

  /** The running session, if any (for tests and commands). */
  get running(): PoolSession | null {
    return this.current;
  }

  /** Starts the session the settings describe. Resolves with the note reconcile's report. */
  start(): Promise<ReconcileReport | null> {
    return this.queue(() => this.open());
  }

  /**
   * Starts a new session if the settings it depends on changed (or `force`). A worker online in
   * the old session is online in the new one when it is the same worker (same pool, same token):
   * a changed folder or role is no reason to stop taking work. Another worker — another server,
   * mode or token — is not put online unasked; a notice says the vault is offline now.
   */
  restart(force = false): Promise<ReconcileReport | null> {
    return this.queue(async () => {
      if (!force && sessionKey(this.options.settings.settings) === this.currentKey) return null;
      const wasOnline = this.current?.online ? this.currentWorker : null;
      await this.close();
      const report = await this.open();
      if (wasOnline !== null) await this.resumeOnline(wasOnline);
      return report;
    });
  }

  /**
   * Restarts after a pause, so typing a server URL or a token does not reconnect on every key.
   * `force`: the credentials changed, which the settings do not show.
   */
  restartSoon(force = false, delayMs = 1000): void {
    if (this.stopped) return;
    this.forceRestart ||= force;
    if (this.restartTimer !== null) window.clearTimeout(this.restartTimer);
    this.restartTimer = window.setTimeout(() => {
      this.restartTimer = null;
      const forced = this.forceRestart;
      this.forceRestart = false;
      void this.restart(forced);
    }, delayMs);
  }

  /** Stops for good: the plugin is unloading. Saves the embedded database. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer !== null) window.clearTimeout(this.restartTimer);
    this.restartTimer = null;
    return this.queue(() => this.close()).then(() => undefined);
  }

  /** The app is visible again, or the network is back. */
  wake(reason: 'visible' | 'online'): void {
    this.current?.wake(reason);
  }

  /** The app went to the background. */
  sleep(): void {
    void this.current?.sleep().catch((error: unknown) => this.fail('Saving the pool', error));
  }

  // ── what the views do ──────────────────────────────────────────────────────────────────────

  openTask(taskId: string): void {
    const path = this.current?.sync?.pathOf(taskId);
    const file = path ? this.options.app.vault.getFileByPath(path) : null;
    if (!file) {
      this.notify('This task has no note in this vault.');
      return;
    }
    const open =
      this.options.openNote ?? ((f) => this.options.app.workspace.getLeaf(false).openFile(f));
    void open(file);
  }

  moveTask(taskId: string, from: TaskStatus, to: TaskStatus): Promise<void> {
    return this.actions.moveTask(taskId, from, to);
  }

  pauseWorker(workerId: string): Promise<void> {
    return this.actions.pauseWorker(workerId);
  }

  resumeWorker(workerId: string): Promise<void> {
    return this.actions.resumeWorker(workerId);
  }

  /** Opens the dialog that changes a worker's trust tier, with the reason it asks for. */
  changeTrustTier(workerId: string): void {
    const worker = this.current?.store.snapshot.workers.get(workerId);
    if (!worker) {
      this.notify('This worker is not in the pool any more.');
      return;
    }
    new TrustTierModal(
      this.options.app,
      { workerId, name: worker.name, trustTier: worker.trust_tier },
      () => this.requireSession().api.workerReputation(workerId),
      async (request) => {
        await this.actions.setTrustTier(workerId, request);
        this.notify(`${worker.name} is now ${request.tier}.`);
      },
    ).open();
  }

  /** Opens the dialog that gives a worker a new token, asked first and shown once. */
  newWorkerToken(workerId: string): void {
    const worker = this.current?.store.snapshot.workers.get(workerId);
    if (!worker) {
      this.notify('This worker is not in the pool any more.');
      return;
    }
    new NewTokenModal(this.options.app, worker.name, () =>
      this.actions.replaceWorkerToken(workerId),
    ).open();
  }

  runWorkAction(item: MyWorkItem, action: WorkAction, prUrl?: string): Promise<void> {
    return this.actions.runWorkAction(item, action, prUrl);
  }

  async acceptOffer(offerId: string): Promise<void> {
    await this.actions.acceptOffer(offerId);
    // The events say so too; asking as well keeps the list right while the stream is down.
    this.current?.store.refreshOffers();
  }

  async rejectOffer(offerId: string, request: OfferRejectRequest): Promise<void> {
    await this.actions.rejectOffer(offerId, request);
    this.current?.store.refreshOffers();
  }

  /** The task a note stands for, if it is a task's note in this pool. */
  taskIdOfNote(path: string): string | undefined {
    return this.current?.sync?.taskIdOf(path);
  }

  /**
   * Tells why the task of a note is not handed out (the pool's explanation, admin only): what holds
   * it back, or which workers may not take it and why.
   */
  async explainNote(path: string): Promise<void> {
    const taskId = this.taskIdOfNote(path);
    if (!taskId) return;
    const { lead, reasons } = explanationText(await this.requireSession().api.explainTask(taskId));
    this.notify([lead, ...reasons.map((reason) => `• ${reason}`)].join('\n'));
  }

  repoAnalytics(repo: string): ReturnType<PoolViewHost['repoAnalytics']> {
    return this.requireSession().api.repoAnalytics(repo);
  }

  async setOnline(online: boolean): Promise<void> {
    const session = this.requireSession();
    if (online && !session.localWorkerId) await this.registerWorker();
    await this.requireSession().setOnline(online);
  }

  /**
   * Registers the local worker with the name, skills and capacity from the settings. Registering
   * again makes a new worker in its place (the only way to change the name or skills), so it is
   * refused while the old one holds leases: they would stay with a worker nobody runs any more,
   * vanish from My work, and go back to the queue only when they run out, an attempt counted.
   * An online worker stays online, as the new one; the old one says it is going.
   */
  async registerWorker(): Promise<void> {
    const store = this.options.settings;
    const settings = store.settings;
    if (!isWorkerRole(settings.role)) {
      throw new Error('Set the role to “worker” or “admin and worker” to work on tasks.');
    }
    const session = this.requireSession();
    const held = await leasesHeld(session);
    if (held > 0) {
      throw new Error(
        held === 1
          ? 'This vault’s worker holds a task. Finish or release it in My work first: a new ' +
              'registration is a new worker, and the old one would keep it until its lease runs out.'
          : `This vault’s worker holds ${held} tasks. Finish or release them in My work first: a ` +
              'new registration is a new worker, and the old one would keep them until their ' +
              'leases run out.',
      );
    }
    const wasOnline = session.online;
    if (wasOnline) await session.setOnline(false);
    let registered;
    try {
      registered = await session.registerWorker({
        name: settings.workerName,
        skills: settings.workerSkills,
        capacity_points: settings.workerCapacityPoints,
        max_concurrent_tasks: settings.workerMaxTasks,
      });
    } catch (error) {
      if (wasOnline) await session.setOnline(true).catch(() => undefined);
      throw error;
    }
    // Kept beside the workers of other pools: switching back finds each again.
    await store.setToken('worker', registered.token, workerTokenSlot(settings));
    await store.update({ localWorkers: withLocalWorker(settings, registered.worker_id) });
    // A remote session's credentials are fixed when it starts: start one with the new token.
    if (settings.mode === 'remote') {
      await this.restart(true);
    } else {
      // The embedded session acts as the new worker at once: it is the session's worker now.
      this.currentWorker = workerIdentity(store.settings, registered.worker_id, registered.token);
      this.publishSession();
    }
    this.notify(`Registered as worker “${settings.workerName}”.`);
    if (wasOnline) await this.requireSession().setOnline(true);
  }

  // ── what the commands do ───────────────────────────────────────────────────────────────────

  /** Creates a task and its note, and opens the note. */
  async createTask(request: TaskCreateRequest): Promise<string> {
    const created = await this.requireSync().createTask(request);
    const file = this.options.app.vault.getFileByPath(created.path);
    if (file)
      await (
        this.options.openNote ?? ((f) => this.options.app.workspace.getLeaf(false).openFile(f))
      )(file);
    return created.path;
  }

  /** Turns a note into a task (moving it into the tasks folder if it is elsewhere). */
  async convertNote(file: TFile): Promise<void> {
    const task = await this.requireSync().convertNote(file.path);
    if (task) this.notify(`“${task.title}” is now a task in ${task.repo}.`);
  }

  /** Whether a note is already a task's note. */
  isTaskNote(path: string): boolean {
    return this.taskIdOfNote(path) !== undefined;
  }

  /** Creates a task (and its note) for every valid item of a YAML file; reports the rest. */
  async importTasks(file: TFile, repo: string): Promise<{ created: number; problems: number }> {
    const sync = this.requireSync();
    let parsed;
    try {
      parsed = readTaskImport(await this.options.app.vault.read(file), repo, parseYaml);
    } catch (error) {
      if (error instanceof ImportFileError) {
        this.notify(`Nothing imported from ${file.path}. ${error.message}`);
        return { created: 0, problems: 1 };
      }
      throw error;
    }
    let created = 0;
    let earlier = 0;
    const failures = parsed.problems.map(describeProblem);
    // The keys `owp admin import` and the dashboard give the same items: an import run again, in
    // any of them, makes none of its tasks twice.
    const keys = importKeys(
      repo,
      parsed.requests.map(({ repo: _repo, ...item }) => item),
    );
    for (const [index, request] of parsed.requests.entries()) {
      try {
        const made = await sync.createTask(request, { idempotencyKey: keys[index]! });
        created++;
        if (made.earlier) earlier++;
      } catch (error) {
        failures.push(`Task ${index + 1} (“${request.title}”): ${messageOf(error)}`);
      }
    }
    const before = earlier === 0 ? '' : ` (${earlier} made by an earlier import, not made again)`;
    const summary = `Imported ${created} task${created === 1 ? '' : 's'} from ${file.path}${before}.`;
    this.notify(
      failures.length === 0
        ? summary
        : `${summary} ${failures.length} skipped:\n${failures.slice(0, 5).join('\n')}`,
    );
    return { created, problems: failures.length };
  }

  // ── sessions ───────────────────────────────────────────────────────────────────────────────

  private queue<T>(step: () => Promise<T>): Promise<T> {
    const next = this.switching.catch(() => undefined).then(step);
    this.switching = next;
    return next;
  }

  private async open(): Promise<ReconcileReport | null> {
    if (this.stopped) return null;
    const settings = this.options.settings.settings;
    this.currentKey = sessionKey(settings);
    let session: PoolSession;
    try {
      ({ session, worker: this.currentWorker } = await this.createSession(settings));
    } catch (error) {
      this.fail('Starting the pool', error);
      return null;
    }
    this.current = session;
    this.detach = [
      session.store.subscribe((snapshot) => this.pool.set(snapshot)),
      session.onOnlineChange(() => this.publishSession()),
    ];
    this.publishSession();
    try {
      return await session.start();
    } catch (error) {
      this.pool.set({ ...EMPTY_SNAPSHOT, phase: 'failed', error: messageOf(error) });
      this.fail('Starting the pool', error);
      return null;
    }
  }

  /**
   * The worker the token in the settings belongs to, as the pool names it (`GET /v1/work` answers
   * with its id), kept as this vault's worker in the pool: a token pasted there acts as the
   * worker registered elsewhere that it belongs to, where the vault's own record (none, or
   * another worker's) would have left it unused. `known` while the pool cannot be asked (it is
   * asked again at the next start); null, with a notice, when it refuses the token.
   */
  private async workerOfToken(
    backend: RemoteBackend,
    settings: OwpSettings,
    known: string | null,
  ): Promise<string | null> {
    let workerId: string;
    try {
      workerId = (await backend.api.getWork()).worker_id;
    } catch (error) {
      if (!meansNoWorker(error)) return known;
      this.notify(
        `The pool at ${settings.serverUrl} refuses the worker token in the settings ` +
          `(${messageOf(error)}). Paste the worker's current token, or register this vault's worker.`,
      );
      return null;
    }
    if (workerId !== known) {
      await this.options.settings.update({ localWorkers: withLocalWorker(settings, workerId) });
    }
    return workerId;
  }

  /**
   * After a restart, puts the worker that was online (`worker`, its identity) online again if the
   * new session acts as the same worker; otherwise says the vault is offline now, and how to go
   * online.
   */
  private async resumeOnline(worker: string): Promise<void> {
    const session = this.current;
    if (!session || this.stopped) return;
    if (this.currentWorker !== worker) {
      this.notify(offlineAfterChange(this.options.settings.settings));
      return;
    }
    try {
      await session.setOnline(true);
    } catch (error) {
      this.notify(
        `You are offline now: going online again after the settings changed failed ` +
          `(${messageOf(error)}). Go online from My work once the pool can be reached.`,
      );
    }
  }

  private async close(): Promise<void> {
    const session = this.current;
    if (!session) return;
    this.current = null;
    this.currentWorker = null;
    try {
      await session.stop();
    } catch (error) {
      this.fail('Stopping the pool', error);
    } finally {
      for (const detach of this.detach.splice(0)) detach();
      this.publishSession();
    }
  }

  /** The session the settings describe, and its worker's identity (see `workerIdentity`). */
  private async createSession(
    settings: OwpSettings,
  ): Promise<{ session: PoolSession; worker: string | null }> {
    const store = this.options.settings;
    const worker = localWorker(settings);
    let workerId = worker?.workerId ?? null;
    // Remote, the token may have been pasted in the settings (a worker registered elsewhere):
    // read it from the pool's slot even when this vault registered no worker there.
    const workerToken =
      worker || settings.mode === 'remote'
        ? await store.token('worker', workerTokenSlot(settings))
        : '';
    let backend: PoolBackend;
    let admin: boolean;
    if (settings.mode === 'embedded') {
      // The vault owner runs the pool: always its admin.
      admin = true;
      backend = new EmbeddedBackend({
        store: new VaultBinaryStore(this.options.app.vault.adapter, `${this.options.pluginDir}/db`),
        credentials: { admin: true, workerToken: workerToken || undefined },
        wasmBinary: this.options.sqlWasm,
        timers: windowTimers,
        onError: (error) => this.fail('Saving the pool', error),
      });
    } else {
      const adminToken = isAdminRole(settings.role) ? await store.token('admin') : '';
      admin = adminToken !== '';
      backend = new RemoteBackend({
        baseUrl: settings.serverUrl,
        adminToken: adminToken || undefined,
        workerToken: workerToken || undefined,
        transport: requestUrlTransport(undefined, { timers: windowTimers }),
        // The event stream needs fetch: requestUrl cannot stream (DESIGN.md, "Live updates").
        fetch: (input, init) => window.fetch(input, init),
      });
      if (workerToken !== '' && isWorkerRole(settings.role)) {
        workerId = await this.workerOfToken(backend as RemoteBackend, settings, workerId);
      }
    }
    const session = new PoolSession({
      backend,
      admin,
      workerId,
      notes: {
        store: new VaultNoteStore(this.options.app),
        settings: {
          folder: settings.tasksFolder,
          archiveFolder: settings.archiveFolder,
          defaultRepo: settings.defaultRepo,
          cancelOnDelete: settings.cancelOnDelete,
        },
        deleted: {
          load: () => store.noteRecord(poolKey(settings)),
          save: (record) => store.setNoteRecord(poolKey(settings), record),
        },
      },
      notify: this.notify,
      timers: windowTimers,
      heartbeatMs: this.options.heartbeatMs,
      scheduleBatch: (run) => window.requestAnimationFrame(() => run()),
      syncDebounceMs: this.options.syncDebounceMs,
    });
    return { session, worker: workerIdentity(settings, workerId, workerToken) };
  }

  private sessionInfo(settings: OwpSettings, session: PoolSession | null): SessionInfo {
    return {
      mode: settings.mode,
      admin: session ? session.admin : settings.mode === 'embedded',
      worker: isWorkerRole(settings.role),
      workerId: session?.localWorkerId ?? localWorkerId(settings),
      online: session?.online ?? false,
    };
  }

  private publishSession(): void {
    this.session.set(this.sessionInfo(this.options.settings.settings, this.current));
  }

  private requireSession(): PoolSession {
    if (!this.current) throw new Error('The pool is not running yet.');
    return this.current;
  }

  private requireSync() {
    const sync = this.requireSession().sync;
    if (!sync)
      throw new Error('Task notes need admin access: add the admin token in the settings.');
    return sync;
  }

  private fail(what: string, error: unknown): void {
    console.error(`OWP Pool: ${what} failed`, error);
    this.notify(`${what} failed: ${messageOf(error)}`);
  }
}

/**
 * Who a session works as: the pool (mode and server) and the worker's id and token in it. Null
 * when the role takes no work or the vault has no worker there. Two sessions with the same
 * identity are the same worker, so one online stays online across a restart.
 */
function workerIdentity(
  settings: OwpSettings,
  workerId: string | null,
  workerToken: string,
): string | null {
  if (!isWorkerRole(settings.role) || !workerId) return null;
  return JSON.stringify([poolKey(settings), workerId, workerToken]);
}

/** The notice after a settings change left the vault offline: why, and how to go online. */
function offlineAfterChange(settings: OwpSettings): string {
  if (!isWorkerRole(settings.role)) {
    return (
      'You are offline now: the role no longer includes working on tasks. To take tasks again, ' +
      'set it to “worker” or “admin and worker” and go online.'
    );
  }
  const pool =
    settings.mode === 'embedded' ? 'the embedded pool' : `the pool at ${poolKey(settings)}`;
  const registered = localWorkerId(settings) !== null;
  return (
    `You are offline now: this vault works in ${pool} as ` +
    (registered ? 'another worker' : 'a worker not registered there yet') +
    '. Go online from My work or with the command “Go online”' +
    (registered ? '.' : ', which registers it first.')
  );
}

/**
 * The leases the vault's worker holds, as the pool says (its view may be behind). A worker the
 * pool does not know any more holds none.
 */
async function leasesHeld(session: PoolSession): Promise<number> {
  if (!session.localWorkerId) return 0;
  try {
    return (await session.api.getWork()).leases.length;
  } catch (error) {
    if (meansNoWorker(error)) return 0;
    throw error;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
