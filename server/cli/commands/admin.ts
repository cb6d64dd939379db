import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { newIdempotencyKey, TASK_STATUSES, TRUST_TIERS } from '../../../protocol/common.ts';
import { importKeys } from '../../../protocol/import-keys.ts';
import type { PoolState } from '../../../protocol/leases.ts';
import { TrustRules, type Repo, type RepoContract } from '../../../protocol/repos.ts';
import { explanationText } from '../../../protocol/explanation-text.ts';
import type { Task } from '../../../protocol/tasks.ts';
import type { Worker } from '../../../protocol/workers.ts';
import { intArg, listArg, type CliContext, type ContextOf } from '../context.ts';
import { OwpError } from '../../../protocol/errors.ts';
import { CliError, issueLine, makeRepoHint, UsageError } from '../errors.ts';
import { cellText, formatRecord, formatTable, progressBar, relativeTime } from '../format.ts';
import {
  createImportedTasks,
  ImportFileError,
  parseImportFile,
  type ImportResult,
} from '../task-import.ts';

/** `owp admin …`: repos, tasks, imports, the pool's state and the workers, with the admin token. */
export function addAdminCommands(program: Command, contextOf: ContextOf): Command {
  const admin = program
    .command('admin')
    .description('manage repos, tasks and workers (needs the admin token)');

  admin
    .command('repo')
    .description('create or update a repo and its review budget')
    .argument('<repo>', 'repo key: name or owner/name')
    .option(
      '--max-open-prs <n>',
      'review budget: open PRs at most (0 pauses the repo)',
      intArg(0, 100),
    )
    .option('--area-locks', 'one task per area at a time')
    .option('--no-area-locks', 'let tasks of the same area run in parallel')
    .option('--lease-ttl <seconds>', 'default lease TTL for its tasks', intArg(10, 7 * 24 * 3600))
    .option(
      '--max-attempts <n>',
      'expiries and releases before a task goes to failed',
      intArg(1, 100),
    )
    .addOption(
      new Option(
        '--assignment <mode>',
        'lease: grant work; offer: workers accept or reject it',
      ).choices(['lease', 'offer']),
    )
    .option(
      '--offer-ttl <seconds>',
      'how long an offer waits for an answer',
      intArg(10, 7 * 24 * 3600),
    )
    .option(
      '--trust <rules>',
      'highest risk tier per trust tier, e.g. untrusted=0,basic=1,trusted=2,maintainer=3 (-1: none)',
    )
    .option('--setup <command>', 'contract: how to set the repo up')
    .option('--test <command>', 'contract: how to run the tests')
    .option('--lint <command>', 'contract: how to lint')
    .option('--branch-naming <pattern>', 'contract: how to name branches')
    .option('--pr-template <file>', 'contract: a file with the PR template')
    .option('--no-contract', 'remove the repo contract')
    .addHelpText(
      'after',
      '\nA contract option changes that part of the contract and keeps the rest; an empty one ' +
        "(--lint '') removes that part.",
    )
    .action(async (repo: string, options, command: Command) => {
      const ctx = contextOf(command);
      const given = contractFrom(ctx, options);
      const answer = await ctx.adminClient().call('upsertRepo', {
        body: {
          repo,
          max_open_prs: options.maxOpenPrs,
          area_locks_enabled: options.areaLocks,
          lease_ttl_seconds: options.leaseTtl,
          max_attempts: options.maxAttempts,
          assignment: options.assignment,
          offer_ttl_seconds: options.offerTtl,
          trust_rules: options.trust === undefined ? undefined : parseTrustRules(options.trust),
          contract:
            options.contract === false
              ? null
              : given && withContract(await currentContract(ctx, repo), given),
        },
      });
      if (ctx.json) return ctx.printJson(answer);
      ctx.print(`repo ${answer.repo} saved`);
      ctx.print(repoRecord(answer.settings));
    });

  admin
    .command('repos')
    .description('list repos with their budgets and locks')
    .action(async (_options, command: Command) => {
      const ctx = contextOf(command);
      const { repos } = await ctx.adminClient().call('listRepos', {});
      if (ctx.json) return ctx.printJson(repos);
      if (repos.length === 0) return ctx.print('no repos yet; add one with `owp admin repo NAME`');
      ctx.print(
        formatTable(repos, [
          { header: 'REPO', value: (r) => r.repo },
          { header: 'BUDGET', value: (r) => `${r.budget_used}/${r.max_open_prs}`, align: 'right' },
          { header: 'OPEN PRS', value: (r) => r.open_prs, align: 'right' },
          { header: 'AREA LOCKS', value: (r) => r.area_locks_enabled },
          { header: 'LOCKED', value: (r) => r.locked_areas, maxWidth: 40 },
          { header: 'LEASE TTL', value: (r) => seconds(r.lease_ttl_seconds), align: 'right' },
        ]),
      );
    });

  admin
    .command('task')
    .description('create one task')
    .requiredOption('--repo <repo>', 'the repo it belongs to')
    .requiredOption('--title <title>', 'one line')
    .option('--description <text>', 'Markdown')
    .option('--points <n>', 'estimate, 1–100 (default 1)', intArg(1, 100))
    .option('--priority <n>', '0–1000, higher first (default 10)', intArg(0, 1000))
    .option('--skills <a,b>', 'required skills', listArg)
    .option('--area <area>', 'area of the code, for area locks')
    .option('--tier <n>', 'risk tier 0–3 (default 0)', intArg(0, 3))
    .option('--lease-ttl <seconds>', 'lease TTL for this task', intArg(10, 7 * 24 * 3600))
    .option('--depends-on <t_a,t_b>', 'tasks that must be merged before this one starts', listArg)
    .option('--max-attempts <n>', "overrides the repo's attempt limit", intArg(1, 100))
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const answer = await ctx.adminClient().call('createTask', {
        // Tried again after a failure of the moment (a proxy's 502), and made once all the same.
        idempotencyKey: newIdempotencyKey('cli'),
        body: {
          repo: options.repo,
          title: options.title,
          description: options.description,
          estimate_points: options.points,
          priority: options.priority,
          required_skills: options.skills,
          area: options.area,
          tier: options.tier,
          lease_ttl_seconds: options.leaseTtl,
          depends_on: options.dependsOn,
          max_attempts: options.maxAttempts,
        },
      });
      if (ctx.json) return ctx.printJson(answer);
      const waiting = answer.task.dependencies_pending
        ? `, waiting on ${answer.task.dependencies_pending} task(s)`
        : '';
      ctx.print(`created task ${answer.task_id} (${answer.task.status}${waiting})`);
    });

  admin
    .command('tasks')
    .description('list tasks')
    .option('--repo <repo>', 'only this repo')
    .addOption(new Option('--status <status>', 'only this status').choices(TASK_STATUSES))
    .option('--assignee <worker_id>', 'only tasks held by this worker')
    .option('--newest', 'newest first (default: oldest first)')
    .option('--limit <n>', 'at most this many (default 50)', intArg(1, 500))
    .option('--cursor <cursor>', 'continue after a previous page')
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const page = await ctx.adminClient().call('listTasks', {
        query: {
          repo: options.repo,
          status: options.status,
          assignee: options.assignee,
          order: options.newest ? 'newest' : 'oldest',
          limit: options.limit,
          cursor: options.cursor,
        },
      });
      if (ctx.json) return ctx.printJson(page);
      if (page.tasks.length === 0) ctx.print('no tasks');
      else ctx.print(taskTable(page.tasks));
      // A cursor continues the listing in its own order.
      if (page.next_cursor) {
        ctx.note(`more: ${options.newest ? '--newest ' : ''}--cursor ${page.next_cursor}`);
      }
    });

  admin
    .command('import')
    .description('create tasks from a YAML file (a list of tasks without their repo)')
    .argument('<file>', 'the YAML file')
    .requiredOption('--repo <repo>', 'the repo the tasks go to')
    .option(
      '--from <item>',
      'start at this item (counting from 1), to finish an import that stopped part-way',
      intArg(1, 1_000_000),
    )
    .action(async (file: string, options, command: Command) => {
      await importTasks(contextOf(command), file, options.repo, options.from ?? 1);
    });

  admin
    .command('state')
    .description('workers online and tasks by status')
    .action(async (_options, command: Command) => {
      const ctx = contextOf(command);
      const state = await ctx.adminClient().call('poolState', {});
      if (ctx.json) return ctx.printJson(state);
      ctx.print(stateRecord(state));
    });

  for (const [name, route, verb] of [
    ['requeue', 'requeueTask', 'take a task back from its worker and queue it again'],
    ['cancel', 'cancelTask', 'cancel a task that has not finished'],
    ['merge', 'mergeTask', "record that a task's PR was merged (when its worker did not)"],
  ] as const) {
    admin
      .command(name)
      .description(verb)
      .argument('<task_id>', 'the task')
      .action(async (taskId: string, _options, command: Command) => {
        const ctx = contextOf(command);
        const task = await ctx.adminClient().call(route, { params: { task_id: taskId } });
        if (ctx.json) return ctx.printJson(task);
        ctx.print(`task ${task.task_id} is now ${task.status}`);
      });
  }

  admin
    .command('why')
    .description(
      'why a task is not handed out: what holds it back, or which workers may not take it',
    )
    .argument('<task_id>', 'the task')
    .action(async (taskId: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const answer = await ctx.adminClient().call('explainTask', { params: { task_id: taskId } });
      if (ctx.json) return ctx.printJson(answer);
      const { lead, reasons } = explanationText(answer);
      ctx.print(
        [`${answer.task_id} (${answer.status}): ${lead}`, ...reasons.map((r) => `  ${r}`)].join(
          '\n',
        ),
      );
    });

  admin
    .command('workers')
    .description('list registered workers')
    .action(async (_options, command: Command) => {
      const ctx = contextOf(command);
      const { workers } = await ctx.adminClient().call('listWorkers', {});
      if (ctx.json) return ctx.printJson(workers);
      if (workers.length === 0) return ctx.print('no workers registered');
      ctx.print(workerTable(workers, Date.now()));
    });

  for (const [name, route, verb] of [
    ['pause', 'pauseWorker', 'stop new leases for a worker (it keeps the ones it has)'],
    ['resume', 'resumeWorker', 'let a paused worker receive leases again'],
  ] as const) {
    admin
      .command(name)
      .description(verb)
      .argument('<worker_id>', 'the worker')
      .action(async (workerId: string, _options, command: Command) => {
        const ctx = contextOf(command);
        const worker = await ctx.adminClient().call(route, { params: { worker_id: workerId } });
        if (ctx.json) return ctx.printJson(worker);
        ctx.print(
          `worker ${worker.worker_id} (${worker.name}) ${worker.paused_by_admin ? 'paused' : 'resumed'}`,
        );
      });
  }

  admin
    .command('new-token')
    .description(
      'give a worker a new token (one lost or leaked): the old one is refused from now on',
    )
    .argument('<worker_id>', 'the worker')
    .action(async (workerId: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const answer = await ctx
        .adminClient()
        .call('replaceWorkerToken', { params: { worker_id: workerId } });
      if (ctx.json) return ctx.printJson(answer);
      ctx.print(
        [
          `worker ${answer.worker_id} has a new token; the old one is refused from now on:`,
          '',
          `  ${answer.token}`,
          '',
          'It is shown this once. Hand it to the worker privately: `owp worker token` saves it ' +
            '(pasted or piped in), the plugin takes it in its Worker token setting.',
        ].join('\n'),
      );
    });

  admin
    .command('trust')
    .description("set a worker's trust tier; the reason is kept in the audit log")
    .argument('<worker_id>', 'the worker')
    .addOption(
      new Option('--tier <tier>', 'the new tier').choices(TRUST_TIERS).makeOptionMandatory(),
    )
    .requiredOption('--reason <text>', 'why (shown in the audit log)')
    .action(async (workerId: string, options, command: Command) => {
      const ctx = contextOf(command);
      const worker = await ctx.adminClient().call('setTrustTier', {
        params: { worker_id: workerId },
        body: { tier: options.tier, reason: options.reason },
      });
      if (ctx.json) return ctx.printJson(worker);
      ctx.print(`worker ${worker.worker_id} (${worker.name}) is now ${worker.trust_tier}`);
    });

  admin
    .command('reputation')
    .description("a worker's reputation and the outcomes it comes from")
    .argument('<worker_id>', 'the worker')
    .action(async (workerId: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const r = await ctx.adminClient().call('workerReputation', {
        params: { worker_id: workerId },
      });
      if (ctx.json) return ctx.printJson(r);
      const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
      ctx.print(
        formatRecord([
          ['trust tier', r.trust_tier],
          ['reputation', r.reputation.toFixed(3)],
          [
            'completion',
            `${pct(r.completion_rate)} (${r.tasks_completed} merged; ${r.leases_expired} expired, ${r.leases_released} released, ${r.tasks_requeued} requeued)`,
          ],
          [
            'on time',
            `${pct(r.on_time_rate)} (${r.prs_on_time} of ${r.prs_opened} PRs within the first lease)`,
          ],
          [
            'offers taken',
            `${pct(r.offer_acceptance_rate)} (${r.offers_accepted} accepted, ${r.offers_rejected} rejected, ${r.offers_expired} expired)`,
          ],
        ]),
      );
      ctx.note(r.formula);
    });

  return admin;
}

