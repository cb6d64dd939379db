import type { Task, TaskStatus } from '../../protocol/index.ts';

/**
 * Where a task stands as a dependency: `met` once merged; `never` when cancelled (it will never be
 * merged, so whatever waits on it waits until an admin edits its dependencies); `unknown` when the
 * snapshot does not hold it (a worker's view, or a task deleted since).
 */
export type DependencyState = 'met' | 'pending' | 'never' | 'unknown';

/** One task at the other end of a dependency, as a card or a note lists it. */
export interface DependencyLink {
  taskId: string;
  /** Null when the snapshot does not hold the task. */
  title: string | null;
  status: TaskStatus | null;
  state: DependencyState;
}

/** What each state says next to the task, in words. */
export const DEPENDENCY_STATE_TEXT: Record<DependencyState, string> = {
  met: 'merged',
  pending: 'not merged yet',
  never: 'cancelled: never merged',
  unknown: 'not in this pool view',
};

function linkTo(taskId: string, tasks: ReadonlyMap<string, Task>): DependencyLink {
  const task = tasks.get(taskId);
  if (!task) return { taskId, title: null, status: null, state: 'unknown' };
  const state: DependencyState =
    task.status === 'merged' ? 'met' : task.status === 'cancelled' ? 'never' : 'pending';
  return { taskId, title: task.title, status: task.status, state };
}

/** The tasks `task` depends on, in the order it names them. */
export function dependenciesOf(task: Task, tasks: ReadonlyMap<string, Task>): DependencyLink[] {
  return task.depends_on.map((id) => linkTo(id, tasks));
}

/**
 * The tasks that depend on `taskId` ("blocks"), oldest first. Computed from the snapshot, since a
 * task carries only its own `depends_on`; an admin's snapshot holds every task, so this is whole.
 */
export function dependentsOf(taskId: string, tasks: ReadonlyMap<string, Task>): DependencyLink[] {
  const dependents = [...tasks.values()].filter((task) => task.depends_on.includes(taskId));
  dependents.sort(
    (a, b) => a.created_at.localeCompare(b.created_at) || a.task_id.localeCompare(b.task_id),
  );
  return dependents.map((task) => linkTo(task.task_id, tasks));
}
