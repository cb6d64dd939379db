import type { z } from 'zod';
import {
  AnalyticsQuery,
  AuditQuery,
  HeartbeatRequest,
  LeaseReleaseRequest,
  OfferRejectRequest,
  TrustTierRequest,
  type OffersResponse,
  type WorkerReputation,
  type WorkLease,
  RegisterWorkerRequest,
  RepoKey,
  RepoUpsertRequest,
  StatusUpdateRequest,
  TaskCreateRequest,
  TaskListQuery,
  TaskUpdateRequest,
  type AuditPage,
  type HeartbeatResponse,
  type LeaseReleaseResponse,
  type LeaseRenewResponse,
  type OwpEvent,
  type OwpEventData,
  type OwpEventType,
  type PoolState,
  type RegisterWorkerResponse,
  type WorkerTokenResponse,
  type Repo,
  type RepoAnalytics,
  type Task,
  type TaskExplanation,
  type WorkExplanation,
  type TaskPage,
  type TaskStatus,
  type Worker,
  type WorkResponse,
} from '../protocol/index.ts';
import {
  analyticsPeriod,
  analyticsReport,
  loadRepoHistoryPaced,
  repoAnalytics,
  requireRepo,
  type RepoHistory,
} from './analytics.ts';
import { assignAll, assignTouched, checkEligibility, fillWorker } from './assignment.ts';
import { listAuditEvents, listAuditEventsPaced } from './audit.ts';
import type { Clock } from './clock.ts';
import { DEFAULT_CONFIG, type EngineConfig, type EngineContext } from './context.ts';
import type { IneligibleReason } from './eligibility.ts';
import { EventLog, type EventQuery, type EventRefs } from './event-log.ts';
import { explainTask, explainWork } from './explain.ts';
import { forgetOldIdempotencyKeys, runIdempotent } from './idempotency.ts';
import { type IdSource, randomIds } from './ids.ts';
import { releaseLease, renewLease, updateStatus } from './lease-commands.ts';
import { expireLease, findExpiredLeases, markSilentWorkersOffline } from './lease-sweep.ts';
import { migrate } from './migrate.ts';
import * as offers from './offer-commands.ts';
import { QueueHeads } from './queue-heads.ts';
import * as repos from './repo-commands.ts';
import { type TaskRow, toTask } from './rows.ts';
import type { SqlDriver } from './storage-port.ts';
import * as tasks from './task-commands.ts';
import { TaskCounts } from './task-counts.ts';
import { requireTask, requireWorker } from './task-store.ts';
import { parseInput } from './validate.ts';
import * as workers from './worker-commands.ts';
import { ADMIN_ACTOR, type EventListener, REGISTERING_WORKER, WriteScope } from './write-scope.ts';

export type { EventListener } from './write-scope.ts';

export interface SchedulerOptions {
  driver: SqlDriver;
  clock: Clock;
  ids?: IdSource;
  config?: Partial<EngineConfig>;
}

/** The outcome of one expiry sweep. */
export interface SweepResult {
  expired: number;
  /** Offers that ran out unanswered (their tasks went back to the queue). */
  offers_expired: number;
  workers_offline: number;
}

/**
 * The OWP scheduling engine: synchronous, over any `SqlDriver`, with time from the injected clock.
 * Every write runs in one transaction, appends its events, and ends by assigning whatever the write
 * made assignable; listeners hear the events after the transaction commits. This class is the
 * facade: it validates input with the protocol schemas and runs the commands of
 * `repo-commands.ts`, `task-commands.ts`, `worker-commands.ts` and `lease-commands.ts` in a write.
 */
export class Scheduler {
  private readonly ctx: EngineContext;
  private readonly scope: WriteScope;
  private readonly taskCounts: TaskCounts;
  /** Repo histories being read for analytics, shared by the asks that arrive meanwhile. */
  private readonly historyReads = new Map<string, Promise<RepoHistory>>();

  constructor(options: SchedulerOptions) {
    const { driver, clock } = options;
    const log = new EventLog(driver);
    const scope = new WriteScope(driver, (touched) => assignTouched(this.ctx, touched));
    const queueHeads = QueueHeads.of(driver);
    this.scope = scope;
    this.ctx = {
      driver,
      clock,
      ids: options.ids ?? randomIds(clock),
      config: { ...DEFAULT_CONFIG, ...options.config },
      log,
      queueHeads,
      record: <T extends OwpEventType>(type: T, refs: EventRefs, data: OwpEventData<T>) => {
        queueHeads.recorded(type, refs, data);
        scope.recorded(log.append(clock.now(), type, refs, data, scope.actorOf(refs)));
      },
    };
    migrate(driver, clock);
    this.taskCounts = new TaskCounts(driver);
  }

  get config(): Readonly<EngineConfig> {
    return this.ctx.config;
  }

