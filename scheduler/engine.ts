import { z } from 'zod';
import {
  HeartbeatRequest,
  LeaseReleaseRequest,
  OwpError,
  RegisterWorkerRequest,
  RepoUpsertRequest,
  StatusUpdateRequest,
  TaskCreateRequest,
  TaskListQuery,
  TaskUpdateRequest,
  type HeartbeatResponse,
  type LeaseRenewResponse,
  type OwpEvent,
  type OwpEventData,
  type OwpEventType,
  type PoolState,
  type RegisterWorkerResponse,
  type Repo,
  type Task,
  type TaskPage,
  type TaskStatus,
  type Worker,
  type WorkLease,
  type WorkResponse,
} from '../protocol/index.ts';
import {
  assignAll,
  assignRepoQueue,
  assignTask,
  checkEligibility,
  fillWorker,
} from './assignment.ts';
import { type Clock, toIso } from './clock.ts';
import { DEFAULT_CONFIG, type EngineConfig, type EngineContext } from './context.ts';
import { MAX_TASK_TIER, type IneligibleReason, normalizeSkills } from './eligibility.ts';
import { EventLog, type EventQuery, type EventRefs } from './event-log.ts';
import { type IdSource, hashToken, randomIds } from './ids.ts';
import { countsAgainstBudget, edgeFor, isHolding } from './lifecycle.ts';
import { expireLease, findExpiredLeases, markSilentWorkersOffline } from './lease-sweep.ts';
import { migrate } from './migrate.ts';
import { type RepoRow, type TaskRow, type WorkerRow, TASK_COLUMNS, TASK_FROM } from './rows.ts';
import { toRepo, toTask, toWorker } from './rows.ts';
import { skillSetId } from './skill-sets.ts';
import type { SqlDriver, SqlParams } from './storage-port.ts';
import {
  budgetUsed,
  findRepo,
  findTask,
  findWorker,
  heldAreas,
  isOnline,
  openPrs,
  requireTask,
  requireWorker,
} from './task-store.ts';
import { applyTransition } from './transitions.ts';
import { updateWorkerLoad } from './worker-load.ts';

export interface SchedulerOptions {
  driver: SqlDriver;
  clock: Clock;
  ids?: IdSource;
  config?: Partial<EngineConfig>;
}

export type EventListener = (event: OwpEvent) => void;

/** The outcome of one expiry sweep. */
export interface SweepResult {
  expired: number;
  workers_offline: number;
}

