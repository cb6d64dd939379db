import { z } from 'zod';
import { Skills, Timestamp, TrustTier, WorkerId, WorkerReportedStatus, oneLine } from './common.ts';

/** The most a worker may declare: estimate points held at once, and tasks held at once. */
export const WORKER_LIMITS = { capacityPoints: 100, maxTasks: 20 } as const;

/** `POST /v1/workers/register` (no auth). */
export const RegisterWorkerRequest = z
  .object({
    name: oneLine(120),
    // v0.1 says only "may be null or absent"; a form's empty field means the same.
    github_handle: z.preprocess(
      (value) => (typeof value === 'string' && value.trim() === '' ? null : value),
      oneLine(39).nullish(),
    ),
    skills: Skills.default([]),
    capacity_points: z.int().min(1).max(WORKER_LIMITS.capacityPoints).default(5),
    max_concurrent_tasks: z.int().min(1).max(WORKER_LIMITS.maxTasks).default(2),
  })
  .meta({ id: 'RegisterWorkerRequest' });
export type RegisterWorkerRequest = z.input<typeof RegisterWorkerRequest>;

export const RegisterWorkerResponse = z
  .object({
    worker_id: WorkerId,
    /** Shown once; the server keeps only its hash. */
    token: z.string(),
  })
  .meta({ id: 'RegisterWorkerResponse' });
export type RegisterWorkerResponse = z.infer<typeof RegisterWorkerResponse>;

export const WorkerTokenResponse = z
  .object({
    worker_id: WorkerId,
    /** Shown once; the server keeps only its hash. The worker's token before it is refused. */
    token: z.string(),
  })
  .meta({ id: 'WorkerTokenResponse' });
export type WorkerTokenResponse = z.infer<typeof WorkerTokenResponse>;

export const HeartbeatRequest = z
  .object({
    status: WorkerReportedStatus.default('idle'),
    note: z.string().max(1000).nullish(),
  })
  .meta({ id: 'HeartbeatRequest' });
export type HeartbeatRequest = z.input<typeof HeartbeatRequest>;

export const HeartbeatResponse = z
  .object({
    ok: z.literal(true),
    server_time: Timestamp,
    /** v1: how many of the worker's leases this heartbeat extended. */
    leases_renewed: z.int(),
  })
  .meta({ id: 'HeartbeatResponse' });
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

/** v1: `POST /v1/workers/{worker_id}/trust-tier` (admin); the reason goes to the audit log. */
export const TrustTierRequest = z
  .object({ tier: TrustTier, reason: z.string().trim().min(1).max(1000) })
  .meta({ id: 'TrustTierRequest' });
export type TrustTierRequest = z.input<typeof TrustTierRequest>;

/** v1: `GET /v1/workers/{worker_id}/reputation`: the score and the outcomes it comes from. */
export const WorkerReputation = z
  .object({
    worker_id: WorkerId,
    trust_tier: TrustTier,
    reputation: z.number(),
    /** The three rates the score combines, each smoothed to 0.5 with no history. */
    completion_rate: z.number(),
    on_time_rate: z.number(),
    offer_acceptance_rate: z.number(),
    tasks_completed: z.int(),
    leases_expired: z.int(),
    leases_released: z.int(),
    tasks_requeued: z.int(),
    prs_opened: z.int(),
    prs_on_time: z.int(),
    offers_accepted: z.int(),
    offers_rejected: z.int(),
    offers_expired: z.int(),
    formula: z.string(),
  })
  .meta({ id: 'WorkerReputation' });
export type WorkerReputation = z.infer<typeof WorkerReputation>;

export const Worker = z
  .object({
    worker_id: WorkerId,
    name: z.string(),
    github_handle: z.string().nullable(),
    skills: z.array(z.string()),
    capacity_points: z.int(),
    max_concurrent_tasks: z.int(),
    /** What the worker last reported; `paused` also when an admin paused it. */
    status: WorkerReportedStatus,
    paused_by_admin: z.boolean(),
    online: z.boolean(),
    last_heartbeat_at: Timestamp.nullable(),
    note: z.string().nullable(),
    trust_tier: TrustTier,
    points_in_use: z.int(),
    active_tasks: z.int(),
    reputation: z.number(),
    tasks_completed: z.int(),
    leases_expired: z.int(),
    leases_released: z.int(),
    registered_at: Timestamp,
  })
  .meta({ id: 'Worker' });
export type Worker = z.infer<typeof Worker>;