  /** Subscribes to events as they commit; returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    return this.scope.onEvent(listener);
  }

  // ── repos ──

  /** Creates a repo or updates the fields given; new repos default to 3 open PRs and area locks. */
  upsertRepo(input: z.input<typeof RepoUpsertRequest>): Repo {
    const req = parseInput(RepoUpsertRequest, input);
    return this.scope.runAs(
      ADMIN_ACTOR,
      () => repos.upsertRepo(this.ctx, req),
      (key) => repos.getRepo(this.ctx, key),
    );
  }

  getRepo(key: string): Repo {
    return repos.getRepo(this.ctx, key);
  }

  listRepos(): Repo[] {
    return repos.listRepos(this.ctx);
  }

  /** Deletes a repo whose tasks are all finished (merged or cancelled), and those tasks' rows. */
  deleteRepo(key: string): void {
    this.scope.runAs(ADMIN_ACTOR, () => repos.deleteRepo(this.ctx, key));
  }

  // ── tasks ──

  createTask(input: z.input<typeof TaskCreateRequest>): Task {
    const req = parseInput(TaskCreateRequest, input);
    return this.scope.runAs(ADMIN_ACTOR, () => tasks.createTask(this.ctx, req), this.taskView);
  }

  getTask(id: string): Task {
    return tasks.getTask(this.ctx, id);
  }

  /** Tasks by creation order, filtered, a page at a time; `next_cursor` continues the listing. */
  listTasks(input: z.input<typeof TaskListQuery> = {}): TaskPage {
    return tasks.listTasks(this.ctx, parseInput(TaskListQuery, input));
  }

  /** Admin edit; with `expected_version` it applies only if the task is still at that version. */
  updateTask(id: string, input: z.input<typeof TaskUpdateRequest>): Task {
    const req = parseInput(TaskUpdateRequest, input);
    return this.scope.runAs(ADMIN_ACTOR, () => tasks.updateTask(this.ctx, id, req), this.taskView);
  }

  /** Admin: cancels a task that has not finished; its worker's lease ends. */
  cancelTask(id: string): Task {
    return this.scope.runAs(
      ADMIN_ACTOR,
      () => tasks.adminTransition(this.ctx, id, 'cancel'),
      this.taskView,
    );
  }

  /** Admin: takes a task back from its worker (or a closed PR back to the queue). */
  requeueTask(id: string): Task {
    return this.scope.runAs(
      ADMIN_ACTOR,
      () => tasks.adminTransition(this.ctx, id, 'requeue'),
      this.taskView,
    );
  }

  /** Admin: records that a task's PR was merged. */
  markMerged(id: string): Task {
    return this.scope.runAs(
      ADMIN_ACTOR,
      () => tasks.adminTransition(this.ctx, id, 'merge'),
      this.taskView,
    );
  }

  /**
   * Admin: why the task is or is not being handed out now — what holds it back for every worker,
   * else each online worker by the first rule that stops it.
   */
  explainTask(id: string): TaskExplanation {
    return explainTask(this.ctx, id);
  }

  /** Why the worker may not take the task right now, or null — for "why is this not assigned?". */
  explainIneligibility(taskId: string, workerId: string): IneligibleReason | null {
    return checkEligibility(
      this.ctx,
      requireTask(this.ctx.driver, taskId),
      requireWorker(this.ctx.driver, workerId),
    );
  }

  private readonly taskView = (id: string): Task => tasks.getTask(this.ctx, id);

  /**
   * The view of a row a command just wrote. Settling can move only ready tasks (by granting them),
   * so any other row is already final and need not be read again.
   */
  private readonly rowView = (row: TaskRow): Task =>
    row.status === 'ready' ? this.taskView(row.id) : toTask(row);

  // ── workers ──

  /** Registers a worker. The token is returned once; only its hash is stored. */
  registerWorker(input: z.input<typeof RegisterWorkerRequest>): RegisterWorkerResponse {
    const req = parseInput(RegisterWorkerRequest, input);
    return this.scope.runAs(REGISTERING_WORKER, () => workers.registerWorker(this.ctx, req));
  }

  /** The worker a bearer token belongs to, or undefined. Looks up by hash, never by the secret. */
  authenticateWorker(token: string): string | undefined {
    return workers.authenticateWorker(this.ctx, token);
  }

  /** The worker whose token hashes (`config.hashToken`) to `hash`: for hosts that cache by hash. */
  workerIdByTokenHash(hash: string): string | undefined {
    return workers.workerIdByTokenHash(this.ctx, hash);
  }

  getWorker(id: string): Worker {
    return workers.getWorker(this.ctx, id);
  }

  listWorkers(): Worker[] {
    return workers.listWorkers(this.ctx);
  }