/** What may have changed in an operation, so assignment runs once, at its end, and only there. */
interface Touched {
  tasks: Set<string>;
  repos: Set<string>;
  workers: Set<string>;
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new OwpError('validation_failed', z.prettifyError(result.error), {
    issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

/**
 * The OWP scheduling engine: synchronous, over any `SqlDriver`, with time from the injected clock.
 * Every write runs in one transaction, appends its events, and ends by assigning whatever the write
 * made assignable. Listeners hear the events after the transaction commits.
 */
export class Scheduler {
  private readonly ctx: EngineContext;
  private readonly listeners = new Set<EventListener>();
  private pending: OwpEvent[] = [];
  private readonly deliveryQueue: OwpEvent[] = [];
  private delivering = false;
  private touched: Touched | null = null;

  constructor(options: SchedulerOptions) {
    const { driver, clock } = options;
    const config = { ...DEFAULT_CONFIG, ...options.config };
    const log = new EventLog(driver);
    this.ctx = {
      driver,
      clock,
      ids: options.ids ?? randomIds,
      config,
      log,
      record: <T extends OwpEventType>(type: T, refs: EventRefs, data: OwpEventData<T>) => {
        this.pending.push(log.append(clock.now(), type, refs, data));
        this.touchFor(type, refs, data);
      },
    };
    migrate(driver, clock);
  }

  get config(): Readonly<EngineConfig> {
    return this.ctx.config;
  }

  /** Subscribes to events as they commit; returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ── repos ────────────────────────────────────────────────────────────────────────────────────

  /** Creates a repo or updates the fields given; new repos default to 3 open PRs and area locks. */
  upsertRepo(input: z.input<typeof RepoUpsertRequest>): Repo {
    const req = parse(RepoUpsertRequest, input);
    return this.write(() => {
      const now = this.ctx.clock.now();
      const existing = findRepo(this.ctx.driver, req.repo);
      const row = {
        key: req.repo,
        max_open_prs: req.max_open_prs ?? existing?.max_open_prs ?? 3,
        area_locks_enabled: Number(
          req.area_locks_enabled ?? (existing ? existing.area_locks_enabled === 1 : true),
        ),
        lease_ttl_ms:
          req.lease_ttl_seconds === undefined
            ? (existing?.lease_ttl_ms ?? null)
            : req.lease_ttl_seconds === null
              ? null
              : req.lease_ttl_seconds * 1000,
        now,
      };
      this.ctx.driver.run(
        `INSERT INTO repos (key, max_open_prs, area_locks_enabled, lease_ttl_ms, created_at, updated_at)
         VALUES ($key, $max_open_prs, $area_locks_enabled, $lease_ttl_ms, $now, $now)
         ON CONFLICT (key) DO UPDATE SET max_open_prs = excluded.max_open_prs,
           area_locks_enabled = excluded.area_locks_enabled, lease_ttl_ms = excluded.lease_ttl_ms,
           updated_at = excluded.updated_at`,
        row,
      );
      this.ctx.record(
        'repo.upserted',
        { repo: req.repo },
        { max_open_prs: row.max_open_prs, area_locks_enabled: row.area_locks_enabled === 1 },
      );
      return this.getRepo(req.repo);
    });
  }

  getRepo(key: string): Repo {
    const row = findRepo(this.ctx.driver, key);
    if (!row) throw new OwpError('repo_not_found', `No repo ${key}.`, { repo: key });
    return this.repoView(row);
  }

  listRepos(): Repo[] {
    return this.ctx.driver
      .all<RepoRow>('SELECT * FROM repos ORDER BY key')
      .map((row) => this.repoView(row));
  }

  /** Deletes a repo whose tasks are all finished (merged or cancelled), and those tasks' rows. */
  deleteRepo(key: string): void {
    this.write(() => {
      this.getRepo(key);
      const open = this.ctx.driver.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM tasks WHERE repo = $key AND status NOT IN ('merged', 'cancelled')`,
        { key },
      )!.n;
      if (open > 0) {
        throw new OwpError(
          'repo_in_use',
          `Repo ${key} has ${open} open task(s); cancel or finish them first.`,
          { repo: key, open_tasks: open },
        );
      }
      this.ctx.driver.run(
        'DELETE FROM leases WHERE task_id IN (SELECT id FROM tasks WHERE repo = $key)',
        { key },
      );
      this.ctx.driver.run('DELETE FROM tasks WHERE repo = $key', { key });
      this.ctx.driver.run('DELETE FROM repos WHERE key = $key', { key });
      this.ctx.record('repo.deleted', { repo: key }, {});
    });
  }

  private repoView(row: RepoRow): Repo {
    return toRepo(row, {
      budget_used: budgetUsed(this.ctx.driver, row.key),
      open_prs: openPrs(this.ctx.driver, row.key),
      locked_areas: row.area_locks_enabled ? heldAreas(this.ctx.driver, row.key) : [],
    });
  }

  // ── tasks ────────────────────────────────────────────────────────────────────────────────────

  createTask(input: z.input<typeof TaskCreateRequest>): Task {
    const req = parse(TaskCreateRequest, input);
    return this.write(
      () => {
        if (!findRepo(this.ctx.driver, req.repo)) {
          throw new OwpError(
            'unknown_repo',
            `Repo ${req.repo} does not exist; create it with POST /v1/admin/repos first.`,
            { repo: req.repo },
          );
        }
        const now = this.ctx.clock.now();
        const id = this.ctx.ids.taskId();
        this.ctx.driver.run(
          `INSERT INTO tasks (id, repo, title, description, estimate_points, priority, skill_set_id,
                            area, tier, status, ttl_override_ms, created_at, updated_at)
         VALUES ($id, $repo, $title, $description, $estimate_points, $priority, $skill_set_id,
                 $area, $tier, 'ready', $ttl, $now, $now)`,
          {
            id,
            repo: req.repo,
            title: req.title,
            description: req.description,
            estimate_points: req.estimate_points,
            priority: req.priority,
            skill_set_id: skillSetId(this.ctx.driver, normalizeSkills(req.required_skills)),
            area: req.area,
            tier: req.tier,
            ttl: req.lease_ttl_seconds ? req.lease_ttl_seconds * 1000 : null,
            now,
          },
        );
        this.ctx.record(
          'task.created',
          { repo: req.repo, task_id: id },
          { title: req.title, priority: req.priority },
        );
        return id;
      },
      (id) => this.getTask(id),
    );
  }

  getTask(id: string): Task {
    return toTask(requireTask(this.ctx.driver, id));
  }

  /** Tasks by creation order, filtered, a page at a time; `next_cursor` continues the listing. */
  listTasks(input: TaskListQuery = {}): TaskPage {
    const query = parse(TaskListQuery, input);
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const params: SqlParams = {
      repo: query.repo ?? null,
      status: query.status ?? null,
      assignee: query.assignee ?? null,
      area: query.area ?? null,
      skill: query.skill?.toLowerCase() ?? null,
      after_at: after?.created_at ?? -1,
      after_id: after?.id ?? '',
      limit: query.limit + 1,
    };
    const rows = this.ctx.driver.all<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM ${TASK_FROM}
        WHERE ($repo IS NULL OR t.repo = $repo)
          AND ($status IS NULL OR t.status = $status)
          AND ($assignee IS NULL OR t.assignee = $assignee)
          AND ($area IS NULL OR t.area = $area)
          AND ($skill IS NULL OR t.skill_set_id IN
                (SELECT set_id FROM skill_set_members WHERE skill = $skill))
          AND (t.created_at > $after_at OR (t.created_at = $after_at AND t.id > $after_id))
        ORDER BY t.created_at, t.id LIMIT $limit`,
      params,
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      tasks: page.map(toTask),
      next_cursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    };
  }

  /**
   * Admin edit. With `expected_version`, the edit applies only if the task is still at that
   * version (409 `stale_version` otherwise), so an edit made from a stale note loses nothing.
   */
  updateTask(id: string, input: z.input<typeof TaskUpdateRequest>): Task {
    const req = parse(TaskUpdateRequest, input);
    return this.write(
      () => {
        const task = requireTask(this.ctx.driver, id);
        if (req.expected_version !== undefined && req.expected_version !== task.version) {
          throw new OwpError(
            'stale_version',
            `Task ${id} is at version ${task.version}, not ${req.expected_version}; reload and retry.`,
            { task_id: id, version: task.version, expected_version: req.expected_version },
          );
        }
        const fields = Object.keys(req).filter((k) => k !== 'expected_version');
        if (fields.length === 0) return id;
        const next = {
          title: req.title ?? task.title,
          description: req.description ?? task.description,
          estimate_points: req.estimate_points ?? task.estimate_points,
          priority: req.priority ?? task.priority,
          skill_set_id:
            req.required_skills === undefined
              ? task.skill_set_id
              : skillSetId(this.ctx.driver, normalizeSkills(req.required_skills)),
          area: req.area === undefined ? task.area : req.area,
          tier: req.tier ?? task.tier,
          ttl_override_ms:
            req.lease_ttl_seconds === undefined
              ? task.ttl_override_ms
              : req.lease_ttl_seconds === null
                ? null
                : req.lease_ttl_seconds * 1000,
        };
        const changed = this.ctx.driver.get<{ version: number }>(
          `UPDATE tasks SET title = $title, description = $description,
                estimate_points = $estimate_points, priority = $priority,
                skill_set_id = $skill_set_id, area = $area, tier = $tier,
                ttl_override_ms = $ttl_override_ms, version = version + 1, updated_at = $now
          WHERE id = $id AND version = $version RETURNING version`,
          { ...next, id, version: task.version, now: this.ctx.clock.now() },
        );
        if (!changed) {
          throw new OwpError('stale_version', `Task ${id} changed during the edit; retry.`, {
            task_id: id,
          });
        }
        updateWorkerLoad(this.ctx.driver, task, { ...task, estimate_points: next.estimate_points });
        this.ctx.record(
          'task.updated',
          { repo: task.repo, task_id: id, worker_id: task.assignee },
          { fields, version: changed.version },
        );
        return id;
      },
      (taskId) => this.getTask(taskId),
    );
  }

  /** Admin: cancels a task that has not finished; its worker's lease ends. */
  cancelTask(id: string): Task {
    return this.adminTransition(id, 'cancel');
  }

  /** Admin: takes a task back from its worker (or a closed PR back to the queue). */
  requeueTask(id: string): Task {
    return this.adminTransition(id, 'requeue');
  }

  /** Admin: records that a task's PR was merged. */
  markMerged(id: string): Task {
    return this.adminTransition(id, 'merge');
  }

  private adminTransition(id: string, cause: 'cancel' | 'requeue' | 'merge'): Task {
    return this.write(
      () => {
        const task = requireTask(this.ctx.driver, id);
        const edge = edgeFor(task.status, 'admin', { cause });
        applyTransition(this.ctx, task, edge, {
          epoch: task.lease_epoch,
          message: `admin ${cause}`,
        });
        return id;
      },
      (taskId) => this.getTask(taskId),
    );
  }

  /** Why the worker may not take the task right now, or null — for "why is this not assigned?". */
  explainIneligibility(taskId: string, workerId: string): IneligibleReason | null {
    return checkEligibility(
      this.ctx,
      requireTask(this.ctx.driver, taskId),
      requireWorker(this.ctx.driver, workerId),
    );
  }

  // ── workers ──────────────────────────────────────────────────────────────────────────────────

  /** Registers a worker. The token is returned once; only its hash is stored. */
  registerWorker(input: z.input<typeof RegisterWorkerRequest>): RegisterWorkerResponse {
    const req = parse(RegisterWorkerRequest, input);
    return this.write(() => {
      const id = this.ctx.ids.workerId();
      const token = this.ctx.ids.token();
      const skills = normalizeSkills(req.skills);
      const tier = this.ctx.config.defaultTrustTier;
      this.ctx.driver.run(
        `INSERT INTO workers (id, name, github_handle, token_hash, skills, capacity_points,
                              max_concurrent_tasks, trust_tier, max_tier, registered_at)
         VALUES ($id, $name, $github_handle, $token_hash, $skills, $capacity_points,
                 $max_concurrent_tasks, $trust_tier, $max_tier, $now)`,
        {
          id,
          name: req.name,
          github_handle: req.github_handle ?? null,
          token_hash: hashToken(token),
          skills: JSON.stringify(skills),
          capacity_points: req.capacity_points,
          max_concurrent_tasks: req.max_concurrent_tasks,
          trust_tier: tier,
          max_tier: MAX_TASK_TIER[tier],
          now: this.ctx.clock.now(),
        },
      );
      for (const skill of skills) {
        this.ctx.driver.run(
          'INSERT INTO worker_skills (worker_id, skill) VALUES ($worker, $skill)',
          { worker: id, skill },
        );
      }
      this.ctx.record('worker.registered', { worker_id: id }, { name: req.name, skills });
      return { worker_id: id, token };
    });
  }

  /** The worker a bearer token belongs to, or undefined. Looks up by hash, never by the secret. */
  authenticateWorker(token: string): string | undefined {
    return this.ctx.driver.get<{ id: string }>('SELECT id FROM workers WHERE token_hash = $hash', {
      hash: hashToken(token),
    })?.id;
  }

  getWorker(id: string): Worker {
    return this.workerView(requireWorker(this.ctx.driver, id));
  }

  listWorkers(): Worker[] {
    return this.ctx.driver
      .all<WorkerRow>('SELECT * FROM workers ORDER BY registered_at, rowid')
      .map((row) => this.workerView(row));
  }

  private workerView(row: WorkerRow): Worker {
    return toWorker(row, isOnline(row, this.ctx.clock.now(), this.ctx.config.heartbeatTtlMs));
  }

  /**
   * A heartbeat: marks the worker online, records its status, and renews every lease it holds
   * that has not already expired (a lapsed lease stays lapsed: the sweep owns it).
   */
  heartbeat(workerId: string, input: z.input<typeof HeartbeatRequest> = {}): HeartbeatResponse {
    const req = parse(HeartbeatRequest, input);
    return this.write(() => {
      const now = this.ctx.clock.now();
      const worker = requireWorker(this.ctx.driver, workerId);
      const wasOnline = isOnline(worker, now, this.ctx.config.heartbeatTtlMs);
      this.ctx.driver.run(
        `UPDATE workers SET last_heartbeat_at = $now, reported_status = $status, note = $note,
                announced_online = 1 WHERE id = $id`,
        { id: workerId, now, status: req.status, note: req.note ?? null },
      );
      const renewed = this.ctx.driver.run(
        `UPDATE tasks SET lease_expires_at = $now + lease_ttl_ms
          WHERE assignee = $id AND status IN ('leased', 'in_progress', 'blocked')
            AND lease_expires_at > $now`,
        { id: workerId, now },
      ).changes;
      if (!wasOnline || worker.announced_online === 0) {
        this.ctx.record('worker.online', { worker_id: workerId }, { status: req.status });
      } else if (worker.reported_status !== req.status) {
        this.ctx.record(
          'worker.status_changed',
          { worker_id: workerId },
          { from: worker.reported_status, to: req.status },
        );
      }
      return { ok: true as const, server_time: toIso(now), leases_renewed: renewed };
    });
  }

  /** The worker's live leases, after granting whatever it is now eligible for. */
  getWork(workerId: string): WorkResponse {
    requireWorker(this.ctx.driver, workerId);
    this.write(() => fillWorker(this.ctx, workerId));
    const rows = this.ctx.driver.all<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM ${TASK_FROM}
        WHERE t.assignee = $id AND t.status IN ('leased', 'in_progress', 'blocked')
        ORDER BY t.lease_granted_at, t.id`,
      { id: workerId },
    );
    return { worker_id: workerId, leases: rows.map(toWorkLease) };
  }

  pauseWorker(id: string): Worker {
    return this.setAdminPause(id, true);
  }

  resumeWorker(id: string): Worker {
    return this.setAdminPause(id, false);
  }

  private setAdminPause(id: string, paused: boolean): Worker {
    return this.write(
      () => {
        const worker = requireWorker(this.ctx.driver, id);
        if ((worker.paused_by_admin === 1) !== paused) {
          this.ctx.driver.run('UPDATE workers SET paused_by_admin = $p WHERE id = $id', {
            id,
            p: Number(paused),
          });
          this.ctx.record(paused ? 'worker.paused' : 'worker.resumed', { worker_id: id }, {});
        }
        return id;
      },
      (workerId) => this.getWorker(workerId),
    );
  }

  // ── leases ───────────────────────────────────────────────────────────────────────────────────

  /**
   * A worker moves its task along the lifecycle. With `lease_id` (v1) the write is fenced by that
   * lease; without it (v0.1) by the task's current lease holder. A stale lease gets 409 and
   * changes nothing.
   */
  updateStatus(workerId: string, taskId: string, input: z.input<typeof StatusUpdateRequest>): Task {
    const req = parse(StatusUpdateRequest, input);
    return this.write(
      () => {
        const task = this.requireLeaseHolder(workerId, taskId, req.lease_id, req.epoch);
        if (task.status === req.status) {
          // A retried or repeated report: nothing to move; record a new artifact if one came.
          if (req.artifact) this.recordArtifact(task, req.artifact);
          return taskId;
        }
        const edge = edgeFor(task.status, 'worker', { to: req.status });
        applyTransition(this.ctx, task, edge, {
          epoch: task.lease_epoch,
          worker: workerId,
          message: req.message ?? null,
          artifact: req.artifact ?? null,
        });
        return taskId;
      },
      (id) => this.getTask(id),
    );
  }

  private recordArtifact(task: TaskRow, artifact: NonNullable<StatusUpdateRequest['artifact']>) {
    const merged = JSON.stringify({
      ...(task.artifact ? JSON.parse(task.artifact) : {}),
      ...stripNulls(artifact),
    });
    if (merged === task.artifact) return;
    const row = this.ctx.driver.get<{ version: number }>(
      `UPDATE tasks SET artifact = $artifact, version = version + 1, updated_at = $now
        WHERE id = $id AND lease_epoch = $epoch RETURNING version`,
      { id: task.id, artifact: merged, epoch: task.lease_epoch, now: this.ctx.clock.now() },
    )!;
    this.ctx.record(
      'task.updated',
      { repo: task.repo, task_id: task.id, worker_id: task.assignee },
      { fields: ['artifact'], version: row.version },
    );
  }

  /** Extends one lease by its TTL. */
  renewLease(workerId: string, leaseId: string): LeaseRenewResponse {
    return this.write(() => {
      const task = this.requireLeaseById(workerId, leaseId);
      if (!isHolding(task.status)) {
        throw new OwpError(
          'invalid_transition',
          `Task ${task.id} is ${task.status}; only leased, in-progress or blocked work has a lease to renew.`,
          { task_id: task.id, status: task.status },
        );
      }
      const now = this.ctx.clock.now();
      const row = this.ctx.driver.get<{ lease_expires_at: number }>(
        `UPDATE tasks SET lease_expires_at = $now + lease_ttl_ms
          WHERE id = $id AND lease_epoch = $epoch AND lease_expires_at > $now
          RETURNING lease_expires_at`,
        { id: task.id, epoch: task.lease_epoch, now },
      );
      if (!row) throw staleLease(task, leaseId);
      const expiresAt = toIso(row.lease_expires_at);
      this.ctx.record(
        'lease.renewed',
        { repo: task.repo, task_id: task.id, worker_id: workerId },
        { lease_id: leaseId, expires_at: expiresAt },
      );
      return {
        ok: true as const,
        lease_id: leaseId,
        epoch: task.lease_epoch,
        expires_at: expiresAt,
      };
    });
  }

  /** The worker gives the task back to the queue; the attempt counts. */
  releaseLease(
    workerId: string,
    leaseId: string,
    input: z.input<typeof LeaseReleaseRequest> = {},
  ): { ok: true; task_id: string } {
    const req = parse(LeaseReleaseRequest, input);
    return this.write(() => {
      const task = this.requireLeaseById(workerId, leaseId);
      applyTransition(this.ctx, task, edgeFor(task.status, 'worker', { cause: 'release' }), {
        epoch: task.lease_epoch,
        worker: workerId,
        message: req.reason ?? null,
      });
      return { ok: true as const, task_id: task.id };
    });
  }

  private requireLeaseById(workerId: string, leaseId: string): TaskRow {
    const lease = this.ctx.driver.get<{ task_id: string; worker_id: string; epoch: number }>(
      'SELECT task_id, worker_id, epoch FROM leases WHERE id = $id',
      { id: leaseId },
    );
    if (!lease)
      throw new OwpError('lease_not_found', `No lease ${leaseId}.`, { lease_id: leaseId });
    if (lease.worker_id !== workerId) {
      throw new OwpError('not_lease_holder', `Lease ${leaseId} belongs to another worker.`, {
        lease_id: leaseId,
      });
    }
    return this.requireLeaseHolder(workerId, lease.task_id, leaseId, lease.epoch);
  }

  /** The task, if `workerId` holds its current lease (and the named lease, when one is named). */
  private requireLeaseHolder(
    workerId: string,
    taskId: string,
    leaseId: string | undefined,
    epoch: number | undefined,
  ): TaskRow {
    // The common case costs one read: a task held by this worker proves the worker exists, and a
    // task whose current lease is the one named proves the lease is this worker's.
    const found = findTask(this.ctx.driver, taskId);
    if (found?.assignee !== workerId) requireWorker(this.ctx.driver, workerId);
    const task = found ?? requireTask(this.ctx.driver, taskId);
    if (leaseId !== undefined && !(task.lease_id === leaseId && task.assignee === workerId)) {
      const lease = this.ctx.driver.get<{ worker_id: string; epoch: number }>(
        'SELECT worker_id, epoch FROM leases WHERE id = $id AND task_id = $task',
        { id: leaseId, task: taskId },
      );
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
      throw new OwpError(
        'not_lease_holder',
        `Task ${taskId} is not leased to worker ${workerId}.`,
        {
          task_id: taskId,
        },
      );
    }
    if (epoch !== undefined && epoch !== task.lease_epoch) throw staleLease(task, leaseId);
    if (task.lease_id === null) {
      throw new OwpError(
        'invalid_transition',
        `Task ${taskId} is ${task.status}; its lease has ended.`,
        { task_id: taskId, status: task.status, allowed: [] },
      );
    }
    if (task.lease_expires_at !== null && task.lease_expires_at <= this.ctx.clock.now()) {
      throw new OwpError(
        'lease_expired',
        `The lease on task ${taskId} expired at ${toIso(task.lease_expires_at)}; the task is going back to the queue.`,
        { task_id: taskId, expired_at: toIso(task.lease_expires_at) },
      );
    }
    return task;
  }

  // ── idempotency ──────────────────────────────────────────────────────────────────────────────

  /**
   * Runs a mutating worker call at most once per (worker, key): a replay with the same
   * fingerprint returns the first answer and changes nothing; with another fingerprint it is
   * refused. Errors are not stored, so a failed call can be retried with the same key.
   */
  idempotent<T>(workerId: string, key: string, fingerprint: string, call: () => T): T {
    return this.write(() => {
      const stored = this.ctx.driver.get<{ fingerprint: string; response: string }>(
        'SELECT fingerprint, response FROM idempotency_keys WHERE worker_id = $worker AND key = $key',
        { worker: workerId, key },
      );
      if (stored) {
        if (stored.fingerprint !== fingerprint) {
          throw new OwpError(
            'idempotency_key_reused',
            'This Idempotency-Key was already used for a different request.',
            { key },
          );
        }
        return JSON.parse(stored.response) as T;
      }
      const result = call();
      this.ctx.driver.run(
        `INSERT INTO idempotency_keys (worker_id, key, fingerprint, response, created_at)
         VALUES ($worker, $key, $fingerprint, $response, $now)`,
        {
          worker: workerId,
          key,
          fingerprint,
          response: JSON.stringify(result),
          now: this.ctx.clock.now(),
        },
      );
      return result;
    });
  }

  // ── time-driven work ─────────────────────────────────────────────────────────────────────────

  /**
   * Requeues tasks whose lease expired, marks silent workers offline and forgets old idempotency
   * keys. Each expiry is its own transaction, guarded against work that moved in the meantime.
   */
  sweep(): SweepResult {
    let expired = 0;
    for (const lease of findExpiredLeases(this.ctx)) {
      if (this.write(() => expireLease(this.ctx, lease))) expired++;
    }
    const offline = this.write(() => {
      this.ctx.driver.run('DELETE FROM idempotency_keys WHERE created_at < $cutoff', {
        cutoff: this.ctx.clock.now() - this.ctx.config.idempotencyTtlMs,
      });
      return markSilentWorkersOffline(this.ctx).length;
    });
    return { expired, workers_offline: offline };
  }

  /** The full assignment cycle; hosts run it on a timer as a safety net. Returns leases granted. */
  assignAll(): number {
    return this.write(() => assignAll(this.ctx));
  }

  // ── queries ──────────────────────────────────────────────────────────────────────────────────

  state(): PoolState {
    const counts = new Map(
      this.ctx.driver
        .all<{ status: TaskStatus; n: number }>(
          'SELECT status, COUNT(*) AS n FROM tasks GROUP BY status',
        )
        .map((r) => [r.status, r.n]),
    );
    const n = (status: TaskStatus) => counts.get(status) ?? 0;
    const workers = this.ctx.driver.get<{ total: number; online: number }>(
      `SELECT COUNT(*) AS total, COALESCE(SUM(last_heartbeat_at > $after), 0) AS online FROM workers`,
      { after: this.ctx.clock.now() - this.ctx.config.heartbeatTtlMs },
    )!;
    return {
      workers_online: workers.online,
      tasks_ready: n('ready'),
      tasks_leased: n('leased'),
      tasks_in_progress: n('in_progress'),
      tasks_pr_opened: n('pr_opened'),
      tasks_blocked: n('blocked'),
      tasks_merged: n('merged'),
      tasks_cancelled: n('cancelled'),
      workers_total: workers.total,
      last_event_seq: this.ctx.log.lastSeq(),
    };
  }

  events(query: EventQuery = {}): OwpEvent[] {
    return this.ctx.log.list(query);
  }

  // ── transactions ─────────────────────────────────────────────────────────────────────────────

  /**
   * Runs a write in one transaction, then assigns what it made assignable, then (after commit)
   * tells listeners. Nested writes join the outer one.
   */
  private write<R>(fn: () => R): R;
  private write<R, V>(fn: () => R, view: (result: R) => V): V;
  private write<R, V>(fn: () => R, view?: (result: R) => V): R | V {
    if (this.touched) return view ? view(fn()) : fn();
    this.touched = { tasks: new Set(), repos: new Set(), workers: new Set() };
    let result: R | V;
    try {
      result = this.ctx.driver.transaction(() => {
        const value = fn();
        this.settle();
        return view ? view(value) : value;
      });
    } catch (error) {
      this.pending = [];
      throw error;
    } finally {
      this.touched = null;
    }
    const events = this.pending;
    this.pending = [];
    this.deliver(events);
    return result;
  }

  /**
   * Hands committed events to listeners, in sequence order, each to every listener before the next.
   * A listener that writes while being notified queues its events behind the ones being delivered.
   */
  private deliver(events: OwpEvent[]): void {
    this.deliveryQueue.push(...events);
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let event = this.deliveryQueue.shift(); event; event = this.deliveryQueue.shift()) {
        for (const listener of [...this.listeners]) {
          try {
            listener(event);
          } catch {
            // A failing listener must not undo or block a committed write.
          }
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  /** Notes what an event may have made assignable. */
  private touchFor(type: OwpEventType, refs: EventRefs, data: unknown): void {
    const touched = this.touched;
    if (!touched) return;
    if (type === 'task.created' || type === 'task.updated') {
      if (refs.task_id) touched.tasks.add(refs.task_id);
    } else if (type === 'task.status_changed') {
      const { from, to, cause } = data as OwpEventData<'task.status_changed'>;
      if (to === 'ready' && refs.task_id) touched.tasks.add(refs.task_id);
      // Budget, an area lock or a place in the queue may have freed: the repo's queue goes next.
      const freed =
        (countsAgainstBudget(from) && !countsAgainstBudget(to)) ||
        (isHolding(from) && !isHolding(to));
      if (freed && refs.repo) touched.repos.add(refs.repo);
      // A worker with capacity freed by its own progress may take more; not one that let go.
      if (isHolding(from) && !isHolding(to) && cause !== 'expire' && cause !== 'release') {
        if (refs.worker_id) touched.workers.add(refs.worker_id);
      }
    } else if (type === 'repo.upserted' && refs.repo) {
      touched.repos.add(refs.repo);
    } else if ((type === 'worker.online' || type === 'worker.resumed') && refs.worker_id) {
      touched.workers.add(refs.worker_id);
    } else if (type === 'worker.status_changed' && refs.worker_id) {
      if ((data as OwpEventData<'worker.status_changed'>).from === 'paused') {
        touched.workers.add(refs.worker_id);
      }
    }
  }

  /** Assigns what the operation made assignable: workers with new room, freed repos, new tasks. */
  private settle(): void {
    const touched = this.touched!;
    // Assignment itself records grants, which must not feed back into this settle.
    this.touched = { tasks: new Set(), repos: new Set(), workers: new Set() };
    // Workers whose own room freed choose first: each takes the best task it may have anywhere.
    // Then repos, whose queues run in priority order, so a freed slot or area goes to the most
    // important waiting task rather than to whichever task happened to be freed. Last, new tasks.
    for (const id of touched.workers) {
      if (findWorker(this.ctx.driver, id)) fillWorker(this.ctx, id);
    }
    for (const repo of touched.repos) assignRepoQueue(this.ctx, repo);
    for (const id of touched.tasks) assignTask(this.ctx, id);
    this.touched = touched;
  }
}

function toWorkLease(row: TaskRow): WorkLease {
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
  };
}

function staleLease(task: TaskRow, leaseId: string | undefined): OwpError {
  return new OwpError(
    'stale_lease',
    `The lease ${leaseId ?? ''} on task ${task.id} is no longer current (epoch ${task.lease_epoch}); the write was not applied.`.replace(
      '  ',
      ' ',
    ),
    { task_id: task.id, lease_id: leaseId ?? null, current_epoch: task.lease_epoch },
  );
}

function stripNulls(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

const encodeCursor = (row: TaskRow): string =>
  btoa(`${row.created_at}:${row.id}`).replace(/=+$/, '');

function decodeCursor(cursor: string): { created_at: number; id: string } {
  try {
    const [at, ...rest] = atob(cursor).split(':');
    const created_at = Number(at);
    if (!Number.isSafeInteger(created_at) || rest.length === 0) throw new Error('bad cursor');
    return { created_at, id: rest.join(':') };
  } catch {
    throw new OwpError('validation_failed', 'The cursor is not one this server issued.', {
      cursor,
    });
  }
}
