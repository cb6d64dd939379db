/**
 * The embedded measures (issue 7, item 5), in one child process of `npm run bench`:
 *   - persistence cost per change at 10k and 100k tasks on sql.js: `driver.export()` alone, and a
 *     whole save through the Persister (export, SHA-256, data file, manifest) into a temp folder;
 *   - the engine in-process, full task cycles per second at 1k ready tasks (bench/engine-bench.mts);
 *   - plugin start with 10,000 task notes (EmbeddedBackend start + NoteSync start over the
 *     in-memory note store) and one note edit reaching the scheduler.
 * Run alone: `npx tsx bench/embedded-bench.mts` prints the JSON.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance as perf } from 'node:perf_hooks';
import { join } from 'node:path';
import { systemClock } from '../scheduler/clock.ts';
import { Scheduler } from '../scheduler/engine.ts';
import type { SqlDriver } from '../scheduler/storage-port.ts';
import { BetterSqlite3Driver } from '../server/better-sqlite3-driver.ts';
import { type JournalStatement, SqlJsDriver } from '../plugin/embedded/sqljs-driver.ts';
import { Persister, sha256Hex } from '../plugin/embedded/persister.ts';
import { FolderBinaryStore } from '../plugin/testing/folder-binary-store.ts';
import { engineCycleRows, storageFloorRows, type EngineCycleRow } from './engine-bench.mts';
import { ROOT } from './lib/children.mts';
import { benchRepos, repoRequest, taskRequest } from './load/workload.mts';

/** A solo vault: the embedded pool has a handful of repos. */
const REPOS = benchRepos(1);

export interface PersistenceRow {
  tasks: number;
  /** sql.js database size as exported. */
  bytes: number;
  /** Median of `driver.export()` after one change. */
  exportMs: number;
  /** Median of one whole Persister save after one change (export + hash + two writes), wall time. */
  saveMs: number;
  /**
   * Median main-thread (event-loop) time of that save: what the app cannot spend on anything else.
   * The hash (WebCrypto) and the file writes run off the main thread.
   */
  saveMainThreadMs?: number;
  /** Parts of a save, medians: the Persister's SHA-256 of the bytes (wall), and one file write. */
  hashMs: number;
  writeMs: number;
  /**
   * The journaled path the plugin takes (a whole save only every `journalLimit` changes), medians
   * per change: the driver handing over the transaction's writes (`captureMs`: the change with a
   * commit listener minus without), the Persister's `record()` (`recordMs`), and the main-thread
   * time until the line is appended (`appendMainThreadMs`). `perChangeMs` adds them and the
   * whole save's main-thread time shared over `journalLimit` changes.
   */
  journal?: {
    journalLimit: number;
    captureMs: number;
    recordMs: number;
    appendMainThreadMs: number;
    appendWallMs: number;
    lineBytes: number;
    perChangeMs: number;
    /**
     * A start after a crash replays the journal since the last whole save: at worst a full one
     * (`journalLimit` changes), replayed on the saved generation as the plugin loads it.
     */
    replayFullJournalMs?: number;
    replayPerChangeMs: number;
  };
  /** How fast the engine created the tasks (setup, for context), and on which driver. */
  createPerSecond: number;
  builtWith: string;
}

export type PluginStart =
  | {
      status: 'measured';
      notes: number;
      /** EmbeddedBackend.start(): load the saved generation, open sql.js, migrate. */
      backendStartMs: number;
      /** NoteSync.start(): list tasks and notes, reconcile. */
      syncStartMs: number;
      readyMs: number;
      /** store.edit() of one property until the scheduler emitted task.updated. */
      editToSchedulerMs: number;
      debounceMs: number;
    }
  | { status: 'todo'; reason: string };

