/**
 * The engine in-process, no HTTP: full task cycles per second (grant → in_progress → pr_opened →
 * merged) with the ready queue kept at a fixed depth, on both drivers. Figures only; nothing here
 * asserts a time. `npm run bench` calls `engineCycleRows()` (through bench/embedded-bench.mts);
 * `npx tsx bench/engine-bench.mts` prints the table alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDriver } from '../scheduler/storage-port.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { BetterSqlite3Driver } from '../server/better-sqlite3-driver.ts';
import { SqlJsDriver } from '../plugin/embedded/sqljs-driver.ts';

export interface EngineScenario {
  workers: number;
  readyTasks: number;
  cycles: number;
  /** Stops early after this long, so a slow engine cannot stretch `npm run bench` (default 8 s). */
  maxSeconds?: number;
}

/**
 * Runs up to `cycles` full task cycles over `driver` (each one also creates the task that keeps the
 * queue at its depth, as the admin does over HTTP) and reports cycles per second. With
 * `turnPerCycle`, each cycle ends by letting the event loop turn, so a group-commit driver commits
 * once per cycle, as the server does once per turn (under load a turn carries several requests).
 */
export async function runCycles(
  driver: SqlDriver,
  { workers, readyTasks, cycles, maxSeconds = 8 }: EngineScenario,
  { turnPerCycle = false } = {},
) {
  const clock = new ManualClock();
  const engine = new Scheduler({ driver, clock });
  engine.upsertRepo({ repo: 'bench', max_open_prs: 100, area_locks_enabled: false });
  const ids: string[] = [];
  for (let i = 0; i < workers; i++) {
    const { worker_id } = engine.registerWorker({
      name: `w${i}`,
      capacity_points: 5,
      max_concurrent_tasks: 1,
    });
    engine.heartbeat(worker_id, { status: 'idle' });
    ids.push(worker_id);
  }
  const createTask = (i: number) =>
    engine.createTask({ repo: 'bench', title: `task ${i}`, priority: i % 100 });
  let created = 0;
  while (created < readyTasks) createTask(created++);

  let done = 0;
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  while (done < cycles && performance.now() < deadline) {
    for (const worker of ids) {
      const lease = engine.getWork(worker).leases[0];
      if (!lease) continue;
      engine.updateStatus(worker, lease.task_id, {
        status: 'in_progress',
        lease_id: lease.lease_id,
      });
      engine.updateStatus(worker, lease.task_id, {
        status: 'pr_opened',
        lease_id: lease.lease_id,
        artifact: { pr_url: `https://example.test/pr/${done}` },
      });
      engine.updateStatus(worker, lease.task_id, { status: 'merged', lease_id: lease.lease_id });
      createTask(created++);
      if (turnPerCycle) await new Promise((resolve) => setImmediate(resolve));
      if (++done >= cycles || (done % 100 === 0 && performance.now() >= deadline)) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    cyclesDone: done,
    cyclesPerSecond: Math.round(done / seconds),
    seconds: Number(seconds.toFixed(2)),
  };
}

export interface EngineCycleRow extends EngineScenario {
  driver: string;
  cyclesDone: number;
  cyclesPerSecond: number;
  seconds: number;
}

/**
 * The drivers (the file committing two ways) at 100 workers and 1k ready tasks; `scale` shortens
 * the runs (quick mode).
 */
export async function engineCycleRows(scale = 1): Promise<EngineCycleRow[]> {
  const scenario: EngineScenario = {
    workers: 100,
    readyTasks: 1000,
    cycles: Math.round(50_000 * scale),
    maxSeconds: 8 * scale,
  };
  const rows: EngineCycleRow[] = [];
  {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    rows.push({
      driver: 'better-sqlite3 (memory)',
      ...scenario,
      ...(await runCycles(driver, scenario)),
    });
    driver.close();
  }
  // As server/main.ts opens the file (WAL checkpoints from their own thread), committing every
  // command, then with the server's group commit: one commit per turn of the event loop.
  for (const groupCommit of [false, true]) {
    const dir = mkdtempSync(join(tmpdir(), 'owp-bench-'));
    try {
      const driver = new BetterSqlite3Driver({
        path: join(dir, 'bench.db'),
        backgroundCheckpoint: true,
        groupCommit,
      });
      rows.push({
        driver: groupCommit
          ? 'better-sqlite3 (file, WAL; group commit, a turn per cycle)'
          : 'better-sqlite3 (file, WAL; a commit per command)',
        ...scenario,
        ...(await runCycles(driver, scenario, { turnPerCycle: groupCommit })),
      });
      await driver.committed();
      await driver.stopBackgroundWork();
      driver.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  {
    const small = { ...scenario, cycles: Math.round(10_000 * scale) };
    const driver = await SqlJsDriver.open();
    rows.push({ driver: 'sql.js (memory)', ...small, ...(await runCycles(driver, small)) });
    driver.close();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('Engine in-process: full task cycles (grant → in_progress → pr_opened → merged)');
  console.table(await engineCycleRows());
}
