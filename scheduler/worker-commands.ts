import type { z } from 'zod';
import type {
  HeartbeatRequest,
  HeartbeatResponse,
  RegisterWorkerRequest,
  RegisterWorkerResponse,
  WorkerTokenResponse,
  TrustTierRequest,
  Worker,
  WorkerReputation,
  WorkLease,
} from '../protocol/index.ts';
import { toIso } from './clock.ts';
import type { EngineContext } from './context.ts';
import { normalizeSkills, outcomeRates, REPUTATION_FORMULA, trustRank } from './eligibility.ts';
import {
  TASK_COLUMNS,
  TASK_FROM,
  WORKER_VIEW_COLUMNS,
  type TaskRow,
  type WorkerRow,
  type WorkerViewRow,
  contractOf,
  toTask,
  toWorker,
} from './rows.ts';
import { HOLDING_STATUSES, statusIsOneOf } from './lifecycle.ts';
import { isOnline, requireWorker } from './task-store.ts';

/** Registers a worker. The token is returned once; only its hash is stored. */
export function registerWorker(
  ctx: EngineContext,
  req: z.output<typeof RegisterWorkerRequest>,
): RegisterWorkerResponse {
  const id = ctx.ids.workerId();
  const token = ctx.ids.token();
  const skills = normalizeSkills(req.skills);
  const tier = ctx.config.defaultTrustTier;
  ctx.driver.run(
    `INSERT INTO workers (id, name, github_handle, token_hash, skills, capacity_points,
                          max_concurrent_tasks, trust_tier, trust_rank, registered_at)
     VALUES ($id, $name, $github_handle, $token_hash, $skills, $capacity_points,
             $max_concurrent_tasks, $trust_tier, $trust_rank, $now)`,
    {
      id,
      name: req.name,
      github_handle: req.github_handle ?? null,
      token_hash: ctx.config.hashToken(token),
      skills: JSON.stringify(skills),
      capacity_points: req.capacity_points,
      max_concurrent_tasks: req.max_concurrent_tasks,
      trust_tier: tier,
      trust_rank: trustRank(tier),
      now: ctx.clock.now(),
    },
  );
  for (const skill of skills) {
    ctx.driver.run('INSERT INTO worker_skills (worker_id, skill) VALUES ($worker, $skill)', {
      worker: id,
      skill,
    });
  }
  ctx.record('worker.registered', { worker_id: id }, { name: req.name, skills });
  return { worker_id: id, token };
}

/** A new token for the worker; only its hash is stored, and the old one matches no worker. */
export function replaceToken(ctx: EngineContext, id: string): WorkerTokenResponse {
  requireWorker(ctx.driver, id);
  const token = ctx.ids.token();
  ctx.driver.run('UPDATE workers SET token_hash = $hash WHERE id = $id', {
    id,
    hash: ctx.config.hashToken(token),
  });
  ctx.record('worker.token_replaced', { worker_id: id }, {});
  return { worker_id: id, token };
}

/** The worker a bearer token belongs to, or undefined. Looks up by hash, never by the secret. */
export function authenticateWorker(ctx: EngineContext, token: string): string | undefined {
  return workerIdByTokenHash(ctx, ctx.config.hashToken(token));
}

/** The worker whose token has this hash (`config.hashToken`), or undefined. */
export function workerIdByTokenHash(ctx: EngineContext, hash: string): string | undefined {
  return ctx.driver.get<{ id: string }>('SELECT id FROM workers WHERE token_hash = $hash', {
    hash,
  })?.id;
}

export function getWorker(ctx: EngineContext, id: string): Worker {
  return workerView(ctx, requireWorker(ctx.driver, id));
}

/** Every worker, in order of registration: only the columns shown (a third less to read). */
const LIST_WORKERS = `SELECT ${WORKER_VIEW_COLUMNS.join(', ')} FROM workers
  ORDER BY registered_at, rowid`;

export function listWorkers(ctx: EngineContext): Worker[] {
  return ctx.driver.all<WorkerViewRow>(LIST_WORKERS).map((row) => workerView(ctx, row));
}

function workerView(ctx: EngineContext, row: WorkerViewRow): Worker {
  return toWorker(row, isOnline(row, ctx.clock.now(), ctx.config.heartbeatTtlMs));
}

