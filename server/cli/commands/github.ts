import { resolve } from 'node:path';
import type { Command } from 'commander';
import { HttpOwpApi } from '../../../protocol/http-api.ts';
import type { GithubImportResult, ImportProgress } from '../../github/importer.ts';
import { defaultWriteBackStatePath } from '../config-file.ts';
import { intArg, type CliContext, type ContextOf } from '../context.ts';
import { CliError } from '../errors.ts';
import { cellText, formatTable, progressBar } from '../format.ts';
import { cliTransport } from '../transport.ts';

/** `owp admin import-github-issues`: open GitHub issues with a label become (or update) tasks. */
export function addGithubCommands(admin: Command, contextOf: ContextOf): void {
  admin
    .command('import-github-issues')
    .description(
      'import open GitHub issues with a label as tasks; importing again updates them (token from GITHUB_TOKEN, API from GITHUB_API_URL)',
    )
    .argument('<github>', 'the GitHub repository, owner/name')
    .option('--label <label>', 'only issues with this label (default pool:ready)')
    .option('--repo <repo>', 'the OWP repo the tasks go to (default: the same owner/name)')
    .action(async (github: string, options: { label?: string; repo?: string }, command) => {
      await importFromGithub(contextOf(command as Command), github, options);
    });

  admin
    .command('github-write-back')
    .description(
      'comment on the GitHub issues of imported tasks when they are leased and when their PR opens, editing one comment per issue; runs until Ctrl-C',
    )
    .option(
      '--repos <owner/a,owner/b>',
      'GitHub repositories to comment on (default: OWP_GITHUB_WRITEBACK_REPOS)',
    )
    .option(
      '--state <file>',
      'keep its place in the event log in this file, and resume there at the next start (default: ~/.config/owp/github-write-back/HOST_PORT.json, one per server)',
    )
    .option('--no-state', 'keep no place: start from the newest event, as if never run')
    .action(async (options: { repos?: string; state?: string | false }, command: Command) => {
      await runWriteBack(contextOf(command), options.repos, options.state);
    });

  admin
    .command('github-pr-sync')
    .description(
      'follow the GitHub PRs of tasks whose PR is open: a merged PR marks its task merged, a PR closed unmerged puts it back in the queue (token from GITHUB_TOKEN); runs until Ctrl-C, or once with --once',
    )
    .option(
      '--repos <owner/a,owner/b>',
      'GitHub repositories whose PRs to follow (default: OWP_GITHUB_PR_SYNC_REPOS)',
    )
    .option(
      '--interval <seconds>',
      'between two reads of the open PRs (default 60)',
      intArg(10, 86_400),
    )
    .option('--once', 'read the open PRs once, print what moved, and exit')
    .action(
      async (options: { repos?: string; interval?: number; once?: boolean }, command: Command) => {
        await runPrSync(contextOf(command), options);
      },
    );
}

/** The PR sync beside a remote server: what `owp serve` runs in-process with OWP_GITHUB_PR_SYNC_REPOS. */
async function runPrSync(
  ctx: CliContext,
  options: { repos?: string; interval?: number; once?: boolean },
): Promise<void> {
  const { GithubPrSync } = await import('../../github/pr-sync.ts');
  const { repos, client, baseUrl, api } = await githubSidecar(
    ctx,
    options.repos,
    'OWP_GITHUB_PR_SYNC_REPOS',
    'the PR sync',
  );
  const sync = new GithubPrSync({
    api,
    repos,
    client,
    intervalMs: (options.interval ?? 60) * 1000,
    log: sidecarLog(ctx),
  });
  if (options.once) {
    const result = await sync.syncOnce();
    if (ctx.json) return ctx.printJson(result);
    ctx.print(
      `${result.checked} open PRs read: ${result.merged.length} merged, ` +
        `${result.requeued.length} back in the queue, ${result.failed.length} could not be read`,
    );
    return;
  }
  sync.start();
  ctx.note(`github PR sync for ${repos.join(', ')} following ${baseUrl}; Ctrl-C to stop`);
  await untilInterrupted(ctx);
  await sync.stop();
}

/**
 * The write-back beside a remote server, hearing its events over SSE: what `owp serve` would run
 * in-process, as a separate process (a sidecar) for a server already deployed.
 */
