import { z } from 'zod';
import { AnalyticsQuery, RepoAnalytics } from './analytics.ts';
import { AuditPage, AuditRouteQuery } from './audit.ts';
import { LeaseId, queryInt, RepoKey, TaskId, WorkerId } from './common.ts';
import { ErrorEnvelope } from './errors.ts';
import { OwpEvent } from './events.ts';
import {
  IdempotencyKey,
  LeaseReleaseRequest,
  LeaseReleaseResponse,
  LeaseRenewResponse,
  OfferId,
  OfferRejectRequest,
  OfferRejectResponse,
  OffersResponse,
  PoolState,
  WorkLease,
  WorkResponse,
} from './leases.ts';
import { Repo, RepoUpsertRequest, RepoUpsertResponse } from './repos.ts';
import {
  StatusUpdateRequest,
  StatusUpdateResponse,
  Task,
  TaskCreateRequest,
  TaskCreateResponse,
  TaskExplanation,
  WorkExplanation,
  TaskListQuery,
  TaskPage,
  TaskUpdateRequest,
} from './tasks.ts';
import {
  HeartbeatRequest,
  HeartbeatResponse,
  RegisterWorkerRequest,
  RegisterWorkerResponse,
  WorkerTokenResponse,
  TrustTierRequest,
  Worker,
  WorkerReputation,
} from './workers.ts';

export type Auth = 'none' | 'worker' | 'admin' | 'worker_or_admin';

/** One endpoint of the OWP HTTP API: the single table the server, the client and the docs read. */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Fastify-style path; `{name}` segments are path parameters. */
  path: string;
  auth: Auth;
  /**
   * An `admin` route the read-only viewer token may not read either (the audit log): a viewer
   * gets 403 `forbidden`. Other admin GET routes admit the viewer.
   */
  viewerDenied?: true;
  summary: string;
  /** True for routes an OWP v0.1 client calls; they must never change shape. */
  v01?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Mutating worker calls, and task creation, accept an `Idempotency-Key` header. */
  idempotent?: boolean;
  response: z.ZodType;
  successStatus?: 200 | 201 | 204;
  /** Also answers `text/csv` (`format=csv` or `Accept: text/csv`); the JSON form stays the default. */
  csv?: true;
  /** Answers a file of this media type instead of JSON (`response` then describes nothing). */
  download?: string;
}

const Ok = z.object({ ok: z.literal(true) });
const EventHistoryQuery = z
  .object({
    after: queryInt(0, Number.MAX_SAFE_INTEGER, 0),
    limit: queryInt(1, 1000, 500),
    task_id: TaskId.optional(),
  })
  .meta({ id: 'EventHistoryQuery' });
const TaskParams = z.object({ task_id: TaskId });
const WorkerParams = z.object({ worker_id: WorkerId });
const OfferParams = z.object({ offer_id: OfferId });
const LeaseParams = z.object({ lease_id: LeaseId });
/** Repo keys may hold a slash (`owner/name`), so the key is the rest of the path. */
const RepoParams = z.object({ '*': RepoKey });

