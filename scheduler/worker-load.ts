import type { TaskStatus } from '../protocol/index.ts';
import { isReserving } from './lifecycle.ts';
import type { SqlDriver } from './storage-port.ts';

interface Holding {
  status: TaskStatus;
  assignee: string | null;
  estimate_points: number;
}

/**
 * Keeps `workers.points_in_use` and `active_tasks` equal to the sum over the tasks reserved for
 * each worker (offered, leased, in progress, blocked), given a task's state before and after a
 * write.
 */
export function updateWorkerLoad(driver: SqlDriver, before: Holding, after: Holding): void {
  const held = (t: Holding) => (isReserving(t.status) ? t.assignee : null);
  const from = held(before);
  const to = held(after);
  if (from !== null && from === to) {
    adjust(driver, from, after.estimate_points - before.estimate_points, 0);
    return;
  }
  if (from !== null) adjust(driver, from, -before.estimate_points, -1);
  if (to !== null) adjust(driver, to, after.estimate_points, 1);
}

function adjust(driver: SqlDriver, workerId: string, points: number, tasks: number): void {
  if (points === 0 && tasks === 0) return;
  driver.run(
    `UPDATE workers SET points_in_use = points_in_use + $points, active_tasks = active_tasks + $tasks
      WHERE id = $id`,
    { id: workerId, points, tasks },
  );
}