async function runWriteBack(
  ctx: CliContext,
  reposOption: string | undefined,
  stateOption: string | false | undefined,
): Promise<void> {
  const { GithubWriteBack, resumeFile } = await import('../../github/write-back.ts');
  const { repos, client, baseUrl, api } = await githubSidecar(
    ctx,
    reposOption,
    'OWP_GITHUB_WRITEBACK_REPOS',
    'the write-back',
  );
  // Its place in the event log, kept by default (per server): a write-back started afresh each
  // time from the newest event never comments on what happened while it was stopped.
  const statePath =
    stateOption === false
      ? null
      : stateOption
        ? resolve(ctx.io.cwd, stateOption)
        : defaultWriteBackStatePath(ctx.io.env, ctx.io.homeDir, baseUrl);
  const writeBack = new GithubWriteBack({
    api,
    repos,
    client,
    log: sidecarLog(ctx),
    ...(statePath ? { resume: resumeFile(statePath) } : {}),
  });
  await writeBack.start();
  const place = statePath ? `its place kept in ${statePath}` : 'from the newest event (--no-state)';
  ctx.note(
    `github write-back for ${repos.join(', ')} following ${baseUrl}, ${place}; Ctrl-C to stop`,
  );
  await untilInterrupted(ctx);
  // Comments already queued go out first, for a few seconds at most.
  await Promise.race([writeBack.idle(), new Promise((done) => setTimeout(done, 5000).unref())]);
  await writeBack.stop();
  const { posted, edited, failed } = writeBack.counts;
  ctx.note(`stopped: ${posted} comments posted, ${edited} edited, ${failed} failed`);
}

/**
 * What a GitHub sidecar beside a server needs: its repositories (the option, else `variable`), the
 * token (from GITHUB_TOKEN, kept out of every line printed) and an admin API on the server — not
 * tied to Ctrl-C, so a GitHub call in flight is finished rather than cut.
 */
async function githubSidecar(
  ctx: CliContext,
  reposOption: string | undefined,
  variable: 'OWP_GITHUB_WRITEBACK_REPOS' | 'OWP_GITHUB_PR_SYNC_REPOS',
  what: string,
) {
  const { parseWriteBackRepos } = await import('../../github/write-back.ts');
  const { githubOptionsFromEnv } = await import('../../github/github-client.ts');
  const repos = parseWriteBackRepos(reposOption ?? ctx.io.env[variable]);
  if (repos.length === 0) {
    throw new CliError(`no repositories: pass --repos owner/a,owner/b or set ${variable}`, 2);
  }
  const client = githubOptionsFromEnv(ctx.io.env);
  if (!client.token) throw new CliError(`GITHUB_TOKEN is not set; ${what} needs it`, 2);
  ctx.secrets.push(client.token);
  const baseUrl = ctx.adminClient().baseUrl;
  const api = new HttpOwpApi({
    baseUrl,
    adminToken: ctx.adminToken(),
    transport: cliTransport(new AbortController().signal),
  });
  return { repos, client, baseUrl, api };
}

/** A sidecar's log lines on stderr: info bare, the rest with their level. */
const sidecarLog = (ctx: CliContext) => (level: 'info' | 'warn' | 'error', message: string) =>
  ctx.note(`${level === 'info' ? '' : `${level}: `}${message}`);

/** Resolves at Ctrl-C (the CLI's interrupt signal). */
function untilInterrupted(ctx: CliContext): Promise<void> {
  return new Promise<void>((done) => {
    if (ctx.io.signal.aborted) done();
    else ctx.io.signal.addEventListener('abort', () => done(), { once: true });
  });
}

