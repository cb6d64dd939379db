import {
  WAIT_REASONS,
  type TaskExplanation,
  type WaitReason,
  type WorkExplanation,
} from '../protocol/index.ts';
import {
  ELIGIBILITY_WORKER_COLUMNS,
  type EligibilityWorker,
  checkEligibility,
  grantHeartbeatTtl,
} from './assignment.ts';
import { toIso } from './clock.ts';
import type { EngineContext } from './context.ts';
import { compareTasks, compareWorkers, reviewBudgetLeft } from './eligibility.ts';
import { RESERVING_STATUSES, statusIsOneOf } from './lifecycle.ts';
import type { RepoRow, TaskRow, WorkerRow } from './rows.ts';
import { TASK_COLUMNS, TASK_FROM, splitSkills } from './rows.ts';
import { skillSetsHeldBy } from './skill-sets.ts';
import type { SqlParams } from './storage-port.ts';
import { findRepo, findWorker, isOnline, requireTask, requireWorker } from './task-store.ts';

/*
 * "Why is this task not assigned?" answered from the same rules assignment applies: first what
 * holds the task back for every worker (its status, its dependencies, its repo's budget, its
 * area), else each online worker through `checkEligibility`, grouped by the first rule that stops
 * it. A read: nothing is written, and nothing here decides a grant.
 */

type Blocker = NonNullable<TaskExplanation['blocker']>;
type Workers = NonNullable<TaskExplanation['workers']>;
type WorkerRef = Workers['eligible'][number];

const ELIGIBLE_SHOWN = 10;
const EXAMPLES_SHOWN = 3;
const DEPENDENCIES_SHOWN = 5;

/** What the explanation reads of each online worker: the eligibility facts, its name and its load. */
const ONLINE_WORKERS = `SELECT ${[...ELIGIBILITY_WORKER_COLUMNS, 'name', 'reputation'].join(', ')}
  FROM workers WHERE last_heartbeat_at > $online_after ORDER BY name, id`;
type OnlineWorker = EligibilityWorker & Pick<WorkerRow, 'name' | 'reputation'>;

const HOLDER_OF_AREA = `SELECT id, status, assignee FROM tasks
  WHERE repo = $repo AND area = $area AND area IS NOT NULL AND ${statusIsOneOf(RESERVING_STATUSES)}
  ORDER BY created_at, id LIMIT 1`;

/** Explains why task `id` is or is not being handed out now. */
export function explainTask(ctx: EngineContext, id: string): TaskExplanation {
  const task = requireTask(ctx.driver, id);
  const repo = findRepo(ctx.driver, task.repo);
  const blocker = blockerOf(ctx, task, repo);
  if (blocker) {
    return {
      task_id: task.id,
      status: task.status,
      summary: blocker.message,
      blocker,
      workers: null,
    };
  }
  const workers = workersFor(ctx, task, repo!);
  return {
    task_id: task.id,
    status: task.status,
    summary: workersSummary(workers, repo!),
    blocker: null,
    workers,
  };
}

/** What holds the task back whichever worker asks, or null when it depends on the worker. */
function blockerOf(ctx: EngineContext, task: TaskRow, repo: RepoRow | undefined): Blocker | null {
  if (task.status !== 'ready') {
    return { reason: 'task_not_ready', message: statusMessage(ctx, task, repo) };
  }
  if (task.deps_pending > 0) {
    return { reason: 'waiting_on_dependencies', message: dependenciesMessage(ctx, task) };
  }
  if (!repo) {
    return { reason: 'repo_missing', message: `Its repo ${task.repo} does not exist.` };
  }
  if (reviewBudgetLeft(repo) <= 0) {
    const message =
      repo.max_open_prs === 0
        ? `Repo ${repo.key} is paused: its review budget is 0.`
        : `Repo ${repo.key}'s review budget is full: ${repo.budget_used} of ${repo.max_open_prs} ` +
          'in use (tasks offered, leased, in progress, blocked or with a PR open).';
    return { reason: 'review_budget_full', message };
  }
  if (repo.area_locks_enabled === 1 && task.area !== null) {
    const holder = ctx.driver.get<{ id: string; status: string; assignee: string | null }>(
      HOLDER_OF_AREA,
      { repo: repo.key, area: task.area },
    );
    if (holder) {
      const by = holder.assignee ? ` by ${nameOf(ctx, holder.assignee)}` : '';
      return {
        reason: 'area_locked',
        message: `Area "${task.area}" of ${repo.key} is taken: task ${holder.id} is ${holder.status}${by}.`,
      };
    }
  }
  return null;
}