/**
 * A heartbeat that would change nothing worth a write: the same status and note as one recorded
 * less than `heartbeatCoalesceMs` ago. Answered from one read, outside any write, so a worker (or
 * a crowd of them) heartbeating faster than that costs no transaction; leases and liveness lag by
 * at most that window. Returns undefined when the heartbeat must be written.
 */
export function coalescedHeartbeat(
  ctx: EngineContext,
  workerId: string,
  req: z.output<typeof HeartbeatRequest>,
): HeartbeatResponse | undefined {
  const window = ctx.config.heartbeatCoalesceMs;
  if (window <= 0) return undefined;
  const now = ctx.clock.now();
  const last = ctx.driver.get<
    Pick<WorkerRow, 'last_heartbeat_at' | 'reported_status' | 'note' | 'announced_online'>
  >(
    'SELECT last_heartbeat_at, reported_status, note, announced_online FROM workers WHERE id = $id',
    {
      id: workerId,
    },
  );
  if (
    !last ||
    last.announced_online !== 1 ||
    last.last_heartbeat_at === null ||
    now < last.last_heartbeat_at ||
    now - last.last_heartbeat_at >= window ||
    last.reported_status !== req.status ||
    last.note !== (req.note ?? null)
  ) {
    return undefined;
  }
  return { ok: true as const, server_time: toIso(now), leases_renewed: 0 };
}

/**
 * A heartbeat extends every live lease the worker holds (SQL built once: it runs most often).
 * Named index: left to itself SQLite reads `tasks_by_assignee`, every task the worker ever held,
 * so a heartbeat grew with the worker's history (60 µs after ~100 merged tasks).
 */
const RENEW_LEASES_HELD = `UPDATE tasks INDEXED BY tasks_held_by SET lease_expires_at = $now + lease_ttl_ms
  WHERE assignee = $id AND ${statusIsOneOf(HOLDING_STATUSES)} AND lease_expires_at > $now
  RETURNING id, repo, lease_id, lease_granted_at, lease_ttl_ms, lease_expires_at`;

interface RenewedLease {
  id: string;
  repo: string;
  lease_id: string;
  lease_granted_at: number;
  lease_ttl_ms: number;
  lease_expires_at: number;
}

/**
 * Whether a heartbeat's renewal of a lease is worth an event. Renewing by heartbeat is silent, or
 * every heartbeat would be an event; but then a board, a note's `lease_expires` or a client's own
 * list show the expiry they last heard of, and a healthy lease reads as expired one TTL after its
 * grant. So a renewal is announced (`lease.renewed`) each time the lease has lived another half
 * TTL since its grant: what was last announced is then always at least half a TTL ahead of the
 * worker's last heartbeat. Stateless: the previous heartbeat's time tells whether this one crossed.
 */
function crossesHalfTtl(lease: RenewedLease, previousBeat: number | null, now: number): boolean {
  const half = Math.max(1, Math.floor(lease.lease_ttl_ms / 2));
  const since = (at: number) => Math.floor((at - lease.lease_granted_at) / half);
  // The grant announced its own expiry: a first beat after it counts from the grant.
  const before = Math.max(previousBeat ?? lease.lease_granted_at, lease.lease_granted_at);
  return since(now) > since(before);
}

/**
 * A heartbeat: marks the worker online, records its status, and renews every lease it holds
 * that has not already expired (a lapsed lease stays lapsed: the sweep owns it).
 */