/** `untrusted=0,basic=1,trusted=2,maintainer=3` → trust rules; every tier must be named. */
export function parseTrustRules(text: string): z.output<typeof TrustRules> {
  const entries = text.split(',').map((part) => part.split('=').map((s) => s.trim()));
  const rules = Object.fromEntries(entries.map(([tier, value]) => [tier, Number(value)]));
  const parsed = TrustRules.safeParse(rules);
  if (!parsed.success || entries.some((e) => e.length !== 2)) {
    throw new UsageError(
      `--trust wants every tier with the highest risk tier it may take (-1 to 3), e.g. ` +
        `untrusted=0,basic=1,trusted=2,maintainer=3` +
        (parsed.success ? '' : `: ${issueLine(parsed.error.issues)}`),
    );
  }
  return parsed.data;
}

/** The contract options given, or undefined when none was (the repo keeps its contract). */
function contractFrom(
  ctx: CliContext,
  options: {
    setup?: string;
    test?: string;
    lint?: string;
    branchNaming?: string;
    prTemplate?: string;
  },
): RepoContract | undefined {
  const contract: RepoContract = {
    setup: options.setup,
    test: options.test,
    lint: options.lint,
    branch_naming: options.branchNaming,
    pr_template:
      options.prTemplate === undefined
        ? undefined
        : readTextFile(ctx, options.prTemplate, '--pr-template'),
  };
  const given = Object.entries(contract).filter(([, v]) => v !== undefined);
  return given.length ? (Object.fromEntries(given) as RepoContract) : undefined;
}