export interface EmbeddedResults {
  persistence: PersistenceRow[];
  engineCycles: EngineCycleRow[];
  /** The same writes with nothing else (`runStorageFloor`); absent from results before 2026-11-26. */
  storageFloor?: EngineCycleRow[];
  pluginStart: PluginStart;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** Creates `tasks` tasks through the engine over `driver`; returns tasks per second. */
function fill(driver: SqlDriver, tasks: number): number {
  const engine = new Scheduler({ driver, clock: systemClock });
  for (const repo of REPOS) engine.upsertRepo(repoRequest(repo));
  const started = performance.now();
  for (let i = 0; i < tasks; i += 5000) {
    driver.transaction(() => {
      for (let j = i; j < Math.min(tasks, i + 5000); j++) {
        engine.createTask(taskRequest(REPOS, j, false));
      }
    });
  }
  return Math.round(tasks / ((performance.now() - started) / 1000));
}

/**
 * Large databases are built with the engine on better-sqlite3 and handed to sql.js as bytes: the
 * same engine writes the same rows, about three times faster, and the persistence cost depends only
 * on what the database holds.
 */
async function buildDatabase(tasks: number) {
  if (tasks <= 20_000) {
    const driver = await SqlJsDriver.open();
    return { driver, createPerSecond: fill(driver, tasks), builtWith: 'sql.js' };
  }
  const builder = new BetterSqlite3Driver({ path: ':memory:' });
  const createPerSecond = fill(builder, tasks);
  const bytes = builder.db.serialize();
  builder.close();
  const driver = await SqlJsDriver.open(new Uint8Array(bytes));
  return { driver, createPerSecond, builtWith: 'better-sqlite3, opened in sql.js' };
}

async function persistenceAt(tasks: number, repeats: number): Promise<PersistenceRow> {
  const { driver, createPerSecond, builtWith } = await buildDatabase(tasks);
  const engine = new Scheduler({ driver, clock: systemClock });
  let serial = tasks;
  const oneChange = () => engine.createTask(taskRequest(REPOS, serial++, false));

  const exports: number[] = [];
  let bytes = 0;
  for (let i = 0; i < repeats; i++) {
    oneChange();
    const t0 = performance.now();
    bytes = driver.export().length;
    exports.push(performance.now() - t0);
  }

  const folder = mkdtempSync(join(tmpdir(), 'owp-bench-persist-'));
  const saves: number[] = [];
  const mainThread: number[] = [];
  let journal: PersistenceRow['journal'];
  const hashes: number[] = [];
  const writes: number[] = [];
  try {
    const bytes_ = driver.export();
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await sha256Hex(bytes_);
      const t1 = performance.now();
      writeFileSync(join(folder, 'probe.sqlite'), bytes_);
      writes.push(performance.now() - t1);
      hashes.push(t1 - t0);
    }
    rmSync(join(folder, 'probe.sqlite'));
    const persister = new Persister(new FolderBinaryStore(folder), {
      exportBytes: () => driver.export(),
      debounceMs: 60_000, // saves happen only through flush() here
    });
    for (let i = 0; i < repeats; i++) {
      oneChange();
      persister.markDirty();
      const t0 = performance.now();
      const loop0 = perf.eventLoopUtilization();
      await persister.flush();
      saves.push(performance.now() - t0);
      mainThread.push(perf.eventLoopUtilization(loop0).active);
    }
    await persister.close();
    journal = await journaledChanges(driver, oneChange, folder, repeats * 4, median(mainThread));
  } finally {
    rmSync(folder, { recursive: true, force: true });
    driver.close();
  }
  return {
    tasks,
    bytes,
    exportMs: median(exports),
    saveMs: median(saves),
    saveMainThreadMs: median(mainThread),
    hashMs: median(hashes),
    writeMs: median(writes),
    journal,
    createPerSecond,
    builtWith,
  };
}

/**
 * One change at a time through the journal, as the embedded backend wires it: the driver's commit
 * listener records the writes, the Persister appends one line. Each change is awaited to its
 * append (`flush()`), so the main-thread time of one append is measured alone.
 */
