import type { TaskStatus } from '../../protocol/common.ts';
import type { Task } from '../../protocol/tasks.ts';
import { STATUS_NOUNS, isUnfinishedStatus } from './statuses.ts';

/**
 * Where a task stands as a dependency: `met` once merged; `never` when cancelled (it will never be
 * merged, so whatever waits on it waits until its dependencies are changed); `unknown` when the
 * page has not loaded it (a pool larger than the page, or a task deleted since).
 */
export type DependencyState = 'met' | 'pending' | 'never' | 'unknown';

/** Each state in words, next to the dependency in the task detail. */
export const DEPENDENCY_STATE_NOTES: Record<DependencyState, string> = {
  met: 'merged',
  pending: 'not merged yet',
  never: 'cancelled: it will never be merged',
  unknown: 'not loaded on this page',
};

/** One task on the other end of a dependency, as the task detail lists it. */
export interface DependencyLink {
  task_id: string;
  /** Null when the page does not know the task. */
  title: string | null;
  status: TaskStatus | null;
  state: DependencyState;
}

function linkFor(task: Task): DependencyLink {
  const state: DependencyState =
    task.status === 'merged' ? 'met' : task.status === 'cancelled' ? 'never' : 'pending';
  return { task_id: task.task_id, title: task.title, status: task.status, state };
}

function linkTo(taskId: string, tasks: ReadonlyMap<string, Task>): DependencyLink {
  const task = tasks.get(taskId);
  return task ? linkFor(task) : { task_id: taskId, title: null, status: null, state: 'unknown' };
}

/** Tasks named by id, in that order, with what the page knows of each. */
export function linksTo(
  ids: readonly string[],
  tasks: ReadonlyMap<string, Task>,
): DependencyLink[] {
  return ids.map((id) => linkTo(id, tasks));
}

/** The tasks `task` waits on, in the order it names them. */
export function dependenciesOf(task: Task, tasks: ReadonlyMap<string, Task>): DependencyLink[] {
  return linksTo(task.depends_on, tasks);
}

/**
 * The tasks that wait on `taskId` ("blocks"), oldest first: the loaded ones, plus those the server
 * listed for it (`GET /v1/tasks?depends_on=`) that the page has not loaded — a pool larger than
 * the page. A loaded task is judged by its own live copy, so one edited since the list was read
 * drops out or comes in at once.
 */
export function dependentsOf(
  taskId: string,
  tasks: ReadonlyMap<string, Task>,
  listed: readonly Task[] = [],
): DependencyLink[] {
  const dependents = new Map<string, Task>();
  for (const task of tasks.values()) {
    if (task.depends_on.includes(taskId)) dependents.set(task.task_id, task);
  }
  for (const task of listed) {
    if (!tasks.has(task.task_id) && task.depends_on.includes(taskId)) {
      dependents.set(task.task_id, task);
    }
  }
  return [...dependents.values()]
    .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.task_id.localeCompare(b.task_id))
    .map(linkFor);
}

/** The table's small "waiting on N" marker, with the tasks it waits for in its tooltip. */
export interface WaitingMarker {
  label: string;
  title: string;
}

/**
 * The marker for a task held back by dependencies not merged yet, or null when nothing holds it.
 * The count is the server's (`dependencies_pending`); the tooltip names the unmerged ones the page
 * knows, and the rest by id.
 */
export function waitingMarker(task: Task, tasks: ReadonlyMap<string, Task>): WaitingMarker | null {
  if (task.dependencies_pending <= 0) return null;
  const waitingFor = dependenciesOf(task, tasks)
    .filter((link) => link.state !== 'met')
    .map((link) =>
      link.title === null ? link.task_id : `“${link.title}” (${STATUS_NOUNS[link.status!]})`,
    );
  return {
    label: `waiting on ${task.dependencies_pending}`,
    title: `Starts once merged: ${waitingFor.join(', ')}`,
  };
}

/** A task a new task may depend on, as the picker lists it. */
export interface DependencyChoice {
  task_id: string;
  label: string;
}

/**
 * What the new-task form offers to depend on: every loaded task not merged or cancelled and not
 * chosen yet — those in `repo` first, then the others — each by title, then id.
 */
export function dependencyChoices(
  tasks: Iterable<Task>,
  repo: string,
  chosen: readonly string[],
): DependencyChoice[] {
  const candidates = [...tasks].filter(
    (task) => isUnfinishedStatus(task.status) && !chosen.includes(task.task_id),
  );
  const otherRepo = (task: Task) => (task.repo === repo ? 0 : 1);
  candidates.sort(
    (a, b) =>
      otherRepo(a) - otherRepo(b) ||
      a.title.localeCompare(b.title, undefined, { sensitivity: 'base' }) ||
      a.task_id.localeCompare(b.task_id),
  );
  return candidates.map((task) => ({
    task_id: task.task_id,
    label: `${task.title} — ${task.repo === repo ? '' : `${task.repo}, `}${STATUS_NOUNS[task.status]} (${task.task_id})`,
  }));
}
