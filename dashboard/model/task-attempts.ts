import type { Repo } from '../../protocol/repos.ts';
import type { Task } from '../../protocol/tasks.ts';

/**
 * A task's attempts against its limit: the task's own `max_attempts`, else its repo's (which the
 * server reports as the value in effect). Null when neither is known to the page.
 */
export function attemptLimit(task: Task, repo: Repo | undefined): number | null {
  return task.max_attempts ?? repo?.max_attempts ?? null;
}

/** `1 of 3 (the repo's limit)`, `2 of 5 (this task's limit)`, or just `1` without a known limit. */
export function attemptsText(task: Task, repo: Repo | undefined): string {
  const limit = attemptLimit(task, repo);
  if (limit === null) return String(task.attempts);
  const whose = task.max_attempts !== null ? "this task's limit" : "the repo's limit";
  return `${task.attempts} of ${limit} (${whose})`;
}

/** What a failed task's detail says above its actions: why it stopped and what brings it back. */
export function failedNotice(task: Task, repo: Repo | undefined): string {
  const limit = attemptLimit(task, repo);
  const used = limit === null ? `${task.attempts}` : `${task.attempts} of ${limit}`;
  return (
    `Out of attempts (${used} used): nothing will lease it again until an admin requeues it, ` +
    'which starts the count over, or cancels it.'
  );
}