async function journaledChanges(
  driver: SqlJsDriver,
  oneChange: () => void,
  folder: string,
  changes: number,
  saveMainThreadMs: number,
): Promise<NonNullable<PersistenceRow['journal']>> {
  const journalLimit = 500;
  const bare: number[] = [];
  for (let i = 0; i < changes; i++) {
    const t0 = performance.now();
    oneChange();
    bare.push(performance.now() - t0);
  }
  const persister = new Persister(new FolderBinaryStore(join(folder, 'journal')), {
    exportBytes: () => driver.export(),
    debounceMs: 60_000,
    journalLimit,
  });
  await persister.load();
  const records: number[] = [];
  let lineBytes = 0;
  driver.onCommit((writes) => {
    const t0 = performance.now();
    persister.record(writes);
    records.push(performance.now() - t0);
    lineBytes = JSON.stringify(writes).length;
  });
  oneChange(); // the first change of a new folder is a whole generation; the journal starts after
  await persister.flush();
  records.length = 0;
  const base = driver.export();
  const journaled: JournalStatement[][] = [];
  const listen = (writes: JournalStatement[]) => {
    journaled.push(writes);
    const t0 = performance.now();
    persister.record(writes);
    records.push(performance.now() - t0);
    lineBytes = JSON.stringify(writes).length;
  };
  driver.onCommit(listen);
  const withListener: number[] = [];
  const appendMainThread: number[] = [];
  const appendWall: number[] = [];
  for (let i = 0; i < changes; i++) {
    const t0 = performance.now();
    oneChange();
    const t1 = performance.now();
    withListener.push(t1 - t0);
    const loop0 = perf.eventLoopUtilization();
    await persister.flush();
    appendWall.push(performance.now() - t1);
    appendMainThread.push(perf.eventLoopUtilization(loop0).active);
  }
  // The worst start: a crash just before the journal folds into a generation leaves a full one.
  while (journaled.length < journalLimit) oneChange();
  driver.onCommit(null);
  await persister.close();
  const replayed = await SqlJsDriver.open(base);
  const t0 = performance.now();
  replayed.replay(journaled);
  const replayFullJournalMs = performance.now() - t0;
  replayed.close();
  const recordMs = median(records);
  const captureMs = Math.max(0, median(withListener) - median(bare) - recordMs);
  const appendMainThreadMs = median(appendMainThread);
  return {
    journalLimit,
    captureMs,
    recordMs,
    appendMainThreadMs,
    appendWallMs: median(appendWall),
    lineBytes,
    perChangeMs: captureMs + recordMs + appendMainThreadMs + saveMainThreadMs / journalLimit,
    replayFullJournalMs,
    replayPerChangeMs: replayFullJournalMs / journaled.length,
  };
}

/**
 * Plugin start with `notes` task notes that already agree with their tasks (the everyday start),
 * then one edited property. Needs the note sync (plugin/sync/note-sync.ts), written in parallel
 * with this bench: when it is missing or its API moved, the row says so instead of failing the run.
 */
