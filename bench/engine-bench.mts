/**
 * `npm run bench`: the engine in-process, no HTTP. Full task cycles per second (grant →
 * in_progress → pr_opened → merged) with the ready queue kept at a fixed depth, on both drivers.
 * Figures only; nothing here asserts a time.
 */
import type { SqlDriver } from '../scheduler/storage-port.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { BetterSqlite3Driver } from '../server/better-sqlite3-driver.ts';
import { SqlJsDriver } from '../plugin/embedded/sqljs-driver.ts';

interface Scenario {
  workers: number;
  readyTasks: number;
  cycles: number;
}

function runCycles(driver: SqlDriver, { workers, readyTasks, cycles }: Scenario) {
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
  while (done < cycles) {
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
      if (++done >= cycles) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { cyclesPerSecond: Math.round(done / seconds), seconds: Number(seconds.toFixed(2)) };
}

const scenario: Scenario = { workers: 100, readyTasks: 1000, cycles: 20_000 };
const rows: Record<string, unknown>[] = [];
{
  const driver = new BetterSqlite3Driver({ path: ':memory:' });
  rows.push({ driver: 'better-sqlite3 (memory)', ...scenario, ...runCycles(driver, scenario) });
  driver.close();
}
{
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'owp-bench-'));
  const driver = new BetterSqlite3Driver({ path: join(dir, 'bench.db') });
  rows.push({ driver: 'better-sqlite3 (file, WAL)', ...scenario, ...runCycles(driver, scenario) });
  driver.close();
  rmSync(dir, { recursive: true, force: true });
}
{
  const small = { ...scenario, cycles: 5_000 };
  const driver = await SqlJsDriver.open();
  rows.push({ driver: 'sql.js (memory)', ...small, ...runCycles(driver, small) });
  driver.close();
}
console.log('Engine in-process: full task cycles (grant → in_progress → pr_opened → merged)');
console.table(rows);
