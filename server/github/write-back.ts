/**
 * GitHub write-back, comment-only and opt-in per repository: for a task imported from a GitHub
 * issue (its description starts with the issue URL) in a repository listed in the config, one
 * comment on the issue says who holds the lease and until when, and is edited in place as the
 * task moves on (PR opened with its link, merged, back in the queue) — never a pile of comments.
 *
 * It hears the engine through `OwpApi.subscribe`, so it runs beside the engine in `owp serve` or
 * against a remote server alike. The listener only queues the task id: GitHub calls happen later,
 * one at a time, so a slow or failing GitHub never blocks the scheduler. A job renders the task
 * as it is when the job runs (not as the event said), so retries and coalesced events converge
 * on the current state. Failures are retried with exponential back-off, a bounded number of
 * times, then reported through `onFailure`, the log and the `owp_github_writeback_total` metric
 * (the protocol has no event type for them yet).
 */
import { readFileSync } from 'node:fs';
import type { Octokit } from '@octokit/rest';
import { Counter, type Registry } from 'prom-client';
import type { OwpApi, Subscription } from '../../protocol/api.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { OwpEvent } from '../../protocol/events.ts';
import type { Task } from '../../protocol/tasks.ts';
import type { Worker } from '../../protocol/workers.ts';
import {
  createGithubClient,
  rateLimitWaitMs,
  responseOf,
  type GithubClientOptions,
} from './github-client.ts';
import { issueRefOf, type IssueRef } from './issue-mapping.ts';
import { writeJsonFile } from '../json-file.ts';

/** The hidden line that marks the one comment this integration owns on an issue. */
export const COMMENT_MARKER = '<!-- owp-pool -->';

export interface WriteBackRetry {
  /** Tries per job, the first included (default 5). */
  attempts: number;
  /** First back-off (default 1 s), doubled each time up to `maxDelayMs` (default 30 s). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface WriteBackFailure {
  task_id: string;
  issue_url: string | null;
  attempts: number;
  message: string;
}

export type WriteBackOutcome = 'posted' | 'edited' | 'unchanged' | 'failed' | 'retried' | 'dropped';

export interface GithubWriteBackOptions {
  /** An admin `OwpApi`: the engine in-process (`LocalOwpApi` with admin) or a remote server. */
  api: OwpApi;
  /** GitHub repositories (`owner/name`, case-insensitive) whose issues get comments. */
  repos: readonly string[];
  /** A ready client, else one built from `client` (token, API base). */
  octokit?: Octokit;
  client?: GithubClientOptions;
  /** Start after this event (default: `resume`'s, else the newest one, so history is not replayed). */
  after?: number;
  /**
   * Where the write-back keeps the last event whose jobs are all done (the server: a file beside
   * its database). A start resumes after it, so jobs still queued or running when the process
   * stopped (or died) are done then; without it, they were lost and their comments stayed stale.
   */
  resume?: WriteBackResume;
  retry?: Partial<WriteBackRetry>;
  /** Jobs waiting at most; past it the oldest waiting job is dropped and counted (default 10,000). */
  maxQueue?: number;
  /** A job that failed for good, after its retries. */
  onFailure?: (failure: WriteBackFailure) => void;
  /** One line per comment written, retry and failure; never carries the token. */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Registers `owp_github_writeback_total{outcome}` here (e.g. `app.owp.metrics.registry`). */
  registry?: Registry;
  /** Tests inject time. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface WriteBackResume {
  load(): number | null;
  save(after: number): void;
}

/** The write-back's place in the event log, kept in a file (whole or not at all). */
export function resumeFile(path: string): WriteBackResume {
  return {
    load: () => {
      try {
        const after = (JSON.parse(readFileSync(path, 'utf8')) as { after?: unknown }).after;
        return Number.isSafeInteger(after) && (after as number) >= 0 ? (after as number) : null;
      } catch {
        return null;
      }
    },
    save: (after) => writeJsonFile(path, { after }),
  };
}

/** Events a resume replays at most; past that, it starts from the newest and says so. */
const MAX_REPLAY = 10_000;

/** Parses `OWP_GITHUB_WRITEBACK_REPOS=owner/a,owner/b`. */
export function parseWriteBackRepos(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((repo) => repo.trim())
    .filter((repo) => /^[^/\s]+\/[^/\s]+$/.test(repo));
}

/** Keeps one comment per imported issue in step with its task. `start()`, then `stop()`. */
export class GithubWriteBack {
  /** Counts by outcome, for tests and a status line. */
  readonly counts: Record<WriteBackOutcome, number> = {
    posted: 0,
    edited: 0,
    unchanged: 0,
    failed: 0,
    retried: 0,
    dropped: 0,
  };
  private readonly repos: Set<string>;
  private readonly retry: WriteBackRetry;
  private readonly octokit: Octokit;
  private readonly pending = new Set<string>();
  /** The comment on each issue, by issue URL: its id and the body last written. */
  private readonly comments = new Map<string, { id: number; body: string }>();
  private workers = new Map<string, Worker>();
  private subscription: Subscription | null = null;
  private running: Promise<void> | null = null;
  private readonly stopping = new AbortController();
  private idleWaiters: Array<() => void> = [];
  private readonly metric: Counter<'outcome'> | null;
  /** The newest event heard: once the queue is empty, every job it asked for is done. */
  private heard = 0;
  private saved = 0;