async function pluginStart(notes: number): Promise<PluginStart> {
  const needed = ['plugin/sync/note-sync.ts', 'plugin/testing/memory-note-store.ts'];
  const missing = needed.filter((file) => !existsSync(join(ROOT, file)));
  if (missing.length > 0) return { status: 'todo', reason: `missing ${missing.join(', ')}` };
  try {
    const { NoteSync } = await import('../plugin/sync/note-sync.ts');
    const { MemoryNoteStore } = await import('../plugin/testing/memory-note-store.ts');
    const { MemoryBinaryStore } = await import('../plugin/testing/memory-binary-store.ts');
    const { EmbeddedBackend } = await import('../plugin/backend/embedded-backend.ts');
    const { taskToNote, notePathForTitle } = await import('../plugin/sync/note-mapping.ts');

    const binaryStore = new MemoryBinaryStore();
    const folder = 'Tasks';
    const noteStore = new MemoryNoteStore(() => Date.now());
    // The vault as the plugin left it: a saved database and one note per task.
    {
      const backend = new EmbeddedBackend({ store: binaryStore, credentials: { admin: true } });
      await backend.start();
      const { engine } = backend;
      for (const repo of REPOS) engine.upsertRepo(repoRequest(repo));
      const taken = new Set<string>();
      for (let i = 0; i < notes; i++) {
        const task = engine.createTask(taskRequest(REPOS, i, false));
        const note = taskToNote(task);
        const path = notePathForTitle(folder, task.title, (p) => taken.has(p));
        taken.add(path);
        noteStore.seed(path, note.frontmatter as Record<string, unknown>, note.body);
      }
      await backend.stop();
    }

    const debounceMs = 100;
    const t0 = performance.now();
    const backend = new EmbeddedBackend({ store: binaryStore, credentials: { admin: true } });
    await backend.start();
    const t1 = performance.now();
    const sync = new NoteSync({
      api: backend.api,
      store: noteStore,
      settings: { folder, archiveFolder: '', defaultRepo: '', cancelOnDelete: false },
      subscribe: (after, onEvent) => backend.subscribe(after, onEvent),
      debounceMs,
    });
    const report = await sync.start();
    const t2 = performance.now();
    if (report.notes !== notes) throw new Error(`reconcile saw ${report.notes} notes`);

    const path = noteStore.paths()[Math.floor(notes / 2)]!;
    const taskId = sync.taskIdOf(path);
    if (!taskId) throw new Error(`no task tracked for ${path}`);
    const updated = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the edit did not arrive in 10 s')), 10_000);
      const off = backend.engine.onEvent((event) => {
        if (event.type === 'task.updated' && event.task_id === taskId) {
          clearTimeout(timer);
          off();
          resolve(performance.now());
        }
      });
    });
    const t3 = performance.now();
    await noteStore.edit(path, { priority: 777 });
    const arrived = await updated;
    sync.stop();
    await backend.stop();
    return {
      status: 'measured',
      notes,
      backendStartMs: t1 - t0,
      syncStartMs: t2 - t1,
      readyMs: t2 - t0,
      editToSchedulerMs: arrived - t3,
      debounceMs,
    };
  } catch (error) {
    return { status: 'todo', reason: `note sync not measurable yet: ${(error as Error).message}` };
  }
}

export interface EmbeddedOptions {
  persistenceTasks: number[];
  repeats: number;
  engineScale: number;
  pluginNotes: number;
}

export async function runEmbedded(options: EmbeddedOptions): Promise<EmbeddedResults> {
  const persistence: PersistenceRow[] = [];
  for (const tasks of options.persistenceTasks) {
    persistence.push(await persistenceAt(tasks, options.repeats));
  }
  const engineCycles = await engineCycleRows(options.engineScale);
  const storageFloor = await storageFloorRows(options.engineScale);
  const plugin = await pluginStart(options.pluginNotes);
  return { persistence, engineCycles, storageFloor, pluginStart: plugin };
}

if (process.send) {
  process.once('message', (message: { type: string; options: EmbeddedOptions }) => {
    runEmbedded(message.options).then(
      (results) => process.send!({ type: 'embedded', results }, () => process.exit(0)),
      (error: Error) =>
        process.send!({ type: 'error', message: error.stack ?? String(error) }, () =>
          process.exit(1),
        ),
    );
  });
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  console.log(
    JSON.stringify(
      await runEmbedded({
        persistenceTasks: quick ? [10_000] : [10_000, 100_000],
        repeats: quick ? 3 : 7,
        engineScale: quick ? 0.25 : 1,
        pluginNotes: quick ? 2_000 : 10_000,
      }),
      null,
      2,
    ),
  );
}
