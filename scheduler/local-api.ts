import {
  canonicalJson,
  IdempotencyKey,
  OwpError,
  type AnalyticsQuery,
  type AuditQuery,
  type CreateOptions,
  type HeartbeatRequest,
  type OfferRejectRequest,
  type OwpApi,
  type OwpEvent,
  type RegisterWorkerRequest,
  type RepoUpsertRequest,
  type StatusUpdateRequest,
  type StreamStatus,
  type Subscription,
  type TaskCreateRequest,
  type TaskListQuery,
  type TaskUpdateRequest,
  type TrustTierRequest,
} from '../protocol/index.ts';
import { platformTimers } from './timers.ts';
import type { Scheduler } from './engine.ts';
import { parseInput } from './validate.ts';
import { ADMIN_ACTOR } from './write-scope.ts';

export interface LocalApiCredentials {
  /** The worker this API acts as, by its token (as a remote client would present it). */
  workerToken?: string;
  /** Whether admin calls are allowed (the vault owner in embedded mode). */
  admin?: boolean;
}

/**
 * `OwpApi` in-process, over the engine: the embedded backend. Same errors as over HTTP, including
 * 401 for a missing credential, so views behave identically in both modes.
 */
export class LocalOwpApi implements OwpApi {
  constructor(
    private readonly engine: Scheduler,
    private readonly credentials: LocalApiCredentials,
  ) {}

  private worker(): string {
    const token = this.credentials.workerToken;
    const id = token ? this.engine.authenticateWorker(token) : undefined;
    if (!id) throw new OwpError('unauthorized', 'Register as a worker first.');
    return id;
  }

  private admin(): void {
    if (!this.credentials.admin) throw new OwpError('unauthorized', 'This needs the admin role.');
  }

  /** Runs synchronously but answers as a promise, like every other implementation. */
  private async run<T>(fn: () => T): Promise<T> {
    return fn();
  }

