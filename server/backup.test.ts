import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '../scheduler/engine.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { backupDatabase } from './backup.ts';
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
});
