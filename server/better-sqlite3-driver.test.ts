import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runEngineContract } from '../scheduler/engine.case.test.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { EngineHarness } from '../scheduler/testing/engine-harness.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';

runEngineContract('better-sqlite3', () => new BetterSqlite3Driver({ path: ':memory:' }));

describe('BetterSqlite3Driver on a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owp-bsq-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses WAL and keeps every committed write across a reopen', () => {
    const path = join(dir, 'pool.db');
    const first = new EngineHarness(new BetterSqlite3Driver({ path }));
    first.repo();
    const task = first.task({ title: 'Survives a restart' });
    expect(first.driver.get<{ journal_mode: string }>('PRAGMA journal_mode')).toEqual({
      journal_mode: 'wal',
    });
    first.driver.close();

    const second = new EngineHarness(new BetterSqlite3Driver({ path }));
    expect(second.engine.getTask(task.task_id).title).toBe('Survives a restart');
    expect(second.engine.listRepos().map((r) => r.repo)).toEqual(['demo']);
    second.driver.close();
  });

  it('counts tasks written by another connection to the same file (owp mcp --db beside owp serve --db)', () => {
    const path = join(dir, 'shared.db');
    const server = new EngineHarness(new BetterSqlite3Driver({ path }));
    const otherDriver = new BetterSqlite3Driver({ path });
    const other = new Scheduler({ driver: otherDriver, clock: server.clock });
    server.repo();
    server.task({ title: 'Counted here' });
    expect(server.engine.state()).toMatchObject({ tasks_ready: 1, tasks_leased: 0 });

    other.createTask({ repo: 'demo', title: 'Written over there' });
    const { worker_id } = other.registerWorker({
      name: 'Elsewhere',
      capacity_points: 5,
      max_concurrent_tasks: 1,
    });
    other.heartbeat(worker_id, { status: 'idle' });
    expect(other.getWork(worker_id).leases).toHaveLength(1);
    expect(server.engine.state()).toMatchObject({ tasks_ready: 1, tasks_leased: 1 });

    // More new events than are worth reading one by one: counted again, to the same figures.
    otherDriver.transaction(() => {
      for (let i = 0; i < 100; i++) other.createTask({ repo: 'demo', title: `Bulk ${i}` });
    });
    expect(server.engine.state()).toMatchObject({ tasks_ready: 101, tasks_leased: 1 });
    otherDriver.close();
    server.driver.close();
  });

  it('a worker choosing while a repo is full sees a better task another connection wrote', () => {
    const path = join(dir, 'queues.db');
    const server = new EngineHarness(new BetterSqlite3Driver({ path }));
    server.repo({ repo: 'full', max_open_prs: 1 });
    server.repo({ repo: 'one', max_open_prs: 5 });
    server.repo({ repo: 'two', max_open_prs: 5 });
    server.onlineWorker({ name: 'holder', max_concurrent_tasks: 1 });
    server.task({ repo: 'full', priority: 99 }); // → holder: 'full' is at its budget
    const first = server.task({ repo: 'one', priority: 30 }).task_id;
    const second = server.task({ repo: 'one', priority: 25 }).task_id;
    server.task({ repo: 'two', priority: 20 });
    const asker = server.onlineWorker({ name: 'asker', max_concurrent_tasks: 1 });
    expect(server.engine.getTask(first).assignee).toBe(asker);

    // Another process on the file; every worker looks offline to it, so its task stays ready.
    const otherDriver = new BetterSqlite3Driver({ path });
    const other = new Scheduler({
      driver: otherDriver,
      clock: server.clock,
      config: { heartbeatTtlMs: 1 },
    });
    const better = other.createTask({ repo: 'two', title: 'From there', priority: 40 }).task_id;
    server.engine.updateStatus(asker, first, { status: 'in_progress' });
    server.engine.updateStatus(asker, first, {
      status: 'pr_opened',
      artifact: { pr_url: 'https://github.com/demo/demo/pull/1' },
    });

    expect(server.engine.getTask(better).assignee).toBe(asker);
    expect(server.engine.getTask(second).status).toBe('ready');
    otherDriver.close();
    server.driver.close();
  });

  it('rolls back a whole transaction when a nested step throws', () => {
    const driver = new BetterSqlite3Driver({ path: join(dir, 'rollback.db') });
    driver.exec('CREATE TABLE t (v INTEGER)');
    expect(() =>
      driver.transaction(() => {
        driver.run('INSERT INTO t (v) VALUES ($v)', { v: 1 });
        driver.transaction(() => driver.run('INSERT INTO t (v) VALUES ($v)', { v: 2 }));
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(driver.all('SELECT v FROM t')).toEqual([]);
    driver.close();
  });

  it('undoes only a failed savepoint and keeps the outer work', () => {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    driver.exec('CREATE TABLE t (v INTEGER)');
    driver.transaction(() => {
      driver.run('INSERT INTO t (v) VALUES ($v)', { v: 1 });
      expect(() =>
        driver.transaction(() => {
          driver.run('INSERT INTO t (v) VALUES ($v)', { v: 2 });
          throw new Error('inner');
        }),
      ).toThrow('inner');
    });
    expect(driver.all('SELECT v FROM t')).toEqual([{ v: 1 }]);
    driver.close();
  });
});

describe('BetterSqlite3Driver with background checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owp-ckpt-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fill = (driver: BetterSqlite3Driver) => {
    driver.exec('CREATE TABLE t (v TEXT)');
    // About 800 kB in 400 commits, under 1,000 WAL frames: below SQLite's default threshold.
    for (let i = 0; i < 400; i++) {
      driver.transaction(() =>
        driver.run('INSERT INTO t (v) VALUES ($v)', { v: 'x'.repeat(2000) }),
      );
    }
  };
  const until = async (done: () => boolean) => {
    for (let waited = 0; !done() && waited < 10_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('copies committed pages into the database file from another thread', async () => {
    const path = join(dir, 'background.db');
    const driver = new BetterSqlite3Driver({ path, backgroundCheckpoint: true });
    fill(driver);
    expect(driver.get<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')).toEqual({
      wal_autocheckpoint: 10_000,
    });

    await until(() => statSync(path).size > 700_000);

    expect(statSync(path).size).toBeGreaterThan(700_000);
    expect(driver.get('SELECT COUNT(*) AS n FROM t')).toEqual({ n: 400 });
    await driver.stopBackgroundWork();
    driver.close();
  });

  it('keeps a process alive while stopBackgroundWork() is awaited, and no longer', () => {
    // The thread and its timer are unref'd so they never hold a server up; a plain script that
    // awaits the stop at its top level must still get to its next line, and then exit.
    const script = join(dir, 'stop-and-exit.mts');
    writeFileSync(
      script,
      [
        `import { BetterSqlite3Driver } from ${JSON.stringify(new URL('./better-sqlite3-driver.ts', import.meta.url).href)};`,
        `const driver = new BetterSqlite3Driver({ path: ${JSON.stringify(join(dir, 'script.db'))}, backgroundCheckpoint: true });`,
        `driver.exec('CREATE TABLE t (v INTEGER)');`,
        'await driver.stopBackgroundWork();',
        'driver.close();',
        "console.log('stopped');",
      ].join('\n'),
    );
    const started = Date.now();
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(out.trim()).toBe('stopped');
    // Not held up by the 2 s fallback timer once the thread has ended.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('without it, the same writes stay in the WAL until SQLite checkpoints at 1,000 pages', async () => {
    const path = join(dir, 'foreground.db');
    const driver = new BetterSqlite3Driver({ path });
    fill(driver);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Under the default threshold, so the file holds only the schema.
    expect(statSync(path).size).toBeLessThan(100_000);
    driver.close();
  });
});

