import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import type { OwpClient } from '../../../protocol/client.ts';
import { OwpError } from '../../../protocol/errors.ts';
import { OFFER_REJECT_REASONS, type WorkLease, type WorkOffer } from '../../../protocol/leases.ts';
import { WorkerSettableStatus } from '../../../protocol/tasks.ts';
import { WORKER_LIMITS } from '../../../protocol/workers.ts';
import { beatIntervalMs } from '../../mcp/keep-alive.ts';
import { readCredentials, writeCredentials } from '../config-file.ts';
import { intArg, listArg, type CliContext, type ContextOf } from '../context.ts';
import type { TextInput } from '../io.ts';
import { CliError, UsageError } from '../errors.ts';
import { cellText, formatTable, relativeTime } from '../format.ts';
import { runSimulation, SIMULATION_LIMITS, type SimulationSummary } from '../simulation.ts';
import { sleep } from '../sleep.ts';

/** `owp worker …`: act as the worker whose credentials `owp worker register` saved. */
export function addWorkerCommands(program: Command, contextOf: ContextOf): Command {
  const worker = program
    .command('worker')
    .description('register as a worker, take leases and report progress');

  worker
    .command('register')
    .description('register a new worker and save its credentials to the config file')
    .requiredOption('--name <name>', 'who you are (1–120 characters)')
    .option('--github <handle>', 'GitHub handle')
    .option('--skills <a,b>', 'skills you hold', listArg)
    .option(
      '--points <n>',
      `capacity in estimate points, 1–${WORKER_LIMITS.capacityPoints} (default 5)`,
      intArg(1, WORKER_LIMITS.capacityPoints),
    )
    .option(
      '--max-tasks <n>',
      `tasks held at once, 1–${WORKER_LIMITS.maxTasks} (default 2)`,
      intArg(1, WORKER_LIMITS.maxTasks),
    )
    .option('--show-token', 'also print the token (it is saved either way)')
    .option('--force', 'replace the worker already saved in the config file')
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const path = ctx.configPath();
      const existing = readCredentials(path);
      if (existing && !options.force) {
        throw new CliError(
          `${path} already holds worker ${existing.worker_id}; pass --force to replace it`,
        );
      }
      const url = ctx.serverUrl(existing?.url);
      const answer = await ctx.client({ baseUrl: url }).call('registerWorker', {
        body: {
          name: options.name,
          github_handle: options.github,
          skills: options.skills,
          capacity_points: options.points,
          max_concurrent_tasks: options.maxTasks,
        },
      });
      ctx.secrets.push(answer.token);
      writeCredentials(path, {
        url,
        worker_id: answer.worker_id,
        token: answer.token,
        name: options.name,
      });
      if (ctx.json) {
        // The token is in the file; output may end up in a log, so only when asked for.
        return ctx.printJson({
          worker_id: answer.worker_id,
          ...(options.showToken ? { token: answer.token } : {}),
          url,
          config: path,
        });
      }
      ctx.print(`registered worker ${answer.worker_id} (${cellText(options.name)}) at ${url}`);
      ctx.print(`credentials saved to ${path} (mode 0600)`);
      if (options.showToken) ctx.print(`token: ${answer.token}`);
    });

  worker
    .command('token')
    .description(
      'save the new token an admin gave this worker (`owp admin new-token`), read from stdin',
    )
    .action(async (_options, command: Command) => {
      const ctx = contextOf(command);
      const { client, credentials } = ctx.workerClient();
      const path = ctx.configPath();
      const stdin = ctx.io.stdin;
      if (stdin?.isTTY) ctx.io.stderr.write('paste the new token (not shown), then press Enter: ');
      const token = tokenIn(
        stdin?.isTTY && stdin.setRawMode ? await readHidden(stdin, ctx) : await readInput(stdin),
      );
      if (!token) {
        throw new UsageError(
          'no token on stdin: paste it when asked, or pipe it in (`owp worker token < token.txt`); ' +
            'a token on the command line would stay in the shell history',
        );
      }
      ctx.secrets.push(token);
      // Only a token the server takes for this very worker replaces the one saved.
      const renewed = ctx.client({ baseUrl: client.baseUrl, workerToken: token });
      await renewed
        .call('workerReputation', { params: { worker_id: credentials.worker_id } })
        .catch((error: unknown) => {
          if (error instanceof OwpError && (error.status === 401 || error.status === 403)) {
            throw new CliError(
              `${client.baseUrl} does not take this token for worker ${credentials.worker_id} ` +
                `(${error.message}); ${path} is unchanged`,
            );
          }
          throw error;
        });
      writeCredentials(path, { ...credentials, token });
      if (ctx.json) return ctx.printJson({ worker_id: credentials.worker_id, config: path });
      ctx.print(`new token for worker ${credentials.worker_id} saved to ${path}`);
    });

  worker
    .command('next')
    .description('send a heartbeat and show your leases, including any just granted')
    .action(async (_options, command: Command) => {
      const ctx = contextOf(command);
      const { client } = ctx.workerClient();
      // Look first, so the heartbeat reports "working" honestly when leases are already held.
      const before = await client.call('getWork', {});
      await client.call('heartbeat', {
        body: { status: before.leases.length > 0 ? 'working' : 'idle' },
      });
      const work = await client.call('getWork', {});
      if (ctx.json) return ctx.printJson(work);
      if (work.leases.length === 0) {
        // Why, in the pool's words; a server older than the explanation gets the general line.
        const why = await client.call('explainWork', {}).then(
          (answer) => answer.summary,
          () => 'nothing you can take right now',
        );
        return ctx.print(`no leases: ${why}`);
      }
      ctx.print(leaseTable(work.leases, Date.now()));
    });

  worker
    .command('status')
    .description('report progress on a task you hold')
    .argument('<task_id>', 'the task')
    .argument('<status>', `one of ${WorkerSettableStatus.options.join(', ')}`)
    .option('--pr-url <url>', 'the pull request')
    .option('--commit <sha>', 'the commit')
    .option('--message <text>', 'a note for the maintainers')
    .action(async (taskId: string, status: string, options, command: Command) => {
      const wanted = WorkerSettableStatus.safeParse(status);
      if (!wanted.success) {
        throw new UsageError(
          `status must be one of ${WorkerSettableStatus.options.join(', ')}, not "${status}"`,
        );
      }
      const ctx = contextOf(command);
      const { client } = ctx.workerClient();
      const fence = await currentLease(client, taskId);
      const artifact =
        options.prUrl || options.commit
          ? { pr_url: options.prUrl, commit_sha: options.commit }
          : undefined;
      const answer = await client.call('updateStatus', {
        params: { task_id: taskId },
        body: { status: wanted.data, message: options.message, artifact, ...fence },
      });
      if (ctx.json) return ctx.printJson(answer);
      ctx.print(`task ${answer.task.task_id} is now ${answer.task.status}`);
      if (wanted.data === 'pr_opened' && !answer.task.artifact?.pr_url) {
        // The wire allows it (v0.1 clients send none), but nobody can then find the PR to review.
        ctx.note(
          'no PR URL recorded: send it with --pr-url so the maintainers and the board can find it',
        );
      }
    });

  worker
    .command('release')
    .description('give a task back to the queue')
    .argument('<lease_id>', 'the lease (see `owp worker next`), or the task it is on')
    .option('--reason <text>', 'why, for the maintainers')
    .action(async (id: string, options, command: Command) => {
      const ctx = contextOf(command);
      const { client, credentials } = ctx.workerClient();
      // `worker status` and the MCP tools name tasks: a task id is read as the lease held on it.
      let leaseId = id;
      if (id.startsWith('t_')) {
        const noLease = () => new CliError(`you hold no lease on task ${id}`);
        // A worker may read only the tasks it holds: any other is as good as not held.
        const task = await client.call('getTask', { params: { task_id: id } }).catch((error) => {
          throw error instanceof OwpError && error.code === 'forbidden' ? noLease() : error;
        });
        if (!task.lease || task.assignee !== credentials.worker_id) throw noLease();
        leaseId = task.lease.lease_id;
      }
      const answer = await client.call('releaseLease', {
        params: { lease_id: leaseId },
        body: { reason: options.reason },
      });
      if (ctx.json) return ctx.printJson(answer);
      ctx.print(
        answer.status === 'failed'
          ? `released lease ${leaseId}; task ${answer.task_id} used its last attempt and is failed now (an admin may requeue it)`
          : `released lease ${leaseId}; task ${answer.task_id} is back in the queue`,
      );
    });

  worker
    .command('offers')
    .description('show the work offered to you (repos that offer rather than lease)')
    .action(async (_options, command: Command) => {
      const ctx = contextOf(command);
      const { client } = ctx.workerClient();
      const { offers } = await client.call('listOffers', {});
      if (ctx.json) return ctx.printJson(offers);
      if (offers.length === 0) return ctx.print('no offers right now');
      ctx.print(offerTable(offers, Date.now()));
      ctx.note(
        'take one with `owp worker accept OFFER_ID`, or `owp worker reject OFFER_ID --reason …`',
      );
    });

  worker
    .command('accept')
    .description('accept an offer: you get the lease')
    .argument('<offer_id>', 'the offer (see `owp worker offers`)')
    .action(async (offerId: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const { client } = ctx.workerClient();
      const lease = await client.call('acceptOffer', { params: { offer_id: offerId } });
      if (ctx.json) return ctx.printJson(lease);
      ctx.print(leaseLine(lease, Date.now()));
      if (lease.contract) {
        for (const [key, value] of Object.entries(lease.contract)) {
          if (value) ctx.print(`  ${key.replace('_', ' ')}: ${String(value).split('\n')[0]}`);
        }
      }
    });

  worker
    .command('reject')
    .description('turn an offer down; the task goes back to the queue')
    .argument('<offer_id>', 'the offer (see `owp worker offers`)')
    .addOption(
      new Option('--reason <reason>', 'why').choices(OFFER_REJECT_REASONS).makeOptionMandatory(),
    )
    .option('--message <text>', 'more, for the maintainers')
    .action(async (offerId: string, options, command: Command) => {
      const ctx = contextOf(command);
      const { client } = ctx.workerClient();
      const answer = await client.call('rejectOffer', {
        params: { offer_id: offerId },
        body: { reason: options.reason, message: options.message },
      });
      if (ctx.json) return ctx.printJson(answer);
      ctx.print(`rejected offer ${offerId}; task ${answer.task_id} is back in the queue`);
    });

  worker
    .command('run')
    .description('stay online: heartbeat on an interval and print leases as they arrive')
    .option('--interval <seconds>', 'seconds between heartbeats (default 30)', intArg(1, 3600))
    .option('--once', 'one heartbeat and one look for work, then exit')
    .action(async (options, command: Command) => {
      await runWorker(contextOf(command), {
        intervalMs: (options.interval ?? 30) * 1000,
        once: options.once === true,
      });
    });

  worker
    .command('simulate')
    .description(
      'drive the server with simulated workers that finish every task they get (it marks real tasks merged: for a test pool)',
    )
    .option(
      '--workers <n>',
      `simulated workers, 1–${SIMULATION_LIMITS.workers} (default 3)`,
      intArg(1, SIMULATION_LIMITS.workers),
    )
    .option(
      '--duration <seconds>',
      `how long to run, 1–${SIMULATION_LIMITS.durationSeconds} (default 10)`,
      intArg(1, SIMULATION_LIMITS.durationSeconds),
    )
    .option(
      '--skills <a,b>',
      "the simulated workers' skills (default: every skill the ready tasks need, when the admin token is at hand; else none)",
      listArg,
    )
    .option(
      '--max-tasks <n>',
      `stop after this many tasks (default 100)`,
      intArg(1, SIMULATION_LIMITS.maxTasks),
    )
    .option('--poll <ms>', 'pause when a worker has no work (default 250)', intArg(10, 60_000))
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const url = ctx.serverUrl();
      // Its own transport, not tied to Ctrl-C: a task in flight is finished rather than left open.
      const notInterruptible = new AbortController().signal;
      const summary = await runSimulation({
        clientFor: (workerToken) => {
          if (workerToken) ctx.secrets.push(workerToken);
          return ctx.client({ baseUrl: url, workerToken }, notInterruptible);
        },
        workers: options.workers ?? 3,
        durationMs: (options.duration ?? 10) * 1000,
        skills: options.skills ?? (await skillsOfReadyTasks(ctx, url)),
        maxTasks: options.maxTasks ?? 100,
        pollMs: options.poll ?? 250,
        signal: ctx.io.signal,
        runId: randomBytes(3).toString('hex'),
        onNotice: (text) => ctx.note(`owp: ${text}`),
      });
      printSimulation(ctx, url, summary);
    });

  return worker;
}