  /** Marks the worker online, records its status, and renews every lease it still holds. */
  heartbeat(workerId: string, input: z.input<typeof HeartbeatRequest> = {}): HeartbeatResponse {
    const req = parseInput(HeartbeatRequest, input);
    return (
      workers.coalescedHeartbeat(this.ctx, workerId, req) ??
      this.scope.runAs(workerId, () => workers.heartbeat(this.ctx, workerId, req))
    );
  }

  /** The worker's live leases, after granting whatever it is now eligible for. */
  getWork(workerId: string): WorkResponse {
    this.scope.run(() => fillWorker(this.ctx, workerId, requireWorker(this.ctx.driver, workerId)));
    return { worker_id: workerId, leases: workers.workLeases(this.ctx, workerId) };
  }

  pauseWorker(id: string): Worker {
    return this.scope.runAs(
      ADMIN_ACTOR,
      () => workers.setAdminPause(this.ctx, id, true),
      this.workerView,
    );
  }

  resumeWorker(id: string): Worker {
    return this.scope.runAs(
      ADMIN_ACTOR,
      () => workers.setAdminPause(this.ctx, id, false),
      this.workerView,
    );
  }

  /**
   * Admin: a new token for the worker, returned once; the old one matches no worker from this
   * commit on. A host that remembers which worker a token belongs to forgets this one's.
   */
  replaceWorkerToken(id: string): WorkerTokenResponse {
    return this.scope.runAs(ADMIN_ACTOR, () => workers.replaceToken(this.ctx, id));
  }

  private readonly workerView = (id: string): Worker => workers.getWorker(this.ctx, id);

  /** Admin: sets a worker's trust tier, with the reason for the audit log. */
  setTrustTier(id: string, input: z.input<typeof TrustTierRequest>): Worker {
    const req = parseInput(TrustTierRequest, input);
    return this.scope.runAs(
      ADMIN_ACTOR,
      () => workers.setTrustTier(this.ctx, id, req),
      this.workerView,
    );
  }

  /** A worker's reputation and the outcomes it is computed from. */
  reputation(id: string): WorkerReputation {
    return workers.reputationOfWorker(this.ctx, id);
  }

  // ── offers ──

  /** The worker's open offers, after offering whatever it is now eligible for. */
  /** Why the worker is given no work: what keeps it from any task, and the queue as it sees it. */
  explainWork(workerId: string): WorkExplanation {
    return explainWork(this.ctx, workerId);
  }

  listOffers(workerId: string): OffersResponse {
    requireWorker(this.ctx.driver, workerId);
    this.scope.run(() => fillWorker(this.ctx, workerId));
    return { worker_id: workerId, offers: offers.listOffers(this.ctx, workerId) };
  }

  /** The worker accepts an offer and gets its lease. */
  acceptOffer(workerId: string, offerId: string): WorkLease {
    return this.scope.runAs(workerId, () => offers.acceptOffer(this.ctx, workerId, offerId));
  }

  /** The worker rejects an offer, with a reason; the task goes back to the queue. */
  rejectOffer(
    workerId: string,
    offerId: string,
    input: z.input<typeof OfferRejectRequest>,
  ): { ok: true; task_id: string } {
    const req = parseInput(OfferRejectRequest, input);
    return this.scope.runAs(workerId, () => offers.rejectOffer(this.ctx, workerId, offerId, req));
  }

  // ── leases ──

  /** A worker moves its task along the lifecycle, fenced by its lease (409 when stale). */
  updateStatus(workerId: string, taskId: string, input: z.input<typeof StatusUpdateRequest>): Task {
    const req = parseInput(StatusUpdateRequest, input);
    return this.scope.runAs(
      workerId,
      () => updateStatus(this.ctx, workerId, taskId, req),
      this.rowView,
    );
  }

  /** Extends one lease by its TTL. */
  renewLease(workerId: string, leaseId: string): LeaseRenewResponse {
    return this.scope.runAs(workerId, () => renewLease(this.ctx, workerId, leaseId));
  }

  /** The worker gives the task back to the queue; the attempt counts. */
  releaseLease(
    workerId: string,
    leaseId: string,
    input: z.input<typeof LeaseReleaseRequest> = {},
  ): LeaseReleaseResponse {
    const req = parseInput(LeaseReleaseRequest, input);
    return this.scope.runAs(workerId, () => releaseLease(this.ctx, workerId, leaseId, req));
  }

  /**
   * Runs a mutating call at most once per (caller, key): a replay with the same fingerprint returns
   * the first answer and changes nothing; another fingerprint is refused. The caller is a worker,
   * by its id, or the admin (`ADMIN_ACTOR`), whose task creations a client may send again.
   */
  idempotent<T>(
    callerId: string,
    key: string,
    fingerprint: string,
    call: () => T,
    onReplay?: () => void,
  ): T {
    return this.scope.runAs(callerId, () =>
      runIdempotent(this.ctx, callerId, key, fingerprint, call, onReplay),
    );
  }