/** The repo's contract as stored, or null for a repo without one or not made yet. */
async function currentContract(ctx: CliContext, repo: string): Promise<RepoContract | null> {
  const { repos } = await ctx.adminClient().call('listRepos', {});
  return repos.find((r) => r.repo === repo)?.contract ?? null;
}

/**
 * The contract with the parts given replaced, as the repo's other options keep their values when
 * absent: `--test` alone leaves the setup and lint commands as they were. An empty part is removed;
 * null when nothing is left.
 */
function withContract(current: RepoContract | null, given: RepoContract): RepoContract | null {
  const parts = Object.entries({ ...current, ...given }).filter(
    ([, value]) => value !== undefined && value !== null && value !== '',
  );
  return parts.length ? (Object.fromEntries(parts) as RepoContract) : null;
}

/** A file the command line names, or a clear error (not "unexpected error: ENOENT …"). */
function readTextFile(ctx: CliContext, file: string, option?: string): string {
  try {
    return readFileSync(resolve(ctx.io.cwd, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (code ?? String(error));
    throw new CliError(`${option ? `${option} ` : ''}cannot read ${file}: ${why}`);
  }
}

/** What an import that started at item `from` and stopped at item `at` had sent. */
function sentBefore(from: number, at: number): string {
  if (at === from) return 'nothing was sent';
  return at - 1 === from ? `item ${from} was sent` : `items ${from}–${at - 1} were sent`;
}

/**
 * Validates the whole file before sending anything, checks the repo exists (one clear error
 * instead of one per item), then creates the tasks with a progress bar for a person watching.
 */
async function importTasks(
  ctx: CliContext,
  file: string,
  repo: string,
  from: number,
): Promise<void> {
  const text = readTextFile(ctx, file);
  let parsed;
  try {
    parsed = parseImportFile(text);
  } catch (error) {
    if (error instanceof ImportFileError) throw new CliError(`${file}: ${error.message}`);
    throw error;
  }
  const { items, problems } = parsed;
  const where = (p: { item: number; line: number | null; title: string | null }) =>
    `item ${p.item}${p.line === null ? '' : ` (line ${p.line})`}${p.title ? ` "${cellText(p.title)}"` : ''}`;
  if (problems.length > 0) {
    if (ctx.json) ctx.printJson({ repo, file, invalid: problems });
    for (const problem of problems) ctx.note(`owp: ${where(problem)}: ${problem.message}`);
    throw new CliError(
      `${problems.length} of ${problems.length + items.length} items in ${file} are invalid; nothing was sent`,
    );
  }
  if (from > items.length) {
    throw new CliError(`--from ${from}: ${file} holds ${items.length} items`);
  }

  const client = ctx.adminClient();
  await client.call('getRepo', { params: { '*': repo } }).catch((error: unknown) => {
    if (error instanceof OwpError && error.code === 'repo_not_found') {
      throw new CliError(`${error.message} (${error.code})\nowp: ${makeRepoHint(repo)}`);
    }
    throw error;
  });

  const toSend = items.slice(from - 1);
  const keys = importKeys(repo, items).slice(from - 1);
  const stderr = ctx.io.stderr;
  const counts = (r: ImportResult) => {
    const earlier = r.created.filter((c) => c.earlier).length;
    const before = earlier === 0 ? '' : ` (${earlier} by an earlier run)`;
    return `${r.created.length} created${before}, ${r.failed.length} failed`;
  };
  const result = await createImportedTasks(client, repo, toSend, {
    signal: ctx.io.signal,
    firstItem: from,
    keys,
    onProgress: (done, soFar) => {
      if (stderr.isTTY) stderr.write(`\r${progressBar(done, toSend.length)}  ${counts(soFar)}`);
    },
  });
  const sent = result.created.length + result.failed.length;
  if (stderr.isTTY) stderr.write('\n');
  else stderr.write(`import: ${sent}/${toSend.length} sent, ${counts(result)}\n`);

  if (ctx.json) {
    ctx.printJson({ repo, file, total: items.length, from, ...result });
  } else {
    const range = from === 1 ? '' : ` (items ${from}–${items.length} of ${file})`;
    const earlier = result.created.filter((c) => c.earlier).length;
    const before = earlier === 0 ? '' : `; ${earlier} made by an earlier run, not made again`;
    ctx.print(
      `imported ${result.created.length} of ${toSend.length} tasks into ${repo}${range}${before}`,
    );
    if (result.failed.length > 0) {
      ctx.print(
        formatTable(result.failed, [
          { header: 'ITEM', value: (f) => f.item, align: 'right' },
          { header: 'TITLE', value: (f) => f.title, maxWidth: 50 },
          { header: 'ERROR', value: (f) => `${f.message} (${f.code})` },
        ]),
      );
    }
  }
  if (result.stopped) {
    // The item it stopped at may have been created (the answer lost on the way back); sent again
    // with its key, it is answered with that task rather than made twice.
    const at = from + sent;
    const title = cellText(items[at - 1]!.title);
    throw new CliError(
      `import stopped at item ${at} "${title}": ${result.stopped}\n` +
        `owp: ${sentBefore(from, at)}; to send the rest: ` +
        `owp admin import ${file} --repo ${repo} --from ${at}` +
        ` (or the whole file again: a task the pool made already is not made twice)`,
    );
  }
  if (result.failed.length > 0) {
    throw new CliError(`${result.failed.length} of ${toSend.length} tasks were not created`);
  }
}

function seconds(value: number | null): string {
  return value === null ? 'default' : `${value}s`;
}

function repoRecord(repo: Repo): string {
  const rules = repo.trust_rules;
  return formatRecord([
    ['max open PRs', repo.max_open_prs],
    ['budget used', repo.budget_used],
    ['open PRs', repo.open_prs],
    ['area locks', repo.area_locks_enabled],
    ['locked areas', repo.locked_areas],
    ['lease TTL', seconds(repo.lease_ttl_seconds)],
    ['max attempts', repo.max_attempts],
    [
      'assignment',
      repo.assignment === 'offer'
        ? `offer (answer within ${seconds(repo.offer_ttl_seconds)})`
        : 'lease',
    ],
    ['trust rules', TRUST_TIERS.map((tier) => `${tier}≤${rules[tier]}`).join(' ')],
    [
      'contract',
      repo.contract
        ? Object.entries(repo.contract)
            .map(([key, value]) => `${key}: ${String(value).split('\n')[0]}`)
            .join('; ')
        : null,
    ],
  ]);
}

export function taskTable(tasks: readonly Task[]): string {
  return formatTable(tasks, [
    { header: 'ID', value: (t) => t.task_id },
    { header: 'REPO', value: (t) => t.repo },
    { header: 'STATUS', value: (t) => t.status },
    { header: 'PRI', value: (t) => t.priority, align: 'right' },
    { header: 'PTS', value: (t) => t.estimate_points, align: 'right' },
    { header: 'SKILLS', value: (t) => t.required_skills, maxWidth: 24 },
    { header: 'AREA', value: (t) => t.area, maxWidth: 16 },
    { header: 'ASSIGNEE', value: (t) => t.assignee },
    { header: 'TITLE', value: (t) => t.title, maxWidth: 60 },
  ]);
}

function stateRecord(state: PoolState): string {
  return formatRecord([
    ['workers online', state.workers_online],
    ['workers total', state.workers_total],
    ['tasks ready', state.tasks_ready],
    ['tasks offered', state.tasks_offered],
    ['tasks leased', state.tasks_leased],
    ['tasks in progress', state.tasks_in_progress],
    ['tasks blocked', state.tasks_blocked],
    ['tasks PR opened', state.tasks_pr_opened],
    ['tasks merged', state.tasks_merged],
    ['tasks failed', state.tasks_failed],
    ['tasks cancelled', state.tasks_cancelled],
  ]);
}

function workerTable(workers: readonly Worker[], now: number): string {
  return formatTable(workers, [
    { header: 'ID', value: (w) => w.worker_id },
    { header: 'NAME', value: (w) => w.name, maxWidth: 24 },
    { header: 'STATUS', value: (w) => (w.paused_by_admin ? 'paused (admin)' : w.status) },
    { header: 'ONLINE', value: (w) => w.online },
    { header: 'SKILLS', value: (w) => w.skills, maxWidth: 24 },
    { header: 'POINTS', value: (w) => `${w.points_in_use}/${w.capacity_points}`, align: 'right' },
    {
      header: 'TASKS',
      value: (w) => `${w.active_tasks}/${w.max_concurrent_tasks}`,
      align: 'right',
    },
    { header: 'DONE', value: (w) => w.tasks_completed, align: 'right' },
    { header: 'HEARTBEAT', value: (w) => relativeTime(w.last_heartbeat_at, now) },
  ]);
}
