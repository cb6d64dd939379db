/**
 * One AI agent as an OWP worker: what the `owp mcp` tools do, as plain async methods (the MCP
 * layer in `mcp-server.ts` only adapts arguments and results). Credentials are saved to and read
 * from the same file `owp worker register` uses, so an agent and a person at the CLI can share a
 * registration, and the token never appears in a tool result.
 */
import { OwpError } from '../../protocol/errors.ts';
import type { OfferRejectRequest, WorkLease, WorkOffer } from '../../protocol/leases.ts';
import type { RepoContract } from '../../protocol/repos.ts';
import type { Task } from '../../protocol/tasks.ts';
import type { HeartbeatResponse, RegisterWorkerRequest } from '../../protocol/workers.ts';
import { readCredentials, writeCredentials, type WorkerCredentials } from '../cli/config-file.ts';
import { issueRefOf } from '../github/issue-mapping.ts';
import type { WorkerBackend } from './worker-backend.ts';

export interface WorkerSessionOptions {
  backend: WorkerBackend;
  /** The credentials file (`~/.config/owp/config.json` unless `--config`). */
  configPath: string;
  /** Seconds between keep-alive heartbeats: said in the working agreement. */
  heartbeatSeconds: number;
}

/** A lease as an agent needs it: the task, the fence for its writes, and what is expected. */
export interface LeaseForAgent {
  task_id: string;
  lease_id: string;
  epoch: number;
  status: WorkLease['status'];
  repo: string;
  title: string;
  description: string;
  estimate_points: number;
  priority: number;
  area: string | null;
  tier: number;
  required_skills: string[];
  lease_expires_at: string | null;
  /** The GitHub issue the task was imported from, when it was. */
  issue_url: string | null;
  /** The repo's own contract (setup, test, lint, branch naming, PR template), if it has one. */
  repo_contract: RepoContract | null;
}

export interface NextTask {
  worker_id: string;
  /** The task to work on now: a fresh lease first, else one already under way; null if none. */
  lease: LeaseForAgent | null;
  /**
   * What the agent must follow: the repo's contract when it has one (setup, test and lint
   * commands, branch naming, PR template), what the server knows about the lease, and the
   * working agreement of the pool.
   */
  contract: Record<string, unknown> | null;
  other_leases: Array<Pick<LeaseForAgent, 'task_id' | 'title' | 'status' | 'lease_expires_at'>>;
  /** Work offered rather than leased (repos with offer assignment), when there is no lease. */
  offers: WorkOffer[];
  message: string;
}

export class WorkerSession {
  private credentials: WorkerCredentials | undefined;
  private leaseCount = 0;

  constructor(private readonly options: WorkerSessionOptions) {
    const saved = readCredentials(options.configPath);
    if (saved?.url === options.backend.target) this.credentials = saved;
  }

  /** The registered worker's id, or undefined before `register`. */
  get workerId(): string | undefined {
    return this.credentials?.worker_id;
  }

  /**
   * Registers a worker and saves its credentials. Already registered here (and the token still
   * works): returns that worker unchanged. Credentials for another server in the file are kept
   * unless `replace` — a second registration should not silently orphan the first.
   */
  async register(
    request: RegisterWorkerRequest & { replace?: boolean },
  ): Promise<{ worker_id: string; already_registered: boolean; config: string }> {
    const { replace, ...body } = request;
    const path = this.options.configPath;
    if (this.credentials && !replace) {
      try {
        // A read with no side effect (getWork would grant leases) proves the token still works.
        await this.options.backend.api(this.credentials.token).events(0, 1);
        return { worker_id: this.credentials.worker_id, already_registered: true, config: path };
      } catch (error) {
        // A reset database or a removed worker: register afresh below.
        if (!(error instanceof OwpError && error.code === 'unauthorized')) throw error;
      }
    }
    const saved = readCredentials(path);
    if (saved && saved.url !== this.options.backend.target && !replace) {
      throw new OwpError(
        'forbidden',
        `${path} holds worker ${saved.worker_id} of ${saved.url}; call register with replace: true to overwrite it, or start owp mcp with --config pointing to another file.`,
      );
    }
    const answer = await this.options.backend.api().registerWorker(body);
    this.credentials = {
      url: this.options.backend.target,
      worker_id: answer.worker_id,
      token: answer.token,
      name: body.name,
    };
    writeCredentials(path, this.credentials);
    return { worker_id: answer.worker_id, already_registered: false, config: path };
  }

