/**
 * Imports a GitHub repository's open issues carrying a label into an OWP repo, idempotently: the
 * issue URL on the first line of a task's description is the key, so importing again updates the
 * task (only the fields that changed) instead of adding a second one. It runs against any
 * `OwpApi` with the admin role — the HTTP client in the CLI and the dashboard, the engine in the
 * plugin's embedded mode — and imports no platform module of its own.
 *
 * The engine has no external-key column, and a mapping table beside it was rejected: it would be
 * a second source of truth to keep in step with the tasks (and the scheduler is not ours to
 * change). Reading the repo's tasks once per import costs one listing page per 500 tasks.
 */
import type { Octokit } from '@octokit/rest';
import type { OwpApi } from '../../protocol/api.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { Task } from '../../protocol/tasks.ts';
import { createGithubClient, type GithubClientOptions } from './github-client.ts';
import {
  changedFields,
  isPullRequest,
  issueRefOf,
  taskFieldsFromIssue,
  type GithubIssue,
} from './issue-mapping.ts';

export const DEFAULT_IMPORT_LABEL = 'pool:ready';

export interface GithubImportOptions {
  /** The GitHub repository, `owner/name`. */
  github: string;
  /** Only open issues with this label (default `pool:ready`). */
  label?: string;
  /** The OWP repo the tasks go to (default: the same `owner/name`). It must exist. */
  repo?: string;
  /** A ready client (tests, or a caller with its own fetch); else one is built from `client*`. */
  octokit?: Octokit;
  /** Token, API base and limits for the client built when `octokit` is absent. */
  client?: GithubClientOptions;
  /** Issues per GitHub page (default 100, GitHub's maximum). */
  perPage?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Stops between issues; what was done stays done. */
  signal?: AbortSignal;
}

export type ImportProgress =
  | { phase: 'tasks'; seen: number }
  | { phase: 'issues'; seen: number }
  | { phase: 'import'; done: number; total: number };

export interface ImportedIssue {
  number: number;
  url: string;
  title: string;
  task_id: string;
}

export interface GithubImportResult {
  github: string;
  repo: string;
  label: string;
  /** Open labelled issues listed, pull requests included. */
  issues_seen: number;
  created: ImportedIssue[];
  updated: Array<ImportedIssue & { fields: string[] }>;
  unchanged: ImportedIssue[];
  /** Issues whose task is merged or cancelled: left alone. */
  finished: Array<ImportedIssue & { status: Task['status'] }>;
  skipped_pull_requests: Array<{ number: number; url: string }>;
  failed: Array<{ number: number; url: string; code: string; message: string }>;
  warnings: Array<{ number: number; url: string; message: string }>;
  /** Why the run ended before every issue was handled (interrupt, network), or null. */
  stopped: string | null;
}

const LISTING_PAGE = 500;
/** A bound on the task listing: 5,000 pages of 500 is far beyond any real repo. */
const MAX_LISTING_PAGES = 5_000;

/**
 * Imports the open issues of `options.github` labelled `options.label` into `options.repo`.
 * Call it with an admin `OwpApi`: `await importGithubIssues(api, { github: 'acme/app', client:
 * { token } })`. Throws when the OWP repo does not exist or GitHub cannot be listed (nothing is
 * changed then); per-issue failures are reported in `failed` and the others still go through.
 */
export async function importGithubIssues(
  api: OwpApi,
  options: GithubImportOptions,
): Promise<GithubImportResult> {
  const [owner, name, ...extra] = options.github.split('/');
  if (!owner || !name || extra.length > 0) {
    throw new OwpError('validation_failed', `"${options.github}" is not a GitHub owner/name.`);
  }
  const label = options.label ?? DEFAULT_IMPORT_LABEL;
  const repo = options.repo ?? options.github;
  const result: GithubImportResult = {
    github: options.github,
    repo,
    label,
    issues_seen: 0,
    created: [],
    updated: [],
    unchanged: [],
    finished: [],
    skipped_pull_requests: [],
    failed: [],
    warnings: [],
    stopped: null,
  };

  await requireRepo(api, repo);
  const tasksByIssue = await indexTasksByIssueUrl(api, repo, (seen) =>
    options.onProgress?.({ phase: 'tasks', seen }),
  );
  const octokit = options.octokit ?? createGithubClient(options.client);
  const issues: GithubIssue[] = [];
  // Every page, following GitHub's Link headers; a listing that fails changes nothing.
  for await (const page of octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
    owner,
    repo: name,
    state: 'open',
    labels: label,
    per_page: options.perPage ?? 100,
  })) {
    issues.push(...(page.data as GithubIssue[]));
    options.onProgress?.({ phase: 'issues', seen: issues.length });
    if (options.signal?.aborted)
      throw new Error('interrupted while listing issues; nothing changed');
  }
  result.issues_seen = issues.length;

  for (const [index, issue] of issues.entries()) {
    if (options.signal?.aborted) {
      result.stopped = 'interrupted';
      break;
    }
    try {
      await importOne(api, repo, issue, tasksByIssue, result);
    } catch (error) {
      if (!(error instanceof OwpError)) {
        // The OWP server is gone: the issues after this one would fail the same way.
        result.stopped = error instanceof Error ? error.message : String(error);
        break;
      }
      result.failed.push({
        number: issue.number,
        url: issue.html_url,
        code: error.code,
        message: error.message,
      });
    }
    options.onProgress?.({ phase: 'import', done: index + 1, total: issues.length });
  }
  return result;
}

