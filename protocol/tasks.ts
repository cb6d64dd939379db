import { z } from 'zod';
import {
  Area,
  Artifact,
  RepoKey,
  RiskTier,
  Skills,
  TaskId,
  TaskStatus,
  Timestamp,
  TtlSeconds,
  WorkerId,
  oneLine,
  queryInt,
} from './common.ts';

const Title = oneLine(300);
const Description = z.string().max(100_000);
const EstimatePoints = z.int().min(1).max(100);
const Priority = z.int().min(0).max(1000);
/** v1: tasks that must be merged before this one may be taken. */
const DependsOn = z
  .array(TaskId)
  .max(50)
  .refine((ids) => new Set(ids).size === ids.length, 'each task may be named once');
/** v1: counted attempts (expiries and releases) before the task goes to `failed`. */
export const MaxAttempts = z.int().min(1).max(100);

/** `POST /v1/admin/tasks`, with the v0.1 defaults. */
export const TaskCreateRequest = z
  .object({
    repo: RepoKey,
    title: Title,
    description: Description.default(''),
    estimate_points: EstimatePoints.default(1),
    priority: Priority.default(10),
    required_skills: Skills.default([]),
    area: Area.nullable().default(null),
    tier: RiskTier.default(0),
    lease_ttl_seconds: TtlSeconds.nullable().optional(),
    depends_on: DependsOn.default([]),
    /** Overrides the repo's `max_attempts`; null or absent: the repo's. */
    max_attempts: MaxAttempts.nullable().optional(),
  })
  .meta({ id: 'TaskCreateRequest' });
export type TaskCreateRequest = z.input<typeof TaskCreateRequest>;
export type TaskCreate = z.output<typeof TaskCreateRequest>;

export const TaskCreateResponse = z
  .object({ ok: z.literal(true), task_id: TaskId, task: z.lazy(() => Task) })
  .meta({ id: 'TaskCreateResponse' });

/** One item of a YAML import file: a task without its repo, which the importer supplies. */
export const TaskImportItem = TaskCreateRequest.omit({ repo: true }).meta({ id: 'TaskImportItem' });
export const TaskImportFile = z.array(TaskImportItem);

/** Admin edit of a task's own fields. `expected_version` makes it a compare-and-set. */
export const TaskUpdateRequest = z
  .object(
    {
      title: Title.optional(),
      description: Description.optional(),
      estimate_points: EstimatePoints.optional(),
      priority: Priority.optional(),
      required_skills: Skills.optional(),
      area: Area.nullable().optional(),
      tier: RiskTier.optional(),
      lease_ttl_seconds: TtlSeconds.nullable().optional(),
      /** Replaces the task's dependencies; refused if it would make a cycle. */
      depends_on: DependsOn.optional(),
      max_attempts: MaxAttempts.nullable().optional(),
      expected_version: z.int().min(1).optional(),
    },
    {
      error: (issue) => {
        if (issue.code !== 'unrecognized_keys') return undefined;
        const hint = issue.keys.some((key) => key === 'status' || key === 'repo')
          ? " (a task's status changes by cancel, requeue and merge; its repo never does)"
          : '';
        return `not a field of a task edit: ${issue.keys.join(', ')}${hint}`;
      },
    },
  )
  // A field it does not know (a typo, or status and repo, which change by other routes) is refused
  // by name: dropped, it answered 200 and left the task as it was.
  .strict()
  .meta({ id: 'TaskUpdateRequest' });
export type TaskUpdateRequest = z.infer<typeof TaskUpdateRequest>;

export const LeaseInfo = z
  .object({
    lease_id: z.string(),
    epoch: z.int(),
    worker_id: WorkerId,
    granted_at: Timestamp,
    /** Null once the PR is open: review time does not count against the lease. */
    expires_at: Timestamp.nullable(),
  })
  .meta({ id: 'LeaseInfo' });
export type LeaseInfo = z.infer<typeof LeaseInfo>;

