/**
 * One AI agent as an OWP worker: what the `owp mcp` tools do, as plain async methods (the MCP
 * layer in `mcp-server.ts` only adapts arguments and results). Credentials are saved to and read
 * from the same file `owp worker register` uses, so an agent and a person at the CLI can share a
 * registration, and the token never appears in a tool result.
 */
import { fileURLToPath } from 'node:url';
import type { OwpApi } from '../../protocol/api.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { OfferRejectRequest, WorkLease, WorkOffer } from '../../protocol/leases.ts';
import type { RepoContract } from '../../protocol/repos.ts';
import type { Task } from '../../protocol/tasks.ts';
import type { HeartbeatResponse, RegisterWorkerRequest } from '../../protocol/workers.ts';
import { readCredentials, writeCredentials, type WorkerCredentials } from '../cli/config-file.ts';
import { issueRefOf } from '../github/issue-mapping.ts';
import { beatIntervalMs } from './keep-alive.ts';
import type { WorkerBackend } from './worker-backend.ts';

export interface WorkerSessionOptions {
  backend: WorkerBackend;
  /** The credentials file (`~/.config/owp/config.json` unless `--config`). */
  configPath: string;
  /** Seconds between keep-alive heartbeats: said in the working agreement. */
  heartbeatSeconds: number;
  /** Told when `nextBeatMs()` may have changed (a lease with a shorter TTL came or went). */
  onBeatChange?: () => void;
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

/** What a worker whose token the pool refuses can do about it, for the agent and its operator. */
export const NEW_TOKEN_HINT =
  'If an admin gave this worker a new token (owp admin new-token), have it saved with `owp worker token`: this session takes it from the config file, no restart needed.';

export class WorkerSession {
  private credentials: WorkerCredentials | undefined;
  /** Credentials in the file that belong to another server: said, rather than "not registered". */
  private readonly foreign: WorkerCredentials | undefined;
  /** Leases held, as last seen; null until this session first read them. */
  private leaseCount: number | null = null;
  /** The shortest lease TTL held, as last seen; the keep-alive beats a few times within it. */
  private shortestTtlMs: number | null = null;
  /** Each lease's TTL, by lease id, as last seen. */
  private ttls = new Map<string, number>();
  /** A pause and a note the agent chose with `heartbeat`: the keep-alive keeps saying them. */
  private paused = false;
  private note: string | undefined;
  private registering: Promise<unknown> = Promise.resolve();
  /**
   * A token the pool refused at a keep-alive beat: not sent again (each refusal counts against the
   * address's 30 failed sign-ins a minute) until the file holds another (`owp worker token`).
   */
  private refusedToken: string | null = null;

  /** Why the credentials file could not be read (not JSON, not credentials), when it could not. */
  private unreadable: string | undefined;