  async heartbeat(
    request: { status?: 'idle' | 'working' | 'paused'; note?: string } = {},
  ): Promise<HeartbeatResponse> {
    return this.api().heartbeat({
      status: request.status ?? (this.leaseCount > 0 ? 'working' : 'idle'),
      note: request.note,
    });
  }

  /** The keep-alive: one heartbeat, failures reported rather than thrown. */
  async keepAlive(onError: (message: string) => void): Promise<void> {
    this.options.backend.tick?.();
    if (!this.credentials) return;
    try {
      await this.heartbeat();
    } catch (error) {
      onError(error instanceof Error ? error.message : String(error));
    }
  }

  /** Heartbeat, then the worker's leases (granting what it may take now); picks one to do. */
  async nextTask(): Promise<NextTask> {
    const api = this.api();
    const before = await api.getWork();
    await api.heartbeat({ status: before.leases.length > 0 ? 'working' : 'idle' });
    const { worker_id, leases } = await api.getWork();
    this.leaseCount = leases.length;
    const pick = leases.find((l) => l.status === 'leased') ?? leases[0];
    const others = leases
      .filter((l) => l !== pick)
      .map((l) => ({
        task_id: l.task_id,
        title: l.title,
        status: l.status,
        lease_expires_at: l.lease_expires_at,
      }));
    if (!pick) {
      const { offers } = await api.listOffers();
      return {
        worker_id,
        lease: null,
        contract: null,
        other_leases: [],
        offers,
        message: offers.length
          ? `No lease, but ${offers.length} offer(s): read them, then call accept_offer with the offer_id to take one, or reject_offer with a reason.`
          : 'No task you can take right now (none ready that matches your skills and capacity, or the repos are at their review budget). Try again later.',
      };
    }
    const lease = forAgent(pick);
    return {
      worker_id,
      lease,
      contract: this.contractFor(lease),
      other_leases: others,
      offers: [],
      message:
        pick.status === 'leased'
          ? `Task ${pick.task_id} is yours until ${pick.lease_expires_at}; start with report_progress (in_progress).`
          : `You already hold task ${pick.task_id} (${pick.status}); carry on.`,
    };
  }

  /** The worker's current leases, without granting anything new. */
  async leases(): Promise<LeaseForAgent[]> {
    const { leases } = await this.api().getWork();
    this.leaseCount = leases.length;
    return leases.map(forAgent);
  }

  /** Moves a held task to in_progress or blocked, fenced by its lease. */
  async reportProgress(
    taskId: string,
    status: 'in_progress' | 'blocked',
    message?: string,
  ): Promise<Task> {
    const lease = await this.heldLease(taskId);
    return this.api().updateStatus(taskId, {
      status,
      message,
      lease_id: lease.lease_id,
      epoch: lease.epoch,
    });
  }

  /** Records the PR; a task not yet started is moved to in_progress first, as the lifecycle asks. */
  async openPr(
    taskId: string,
    prUrl: string,
    extra: { commit_sha?: string; message?: string } = {},
  ): Promise<Task> {
    const lease = await this.heldLease(taskId);
    const fence = { lease_id: lease.lease_id, epoch: lease.epoch };
    if (lease.status === 'leased' || lease.status === 'blocked') {
      await this.api().updateStatus(taskId, { status: 'in_progress', ...fence });
    }
    return this.api().updateStatus(taskId, {
      status: 'pr_opened',
      message: extra.message,
      artifact: { pr_url: prUrl, commit_sha: extra.commit_sha },
      ...fence,
    });
  }