export function heartbeat(
  ctx: EngineContext,
  workerId: string,
  req: z.output<typeof HeartbeatRequest>,
): HeartbeatResponse {
  const now = ctx.clock.now();
  // Only what a heartbeat needs: it is the most frequent call of all.
  const worker = ctx.driver.get<
    Pick<WorkerRow, 'last_heartbeat_at' | 'reported_status' | 'announced_online'>
  >('SELECT last_heartbeat_at, reported_status, announced_online FROM workers WHERE id = $id', {
    id: workerId,
  });
  if (!worker) requireWorker(ctx.driver, workerId);
  const wasOnline = isOnline(worker!, now, ctx.config.heartbeatTtlMs);
  ctx.driver.run(
    `UPDATE workers SET last_heartbeat_at = $now, reported_status = $status, note = $note
      WHERE id = $id`,
    { id: workerId, now, status: req.status, note: req.note ?? null },
  );
  // A separate statement, only on the way online: setting the flag on every heartbeat would
  // rewrite its index entry every time.
  if (worker!.announced_online === 0) {
    ctx.driver.run('UPDATE workers SET announced_online = 1 WHERE id = $id', { id: workerId });
  }
  const renewed = ctx.driver.all<RenewedLease>(RENEW_LEASES_HELD, { id: workerId, now });
  for (const lease of renewed) {
    if (!crossesHalfTtl(lease, worker!.last_heartbeat_at, now)) continue;
    ctx.record(
      'lease.renewed',
      { repo: lease.repo, task_id: lease.id, worker_id: workerId },
      { lease_id: lease.lease_id, expires_at: toIso(lease.lease_expires_at) },
    );
  }
  if (!wasOnline || worker!.announced_online === 0) {
    ctx.record('worker.online', { worker_id: workerId }, { status: req.status });
  } else if (worker!.reported_status !== req.status) {
    ctx.record(
      'worker.status_changed',
      { worker_id: workerId },
      { from: worker!.reported_status, to: req.status },
    );
  }
  return { ok: true as const, server_time: toIso(now), leases_renewed: renewed.length };
}

/** The worker's live leases (leased, in progress, blocked), oldest grant first, with contracts. */
export function workLeases(ctx: EngineContext, workerId: string): WorkLease[] {
  return ctx.driver
    .all<TaskRow & { contract: string | null }>(
      `SELECT ${TASK_COLUMNS}, r.contract AS contract FROM ${TASK_FROM}
         JOIN repos r ON r.key = t.repo
        WHERE t.assignee = $id AND ${statusIsOneOf(HOLDING_STATUSES, 't.status')}
        ORDER BY t.lease_granted_at, t.id`,
      { id: workerId },
    )
    .map((row) => toWorkLease(row, contractOf(row)));
}

/** Admin: sets a worker's trust tier; the reason is kept in the event log (the audit trail). */
export function setTrustTier(
  ctx: EngineContext,
  id: string,
  req: z.output<typeof TrustTierRequest>,
): string {
  const worker = requireWorker(ctx.driver, id);
  if (worker.trust_tier === req.tier) return id;
  ctx.driver.run(`UPDATE workers SET trust_tier = $tier, trust_rank = $rank WHERE id = $id`, {
    id,
    tier: req.tier,
    rank: trustRank(req.tier),
  });
  ctx.record(
    'worker.trust_changed',
    { worker_id: id },
    { from: worker.trust_tier, to: req.tier, reason: req.reason },
  );
  return id;
}

/** The worker's reputation and the outcomes it is computed from. */
export function reputationOfWorker(ctx: EngineContext, id: string): WorkerReputation {
  const w = requireWorker(ctx.driver, id);
  return {
    worker_id: w.id,
    trust_tier: w.trust_tier,
    reputation: w.reputation,
    ...outcomeRates(w),
    tasks_completed: w.tasks_completed,
    leases_expired: w.leases_expired,
    leases_released: w.leases_released,
    tasks_requeued: w.tasks_requeued,
    prs_opened: w.prs_opened,
    prs_on_time: w.prs_on_time,
    offers_accepted: w.offers_accepted,
    offers_rejected: w.offers_rejected,
    offers_expired: w.offers_expired,
    formula: REPUTATION_FORMULA,
  };
}

/** Pauses or resumes a worker for new leases; records the change only when there is one. */
export function setAdminPause(ctx: EngineContext, id: string, paused: boolean): string {
  const worker = requireWorker(ctx.driver, id);
  if ((worker.paused_by_admin === 1) !== paused) {
    ctx.driver.run('UPDATE workers SET paused_by_admin = $p WHERE id = $id', {
      id,
      p: Number(paused),
    });
    ctx.record(paused ? 'worker.paused' : 'worker.resumed', { worker_id: id }, {});
  }
  return id;
}

export function toWorkLease(row: TaskRow, contract: WorkLease['contract']): WorkLease {
  const task = toTask(row);
  return {
    task_id: task.task_id,
    repo: task.repo,
    title: task.title,
    description: task.description,
    estimate_points: task.estimate_points,
    priority: task.priority,
    area: task.area,
    tier: task.tier,
    required_skills: task.required_skills,
    lease_expires_at: task.lease!.expires_at,
    lease_id: task.lease!.lease_id,
    epoch: task.lease!.epoch,
    status: task.status,
    lease_granted_at: task.lease!.granted_at,
    contract,
  };
}