/**
 * Skills for simulated workers that can take every ready task. Needs the admin token; without one
 * (or if the lookup fails) the workers get no skills and take only tasks that need none.
 */
async function skillsOfReadyTasks(ctx: CliContext, url: string): Promise<string[]> {
  const token = ctx.adminToken();
  if (!token) return [];
  const client = ctx.client({ baseUrl: url, adminToken: token });
  const skills = new Set<string>();
  try {
    // Every page: a skill only the newest tasks need lies past the first.
    let cursor: string | undefined;
    do {
      const page = await client.call('listTasks', {
        query: { status: 'ready', limit: 500, ...(cursor ? { cursor } : {}) },
      });
      for (const task of page.tasks) task.required_skills.forEach((skill) => skills.add(skill));
      cursor = page.next_cursor ?? undefined;
    } while (cursor && !ctx.io.signal.aborted);
  } catch {
    return [];
  }
  const sorted = [...skills].sort();
  if (sorted.length > 0) ctx.note(`simulated workers hold: ${sorted.join(', ')}`);
  return sorted;
}

/** The lease a status write is fenced by: the task's current one, when the caller can see it. */
async function currentLease(
  client: OwpClient,
  taskId: string,
): Promise<{ lease_id?: string; epoch?: number }> {
  try {
    const task = await client.call('getTask', { params: { task_id: taskId } });
    return task.lease ? { lease_id: task.lease.lease_id, epoch: task.lease.epoch } : {};
  } catch (error) {
    // Not ours to read: send the write unfenced and let the server say why it is refused.
    if (error instanceof OwpError && error.code === 'forbidden') return {};
    throw error;
  }
}

