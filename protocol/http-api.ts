import type { AnalyticsQuery } from './analytics.ts';
import type { CreateOptions, OwpApi, StreamStatus, Subscription } from './api.ts';
import type { AuditQuery } from './audit.ts';
import { OwpClient, type ClientOptions } from './client.ts';
import { EventStreamClient } from './event-stream-client.ts';
import type { OwpEvent } from './events.ts';
import type { RepoUpsertRequest } from './repos.ts';
import type {
  StatusUpdateRequest,
  TaskCreateRequest,
  TaskListQuery,
  TaskUpdateRequest,
} from './tasks.ts';
import type { OfferRejectRequest } from './leases.ts';
import type { HeartbeatRequest, RegisterWorkerRequest, TrustTierRequest } from './workers.ts';

export interface HttpApiOptions extends ClientOptions {
  /** fetch for the event stream (the REST calls use `transport`). */
  fetch?: typeof fetch;
}

/** `OwpApi` over HTTP: REST through the typed client, live events through fetch-based SSE. */
export class HttpOwpApi implements OwpApi {
  readonly client: OwpClient;

  constructor(private readonly options: HttpApiOptions) {
    this.client = new OwpClient(options);
  }

  registerWorker(body: RegisterWorkerRequest) {
    return this.client.call('registerWorker', { body });
  }
  heartbeat(body: HeartbeatRequest = {}) {
    return this.client.call('heartbeat', { body });
  }
  getWork() {
    return this.client.call('getWork', {});
  }
  async updateStatus(task_id: string, body: StatusUpdateRequest) {
    return (await this.client.call('updateStatus', { params: { task_id }, body })).task;
  }
  renewLease(lease_id: string) {
    return this.client.call('renewLease', { params: { lease_id } });
  }
  releaseLease(lease_id: string, reason?: string) {
    return this.client.call('releaseLease', { params: { lease_id }, body: { reason } });
  }
  async upsertRepo(body: RepoUpsertRequest) {
    return (await this.client.call('upsertRepo', { body })).settings;
  }
  async listRepos() {
    return (await this.client.call('listRepos', {})).repos;
  }
  getRepo(key: string) {
    return this.client.call('getRepo', { params: { '*': key } });
  }
  async deleteRepo(key: string) {
    await this.client.call('deleteRepo', { params: { '*': key } });
  }
  async createTask(body: TaskCreateRequest, options: CreateOptions = {}) {
    return (await this.client.call('createTask', { body, ...options })).task;
  }
  getTask(task_id: string) {
    return this.client.call('getTask', { params: { task_id } });
  }
  listTasks(query: TaskListQuery = {}) {
    return this.client.call('listTasks', { query });
  }
  updateTask(task_id: string, body: TaskUpdateRequest) {
    return this.client.call('updateTask', { params: { task_id }, body });
  }
  cancelTask(task_id: string) {
    return this.client.call('cancelTask', { params: { task_id } });
  }
  requeueTask(task_id: string) {
    return this.client.call('requeueTask', { params: { task_id } });
  }
  mergeTask(task_id: string) {
    return this.client.call('mergeTask', { params: { task_id } });
  }
  async listWorkers() {
    return (await this.client.call('listWorkers', {})).workers;
  }
  explainTask(task_id: string) {
    return this.client.call('explainTask', { params: { task_id } });
  }
  getWorker(worker_id: string) {
    return this.client.call('getWorker', { params: { worker_id } });
  }
  pauseWorker(worker_id: string) {
    return this.client.call('pauseWorker', { params: { worker_id } });
  }
  resumeWorker(worker_id: string) {
    return this.client.call('resumeWorker', { params: { worker_id } });
  }
  replaceWorkerToken(worker_id: string) {
    return this.client.call('replaceWorkerToken', { params: { worker_id } });
  }
  setTrustTier(worker_id: string, body: TrustTierRequest) {
    return this.client.call('setTrustTier', { params: { worker_id }, body });
  }
  workerReputation(worker_id: string) {
    return this.client.call('workerReputation', { params: { worker_id } });
  }
  explainWork() {
    return this.client.call('explainWork', {});
  }
  listOffers() {
    return this.client.call('listOffers', {});
  }
  acceptOffer(offer_id: string) {
    return this.client.call('acceptOffer', { params: { offer_id } });
  }
  rejectOffer(offer_id: string, body: OfferRejectRequest) {
    return this.client.call('rejectOffer', { params: { offer_id }, body });
  }
  state() {
    return this.client.call('poolState', {});
  }
  auditEvents(query: AuditQuery = {}) {
    return this.client.call('auditEvents', { query });
  }
  repoAnalytics(repo: string, query: AnalyticsQuery = {}) {
    return this.client.call('repoAnalytics', { params: { '*': repo }, query });
  }
  async events(after: number, limit = 500): Promise<OwpEvent[]> {
    return (await this.client.call('listEvents', { query: { after, limit } })).events as OwpEvent[];
  }
  subscribe(
    after: number,
    onEvent: (event: OwpEvent) => void,
    onStatus?: (status: StreamStatus) => void,
  ): Subscription & { reconnectNow(): void } {
    const headers: Record<string, string> = this.options.adminToken
      ? { 'x-admin-token': this.options.adminToken }
      : this.options.workerToken
        ? { authorization: `Bearer ${this.options.workerToken}` }
        : {};
    return new EventStreamClient({
      url: `${this.client.baseUrl}/v1/events`,
      headers,
      after,
      onEvent,
      onStatus,
      fetch: this.options.fetch,
    });
  }
}
