import Database from 'better-sqlite3';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '../scheduler/engine.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { BackupSchedule, backupDatabase } from './backup.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';

const dirs: string[] = [];
const drivers: BetterSqlite3Driver[] = [];
afterEach(() => {
  for (const driver of drivers.splice(0)) driver.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A server's database file with a repo, two tasks and a worker, held open as the server holds it. */
function runningPool() {
  const dir = mkdtempSync(join(tmpdir(), 'owp-backup-'));
  dirs.push(dir);
  const path = join(dir, 'owp.db');
  const driver = new BetterSqlite3Driver({ path });
  drivers.push(driver);
  const engine = new Scheduler({ driver, clock: new ManualClock() });
  engine.upsertRepo({ repo: 'acme/web' });
  engine.createTask({ repo: 'acme/web', title: 'One' });
  engine.createTask({ repo: 'acme/web', title: 'Two' });
  engine.registerWorker({ name: 'Alice' });
  return { dir, path, driver, engine };
}

describe('backupDatabase', () => {
  it('copies a database in use: every commit so far, none still open, checked and private', async () => {
    const { dir, path, driver } = runningPool();
    // A write under way on the server's connection: not committed, so not in the copy.
    driver.db.exec('BEGIN IMMEDIATE');
    driver.db.prepare(`UPDATE tasks SET title = 'Half written' WHERE title = 'One'`).run();

    const target = join(dir, 'backups', 'copy.db');
    const report = await backupDatabase(path, target);
    driver.db.exec('ROLLBACK');

    const schema = driver.db.prepare('SELECT MAX(id) FROM owp_migrations').pluck().get();
    expect(report).toMatchObject({ path: target, tasks: 2, workers: 1, schema });
    expect(report.events).toBeGreaterThanOrEqual(4);
    expect(report.bytes).toBe(statSync(target).size);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    const copy = new Database(target, { readonly: true });
    const titles = copy.prepare('SELECT title FROM tasks ORDER BY title').pluck().all();
    copy.close();
    expect(titles).toEqual(['One', 'Two']);
    // A server opens the copy as it opens its own file.
    const reopened = new BetterSqlite3Driver({ path: target });
    drivers.push(reopened);
    const engine = new Scheduler({ driver: reopened, clock: new ManualClock() });
    expect(
      engine
        .listTasks()
        .tasks.map((task) => task.title)
        .sort(),
    ).toEqual(['One', 'Two']);
  });

  it('refuses to replace a file unless told to, and leaves nothing behind when it fails', async () => {
    const { dir, path } = runningPool();
    const target = join(dir, 'copy.db');
    writeFileSync(target, 'keep me');
    await expect(backupDatabase(path, target)).rejects.toThrow(
      `${target} exists already (--force replaces it)`,
    );
    expect((await backupDatabase(path, target, { overwrite: true })).tasks).toBe(2);

    await expect(backupDatabase(join(dir, 'nowhere.db'), join(dir, 'a.db'))).rejects.toThrow(
      `no database at ${join(dir, 'nowhere.db')}`,
    );
    const notOurs = join(dir, 'notes.txt');
    writeFileSync(notOurs, 'not a database at all, but long enough to be read as one '.repeat(20));
    await expect(backupDatabase(notOurs, join(dir, 'b.db'))).rejects.toThrow(
      /cannot back up .*notes\.txt/,
    );
    const empty = join(dir, 'empty.db');
    new Database(empty).close();
    await expect(backupDatabase(empty, join(dir, 'c.db'))).rejects.toThrow(
      `${empty} is not an OWP Pool database (it has no tasks table)`,
    );
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
    expect(existsSync(join(dir, 'b.db'))).toBe(false);
  });

  it('never replaces the database it copies, one in use, or a folder, even when told to', async () => {
    const { dir, path, engine } = runningPool();
    const force = { overwrite: true };
    await expect(backupDatabase(path, path, force)).rejects.toThrow(
      `${path} is the database being backed up; name another file for the copy`,
    );
    // The same file by another name.
    const linked = join(dir, 'linked.db');
    symlinkSync(path, linked);
    await expect(backupDatabase(path, linked, force)).rejects.toThrow(/is the database being/);
    await expect(backupDatabase(path, `${path}-wal`, force)).rejects.toThrow(/is the database/);
    // Another pool's database, open (its WAL beside it): replacing its file would lose its writes.
    const other = runningPool();
    await expect(backupDatabase(path, other.path, force)).rejects.toThrow(
      `${other.path} is a database in use (owp.db-wal is beside it); a backup never replaces one`,
    );
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    await expect(backupDatabase(path, folder, force)).rejects.toThrow(
      `${folder} is a folder; name the file the copy goes to`,
    );
    // The pool goes on as it was.
    engine.createTask({ repo: 'acme/web', title: 'Three' });
    expect(engine.listTasks().tasks).toHaveLength(3);
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  });
});

describe('BackupSchedule', () => {
  it('makes a backup, keeps the newest ones and leaves copies of other names alone', async () => {
    const { dir, path } = runningPool();
    const hour = 3600_000;
    const schedule = new BackupSchedule({ dbPath: path, everyMs: 24 * hour, keep: 2 });
    mkdirSync(join(dir, 'backups'));
    const upgrade = join(dir, 'backups', 'owp-before-schema-12-2026-01-01T000000Z.db');
    writeFileSync(upgrade, 'kept at an upgrade');
    // Nothing made yet: the first is due a whole interval after the start.
    expect(schedule.dueIn(Date.UTC(2026, 10, 27, 12))).toBe(24 * hour);

    const days = [25, 26, 27].map((day) => new Date(Date.UTC(2026, 10, day, 3, 0, 0)));
    const runs = [];
    for (const day of days) runs.push(await schedule.runOnce(day));
    expect(runs[2]!.report).toMatchObject({ tasks: 2, workers: 1 });
    expect(runs.map((run) => run.deleted)).toEqual([[], [], ['owp-2026-11-25T030000Z.db']]);
    expect(readdirSync(join(dir, 'backups')).sort()).toEqual([
      'owp-2026-11-26T030000Z.db',
      'owp-2026-11-27T030000Z.db',
      'owp-before-schema-12-2026-01-01T000000Z.db',
    ]);
    // Due a day after the newest, however long the server was down.
    expect(schedule.dueIn(Date.UTC(2026, 10, 27, 12))).toBe(15 * hour);
    expect(schedule.dueIn(Date.UTC(2026, 11, 1))).toBe(0);
    await schedule.stop();
  });

  it('counts its backups in the metrics, with the time and size of the last one', async () => {
    const { path } = runningPool();
    const registry = new Registry();
    const schedule = new BackupSchedule({ dbPath: path, everyMs: 20, keep: 1, registry });
    const made = () =>
      registry.metrics().then((text) => /owp_backups_total\{outcome="made"\} [1-9]/.test(text));
    schedule.start(Date.now());
    for (let waited = 0; !(await made()) && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await schedule.stop();
    const metrics = await registry.metrics();
    expect(await made()).toBe(true);
    const last = Number(/^owp_backup_last_success_timestamp_seconds (\S+)$/m.exec(metrics)?.[1]);
    // Unix seconds of a backup made during this test, not 0 (never) nor milliseconds.
    expect(last).toBeGreaterThan(1_700_000_000);
    expect(last).toBeLessThan(Date.now() / 1000 + 1);
    expect(metrics).toMatch(/^owp_backup_last_size_bytes [1-9]\d*$/m);
    expect(metrics).not.toMatch(/owp_backups_total\{outcome="failed"\}/);

    // Started again (a restart), the age is the newest backup's, not "never".
    const again = new Registry();
    const restarted = new BackupSchedule({
      dbPath: path,
      everyMs: 3600_000,
      keep: 1,
      registry: again,
    });
    restarted.start(Date.now());
    await restarted.stop();
    const after = Number(
      /^owp_backup_last_success_timestamp_seconds (\S+)$/m.exec(await again.metrics())?.[1],
    );
    expect(after).toBe(last);
  });

  it('says when a backup failed and tries again on time', async () => {
    const { dir } = runningPool();
    const said: string[] = [];
    const schedule = new BackupSchedule({
      dbPath: join(dir, 'gone.db'),
      everyMs: 20,
      keep: 1,
      log: (level, message) => said.push(`${level}: ${message}`),
    });
    schedule.start(Date.now());
    // Two attempts heard (a bound far past them, not a timing: the test waits for the second).
    for (let waited = 0; said.length < 2 && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await schedule.stop();
    expect(said.length).toBeGreaterThanOrEqual(2);
    expect(said[0]).toBe(
      `error: backup failed: no database at ${join(dir, 'gone.db')}; the next is tried on time`,
    );
  });
});
