import type { EngineContext } from './context.ts';
import type { TaskRow } from './rows.ts';
import { findRepo } from './task-store.ts';

/** The task's attempt limit: its own, else its repo's, else the engine's default. */
export function maxAttemptsOf(ctx: EngineContext, task: Pick<TaskRow, 'repo' | 'max_attempts'>) {
  return (
    task.max_attempts ??
    findRepo(ctx.driver, task.repo)?.max_attempts ??
    ctx.config.defaultMaxAttempts
  );
}

/**
 * Whether the attempt an expiry or a release is about to count is the task's last: then the task
 * goes to `failed`, where it waits for an admin instead of being retried forever.
 */
export function isLastAttempt(
  ctx: EngineContext,
  task: Pick<TaskRow, 'repo' | 'max_attempts' | 'attempts'>,
): boolean {
  return task.attempts + 1 >= maxAttemptsOf(ctx, task);
}