async function importOne(
  api: OwpApi,
  repo: string,
  issue: GithubIssue,
  tasksByIssue: Map<string, Task>,
  result: GithubImportResult,
): Promise<void> {
  const url = issue.html_url;
  if (isPullRequest(issue)) {
    result.skipped_pull_requests.push({ number: issue.number, url });
    return;
  }
  const { fields, warnings } = taskFieldsFromIssue(issue);
  for (const message of warnings) result.warnings.push({ number: issue.number, url, message });
  const existing = tasksByIssue.get(url);
  const seen = (task: Task): ImportedIssue => ({
    number: issue.number,
    url,
    title: fields.title,
    task_id: task.task_id,
  });

  if (!existing) {
    const task = await api.createTask({ repo, ...fields });
    tasksByIssue.set(url, task);
    result.created.push(seen(task));
    return;
  }
  if (existing.status === 'merged' || existing.status === 'cancelled') {
    result.finished.push({ ...seen(existing), status: existing.status });
    return;
  }
  let task = existing;
  // Compare-and-set on the version, so an edit made meanwhile (a note, an admin) is not lost
  // silently: on a conflict, read the task again and apply what still differs, once.
  for (let attempt = 1; ; attempt++) {
    const changes = changedFields(task, fields);
    if (Object.keys(changes).length === 0) {
      result.unchanged.push(seen(task));
      return;
    }
    try {
      const updated = await api.updateTask(task.task_id, {
        ...changes,
        expected_version: task.version,
      });
      tasksByIssue.set(url, updated);
      result.updated.push({ ...seen(updated), fields: Object.keys(changes) });
      return;
    } catch (error) {
      if (!(error instanceof OwpError) || error.code !== 'stale_version' || attempt >= 2) {
        throw error;
      }
      task = await api.getTask(task.task_id);
    }
  }
}

async function requireRepo(api: OwpApi, repo: string): Promise<void> {
  try {
    await api.getRepo(repo);
  } catch (error) {
    if (error instanceof OwpError && error.code === 'repo_not_found') {
      throw new OwpError(
        'repo_not_found',
        `Repo ${repo} does not exist in OWP; create it first (owp admin repo ${repo}).`,
        { repo },
      );
    }
    throw error;
  }
}

/**
 * Every task of the repo, by the issue URL on its description's first line. When two tasks name
 * the same issue (made by hand, say), the one still in play wins over a merged or cancelled one.
 */
export async function indexTasksByIssueUrl(
  api: OwpApi,
  repo: string,
  onPage?: (seen: number) => void,
): Promise<Map<string, Task>> {
  const byUrl = new Map<string, Task>();
  let cursor: string | undefined;
  let seen = 0;
  for (let page = 0; page < MAX_LISTING_PAGES; page++) {
    const answer = await api.listTasks({ repo, limit: LISTING_PAGE, cursor });
    for (const task of answer.tasks) {
      const ref = issueRefOf(task.description);
      if (!ref) continue;
      const held = byUrl.get(ref.url);
      if (!held || (isFinished(held) && !isFinished(task))) byUrl.set(ref.url, task);
    }
    seen += answer.tasks.length;
    onPage?.(seen);
    if (!answer.next_cursor) return byUrl;
    cursor = answer.next_cursor;
  }
  throw new OwpError('internal_error', `Repo ${repo} has more tasks than an import can list.`);
}

const isFinished = (task: Task) => task.status === 'merged' || task.status === 'cancelled';
