import { OwpError } from '../protocol/errors.ts';
import type { Artifact } from '../protocol/index.ts';
import type { EngineContext } from './context.ts';
import { reputationOf } from './eligibility.ts';
import { type LifecycleEdge, HOLDING_STATUSES } from './lifecycle.ts';
import type { TaskRow } from './rows.ts';
import type { SqlParams } from './storage-port.ts';
import { updateWorkerLoad } from './worker-load.ts';

export interface TransitionOptions {
  /** The fencing epoch the write was made under; the update applies only if it is still current. */
  epoch: number;
  /** Worker writes: the lease must still be held by this worker and not have expired. */
  worker?: string;
  /** Expiry: the lease must still be expired at this instant, in the same statement. */
  expiredAt?: number;
  message?: string | null;
  artifact?: Artifact | null;
  grant?: { workerId: string; leaseId: string; ttlMs: number };
}

const HOLDING = `('${HOLDING_STATUSES.join("', '")}')`;

/** Every column a transition may write: what it reads back, rather than the whole row. */
const CHANGED_COLUMNS = [
  'status',
  'assignee',
  'lease_id',
  'lease_epoch',
  'lease_granted_at',
  'lease_expires_at',
  'lease_ttl_ms',
  'artifact',
  'attempts',
  'released_by',
  'released_at',
  'version',
  'updated_at',
] as const;

/**
 * Moves `task` along `edge` with one compare-and-set on (status, epoch): if anything moved the task
 * since it was read, nothing is written and the caller gets a 409. The single place that writes a
 * task's status, so leases, worker stats and events can never disagree with it.
 */
export function applyTransition(
  ctx: EngineContext,
  task: TaskRow,
  edge: LifecycleEdge,
  options: TransitionOptions,
): TaskRow {
  const now = ctx.clock.now();
  const guard: SqlParams = {
    id: task.id,
    from: task.status,
    epoch: options.epoch,
    now,
    worker: options.worker ?? null,
    expired_at: options.expiredAt ?? null,
  };
  const where = `id = $id AND status = $from AND lease_epoch = $epoch
    AND ($worker IS NULL OR (assignee = $worker
         AND (lease_expires_at IS NULL OR lease_expires_at > $now)))
    AND ($expired_at IS NULL OR (lease_expires_at <= $expired_at AND status IN ${HOLDING}))`;
  const artifact = mergeArtifact(task.artifact, options.artifact);
  let set: string;
  let params: SqlParams = {};
  switch (edge.cause) {
    case 'grant': {
      const grant = options.grant!;
      set = `status = 'leased', assignee = $assignee, lease_id = $lease_id,
             lease_epoch = lease_epoch + 1, lease_granted_at = $now,
             lease_expires_at = $now + $ttl, lease_ttl_ms = $ttl`;
      params = { assignee: grant.workerId, lease_id: grant.leaseId, ttl: grant.ttlMs };
      break;
    }
    case 'start':
    case 'block':
      set = `status = $to, artifact = $artifact`;
      break;
    case 'open_pr':
      // Review time is not the worker's to spend: the lease stops expiring once the PR is open.
      set = `status = $to, artifact = $artifact, lease_expires_at = NULL`;
      break;
    case 'merge':
    case 'cancel':
      set = `status = $to, artifact = $artifact, lease_id = NULL, lease_expires_at = NULL`;
      break;
    case 'expire':
    case 'release':
    case 'requeue': {
      const counts = edge.cause !== 'requeue';
      set = `status = 'ready', assignee = NULL, lease_id = NULL, lease_granted_at = NULL,
             lease_expires_at = NULL, lease_ttl_ms = NULL, attempts = attempts + $attempt,
             released_by = $released_by, released_at = $released_at`;
      params = {
        attempt: counts ? 1 : 0,
        released_by: edge.cause === 'release' ? task.assignee : null,
        released_at: edge.cause === 'release' ? now : null,
      };
      break;
    }
  }
  const row = ctx.driver.get<Pick<TaskRow, (typeof CHANGED_COLUMNS)[number]>>(
    `UPDATE tasks SET ${set}, version = version + 1, updated_at = $now WHERE ${where}
     RETURNING ${CHANGED_COLUMNS.join(', ')}`,
    { ...guard, to: edge.to, artifact, ...params },
  );
  if (!row) {
    throw new OwpError(
      'stale_lease',
      `Task ${task.id} changed while this write was in flight; nothing was applied.`,
      { task_id: task.id, epoch: options.epoch },
    );
  }
  // A transition changes only these columns; the rest (title, description, skills…) carry over.
  const updated: TaskRow = { ...task, ...row };
  updateWorkerLoad(ctx.driver, task, updated);
  recordLeaseChange(ctx, task, updated, edge, now);
  ctx.record(
    'task.status_changed',
    { repo: task.repo, task_id: task.id, worker_id: updated.assignee ?? task.assignee },
    {
      from: task.status,
      to: updated.status,
      cause: edge.cause,
      lease_id: updated.lease_id ?? task.lease_id,
      epoch: updated.lease_epoch,
      message: options.message ?? null,
      pr_url: options.artifact?.pr_url ?? null,
      version: updated.version,
    },
  );
  return updated;
}

/** Keeps the lease history and the worker's outcome stats in step with the task. */
function recordLeaseChange(
  ctx: EngineContext,
  before: TaskRow,
  after: TaskRow,
  edge: LifecycleEdge,
  now: number,
): void {
  if (edge.cause === 'grant') {
    ctx.driver.run(
      `INSERT INTO leases (id, task_id, worker_id, epoch, granted_at)
       VALUES ($id, $task, $worker, $epoch, $now)`,
      { id: after.lease_id, task: after.id, worker: after.assignee, epoch: after.lease_epoch, now },
    );
    return;
  }
  const leaseEnded = before.lease_id !== null && after.lease_id === null;
  if (!leaseEnded) return;
  ctx.driver.run('UPDATE leases SET ended_at = $now, end_cause = $cause WHERE id = $id', {
    id: before.lease_id,
    now,
    cause: edge.cause,
  });
  const outcome = {
    merge: 'tasks_completed',
    expire: 'leases_expired',
    release: 'leases_released',
  }[edge.cause as 'merge' | 'expire' | 'release'];
  if (outcome && before.assignee) {
    const stats = ctx.driver.get<{
      tasks_completed: number;
      leases_expired: number;
      leases_released: number;
    }>(
      `UPDATE workers SET ${outcome} = ${outcome} + 1 WHERE id = $id
       RETURNING tasks_completed, leases_expired, leases_released`,
      { id: before.assignee },
    );
    if (stats) {
      ctx.driver.run('UPDATE workers SET reputation = $reputation WHERE id = $id', {
        id: before.assignee,
        reputation: reputationOf(stats),
      });
    }
  }
}

/** A new artifact adds to the one already recorded; fields it leaves out are kept. */
function mergeArtifact(current: string | null, next: Artifact | null | undefined): string | null {
  if (!next) return current;
  const merged = { ...(current ? (JSON.parse(current) as Artifact) : {}) };
  for (const [key, value] of Object.entries(next)) {
    if (value !== undefined && value !== null) (merged as Record<string, unknown>)[key] = value;
  }
  return JSON.stringify(merged);
}
