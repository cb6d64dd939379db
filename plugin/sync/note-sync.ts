import {
  listAllTasks,
  newIdempotencyKey,
  type CreateOptions,
  OwpError,
  type OwpApi,
  type OwpEvent,
  type StreamStatus,
  type Subscription,
  type Task,
  type TaskCreateRequest,
  type TaskUpdateRequest,
} from '../../protocol/index.ts';
import {
  OWNED_KEYS,
  SCHEDULER_KEYS,
  USER_KEYS,
  canonicalDescription,
  canonicalValue,
  descriptionToBody,
  fileNameForTitle,
  fileNameMatchesTitle,
  noteToTaskFields,
  taskToNote,
  titleFromPath,
  type NoteTaskFields,
  type OwnedKey,
  type UserKey,
} from './note-mapping.ts';
import {
  changedSince,
  fingerprintOf,
  type FingerprintField,
  type NoteRecord,
  type PendingCreate,
} from './note-record.ts';
import type { NoteChange, NoteMeta, NoteSnapshot, NoteStore } from './note-store.ts';
import { SerialQueue } from './serial-queue.ts';

export interface NoteSyncSettings {
  /** The folder of task notes, vault-relative without slashes at either end ('' = vault root). */
  folder: string;
  /** Where a cancelled or merged task's note moves; '' = it stays where it is. */
  archiveFolder: string;
  /** The repo of a new note that has no `repo` property; '' = such a note waits for one. */
  defaultRepo: string;
  /** Whether deleting a task's note cancels the task (otherwise the task is left alone). */
  cancelOnDelete: boolean;
}

/** Timers the sync debounces with; injected so tests drive them. */
export interface SyncTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface NoteSyncOptions {
  api: OwpApi;
  store: NoteStore;
  settings: NoteSyncSettings;
  /** Tells the user something (a Notice in Obsidian). */
  notify?: (message: string) => void;
  /**
   * The live event stream; defaults to `api.subscribe` (the plugin passes its backend's). Its
   * status, when it tells one, says when the pool can be reached again after a break.
   */
  subscribe?: (
    after: number,
    onEvent: (event: OwpEvent) => void,
    onStatus?: (status: StreamStatus) => void,
  ) => Subscription;
  timers?: SyncTimers;
  /**
   * Quiet time per note before an edit is sent. Short, because an edit should reach the scheduler
   * within 200 ms; Obsidian already batches typing in the editor into one save.
   */
  debounceMs?: number;
  /** How many notes the start-up reconcile works on at once. */
  concurrency?: number;
  /**
   * Where the tasks whose note the user deleted are remembered across starts, with the tasks that
   * have a note (the plugin's data file, vault-sync's state file); without it, only for this run,
   * and the next start writes their notes again.
   */
  deletedNotes?: DeletedNotes;
  /**
   * Whether the notes without `owp_id` already in a tasks folder the record has no sync of (a first
   * start, a folder set anew) become tasks. By default they do not: they are left as they are, and
   * the user told once (`NoteRecord.leftAlone`) — a folder named "Tasks" may well hold the user's
   * own to-do notes. `owp vault-sync` sets it: it is pointed at a folder of task notes on purpose.
   * Without `deletedNotes` there is no record to tell a new folder by, and notes become tasks.
   */
  adoptNotesInNewFolder?: boolean;
}

export type { NoteRecord } from './note-record.ts';

/** Keeps the `NoteRecord` of one pool in one vault. */
export interface DeletedNotes {
  load(): NoteRecord | Promise<NoteRecord>;
  save(record: NoteRecord): void | Promise<void>;
}

/** What the start-up reconcile found and did. */
export interface ReconcileReport {
  tasks: number;
  notes: number;
  /** Tasks that had no note and got one. */
  notesCreated: number;
  /** Notes without `owp_id` that became tasks. */
  tasksCreated: number;
  /**
   * Notes without `owp_id` left as plain notes: found in a tasks folder the sync ran over for the
   * first time (the user is told), or so since (`NoteRecord.leftAlone`).
   */
  notesLeftAlone: number;
  /** Notes brought up to date with their task. */
  notesUpdated: number;
  /**
   * Tasks updated from edits made to their notes while the plugin was not running. Not counted:
   * edits found by the check of bodies that runs after the start (`flush` waits for it).
   */
  tasksUpdated: number;
  /**
   * Tasks whose note was deleted while the sync was not running (they had one at the last save):
   * not written again, and cancelled when `cancelOnDelete` is set — as a deletion seen live is.
   */
  notesDeleted: number;
  /** Notes whose `owp_id` the pool does not know: reported, left alone. */
  unknownIds: { path: string; owp_id: string }[];
  /** Further notes naming a task that already has a note: reported, left alone. */
  duplicates: { path: string; owp_id: string }[];
}

/** What a note held when it last agreed with its task: the base every comparison starts from. */
interface NoteBase {
  owned: Record<OwnedKey, unknown>;
  title: string;
  /** Canonical (see `canonicalDescription`). */
  description: string;
}

interface TrackedNote {
  taskId: string;
  path: string;
  base: NoteBase;
  queue: SerialQueue;
  refreshQueued: boolean;
  /**
   * The note's properties did not read at the last look (`frontmatterError`): nothing was written
   * to it or sent from it since, and the first readable look reconciles it with its task.
   */
  unreadable: boolean;
  /** A change of the task found no note at `path` (moved meanwhile): not written to it yet. */
  behind: boolean;
  /**
   * The base was taken from the task, not yet settled with the note (a start that has not
   * reconciled it, or could not read it): the record keeps the fingerprint it loaded for it.
   */
  unsettled: boolean;
}

const TERMINAL = new Set(['cancelled', 'merged']);
const USER_FIELD: Record<UserKey, keyof NoteTaskFields> = {
  repo: 'repo',
  priority: 'priority',
  points: 'estimate_points',
  skills: 'required_skills',
  area: 'area',
  tier: 'tier',
  depends_on: 'depends_on',
};
/** Refusals of a value the user must change (put back in the note), not of the moment. */
const REFUSED_VALUE_CODES = new Set([
  'validation_failed',
  'dependency_unknown',
  'dependency_cycle',
  // A held task's area or estimate the holder could not keep: the value goes back, as above.
  'area_locked',
  'over_capacity',
]);
const MAX_CONFLICT_RETRIES = 3;
/** The first wait before an edit that failed for a reason of the moment is sent again; doubled. */
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 5 * 60_000;
/**
 * Put between the pool's description and the note's own text when both changed while the sync was
 * away: both are kept in the note, and sent, rather than one dropped. A plain line, so it reads the
 * same in Obsidian, in a diff and in an agent's editor.
 */
export const KEPT_TEXT_MARKER = '**Kept from this note** (the description above is the pool’s):';
/**
 * How long a change of the record waits to be saved with the ones after it. Losing it (a crash
 * meanwhile) costs little: a deletion is found again from `noted`, and a note written is only not
 * yet known as one that could be deleted.
 */
const RECORD_DELAY_MS = 1000;

