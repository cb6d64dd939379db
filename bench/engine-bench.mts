/**
 * The engine in-process, no HTTP: full task cycles per second (grant → in_progress → pr_opened →
 * merged) with the ready queue kept at a fixed depth, on both drivers, and the storage floor those
 * cycles read against. Figures only; nothing here asserts a time. `npm run bench` calls
 * `engineCycleRows()` and `storageFloorRows()` (through bench/embedded-bench.mts);
 * `npx tsx bench/engine-bench.mts` prints the two tables alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDriver } from '../scheduler/storage-port.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { timeOrderedId } from '../scheduler/ids.ts';
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

/**
 * The storage floor: the least a task cycle can cost on a driver, as the bare Fastify route is for
 * HTTP. The same writes the engine's cycle must leave behind — the task inserted, its four status
 * writes (grant, in_progress, pr_opened, merged) and the five events — on the engine's own tables
 * with every secondary index dropped, by primary key, with no reads and no scheduling: the next
 * task comes from an array. Committed as the engine's rows are (`turnPerCycle`: one commit per
 * cycle on a group-commit driver; else one per command). No engine on these tables, on this
 * machine, does more cycles per second than this.
 */
export async function runStorageFloor(
  driver: SqlDriver,
  { readyTasks, cycles, maxSeconds = 8 }: Omit<EngineScenario, 'workers'>,
  { turnPerCycle = false } = {},
) {
  const clock = new ManualClock();
  // The schema, a repo, a worker and the ready tasks, through the engine.
  const engine = new Scheduler({ driver, clock });
  engine.upsertRepo({ repo: 'bench', max_open_prs: 100, area_locks_enabled: false });
  const { worker_id: worker } = engine.registerWorker({ name: 'w', capacity_points: 5 });
  const ready: string[] = [];
  for (let i = 0; i < readyTasks; i++) {
    ready.push(engine.createTask({ repo: 'bench', title: `task ${i}`, priority: i % 100 }).task_id);
  }
  const skillSet = driver.get<{ skill_set_id: number }>(
    'SELECT skill_set_id FROM tasks WHERE id = $id',
    { id: ready[0]! },
  )!.skill_set_id;
  for (const name of secondaryIndexes(driver)) driver.exec(`DROP INDEX ${name}`);

  const event = (type: string, taskId: string, data: object) =>
    driver.insert(
      `INSERT INTO events (at, type, repo, task_id, worker_id, actor, data)
       VALUES ($at, $type, 'bench', $task_id, $worker_id, $actor, $data)`,
      {
        at: clock.now(),
        type,
        task_id: taskId,
        worker_id: worker,
        actor: worker,
        data: JSON.stringify(data),
      },
    );
  const write = (
    taskId: string,
    version: number,
    columns: Record<string, string | number | null>,
  ) =>
    driver.transaction(() => {
      const names = Object.keys(columns);
      driver.run(
        `UPDATE tasks SET ${names.map((n) => `${n} = $${n}`).join(', ')},
           version = $version, updated_at = $now WHERE id = $id`,
        { ...columns, version, now: clock.now(), id: taskId },
      );
      event('task.status_changed', taskId, { to: columns.status, version });
    });
  let created = readyTasks;
  const createTask = () =>
    driver.transaction(() => {
      const id = timeOrderedId('t', clock.now());
      driver.run(
        `INSERT INTO tasks (id, repo, title, description, estimate_points, priority, skill_set_id,
                            area, tier, status, ttl_override_ms, max_attempts, created_at, updated_at)
         VALUES ($id, 'bench', $title, '', 1, $priority, $skill_set_id, NULL, 0, 'ready', NULL, NULL,
                 $now, $now)`,
        {
          id,
          title: `task ${created}`,
          priority: created % 100,
          skill_set_id: skillSet,
          now: clock.now(),
        },
      );
      event('task.created', id, { title: `task ${created}` });
      created++;
      ready.push(id);
    });

  let done = 0;
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  while (done < cycles && (done % 100 !== 0 || performance.now() < deadline)) {
    clock.advance(1);
    const taskId = ready.shift()!;
    const lease = timeOrderedId('l', clock.now());
    write(taskId, 2, {
      status: 'leased',
      assignee: worker,
      lease_id: lease,
      lease_epoch: 1,
      lease_granted_at: clock.now(),
      lease_expires_at: clock.now() + 3_600_000,
      lease_ttl_ms: 3_600_000,
    });
    write(taskId, 3, { status: 'in_progress', artifact: null });
    const artifact = JSON.stringify({ pr_url: `https://example.test/pr/${done}` });
    write(taskId, 4, { status: 'pr_opened', artifact, lease_expires_at: null });
    write(taskId, 5, { status: 'merged', artifact, lease_id: null, lease_expires_at: null });
    createTask();
    if (turnPerCycle) await new Promise((resolve) => setImmediate(resolve));
    done++;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    cyclesDone: done,
    cyclesPerSecond: Math.round(done / seconds),
    seconds: Number(seconds.toFixed(2)),
  };
}

/** Indexes made by CREATE INDEX (not those behind a PRIMARY KEY or UNIQUE constraint). */
export function secondaryIndexes(driver: SqlDriver): string[] {
  return driver
    .all<{ name: string }>(
      `SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`,
    )
    .map((row) => row.name);
}

export interface EngineCycleRow extends EngineScenario {
  driver: string;
  cyclesDone: number;
  cyclesPerSecond: number;
  seconds: number;
}

type Runner = (
  driver: SqlDriver,
  scenario: EngineScenario,
  options: { turnPerCycle: boolean },
) => Promise<{ cyclesDone: number; cyclesPerSecond: number; seconds: number }>;

/**
 * `run` on each driver the bench reports — better-sqlite3 in memory, on a file committing two ways,
 * and sql.js (`withSqlJs`, shorter) — at 100 workers and 1k ready tasks; `scale` shortens the runs
 * (quick mode).
 */
async function rowsFor(run: Runner, scale: number, withSqlJs: boolean): Promise<EngineCycleRow[]> {
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
      ...(await run(driver, scenario, { turnPerCycle: false })),
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
        ...(await run(driver, scenario, { turnPerCycle: groupCommit })),
      });
      await driver.committed();
      await driver.stopBackgroundWork();
      driver.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (withSqlJs) {
    const small = { ...scenario, cycles: Math.round(10_000 * scale) };
    const driver = await SqlJsDriver.open();
    rows.push({
      driver: 'sql.js (memory)',
      ...small,
      ...(await run(driver, small, { turnPerCycle: false })),
    });
    driver.close();
  }
  return rows;
}

/** The engine's full task cycles on each driver. */
export function engineCycleRows(scale = 1): Promise<EngineCycleRow[]> {
  return rowsFor(runCycles, scale, true);
}

/** The storage floor (`runStorageFloor`) on the better-sqlite3 rows of `engineCycleRows`. */
export function storageFloorRows(scale = 1): Promise<EngineCycleRow[]> {
  return rowsFor(runStorageFloor, scale, false);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('Engine in-process: full task cycles (grant → in_progress → pr_opened → merged)');
  console.table(await engineCycleRows());
  console.log(
    'The storage floor: the same writes by primary key, no index, no reads, no scheduling',
  );
  console.table(await storageFloorRows());
}
