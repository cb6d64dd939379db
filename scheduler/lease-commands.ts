import type { z } from 'zod';
import {
  OwpError,
  type LeaseReleaseRequest,
  type LeaseRenewResponse,
  type StatusUpdateRequest,
} from '../protocol/index.ts';
import { toIso } from './clock.ts';
import type { EngineContext } from './context.ts';
import { edgeFor, isHolding } from './lifecycle.ts';
import { isLastAttempt } from './retries.ts';
import type { TaskRow } from './rows.ts';
import { findTask, requireTask, requireWorker } from './task-store.ts';
import { applyTransition } from './transitions.ts';

/**
 * A worker moves its task along the lifecycle. With `lease_id` (v1) the write is fenced by that
 * lease; without it (v0.1) by the task's current lease holder. A stale lease gets 409 and
 * changes nothing. Returns the task as this write left it.
 */
export function updateStatus(
  ctx: EngineContext,
  workerId: string,
  taskId: string,
  req: z.output<typeof StatusUpdateRequest>,
): TaskRow {
  let task: TaskRow;
  try {
    task = requireLeaseHolder(ctx, workerId, taskId, req.lease_id, req.epoch);
  } catch (error) {
    // Looked for only once the lease checks refuse: the common report pays nothing for it.
    const ended = req.status === 'merged' && repeatedFinalReport(ctx, workerId, taskId, req);
    if (ended) return ended;
    throw error;
  }
  if (task.status === req.status) {
    // A retried or repeated report: nothing to move; record a new artifact if one came.
    return req.artifact ? recordArtifact(ctx, task, req.artifact) : task;
  }
  return applyTransition(ctx, task, edgeFor(task.status, 'worker', { to: req.status }), {
    epoch: task.lease_epoch,
    worker: workerId,
    message: req.message ?? null,
    artifact: req.artifact ?? null,
  });
}

/**
 * `merged` again from the worker whose lease it ended — a client that lost the first answer and
 * retries, as a v0.1 client without an Idempotency-Key must: answered with the task as it is,
 * like any other repeated report, rather than 409 for a lease the first report itself ended.
 * The same when an admin recorded the merge first. Anything else about a finished task still
 * goes through the lease checks and is refused there.
 */
function repeatedFinalReport(
  ctx: EngineContext,
  workerId: string,
  taskId: string,
  req: z.output<typeof StatusUpdateRequest>,
): TaskRow | null {
  const task = findTask(ctx.driver, taskId);
  if (
    !task ||
    task.status !== 'merged' ||
    task.lease_id !== null ||
    task.assignee !== workerId ||
    (req.epoch !== undefined && req.epoch !== task.lease_epoch)
  ) {
    return null;
  }
  if (req.lease_id !== undefined) {
    // The lease named must be the task's last one, and this worker's.
    const lease = leaseOnTask(ctx, req.lease_id, taskId);
    if (lease?.worker_id !== workerId || lease.epoch !== task.lease_epoch) return null;
  }
  return task;
}

/** Extends one lease by its TTL. */
export function renewLease(
  ctx: EngineContext,
  workerId: string,
  leaseId: string,
): LeaseRenewResponse {
  const task = requireLeaseById(ctx, workerId, leaseId);
  if (!isHolding(task.status)) {
    throw new OwpError(
      'invalid_transition',
      `Task ${task.id} is ${task.status}; only leased, in-progress or blocked work has a lease to renew.`,
      { task_id: task.id, status: task.status },
    );
  }
  const now = ctx.clock.now();
  const row = ctx.driver.get<{ lease_expires_at: number }>(
    `UPDATE tasks SET lease_expires_at = $now + lease_ttl_ms
      WHERE id = $id AND lease_epoch = $epoch AND lease_expires_at > $now
      RETURNING lease_expires_at`,
    { id: task.id, epoch: task.lease_epoch, now },
  );
  if (!row) throw staleLease(task, leaseId);
  const expiresAt = toIso(row.lease_expires_at);
  ctx.record(
    'lease.renewed',
    { repo: task.repo, task_id: task.id, worker_id: workerId },
    { lease_id: leaseId, expires_at: expiresAt },
  );
  return { ok: true as const, lease_id: leaseId, epoch: task.lease_epoch, expires_at: expiresAt };
}

/** The worker gives the task back to the queue; the attempt counts. */
export function releaseLease(
  ctx: EngineContext,
  workerId: string,
  leaseId: string,
  req: z.output<typeof LeaseReleaseRequest>,
): { ok: true; task_id: string; status: 'ready' | 'failed' } {
  const task = requireLeaseById(ctx, workerId, leaseId);
  const released = applyTransition(
    ctx,
    task,
    edgeFor(task.status, 'worker', { cause: 'release' }),
    {
      lastAttempt: isLastAttempt(ctx, task),
      epoch: task.lease_epoch,
      worker: workerId,
      message: req.reason ?? null,
    },
  );
  return {
    ok: true as const,
    task_id: task.id,
    status: released.status === 'failed' ? 'failed' : 'ready',
  };
}

