import type { AnalyticsQuery, RepoAnalytics } from './analytics.ts';
import type { AuditPage, AuditQuery } from './audit.ts';
import type { OwpEvent } from './events.ts';
import type {
  LeaseReleaseResponse,
  LeaseRenewResponse,
  OfferRejectRequest,
  OffersResponse,
  PoolState,
  WorkLease,
  WorkResponse,
} from './leases.ts';
import type { Repo, RepoUpsertRequest } from './repos.ts';
import type {
  StatusUpdateRequest,
  Task,
  TaskCreateRequest,
  TaskExplanation,
  WorkExplanation,
  TaskListQuery,
  TaskPage,
  TaskUpdateRequest,
} from './tasks.ts';
import type {
  HeartbeatRequest,
  HeartbeatResponse,
  RegisterWorkerRequest,
  RegisterWorkerResponse,
  WorkerTokenResponse,
  TrustTierRequest,
  Worker,
  WorkerReputation,
} from './workers.ts';

/** How a live event stream is doing, for an "offline" banner. */
export type StreamStatus = 'connecting' | 'live' | 'offline';

export interface Subscription {
  close(): void;
  /**
   * The highest sequence number seen, where the stream tracks it: with events passed over (a type
   * this client does not know) it is past the last one delivered, and a new stream resumes there.
   */
  readonly lastEventId?: number;
}

/**
 * Everything a client of OWP Pool does, as one interface with three implementations: the engine
 * in-process (embedded mode), the HTTP client (remote mode, CLI, dashboard), and — behind the
 * server's routes — the engine again. Views and the note sync talk only to this, so they cannot
 * tell embedded from remote, and one conformance suite runs against every implementation.
 *
 * Worker calls act as the worker whose token the implementation was given; admin calls need the
 * admin credential. Errors are `OwpError`s with the protocol's codes.
 */
/** How a task is created (`OwpApi.createTask`). */
export interface CreateOptions {
  /** Sent as `Idempotency-Key`: the caller's own, 1–200 characters, kept by the pool for a day. */
  idempotencyKey?: string;
}

export interface OwpApi {
  // ── workers ──
  registerWorker(request: RegisterWorkerRequest): Promise<RegisterWorkerResponse>;
  heartbeat(request?: HeartbeatRequest): Promise<HeartbeatResponse>;
  getWork(): Promise<WorkResponse>;
  updateStatus(taskId: string, request: StatusUpdateRequest): Promise<Task>;
  renewLease(leaseId: string): Promise<LeaseRenewResponse>;
  releaseLease(leaseId: string, reason?: string): Promise<LeaseReleaseResponse>;
  /** Why the worker is given no work: what keeps it from any task, and the queue in counts. */
  explainWork(): Promise<WorkExplanation>;
  /** Open offers (repos with offer assignment), after offering what the worker may take. */
  listOffers(): Promise<OffersResponse>;
  acceptOffer(offerId: string): Promise<WorkLease>;
  rejectOffer(offerId: string, request: OfferRejectRequest): Promise<{ ok: true; task_id: string }>;

  // ── admin ──
  upsertRepo(request: RepoUpsertRequest): Promise<Repo>;
  listRepos(): Promise<Repo[]>;
  getRepo(key: string): Promise<Repo>;
  deleteRepo(key: string): Promise<void>;
  /**
   * With an idempotency key, safe to send again after a failure that leaves it unknown whether the
   * task was made (a timeout): the same key and request answer the task made the first time.
   */
  createTask(request: TaskCreateRequest, options?: CreateOptions): Promise<Task>;
  getTask(taskId: string): Promise<Task>;
  listTasks(query?: TaskListQuery): Promise<TaskPage>;
  updateTask(taskId: string, request: TaskUpdateRequest): Promise<Task>;
  cancelTask(taskId: string): Promise<Task>;
  requeueTask(taskId: string): Promise<Task>;
  /**
   * Why a task is or is not being handed out now: what holds it back for every worker, else the
   * online workers by the rule that stops each (admin; a viewer may read).
   */
  explainTask(taskId: string): Promise<TaskExplanation>;
  /** Records that the task's PR was merged (admin). */
  mergeTask(taskId: string): Promise<Task>;
  listWorkers(): Promise<Worker[]>;
  /** One worker, as `listWorkers` shows it (admin; a viewer may read). */
  getWorker(workerId: string): Promise<Worker>;
  pauseWorker(workerId: string): Promise<Worker>;
  resumeWorker(workerId: string): Promise<Worker>;
  /** A new token for the worker, shown once; its old one is refused from then on (admin). */
  replaceWorkerToken(workerId: string): Promise<WorkerTokenResponse>;
  /** Sets a worker's trust tier, with the reason for the audit log (admin). */
  setTrustTier(workerId: string, request: TrustTierRequest): Promise<Worker>;
  /** A worker's reputation and its outcome stats (admin, or the worker itself). */
  workerReputation(workerId: string): Promise<WorkerReputation>;
  state(): Promise<PoolState>;

  // ── audit and analytics ──
  /** The audit log: events with their actor, filtered, a page at a time (the admin only). */
  auditEvents(query?: AuditQuery): Promise<AuditPage>;
  /** A repo's figures over a period, by default the last 30 days (admin; a viewer may read). */
  repoAnalytics(repo: string, query?: AnalyticsQuery): Promise<RepoAnalytics>;

  // ── events ──
  /** Events after `after` (the catch-up read behind the live stream). */
  events(after: number, limit?: number): Promise<OwpEvent[]>;
  /**
   * Live events after `after`, in order, without gaps across reconnects. `onStatus` reports the
   * connection; an in-process implementation is always live.
   */
  subscribe(
    after: number,
    onEvent: (event: OwpEvent) => void,
    onStatus?: (status: StreamStatus) => void,
  ): Subscription;
}

/** Every task a listing matches, page after page (500 a page), in the listing's order. */
export async function listAllTasks(
  api: Pick<OwpApi, 'listTasks'>,
  query: Omit<TaskListQuery, 'limit' | 'cursor'> = {},
): Promise<Task[]> {
  const tasks: Task[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.listTasks({ ...query, limit: 500, cursor });
    tasks.push(...page.tasks);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return tasks;
}
