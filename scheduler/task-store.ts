import { OwpError } from '../protocol/errors.ts';
import type { RepoRow, TaskRow, WorkerRow } from './rows.ts';
import { TASK_COLUMNS, TASK_FROM } from './rows.ts';
import { RESERVING_STATUSES, statusIsOneOf } from './lifecycle.ts';
import type { SqlDriver } from './storage-port.ts';

/*
 * Plain reads shared by the engine's parts. Their SQL is built once: a driver finds its prepared
 * statement by the SQL text, and a string assembled on every call is hashed anew on every call.
 */
const TASK_BY_ID = `SELECT ${TASK_COLUMNS} FROM ${TASK_FROM} WHERE t.id = $id`;
const HELD_AREAS = `SELECT DISTINCT area FROM tasks
  WHERE repo = $repo AND area IS NOT NULL AND ${statusIsOneOf(RESERVING_STATUSES)}
  ORDER BY area`;
const AREA_HELD = `SELECT 1 FROM tasks
  WHERE repo = $repo AND area = $area AND area IS NOT NULL AND ${statusIsOneOf(RESERVING_STATUSES)}
  LIMIT 1`;

export function findTask(driver: SqlDriver, id: string): TaskRow | undefined {
  return driver.get<TaskRow>(TASK_BY_ID, { id });
}

export function requireTask(driver: SqlDriver, id: string): TaskRow {
  const row = findTask(driver, id);
  if (!row) throw new OwpError('task_not_found', `No task with id ${id}.`, { task_id: id });
  return row;
}

export function findWorker(driver: SqlDriver, id: string): WorkerRow | undefined {
  return driver.get<WorkerRow>('SELECT * FROM workers WHERE id = $id', { id });
}

export function requireWorker(driver: SqlDriver, id: string): WorkerRow {
  const row = findWorker(driver, id);
  if (!row) throw new OwpError('worker_not_found', `No worker with id ${id}.`, { worker_id: id });
  return row;
}

export function findRepo(driver: SqlDriver, key: string): RepoRow | undefined {
  return driver.get<RepoRow>('SELECT * FROM repos WHERE key = $key', { key });
}

export function openPrs(driver: SqlDriver, repo: string): number {
  return driver.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM tasks WHERE repo = $repo AND status = 'pr_opened'`,
    { repo },
  )!.n;
}

/** Areas of the repo in which a task holds a lease or waits on an offer. */
export function heldAreas(driver: SqlDriver, repo: string): string[] {
  return driver.all<{ area: string }>(HELD_AREAS, { repo }).map((r) => r.area);
}

export function isAreaHeld(driver: SqlDriver, repo: string, area: string): boolean {
  return driver.get(AREA_HELD, { repo, area }) !== undefined;
}

export function isOnline(
  worker: Pick<WorkerRow, 'last_heartbeat_at'>,
  now: number,
  heartbeatTtlMs: number,
): boolean {
  return worker.last_heartbeat_at !== null && now - worker.last_heartbeat_at < heartbeatTtlMs;
}
