import { describe, expect, it } from 'vitest';
import type { SqlParams } from '../scheduler/storage-port.ts';
import { BetterSqlite3Driver } from '../server/better-sqlite3-driver.ts';
import { runStorageFloor, secondaryIndexes } from './engine-bench.mts';
import { targetRows } from './report.mts';
import type { BenchResults } from './results.mts';

describe('the storage floor', () => {
  it('writes a full cycle per task by primary key, without an index or a read', async () => {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    const reads: string[] = [];
    let measuring = false;
    const { exec, get, all } = driver;
    driver.exec = (sql) => {
      if (sql.startsWith('DROP INDEX')) measuring = true;
      exec.call(driver, sql);
    };
    driver.get = <Row>(sql: string, params?: SqlParams) => {
      if (measuring) reads.push(sql);
      return get.call(driver, sql, params) as Row | undefined;
    };
    driver.all = <Row>(sql: string, params?: SqlParams) => {
      if (measuring) reads.push(sql);
      return all.call(driver, sql, params) as Row[];
    };

    const result = await runStorageFloor(driver, { readyTasks: 20, cycles: 30, maxSeconds: 60 });

    expect(result.cyclesDone).toBe(30);
    measuring = false;
    expect(reads).toEqual([]);
    expect(secondaryIndexes(driver)).toEqual([]);
    // Each cycle takes the oldest ready task through to merged and adds one: the queue keeps its depth.
    const byStatus = driver.all<{ status: string; version: number; n: number }>(
      'SELECT status, version, COUNT(*) AS n FROM tasks GROUP BY status, version ORDER BY status',
    );
    expect(byStatus).toEqual([
      { status: 'merged', version: 5, n: 30 },
      { status: 'ready', version: 1, n: 20 },
    ]);
    const events = driver.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM events WHERE type = 'task.status_changed'`,
    )!;
    expect(events.n).toBe(4 * 30);
    driver.close();
  });

  it('is named next to the in-process target, on the same driver and commits', () => {
    const cycle = (driver: string, cyclesPerSecond: number) => ({ driver, cyclesPerSecond });
    const perCommand = 'better-sqlite3 (file, WAL; a commit per command)';
    const results = {
      load: {},
      embedded: {
        persistence: [],
        engineCycles: [cycle('better-sqlite3 (memory)', 2_700), cycle(perCommand, 1_300)],
        storageFloor: [cycle('better-sqlite3 (memory)', 14_000), cycle(perCommand, 5_000)],
        pluginStart: { status: 'todo', reason: 'not run' },
      },
    } as unknown as BenchResults;
    const row = targetRows(results).find((r) => r.measure.startsWith('engine in-process'))!;
    expect(row.mark).toBe('not met');
    expect(row.measured).toBe(
      '1,300 (in-memory DB: 2,700; storage floor, the writes alone: 5,000)',
    );
  });
});