  registerWorker(request: RegisterWorkerRequest) {
    return this.run(() => this.engine.registerWorker(request));
  }
  heartbeat(request: HeartbeatRequest = {}) {
    return this.run(() => this.engine.heartbeat(this.worker(), request));
  }
  getWork() {
    return this.run(() => this.engine.getWork(this.worker()));
  }
  updateStatus(taskId: string, request: StatusUpdateRequest) {
    return this.run(() => this.engine.updateStatus(this.worker(), taskId, request));
  }
  renewLease(leaseId: string) {
    return this.run(() => this.engine.renewLease(this.worker(), leaseId));
  }
  releaseLease(leaseId: string, reason?: string) {
    return this.run(() => this.engine.releaseLease(this.worker(), leaseId, { reason }));
  }
  upsertRepo(request: RepoUpsertRequest) {
    return this.run(() => (this.admin(), this.engine.upsertRepo(request)));
  }
  listRepos() {
    return this.run(() => (this.admin(), this.engine.listRepos()));
  }
  getRepo(key: string) {
    return this.run(() => (this.admin(), this.engine.getRepo(key)));
  }
  deleteRepo(key: string) {
    return this.run(() => (this.admin(), this.engine.deleteRepo(key)));
  }
  createTask(request: TaskCreateRequest, { idempotencyKey }: CreateOptions = {}) {
    return this.run(() => {
      this.admin();
      if (idempotencyKey === undefined) return this.engine.createTask(request);
      // As the server does, but by the request alone: there is no method or URL to tell apart.
      const key = parseInput(IdempotencyKey, idempotencyKey);
      return this.engine.idempotent(ADMIN_ACTOR, key, canonicalJson(request), () =>
        this.engine.createTask(request),
      );
    });
  }
  getTask(taskId: string) {
    return this.run(() => {
      if (this.credentials.admin) return this.engine.getTask(taskId);
      const task = this.engine.getTask(taskId);
      if (task.assignee !== this.worker()) {
        throw new OwpError('forbidden', 'A worker may read only the tasks it holds.');
      }
      return task;
    });
  }
  listTasks(query: TaskListQuery = {}) {
    return this.run(() => (this.admin(), this.engine.listTasks(query)));
  }
  updateTask(taskId: string, request: TaskUpdateRequest) {
    return this.run(() => (this.admin(), this.engine.updateTask(taskId, request)));
  }
  cancelTask(taskId: string) {
    return this.run(() => (this.admin(), this.engine.cancelTask(taskId)));
  }
  requeueTask(taskId: string) {
    return this.run(() => (this.admin(), this.engine.requeueTask(taskId)));
  }
  mergeTask(taskId: string) {
    return this.run(() => (this.admin(), this.engine.markMerged(taskId)));
  }
  listWorkers() {
    return this.run(() => (this.admin(), this.engine.listWorkers()));
  }
  explainTask(taskId: string) {
    return this.run(() => (this.admin(), this.engine.explainTask(taskId)));
  }
  getWorker(workerId: string) {
    return this.run(() => (this.admin(), this.engine.getWorker(workerId)));
  }
  pauseWorker(workerId: string) {
    return this.run(() => (this.admin(), this.engine.pauseWorker(workerId)));
  }
  resumeWorker(workerId: string) {
    return this.run(() => (this.admin(), this.engine.resumeWorker(workerId)));
  }
  replaceWorkerToken(workerId: string) {
    return this.run(() => (this.admin(), this.engine.replaceWorkerToken(workerId)));
  }
  setTrustTier(workerId: string, request: TrustTierRequest) {
    return this.run(() => (this.admin(), this.engine.setTrustTier(workerId, request)));
  }
  workerReputation(workerId: string) {
    return this.run(() => {
      if (!this.credentials.admin && this.worker() !== workerId) {
        throw new OwpError('forbidden', 'A worker may read only its own reputation.', {
          worker_id: workerId,
        });
      }
      return this.engine.reputation(workerId);
    });
  }
  explainWork() {
    return this.run(() => this.engine.explainWork(this.worker()));
  }
  listOffers() {
    return this.run(() => this.engine.listOffers(this.worker()));
  }
  acceptOffer(offerId: string) {
    return this.run(() => this.engine.acceptOffer(this.worker(), offerId));
  }
  rejectOffer(offerId: string, request: OfferRejectRequest) {
    return this.run(() => this.engine.rejectOffer(this.worker(), offerId, request));
  }
  state() {
    return this.run(() => (this.admin(), this.engine.state()));
  }
  /** A stretch of the log at a time, yielding to the host in between (as `repoAnalytics`). */
  async auditEvents(query: AuditQuery = {}) {
    this.admin();
    return this.engine.auditEventsPaced(query, nextTask);
  }
  /** Read a page at a time, yielding to the host between pages (Obsidian stays responsive). */
  async repoAnalytics(repo: string, query: AnalyticsQuery = {}) {
    this.admin();
    return this.engine.repoAnalyticsPaced(repo, query, nextTask);
  }
  events(after: number, limit = 500) {
    return this.run(() => this.engine.events({ after, limit, worker_id: this.eventScope() }));
  }

  private eventScope(): string | undefined {
    return this.credentials.admin ? undefined : this.worker();
  }

  subscribe(
    after: number,
    onEvent: (event: OwpEvent) => void,
    onStatus?: (status: StreamStatus) => void,
  ): Subscription {
    const scope = this.eventScope();
    let last = after;
    const deliver = (event: OwpEvent) => {
      if (event.seq <= last || (scope && event.worker_id !== scope)) return;
      last = event.seq;
      onEvent(event);
    };
    const stop = this.engine.onEvent(deliver);
    for (let page = this.engine.events({ after: last, worker_id: scope }); page.length > 0;) {
      page.forEach(deliver);
      page = this.engine.events({ after: last, worker_id: scope });
    }
    onStatus?.('live');
    return { close: stop };
  }
}

/** Lets the host run whatever is waiting (timers, input, other requests) before going on. */
const nextTask = () => new Promise<void>((resolve) => platformTimers.setTimeout(resolve, 0));
