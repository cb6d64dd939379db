/**
 * `owp vault-sync` end to end: a real server on 127.0.0.1:0, a temporary vault folder, and the
 * command running in-process while the test edits the notes on disk as a person, git or an agent
 * would, and changes tasks through the API as the scheduler's other clients would.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpOwpApi } from '../../../protocol/http-api.ts';
import type { Task } from '../../../protocol/tasks.ts';
import { systemClock } from '../../../scheduler/clock.ts';
import { Scheduler } from '../../../scheduler/engine.ts';
import { migrate } from '../../../scheduler/migrate.ts';
import { migrations } from '../../../scheduler/sql/migrations.generated.ts';
import { BetterSqlite3Driver } from '../../better-sqlite3-driver.ts';
import { startServer } from '../../main.ts';
import { parseNoteText } from '../../vault/note-text.ts';
import type { CliIo } from '../io.ts';
import { runCli } from '../main.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'owp-vault-sync-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

class Capture {
  text = '';
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

/** Starts `owp ARGS…` in-process; `stop()` interrupts it (Ctrl-C) and returns its exit code. */
function startOwp(args: string[], env: Record<string, string>, cwd: string) {
  const interrupt = new AbortController();
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = { stdout, stderr, env, homeDir: cwd, cwd, signal: interrupt.signal };
  const exit = runCli(args, io);
  const stop = async () => {
    interrupt.abort();
    return exit;
  };
  cleanups.push(() => void stop());
  return { stdout, stderr, exit, stop };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const read = (path: string) => {
  try {
    return parseNoteText(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
};

describe('owp vault-sync against a server', () => {
  it('mirrors tasks as notes and follows edits on disk and in the pool both ways', async () => {
    const dir = tempDir();
    const server = await startServer({
      OWP_HOST: '127.0.0.1',
      OWP_PORT: '0',
      OWP_DB_PATH: join(dir, 'owp.db'),
      OWP_LOG_LEVEL: 'silent',
    });
    cleanups.push(() => server.stop());
    const admin = new HttpOwpApi({ baseUrl: server.base, adminToken: server.admin.token });
    await admin.upsertRepo({ repo: 'demo' });
    const existing = await admin.createTask({
      repo: 'demo',
      title: 'Existing task',
      description: 'From the pool.',
      priority: 10,
    });
    // A note the user wrote before the sync ever ran: it becomes a task, keeping its tags.
    const vault = join(dir, 'vault');
    mkdirSync(join(vault, 'Tasks'), { recursive: true });
    writeFileSync(
      join(vault, 'Tasks', 'Idea.md'),
      '---\nrepo: demo\ntags:\n  - mine\n---\nAn idea.\n',
    );

    const run = startOwp(
      ['--url', server.base, 'vault-sync', '--vault', vault],
      { OWP_ADMIN_TOKEN: server.admin.token },
      dir,
    );
    const existingNote = join(vault, 'Tasks', 'Existing task.md');
    await until(() => read(existingNote)?.frontmatter.owp_id === existing.task_id, 'the note');
    expect(read(existingNote)).toMatchObject({
      frontmatter: { repo: 'demo', status: 'ready', priority: 10, owp_version: 1 },
      body: 'From the pool.\n',
    });
    await until(
      () => typeof read(join(vault, 'Tasks', 'Idea.md'))?.frontmatter.owp_id === 'string',
      'the idea',
    );
    const idea = read(join(vault, 'Tasks', 'Idea.md'))!;
    expect(idea.frontmatter.tags).toEqual(['mine']);
    const ideaTask = await admin.getTask(idea.frontmatter.owp_id as string);
    expect(ideaTask).toMatchObject({ title: 'Idea', description: 'An idea.' });
    await until(() => run.stdout.text.includes('1 notes created, 1 tasks created'), 'the report');

    // Edited on disk while the sync runs: a property and the body.
    const text = readFileSync(existingNote, 'utf8');
    writeFileSync(
      existingNote,
      text.replace('priority: 10', 'priority: 70').replace('From the pool.', 'Edited in git.'),
    );
    await until(async () => (await admin.getTask(existing.task_id)).priority === 70, 'the edit');
    expect((await admin.getTask(existing.task_id)).description).toBe('Edited in git.');

    // The scheduler's changes flow back: a worker takes the task.
    const { token } = await admin.registerWorker({ name: 'Alice' });
    const alice = new HttpOwpApi({ baseUrl: server.base, workerToken: token });
    await admin.cancelTask(ideaTask.task_id);
    await alice.heartbeat();
    const [lease] = (await alice.getWork()).leases;
    expect(lease?.task_id).toBe(existing.task_id);
    await until(() => read(existingNote)?.frontmatter.status === 'leased', 'the lease in the note');
    expect(read(existingNote)!.frontmatter).toMatchObject({ assignee: 'Alice' });
    // The cancelled task's note went to the archive folder.
    await until(
      () => read(join(vault, 'Tasks', 'Archive', 'Idea.md'))?.frontmatter.status === 'cancelled',
      'the archived note',
    );

    // Renamed on disk: the task's title follows the file name.
    renameSync(existingNote, join(vault, 'Tasks', 'Existing task, renamed.md'));
    await until(
      async () => (await admin.getTask(existing.task_id)).title === 'Existing task, renamed',
      'the rename',
    );

    // A new note dropped in by an agent becomes a task.
    writeFileSync(
      join(vault, 'Tasks', 'From an agent.md'),
      '---\nrepo: demo\npoints: 3\n---\nDo X.\n',
    );
    let created: Task | undefined;
    await until(async () => {
      created = (await admin.listTasks({ repo: 'demo' })).tasks.find(
        (t) => t.title === 'From an agent',
      );
      return created !== undefined;
    }, 'the task from the new note');
    expect(created).toMatchObject({ estimate_points: 3, description: 'Do X.' });
    await until(
      () => read(join(vault, 'Tasks', 'From an agent.md'))?.frontmatter.owp_id === created!.task_id,
      'its id in the note',
    );

    expect(await run.stop()).toBe(0);
    expect(run.stderr.text).toContain('stopped');
    expect(run.stderr.text).not.toContain(server.admin.token);
  }, 60_000);
});

describe('owp vault-sync --db --once', () => {
  it('reconciles a local database with the folder once and exits', async () => {
    const dir = tempDir();
    const db = join(dir, 'pool.db');
    const driver = new BetterSqlite3Driver({ path: db });
    const engine = new Scheduler({ driver, clock: systemClock });
    engine.upsertRepo({ repo: 'demo' });
    const task = engine.createTask({ repo: 'demo', title: 'Local task' });
    driver.close();
    const vault = join(dir, 'vault');

    const run = startOwp(['--json', 'vault-sync', '--vault', vault, '--db', db, '--once'], {}, dir);
    expect(await run.exit).toBe(0);
    expect(JSON.parse(run.stdout.text)).toMatchObject({
      tasks: 1,
      notes_created: 1,
      unknown_ids: [],
    });
    expect(read(join(vault, 'Tasks', 'Local task.md'))?.frontmatter.owp_id).toBe(task.task_id);
    expect(run.stderr.text).not.toMatch(/no database/);
  }, 30_000);

  it('keeps a copy of a database at an older schema before upgrading it, and says where', async () => {
    const dir = tempDir();
    const db = join(dir, 'pool.db');
    const driver = new BetterSqlite3Driver({ path: db });
    migrate(driver, systemClock, migrations.slice(0, -1));
    driver.close();
    const to = migrations.at(-1)!.id;

    const run = startOwp(
      ['vault-sync', '--vault', join(dir, 'vault'), '--db', db, '--once'],
      {},
      dir,
    );
    expect(await run.exit).toBe(0);
    const [copy] = readdirSync(join(dir, 'backups'));
    expect(copy).toMatch(new RegExp(`^owp-before-schema-${to}-[0-9T-]+Z\\.db$`));
    expect(run.stderr.text).toContain(
      `owp: ${db} is upgraded from schema ${migrations.at(-2)!.id} to ${to}; the database as it was: ${join(dir, 'backups', copy!)}`,
    );
  }, 30_000);

  it('does not write again, on a later run, the note of a task whose note was deleted', async () => {
    const dir = tempDir();
    const db = join(dir, 'pool.db');
    const driver = new BetterSqlite3Driver({ path: db });
    const engine = new Scheduler({ driver, clock: systemClock });
    engine.upsertRepo({ repo: 'demo' });
    const kept = engine.createTask({ repo: 'demo', title: 'Kept' });
    const dropped = engine.createTask({ repo: 'demo', title: 'Dropped' });
    driver.close();
    const vault = join(dir, 'vault');
    const note = join(vault, 'Tasks', 'Dropped.md');

    const watching = startOwp(['vault-sync', '--vault', vault, '--db', db], {}, dir);
    await until(() => read(note)?.frontmatter.owp_id === dropped.task_id, 'the note');
    // Deleted while the watcher still holds the note's arrival as half of a possible rename.
    await new Promise((r) => setTimeout(r, 300));
    rmSync(note);
    const state = join(vault, '.owp', 'vault-sync.json');
    const stateOf = () =>
      JSON.parse(readFileSync(state, 'utf8')) as { deletedNotes?: Record<string, string[]> };
    await until(
      () =>
        existsSync(state) &&
        stateOf().deletedNotes?.[`file:${db}`]?.includes(dropped.task_id) === true,
      'the state file',
    );
    expect(await watching.stop()).toBe(0);
    expect(stateOf()).toMatchObject({
      deletedNotes: { [`file:${db}`]: [dropped.task_id] },
      notedTasks: { [`file:${db}`]: [kept.task_id] },
      notesFolder: { [`file:${db}`]: 'Tasks' },
    });

    // The task is still open, and the note stays deleted; the other one is there as it was.
    const again = startOwp(
      ['--json', 'vault-sync', '--vault', vault, '--db', db, '--once'],
      {},
      dir,
    );
    expect(await again.exit).toBe(0);
    expect(JSON.parse(again.stdout.text)).toMatchObject({ tasks: 2, notes: 1, notes_created: 0 });
    expect(() => statSync(note)).toThrow();
    expect(read(join(vault, 'Tasks', 'Kept.md'))?.frontmatter.owp_id).toBe(kept.task_id);

    // A note deleted while vault-sync was not running is not written again, and its task is left
    // open even with --cancel-on-delete: the note may only be late (a pull not done yet).
    rmSync(join(vault, 'Tasks', 'Kept.md'));
    const away = startOwp(
      ['--json', 'vault-sync', '--vault', vault, '--db', db, '--once', '--cancel-on-delete'],
      {},
      dir,
    );
    expect(await away.exit).toBe(0);
    expect(JSON.parse(away.stdout.text)).toMatchObject({ notes_created: 0, notes_deleted: 1 });
    expect(away.stderr.text).toContain(
      '1 task note(s) were deleted while the sync was not running',
    );
    expect(() => statSync(join(vault, 'Tasks', 'Kept.md'))).toThrow();
    const reopened = new BetterSqlite3Driver({ path: db });
    expect(
      new Scheduler({ driver: reopened, clock: systemClock }).getTask(kept.task_id).status,
    ).toBe('ready');
    reopened.close();

    // A state file that does not read is said so, and the note comes back.
    writeFileSync(state, '{ not json');
    const damaged = startOwp(['vault-sync', '--vault', vault, '--db', db, '--once'], {}, dir);
    expect(await damaged.exit).toBe(0);
    expect(damaged.stderr.text).toContain(`${state} is not vault-sync's state`);
    expect(read(note)?.frontmatter.owp_id).toBe(dropped.task_id);
  }, 30_000);

  it('makes the tasks folder of an empty pool, and says when --db names no database yet', async () => {
    const dir = tempDir();
    const vault = join(dir, 'vault');
    const fresh = startOwp(
      ['vault-sync', '--vault', vault, '--db', 'typo.db', '--once', '--folder', 'Work/Tasks'],
      {},
      dir,
    );
    expect(await fresh.exit).toBe(0);
    expect(fresh.stderr.text).toContain(
      `owp: no database at ${join(dir, 'typo.db')}: starting a new, empty one`,
    );
    // Nothing to write, but the folder is there for the first note.
    expect(statSync(join(vault, 'Work', 'Tasks')).isDirectory()).toBe(true);

    const nowhere = startOwp(
      ['vault-sync', '--vault', vault, '--db', 'missing/pool.db', '--once'],
      {},
      dir,
    );
    expect(await nowhere.exit).toBe(1);
    expect(nowhere.stderr.text).toBe(
      `owp: --db missing/pool.db: the folder ${join(dir, 'missing')} does not exist\n`,
    );
  }, 30_000);
});