/** Errors that retrying cannot fix: the worker's credentials are gone or wrong. */
const FATAL_CODES = new Set(['unauthorized', 'worker_not_found', 'forbidden']);

async function runWorker(ctx: CliContext, options: { intervalMs: number; once: boolean }) {
  const { client, credentials } = ctx.workerClient();
  const signal = ctx.io.signal;
  const known = new Map<string, WorkLease>();
  if (!options.once) {
    ctx.note(
      `worker ${credentials.worker_id} online at ${client.baseUrl}; heartbeat every ${
        options.intervalMs / 1000
      }s; Ctrl-C to stop`,
    );
  }
  // Sooner than asked while a lease with a short TTL is held, so it is renewed in time.
  let beatMs = options.intervalMs;
  let told = `heartbeat every ${options.intervalMs / 1000}s`;
  // Whether the worker held work when this run began: its first beat says so (`known` is empty
  // until the first answer), rather than reporting a worker busy since an earlier run as idle.
  let heldAtStart: boolean | null = null;
  let beaten = false;
  while (!signal.aborted) {
    try {
      heldAtStart ??= (await client.call('getWork', {})).leases.length > 0;
      const working = known.size > 0 || (!beaten && heldAtStart);
      const beat = await client.call('heartbeat', {
        body: { status: working ? 'working' : 'idle' },
      });
      beaten = true;
      const { leases } = await client.call('getWork', {});
      const soonest = shortestTtlMs(leases, beat.server_time);
      beatMs = beatIntervalMs(options.intervalMs, soonest);
      const pace =
        beatMs < options.intervalMs && soonest !== null
          ? `heartbeat every ${Math.round(beatMs / 1000)}s while a lease of ${Math.round(soonest / 1000)}s is held`
          : `heartbeat every ${options.intervalMs / 1000}s`;
      // Said when the pace changes, once.
      if (pace !== told && !options.once) ctx.note(pace);
      told = pace;
      const now = Date.now();
      const current = new Set(leases.map((lease) => lease.lease_id));
      for (const [leaseId, lease] of known) {
        if (current.has(leaseId)) continue;
        known.delete(leaseId);
        if (ctx.json) ctx.print(JSON.stringify({ event: 'lease_ended', lease }));
        else ctx.print(`ended  ${lease.task_id}  [${lease.repo}] ${cellText(lease.title)}`);
      }
      for (const lease of leases) {
        if (known.has(lease.lease_id)) continue;
        known.set(lease.lease_id, lease);
        if (ctx.json) ctx.print(JSON.stringify({ event: 'lease', lease }));
        else ctx.print(leaseLine(lease, now));
      }
    } catch (error) {
      if (signal.aborted) break;
      // A server restart or a 409 is worth waiting out; bad credentials are not.
      const transient =
        error instanceof CliError || (error instanceof OwpError && !FATAL_CODES.has(error.code));
      if (options.once || !transient) throw error;
      const what =
        error instanceof OwpError ? `${error.message} (${error.code})` : (error as Error).message;
      ctx.note(`owp: ${what}; trying again in ${beatMs / 1000}s`);
    }
    if (options.once) break;
    await sleep(beatMs, signal);
  }
  if (!options.once) ctx.note('stopped');
}