  // ── time-driven work ──

  /**
   * Requeues tasks whose lease expired, marks silent workers offline and forgets old idempotency
   * keys. Each expiry is its own transaction, guarded against work that moved in the meantime.
   */
  sweep(): SweepResult {
    let expired = 0;
    for (const lease of findExpiredLeases(this.ctx)) {
      if (this.scope.run(() => expireLease(this.ctx, lease))) expired++;
    }
    let offersExpired = 0;
    for (const offer of offers.findExpiredOffers(this.ctx)) {
      if (this.scope.run(() => offers.expireOffer(this.ctx, offer))) offersExpired++;
    }
    const offline = this.scope.run(() => {
      forgetOldIdempotencyKeys(this.ctx);
      return markSilentWorkersOffline(this.ctx).length;
    });
    return { expired, offers_expired: offersExpired, workers_offline: offline };
  }

  /** The full assignment cycle; hosts run it on a timer as a safety net. Returns leases granted. */
  assignAll(): number {
    return this.scope.run(() => assignAll(this.ctx));
  }

  // ── queries ──

  /** The v0.1 counts: workers online and tasks by status, plus totals. */
  state(): PoolState {
    const counts = this.taskCounts.read();
    const n = (status: TaskStatus) => counts.get(status) ?? 0;
    const workerCounts = this.ctx.driver.get<{ total: number; online: number }>(
      `SELECT COUNT(*) AS total, COALESCE(SUM(last_heartbeat_at > $after), 0) AS online FROM workers`,
      { after: this.ctx.clock.now() - this.ctx.config.heartbeatTtlMs },
    )!;
    return {
      workers_online: workerCounts.online,
      tasks_ready: n('ready'),
      tasks_leased: n('leased'),
      tasks_in_progress: n('in_progress'),
      tasks_pr_opened: n('pr_opened'),
      tasks_blocked: n('blocked'),
      tasks_merged: n('merged'),
      tasks_cancelled: n('cancelled'),
      tasks_offered: n('offered'),
      tasks_failed: n('failed'),
      workers_total: workerCounts.total,
      last_event_seq: this.ctx.log.lastSeq(),
    };
  }

  events(query: EventQuery = {}): OwpEvent[] {
    return this.ctx.log.list(query);
  }

  /** The sequence number of the newest event (0 before the first). */
  lastEventSeq(): number {
    return this.ctx.log.lastSeq();
  }

  // ── audit and analytics ──

  /** The audit log: events filtered, oldest first, a page at a time (`next_after` continues). */
  auditEvents(input: z.input<typeof AuditQuery> = {}): AuditPage {
    return listAuditEvents(this.ctx.driver, parseInput(AuditQuery, input));
  }

  /**
   * `auditEvents`, awaiting `pause` between the statements of a read that passes over a long
   * stretch of the log (a rare actor, a time range), so it never holds the thread for long (the
   * server and the plugin use this).
   */
  auditEventsPaced(
    input: z.input<typeof AuditQuery>,
    pause: () => Promise<void>,
  ): Promise<AuditPage> {
    return listAuditEventsPaced(this.ctx.driver, parseInput(AuditQuery, input), pause);
  }

  /** Throughput, timings and saturation of one repo over a period (default: the last 30 days). */
  repoAnalytics(repo: string, input: z.input<typeof AnalyticsQuery> = {}): RepoAnalytics {
    const now = this.ctx.clock.now();
    const period = analyticsPeriod(parseInput(AnalyticsQuery, input), now);
    return repoAnalytics(this.ctx.driver, parseInput(RepoKey, repo), period, now);
  }

  /**
   * `repoAnalytics`, reading the repo's history a page at a time with `pause` awaited between
   * pages, so a long history never holds the thread for long (the server and the plugin use this).
   * Asks that arrive while a repo's history is being read share that read: the dashboard asks for
   * a window and each of its buckets at once.
   */
  async repoAnalyticsPaced(
    repo: string,
    input: z.input<typeof AnalyticsQuery>,
    pause: () => Promise<void>,
  ): Promise<RepoAnalytics> {
    const key = parseInput(RepoKey, repo);
    const now = this.ctx.clock.now();
    const period = analyticsPeriod(parseInput(AnalyticsQuery, input), now);
    requireRepo(this.ctx.driver, key);
    let reading = this.historyReads.get(key);
    if (!reading) {
      reading = loadRepoHistoryPaced(this.ctx.driver, key, Number.MAX_SAFE_INTEGER, pause);
      this.historyReads.set(key, reading);
      const forget = () => this.historyReads.delete(key);
      reading.then(forget, forget);
    }
    const history = await reading;
    // Asks that shared the read would otherwise compute their figures back to back.
    await pause();
    return analyticsReport(key, history, period, now);
  }
}