  constructor(private readonly options: GithubWriteBackOptions) {
    this.repos = new Set(options.repos.map((repo) => repo.toLowerCase()));
    this.retry = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000, ...options.retry };
    this.octokit = options.octokit ?? createGithubClient(options.client);
    this.metric = options.registry
      ? new Counter({
          name: 'owp_github_writeback_total',
          help: 'GitHub write-back jobs by outcome (posted, edited, unchanged, retried, failed, dropped).',
          labelNames: ['outcome'],
          registers: [options.registry],
        })
      : null;
  }

  /** Subscribes to the events after `options.after`, else where it stopped, else from now on. */
  async start(): Promise<void> {
    if (this.subscription) return;
    const after = this.options.after ?? (await this.resumePoint());
    this.heard = this.saved = after;
    this.subscription = this.options.api.subscribe(after, (event) => this.onEvent(event));
  }

  private async resumePoint(): Promise<number> {
    const newest = (await this.options.api.state()).last_event_seq;
    const stopped = this.options.resume?.load() ?? null;
    if (stopped === null || stopped > newest) return newest;
    if (newest - stopped > MAX_REPLAY) {
      this.options.log?.(
        'warn',
        `github write-back: ${newest - stopped} events since it last ran; starting from the newest (comments catch up as their tasks move)`,
      );
      return newest;
    }
    return stopped;
  }

  /**
   * Stops listening; the job in hand finishes (its back-off is cut short), the rest wait for the
   * next start when there is a `resume` (it resumes before them), else are dropped.
   */
  async stop(): Promise<void> {
    this.subscription?.close();
    this.subscription = null;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.stopping.abort();
    if (this.pending.size > 0) {
      this.options.log?.(
        'warn',
        `github write-back: stopped with ${this.pending.size} task(s) still to write${
          this.options.resume ? '; written at the next start' : ''
        }`,
      );
    }
    this.pending.clear();
    await this.running;
    this.wakeIdleWaiters();
  }