  constructor(private readonly options: WorkerSessionOptions) {
    let saved: WorkerCredentials | undefined;
    try {
      saved = readCredentials(options.configPath);
    } catch (error) {
      // Said by the tools, not by dying at start: an agent sees only "connection closed" then.
      this.unreadable = error instanceof Error ? error.message : String(error);
    }
    if (saved?.url === options.backend.target) this.credentials = saved;
    else if (saved) this.foreign = saved;
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
  register(
    request: RegisterWorkerRequest & { replace?: boolean },
  ): Promise<{ worker_id: string; already_registered: boolean; config: string }> {
    // One at a time: calls made together would each register a worker, and all but the last be
    // orphaned (the file keeps one), while each answer named a worker of its own.
    const next = this.registering.catch(() => undefined).then(() => this.registerNow(request));
    this.registering = next;
    return next;
  }

  private async registerNow(
    request: RegisterWorkerRequest & { replace?: boolean },
  ): Promise<{ worker_id: string; already_registered: boolean; config: string }> {
    const { replace, ...body } = request;
    const path = this.options.configPath;
    const current = this.savedAgain();
    if (current && !replace) {
      try {
        // A read with no side effect (getWork would grant leases) proves the token still works.
        await this.options.backend.api(current.token).events(0, 1);
        return { worker_id: current.worker_id, already_registered: true, config: path };
      } catch (error) {
        if (!(error instanceof OwpError && error.code === 'unauthorized')) throw error;
        // Not registered afresh by itself: the worker may have a new token waiting to be saved,
        // and a new worker in the file would leave its leases to expire.
        throw new OwpError(
          'unauthorized',
          `The pool refuses the token saved in ${path} for worker ${current.worker_id}. ${NEW_TOKEN_HINT} If the pool was reset or the worker is gone, register with replace: true to make a new worker.`,
        );
      }
    }
    if (this.unreadable && !replace) {
      throw new OwpError(
        'forbidden',
        `${this.unreadable}. Registering with replace: true overwrites that file with a new worker; or ask whoever started owp mcp to fix it or pass --config with another file.`,
      );
    }
    const saved = replace ? undefined : readCredentials(path);
    if (saved && saved.url !== this.options.backend.target && !replace) {
      throw new OwpError(
        'forbidden',
        `${path} holds worker ${saved.worker_id} of ${saved.url}, not of ${this.options.backend.target}: ask whoever started owp mcp to pass --config with another file. Registering with replace: true overwrites it, and that worker's token is then lost for good.`,
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
    this.unreadable = undefined;
    return { worker_id: answer.worker_id, already_registered: false, config: path };
  }

  /**
   * The agent's own heartbeat. What it says is kept: `paused` stays paused through the
   * keep-alive's beats (which said idle or working again within one interval, and new leases
   * followed) until the agent sends another status or asks for work with `next_task`; its note
   * stays until its next heartbeat.
   */
  async heartbeat(
    request: { status?: 'idle' | 'working' | 'paused'; note?: string } = {},
  ): Promise<HeartbeatResponse> {
    if (request.status !== undefined) this.paused = request.status === 'paused';
    this.note = request.note;
    return this.beat();
  }

  /** The keep-alive: one heartbeat, failures reported rather than thrown. */
  async keepAlive(onError: (message: string) => void): Promise<void> {
    this.options.backend.tick?.();
    const credentials = this.savedAgain();
    if (!credentials || credentials.token === this.refusedToken) return;
    try {
      await this.beat(onError);
      this.refusedToken = null;
    } catch (error) {
      if (error instanceof OwpError && error.code === 'unauthorized') {
        this.refusedToken = credentials.token;
        onError(
          `heartbeat refused: ${error.message} ${NEW_TOKEN_HINT} Heartbeats wait until ${this.options.configPath} holds another token.`,
        );
        return;
      }
      onError(`heartbeat failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Milliseconds until the next keep-alive: the interval asked for, or a third of the shortest
   * lease TTL held when that is less (a repo may set leases as short as 10 s; a lease renewed
   * only every 30 s would expire under a working agent).
   */
  nextBeatMs(): number {
    return beatIntervalMs(this.options.heartbeatSeconds * 1000, this.shortestTtlMs);
  }

  /**
   * A heartbeat, then the leases as it left them: a heartbeat renews every live lease, so the
   * time each has left at the heartbeat's `server_time` is its TTL (the server's clock, not this
   * machine's), and a lease the heartbeat granted counts at once.
   */
  private async beat(onError?: (message: string) => void): Promise<HeartbeatResponse> {
    const api = this.api();
    // Look first at a session's first beat, so it says "working" honestly for leases held from
    // before (`owp mcp` restarted under a working agent), rather than idle until the next one.
    if (this.leaseCount === null) this.saw((await api.getWork()).leases);
    const answer = await api.heartbeat({ status: this.status(), note: this.note });
    // The heartbeat went through: a failure to read the leases after it is not its failure. The
    // leases known before stay, and the next beat reads them again.
    try {
      this.saw((await api.getWork()).leases, answer.server_time);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      onError?.(`heartbeat sent, but reading the leases after it failed: ${message}`);
    }
    return answer;
  }

  private status(): 'idle' | 'working' | 'paused' {
    return this.paused ? 'paused' : (this.leaseCount ?? 0) > 0 ? 'working' : 'idle';
  }

  /**
   * What the agent holds, as the keep-alive and the tools need it. `renewedAt`: the server time of
   * the heartbeat just sent, when there was one. Not expiry − grant: a renewal moves the expiry,
   * not the grant, so that "TTL" grew by every renewal and the beat slowed past the real TTL.
   */
  private saw(leases: readonly WorkLease[], renewedAt?: string): void {
    this.leaseCount = leases.length;
    const ttls = new Map<string, number>();
    for (const lease of leases) {
      if (lease.lease_expires_at === null) continue;
      const expires = Date.parse(lease.lease_expires_at);
      ttls.set(
        lease.lease_id,
        renewedAt !== undefined
          ? Math.max(0, expires - Date.parse(renewedAt))
          : // Unknown here means granted since the last heartbeat, so not yet renewed.
            (this.ttls.get(lease.lease_id) ?? ttlOf(lease)),
      );
    }
    this.ttls = ttls;
    this.setShortestTtl(ttls.size > 0 ? Math.min(...ttls.values()) : null);
  }

  private setShortestTtl(ms: number | null): void {
    if (ms === this.shortestTtlMs) return;
    this.shortestTtlMs = ms;
    this.options.onBeatChange?.();
  }

  /** Heartbeat, then the worker's leases (granting what it may take now); picks one to do. */
  async nextTask(): Promise<NextTask> {
    const api = this.api();
    // Asking for work ends a pause the agent chose.
    this.paused = false;
    const before = await api.getWork();
    const beat = await api.heartbeat({
      status: before.leases.length > 0 ? 'working' : 'idle',
      note: this.note,
    });
    const { worker_id, leases } = await api.getWork();
    this.saw(leases, beat.server_time);
    // Work already started comes first: an agent that lost its context carries on with it rather
    // than start another and leave it held. Then a task not started yet.
    const pick =
      leases.find((l) => l.status === 'in_progress' || l.status === 'blocked') ??
      leases.find((l) => l.status === 'leased') ??
      leases[0];
    const others = leases
      .filter((l) => l !== pick)
      .map((l) => ({
        task_id: l.task_id,
        title: l.title,
        status: l.status,
        lease_expires_at: l.lease_expires_at,
      }));
    // Offers hold room for this worker and run out unanswered: shown whatever else it holds.
    const { offers } = await api.listOffers();
    if (!pick) {
      return {
        worker_id,
        lease: null,
        contract: null,
        other_leases: [],
        offers,
        message: offers.length
          ? `No lease, but ${offers.length} offer(s): read them, then call accept_offer with the offer_id to take one, or reject_offer with a reason.`
          : `No task you can take right now. ${await whyNoWork(api)} Try again later.`,
      };
    }
    const lease = forAgent(pick);
    return {
      worker_id,
      lease,
      contract: this.contractFor(lease),
      other_leases: others,
      offers,
      message:
        (pick.status === 'leased'
          ? `Task ${pick.task_id} is yours until ${pick.lease_expires_at}; start with report_progress (in_progress).`
          : `You already hold task ${pick.task_id} (${pick.status}); carry on.`) +
        (offers.length
          ? ` ${offers.length} offer(s) wait for an answer too: accept_offer or reject_offer each before it runs out.`
          : ''),
    };
  }

  /** The worker's current leases; as at any heartbeat, the pool may grant one it had ready. */
  async leases(): Promise<LeaseForAgent[]> {
    const { leases } = await this.api().getWork();
    this.saw(leases);
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
    if (lease.status === 'pr_opened' && lease.task.artifact?.pr_url === prUrl) {
      // Recorded already: a retry after a lost answer.
      return lease.task;
    }
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
    const accepted = await this.api().acceptOffer(offerId);
    const lease = forAgent(accepted);
    this.leaseCount = (this.leaseCount ?? 0) + 1;
    // Its TTL counts at once: a short one must not wait out the keep-alive's longer interval.
    this.ttls.set(accepted.lease_id, ttlOf(accepted));
    this.setShortestTtl(Math.min(...this.ttls.values()));
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

  /**
   * The lease this worker holds on a task: the fence for a write about it. A task with its PR open
   * is still held (it may be released if the PR is closed unmerged) though no longer among the
   * leases `getWork` lists; a task no longer held says what became of it.
   */
  private async heldLease(
    taskId: string,
  ): Promise<{ lease_id: string; epoch: number; status: Task['status']; task: Task }> {
    const api = this.api();
    const [{ worker_id, leases }, task] = await Promise.all([
      api.getWork(),
      // A worker reads only the tasks it holds or held: another's, or none, is refused.
      api.getTask(taskId).catch((error: unknown) => {
        if (error instanceof OwpError && ['task_not_found', 'forbidden'].includes(error.code)) {
          return null;
        }
        throw error;
      }),
    ]);
    this.saw(leases);
    if (task && task.assignee === worker_id && task.lease) {
      return { lease_id: task.lease.lease_id, epoch: task.lease.epoch, status: task.status, task };
    }
    throw new OwpError(
      'not_lease_holder',
      !task
        ? `You hold no lease on task ${taskId} (if you held one, it has ended: it expired, or an admin requeued the task); call next_task or my_leases to see yours.`
        : `You no longer hold task ${taskId}: it is ${task.status} now${
            task.assignee === worker_id && task.lease === null
              ? ' and your lease on it has ended'
              : ''
          }. Call next_task or my_leases to see what you hold.`,
      { task_id: taskId, status: task?.status ?? null },
    );
  }

  private api() {
    if (!this.credentials && this.foreign) {
      // Not "call register": registering would overwrite that worker's only copy of its token.
      throw new OwpError(
        'unauthorized',
        `Not registered with ${this.options.backend.target}: ${this.options.configPath} holds worker ${this.foreign.worker_id} of ${this.foreign.url}. Ask whoever started owp mcp to pass --config with another file, or ${
          this.foreign.url.startsWith('file:')
            ? `--db ${fileURLToPath(this.foreign.url)}`
            : `--url ${this.foreign.url}`
        }.`,
      );
    }
    if (!this.credentials && this.unreadable) {
      throw new OwpError(
        'unauthorized',
        `Cannot use the saved credentials: ${this.unreadable}. Ask whoever started owp mcp to fix it or pass --config with another file; register with replace: true overwrites it with a new worker.`,
      );
    }
    const credentials = this.savedAgain();
    if (!credentials) {
      throw new OwpError('unauthorized', 'Not registered yet: call the register tool first.');
    }
    return this.options.backend.api(credentials.token);
  }

  /**
   * The credentials in use, taking a new token for the same worker from the file when one was
   * saved there while this session ran (`owp worker token`, after an admin replaced the token).
   */
  private savedAgain(): WorkerCredentials | undefined {
    const credentials = this.credentials;
    if (!credentials) return undefined;
    let saved: WorkerCredentials | undefined;
    try {
      saved = readCredentials(this.options.configPath);
    } catch {
      return credentials; // Unreadable for a moment (being written): the token in use stays.
    }
    if (
      saved &&
      saved.url === credentials.url &&
      saved.worker_id === credentials.worker_id &&
      saved.token !== credentials.token
    ) {
      this.credentials = saved;
    }
    return this.credentials;
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
        kept_alive_by: `heartbeats this MCP server sends while it runs: every ${Math.round(this.nextBeatMs() / 1000)} s now (every ${this.options.heartbeatSeconds} s at most, more often for a short lease)`,
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

/** A lease's TTL as granted: its expiry − its grant, true until its first renewal. */
function ttlOf(lease: WorkLease): number {
  return (
    Date.parse(lease.lease_expires_at ?? lease.lease_granted_at) -
    Date.parse(lease.lease_granted_at)
  );
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

/**
 * Why the pool gives this worker nothing, in its words (`GET /v1/work/explanation`), so an agent
 * knows whether to wait, heartbeat, or ask for another skill; a server without that route (older
 * than v1) gets the general reasons.
 */
async function whyNoWork(api: OwpApi): Promise<string> {
  try {
    return (await api.explainWork()).summary;
  } catch {
    return '(None ready that matches your skills and capacity, or the repos are at their review budget.)';
  }
}