/** The host's timers, by default. In Obsidian the glue passes `window`'s (popouts have their own). */
const hostTimers = { setTimeout, clearTimeout };
const defaultTimers: SyncTimers = {
  setTimeout: (callback, ms) => hostTimers.setTimeout(callback, ms),
  clearTimeout: (handle) => hostTimers.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Two-way sync between tasks and notes (DESIGN.md, "Notes in the vault"): one note per task in a
 * folder; a new note becomes a task; an edited property, the body or the file name updates the
 * task; the scheduler's changes flow back. The sync writes only the keys it owns, and never treats
 * its own writes as edits: every note carries a base (what it held when it last agreed with the
 * task), an incoming change is compared with that base, and the base moves before the sync writes.
 * Conflicts resolve field by field: a 409 on `owp_version` keeps the user's edit of a field the
 * scheduler did not change since the base, else the scheduler's value.
 */
export class NoteSync {
  private readonly api: OwpApi;
  private readonly store: NoteStore;
  private readonly settings: NoteSyncSettings;
  private readonly notifyUser: (message: string) => void;
  private readonly timers: SyncTimers;
  private readonly debounceMs: number;
  private readonly concurrency: number;
  private readonly subscribeEvents: NonNullable<NoteSyncOptions['subscribe']>;

  private readonly byPath = new Map<string, TrackedNote>();
  private readonly byTask = new Map<string, TrackedNote>();
  private readonly names = new Map<string, string>();
  /** Queues of notes that have no task yet, handed to the note once it has one. */
  private readonly untrackedQueues = new Map<string, SerialQueue>();
  /** Creates in flight: an event about a task not yet known waits for them (it may be ours). */
  private readonly creating = new Set<Promise<unknown>>();
  /** Tasks whose note the user deleted: their note is not made again (kept by `deletedNotes`). */
  private readonly deletedTasks = new Set<string>();
  private readonly deletedNotes: DeletedNotes | null;
  /** The open tasks that had a note when the record was last saved (read at start). */
  private readonly notedBefore = new Set<string>();
  /** The record's fingerprints as loaded at start, by task (`NoteRecord.synced`). */
  private readonly fingerprints = new Map<string, string>();
  /** Fingerprints of bases already taken (a base is replaced, never changed, when it moves). */
  private readonly fingerprintOfBase = new WeakMap<NoteBase, string>();
  /** The tasks folder when the record was saved; undefined: not known (a record from before). */
  private recordFolder: string | undefined;
  private readonly adoptNotesInNewFolder: boolean;
  /**
   * Whether this start is the first sync of the tasks folder (no record of it): the notes without
   * `owp_id` found there are left alone rather than made tasks. Set by `start`.
   */
  private firstSyncOfFolder = false;
  /** Plain notes in the tasks folder that stay plain notes until asked (`NoteRecord.leftAlone`). */
  private readonly leftAlone = new Set<string>();
  /** The record as last loaded or saved (JSON), so an unchanged one is not written again. */
  private savedRecord = '';
  /** The record's next save, while it waits (`RECORD_DELAY_MS`). */
  private recordTimer: unknown = null;
  /** Saves of the record, one after another. */
  private recordSaves: Promise<unknown> = Promise.resolve();
  /** Set once the start-up reconcile is done: the record is saved only from then on. */
  private recording = false;
  /**
   * The problem a note was last told of, by path (a note that cannot be a task, or whose edit
   * cannot be sent): a note saved every few seconds while it stays wrong is told once.
   */
  private readonly problems = new Map<string, string>();
  /** While a note change is handled: the problem it had before this look, by path. */
  private readonly lookingAt = new Map<string, string | undefined>();
  private readonly debounces = new Map<string, unknown>();
  /**
   * What could not reach the pool for a reason of the moment (offline, the server restarting):
   * tracked notes whose edit was not sent, and paths of new notes not yet made tasks. Sent again
   * once the event stream is live again, as well as with the note's next change.
   */
  private readonly unsent = new Set<TrackedNote | string>();
  /**
   * Retries of `unsent` entries while the event stream stays live (a 500, a 429, a timeout: the
   * stream going live again will not come to send them), with their backoff.
   */
  private readonly retries = new Map<TrackedNote | string, { handle: unknown; waitMs: number }>();
  /**
   * By note path: task creations sent and not answered for sure yet (`PendingCreate`), kept in the
   * record. A repeat with the same key makes no second task, so one that failed is sent again as a
   * note's edit is; meanwhile a task heard of that matches one is given its note, not a second.
   */
  private readonly pendingCreates = new Map<string, PendingCreate>();
  private streamStatus: StreamStatus | null = null;
  private readonly running = new Set<Promise<unknown>>();
  private readonly discovery = new SerialQueue();
  /** Notes the reconcile found in agreement but for their body, which is checked after the start. */
  private readonly bodiesToCheck: TrackedNote[] = [];
  private buffered: (() => void)[] | null = [];
  private unwatch: (() => void) | null = null;
  private subscription: Subscription | null = null;
  private stopped = false;

  constructor(options: NoteSyncOptions) {
    this.api = options.api;
    this.store = options.store;
    this.settings = {
      ...options.settings,
      folder: trimSlashes(options.settings.folder),
      archiveFolder: trimSlashes(options.settings.archiveFolder),
    };
    this.notifyUser = options.notify ?? (() => {});
    this.timers = options.timers ?? defaultTimers;
    this.debounceMs = options.debounceMs ?? 100;
    this.concurrency = options.concurrency ?? 8;
    this.deletedNotes = options.deletedNotes ?? null;
    this.adoptNotesInNewFolder = options.adoptNotesInNewFolder ?? false;
    this.subscribeEvents =
      options.subscribe ??
      ((after, onEvent, onStatus) => this.api.subscribe(after, onEvent, onStatus));
  }

  // ── public ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Reconciles the folder with the pool (one listing of all tasks, one of the notes), then follows
   * both. Changes that arrive meanwhile are held and handled after.
   */
  async start(): Promise<ReconcileReport> {
    // Listen first, so nothing that happens during the reconcile is lost; it waits in `buffered`.
    this.unwatch = this.store.watch((change) => this.whenLive(() => this.onNoteChange(change)));
    let report: ReconcileReport;
    try {
      const [workers, state, record] = await Promise.all([
        this.api.listWorkers().catch(() => []),
        this.api.state(),
        this.deletedNotes?.load() ?? { deleted: [], noted: [] },
      ]);
      for (const taskId of record.deleted) this.deletedTasks.add(taskId);
      for (const taskId of record.noted) this.notedBefore.add(taskId);
      for (const [taskId, print] of Object.entries(record.synced ?? {})) {
        this.fingerprints.set(taskId, print);
      }
      for (const [path, pending] of Object.entries(record.creating ?? {})) {
        this.pendingCreates.set(path, pending);
      }
      this.recordFolder = record.folder;
      for (const path of record.leftAlone ?? []) this.leftAlone.add(path);
      this.firstSyncOfFolder =
        this.deletedNotes !== null &&
        !this.adoptNotesInNewFolder &&
        !syncedBefore(record, this.settings.folder);
      this.savedRecord = recordKey(record);
      for (const worker of workers) this.names.set(worker.worker_id, worker.name);
      // Stopped while the first reads were on their way: follow nothing, or no one would close it.
      if (this.stopped) throw new Error('The note sync was stopped as it started.');
      this.subscription = this.subscribeEvents(
        state.last_event_seq,
        (event) => this.whenLive(() => this.onEvent(event)),
        (status) => this.whenLive(() => this.onStreamStatus(status)),
      );
      report = await this.reconcile();
    } catch (error) {
      // Offline or not allowed: follow nothing; the caller retries with a new NoteSync.
      this.stop();
      throw error;
    }
    const held = this.buffered ?? [];
    this.buffered = null;
    held.forEach((handle) => handle());
    this.recording = true;
    this.saveRecord();
    this.checkBodiesLater();
    return report;
  }

  /**
   * Stops following changes. Edits still waiting for their debounce, and a change of the record
   * not saved yet, are dropped; see `flush`.
   */
  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    this.subscription?.close();
    for (const handle of this.debounces.values()) this.timers.clearTimeout(handle);
    this.debounces.clear();
    if (this.recordTimer !== null) this.timers.clearTimeout(this.recordTimer);
    this.recordTimer = null;
    for (const { handle } of this.retries.values()) this.timers.clearTimeout(handle);
    this.retries.clear();
  }

  /**
   * Sends waiting edits now and resolves when the sync has nothing left to do (for unload, and for
   * tests). It waits through microtasks only, so it works with hand-driven timers.
   */
  async flush(): Promise<void> {
    for (let quiet = 0; quiet < 3;) {
      for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => queueMicrotask(resolve));
      const waiting = [...this.debounces.keys()];
      for (const path of waiting) this.fireDebounce(path);
      this.saveRecordNow();
      if (waiting.length === 0 && this.running.size === 0) quiet++;
      else quiet = 0;
      await Promise.allSettled([...this.running]);
    }
  }

  /** The path of a task's note, if it has one. */
  pathOf(taskId: string): string | undefined {
    return this.byTask.get(taskId)?.path;
  }

  /** The task a note stands for, if any. */
  taskIdOf(path: string): string | undefined {
    return this.byPath.get(path)?.taskId;
  }

  /**
   * Creates a task and its note at once (the "create task" command, an import). With a key, the
   * request may be sent again (by the client after a failure of the moment, or an import run
   * again) and make the task once; a task answered that already has its note keeps that note
   * (`earlier`), rather than getting a second.
   */
  async createTask(
    request: TaskCreateRequest,
    { idempotencyKey = newIdempotencyKey('note') }: CreateOptions = {},
  ): Promise<{ task: Task; path: string; earlier: boolean }> {
    return this.guardCreate(async () => {
      const task = await this.api.createTask(request, { idempotencyKey });
      const known = this.byTask.get(task.task_id);
      if (known) return { task, path: known.path, earlier: true };
      return { task, path: await this.writeNoteForTask(task), earlier: false };
    });
  }

  /**
   * Turns a note into a task (the "turn the current note into a task" command): moves it into the
   * tasks folder when it is elsewhere, then creates the task. Null when it could not (the user has
   * been told why).
   */
  async convertNote(path: string): Promise<Task | null> {
    const known = this.byPath.get(path);
    if (known) return this.api.getTask(known.taskId);
    // Asked on purpose: the note's problem, if it has one, is told again (not only once).
    this.problems.delete(path);
    // A note that cannot become a task is not moved into the tasks folder first.
    const note = await this.store.read(path);
    if (!note || !this.canBecomeTask(note)) return null;
    let target = path;
    if (!this.inCreationScope(path)) {
      target = await this.freePath(this.settings.folder, titleFromPath(path));
      await this.store.move(path, target);
    }
    await this.queueFor(target).run(() => this.noteChanged(target, { asked: true }));
    const tracked = this.byPath.get(target);
    return tracked ? this.api.getTask(tracked.taskId) : null;
  }

  /** The plain notes left alone in the tasks folder (`NoteRecord.leftAlone`), by path. */
  notesLeftAlone(): string[] {
    return [...this.leftAlone].sort();
  }

  /**
   * Makes tasks of the notes left alone (the "make the notes in the tasks folder tasks" command),
   * each as if turned into a task on its own. One that cannot be (no repo, say) is told why, is
   * left alone no longer, and becomes a task once mended, as a new note does.
   */
  async makeTasksOfNotesLeftAlone(): Promise<{ made: number; notMade: number }> {
    const paths = this.notesLeftAlone();
    let made = 0;
    await runPool(
      paths.map((path) => async () => {
        this.problems.delete(path);
        await this.queueFor(path).run(() => this.noteChanged(path, { asked: true }));
        if (this.byPath.has(path)) made++;
      }),
      this.concurrency,
      (error) => this.fail('Making tasks of the notes', error),
    );
    return { made, notMade: paths.length - made };
  }

  // ── reconcile ───────────────────────────────────────────────────────────────────────────────

  private async reconcile(): Promise<ReconcileReport> {
    const [listed, notes] = await Promise.all([listAllTasks(this.api), this.listNotes()]);
    const tasks = new Map(listed.map((task) => [task.task_id, task]));
    const report: ReconcileReport = {
      tasks: tasks.size,
      notes: notes.length,
      notesCreated: 0,
      tasksCreated: 0,
      notesLeftAlone: 0,
      notesUpdated: 0,
      tasksUpdated: 0,
      notesDeleted: 0,
      unknownIds: [],
      duplicates: [],
    };
    const work: (() => Promise<void>)[] = [];
    const withoutId: NoteMeta[] = [];
    // Of several notes naming one task, the one named after its title is the original.
    const rank = (note: NoteMeta) => {
      const task = tasks.get(idOf(note) ?? '');
      return task && fileNameMatchesTitle(titleFromPath(note.path), task.title) ? 0 : 1;
    };
    notes.sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
    for (const note of notes) {
      const id = idOf(note);
      if (id === null) {
        if (this.inCreationScope(note.path)) withoutId.push(note);
        continue;
      }
      const task = tasks.get(id);
      if (!task) report.unknownIds.push({ path: note.path, owp_id: id });
      else if (this.byTask.has(id)) report.duplicates.push({ path: note.path, owp_id: id });
      else {
        const tracked = this.trackNote(note.path, task.task_id, baseFromTask(task, this.names));
        // The common case: the listing shows the note in agreement with its task. Only its body
        // is unknown, and reading 5,000 bodies would hold up the start: it is checked after.
        if (this.agreesWithoutBody(tracked, note, task)) {
          this.bodiesToCheck.push(tracked);
          continue;
        }
        tracked.unsettled = true;
        work.push(async () => {
          // The listing may come from an index that lags behind the file: act on the file.
          const current = await this.store.read(note.path);
          if (!current || idOf(current) !== id) return this.untrack(tracked);
          const outcome = await this.reconcileNote(tracked, current, task);
          if (outcome.noteChanged) report.notesUpdated++;
          if (outcome.taskChanged) report.tasksUpdated++;
        });
      }
    }
    // Creations sent before the app closed and not answered: sent again first, so a task one of
    // them made is given its note here, not written into a second note below.
    const repeats = withoutId.filter(({ path }) => this.pendingCreates.has(path));
    await runPool(
      repeats.map(
        ({ path }) =>
          () =>
            this.queueFor(path).run(async () => {
              const note = await this.store.read(path);
              if (note && idOf(note) === null && (await this.createTaskFromNote(note))) {
                report.tasksCreated++;
              }
            }),
      ),
      this.concurrency,
      (error) => this.fail('Reconcile', error),
    );
    const abandoned = [...this.pendingCreates].filter(
      ([path]) => !withoutId.some((note) => note.path === path),
    );
    for (const [path] of abandoned) this.pendingCreates.delete(path);
    if (abandoned.length > 0) this.saveRecord();
    // Remembered only while the task is open and has no note (one restored from the trash has).
    for (const taskId of [...this.deletedTasks]) {
      const task = tasks.get(taskId);
      if (!task || TERMINAL.has(task.status) || this.byTask.has(taskId)) this.forgetDeleted(taskId);
    }
    // Not one a creation still unanswered may have made: sent again, it gets that creation's note.
    const stillPending = [...this.pendingCreates.values()];
    const missing = [...tasks.values()].filter(
      (task) =>
        !this.byTask.has(task.task_id) &&
        !TERMINAL.has(task.status) &&
        !this.deletedTasks.has(task.task_id) &&
        !stillPending.some(({ request }) => madeBy(request, task)),
    );
    // A task that had a note at the last save and has none now lost it while the sync was not
    // running: a deletion, as one seen live is. Only a task that never had one gets a note.
    const lost = new Set(missing.filter((task) => this.notedBefore.has(task.task_id)));
    // So did a task that a note deleted meanwhile may have made before the app closed unanswered.
    for (const [, { request }] of abandoned) {
      const made = missing.find((task) => !lost.has(task) && madeBy(request, task));
      if (made) lost.add(made);
    }
    // A task's note elsewhere in the vault (the tasks folder setting changed) is moved in rather
    // than a second note written beside it, or taken for deleted. Looked for only when the tasks
    // folder holds no task note at all — a folder set anew, or a first start — or is not the one
    // the record was saved with (or the record does not say), not at every start: it reads the
    // vault. (Was: only the first, and a folder set to one already holding some task notes took
    // the other tasks' notes, still in the old folder, for deleted.)
    const folderIsNew = !notes.some(
      (note) => idOf(note) !== null && this.inCreationScope(note.path),
    );
    const folderChanged = this.notedBefore.size > 0 && this.recordFolder !== this.settings.folder;
    const elsewhere =
      missing.length > 0 && (folderIsNew || folderChanged)
        ? await this.notesElsewhere(tasks)
        : new Map<string, NoteMeta>();
    for (const task of missing) {
      work.push(async () => {
        const stray = elsewhere.get(task.task_id);
        // One found nowhere in the vault, when looked for, was deleted all the same.
        if (stray && (await this.adoptNote(stray, task))) {
          report.notesUpdated++;
          return;
        }
        if (lost.has(task)) {
          // Not written again; never cancelled from here (see `reportStrays`).
          this.rememberDeleted(task.task_id);
          report.notesDeleted++;
          return;
        }
        await this.writeNoteForTask(task);
        report.notesCreated++;
      });
    }
    await this.settleNotesLeftAlone(withoutId, repeats);
    for (const { path } of withoutId) {
      if (repeats.some((note) => note.path === path) || this.leftAlone.has(path)) continue;
      work.push(async () => {
        const note = await this.store.read(path);
        if (note && idOf(note) === null && (await this.createTaskFromNote(note))) {
          report.tasksCreated++;
        }
      });
    }
    await runPool(work, this.concurrency, (error) => this.fail('Reconcile', error));
    report.notesLeftAlone = this.leftAlone.size;
    this.reportStrays(report);
    return report;
  }

  /**
   * Which of the notes without `owp_id` stay plain notes. At the first sync of a folder, all of
   * them (but a creation already sent): a folder the user named may hold their own notes — a diary,
   * a to-do list in "Tasks" — and made tasks unasked they would all get `owp_*` properties, with no
   * way back. The user is told once, and how to make them tasks. Later, those left then that are
   * still plain notes in the folder: a note added since, even while the sync was not running, is
   * a new note and becomes a task. (Rejected: leaving notes by modification time — a left note
   * edited while away would read as new.)
   */
  private async settleNotesLeftAlone(withoutId: NoteMeta[], repeats: NoteMeta[]): Promise<void> {
    const plain = new Set(withoutId.map(({ path }) => path));
    if (this.firstSyncOfFolder) {
      this.leftAlone.clear();
      for (const path of plain) {
        if (!repeats.some((note) => note.path === path)) this.leftAlone.add(path);
      }
      return;
    }
    for (const path of [...this.leftAlone]) {
      if (plain.has(path)) continue;
      // Not listed as a plain note of the folder: gone, or given an owp_id — or in a listing that
      // lags behind the files, which the file tells.
      const note = this.inCreationScope(path) ? await this.store.read(path) : null;
      if (!note || idOf(note) !== null) this.leftAlone.delete(path);
    }
  }

  /**
   * Notes outside the tasks and archive folders that name a task, by task id: where a task's note
   * went when the tasks folder setting changed. Of several, the one named after its title.
   */
  private async notesElsewhere(tasks: ReadonlyMap<string, Task>): Promise<Map<string, NoteMeta>> {
    const found = new Map<string, NoteMeta>();
    const notes = (await this.store.list('')).sort((a, b) => a.path.localeCompare(b.path));
    for (const note of notes) {
      const task = tasks.get(idOf(note) ?? '');
      if (!task || this.inScope(note.path)) continue;
      const named = fileNameMatchesTitle(titleFromPath(note.path), task.title);
      if (!found.has(task.task_id) || named) found.set(task.task_id, note);
    }
    return found;
  }

  /** Moves a task's note from elsewhere into the tasks folder and follows it; false if it cannot. */
  private async adoptNote(stray: NoteMeta, task: Task): Promise<boolean> {
    let target = await this.freePath(this.settings.folder, titleFromPath(stray.path));
    // Claimed at once, as `writeNoteForTask` claims its path: notes are placed several at a time.
    while (this.byPath.has(target)) {
      target = await this.freePath(this.settings.folder, titleFromPath(stray.path));
    }
    const tracked = this.trackNote(target, task.task_id, baseFromTask(task, this.names));
    tracked.unsettled = true;
    try {
      await this.store.move(stray.path, target);
    } catch {
      this.untrack(tracked);
      return false;
    }
    const note = await this.store.read(target);
    if (note && idOf(note) === task.task_id) await this.reconcileNote(tracked, note, task);
    return true;
  }

  private async listNotes(): Promise<NoteMeta[]> {
    const { folder, archiveFolder } = this.settings;
    const notes = await this.store.list(folder);
    if (archiveFolder === '' || isUnder(archiveFolder, folder)) return notes;
    return [...notes, ...(await this.store.list(archiveFolder))];
  }

  /**
   * Whether a listed note agrees with its task in all but its body (which the listing does not
   * have): at the task's version, every owned key as the task has it, named after its title.
   */
  private agreesWithoutBody(tracked: TrackedNote, note: NoteMeta, task: Task): boolean {
    return (
      canonicalValue('owp_version', note.frontmatter.owp_version) === task.version &&
      !OWNED_KEYS.some((key) => differs(key, note.frontmatter[key], tracked.base.owned[key])) &&
      fileNameMatchesTitle(titleFromPath(note.path), tracked.base.title)
    );
  }

  /**
   * After the start: reads each note the reconcile found in agreement but for its body, and sends
   * what the user changed while the plugin was away (the body, or properties the listing did not
   * show yet). Each note in its own queue, so live changes and this check take turns; a few notes
   * at a time, so a live edit does not wait behind 5,000 reads. `flush` waits for it.
   */
  private checkBodiesLater(): void {
    const notes = this.bodiesToCheck.splice(0);
    if (notes.length === 0) return;
    const jobs = notes.map(
      (tracked) => () =>
        tracked.queue.run(async () => {
          if (this.stopped || this.byTask.get(tracked.taskId) !== tracked) return;
          const note = await this.store.read(tracked.path);
          if (note && !this.stopped) {
            await this.pushEdits(tracked, note, { title: true, quiet: true });
          }
        }),
    );
    void this.track(() =>
      runPool(jobs, this.concurrency, (error) => this.fail('Note sync', error)),
    );
  }

  /**
   * Brings a note and its task together after the plugin was away. A note at the task's version
   * holds the user's offline edits, which go to the scheduler. A note behind its task is settled
   * field by field (`settleBehind`): the pool's log tells which fields it changed since the note's
   * version, the record's fingerprint which ones the user changed. When the log cannot be read,
   * the fingerprint tells what the pool changed too; with neither, the newer side wins: the user's
   * edits if the note was modified after the task was, else the scheduler's values — but for a
   * description, which is kept beside the pool's rather than dropped.
   */
  private async reconcileNote(tracked: TrackedNote, note: NoteSnapshot, task: Task) {
    const outcome = await this.settleNote(tracked, note, task);
    // Settled (unless it did not read, or this failed halfway): its base is what it holds now.
    tracked.unsettled = tracked.unreadable;
    return outcome;
  }

  private async settleNote(tracked: TrackedNote, note: NoteSnapshot, task: Task) {
    if (note.frontmatterError) return this.leaveUnreadable(tracked, note);
    const version = canonicalValue('owp_version', note.frontmatter.owp_version);
    if (version === task.version)
      return this.pushEdits(tracked, note, { title: true, quiet: true });
    const current = baseFromTask(task, this.names);
    const fingerprint = this.fingerprints.get(task.task_id);
    if (typeof version === 'number' && version < task.version && holdsOtherValues(current, note)) {
      const changed = await this.fieldsChangedSince(task.task_id, version);
      if (changed || fingerprint !== undefined) {
        // Without the log, what the pool changed is what it holds other than the fingerprint.
        const poolNote = noteOfBase(current);
        return this.settleBehind(tracked, note, task, (field) =>
          changed
            ? changed.has(field)
            : changedSince(fingerprint, keyOfField(field as keyof TaskUpdateRequest), poolNote) !==
              false,
        );
      }
    }
    if (typeof version === 'number' && note.mtime > Date.parse(task.updated_at)) {
      return this.pushEdits(tracked, note, { title: true, quiet: true });
    }
    // The scheduler's values, field by field as if it had changed every one the note differs in.
    return this.settleBehind(tracked, note, task, () => true);
  }

  /**
   * A note behind its task. `poolChanged` says (by `TaskUpdateRequest` name) which fields the pool
   * changed since the note last agreed with it; the fingerprint kept in the record, which ones the
   * user changed meanwhile. A field only the pool changed takes its value, one only the user
   * changed is sent. One both changed: the pool's value is kept and the user told the value they
   * had — but a description keeps both texts, the user's under `KEPT_TEXT_MARKER`, and that is
   * sent: nothing typed is dropped unsaid. With no fingerprint the start cannot tell a user's
   * edit from an old value: a short field takes the pool's value, a description is kept as above.
   * (Was: the pool's value, always and unsaid — a body rewritten offline was lost.)
   *
   * The pool's values and the note's new `owp_version` are written in one frontmatter update, after
   * the body and the file name: a quit halfway leaves the note behind, settled again at the next
   * start — never at the task's version with old values, which would be sent as the user's edits.
   */
  private async settleBehind(
    tracked: TrackedNote,
    note: NoteSnapshot,
    task: Task,
    poolChanged: (field: string) => boolean,
  ) {
    const pool = baseFromTask(task, this.names);
    const fingerprint = this.fingerprints.get(task.task_id);
    const userChanged = (field: FingerprintField) => changedSince(fingerprint, field, note);
    const frontmatter: Record<string, unknown> = {};
    const keptPool: string[] = [];
    for (const key of USER_KEYS) {
      // A repo edited offline is put back, with its notice, by `pushEdits` below.
      if (key === 'repo' || !differs(key, note.frontmatter[key], pool.owned[key])) continue;
      // Changed by the user only: left in the note, and sent below as the user's edit.
      if (!poolChanged(USER_FIELD[key])) continue;
      frontmatter[key] = pool.owned[key];
      if (userChanged(key) === true) {
        keptPool.push(
          `${key} ${show(pool.owned[key])} (this note had ${show(note.frontmatter[key])})`,
        );
      }
    }
    const fileName = titleFromPath(note.path);
    const retitle = !fileNameMatchesTitle(fileName, pool.title) && poolChanged('title');
    if (retitle && userChanged('title') === true) {
      keptPool.push(`title "${pool.title}" (this note was named "${fileName}")`);
    }
    const noteDescription = canonicalDescription(note.body);
    let body: string | null = null;
    if (noteDescription !== pool.description && poolChanged('description')) {
      const mine = userChanged('description');
      if (mine === false || noteDescription === '') {
        body = descriptionToBody(task.description);
      } else {
        body = descriptionToBody(keepBothTexts(pool.description, noteDescription));
        this.notifyUser(
          `"${note.path}": the description changed in the pool while the sync was away` +
            (mine === null ? ', and the note holds another text (an edit, or an older text)' : '') +
            `; the note keeps both, the pool's first, yours after "${KEPT_TEXT_MARKER}". ` +
            `Keep what you want: the task has both until you do.`,
        );
      }
    }
    if (keptPool.length > 0) {
      this.notifyUser(
        `"${note.path}": changed in the pool and in the note while the sync was away; the pool's ` +
          `value was kept: ${keptPool.join('; ')}.`,
      );
    }

    // The body and the name first, the properties with the version last (see above).
    if (body !== null) await this.store.writeBody(tracked.path, body);
    if (retitle) await this.moveNote(tracked, parentOf(tracked.path), task.title);
    for (const key of SCHEDULER_KEYS) {
      if (differs(key, note.frontmatter[key], pool.owned[key])) frontmatter[key] = pool.owned[key];
    }
    const wrote = body !== null || retitle || Object.keys(frontmatter).length > 0;
    if (Object.keys(frontmatter).length > 0) {
      await this.store.updateFrontmatter(tracked.path, frontmatter);
    }
    // What differs from the task now is the user's: sent as an edit on the task's version.
    tracked.base = pool;
    const settled = await this.store.read(tracked.path);
    if (!settled) return { noteChanged: wrote, taskChanged: false };
    const outcome = await this.pushEdits(tracked, settled, { title: true, quiet: true });
    return { ...outcome, noteChanged: outcome.noteChanged || wrote };
  }

  /** The fields of a task its updates changed after `version`, from the pool's log; null if unread. */
  private async fieldsChangedSince(taskId: string, version: number): Promise<Set<string> | null> {
    const fields = new Set<string>();
    try {
      for (let after = 0; ;) {
        const page = await this.api.auditEvents({ task_id: taskId, type: 'task.updated', after });
        for (const event of page.events) {
          if (event.type !== 'task.updated' || event.data.version <= version) continue;
          for (const field of event.data.fields) fields.add(field);
        }
        if (page.next_after === null) return fields;
        after = page.next_after;
      }
    } catch {
      return null;
    }
  }

  private reportStrays(report: ReconcileReport): void {
    if (this.firstSyncOfFolder && report.notesLeftAlone > 0) {
      this.notifyUser(
        `${report.notesLeftAlone} note(s) already in "${this.settings.folder}" were left as they ` +
          'are: OWP Pool had not synced this folder before, so they did not become tasks. To make ' +
          'them tasks, run "Make the notes in the tasks folder tasks" (or "Turn the current note ' +
          'into a task" on one), or choose another tasks folder in the settings. Notes added to ' +
          'the folder from now on become tasks.',
      );
    }
    // A deletion found at start is not one seen happen: a file sync or a checkout may only be late
    // to bring the note. So its task is left as it is, even with `cancelOnDelete`, and the user told.
    if (report.notesDeleted > 0) {
      this.notifyUser(
        `${report.notesDeleted} task note(s) were deleted while the sync was not running. Their ` +
          'tasks stay in the pool as they are (not cancelled) and the notes are not written again; ' +
          'a note put back is followed again.',
      );
    }
    if (report.unknownIds.length > 0) {
      this.notifyUser(
        `${report.unknownIds.length} task note(s) name a task the pool does not know, ` +
          `e.g. "${report.unknownIds[0]!.path}". They were left as they are.`,
      );
    }
    if (report.duplicates.length > 0) {
      this.notifyUser(
        `${report.duplicates.length} note(s) name a task that already has a note, ` +
          `e.g. "${report.duplicates[0]!.path}". Remove owp_id from a copy to make it a new task.`,
      );
    }
  }

  // ── note → task ─────────────────────────────────────────────────────────────────────────────

  private onNoteChange(change: NoteChange): void {
    if (this.stopped) return;
    if (change.kind === 'deleted') return this.noteDeleted(change.path);
    if (change.kind === 'renamed') return this.noteRenamed(change.oldPath, change.note);
    const tracked = this.byPath.get(change.note.path);
    // The sync's own writes come back as changes that match the base: nothing to do.
    if (tracked && !hasEdits(tracked.base, change.note)) return;
    if (!tracked && !this.inScope(change.note.path)) return;
    this.debounce(change.note.path);
  }

  private debounce(path: string): void {
    const previous = this.debounces.get(path);
    if (previous !== undefined) this.timers.clearTimeout(previous);
    this.debounces.set(
      path,
      this.timers.setTimeout(() => this.fireDebounce(path), this.debounceMs),
    );
  }

  private fireDebounce(path: string): void {
    const handle = this.debounces.get(path);
    if (handle === undefined) return;
    this.timers.clearTimeout(handle);
    this.debounces.delete(path);
    void this.track(() => this.queueFor(path).run(() => this.noteChanged(path)));
  }

  /**
   * A note was created or edited: it becomes a task, or its edits go to its task. `asked`: by the
   * user, on purpose (a command), rather than seen changing.
   */
  private async noteChanged(path: string, { asked = false } = {}): Promise<void> {
    if (this.stopped) return;
    const note = await this.store.read(path);
    if (!note) return;
    // A problem is told again only if this look finds another, or finds it after it was mended.
    this.lookingAt.set(path, this.problems.get(path));
    this.problems.delete(path);
    try {
      await this.handleNote(path, note, asked);
    } finally {
      this.lookingAt.delete(path);
    }
  }

  private async handleNote(path: string, note: NoteSnapshot, asked: boolean): Promise<void> {
    const tracked = this.byPath.get(path);
    if (tracked?.unreadable && !note.frontmatterError) {
      // Mended: reconciled as at a start, the newer side winning.
      tracked.unreadable = false;
      await this.reconcileNote(tracked, note, await this.api.getTask(tracked.taskId));
      return;
    }
    if (tracked) {
      await this.pushEdits(tracked, note, { title: false, quiet: false });
      // A change of the task that found the file gone for a moment (deleted and written again).
      if (tracked.behind) await this.applyTask(tracked, await this.api.getTask(tracked.taskId));
      return;
    }
    const id = idOf(note);
    if (id === null) {
      if (!this.inCreationScope(path)) return;
      // A note left alone stays a plain note, edited or not, until the user asks for its task.
      if (asked && this.leftAlone.delete(path)) this.saveRecord();
      if (this.leftAlone.has(path)) return;
      await this.createTaskFromNote(note, { waitWhileEmpty: !asked });
      return;
    }
    const owner = this.byTask.get(id);
    if (owner) {
      this.notifyUser(
        `"${path}" names the same task as "${owner.path}". Remove owp_id from the copy to make it a new task.`,
      );
      return;
    }
    // A note of a known task that arrived in the folder (moved in, restored from the trash).
    const task = await this.api.getTask(id).catch((error: unknown) => {
      if (error instanceof OwpError && error.code === 'task_not_found') return null;
      throw error;
    });
    if (!task) {
      this.problem(path, unknownTask(path, id));
      return;
    }
    const adopted = this.trackNote(path, id, baseFromTask(task, this.names));
    adopted.unsettled = true;
    this.forgetDeleted(id);
    this.saveRecord();
    await this.reconcileNote(adopted, note, task);
  }

  /** Whether a note can become a task whatever its properties say; if not, the user is told why. */
  private canBecomeTask(note: NoteSnapshot): boolean {
    if (note.frontmatterError) {
      this.problem(
        note.path,
        `"${note.path}": its properties are ${note.frontmatterError}. It becomes a task once they read again.`,
      );
      return false;
    }
    if (noteToTaskFields({}, note.body).errors.some((error) => error.key === 'description')) {
      // Made with an empty description, the task would then write that into the note.
      this.problem(
        note.path,
        `"${note.path}" stays a plain note: it is too long to be a task description (100,000 characters).`,
      );
      return false;
    }
    return true;
  }

  /**
   * Creates the task a new note describes, then writes its owned properties back. The request goes
   * with an idempotency key kept in the record until its answer is had (`PendingCreate`): sent
   * again after a failure that leaves it unknown whether the pool made the task — a timeout, a reset
   * connection, a 500, the app closed meanwhile — it is answered with that task, never a second.
   * A repeat sends the request as first sent; what the note changed since goes as an edit after.
   *
   * `waitWhileEmpty`: an empty note is not made a task yet. A note seen appearing may be one the
   * user is about to write: Obsidian's "New note" makes an empty "Untitled.md" first, and made a
   * task at once it took the default repo and that name before the user could type either (a
   * longer wait would not do: naming and writing a note may take minutes). Not so for a note found
   * at a start, or turned into a task on purpose: it holds all it is meant to, a title at least.
   */
  private async createTaskFromNote(
    note: NoteSnapshot,
    { waitWhileEmpty = false } = {},
  ): Promise<boolean> {
    const path = note.path;
    let pending = this.pendingCreates.get(path);
    const repeat = pending !== undefined;
    if (!pending) {
      if (!this.canBecomeTask(note)) return false;
      const { fields, errors } = noteToTaskFields(note.frontmatter, note.body, path);
      // A repo typed wrong waits to be mended rather than taking the default: a task's repo never
      // changes, so a typo would leave the task in the wrong repo for good.
      const badRepo = errors.some((error) => error.key === 'repo');
      const repo = badRepo ? undefined : (fields.repo ?? (this.settings.defaultRepo || undefined));
      // One message for all that is wrong, so a note saved again is not told it again.
      const said = errors.map((error) => `"${path}": ${error.message}`);
      if (badRepo) {
        said.push('It becomes a task once the repo is corrected (it cannot change later).');
      } else if (!repo) {
        said.push(`Add a repo property to "${path}" to make it a task.`);
      }
      if (said.length > 0) this.problem(path, said.join(' '));
      // An empty note waits untold: the user is writing it, and only then can it say its repo.
      if (!repo || fields.title === undefined || (waitWhileEmpty && isEmptyNote(note))) {
        return false;
      }
      pending = {
        key: newIdempotencyKey('note'),
        request: { ...fields, repo, title: fields.title },
      };
      this.pendingCreates.set(path, pending);
      this.saveRecord();
    }
    const sent = pending;
    const tracked = await this.guardCreate(async () => {
      try {
        const task = await this.api.createTask(sent.request, { idempotencyKey: sent.key });
        if (this.pendingCreates.get(path) === sent) this.pendingCreates.delete(path);
        // A repeat is answered with the task as it was made, from what the note held then: based
        // on it, what the note changed since is the user's edit, and what the pool changed since
        // (an admin, a grant) is not taken back; the edit's answer brings it into the note.
        const base = repeat ? baseFromTask(task, this.names) : baseFromNote(note);
        const created = { task, tracked: this.trackNote(path, task.task_id, base) };
        this.saveRecord();
        return created;
      } catch (error) {
        if (isMomentary(error)) {
          this.markUnsent(path, () =>
            this.notifyUser(
              `Could not make "${path}" a task: ${messageOf(error)}; it is tried again ` +
                `once the pool can be reached (the task is made once, however often).`,
            ),
          );
        } else {
          // Refused: nothing was made (a refusal is not kept against the key). The note's next
          // save makes a new request of what it says then.
          if (this.pendingCreates.get(path) === sent) this.pendingCreates.delete(path);
          this.saveRecord();
          this.notifyUser(`Could not make "${path}" a task: ${messageOf(error)}`);
        }
        return null;
      }
    });
    if (!tracked) return false;
    // Its properties written into the note, and a repeat's changes since sent, as at a claim.
    if (repeat) await this.pushEdits(tracked.tracked, note, { title: true, quiet: true });
    else await this.applyTask(tracked.tracked, tracked.task, note);
    return true;
  }

  /**
   * Sends what the user changed in a note since its base. Scheduler-owned keys and the repo are put
   * back; an invalid value is put back with a message; a property removed is restored.
   */
  private async pushEdits(
    tracked: TrackedNote,
    note: NoteSnapshot,
    options: { title: boolean; quiet: boolean },
  ): Promise<{ noteChanged: boolean; taskChanged: boolean }> {
    if (note.frontmatterError) return this.leaveUnreadable(tracked, note);
    const { base } = tracked;
    const { fields, errors } = noteToTaskFields(note.frontmatter, note.body);
    const putBack: Record<string, unknown> = {};
    const edits: TaskUpdateRequest = {};
    const refused: string[] = [];

    for (const key of SCHEDULER_KEYS) {
      if (differs(key, note.frontmatter[key], base.owned[key])) {
        putBack[key] = base.owned[key];
        if (key !== 'owp_version' && key !== 'assignee') refused.push(key);
      }
    }
    for (const key of USER_KEYS) {
      if (!differs(key, note.frontmatter[key], base.owned[key])) continue;
      const error = errors.find((e) => e.key === key);
      const value = fields[USER_FIELD[key]];
      if (key === 'repo' && value !== undefined) {
        putBack[key] = base.owned[key];
        this.notifyUser(
          `A task's repo cannot change; "${note.path}" stays in ${String(base.owned.repo)}.`,
        );
      } else if (error) {
        putBack[key] = base.owned[key];
        this.notifyUser(`"${note.path}": ${error.message}`);
      } else if (value === undefined) {
        putBack[key] = base.owned[key];
      } else {
        Object.assign(edits, { [USER_FIELD[key]]: value });
      }
    }
    if (refused.length > 0 && !options.quiet) {
      this.notifyUser(`${refused.join(', ')} in "${note.path}" is set by the scheduler; put back.`);
    }
    if (fields.description !== undefined && fields.description !== base.description) {
      edits.description = fields.description;
    }
    const tooLong = errors.find((error) => error.key === 'description');
    if (tooLong) {
      this.problem(
        note.path,
        `"${note.path}": ${tooLong.message} The task keeps its description until the note is shorter.`,
      );
    }
    const fileName = titleFromPath(note.path);
    if (options.title && !fileNameMatchesTitle(fileName, base.title)) edits.title = fileName.trim();

    let noteChanged = false;
    if (Object.keys(putBack).length > 0) {
      await this.store.updateFrontmatter(tracked.path, putBack);
      noteChanged = true;
    }
    if (Object.keys(edits).length === 0) return { noteChanged, taskChanged: false };
    const taskChanged = await this.sendEdits(tracked, edits);
    return { noteChanged: true, taskChanged };
  }

  /**
   * `updateTask` with the base's version. On `stale_version`, the current task decides field by
   * field: an edit survives where the scheduler left the field as it was in the base.
   */
  private async sendEdits(tracked: TrackedNote, edits: TaskUpdateRequest): Promise<boolean> {
    let pending = edits;
    for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
      const expected = tracked.base.owned.owp_version as number;
      try {
        const task = await this.api.updateTask(tracked.taskId, {
          ...pending,
          expected_version: expected,
        });
        this.unsent.delete(tracked);
        await this.applyTask(tracked, task);
        if (tracked.behind) {
          // The note moved while this was sent. The pool now holds this edit on the base it was
          // checked against (`expected_version`), as the note does: the base moves on, or the
          // rename would send the same edit again.
          tracked.base = baseFromTask(task, this.names);
          tracked.behind = false;
        }
        return true;
      } catch (error) {
        if (!(error instanceof OwpError) || error.code !== 'stale_version') {
          await this.refuseEdits(tracked, pending, error);
          return false;
        }
      }
      const current = await this.api.getTask(tracked.taskId);
      const kept = keepUnchangedByScheduler(pending, tracked.base, current, this.names);
      // Already so in the pool (this very edit, sent before the note moved): nothing was lost.
      const already = (field: string) =>
        JSON.stringify(current[field as keyof Task]) ===
        JSON.stringify(pending[field as keyof TaskUpdateRequest]);
      const lost = Object.keys(pending).filter((field) => !(field in kept) && !already(field));
      if (lost.length > 0) {
        this.notifyUser(
          `"${tracked.path}": ${lost.map(fieldLabel).join(', ')} changed in the pool at the ` +
            `same time; the pool's value was kept.`,
        );
      }
      await this.applyTask(tracked, current);
      if (Object.keys(kept).length === 0) return false;
      pending = kept;
    }
    this.notifyUser(`"${tracked.path}" kept changing in the pool; edit it again to retry.`);
    return false;
  }

  /**
   * An edit the pool refused. Invalid values are put back in the properties (the body and the file
   * name stay as the user wrote them). Any other failure — offline, say — leaves the note as it is:
   * the base has not moved, so the next change or start sends the edit again.
   */
  private async refuseEdits(
    tracked: TrackedNote,
    edits: TaskUpdateRequest,
    error: unknown,
  ): Promise<void> {
    if (error instanceof OwpError && error.code === 'task_not_found') {
      return this.taskGone(tracked);
    }
    if (!(error instanceof OwpError && REFUSED_VALUE_CODES.has(error.code))) {
      const tell = (when: string) =>
        this.notifyUser(
          `Could not update the task of "${tracked.path}" (${messageOf(error)}); it will be sent ` +
            `again ${when}.`,
        );
      if (!isMomentary(error)) tell('with the next change');
      else {
        this.markUnsent(tracked, () =>
          tell(this.streamLive() ? 'shortly' : 'once the pool can be reached'),
        );
      }
      return;
    }
    this.notifyUser(`The pool refused the edit of "${tracked.path}": ${messageOf(error)}`);
    const putBack: Record<string, unknown> = {};
    for (const field of Object.keys(edits) as (keyof TaskUpdateRequest)[]) {
      const key = keyOfField(field);
      if ((USER_KEYS as readonly string[]).includes(key)) putBack[key] = tracked.base.owned[key];
    }
    if (Object.keys(putBack).length > 0) {
      await this.store.updateFrontmatter(tracked.path, putBack);
    }
  }

  private noteRenamed(oldPath: string, note: NoteSnapshot): void {
    const moved = this.byPath.get(oldPath);
    if (this.leftAlone.delete(oldPath)) {
      // Renamed, or moved within the folder, a note left alone stays so (then `handleNote` skips it).
      if (this.inCreationScope(note.path)) this.leftAlone.add(note.path);
      this.saveRecord();
    }
    // The sync's own moves re-key the note before they happen: nothing to do.
    if (!moved || moved.path !== oldPath) {
      // A new note whose creation is pending takes it along: sent again, it makes no second task.
      const pending = this.pendingCreates.get(oldPath);
      if (pending && !this.pendingCreates.has(note.path) && this.inCreationScope(note.path)) {
        this.pendingCreates.delete(oldPath);
        this.pendingCreates.set(note.path, pending);
        this.saveRecord();
      }
      if (!this.byPath.has(note.path) && this.inScope(note.path)) this.debounce(note.path);
      return;
    }
    this.cancelDebounce(oldPath);
    this.byPath.delete(oldPath);
    if (!this.inScope(note.path)) {
      // Moved out of the folders: no longer a task note, but the task is left alone.
      this.byTask.delete(moved.taskId);
      this.rememberDeleted(moved.taskId);
      return;
    }
    moved.path = note.path;
    this.byPath.set(note.path, moved);
    void this.track(() =>
      moved.queue.run(async () => {
        const current = await this.store.read(moved.path);
        if (!current) return;
        await this.pushEdits(moved, current, { title: true, quiet: false });
        // What the task's change could not write while the note was on its way, written now.
        if (moved.behind) await this.applyTask(moved, await this.api.getTask(moved.taskId));
      }),
    );
  }

  private noteDeleted(path: string): void {
    this.cancelDebounce(path);
    this.problems.delete(path);
    if (this.leftAlone.delete(path)) this.saveRecord();
    const tracked = this.byPath.get(path);
    if (!tracked || tracked.path !== path) return;
    this.byPath.delete(path);
    this.byTask.delete(tracked.taskId);
    this.rememberDeleted(tracked.taskId);
    const status = tracked.base.owned.status as string;
    if (!this.settings.cancelOnDelete || TERMINAL.has(status)) return;
    void this.track(() => tracked.queue.run(() => this.cancelForDeletedNote(tracked.taskId)));
  }

  private async cancelForDeletedNote(taskId: string): Promise<void> {
    await this.api.cancelTask(taskId).catch((error: unknown) => {
      if (!(error instanceof OwpError && error.code === 'invalid_transition')) throw error;
    });
  }

  /** The event stream is live again after a break: what could not be sent meanwhile goes now. */
  private onStreamStatus(status: StreamStatus): void {
    const before = this.streamStatus;
    this.streamStatus = status;
    if (status !== 'live' || before === 'live' || this.stopped) return;
    for (const entry of [...this.unsent]) this.resend(entry);
  }

  /** Whether the pool's event stream is live, or tells no status (so will not say when it is). */
  private streamLive(): boolean {
    return this.streamStatus === null || this.streamStatus === 'live';
  }

  /**
   * Keeps what failed for a reason of the moment to be sent again: once the event stream is live
   * again, or — while it is live, when nothing would come to send it — on a timer that waits
   * longer each time (`RETRY_FIRST_MS`, doubled up to `RETRY_MAX_MS`). The user is told once per
   * run of failures (`tell`), not at every retry.
   */
  private markUnsent(entry: TrackedNote | string, tell: () => void): void {
    const retrying = this.retries.get(entry);
    if (!this.unsent.has(entry) && !retrying) tell();
    this.unsent.add(entry);
    if (this.stopped || !this.streamLive()) return;
    const waitMs = retrying ? Math.min(retrying.waitMs * 2, RETRY_MAX_MS) : RETRY_FIRST_MS;
    const handle = this.timers.setTimeout(() => {
      if (this.retries.get(entry)?.handle !== handle) return;
      if (this.unsent.has(entry)) this.resend(entry, true);
      else this.retries.delete(entry);
    }, waitMs);
    this.retries.set(entry, { handle, waitMs });
  }

  /** Sends an `unsent` entry again; `keepBackoff` keeps its retry's wait for the next failure. */
  private resend(entry: TrackedNote | string, keepBackoff = false): void {
    this.unsent.delete(entry);
    const retry = this.retries.get(entry);
    if (retry && !keepBackoff) {
      this.timers.clearTimeout(retry.handle);
      this.retries.delete(entry);
    }
    const job =
      typeof entry === 'string'
        ? () => this.queueFor(entry).run(() => this.noteChanged(entry))
        : // Read where the note is now: the scheduler's changes caught up meanwhile may have moved it.
          () =>
            entry.queue.run(async () => {
              if (this.stopped || this.byTask.get(entry.taskId) !== entry) return;
              const note = await this.store.read(entry.path);
              if (note) await this.pushEdits(entry, note, { title: true, quiet: true });
            });
    void this.track(async () => {
      await job();
      // Sent (or given up: refused, gone): a later failure starts a new run of retries.
      if (!this.unsent.has(entry)) this.retries.delete(entry);
    });
  }

  /**
   * A task the sync did not know of that a note's failed creation may have made after all (same
   * repo, title and description): that note becomes its note, rather than a second one written.
   */
  private async claimUncertainCreate(task: Task): Promise<boolean> {
    for (const [path, pending] of this.pendingCreates) {
      if (!madeBy(pending.request, task)) continue;
      const claimed = await this.queueFor(path).run(async () => {
        // Its creation, sent again meanwhile, was answered with this task: it has its note.
        if (this.byTask.has(task.task_id)) return true;
        // Answered otherwise, or given up, meanwhile.
        if (this.pendingCreates.get(path) !== pending) return false;
        const note = await this.store.read(path);
        if (!note || idOf(note) !== null || this.byPath.has(path)) return false;
        this.pendingCreates.delete(path);
        // Based on the task: its properties are written into the note, and what the user changed
        // in it since the creation was sent goes to the task as an edit.
        const tracked = this.trackNote(path, task.task_id, baseFromTask(task, this.names));
        this.saveRecord();
        await this.pushEdits(tracked, note, { title: true, quiet: true });
        return true;
      });
      if (claimed) return true;
    }
    return false;
  }

  /**
   * The pool no longer has a note's task (its repo was deleted, say): the note is no longer
   * followed, and left as it is — as a note naming an unknown task is at a start.
   */
  private taskGone(tracked: TrackedNote): void {
    this.untrack(tracked);
    this.unsent.delete(tracked);
    const retry = this.retries.get(tracked);
    if (retry) this.timers.clearTimeout(retry.handle);
    this.retries.delete(tracked);
    this.problem(tracked.path, unknownTask(tracked.path, tracked.taskId));
  }

  // ── task → note ─────────────────────────────────────────────────────────────────────────────

  private onEvent(event: OwpEvent): void {
    if (this.stopped) return;
    if (event.type === 'worker.registered' && event.worker_id) {
      this.names.set(event.worker_id, event.data.name);
      return;
    }
    if (event.task_id && (event.type.startsWith('task.') || event.type === 'lease.renewed')) {
      this.refresh(event.task_id);
    }
  }

  /** Re-reads a task and writes what changed into its note (a note is made if it has none). */
  private refresh(taskId: string): void {
    const tracked = this.byTask.get(taskId);
    if (!tracked) {
      void this.track(() =>
        this.discovery.run(async () => {
          // The task may be one this sync is creating right now: wait, then look again.
          await Promise.allSettled([...this.creating]);
          if (this.byTask.has(taskId)) return this.refresh(taskId);
          if (this.deletedTasks.has(taskId) || this.stopped) return;
          const task = await this.api.getTask(taskId);
          if (this.byTask.has(taskId) || TERMINAL.has(task.status)) return;
          if (await this.claimUncertainCreate(task)) return;
          if (!this.byTask.has(taskId)) await this.writeNoteForTask(task);
        }),
      );
      return;
    }
    if (tracked.refreshQueued) return;
    tracked.refreshQueued = true;
    void this.track(() =>
      tracked.queue.run(async () => {
        tracked.refreshQueued = false;
        if (this.stopped || this.byTask.get(taskId) !== tracked) return;
        const task = await this.api.getTask(taskId).catch((error: unknown) => {
          if (error instanceof OwpError && error.code === 'task_not_found') return null;
          throw error;
        });
        if (task) await this.applyTask(tracked, task);
        else this.taskGone(tracked);
      }),
    );
  }

  /**
   * Writes into the note what the scheduler changed since the base — and only that, so an edit
   * the user is making meanwhile survives — then renames or archives the note if due.
   */
  private async applyTask(
    tracked: TrackedNote,
    task: Task,
    known?: NoteSnapshot,
  ): Promise<boolean> {
    const note = known ?? (await this.store.read(tracked.path));
    if (note?.frontmatterError) {
      // Written once the note reads again (the base stays, so that look sees what changed).
      this.leaveUnreadable(tracked, note);
      return false;
    }
    if (!note) {
      // Not where it was: renamed or deleted, and the watcher has not told yet. The base stays,
      // so the note's values are not taken for the user's edits when it turns up elsewhere.
      tracked.behind = true;
      return false;
    }
    tracked.behind = false;
    const next = baseFromTask(task, this.names);
    const base = tracked.base;
    tracked.base = next;
    const changes: Record<string, unknown> = {};
    for (const key of OWNED_KEYS) {
      const schedulerChanged = differs(key, next.owned[key], base.owned[key]);
      if (schedulerChanged && differs(key, next.owned[key], note.frontmatter[key])) {
        changes[key] = next.owned[key];
      }
    }
    // The body and the name before the properties, which carry `owp_version`: a quit halfway
    // leaves the note behind its task (settled at the next start), never at the task's version
    // with an old body or name, which the next start would send as the user's edits.
    let wrote = false;
    const noteDescription = canonicalDescription(note.body);
    if (next.description !== base.description && next.description !== noteDescription) {
      await this.store.writeBody(tracked.path, descriptionToBody(task.description));
      wrote = true;
    }
    const fileName = titleFromPath(tracked.path);
    const retitled = next.title !== base.title && !fileNameMatchesTitle(fileName, next.title);
    const archive =
      TERMINAL.has(task.status) &&
      this.settings.archiveFolder !== '' &&
      !isUnder(tracked.path, this.settings.archiveFolder);
    if (retitled || archive) {
      const folder = archive ? this.settings.archiveFolder : parentOf(tracked.path);
      await this.moveNote(tracked, folder, retitled ? task.title : fileName);
      wrote = true;
    }
    if (Object.keys(changes).length > 0) {
      await this.store.updateFrontmatter(tracked.path, changes);
      wrote = true;
    }
    return wrote;
  }

  private rememberDeleted(taskId: string): void {
    if (this.deletedTasks.has(taskId)) return;
    this.deletedTasks.add(taskId);
    this.saveRecord();
  }

  private forgetDeleted(taskId: string): void {
    if (this.deletedTasks.delete(taskId)) this.saveRecord();
  }

  /**
   * Saves the record (`NoteRecord`) soon, if it changed: the deleted notes, and the open tasks that
   * have a note now. At most once per `RECORD_DELAY_MS`, so a burst of new notes (an import) writes
   * the data file a few times, not once per note; `flush` saves it at once.
   */
  private saveRecord(): void {
    if (!this.deletedNotes || !this.recording || this.stopped || this.recordTimer !== null) return;
    this.recordTimer = this.timers.setTimeout(() => this.saveRecordNow(), RECORD_DELAY_MS);
  }

  private saveRecordNow(): void {
    if (this.recordTimer === null) return;
    this.timers.clearTimeout(this.recordTimer);
    this.recordTimer = null;
    const store = this.deletedNotes!;
    const previous = this.recordSaves;
    this.recordSaves = this.track(async () => {
      await previous;
      const record = this.currentRecord();
      const key = recordKey(record);
      if (key === this.savedRecord) return;
      await store.save(record);
      this.savedRecord = key;
    });
  }

  private currentRecord(): NoteRecord {
    const noted = [...this.byTask.values()]
      .filter((tracked) => !TERMINAL.has(tracked.base.owned.status as string))
      .sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
    const synced: Record<string, string> = {};
    for (const tracked of noted) {
      const print = tracked.unsettled
        ? this.fingerprints.get(tracked.taskId)
        : this.fingerprintOfTracked(tracked);
      if (print !== undefined) synced[tracked.taskId] = print;
    }
    return {
      deleted: [...this.deletedTasks].sort(),
      noted: noted.map((tracked) => tracked.taskId),
      synced,
      folder: this.settings.folder,
      ...(this.leftAlone.size > 0 ? { leftAlone: this.notesLeftAlone() } : {}),
      ...(this.pendingCreates.size > 0
        ? {
            creating: Object.fromEntries(
              [...this.pendingCreates].sort(([a], [b]) => (a < b ? -1 : 1)),
            ),
          }
        : {}),
    };
  }

  /** The fingerprint of what a note held when it last agreed with its task (its base). */
  private fingerprintOfTracked(tracked: TrackedNote): string {
    let print = this.fingerprintOfBase.get(tracked.base);
    if (print === undefined) {
      print = fingerprintOf(tracked.base);
      this.fingerprintOfBase.set(tracked.base, print);
    }
    return print;
  }

  /** A task's note whose properties do not read: left as it is, and the user told once. */
  private leaveUnreadable(tracked: TrackedNote, note: NoteSnapshot) {
    tracked.unreadable = true;
    this.problem(
      note.path,
      `"${note.path}": its properties are ${note.frontmatterError}. The note is not synced with ` +
        `its task until they read again.`,
    );
    return { noteChanged: false, taskChanged: false };
  }

  /** Tells the user of a note's problem, unless this is what they were told at the last look. */
  private problem(path: string, message: string): void {
    const before = this.lookingAt.has(path) ? this.lookingAt.get(path) : this.problems.get(path);
    this.problems.set(path, message);
    if (before !== message) this.notifyUser(message);
  }

  private async moveNote(tracked: TrackedNote, folder: string, title: string): Promise<void> {
    const from = tracked.path;
    let to = await this.freePath(folder, title);
    // Another note may have claimed it while its file was being looked for (see writeNoteForTask).
    while (this.byPath.has(to)) to = await this.freePath(folder, title);
    // Re-key first: the rename event that follows is then recognised as the sync's own.
    this.byPath.delete(from);
    tracked.path = to;
    this.byPath.set(to, tracked);
    try {
      await this.store.move(from, to);
    } catch (error) {
      this.byPath.delete(to);
      tracked.path = from;
      this.byPath.set(from, tracked);
      throw error;
    }
  }

  /** Makes the note of a task that has none, in the tasks folder. */
  private async writeNoteForTask(task: Task): Promise<string> {
    const note = taskToNote(task, this.names);
    for (let attempt = 0; ; attempt++) {
      let path = await this.freePath(this.settings.folder, task.title);
      // Notes are written several at once, and two tasks of one title may both have found the
      // name free while their reads were under way: whoever claims it first has it. Checked and
      // claimed in one step (no await between), or both would be filed under one path and the
      // loser's failed create would drop the winner's too.
      while (this.byPath.has(path)) path = await this.freePath(this.settings.folder, task.title);
      const tracked = this.trackNote(path, task.task_id, baseFromTask(task, this.names));
      try {
        await this.store.create(path, { ...note.frontmatter }, note.body);
        this.saveRecord();
        return path;
      } catch (error) {
        this.untrack(tracked);
        // Someone took the name between the check and the write: try the next one.
        if (attempt >= 3 || (await this.store.read(path)) === null) throw error;
      }
    }
  }

  // ── bookkeeping ─────────────────────────────────────────────────────────────────────────────

  private trackNote(path: string, taskId: string, base: NoteBase): TrackedNote {
    const queue = this.untrackedQueues.get(path) ?? new SerialQueue();
    this.untrackedQueues.delete(path);
    const tracked: TrackedNote = {
      taskId,
      path,
      base,
      queue,
      refreshQueued: false,
      unreadable: false,
      behind: false,
      unsettled: false,
    };
    this.byPath.set(path, tracked);
    this.byTask.set(taskId, tracked);
    // A note left alone that is a task's now (its owp_id typed in, say) is followed as one.
    this.leftAlone.delete(path);
    return tracked;
  }

  private untrack(tracked: TrackedNote): void {
    if (this.byPath.get(tracked.path) === tracked) this.byPath.delete(tracked.path);
    if (this.byTask.get(tracked.taskId) === tracked) this.byTask.delete(tracked.taskId);
    this.saveRecord();
  }

  private queueFor(path: string): SerialQueue {
    const tracked = this.byPath.get(path);
    if (tracked) return tracked.queue;
    let queue = this.untrackedQueues.get(path);
    if (!queue) {
      queue = new SerialQueue();
      this.untrackedQueues.set(path, queue);
    }
    return queue;
  }

  private cancelDebounce(path: string): void {
    const handle = this.debounces.get(path);
    if (handle === undefined) return;
    this.timers.clearTimeout(handle);
    this.debounces.delete(path);
  }

  /** Runs a job that creates a task and tracks its note; events about new tasks wait for it. */
  private async guardCreate<T>(job: () => Promise<T>): Promise<T> {
    const creation = job();
    this.creating.add(creation);
    try {
      return await creation;
    } finally {
      this.creating.delete(creation);
    }
  }

  /** A free path for a title in a folder: taken by no note the sync knows of, nor on disk. */
  private async freePath(folder: string, title: string): Promise<string> {
    const base = fileNameForTitle(title);
    const prefix = folder === '' ? '' : `${folder}/`;
    for (let n = 1; ; n++) {
      const path = `${prefix}${n === 1 ? base : `${base} (${n})`}.md`;
      if (!this.byPath.has(path) && (await this.store.read(path)) === null) return path;
    }
  }

  /** Runs `handle` now, or after the reconcile when it is still running. */
  private whenLive(handle: () => void): void {
    if (this.buffered) this.buffered.push(handle);
    else handle();
  }

  /** Keeps a job in `running` (for `flush`) and turns its failure into a message. */
  private track<T>(job: () => Promise<T>): Promise<T | undefined> {
    const promise = job().catch((error: unknown) => {
      this.fail('Note sync', error);
      return undefined;
    });
    this.running.add(promise);
    void promise.finally(() => this.running.delete(promise));
    return promise;
  }

  private fail(what: string, error: unknown): void {
    if (!this.stopped) this.notifyUser(`${what} failed: ${messageOf(error)}`);
  }

  private inScope(path: string): boolean {
    const { folder, archiveFolder } = this.settings;
    return isUnder(path, folder) || (archiveFolder !== '' && isUnder(path, archiveFolder));
  }

  private inCreationScope(path: string): boolean {
    const { folder, archiveFolder } = this.settings;
    return isUnder(path, folder) && !(archiveFolder !== '' && isUnder(path, archiveFolder));
  }
}

