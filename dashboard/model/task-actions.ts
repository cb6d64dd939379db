import type { TaskStatus } from '../../protocol/common.ts';
import { LIFECYCLE } from '../../scheduler/lifecycle.ts';

/** The admin buttons a task offers in its status; read from the lifecycle table, not restated. */
export interface TaskActions {
  requeue: boolean;
  cancel: boolean;
}

const adminCan = (cause: 'requeue' | 'cancel', status: TaskStatus) =>
  LIFECYCLE.some((e) => e.cause === cause && e.actors.includes('admin') && e.from.includes(status));

export function taskActionsFor(status: TaskStatus): TaskActions {
  return { requeue: adminCan('requeue', status), cancel: adminCan('cancel', status) };
}