export const Task = z
  .object({
    task_id: TaskId,
    repo: RepoKey,
    title: z.string(),
    description: z.string(),
    estimate_points: z.int(),
    priority: z.int(),
    required_skills: z.array(z.string()),
    area: z.string().nullable(),
    tier: z.int(),
    status: TaskStatus,
    assignee: WorkerId.nullable(),
    lease: LeaseInfo.nullable(),
    lease_ttl_seconds: z.int().nullable(),
    artifact: Artifact.nullable(),
    attempts: z.int(),
    /** The task's own attempt limit, or null when the repo's applies. */
    max_attempts: z.int().nullable(),
    depends_on: z.array(TaskId),
    /** How many of `depends_on` are not merged yet; the task waits while this is above 0. */
    dependencies_pending: z.int(),
    version: z.int(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'Task' });
export type Task = z.infer<typeof Task>;

export const TaskListQuery = z
  .object({
    repo: RepoKey.optional(),
    status: TaskStatus.optional(),
    assignee: WorkerId.optional(),
    area: Area.optional(),
    skill: z.string().trim().min(1).max(64).optional(),
    depends_on: TaskId.optional().describe(
      'Only the tasks that depend on this one: what it blocks (v1 addition).',
    ),
    order: z
      .enum(['oldest', 'newest'])
      .default('oldest')
      .describe('By creation: oldest first (the default) or newest first (v1 addition).'),
    limit: queryInt(1, 500, 50),
    cursor: z.string().max(200).optional(),
  })
  .meta({ id: 'TaskListQuery' });
export type TaskListQuery = z.input<typeof TaskListQuery>;

export const TaskPage = z
  .object({ tasks: z.array(Task), next_cursor: z.string().nullable() })
  .meta({ id: 'TaskPage' });
export type TaskPage = z.infer<typeof TaskPage>;

/** Statuses a worker may report in `POST /v1/tasks/{task_id}/status` (v0.1). */
export const WorkerSettableStatus = z.enum(['in_progress', 'blocked', 'pr_opened', 'merged']);
export type WorkerSettableStatus = z.infer<typeof WorkerSettableStatus>;

export const StatusUpdateRequest = z
  .object({
    status: WorkerSettableStatus,
    message: z.string().max(4000).nullish(),
    artifact: Artifact.nullish(),
    /** v1: the lease this write is made under; a stale one is refused with 409. */
    lease_id: z.string().min(1).max(100).optional(),
    /** v1: the fencing epoch of that lease. */
    epoch: z.int().min(1).optional(),
  })
  .meta({ id: 'StatusUpdateRequest' });
export type StatusUpdateRequest = z.input<typeof StatusUpdateRequest>;

export const StatusUpdateResponse = z
  .object({ ok: z.literal(true), task: Task })
  .meta({ id: 'StatusUpdateResponse' });

/**
 * Why a task may or may not be taken now: a rule of the engine's eligibility check
 * (`scheduler/eligibility.ts`), by name.
 */
export const WAIT_REASONS = [
  'task_not_ready',
  'waiting_on_dependencies',
  'repo_missing',
  'review_budget_full',
  'area_locked',
  'worker_offline',
  'worker_paused',
  'tier_not_trusted',
  'missing_skill',
  'not_enough_points',
  'no_free_slot',
  'recently_released',
  'recently_declined',
] as const;
export const WaitReason = z.enum(WAIT_REASONS);
export type WaitReason = z.infer<typeof WaitReason>;

const WorkerRef = z.object({ worker_id: WorkerId, name: z.string() }).meta({ id: 'WorkerRef' });

/**
 * v1: the answer to "why is this task not assigned?" — what holds it back for every worker, or,
 * when nothing does, which online workers may take it and why each of the others may not.
 */
export const TaskExplanation = z
  .object({
    task_id: TaskId,
    status: TaskStatus,
    /** One sentence for people: who holds the task, or what it waits for. */
    summary: z.string(),
    /**
     * What holds the task back for every worker — its status, its dependencies, its repo's review
     * budget, its area — or null when the answer depends on the worker.
     */
    blocker: z.object({ reason: WaitReason, message: z.string() }).nullable(),
    /** The workers, when `blocker` is null: the task is ready and waits on them. */
    workers: z
      .object({
        online: z.int(),
        offline: z.int(),
        /** Online workers who may take it now (at most 10): the next assignment picks one. */
        eligible: z.array(WorkerRef),
        eligible_count: z.int(),
        /** The other online workers by the first rule that stops each, most common first. */
        ineligible: z.array(
          z.object({
            reason: WaitReason,
            count: z.int(),
            message: z.string(),
            /** Up to three of them. */
            examples: z.array(WorkerRef),
          }),
        ),
      })
      .nullable(),
  })
  .meta({ id: 'TaskExplanation' });
export type TaskExplanation = z.infer<typeof TaskExplanation>;

/**
 * v1: the answer to "why do I get no work?", for the worker asking. Counts only: a worker reads
 * no task it does not hold, so the queue is described, never listed.
 */
export const WorkExplanation = z
  .object({
    worker_id: WorkerId,
    /** One sentence: what keeps the worker from work, or that a task is there to take. */
    summary: z.string(),
    /** What keeps this worker from any task whatever the queue holds (paused, offline, full). */
    blocker: z.object({ reason: WaitReason, message: z.string() }).nullable(),
    queue: z.object({
      /** Ready tasks whose dependencies are all merged. */
      ready: z.int(),
      /** Of them: needing a skill the worker lacks. */
      missing_skill: z.int(),
      /** Of them: with the worker's skills, in a repo whose review budget is full. */
      review_budget_full: z.int(),
      /** Of them: with the worker's skills, in a repo with room — the tasks it may be given. */
      within_reach: z.int(),
      /** Ready tasks still waiting on a dependency. */
      waiting_on_dependencies: z.int(),
    }),
    /**
     * The first tasks within reach, in queue order (at most 50), by the rule that stops this worker
     * from each; empty when one of them may be taken now.
     */
    held_back: z.array(z.object({ reason: WaitReason, count: z.int(), message: z.string() })),
  })
  .meta({ id: 'WorkExplanation' });
export type WorkExplanation = z.infer<typeof WorkExplanation>;
