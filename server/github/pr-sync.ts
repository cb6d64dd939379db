/**
 * GitHub PR state read back, opt-in per repository: a task whose PR is open (`pr_opened`, with a
 * pull request URL of a listed repository) is marked merged when GitHub says the PR was merged,
 * and put back in the queue when the PR was closed without merging. A worker that opened the PR
 * and went away — an agent whose session ended — would otherwise hold its repo's review budget
 * until an admin noticed.
 *
 * It polls (no webhook: a pool behind a laptop's NAT cannot receive one): every `intervalMs`, the
 * tasks with a PR open, one `GET /repos/{owner}/{repo}/pulls/{number}` each. It acts through an
 * admin `OwpApi`, so it runs beside the engine in `owp serve` or against a remote server alike, and
 * its moves are the admin's in the audit log (`merge`, `requeue`), as if an admin had made them.
 */
import type { Octokit } from '@octokit/rest';
import { listAllTasks, type OwpApi } from '../../protocol/api.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { Task } from '../../protocol/tasks.ts';
import { createGithubClient, responseOf, type GithubClientOptions } from './github-client.ts';

/** A pull request, as a task's `artifact.pr_url` names it. */
export interface PullRef {
  owner: string;
  repo: string;
  number: number;
}

/**
 * The pull request a URL names: `https://<host>/<owner>/<repo>/pull/<n>` (github.com or a GitHub
 * Enterprise host), with anything after the number (`/files`, `#discussion…`) ignored.
 */
export function pullRefOf(url: string): PullRef | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  const match = /^\/([^/]+)\/([^/]+)\/pull\/(\d+)(?:\/|$)/.exec(parsed.pathname);
  if (!match) return null;
  return { owner: match[1]!, repo: match[2]!, number: Number(match[3]) };
}

export interface PrSyncResult {
  /** Tasks with a PR open in a listed repository, whose PR was read. */
  checked: number;
  /** Tasks marked merged, their PR merged on GitHub. */
  merged: string[];
  /** Tasks put back in the queue, their PR closed without merging. */
  requeued: string[];
  /** PRs that could not be read, or tasks that could not be moved; tried again next time. */
  failed: { task_id: string; pr_url: string; message: string }[];
}

export interface GithubPrSyncOptions {
  /** An admin `OwpApi`: the engine in-process (`LocalOwpApi` with admin) or a remote server. */
  api: OwpApi;
  /** GitHub repositories (`owner/name`, case-insensitive) whose PRs are followed. */
  repos: readonly string[];
  octokit?: Octokit;
  client?: GithubClientOptions;
  /** Between two reads of the open PRs (default 60 s). */
  intervalMs?: number;
  /** One line per task moved and per failure; never carries the token. */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Follows the PRs of the tasks with a PR open. `start()`, then `stop()`; or `syncOnce()`. */
export class GithubPrSync {
  private readonly octokit: Octokit;
  private readonly repos: Set<string>;
  /**
   * The ETag of each PR's last answer, by URL: asked again with `If-None-Match`, an unchanged PR
   * answers 304, which GitHub does not count against the rate limit (5,000 requests an hour).
   */
  private readonly etags = new Map<string, string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<PrSyncResult> | null = null;
  private stopped = false;

  constructor(private readonly options: GithubPrSyncOptions) {
    this.octokit = options.octokit ?? createGithubClient(options.client);
    this.repos = new Set(options.repos.map((repo) => repo.toLowerCase()));
  }

  /** Reads every task with a PR open once, and moves those whose PR is merged or closed. */
  syncOnce(): Promise<PrSyncResult> {
    // One pass at a time: a slow GitHub never stacks passes up.
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  /** Syncs now, then every `intervalMs` until `stop()`. */
  start(): void {
    this.stopped = false;
    const tick = () => {
      void this.syncOnce()
        .catch((error: unknown) => this.log('error', `PR sync failed: ${messageOf(error)}`))
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(tick, this.options.intervalMs ?? 60_000);
          this.timer.unref?.();
        });
    };
    tick();
  }

  /** Stops the timer and waits for a pass under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private async pass(): Promise<PrSyncResult> {
    const result: PrSyncResult = { checked: 0, merged: [], requeued: [], failed: [] };
    const tasks = await listAllTasks(this.options.api, { status: 'pr_opened' });
    // ETags only of PRs still open in the pool.
    const open = new Set(tasks.map((task) => task.artifact?.pr_url));
    for (const url of this.etags.keys()) if (!open.has(url)) this.etags.delete(url);
    for (const task of tasks) {
      const url = task.artifact?.pr_url;
      const ref = url ? pullRefOf(url) : null;
      if (!url || !ref || !this.repos.has(`${ref.owner}/${ref.repo}`.toLowerCase())) continue;
      result.checked++;
      try {
        const etag = this.etags.get(url);
        const answer = await this.octokit.rest.pulls
          .get({
            owner: ref.owner,
            repo: ref.repo,
            pull_number: ref.number,
            ...(etag ? { headers: { 'if-none-match': etag } } : {}),
          })
          .catch((error: unknown) => {
            if (responseOf(error)?.status === 304) return null; // unchanged since the last read
            throw error;
          });
        if (!answer) continue;
        if (typeof answer.headers.etag === 'string') this.etags.set(url, answer.headers.etag);
        const pull = answer.data;
        if (pull.merged) {
          if (await this.move(task, 'merge')) result.merged.push(task.task_id);
        } else if (pull.state === 'closed') {
          if (await this.move(task, 'requeue')) result.requeued.push(task.task_id);
        }
      } catch (error) {
        const message = githubMessage(error);
        result.failed.push({ task_id: task.task_id, pr_url: url, message });
        this.log('warn', `PR sync: ${url} (task ${task.task_id}): ${message}`);
      }
    }
    return result;
  }

  /**
   * Merges or requeues the task; false when it moved meanwhile (its worker reported the merge, an
   * admin acted): the pool's state then stands.
   */
  private async move(task: Task, how: 'merge' | 'requeue'): Promise<boolean> {
    try {
      if (how === 'merge') await this.options.api.mergeTask(task.task_id);
      else await this.options.api.requeueTask(task.task_id);
    } catch (error) {
      if (
        error instanceof OwpError &&
        ['invalid_transition', 'task_not_found'].includes(error.code)
      )
        return false;
      throw error;
    }
    const pr = task.artifact?.pr_url ?? '';
    this.log(
      'info',
      how === 'merge'
        ? `PR sync: ${pr} was merged on GitHub; task ${task.task_id} marked merged`
        : `PR sync: ${pr} was closed without merging; task ${task.task_id} back in the queue`,
    );
    return true;
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }
}

function githubMessage(error: unknown): string {
  const response = responseOf(error);
  if (response?.status === 404) return 'GitHub answers 404: no such pull request, or no access';
  return messageOf(error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