/** Who holds a task that is not ready, or how it ended. */
function statusMessage(ctx: EngineContext, task: TaskRow, repo: RepoRow | undefined): string {
  const holder = task.assignee ? nameOf(ctx, task.assignee) : 'nobody';
  const until =
    task.lease_expires_at === null ? '' : ` (lease until ${toIso(task.lease_expires_at)})`;
  switch (task.status) {
    case 'offered': {
      const offer = ctx.driver.get<{ worker_id: string; expires_at: number }>(
        `SELECT worker_id, expires_at FROM offers WHERE task_id = $id AND status = 'open' LIMIT 1`,
        { id: task.id },
      );
      return offer
        ? `Offered to ${nameOf(ctx, offer.worker_id)} until ${toIso(offer.expires_at)}; waiting for the answer.`
        : 'Offered; waiting for the answer.';
    }
    case 'leased':
      return `Leased to ${holder}${until}; not started yet.`;
    case 'in_progress':
      return `In progress with ${holder}${until}.`;
    case 'blocked':
      return `Blocked: ${holder} holds it${until} and reported a blocker.`;
    case 'pr_opened': {
      const url = prUrlOf(task);
      return (
        `PR opened by ${holder}${url ? ` (${url})` : ''}; it counts against ` +
        `${repo?.key ?? task.repo}'s review budget until it is merged.`
      );
    }
    case 'merged':
      return 'Done: its PR was merged.';
    case 'cancelled':
      return 'Cancelled by an admin.';
    case 'failed':
      return (
        `Failed after ${task.attempts} attempt${task.attempts === 1 ? '' : 's'}; ` +
        "an admin's requeue puts it back in the queue."
      );
    default:
      return `The task is ${task.status}.`;
  }
}

function dependenciesMessage(ctx: EngineContext, task: TaskRow): string {
  const pending = ctx.driver.all<{ id: string; title: string; status: string }>(
    `SELECT t.id, t.title, t.status FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on
      WHERE d.task_id = $id AND t.status <> 'merged' ORDER BY t.created_at, t.id`,
    { id: task.id },
  );
  const shown = pending
    .slice(0, DEPENDENCIES_SHOWN)
    .map((d) => `${d.id} "${d.title}" (${d.status})`)
    .join(', ');
  const more =
    pending.length > DEPENDENCIES_SHOWN ? ` and ${pending.length - DEPENDENCIES_SHOWN} more` : '';
  const cancelled = pending.some((d) => d.status === 'cancelled')
    ? ' A cancelled task is never merged: edit depends_on to go on without it.'
    : '';
  if (pending.length === 0) {
    // Its count says it waits, yet no dependency it names is open: edit depends_on to free it.
    return 'Waits on dependencies the pool no longer lists: edit its depends_on to go on.';
  }
  const count = pending.length === 1 ? '1 task' : `${pending.length} tasks`;
  return `Waits for ${count} to be merged: ${shown}${more}.${cancelled}`;
}

/** The online workers sorted by whether, and why not, each may take the task now. */
function workersFor(ctx: EngineContext, task: TaskRow, repo: RepoRow): Workers {
  const now = ctx.clock.now();
  const registered = ctx.driver.get<{ n: number }>('SELECT COUNT(*) AS n FROM workers')!.n;
  const online = ctx.driver
    .all<OnlineWorker>(ONLINE_WORKERS, { online_after: now - ctx.config.heartbeatTtlMs })
    .filter((worker) => isOnline(worker, now, ctx.config.heartbeatTtlMs));
  // The area is known to be free (else it would be the blocker): not asked again per worker.
  const asked = { ...repo, area_locks_enabled: 0 };
  const eligible: OnlineWorker[] = [];
  const stopped = new Map<WaitReason, OnlineWorker[]>();
  for (const worker of online) {
    const reason = checkEligibility(ctx, task, worker, asked);
    if (reason === null) eligible.push(worker);
    else if (stopped.has(reason)) stopped.get(reason)!.push(worker);
    else stopped.set(reason, [worker]);
  }
  // In the order assignment would pick them: least loaded first.
  eligible.sort(compareWorkers);
  return {
    online: online.length,
    offline: registered - online.length,
    eligible: eligible.slice(0, ELIGIBLE_SHOWN).map(refOf),
    eligible_count: eligible.length,
    ineligible: [...stopped]
      // Most common first; a tie in the order the rules are checked.
      .sort((a, b) => b[1].length - a[1].length || ruleOrder(a[0]) - ruleOrder(b[0]))
      .map(([reason, workers]) => ({
        reason,
        count: workers.length,
        message: workerRuleMessage(ctx, reason, task, repo, workers),
        examples: workers.slice(0, EXAMPLES_SHOWN).map(refOf),
      })),
  };
}