describe('BetterSqlite3Driver with group commit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owp-bsq-group-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The driver under test, and a second connection that sees only what is committed. */
  function pair(name: string) {
    const path = join(dir, name);
    const driver = new BetterSqlite3Driver({ path, groupCommit: true });
    driver.exec('CREATE TABLE t (v INTEGER)');
    const observer = new BetterSqlite3Driver({ path });
    const committedRows = () => observer.all<{ v: number }>('SELECT v FROM t ORDER BY v');
    return { driver, observer, committedRows };
  }

  it('commits the transactions of one turn together, after the turn', async () => {
    const { driver, observer, committedRows } = pair('turn.db');
    const heard: string[] = [];
    driver.transaction(() => driver.run('INSERT INTO t (v) VALUES (1)'));
    driver.onCommitted(() => heard.push('first'));
    driver.transaction(() => driver.run('INSERT INTO t (v) VALUES (2)'));
    driver.onCommitted(() => heard.push('second'));

    // Written on this connection, not yet committed: others do not see it, nobody was told.
    expect(driver.all('SELECT v FROM t')).toHaveLength(2);
    expect(committedRows()).toEqual([]);
    expect(heard).toEqual([]);

    await driver.committed();

    expect(committedRows()).toEqual([{ v: 1 }, { v: 2 }]);
    expect(heard).toEqual(['first', 'second']);
    // With nothing open, onCommitted runs at once and committed() resolves at once.
    driver.onCommitted(() => heard.push('now'));
    expect(heard.at(-1)).toBe('now');
    await driver.committed();
    observer.close();
    driver.close();
  });

  it('keeps a large turn’s savepoint journal in memory, not in a temporary file', async () => {
    const { driver, observer } = pair('journal.db');
    driver.exec('CREATE TABLE wide (v INTEGER, pad TEXT)');
    driver.transaction(() => {
      for (let v = 0; v < 2000; v++) {
        driver.run('INSERT INTO wide (v, pad) VALUES ($v, $pad)', { v, pad: 'x'.repeat(200) });
      }
    });
    await driver.committed();
    // SQLite opens its temporary files and deletes them at once; the descriptor stays open.
    const openTempFiles = () =>
      readdirSync('/proc/self/fd')
        .map((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`);
          } catch {
            return '';
          }
        })
        .filter((target) => target.includes('etilqs_'));

    // Each savepoint rewrites every page of the table (~400 KiB): past SQLite's 64 KiB spill.
    for (let i = 0; i < 3; i++) driver.transaction(() => driver.run('UPDATE wide SET v = v + 1'));
    expect(driver.get<{ n: number }>('SELECT MIN(v) AS n FROM wide')?.n).toBe(3);
    expect(openTempFiles()).toEqual([]);
    await driver.committed();
    observer.close();
    driver.close();
  });

  it('reads a turn from one snapshot, leaves other connections free to write, answers after the turn', async () => {
    const { driver, observer, committedRows } = pair('reads.db');
    const seen = () => driver.all<{ v: number }>('SELECT v FROM t ORDER BY v').map((row) => row.v);
    observer.run('INSERT INTO t (v) VALUES (1)');

    expect(seen()).toEqual([1]);
    // Another connection writes in the middle of the turn without waiting for it (a held write
    // lock would keep it busy for its 5 s timeout, then fail); the turn goes on reading its snapshot.
    observer.run('INSERT INTO t (v) VALUES (2)');
    expect(seen()).toEqual([1]);
    // An answer waits for the turn's commit, as a write's does.
    let answered = false;
    const answer = driver.committed().then(() => (answered = true));
    await Promise.resolve();
    expect(answered).toBe(false);
    await answer;

    // A new turn, a new snapshot. Its first write comes after another connection's commit: a
    // snapshot could not take the write lock then (SQLITE_BUSY_SNAPSHOT), so the turn's reading
    // transaction ends and a writing one begins.
    expect(seen()).toEqual([1, 2]);
    observer.run('INSERT INTO t (v) VALUES (3)');
    driver.transaction(() => driver.run('INSERT INTO t (v) VALUES (4)'));
    expect(seen()).toEqual([1, 2, 3, 4]);
    expect(committedRows()).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }]);
    await driver.committed();
    expect(committedRows()).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }, { v: 4 }]);
    observer.close();
    driver.close();
  });

  it('stays whole when a turn that read cannot take the write lock, and writes once it is free', async () => {
    const { driver, observer, committedRows } = pair('busy.db');
    driver.db.pragma('busy_timeout = 0');
    expect(driver.all('SELECT v FROM t')).toEqual([]);
    // Another process is in the middle of a write.
    observer.exec('BEGIN IMMEDIATE');
    expect(() => driver.transaction(() => driver.run('INSERT INTO t (v) VALUES (1)'))).toThrow(
      /locked|busy/i,
    );
    observer.exec('COMMIT');

    driver.transaction(() => driver.run('INSERT INTO t (v) VALUES (2)'));
    await driver.committed();

    expect(committedRows()).toEqual([{ v: 2 }]);
    observer.close();
    driver.close();
  });

  it('undoes a failed transaction alone, keeping the others of its turn', async () => {
    const { driver, observer, committedRows } = pair('failure.db');
    driver.transaction(() => driver.run('INSERT INTO t (v) VALUES (1)'));
    expect(() =>
      driver.transaction(() => {
        driver.run('INSERT INTO t (v) VALUES (2)');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    driver.transaction(() => driver.run('INSERT INTO t (v) VALUES (3)'));

    await driver.committed();

    expect(committedRows()).toEqual([{ v: 1 }, { v: 3 }]);
    observer.close();
    driver.close();
  });

  it('tells engine listeners of events only once the commit is made, and commits on close', async () => {
    const path = join(dir, 'engine.db');
    const driver = new BetterSqlite3Driver({ path, groupCommit: true });
    const h = new EngineHarness(driver);
    await driver.committed(); // the migrations
    const heard: string[] = [];
    h.engine.onEvent((event) => heard.push(event.type));

    h.repo();
    h.task({ title: 'Grouped' });

    expect(heard).toEqual([]);
    await driver.committed();
    expect(heard).toEqual(['repo.upserted', 'task.created']);

    h.task({ title: 'Committed by close' });
    driver.close();
    const reopened = new EngineHarness(new BetterSqlite3Driver({ path }));
    expect(reopened.engine.listTasks({}).tasks.map((t) => t.title)).toEqual([
      'Grouped',
      'Committed by close',
    ]);
    reopened.driver.close();
  });
});
