import { z } from 'zod';
import { LeaseId, RepoKey, TaskId, TaskStatus, Timestamp, WorkerId } from './common.ts';

/** One lease in `GET /v1/work`: the v0.1 fields first, then the v1 additions. */
export const WorkLease = z
  .object({
    task_id: TaskId,
    repo: RepoKey,
    title: z.string(),
    description: z.string(),
    estimate_points: z.int(),
    priority: z.int(),
    area: z.string().nullable(),
    tier: z.int(),
    required_skills: z.array(z.string()),
    lease_expires_at: Timestamp.nullable(),
    lease_id: LeaseId,
    epoch: z.int(),
    status: TaskStatus,
    lease_granted_at: Timestamp,
  })
  .meta({ id: 'WorkLease' });
export type WorkLease = z.infer<typeof WorkLease>;

export const WorkResponse = z
  .object({ worker_id: WorkerId, leases: z.array(WorkLease) })
  .meta({ id: 'WorkResponse' });
export type WorkResponse = z.infer<typeof WorkResponse>;

export const LeaseRenewResponse = z
  .object({ ok: z.literal(true), lease_id: LeaseId, epoch: z.int(), expires_at: Timestamp })
  .meta({ id: 'LeaseRenewResponse' });
export type LeaseRenewResponse = z.infer<typeof LeaseRenewResponse>;

export const LeaseReleaseRequest = z
  .object({ reason: z.string().max(1000).nullish() })
  .meta({ id: 'LeaseReleaseRequest' });
export type LeaseReleaseRequest = z.input<typeof LeaseReleaseRequest>;

export const LeaseReleaseResponse = z
  .object({ ok: z.literal(true), task_id: TaskId })
  .meta({ id: 'LeaseReleaseResponse' });

/** `GET /v1/admin/state` — the v0.1 counts, plus v1 extras. */
export const PoolState = z
  .object({
    workers_online: z.int(),
    tasks_ready: z.int(),
    tasks_leased: z.int(),
    tasks_in_progress: z.int(),
    tasks_pr_opened: z.int(),
    tasks_blocked: z.int(),
    tasks_merged: z.int(),
    tasks_cancelled: z.int(),
    workers_total: z.int(),
    last_event_seq: z.int(),
  })
  .meta({ id: 'PoolState' });
export type PoolState = z.infer<typeof PoolState>;

/** The header that makes a mutating worker call safe to retry. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IdempotencyKey = z.string().min(1).max(200);