/** What a group of workers stopped by one rule have in common: "3 workers lack …". */
function workerRuleMessage(
  ctx: EngineContext,
  reason: WaitReason,
  task: TaskRow,
  repo: RepoRow,
  workers: OnlineWorker[],
): string {
  const one = workers.length === 1;
  const who = one ? '1 worker' : `${workers.length} workers`;
  const verb = (singular: string, plural: string) => `${who} ${one ? singular : plural}`;
  switch (reason) {
    case 'worker_paused':
      return verb('is paused', 'are paused');
    case 'tier_not_trusted':
      return verb('is', 'are') + ` not trusted for risk tier ${task.tier}`;
    case 'missing_skill': {
      const missing = splitSkills(task.skills).filter((skill) =>
        workers.some((w) => !(JSON.parse(w.skills) as string[]).includes(skill)),
      );
      return verb('lacks', 'lack') + ` a required skill (${missing.join(', ')})`;
    }
    case 'not_enough_points':
      return verb('has', 'have') + ` fewer than ${task.estimate_points} points free`;
    case 'no_free_slot':
      return verb('holds', 'hold') + ' as many tasks at once as allowed';
    case 'recently_released':
      return `${who} released it less than ${minutes(ctx.config.releaseCooldownMs)} ago`;
    // Online, but not heard from within the task's lease time (`grantHeartbeatTtl`).
    case 'worker_offline':
      return (
        verb('was', 'were') +
        ` last heard from longer ago than its lease lasts (${Math.round(grantHeartbeatTtl(ctx, task, repo) / 1000)} s): ` +
        'the next heartbeat makes them eligible again'
      );
    case 'recently_declined':
      return (
        `${who} declined an offer of it, or let one lapse, less than ` +
        `${minutes(ctx.config.offerCooldownMs)} ago`
      );
    default:
      return `${who}: ${reason.replaceAll('_', ' ')}`;
  }
}

function workersSummary(workers: Workers, repo: RepoRow): string {
  if (workers.eligible_count > 0) {
    const names = workers.eligible.slice(0, EXAMPLES_SHOWN).map((w) => w.name);
    const who =
      workers.eligible_count === 1 ? '1 online worker' : `${workers.eligible_count} online workers`;
    const how = repo.assignment === 'offer' ? 'offered' : 'leased';
    return (
      `${who} may take it now (${names.join(', ')}${workers.eligible_count > names.length ? ', …' : ''}); ` +
      `it is ${how} to the least loaded at the next assignment (a heartbeat, a work request or the timer).`
    );
  }
  if (workers.online === 0) {
    return workers.offline === 0
      ? 'No worker has registered yet.'
      : `No worker is online (${workers.offline} registered, none heard from lately).`;
  }
  const reasons = workers.ineligible.map((group) => group.message);
  const all =
    workers.online === 1
      ? 'The one online worker may not take it'
      : `None of the ${workers.online} online workers may take it`;
  return `${all}: ${reasons.join('; ')}.`;
}

const ruleOrder = (reason: WaitReason) => WAIT_REASONS.indexOf(reason);

function refOf(worker: Pick<WorkerRow, 'id' | 'name'>): WorkerRef {
  return { worker_id: worker.id, name: worker.name };
}

function nameOf(ctx: EngineContext, workerId: string): string {
  return findWorker(ctx.driver, workerId)?.name ?? workerId;
}

function prUrlOf(task: TaskRow): string | null {
  if (!task.artifact) return null;
  const artifact = JSON.parse(task.artifact) as { pr_url?: unknown };
  return typeof artifact.pr_url === 'string' ? artifact.pr_url : null;
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m === 60 ? 'an hour' : m === 1 ? 'a minute' : `${m} minutes`;
}

// ── "why do I get no work?", for the worker asking ──

type WorkBlocker = NonNullable<WorkExplanation['blocker']>;
type WorkQueue = WorkExplanation['queue'];
type HeldBack = WorkExplanation['held_back'];