// ── pure helpers ──────────────────────────────────────────────────────────────────────────────

/** A record's identity, whatever order its lists come in. */
function recordKey(record: NoteRecord): string {
  const synced = Object.entries(record.synced ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([
    [...record.deleted].sort(),
    [...record.noted].sort(),
    synced,
    record.folder ?? null,
    // A creation's request never changes under its key: the key stands for both.
    Object.entries(record.creating ?? {})
      .map(([path, { key }]) => [path, key])
      .sort(([a], [b]) => (a! < b! ? -1 : 1)),
    [...(record.leftAlone ?? [])].sort(),
  ]);
}

/**
 * Whether a record was saved by a sync of `folder`, so its notes are known: the folder it names,
 * or — a record from before it named one, after an upgrade — any record at all (as before).
 */
function syncedBefore(record: NoteRecord, folder: string): boolean {
  if (record.folder !== undefined) return record.folder === folder;
  return (
    record.noted.length > 0 ||
    record.deleted.length > 0 ||
    Object.keys(record.synced ?? {}).length > 0 ||
    Object.keys(record.creating ?? {}).length > 0
  );
}

function baseFromTask(task: Task, names: ReadonlyMap<string, string>): NoteBase {
  const { frontmatter } = taskToNote(task, names);
  return {
    owned: { ...frontmatter },
    title: task.title,
    description: canonicalDescription(task.description),
  };
}

function baseFromNote(note: NoteSnapshot): NoteBase {
  const owned = {} as Record<OwnedKey, unknown>;
  for (const key of OWNED_KEYS) owned[key] = note.frontmatter[key];
  return {
    owned,
    title: titleFromPath(note.path),
    description: canonicalDescription(note.body),
  };
}

function differs(key: OwnedKey, a: unknown, b: unknown): boolean {
  const x = canonicalValue(key, a);
  const y = canonicalValue(key, b);
  return x !== y && JSON.stringify(x) !== JSON.stringify(y);
}

/** A base as the note that holds it exactly would read (for `changedSince`). */
function noteOfBase(base: NoteBase): {
  path: string;
  frontmatter: Record<string, unknown>;
  body: string;
} {
  return {
    path: `${fileNameForTitle(base.title)}.md`,
    frontmatter: base.owned,
    body: base.description,
  };
}

/** The user's text after the pool's, under `KEPT_TEXT_MARKER`: both kept, neither dropped. */
function keepBothTexts(pool: string, mine: string): string {
  return pool === '' ? mine : `${pool}\n\n${KEPT_TEXT_MARKER}\n\n${mine}`;
}

/** A property's value in a notice. */
function show(value: unknown): string {
  return value === undefined || value === null ? '(none)' : JSON.stringify(value);
}

/** Whether a note holds a value its task does not have in a field the user edits, or its title. */
function holdsOtherValues(task: NoteBase, note: NoteSnapshot): boolean {
  return (
    USER_KEYS.some((key) => differs(key, note.frontmatter[key], task.owned[key])) ||
    canonicalDescription(note.body) !== task.description ||
    !fileNameMatchesTitle(titleFromPath(note.path), task.title)
  );
}

/** Whether a note holds anything that differs from its base (owned keys or description). */
function hasEdits(base: NoteBase, note: NoteSnapshot): boolean {
  return (
    OWNED_KEYS.some((key) => differs(key, note.frontmatter[key], base.owned[key])) ||
    canonicalDescription(note.body) !== base.description
  );
}

/** The edits whose field the scheduler left as it was in the base. */
function keepUnchangedByScheduler(
  edits: TaskUpdateRequest,
  base: NoteBase,
  current: Task,
  names: ReadonlyMap<string, string>,
): TaskUpdateRequest {
  const now = baseFromTask(current, names);
  const kept: TaskUpdateRequest = {};
  for (const [field, value] of Object.entries(edits) as [keyof TaskUpdateRequest, unknown][]) {
    const unchanged =
      field === 'title'
        ? now.title === base.title
        : field === 'description'
          ? now.description === base.description
          : !differs(
              keyOfField(field),
              now.owned[keyOfField(field)],
              base.owned[keyOfField(field)],
            );
    if (unchanged) Object.assign(kept, { [field]: value });
  }
  return kept;
}

function keyOfField(field: keyof TaskUpdateRequest): OwnedKey {
  const entry = Object.entries(USER_FIELD).find(([, f]) => f === field);
  return (entry?.[0] ?? field) as OwnedKey;
}

function fieldLabel(field: string): string {
  return field === 'estimate_points' ? 'points' : field === 'required_skills' ? 'skills' : field;
}

/** Whether a note holds nothing at all: no property and a blank body (an empty file). */
function isEmptyNote(note: NoteSnapshot): boolean {
  return Object.keys(note.frontmatter).length === 0 && note.body.trim() === '';
}

function idOf(note: NoteMeta): string | null {
  const id = note.frontmatter.owp_id;
  return typeof id === 'string' && id.trim() !== '' ? id.trim() : null;
}

function unknownTask(path: string, taskId: string): string {
  return `"${path}" names task ${taskId}, which the pool does not know; left as it is.`;
}

/**
 * Whether a failure is of the moment — the pool out of reach, restarting, or busy — so that the
 * same request may succeed later; unlike a refusal, which would be answered the same again.
 */
function isMomentary(error: unknown): boolean {
  if (!(error instanceof OwpError)) return true;
  return ['request_timeout', 'rate_limited', 'internal_error', 'not_ready'].includes(error.code);
}

/** Whether a task may be the one a creation request made: same repo, title and description. */
function madeBy(request: TaskCreateRequest, task: Task): boolean {
  return (
    request.repo === task.repo &&
    request.title === task.title &&
    canonicalDescription(request.description ?? '') === canonicalDescription(task.description)
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function trimSlashes(folder: string): string {
  return folder.replace(/^\/+|\/+$/g, '');
}

function isUnder(path: string, folder: string): boolean {
  return folder === '' || path.startsWith(`${folder}/`);
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Runs jobs with at most `limit` at once; a failing job is reported and the rest go on. */
async function runPool(
  jobs: (() => Promise<void>)[],
  limit: number,
  onError: (error: unknown) => void,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await job().catch(onError);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}
