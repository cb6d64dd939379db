import type { Worker } from '../../protocol/workers.ts';

export type WorkerState = 'online' | 'paused' | 'offline';

/** How busy a worker is, as the workers panel shows it. */
export interface WorkerLoad {
  state: WorkerState;
  /** Points in use over capacity, 0…1 (can read over 1 if capacity was lowered under load). */
  pointsFraction: number;
  tasksFraction: number;
  label: string;
}

export function workerState(worker: Worker): WorkerState {
  if (!worker.online) return 'offline';
  return worker.paused_by_admin || worker.status === 'paused' ? 'paused' : 'online';
}

export function workerLoad(worker: Worker): WorkerLoad {
  const points = worker.capacity_points > 0 ? worker.points_in_use / worker.capacity_points : 0;
  const tasks =
    worker.max_concurrent_tasks > 0 ? worker.active_tasks / worker.max_concurrent_tasks : 0;
  return {
    state: workerState(worker),
    pointsFraction: Math.min(1, points),
    tasksFraction: Math.min(1, tasks),
    label: `${worker.points_in_use}/${worker.capacity_points} pts · ${worker.active_tasks}/${worker.max_concurrent_tasks} tasks`,
  };
}

/** Online (and paused-but-online) workers first, busiest first; then offline ones by last contact. */
export function sortWorkersForDisplay(workers: readonly Worker[]): Worker[] {
  const rank = (w: Worker) => (w.online ? 0 : 1);
  return [...workers].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.online
        ? b.points_in_use - a.points_in_use || a.name.localeCompare(b.name)
        : (b.last_heartbeat_at ?? '').localeCompare(a.last_heartbeat_at ?? '')),
  );
}
