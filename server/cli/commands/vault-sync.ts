import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { OwpApi, Subscription } from '../../../protocol/api.ts';
import type { OwpEvent } from '../../../protocol/events.ts';
import { HttpOwpApi } from '../../../protocol/http-api.ts';
import { deletedNotesFile } from '../../vault/deleted-notes-file.ts';
import { sleep } from '../sleep.ts';
import type { CliContext, ContextOf } from '../context.ts';
import { cliTransport } from '../transport.ts';

interface VaultSyncOptions {
  vault: string;
  folder: string;
  archiveFolder: string;
  defaultRepo?: string;
  cancelOnDelete?: boolean;
  db?: string;
  once?: boolean;
  poll?: boolean;
}

/**
 * `owp vault-sync`: tasks as Markdown notes in a folder on disk, kept in step both ways by the
 * plugin's own note sync (plugin/sync/note-sync.ts) over a `FolderNoteStore`, so a vault kept in
 * git, or files an agent edits, take part without Obsidian running.
 */
export function addVaultSyncCommand(program: Command, contextOf: ContextOf): Command {
  return program
    .command('vault-sync')
    .description(
      'mirror tasks as Markdown notes in a folder and watch it: edits to notes update tasks, the scheduler’s changes update notes (admin token, or --db)',
    )
    .requiredOption('--vault <dir>', 'the vault folder')
    .option('--folder <path>', 'task notes folder inside the vault', 'Tasks')
    .option(
      '--archive-folder <path>',
      "where finished tasks' notes go ('' keeps them)",
      'Tasks/Archive',
    )
    .option('--default-repo <repo>', 'repo of a new note without a repo property')
    .option('--cancel-on-delete', "deleting a task's note cancels the task")
    .option('--db <path>', 'work on a local SQLite database instead of a server (--url)')
    .option('--once', 'reconcile once and exit (for a git hook or CI)')
    .option('--poll', 'poll the folder instead of file-system events (network drives)')
    .action(async (options: VaultSyncOptions, command: Command) => {
      await runVaultSync(contextOf(command), options);
    });
}

async function runVaultSync(ctx: CliContext, options: VaultSyncOptions): Promise<void> {
  // Loaded here: chokidar, the note sync and (for --db) native SQLite are for this command only.
  const { NoteSync } = await import('../../../plugin/sync/note-sync.ts');
  const { FolderNoteStore } = await import('../../vault/folder-note-store.ts');
  const root = resolve(ctx.io.cwd, options.vault);
  const dbPath = options.db === undefined ? undefined : await ctx.localDatabase(options.db);
  const { api, subscribe, close, pool } = dbPath
    ? await localApi(dbPath, ctx.io.signal)
    : remoteApi(ctx);

  const store = new FolderNoteStore({
    root,
    usePolling: options.poll === true,
    onError: (error) => ctx.note(`owp: vault-sync: watcher: ${error.message}`),
  });
  await store.start();
  // The folder new notes go in: there from the start, for a person to add the first one to.
  mkdirSync(join(root, options.folder), { recursive: true });
  const sync = new NoteSync({
    api,
    store,
    subscribe,
    settings: {
      folder: options.folder,
      archiveFolder: options.archiveFolder,
      defaultRepo: options.defaultRepo ?? '',
      cancelOnDelete: options.cancelOnDelete === true,
    },
    notify: (message) => ctx.note(`vault-sync: ${message}`),
    deletedNotes: deletedNotesFile(root, pool, (message) =>
      ctx.note(`owp: vault-sync: ${message}`),
    ),
    // Pointed at a folder of task notes on purpose (an agent's, a git checkout's): the notes in it
    // at the first run become tasks, as later ones do. The plugin leaves them alone.
    adoptNotesInNewFolder: true,
  });
  try {
    const report = await sync.start();
    await sync.flush();
    if (ctx.json) {
      // snake_case, as every other --json of the CLI and the API.
      ctx.printJson({
        vault: root,
        tasks: report.tasks,
        notes: report.notes,
        notes_created: report.notesCreated,
        tasks_created: report.tasksCreated,
        notes_updated: report.notesUpdated,
        tasks_updated: report.tasksUpdated,
        notes_deleted: report.notesDeleted,
        unknown_ids: report.unknownIds,
        duplicates: report.duplicates,
      });
    } else {
      ctx.print(
        `vault ${root}: ${report.tasks} tasks, ${report.notes} notes; ${report.notesCreated} notes created, ${report.tasksCreated} tasks created, ${report.notesUpdated} notes updated, ${report.tasksUpdated} tasks updated, ${report.notesDeleted} notes found deleted`,
      );
    }
    if (options.once) return;
    ctx.note(`watching ${root}/${options.folder}; Ctrl-C to stop`);
    await new Promise<void>((done) => {
      if (ctx.io.signal.aborted) done();
      else ctx.io.signal.addEventListener('abort', () => done(), { once: true });
    });
    // Edits still waiting for their debounce go out before the process ends.
    await Promise.race([sync.flush(), new Promise((done) => setTimeout(done, 5000).unref())]);
  } finally {
    sync.stop();
    await store.close();
    close();
    if (!options.once) ctx.note('stopped');
  }
}

interface PoolConnection {
  api: OwpApi;
  subscribe?: (after: number, onEvent: (event: OwpEvent) => void) => Subscription;
  close: () => void;
  /** Names the pool in the vault's state file: the server's URL, or the database's path. */
  pool: string;
}

function remoteApi(ctx: CliContext): PoolConnection {
  const baseUrl = ctx.adminClient().baseUrl;
  // Not tied to Ctrl-C: the last edits are sent after the interrupt.
  const api = new HttpOwpApi({
    baseUrl,
    adminToken: ctx.adminToken(),
    transport: cliTransport(new AbortController().signal),
  });
  return { api, close: () => {}, pool: baseUrl };
}

/**
 * The engine over a SQLite file, as admin. Another process may write the same file (`owp serve
 * --db`, `owp mcp --db`), and its events reach no listener here: the event table is polled.
 */
async function localApi(dbPath: string, signal: AbortSignal): Promise<PoolConnection> {
  const { BetterSqlite3Driver } = await import('../../better-sqlite3-driver.ts');
  const { Scheduler } = await import('../../../scheduler/engine.ts');
  const { LocalOwpApi } = await import('../../../scheduler/local-api.ts');
  const { systemClock } = await import('../../../scheduler/clock.ts');
  const driver = new BetterSqlite3Driver({ path: dbPath });
  const engine = new Scheduler({ driver, clock: systemClock });
  const api = new LocalOwpApi(engine, { admin: true });
  const subscribe = (after: number, onEvent: (event: OwpEvent) => void): Subscription => {
    const stop = new AbortController();
    void (async () => {
      let last = after;
      while (!stop.signal.aborted && !signal.aborted) {
        for (const event of engine.events({ after: last, limit: 500 })) {
          last = event.seq;
          onEvent(event);
        }
        await sleep(500, stop.signal);
      }
    })();
    return { close: () => stop.abort() };
  };
  return { api, subscribe, close: () => driver.close(), pool: `file:${dbPath}` };
}