/**
 * The shortest TTL among the leases a heartbeat at `serverTime` just renewed (time left then is the
 * TTL: a heartbeat renews every live lease), or null when none expires.
 */
function shortestTtlMs(leases: readonly WorkLease[], serverTime: string): number | null {
  const left = leases.flatMap((lease) =>
    lease.lease_expires_at === null
      ? []
      : [Math.max(0, Date.parse(lease.lease_expires_at) - Date.parse(serverTime))],
  );
  return left.length > 0 ? Math.min(...left) : null;
}

function leaseLine(lease: WorkLease, now: number): string {
  return [
    `lease  ${lease.task_id}  [${lease.repo}] ${cellText(lease.title)}`,
    `(${lease.estimate_points} pts, priority ${lease.priority}, ${lease.status}, expires ${relativeTime(
      lease.lease_expires_at,
      now,
    )}, lease ${lease.lease_id})`,
  ].join('  ');
}

function leaseTable(leases: readonly WorkLease[], now: number): string {
  return formatTable(leases, [
    { header: 'TASK', value: (l) => l.task_id },
    { header: 'LEASE', value: (l) => l.lease_id },
    { header: 'STATUS', value: (l) => l.status },
    { header: 'REPO', value: (l) => l.repo },
    { header: 'PTS', value: (l) => l.estimate_points, align: 'right' },
    { header: 'PRI', value: (l) => l.priority, align: 'right' },
    { header: 'AREA', value: (l) => l.area, maxWidth: 16 },
    { header: 'EXPIRES', value: (l) => relativeTime(l.lease_expires_at, now) },
    { header: 'TITLE', value: (l) => l.title, maxWidth: 60 },
  ]);
}

