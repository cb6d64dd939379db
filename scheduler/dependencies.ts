import { OwpError } from '../protocol/errors.ts';
import type { EngineContext } from './context.ts';

/**
 * Sets the tasks `taskId` waits on: each must exist, and none may wait on `taskId` already,
 * directly or through others (that would be a cycle nothing could ever start). Replaces the
 * task's edges, its shown `depends_on` and its count of dependencies not merged yet; returns
 * that count. Version and events are the caller's: this is one part of a create (`creating`) or
 * an edit.
 */
export function setDependencies(
  ctx: EngineContext,
  taskId: string,
  dependsOn: string[],
  { creating = false } = {},
): number {
  if (dependsOn.includes(taskId)) {
    throw new OwpError('dependency_cycle', `Task ${taskId} cannot depend on itself.`, {
      task_id: taskId,
      cycle: [taskId, taskId],
    });
  }
  const found = new Map(
    dependsOn.length === 0
      ? []
      : ctx.driver
          .all<{ id: string; status: string }>(
            `SELECT id, status FROM tasks WHERE id IN (${dependsOn.map((_, i) => `$d${i}`).join(', ')})`,
            Object.fromEntries(dependsOn.map((id, i) => [`d${i}`, id])),
          )
          .map((row) => [row.id, row.status]),
  );
  const missing = dependsOn.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw new OwpError(
      'dependency_unknown',
      `No task with id ${missing.join(', ')}; a task can depend only on existing tasks.`,
      // A task being created is not one yet: its id would name nothing.
      creating ? { missing } : { task_id: taskId, missing },
    );
  }
  for (const dependency of dependsOn) {
    const path = pathBetween(ctx, dependency, taskId);
    if (path) {
      throw new OwpError(
        'dependency_cycle',
        `Task ${taskId} cannot depend on ${dependency}: ${path.join(' → ')} already waits on ${taskId}.`,
        { task_id: taskId, cycle: [taskId, ...path, taskId] },
      );
    }
  }
  ctx.driver.run('DELETE FROM task_dependencies WHERE task_id = $id', { id: taskId });
  for (const dependency of dependsOn) {
    ctx.driver.run(
      'INSERT INTO task_dependencies (task_id, depends_on) VALUES ($task, $dependency)',
      { task: taskId, dependency },
    );
  }
  const pending = dependsOn.filter((id) => found.get(id) !== 'merged').length;
  ctx.driver.run(
    'UPDATE tasks SET depends_on = $depends_on, deps_pending = $pending WHERE id = $id',
    { id: taskId, depends_on: JSON.stringify(dependsOn), pending },
  );
  return pending;
}

/**
 * The chain of dependencies from `from` to `to` (`from` waits on … which waits on `to`), or null
 * when `from` does not wait on `to` at all. A breadth-first walk over the edges reachable from
 * `from`, each task visited once.
 */
function pathBetween(ctx: EngineContext, from: string, to: string): string[] | null {
  const cameFrom = new Map<string, string | null>([[from, null]]);
  for (let queue = [from]; queue.length > 0;) {
    const next: string[] = [];
    for (const id of queue) {
      const edges = ctx.driver.all<{ depends_on: string }>(
        'SELECT depends_on FROM task_dependencies WHERE task_id = $id',
        { id },
      );
      for (const { depends_on: dependency } of edges) {
        if (cameFrom.has(dependency)) continue;
        cameFrom.set(dependency, id);
        if (dependency === to) {
          const path: string[] = [];
          for (let at = cameFrom.get(to) ?? null; at !== null; at = cameFrom.get(at) ?? null) {
            path.unshift(at);
          }
          return path;
        }
        next.push(dependency);
      }
    }
    queue = next;
  }
  return null;
}