  /** Resolves once no job is waiting or running: for tests and a graceful shutdown. */
  idle(): Promise<void> {
    if (!this.running && this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The listener: O(1), never awaits, never throws — the engine's write path must not wait. */
  private onEvent(event: OwpEvent): void {
    this.heard = Math.max(this.heard, event.seq);
    if (event.type === 'task.status_changed' && event.task_id) this.enqueue(event.task_id);
    // Nothing to do for it, and nothing waiting: the place moves on, kept within a second.
    else if (!this.running && this.pending.size === 0) this.saveSoon();
  }

  private saveTimer: ReturnType<typeof setTimeout> | null = null;

  private saveSoon(): void {
    if (!this.options.resume || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      if (!this.running && this.pending.size === 0 && !this.stopped) this.saveResumePoint();
    }, 1000);
    this.saveTimer.unref?.();
  }

  /** Every job asked for so far is done: a start resumes after the newest event heard. */
  private saveResumePoint(): void {
    if (!this.options.resume || this.heard === this.saved) return;
    try {
      this.options.resume.save(this.heard);
      this.saved = this.heard;
    } catch (error) {
      this.options.log?.('warn', `github write-back: cannot keep its place: ${describe(error)}`);
    }
  }

  /** Queues a task for a comment refresh (also for a manual resync of one task). */
  enqueue(taskId: string): void {
    if (this.stopping.signal.aborted) return;
    // A task already waiting is rendered once, from its state when the job runs.
    if (this.pending.has(taskId)) return;
    const max = this.options.maxQueue ?? 10_000;
    if (this.pending.size >= max) {
      const oldest = this.pending.values().next().value as string;
      this.pending.delete(oldest);
      this.count('dropped');
      this.options.log?.('warn', `github write-back: queue full, dropped task ${oldest}`);
    }
    this.pending.add(taskId);
    this.startDrain();
  }

  private startDrain(): void {
    this.running ??= this.drain().finally(() => {
      this.running = null;
      // A job queued while the last one was finishing.
      if (this.pending.size > 0 && !this.stopped) this.startDrain();
      else {
        if (this.pending.size === 0 && !this.stopped) this.saveResumePoint();
        this.wakeIdleWaiters();
      }
    });
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private async drain(): Promise<void> {
    // Let the write that emitted the event finish before the first GitHub call.
    await Promise.resolve();
    for (const taskId of this.pending) {
      if (this.stopping.signal.aborted) return;
      this.pending.delete(taskId);
      await this.runWithRetry(taskId);
    }
  }

  private async runWithRetry(taskId: string): Promise<void> {
    let issueUrl: string | null = null;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.refreshComment(taskId, (url) => (issueUrl = url));
        return;
      } catch (error) {
        const message = describe(error);
        if (!isTransient(error) || attempt >= this.retry.attempts || this.stopped) {
          this.count('failed');
          this.options.log?.(
            'error',
            `github write-back failed for task ${taskId}${issueUrl ? ` (${issueUrl})` : ''} after ${attempt} attempt(s): ${message}`,
          );
          this.options.onFailure?.({
            task_id: taskId,
            issue_url: issueUrl,
            attempts: attempt,
            message,
          });
          return;
        }
        const delay = Math.min(this.retry.baseDelayMs * 2 ** (attempt - 1), this.retry.maxDelayMs);
        this.count('retried');
        this.options.log?.(
          'warn',
          `github write-back for task ${taskId}: ${message}; retry ${attempt} in ${delay} ms`,
        );
        await (this.options.sleep ?? abortableSleep)(delay, this.stopping.signal);
      }
    }
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Renders the task's comment and writes it: posted the first time, edited after. */
  private async refreshComment(taskId: string, onIssue: (url: string) => void): Promise<void> {
    let task: Task;
    try {
      task = await this.options.api.getTask(taskId);
    } catch (error) {
      if (error instanceof OwpError && error.code === 'task_not_found') return;
      throw error;
    }
    const ref = issueRefOf(task.description);
    if (!ref || !this.repos.has(`${ref.owner}/${ref.repo}`.toLowerCase())) return;
    onIssue(ref.url);

    const worker = task.assignee ? await this.worker(task.assignee) : null;
    const line = statusLine(task, worker);
    const existing = this.comments.get(ref.url) ?? (await this.findComment(ref));
    // The first comment is the lease's; a task that went back to the queue before anyone wrote
    // about it has nothing to say on the issue.
    if (!existing && (task.status === 'ready' || task.status === 'cancelled')) return;
    const body = commentBody(task, line);
    if (existing?.body === body) {
      this.count('unchanged');
      return;
    }
    const where = { owner: ref.owner, repo: ref.repo };
    if (existing && (await this.editComment(where, existing.id, body))) {
      this.comments.set(ref.url, { id: existing.id, body });
      this.count('edited');
      this.options.log?.(
        'info',
        `github write-back: edited comment on ${ref.url} (${task.status})`,
      );
    } else {
      const { data } = await this.octokit.rest.issues.createComment({
        ...where,
        issue_number: ref.number,
        body,
      });
      this.comments.set(ref.url, { id: data.id, body });
      this.count('posted');
      this.options.log?.('info', `github write-back: commented on ${ref.url} (${task.status})`);
    }
  }

  /**
   * Edits our comment; false when GitHub no longer has it (someone deleted it), so a new one is
   * posted rather than every later edit failing with a 404.
   */
  private async editComment(
    where: { owner: string; repo: string },
    commentId: number,
    body: string,
  ): Promise<boolean> {
    try {
      await this.octokit.rest.issues.updateComment({ ...where, comment_id: commentId, body });
      return true;
    } catch (error) {
      if (responseOf(error)?.status === 404) return false;
      throw error;
    }
  }

  /** Our comment on the issue, by its marker: after a restart the memory is empty. */
  private async findComment(ref: IssueRef): Promise<{ id: number; body: string } | undefined> {
    const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
      owner: ref.owner,
      repo: ref.repo,
      issue_number: ref.number,
      per_page: 100,
    });
    const ours = comments.find((comment) => comment.body?.includes(COMMENT_MARKER));
    if (!ours) return undefined;
    const found = { id: ours.id, body: ours.body ?? '' };
    this.comments.set(ref.url, found);
    return found;
  }

  private async worker(workerId: string): Promise<Worker | null> {
    if (!this.workers.has(workerId)) {
      this.workers = new Map((await this.options.api.listWorkers()).map((w) => [w.worker_id, w]));
    }
    return this.workers.get(workerId) ?? null;
  }

  private count(outcome: WriteBackOutcome): void {
    this.counts[outcome]++;
    this.metric?.inc({ outcome });
  }
}