export const routes = {
  healthz: {
    method: 'GET',
    path: '/healthz',
    auth: 'none',
    summary: 'Liveness probe.',
    v01: true,
    response: Ok,
  },
  registerWorker: {
    method: 'POST',
    path: '/v1/workers/register',
    auth: 'none',
    summary: 'Register a worker; the token is returned once.',
    v01: true,
    body: RegisterWorkerRequest,
    response: RegisterWorkerResponse,
  },
  heartbeat: {
    method: 'POST',
    path: '/v1/workers/heartbeat',
    auth: 'worker',
    summary: "Report liveness and status; renews the worker's leases.",
    v01: true,
    body: HeartbeatRequest,
    idempotent: true,
    response: HeartbeatResponse,
  },
  getWork: {
    method: 'GET',
    path: '/v1/work',
    auth: 'worker',
    summary: "The worker's current leases, after assigning what it is eligible for.",
    v01: true,
    response: WorkResponse,
  },
  updateStatus: {
    method: 'POST',
    path: '/v1/tasks/{task_id}/status',
    auth: 'worker',
    summary: 'Move a leased task along its lifecycle.',
    v01: true,
    params: TaskParams,
    body: StatusUpdateRequest,
    idempotent: true,
    response: StatusUpdateResponse,
  },
  upsertRepo: {
    method: 'POST',
    path: '/v1/admin/repos',
    auth: 'admin',
    summary: 'Create or update a repo and its review budget.',
    v01: true,
    body: RepoUpsertRequest,
    response: RepoUpsertResponse,
  },
  createTask: {
    method: 'POST',
    path: '/v1/admin/tasks',
    auth: 'admin',
    summary: 'Create a task.',
    v01: true,
    body: TaskCreateRequest,
    idempotent: true,
    response: TaskCreateResponse,
  },
  poolState: {
    method: 'GET',
    path: '/v1/admin/state',
    auth: 'admin',
    summary: 'Counts of workers online and tasks by status.',
    v01: true,
    response: PoolState,
  },
  renewLease: {
    method: 'POST',
    path: '/v1/leases/{lease_id}/renew',
    auth: 'worker',
    summary: 'Extend one lease by its TTL.',
    params: LeaseParams,
    idempotent: true,
    response: LeaseRenewResponse,
  },
  releaseLease: {
    method: 'POST',
    path: '/v1/leases/{lease_id}/release',
    auth: 'worker',
    summary: 'Give a task back to the queue.',
    params: LeaseParams,
    body: LeaseReleaseRequest,
    idempotent: true,
    response: LeaseReleaseResponse,
  },
  listTasks: {
    method: 'GET',
    path: '/v1/tasks',
    auth: 'admin',
    summary: 'List tasks, filtered and paginated.',
    query: TaskListQuery,
    response: TaskPage,
  },
  getTask: {
    method: 'GET',
    path: '/v1/tasks/{task_id}',
    auth: 'worker_or_admin',
    summary: 'One task.',
    params: TaskParams,
    response: Task,
  },
  updateTask: {
    method: 'PATCH',
    path: '/v1/admin/tasks/{task_id}',
    auth: 'admin',
    summary: "Edit a task's fields, optionally only if its version matches.",
    params: TaskParams,
    body: TaskUpdateRequest,
    response: Task,
  },
  cancelTask: {
    method: 'POST',
    path: '/v1/admin/tasks/{task_id}/cancel',
    auth: 'admin',
    summary: 'Cancel a task that has not finished.',
    params: TaskParams,
    response: Task,
  },
  requeueTask: {
    method: 'POST',
    path: '/v1/admin/tasks/{task_id}/requeue',
    auth: 'admin',
    summary: 'Take a task back from its worker and put it in the queue.',
    params: TaskParams,
    response: Task,
  },
  explainTask: {
    method: 'GET',
    path: '/v1/admin/tasks/{task_id}/explanation',
    auth: 'admin',
    summary:
      'Why a task is or is not being handed out now: what holds it back for every worker (its status, dependencies, review budget or area), else the online workers by the first rule that stops each (v1 addition).',
    params: TaskParams,
    response: TaskExplanation,
  },
  mergeTask: {
    method: 'POST',
    path: '/v1/admin/tasks/{task_id}/merge',
    auth: 'admin',
    summary: "Record that a task's PR was merged.",
    params: TaskParams,
    response: Task,
  },
  listEvents: {
    method: 'GET',
    path: '/v1/events/history',
    auth: 'worker_or_admin',
    summary:
      'Events after a sequence number, oldest first (JSON). Admins see all; a worker sees its own. The live stream is GET /v1/events (Server-Sent Events).',
    query: EventHistoryQuery,
    response: z.object({ events: z.array(OwpEvent) }),
  },
  listWorkers: {
    method: 'GET',
    path: '/v1/admin/workers',
    auth: 'admin',
    summary: 'All registered workers.',
    response: z.object({ workers: z.array(Worker) }),
  },
  getWorker: {
    method: 'GET',
    path: '/v1/admin/workers/{worker_id}',
    auth: 'admin',
    summary:
      'One worker, as the listing shows it: what a view re-reads after an event names the worker.',
    params: WorkerParams,
    response: Worker,
  },
  pauseWorker: {
    method: 'POST',
    path: '/v1/admin/workers/{worker_id}/pause',
    auth: 'admin',
    summary: 'Stop new leases for a worker; it keeps the ones it has.',
    params: WorkerParams,
    response: Worker,
  },
  resumeWorker: {
    method: 'POST',
    path: '/v1/admin/workers/{worker_id}/resume',
    auth: 'admin',
    summary: 'Let a paused worker receive leases again.',
    params: WorkerParams,
    response: Worker,
  },
  replaceWorkerToken: {
    method: 'POST',
    path: '/v1/admin/workers/{worker_id}/token',
    auth: 'admin',
    summary:
      'Give a worker a new token, shown once; the one it had is refused from then on (a lost or ' +
      'leaked token). The worker keeps its id, history, leases and pause.',
    params: WorkerParams,
    response: WorkerTokenResponse,
  },
  listRepos: {
    method: 'GET',
    path: '/v1/admin/repos',
    auth: 'admin',
    summary: 'All repos with their budgets and locks.',
    response: z.object({ repos: z.array(Repo) }),
  },
  getRepo: {
    method: 'GET',
    path: '/v1/admin/repos/*',
    auth: 'admin',
    summary: 'One repo.',
    params: RepoParams,
    response: Repo,
  },
  deleteRepo: {
    method: 'DELETE',
    path: '/v1/admin/repos/*',
    auth: 'admin',
    summary: 'Delete a repo with no open tasks.',
    params: RepoParams,
    response: Ok,
  },
  auditEvents: {
    method: 'GET',
    path: '/v1/audit/events',
    auth: 'admin',
    viewerDenied: true,
    summary:
      'The audit log: every event with its actor, filtered by type, actor, task, repo and time, a page at a time; JSON or CSV.',
    query: AuditRouteQuery,
    response: AuditPage,
    csv: true,
  },
  backupDatabase: {
    method: 'GET',
    path: '/v1/admin/backup',
    auth: 'admin',
    viewerDenied: true,
    summary:
      'A consistent copy of the whole database, as a SQLite file: a backup to keep off the host.',
    response: z.never(),
    download: 'application/vnd.sqlite3',
  },
  repoAnalytics: {
    method: 'GET',
    path: '/v1/analytics/repositories/*',
    auth: 'admin',
    summary:
      "A repo's throughput, lead and cycle times, requeue and offer rates, worker utilization and review-budget saturation over a period.",
    params: RepoParams,
    query: AnalyticsQuery,
    response: RepoAnalytics,
  },
  explainWork: {
    method: 'GET',
    path: '/v1/work/explanation',
    auth: 'worker',
    summary:
      'Why the worker is given no work: what keeps it from any task (paused, offline, full), else the ready queue as counts by what its skills and the review budgets allow, and the rules that stop it from the first tasks within reach (v1 addition).',
    response: WorkExplanation,
  },
  listOffers: {
    method: 'GET',
    path: '/v1/work/offers',
    auth: 'worker',
    summary:
      "The worker's open offers (repos with offer assignment), after offering what it is eligible for.",
    response: OffersResponse,
  },
  acceptOffer: {
    method: 'POST',
    path: '/v1/work/offers/{offer_id}/accept',
    auth: 'worker',
    summary: 'Take an offered task: answers 201 with the lease.',
    params: OfferParams,
    idempotent: true,
    response: WorkLease,
    successStatus: 201,
  },
  rejectOffer: {
    method: 'POST',
    path: '/v1/work/offers/{offer_id}/reject',
    auth: 'worker',
    summary:
      'Turn an offer down, saying why; the task goes back to the queue and is not offered to this worker again for a while.',
    params: OfferParams,
    body: OfferRejectRequest,
    idempotent: true,
    response: OfferRejectResponse,
  },
  setTrustTier: {
    method: 'POST',
    path: '/v1/workers/{worker_id}/trust-tier',
    auth: 'admin',
    summary: "Set a worker's trust tier; the reason goes to the audit log.",
    params: WorkerParams,
    body: TrustTierRequest,
    response: Worker,
  },
  workerReputation: {
    method: 'GET',
    path: '/v1/workers/{worker_id}/reputation',
    auth: 'worker_or_admin',
    summary:
      "A worker's reputation and the outcomes it comes from (a worker may read only its own).",
    params: WorkerParams,
    response: WorkerReputation,
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof routes;
export { ErrorEnvelope, IdempotencyKey };