  /** Work offered to this worker (repos with offer assignment), after offering what fits. */
  async offers(): Promise<WorkOffer[]> {
    return (await this.api().listOffers()).offers;
  }

  /** Takes an offer: the lease, with the contract to follow. */
  async acceptOffer(
    offerId: string,
  ): Promise<{ lease: LeaseForAgent; contract: Record<string, unknown> }> {
    const lease = forAgent(await this.api().acceptOffer(offerId));
    this.leaseCount++;
    return { lease, contract: this.contractFor(lease) };
  }

  /** Turns an offer down, with the reason; the task goes back to the queue. */
  async rejectOffer(
    offerId: string,
    reason: OfferRejectRequest['reason'],
    message?: string,
  ): Promise<{ ok: true; task_id: string }> {
    return this.api().rejectOffer(offerId, { reason, message });
  }

  /** Gives a held task back to the queue. */
  async release(taskId: string, reason?: string): Promise<{ ok: true; task_id: string }> {
    const lease = await this.heldLease(taskId);
    return this.api().releaseLease(lease.lease_id, reason);
  }

  private async heldLease(taskId: string): Promise<WorkLease> {
    const { leases } = await this.api().getWork();
    this.leaseCount = leases.length;
    const lease = leases.find((l) => l.task_id === taskId);
    if (!lease) {
      throw new OwpError(
        'not_lease_holder',
        `You hold no lease on task ${taskId}; call next_task or my_leases to see yours.`,
        { task_id: taskId },
      );
    }
    return lease;
  }

  private api() {
    if (!this.credentials) {
      throw new OwpError('unauthorized', 'Not registered yet: call the register tool first.');
    }
    return this.options.backend.api(this.credentials.token);
  }

  private contractFor(lease: LeaseForAgent): Record<string, unknown> {
    const own = lease.repo_contract;
    return {
      defined_by_repo: own !== null,
      note: own
        ? "Follow the repo's contract below (setup, test, lint, branch naming, PR template), then what the pool expects."
        : 'This repo has no contributor contract in OWP; below is what the pool knows and expects.',
      ...(own
        ? {
            setup: own.setup ?? null,
            test: own.test ?? null,
            lint: own.lint ?? null,
            branch_naming: own.branch_naming ?? null,
            pr_template: own.pr_template ?? null,
          }
        : {}),
      repo: lease.repo,
      area: lease.area,
      risk_tier: lease.tier,
      required_skills: lease.required_skills,
      source_issue: lease.issue_url,
      lease: {
        lease_id: lease.lease_id,
        epoch: lease.epoch,
        expires_at: lease.lease_expires_at,
        kept_alive_by: `heartbeats this MCP server sends every ${this.options.heartbeatSeconds} s while it runs`,
      },
      expectations: [
        'Call report_progress with status in_progress when you start, and blocked (with the reason) if you get stuck.',
        'Keep the change to this task; the repo reviews a limited number of PRs at a time.',
        'Open one pull request, then call open_pr with its URL: the task then waits for review, not for you.',
        'If you cannot finish, call release with a reason so another worker can take the task.',
      ],
    };
  }
}

function forAgent(lease: WorkLease): LeaseForAgent {
  return {
    task_id: lease.task_id,
    lease_id: lease.lease_id,
    epoch: lease.epoch,
    status: lease.status,
    repo: lease.repo,
    title: lease.title,
    description: lease.description,
    estimate_points: lease.estimate_points,
    priority: lease.priority,
    area: lease.area,
    tier: lease.tier,
    required_skills: lease.required_skills,
    lease_expires_at: lease.lease_expires_at,
    issue_url: issueRefOf(lease.description)?.url ?? null,
    repo_contract: lease.contract ?? null,
  };
}
