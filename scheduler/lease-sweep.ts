import type { EngineContext } from './context.ts';
import { edgeFor } from './lifecycle.ts';
import { isLastAttempt } from './retries.ts';
import { findTask } from './task-store.ts';
import { applyTransition } from './transitions.ts';
import { OwpError } from '../protocol/errors.ts';

/** What the sweep read about one expired lease; the write applies only if it still holds. */
export interface ExpiredLease {
  task_id: string;
  lease_id: string;
  epoch: number;
  expires_at: number;
}

/**
 * Phase one of the sweep: leases past their expiry, oldest first. The index is named: left to
 * itself SQLite read every held task through `tasks_by_status` and sorted them, 5.6 ms each second
 * with 10,000 leases out, where the expiry index answers in 0.015 ms.
 */
export function findExpiredLeases(ctx: EngineContext, limit = 500): ExpiredLease[] {
  return ctx.driver.all<ExpiredLease>(
    `SELECT id AS task_id, lease_id, lease_epoch AS epoch, lease_expires_at AS expires_at
       FROM tasks INDEXED BY tasks_lease_expiry
      WHERE lease_expires_at <= $now AND status IN ('leased', 'in_progress', 'blocked')
      ORDER BY lease_expires_at, id LIMIT $limit`,
    { now: ctx.clock.now(), limit },
  );
}

/**
 * Phase two, for one lease: requeues the task only if, in the same statement, the lease read in
 * phase one is still the current one (same epoch) and still expired. A worker that completed,
 * renewed or released in between wins, and the sweep changes nothing. Returns whether it expired.
 */
export function expireLease(ctx: EngineContext, lease: ExpiredLease): boolean {
  const task = findTask(ctx.driver, lease.task_id);
  if (!task || task.lease_epoch !== lease.epoch) return false;
  try {
    applyTransition(ctx, task, edgeFor(task.status, 'system', { cause: 'expire' }), {
      lastAttempt: isLastAttempt(ctx, task),
      epoch: lease.epoch,
      expiredAt: ctx.clock.now(),
      message: 'lease expired',
    });
    return true;
  } catch (error) {
    if (error instanceof OwpError && ['invalid_transition', 'stale_lease'].includes(error.code)) {
      return false;
    }
    throw error;
  }
}

/** Workers announced online whose heartbeat has gone quiet: they get a `worker.offline` event. */
export function markSilentWorkersOffline(ctx: EngineContext): string[] {
  const now = ctx.clock.now();
  const silent = ctx.driver.all<{ id: string }>(
    `SELECT id FROM workers WHERE announced_online = 1 AND last_heartbeat_at <= $cutoff`,
    { cutoff: now - ctx.config.heartbeatTtlMs },
  );
  for (const { id } of silent) {
    ctx.driver.run('UPDATE workers SET announced_online = 0 WHERE id = $id', { id });
    ctx.record('worker.offline', { worker_id: id }, {});
  }
  return silent.map((w) => w.id);
}