function offerTable(offers: readonly WorkOffer[], now: number): string {
  return formatTable(offers, [
    { header: 'OFFER', value: (o) => o.offer_id },
    { header: 'TASK', value: (o) => o.task_id },
    { header: 'REPO', value: (o) => o.repo },
    { header: 'PTS', value: (o) => o.estimate_points, align: 'right' },
    { header: 'PRI', value: (o) => o.priority, align: 'right' },
    { header: 'ANSWER BY', value: (o) => relativeTime(o.expires_at, now) },
    { header: 'TITLE', value: (o) => o.title, maxWidth: 60 },
  ]);
}

function printSimulation(ctx: CliContext, url: string, summary: SimulationSummary) {
  if (ctx.json) return ctx.printJson({ url, ...summary });
  ctx.print(
    `simulated ${summary.workers.length} workers against ${url} for ${(
      summary.elapsed_ms / 1000
    ).toFixed(1)}s (stopped by ${summary.stopped_by.replace('_', ' ')})`,
  );
  ctx.print(
    formatTable(summary.workers, [
      { header: 'WORKER', value: (w) => w.worker_id },
      { header: 'NAME', value: (w) => w.name },
      { header: 'COMPLETED', value: (w) => w.completed, align: 'right' },
      { header: 'ERRORS', value: (w) => w.errors, align: 'right' },
    ]),
  );
  ctx.print(`tasks completed: ${summary.tasks_completed}`);
  for (const sample of summary.error_samples) ctx.note(`owp: simulation error: ${sample}`);
}

/**
 * A line typed or pasted at a terminal, not echoed (a token must not stay in the scrollback):
 * read in raw mode up to Enter; Backspace takes a character back, Ctrl-C or Ctrl-D gives up.
 */
async function readHidden(input: TextInput, ctx: CliContext): Promise<string> {
  const decoder = new TextDecoder();
  let line = '';
  input.setRawMode!(true);
  try {
    for await (const chunk of input) {
      for (const char of typeof chunk === 'string' ? chunk : decoder.decode(chunk)) {
        if (char === '\r' || char === '\n') return line;
        if (char === '\u0003' || char === '\u0004') throw new CliError('no token saved');
        if (char === '\u007f' || char === '\b') line = line.slice(0, -1);
        else line += char;
      }
    }
    return line;
  } finally {
    input.setRawMode!(false);
    ctx.io.stderr.write('\n');
  }
}

/**
 * What was pasted or piped in: the first line from a terminal, all of it (up to 64 KiB) from a
 * pipe — `owp admin new-token W | owp worker token` sends the whole printout.
 */
async function readInput(input: TextInput | undefined): Promise<string> {
  if (!input) return '';
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if ((input.isTTY && text.includes('\n')) || text.length > 65_536) break;
  }
  return text;
}

/** The worker token in `text`: an `owpw_…` word anywhere (a printout, JSON), else its first line. */
function tokenIn(text: string): string {
  return (
    /owpw_[\w-]+/.exec(text)?.[0] ??
    text
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line !== '') ??
    ''
  );
}
