import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runEngineContract } from '../scheduler/engine.case.test.ts';
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
