import { z } from 'zod';
import { LeaseId, RepoKey, TaskId, TaskStatus, Timestamp, WorkerId } from './common.ts';
import { RepoContract } from './repos.ts';

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
    /** The repo's contract: setup, test and lint commands, branch naming, PR template. */
    contract: RepoContract.nullable(),
  })
  .meta({ id: 'WorkLease' });

export const OfferId = z.string().regex(/^o_[A-Za-z0-9_-]{1,64}$/, 'an offer id (o_…)');

/** v1: one offer in `GET /v1/work/offers`: a task reserved for the worker until `expires_at`. */
export const WorkOffer = z
  .object({
    offer_id: OfferId,
    task_id: TaskId,
    repo: RepoKey,
    title: z.string(),
    description: z.string(),
    estimate_points: z.int(),
    priority: z.int(),
    area: z.string().nullable(),
    tier: z.int(),
    required_skills: z.array(z.string()),
    offered_at: Timestamp,
    expires_at: Timestamp,
    contract: RepoContract.nullable(),
  })
  .meta({ id: 'WorkOffer' });
export type WorkOffer = z.infer<typeof WorkOffer>;

export const OffersResponse = z
  .object({ worker_id: WorkerId, offers: z.array(WorkOffer) })
  .meta({ id: 'OffersResponse' });
export type OffersResponse = z.infer<typeof OffersResponse>;

export const OFFER_REJECT_REASONS = [
  'insufficient_time',
  'unclear_requirements',
  'skill_mismatch',
  'other',
] as const;
export const OfferRejectRequest = z
  .object({
    reason: z.enum(OFFER_REJECT_REASONS),
    message: z.string().max(1000).nullish(),
  })
  .meta({ id: 'OfferRejectRequest' });
export type OfferRejectRequest = z.input<typeof OfferRejectRequest>;

export const OfferRejectResponse = z
  .object({ ok: z.literal(true), task_id: TaskId })
  .meta({ id: 'OfferRejectResponse' });
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
  .object({
    ok: z.literal(true),
    task_id: TaskId,
    /** Where the task went: back to the queue, or `failed` when this release used its last attempt. */
    status: z.enum(['ready', 'failed']),
  })
  .meta({ id: 'LeaseReleaseResponse' });
export type LeaseReleaseResponse = z.infer<typeof LeaseReleaseResponse>;

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
    tasks_offered: z.int(),
    tasks_failed: z.int(),
    workers_total: z.int(),
    last_event_seq: z.int(),
  })
  .meta({ id: 'PoolState' });
export type PoolState = z.infer<typeof PoolState>;

/** The header that makes a mutating worker call, or a task creation, safe to retry. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IdempotencyKey = z.string().min(1).max(200);
/** Set to `true` on an answer that replays the first one given for its `Idempotency-Key`. */
export const REPLAYED_HEADER = 'idempotent-replayed';