/** The comment: the marker, a heading naming the task, and one line for where it stands. */
export function commentBody(task: Pick<Task, 'task_id'>, line: string): string {
  return `${COMMENT_MARKER}\n**OWP Pool** · task \`${task.task_id}\`\n\n${line}\n`;
}

/** One line for where the task stands; worker names and links are made inert Markdown. */
export function statusLine(
  task: Pick<Task, 'status' | 'lease' | 'artifact'>,
  worker: Pick<Worker, 'name' | 'github_handle'> | null,
): string {
  const who = worker
    ? code(worker.github_handle ? `${worker.name} (GitHub: ${worker.github_handle})` : worker.name)
    : 'a worker';
  const until = task.lease?.expires_at
    ? ` until ${task.lease.expires_at} (renewed while the worker is active)`
    : '';
  const pr = link(task.artifact?.pr_url);
  switch (task.status) {
    // Starting work is the worker's business: the issue only needs to know the task is taken.
    case 'leased':
    case 'in_progress':
      return `🔒 Leased to ${who}${until}.`;
    case 'blocked':
      return `⏸️ Blocked, held by ${who}${until}.`;
    case 'pr_opened':
      return `🔀 Pull request opened by ${who}: ${pr}`;
    case 'merged':
      return `✅ Merged${task.artifact?.pr_url ? `: ${pr}` : '.'}`;
    case 'ready':
      return '↩️ Back in the queue: the lease ended.';
    case 'cancelled':
      return '✖️ Cancelled in OWP Pool.';
    case 'offered':
      return `📨 Offered to ${who}, waiting for an answer.`;
    case 'failed':
      return '⚠️ Out of attempts: waiting for a maintainer to requeue it.';
  }
}

/** Text a worker chose, in a code span: no mention pings, no links, no formatting. */
function code(text: string): string {
  return `\`${text.replace(/[`\r\n]/g, ' ').slice(0, 200)}\``;
}

/** A PR URL as a link only when it is an http(s) URL; anything else is shown inert. */
function link(url: string | null | undefined): string {
  if (!url) return '(no link given)';
  return /^https?:\/\/[^\s<>]+$/.test(url) ? `<${url}>` : code(url);
}

/** Worth another try: the network, GitHub's 5xx, a rate limit, or the OWP server restarting. */
function isTransient(error: unknown): boolean {
  if (error instanceof OwpError) {
    return (
      error.code === 'internal_error' || error.code === 'not_ready' || error.code === 'rate_limited'
    );
  }
  const response = responseOf(error);
  if (!response) return true;
  return (
    response.status >= 500 ||
    rateLimitWaitMs(response.status, response.headers, Date.now(), response.message) !== null
  );
}

function describe(error: unknown): string {
  const response = responseOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return response ? `GitHub answered ${response.status}: ${message}` : message;
}

async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