/** How many of the tasks within reach are checked one by one, in queue order. */
const CANDIDATES_CHECKED = 50;

const READY = `t.status = 'ready' AND t.deps_pending = 0`;
const REPO_FULL = 'r.budget_used >= r.max_open_prs';

/** Explains to worker `workerId` why it is given no work, from the rules assignment applies. */
export function explainWork(ctx: EngineContext, workerId: string): WorkExplanation {
  const worker = requireWorker(ctx.driver, workerId);
  const blocker = workerBlockerOf(ctx, worker);
  const sets = skillSetsHeldBy(ctx.driver, worker.id);
  const queue = queueFor(ctx, sets);
  const { mayTake, heldBack } =
    blocker || queue.within_reach === 0
      ? { mayTake: false, heldBack: [] }
      : candidatesFor(ctx, worker, sets);
  return {
    worker_id: worker.id,
    summary: workSummary(blocker, queue, mayTake, heldBack),
    blocker,
    queue,
    held_back: heldBack,
  };
}

/** What keeps the worker from any task, whatever the queue holds. */
function workerBlockerOf(ctx: EngineContext, worker: WorkerRow): WorkBlocker | null {
  const now = ctx.clock.now();
  if (worker.paused_by_admin === 1) {
    return {
      reason: 'worker_paused',
      message: 'An admin paused you: you get no new work until they resume you.',
    };
  }
  if (worker.reported_status === 'paused') {
    return {
      reason: 'worker_paused',
      message: 'You reported yourself paused: send a heartbeat with status idle or working.',
    };
  }
  if (!isOnline(worker, now, ctx.config.heartbeatTtlMs)) {
    const ttl = Math.round(ctx.config.heartbeatTtlMs / 1000);
    return {
      reason: 'worker_offline',
      message:
        worker.last_heartbeat_at === null
          ? 'The pool has not heard from you yet: send a heartbeat.'
          : `The pool last heard from you ${Math.round((now - worker.last_heartbeat_at) / 1000)} s ` +
            `ago (online means within ${ttl} s): send a heartbeat.`,
    };
  }
  if (worker.active_tasks >= worker.max_concurrent_tasks) {
    return {
      reason: 'no_free_slot',
      message:
        `You hold ${worker.active_tasks} task${worker.active_tasks === 1 ? '' : 's'}, as many as ` +
        `you may at once (max_concurrent_tasks ${worker.max_concurrent_tasks}).`,
    };
  }
  if (worker.points_in_use >= worker.capacity_points) {
    return {
      reason: 'not_enough_points',
      message: `All your points are in use (${worker.points_in_use} of ${worker.capacity_points}).`,
    };
  }
  return null;
}

/**
 * The ready queue as counts, split by what the worker's skills and the repos' budgets allow. Each
 * count reads index entries only (the partial ready-queue indexes, `tasks_by_status`), never a
 * task's row: at 100k ready tasks a row-reading count held the server for ~100 ms.
 */
function queueFor(ctx: EngineContext, sets: readonly number[]): WorkQueue {
  const inSets = `t.skill_set_id IN (${sets.map((_, i) => `$s${i}`).join(', ')})`;
  const params = Object.fromEntries(sets.map((set, i) => [`s${i}`, set]));
  const count = (sql: string, bind: SqlParams = {}) => ctx.driver.get<{ n: number }>(sql, bind)!.n;
  const ready = count(
    `SELECT COUNT(*) AS n FROM tasks t INDEXED BY tasks_ready_by_repo WHERE ${READY}`,
  );
  const allReady = count(
    `SELECT COUNT(*) AS n FROM tasks t INDEXED BY tasks_by_status WHERE t.status = 'ready'`,
  );
  const withSkills = count(
    `SELECT COUNT(*) AS n FROM tasks t INDEXED BY tasks_ready_by_skill_set WHERE ${READY} AND ${inSets}`,
    params,
  );
  const inFullRepos = count(
    `SELECT COUNT(*) AS n FROM repos r INDEXED BY repos_at_budget
       JOIN tasks t INDEXED BY tasks_ready_queue ON t.repo = r.key
      WHERE ${REPO_FULL} AND ${READY} AND ${inSets}`,
    params,
  );
  return {
    ready,
    missing_skill: ready - withSkills,
    review_budget_full: inFullRepos,
    within_reach: withSkills - inFullRepos,
    waiting_on_dependencies: allReady - ready,
  };
}

