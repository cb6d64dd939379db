import { z } from 'zod';
import {
  RepoKey,
  TaskId,
  TaskStatus,
  Timestamp,
  TrustTier,
  WorkerId,
  WorkerReportedStatus,
} from './common.ts';

/** Why a task changed status: one cause per edge of the lifecycle graph. */
export const TRANSITION_CAUSES = [
  'grant',
  'start',
  'block',
  'open_pr',
  'merge',
  'expire',
  'release',
  'requeue',
  'cancel',
  /** v1 offers: reserved for a worker; accepted (a lease), declined, or left to expire. */
  'offer',
  'accept',
  'decline',
  'offer_expire',
] as const;
export const TransitionCause = z.enum(TRANSITION_CAUSES);
export type TransitionCause = z.infer<typeof TransitionCause>;

/** Who an event's write was made by: the admin, the engine itself, or a worker acting for itself. */
export const EVENT_ACTOR_KINDS = ['admin', 'system'] as const;
export const EventActor = z
  .string()
  .min(1)
  .max(100)
  .describe(
    'Who caused the event: `admin`, `system` (the expiry sweep, automatic grants, timers) or the ' +
      'id of the worker whose own write it was (`w_…`). Null on events recorded before actors were kept.',
  );
export type EventActor = z.infer<typeof EventActor>;

const base = {
  seq: z.int().min(1),
  at: Timestamp,
  repo: RepoKey.nullable(),
  task_id: TaskId.nullable(),
  worker_id: WorkerId.nullable(),
  /** v1, additive: older servers send no actor, so readers must accept its absence. */
  actor: EventActor.nullable().optional(),
};

const event = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ ...base, type: z.literal(type), data });

export const OwpEvent = z
  .discriminatedUnion('type', [
    event('repo.upserted', z.object({ max_open_prs: z.int(), area_locks_enabled: z.boolean() })),
    event(
      'repo.deleted',
      z.object({
        /**
         * The repo's tasks deleted with it, by status (all finished): counts by status drop by
         * these. v1, additive: absent on events recorded before it was kept.
         */
        tasks_deleted: z.partialRecord(TaskStatus, z.int().min(0)).optional(),
      }),
    ),
    event('task.created', z.object({ title: z.string(), priority: z.int() })),
    event('task.updated', z.object({ fields: z.array(z.string()), version: z.int() })),
    event(
      'task.status_changed',
      z.object({
        from: TaskStatus,
        to: TaskStatus,
        cause: TransitionCause,
        lease_id: z.string().nullable(),
        epoch: z.int(),
        message: z.string().nullable(),
        pr_url: z.string().nullable(),
        version: z.int(),
      }),
    ),
    event('lease.renewed', z.object({ lease_id: z.string(), expires_at: Timestamp })),
    event('worker.registered', z.object({ name: z.string(), skills: z.array(z.string()) })),
    event('worker.online', z.object({ status: WorkerReportedStatus })),
    event('worker.offline', z.object({})),
    event(
      'worker.status_changed',
      z.object({ from: WorkerReportedStatus, to: WorkerReportedStatus }),
    ),
    event('worker.paused', z.object({})),
    event('worker.resumed', z.object({})),
    event('worker.token_replaced', z.object({})),
    event('worker.trust_changed', z.object({ from: TrustTier, to: TrustTier, reason: z.string() })),
    event('offer.made', z.object({ offer_id: z.string(), expires_at: Timestamp })),
    event('offer.accepted', z.object({ offer_id: z.string(), lease_id: z.string() })),
    event(
      'offer.rejected',
      z.object({ offer_id: z.string(), reason: z.string(), message: z.string().nullable() }),
    ),
    event('offer.expired', z.object({ offer_id: z.string() })),
    event('offer.withdrawn', z.object({ offer_id: z.string() })),
  ])
  .meta({ id: 'OwpEvent' });
export type OwpEvent = z.infer<typeof OwpEvent>;
export type OwpEventType = OwpEvent['type'];
export type OwpEventData<T extends OwpEventType> = Extract<OwpEvent, { type: T }>['data'];