async function importFromGithub(
  ctx: CliContext,
  github: string,
  options: { label?: string; repo?: string },
): Promise<void> {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(github)) {
    throw new CliError(`"${github}" is not a GitHub repository; write it as owner/name`, 2);
  }
  const baseUrl = ctx.adminClient().baseUrl;
  const api = new HttpOwpApi({
    baseUrl,
    adminToken: ctx.adminToken(),
    transport: cliTransport(ctx.io.signal),
  });
  // Loaded here, not at the top: the other commands never need Octokit.
  const { githubOptionsFromEnv, GithubRateLimitError, responseOf } =
    await import('../../github/github-client.ts');
  const { importGithubIssues, DEFAULT_IMPORT_LABEL } = await import('../../github/importer.ts');
  const fromEnv = githubOptionsFromEnv(ctx.io.env);
  if (fromEnv.token) ctx.secrets.push(fromEnv.token);
  else ctx.note('owp: GITHUB_TOKEN is not set; asking GitHub anonymously (60 requests an hour)');

  const label = options.label ?? DEFAULT_IMPORT_LABEL;
  const stderr = ctx.io.stderr;
  ctx.note(`importing open issues of ${github} labelled ${label} from ${fromEnv.baseUrl}`);
  const onProgress = (progress: ImportProgress) => {
    if (!stderr.isTTY) return;
    if (progress.phase === 'import') {
      stderr.write(`\r${progressBar(progress.done, progress.total)}`);
      if (progress.done === progress.total) stderr.write('\n');
    } else {
      stderr.write(
        `\r${progress.phase === 'tasks' ? 'tasks read' : 'issues listed'}: ${progress.seen}   `,
      );
    }
  };

  let result: GithubImportResult;
  try {
    result = await importGithubIssues(api, {
      github,
      label,
      repo: options.repo,
      signal: ctx.io.signal,
      onProgress,
      client: {
        ...fromEnv,
        onRateLimit: (wait) =>
          ctx.note(`\nowp: GitHub rate limit; waiting ${Math.ceil(wait.waitMs / 1000)} s`),
      },
    });
  } catch (error) {
    if (error instanceof GithubRateLimitError) throw new CliError(error.message);
    const response = responseOf(error);
    if (response && !(error instanceof CliError)) {
      const why = response.status === 401 ? '; check GITHUB_TOKEN' : '';
      throw new CliError(
        `GitHub answered ${response.status} for ${github}: ${(error as Error).message}${why}`,
      );
    }
    if (error instanceof Error && error.message.startsWith('interrupted')) {
      throw new CliError(error.message);
    }
    throw error;
  }
  printResult(ctx, result);
  if (result.stopped) throw new CliError(`import stopped early: ${result.stopped}`);
  if (result.failed.length > 0) {
    throw new CliError(`${result.failed.length} issue(s) could not be imported`);
  }
}

/** One line of counts on stderr for the person, then the table (or JSON) on stdout. */
function printResult(ctx: CliContext, result: GithubImportResult): void {
  const summary = [
    `${result.created.length} created`,
    `${result.updated.length} updated`,
    `${result.unchanged.length} unchanged`,
    `${result.skipped_pull_requests.length} pull requests skipped`,
    ...(result.finished.length > 0 ? [`${result.finished.length} finished tasks left alone`] : []),
    ...(result.failed.length > 0 ? [`${result.failed.length} failed`] : []),
  ].join(', ');
  for (const warning of result.warnings) {
    ctx.note(`owp: warning: #${warning.number}: ${warning.message}`);
  }
  if (ctx.json) {
    ctx.note(`import: ${summary}`);
    return ctx.printJson(result);
  }
  const rows = [
    ...result.created.map((r) => ({ ...r, action: 'created', detail: '' })),
    ...result.updated.map((r) => ({ ...r, action: 'updated', detail: r.fields.join(', ') })),
    ...result.unchanged.map((r) => ({ ...r, action: 'unchanged', detail: '' })),
    ...result.finished.map((r) => ({ ...r, action: 'left alone', detail: r.status })),
  ].sort((a, b) => a.number - b.number);
  if (rows.length > 0) {
    ctx.print(
      formatTable(rows, [
        { header: 'ISSUE', value: (r) => `#${r.number}`, align: 'right' },
        { header: 'TASK', value: (r) => r.task_id },
        { header: 'ACTION', value: (r) => r.action },
        { header: 'CHANGED', value: (r) => r.detail, maxWidth: 40 },
        { header: 'TITLE', value: (r) => r.title, maxWidth: 60 },
      ]),
    );
  }
  for (const failure of result.failed) {
    ctx.print(`failed  #${failure.number}  ${cellText(failure.message)} (${failure.code})`);
  }
  ctx.print(`${result.github} → ${result.repo}: ${summary}`);
}