function recordArtifact(
  ctx: EngineContext,
  task: TaskRow,
  artifact: NonNullable<z.output<typeof StatusUpdateRequest>['artifact']>,
): TaskRow {
  const merged = JSON.stringify({
    ...(task.artifact ? JSON.parse(task.artifact) : {}),
    ...Object.fromEntries(
      Object.entries(artifact).filter(([, v]) => v !== null && v !== undefined),
    ),
  });
  if (merged === task.artifact) return task;
  const row = ctx.driver.get<{ version: number; updated_at: number }>(
    `UPDATE tasks SET artifact = $artifact, version = version + 1, updated_at = $now
      WHERE id = $id AND lease_epoch = $epoch RETURNING version, updated_at`,
    { id: task.id, artifact: merged, epoch: task.lease_epoch, now: ctx.clock.now() },
  )!;
  ctx.record(
    'task.updated',
    { repo: task.repo, task_id: task.id, worker_id: task.assignee },
    { fields: ['artifact'], version: row.version },
  );
  return { ...task, artifact: merged, ...row };
}

function requireLeaseById(ctx: EngineContext, workerId: string, leaseId: string): TaskRow {
  const lease = ctx.driver.get<{ task_id: string; worker_id: string; epoch: number }>(
    'SELECT task_id, worker_id, epoch FROM leases WHERE id = $id',
    { id: leaseId },
  );
  if (!lease) throw new OwpError('lease_not_found', `No lease ${leaseId}.`, { lease_id: leaseId });
  if (lease.worker_id !== workerId) {
    throw new OwpError('not_lease_holder', `Lease ${leaseId} belongs to another worker.`, {
      lease_id: leaseId,
    });
  }
  return requireLeaseHolder(ctx, workerId, lease.task_id, leaseId, lease.epoch);
}

/** The task, if `workerId` holds its current lease (and the named lease, when one is named). */
function requireLeaseHolder(
  ctx: EngineContext,
  workerId: string,
  taskId: string,
  leaseId: string | undefined,
  epoch: number | undefined,
): TaskRow {
  // The common case costs one read: a task held by this worker proves the worker exists, and a
  // task whose current lease is the one named proves the lease is this worker's.
  const found = findTask(ctx.driver, taskId);
  if (found?.assignee !== workerId) requireWorker(ctx.driver, workerId);
  const task = found ?? requireTask(ctx.driver, taskId);
  if (leaseId !== undefined && !(task.lease_id === leaseId && task.assignee === workerId)) {
    const lease = leaseOnTask(ctx, leaseId, taskId);
    if (!lease) {
      throw new OwpError('lease_not_found', `No lease ${leaseId} on task ${taskId}.`, {
        lease_id: leaseId,
        task_id: taskId,
      });
    }
    if (lease.worker_id !== workerId) {
      throw new OwpError('not_lease_holder', `Lease ${leaseId} belongs to another worker.`, {
        lease_id: leaseId,
      });
    }
    if (task.lease_id !== leaseId) throw staleLease(task, leaseId);
  }
  if (task.assignee !== workerId) {
    throw new OwpError('not_lease_holder', `Task ${taskId} is not leased to worker ${workerId}.`, {
      task_id: taskId,
    });
  }
  if (epoch !== undefined && epoch !== task.lease_epoch) throw staleLease(task, leaseId, epoch);
  if (task.lease_id === null) {
    throw new OwpError(
      'invalid_transition',
      `Task ${taskId} is ${task.status}; its lease has ended.`,
      {
        task_id: taskId,
        status: task.status,
        allowed: [],
      },
    );
  }
  if (task.lease_expires_at !== null && task.lease_expires_at <= ctx.clock.now()) {
    throw new OwpError(
      'lease_expired',
      `The lease on task ${taskId} expired at ${toIso(task.lease_expires_at)}; the task is going back to the queue.`,
      { task_id: taskId, expired_at: toIso(task.lease_expires_at) },
    );
  }
  return task;
}

/** A lease of the task by its id, current or not, or undefined. */
function leaseOnTask(ctx: EngineContext, leaseId: string, taskId: string) {
  return ctx.driver.get<{ worker_id: string; epoch: number }>(
    'SELECT worker_id, epoch FROM leases WHERE id = $id AND task_id = $task',
    { id: leaseId, task: taskId },
  );
}

/** A write fenced by a lease that is no longer the task's: the one named, or the epoch sent. */
function staleLease(task: TaskRow, leaseId: string | undefined, epoch?: number): OwpError {
  const named = leaseId ? `The lease ${leaseId}` : 'The lease';
  const message =
    task.lease_id === null
      ? `${named} on task ${task.id} has ended: the task is ${task.status} and holds no lease now; the write was not applied.`
      : epoch === undefined
        ? `${named} on task ${task.id} is no longer current (the current lease is epoch ${task.lease_epoch}); the write was not applied.`
        : `Epoch ${epoch} is not the current lease of task ${task.id} (epoch ${task.lease_epoch}); the write was not applied.`;
  return new OwpError('stale_lease', message, {
    task_id: task.id,
    lease_id: leaseId ?? null,
    current_epoch: task.lease_epoch,
    ...(epoch === undefined ? {} : { epoch }),
  });
}