/**
 * The first tasks within reach in queue order, each checked as a grant would be: whether one may
 * be taken now, else the rules that stop the worker, most common first.
 */
function candidatesFor(
  ctx: EngineContext,
  worker: WorkerRow,
  sets: readonly number[],
): { mayTake: boolean; heldBack: HeldBack } {
  const candidates = sets
    .flatMap((set) =>
      ctx.driver.all<TaskRow>(
        `SELECT ${TASK_COLUMNS} FROM ${TASK_FROM} JOIN repos r ON r.key = t.repo
          WHERE ${READY} AND t.skill_set_id = $set AND NOT (${REPO_FULL})
          ORDER BY t.priority DESC, t.estimate_points, t.created_at, t.id LIMIT ${CANDIDATES_CHECKED}`,
        { set },
      ),
    )
    .sort(compareTasks)
    .slice(0, CANDIDATES_CHECKED);
  const repos = new Map<string, RepoRow | undefined>();
  const stopped = new Map<WaitReason, number>();
  for (const task of candidates) {
    if (!repos.has(task.repo)) repos.set(task.repo, findRepo(ctx.driver, task.repo));
    const reason = checkEligibility(ctx, task, worker, repos.get(task.repo));
    if (reason === null) return { mayTake: true, heldBack: [] };
    stopped.set(reason, (stopped.get(reason) ?? 0) + 1);
  }
  return {
    mayTake: false,
    heldBack: [...stopped]
      .sort((a, b) => b[1] - a[1] || ruleOrder(a[0]) - ruleOrder(b[0]))
      .map(([reason, count]) => ({
        reason,
        count,
        message: heldBackMessage(ctx, reason, count, worker),
      })),
  };
}

function heldBackMessage(
  ctx: EngineContext,
  reason: WaitReason,
  count: number,
  worker: WorkerRow,
): string {
  const one = count === 1;
  const tasks = `${count} ${one ? 'task' : 'tasks'}`;
  switch (reason) {
    case 'tier_not_trusted':
      return `${tasks} ${one ? 'needs' : 'need'} a trust tier above yours (${worker.trust_tier})`;
    case 'not_enough_points':
      return (
        `${tasks} ${one ? 'needs' : 'need'} more points than you have free ` +
        `(${worker.capacity_points - worker.points_in_use})`
      );
    case 'area_locked':
      return `${tasks} ${one ? 'is' : 'are'} in an area another task holds`;
    case 'recently_released':
      return `${tasks} you released less than ${minutes(ctx.config.releaseCooldownMs)} ago`;
    case 'recently_declined':
      return `${tasks} you declined, or let an offer lapse, less than ${minutes(ctx.config.offerCooldownMs)} ago`;
    default:
      return `${tasks}: ${reason.replaceAll('_', ' ')}`;
  }
}

function workSummary(
  blocker: WorkBlocker | null,
  queue: WorkQueue,
  mayTake: boolean,
  heldBack: HeldBack,
): string {
  if (blocker) return blocker.message;
  if (queue.ready === 0) {
    return queue.waiting_on_dependencies === 0
      ? 'No task is ready.'
      : `No task is ready; ${queue.waiting_on_dependencies} wait on dependencies not merged yet.`;
  }
  const ready = queue.ready === 1 ? 'the 1 ready task' : `the ${queue.ready} ready tasks`;
  if (queue.within_reach === 0) {
    const { missing_skill: lacking, review_budget_full: full } = queue;
    const parts = [
      lacking > 0 ? `${lacking} ${lacking === 1 ? 'needs' : 'need'} a skill you lack` : null,
      full > 0
        ? `${full} ${full === 1 ? 'is in a repo' : 'are in repos'} whose review budget is full`
        : null,
    ].filter((part) => part !== null);
    return `None of ${ready} is within your reach: ${parts.join(', and ')}.`;
  }
  if (mayTake) return 'A task is ready for you: ask for work (GET /v1/work) to take it.';
  const checked = Math.min(queue.within_reach, CANDIDATES_CHECKED);
  const which =
    checked === queue.within_reach
      ? `the ${checked} ready task${checked === 1 ? '' : 's'} you have the skills for`
      : `the first ${checked} of the ${queue.within_reach} ready tasks you have the skills for`;
  return `You may take none of ${which}: ${heldBack.map((group) => group.message).join('; ')}.`;
}
