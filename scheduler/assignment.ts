import type { EngineContext } from './context.ts';
import {
  type IneligibleReason,
  whyIneligible,
  compareTasks,
  minTrustRankFor,
} from './eligibility.ts';
import { RESERVING_STATUSES, edgeFor, statusIsOneOf } from './lifecycle.ts';
import type { RepoRow, TaskRow, WorkerRow } from './rows.ts';
import { TASK_COLUMNS, TASK_FROM, splitSkills, trustRulesOf } from './rows.ts';
import type { QueueKey } from './queue-heads.ts';
import { skillSetsHeldBy } from './skill-sets.ts';
import { findRepo, findTask, findWorker, isAreaHeld, isOnline } from './task-store.ts';
import { applyTransition } from './transitions.ts';
import type { Touched } from './write-scope.ts';

/*
 * Assignment narrows candidates with indexed queries and confirms every grant with the pure
 * `whyIneligible`, so the SQL is an optimisation and never the rule. Three entry points:
 *   fillWorker  — worker first: the best tasks one worker can take (on GET /work, on coming online);
 *   assignTask  — task first: the least loaded worker who can take one task (created or freed);
 *   assignAll   — the timer's safety net: workers with room, least loaded first, round by round.
 * None of them reads a ready task that the worker could not take for its skills or because its
 * repo's review budget is full: the ready queue is indexed by (repo, skill set).
 */

/** The test for statuses that hold an area: a lease, or an offer waiting for its answer. */
const HOLDS_AREA = `a.area IS NOT NULL AND ${statusIsOneOf(RESERVING_STATUSES, 'a.status')}`;

/** The columns of a worker row the eligibility check reads. */
export const ELIGIBILITY_WORKER_COLUMNS = [
  'id',
  'skills',
  'trust_tier',
  'capacity_points',
  'points_in_use',
  'max_concurrent_tasks',
  'active_tasks',
  'paused_by_admin',
  'reported_status',
  'last_heartbeat_at',
] as const;
export type EligibilityWorker = Pick<WorkerRow, (typeof ELIGIBILITY_WORKER_COLUMNS)[number]>;

/**
 * The reason `worker` may not take `task` right now, or null, from fresh facts. `repo` saves a read
 * when the caller has just read it in the same transaction (its `budget_used` is the counter).
 */
export function checkEligibility(
  ctx: EngineContext,
  task: TaskRow,
  worker: EligibilityWorker,
  repo: RepoRow | undefined = findRepo(ctx.driver, task.repo),
): IneligibleReason | null {
  const now = ctx.clock.now();
  const locked =
    repo !== undefined &&
    repo.area_locks_enabled === 1 &&
    task.area !== null &&
    isAreaHeld(ctx.driver, task.repo, task.area);
  return whyIneligible(
    {
      status: task.status,
      estimate_points: task.estimate_points,
      required_skills: splitSkills(task.skills),
      tier: task.tier,
      recently_released_by_worker: recentlyReleasedBy(ctx, task, worker.id, now),
      recently_declined_by_worker:
        repo?.assignment === 'offer' && recentlyDeclinedBy(ctx, task.id, worker.id, now),
      dependencies_pending: task.deps_pending,
    },
    {
      exists: repo !== undefined,
      max_open_prs: repo?.max_open_prs ?? 0,
      budget_used: repo?.budget_used ?? 0,
      area_locked: locked,
    },
    {
      online: isOnline(worker, now, grantHeartbeatTtl(ctx, task, repo)),
      paused: worker.paused_by_admin === 1 || worker.reported_status === 'paused',
      skills: new Set(JSON.parse(worker.skills) as string[]),
      max_tier: repo ? maxTierIn(ctx, repo, worker) : -1,
      capacity_points: worker.capacity_points,
      points_in_use: worker.points_in_use,
      max_concurrent_tasks: worker.max_concurrent_tasks,
      active_tasks: worker.active_tasks,
    },
  );
}

/** The highest task risk tier `worker` may take in `repo`, by the repo's trust rules. */
function maxTierIn(ctx: EngineContext, repo: RepoRow, worker: Pick<WorkerRow, 'trust_tier'>) {
  return trustRulesOf(repo, ctx.config.defaultTrustRules)[worker.trust_tier];
}

/** Whether the worker rejected an offer of the task, or let one expire, within the cool-down. */
function recentlyDeclinedBy(ctx: EngineContext, taskId: string, workerId: string, now: number) {
  return (
    ctx.driver.get(
      `SELECT 1 FROM offers WHERE task_id = $task AND worker_id = $worker
          AND status IN ('rejected', 'expired') AND resolved_at > $since LIMIT 1`,
      { task: taskId, worker: workerId, since: now - ctx.config.offerCooldownMs },
    ) !== undefined
  );
}

function recentlyReleasedBy(ctx: EngineContext, task: TaskRow, workerId: string, now: number) {
  return (
    task.released_by === workerId &&
    task.released_at !== null &&
    now - task.released_at < ctx.config.releaseCooldownMs
  );
}

/**
 * Gives `task` to `worker` after confirming eligibility: a lease, or in a repo with offer
 * assignment, an offer the worker may accept or reject. Returns false when a rule says no. `repo`,
 * when given, must have been read since the last write.
 */
export function grantLease(
  ctx: EngineContext,
  task: TaskRow,
  worker: WorkerRow,
  repo: RepoRow | undefined = findRepo(ctx.driver, task.repo),
): boolean {
  if (!repo || checkEligibility(ctx, task, worker, repo) !== null) return false;
  if (repo.assignment === 'offer') {
    const now = ctx.clock.now();
    applyTransition(ctx, task, edgeFor(task.status, 'system', { cause: 'offer' }), {
      epoch: task.lease_epoch,
      offer: {
        workerId: worker.id,
        offerId: ctx.ids.offerId(),
        expiresAt: now + (repo.offer_ttl_ms ?? ctx.config.offerTtlMs),
      },
    });
    return true;
  }
  applyTransition(ctx, task, edgeFor(task.status, 'system', { cause: 'grant' }), {
    epoch: task.lease_epoch,
    grant: { workerId: worker.id, leaseId: ctx.ids.leaseId(), ttlMs: leaseTtlOf(ctx, task, repo) },
  });
  return true;
}

/**
 * How recently a worker must have been heard from (its last heartbeat) to be granted `task`: within
 * the heartbeat TTL, as for being online, and within the lease's TTL when that is shorter. A lease
 * of 10 s that expired on a worker gone silent went straight back to it while the pool still
 * counted it online (90 s), an attempt burnt every 10 s: the task failed in under a minute instead
 * of going to someone alive. An offer is answered before any lease is granted: the heartbeat TTL.
 */
export function grantHeartbeatTtl(
  ctx: EngineContext,
  task: Pick<TaskRow, 'ttl_override_ms'>,
  repo: Pick<RepoRow, 'lease_ttl_ms' | 'assignment'> | undefined,
): number {
  const heartbeatTtl = ctx.config.heartbeatTtlMs;
  if (repo?.assignment === 'offer') return heartbeatTtl;
  return Math.min(heartbeatTtl, leaseTtlOf(ctx, task, repo));
}

/** A new lease's TTL: the task's own, else its repo's, else the engine's default. */
export function leaseTtlOf(
  ctx: EngineContext,
  task: Pick<TaskRow, 'ttl_override_ms'>,
  repo: Pick<RepoRow, 'lease_ttl_ms'> | undefined,
): number {
  return task.ttl_override_ms ?? repo?.lease_ttl_ms ?? ctx.config.leaseTtlMs;
}

/**
 * The rules of a repo checked per ready task in the SQL that narrows candidates (the pure
 * `whyIneligible` confirms each grant): room in the budget and the worker's points, the trust
 * tier, the release and offer cool-downs, the area lock.
 */
const TASK_RULES = `r.budget_used < r.max_open_prs
          AND t.estimate_points <= $points_left
          AND t.tier <= COALESCE(json_extract(r.trust_rules, $trust_path), $default_max_tier)
          AND (t.released_by IS NULL OR t.released_by <> $worker OR t.released_at <= $cooldown)
          AND (r.assignment = 'offer' OR $heard_at > $now
                - min($heartbeat_ttl, COALESCE(t.ttl_override_ms, r.lease_ttl_ms, $default_ttl)))
          AND (r.area_locks_enabled = 0 OR t.area IS NULL OR NOT EXISTS (
                SELECT 1 FROM tasks a WHERE a.repo = t.repo AND a.area = t.area AND ${HOLDS_AREA}))
          AND (r.assignment <> 'offer' OR NOT EXISTS (
                SELECT 1 FROM offers o WHERE o.task_id = t.id AND o.worker_id = $worker
                   AND o.status IN ('rejected', 'expired') AND o.resolved_at > $declined_since))`;

/**
 * A skill set's ready queue head, across repos or in one (separate statements: their own
 * indexes): the first task the repo's rules let the worker take.
 */
const QUEUE_HEAD = (scope: string) =>
  `SELECT ${TASK_COLUMNS} FROM ${TASK_FROM} JOIN repos r ON r.key = t.repo
    WHERE t.status = 'ready' AND t.deps_pending = 0 AND t.skill_set_id = $set
      ${scope} AND ${TASK_RULES}
    ORDER BY t.priority DESC, t.estimate_points, t.created_at, t.id LIMIT 1`;
const HEAD_ACROSS_REPOS = QUEUE_HEAD('');
const HEAD_IN_REPO = QUEUE_HEAD('AND t.repo = $repo');

const ANY_REPO_AT_BUDGET = `SELECT 1 FROM repos INDEXED BY repos_at_budget
  WHERE budget_used >= max_open_prs LIMIT 1`;

/** One ready queue a worker may take from: a skill set in a repo, and the key of its head. */
interface Queue {
  set: number;
  repo: string;
  head: QueueKey;
}

/**
 * The best ready task `worker` may take. Tasks it lacks the skills for are never read: it chooses
 * among the ready queues of the skill sets it holds, and in a queue stops at the first task the
 * repo's rules let this worker take (budget, trust, area lock, cool-downs).
 *
 * While every repo has room in its review budget, that is one walk of each set's queue across
 * repos. A repo whose budget is full can grant nothing, and its ready tasks pile up at the front
 * of such a walk, since nobody may take them. Then the worker compares the heads of the queues of
 * the repos with room (remembered between reads: `QueueHeads`) and reads the winning queue: when
 * its head passes the rules, that is the task. When it does not, the queues are read in order of
 * their heads while a head could still beat the best task found.
 */
export function bestTaskFor(ctx: EngineContext, worker: WorkerRow): TaskRow | undefined {
  const now = ctx.clock.now();
  const params = {
    set: 0,
    repo: '',
    points_left: worker.capacity_points - worker.points_in_use,
    trust_path: `$.${worker.trust_tier}`,
    default_max_tier: ctx.config.defaultTrustRules[worker.trust_tier],
    worker: worker.id,
    cooldown: now - ctx.config.releaseCooldownMs,
    declined_since: now - ctx.config.offerCooldownMs,
    // `grantHeartbeatTtl`, per task: a worker heard from too long ago for a short lease skips it.
    heard_at: worker.last_heartbeat_at ?? -1,
    now,
    heartbeat_ttl: ctx.config.heartbeatTtlMs,
    default_ttl: ctx.config.leaseTtlMs,
  };
  const sets = skillSetsHeldBy(ctx.driver, worker.id);
  if (!ctx.driver.get(ANY_REPO_AT_BUDGET)) {
    let best: TaskRow | undefined;
    for (const set of sets) {
      // One params object, changed in place: the same shape at every call.
      params.set = set;
      const head = ctx.driver.get<TaskRow>(HEAD_ACROSS_REPOS, params);
      if (head && (!best || compareTasks(head, best) < 0)) best = head;
    }
    return best;
  }
  const queues = openQueues(ctx, sets);
  let first: Queue | undefined;
  for (const queue of queues) if (!first || compareTasks(queue.head, first.head) < 0) first = queue;
  if (!first) return undefined;
  params.set = first.set;
  params.repo = first.repo;
  const task = ctx.driver.get<TaskRow>(HEAD_IN_REPO, params);
  // The first head of all, and this worker may take it: nothing comes before it.
  if (task?.id === first.head.id) return task;
  let best = task;
  queues.sort((a, b) => compareTasks(a.head, b.head));
  for (const queue of queues) {
    if (queue === first) continue;
    // No task of this queue, or of any after it, comes before the best one found.
    if (best && compareTasks(queue.head, best) >= 0) break;
    params.set = queue.set;
    params.repo = queue.repo;
    const next = ctx.driver.get<TaskRow>(HEAD_IN_REPO, params);
    if (next && (!best || compareTasks(next, best) < 0)) best = next;
  }
  return best;
}

/** The ready queues of `sets` that are not empty, in the repos with room in their budgets. */
function openQueues(ctx: EngineContext, sets: readonly number[]): Queue[] {
  const heads = ctx.queueHeads;
  const queues: Queue[] = [];
  for (const repo of heads.all()) {
    if (!heads.hasRoom(repo)) continue;
    for (const set of sets) {
      const head = heads.head(repo, set);
      if (head) queues.push({ set, repo: repo.key, head });
    }
  }
  return queues;
}

/** The least loaded online worker who may take `task`, walking only workers with room. */
export function bestWorkerFor(
  ctx: EngineContext,
  task: TaskRow,
  repo: RepoRow | undefined = findRepo(ctx.driver, task.repo),
): WorkerRow | undefined {
  if (!repo) return undefined;
  const minRank = minTrustRankFor(trustRulesOf(repo, ctx.config.defaultTrustRules), task.tier);
  if (minRank === null) return undefined;
  const now = ctx.clock.now();
  const excluded =
    task.released_by !== null &&
    task.released_at !== null &&
    now - task.released_at < ctx.config.releaseCooldownMs
      ? task.released_by
      : '';
  return ctx.driver.get<WorkerRow>(
    `SELECT w.* FROM workers w
      WHERE w.active_tasks < w.max_concurrent_tasks AND w.points_in_use < w.capacity_points
        AND w.paused_by_admin = 0 AND w.reported_status <> 'paused'
        AND w.points_in_use + $points <= w.capacity_points
        AND w.last_heartbeat_at > $online_after
        AND w.trust_rank >= $min_rank
        AND w.id <> $excluded
        AND ($offers = 0 OR NOT EXISTS (
              SELECT 1 FROM offers o WHERE o.task_id = $task AND o.worker_id = w.id
                 AND o.status IN ('rejected', 'expired') AND o.resolved_at > $declined_since))
        AND NOT EXISTS (
          SELECT 1 FROM skill_set_members m WHERE m.set_id = $set AND NOT EXISTS (
            SELECT 1 FROM worker_skills s WHERE s.worker_id = w.id AND s.skill = m.skill))
      ORDER BY w.points_in_use, w.active_tasks, w.reputation DESC, w.id
      LIMIT 1`,
    {
      points: task.estimate_points,
      online_after: now - grantHeartbeatTtl(ctx, task, repo),
      min_rank: minRank,
      excluded,
      set: task.skill_set_id,
      offers: repo.assignment === 'offer' ? 1 : 0,
      task: task.id,
      declined_since: now - ctx.config.offerCooldownMs,
    },
  );
}

/**
 * Grants `worker` the best tasks it can take until it is full or nothing fits. `current` saves the
 * first read when the caller has just read the worker's row.
 */
export function fillWorker(
  ctx: EngineContext,
  workerId: string,
  current: WorkerRow | undefined = findWorker(ctx.driver, workerId),
): number {
  let granted = 0;
  let worker = current;
  while (worker && grantBestTask(ctx, worker)) {
    granted++;
    // The grant reserved one more task for the worker: when that was its last slot, it is full
    // (the first test of grantBestTask), and there is nothing to read again.
    if (worker.active_tasks + 1 >= worker.max_concurrent_tasks) break;
    // Otherwise its load changed: read its row again.
    worker = findWorker(ctx.driver, workerId);
  }
  return granted;
}

function grantBestTask(ctx: EngineContext, worker: WorkerRow): boolean {
  if (worker.active_tasks >= worker.max_concurrent_tasks) return false;
  if (!isOnline(worker, ctx.clock.now(), ctx.config.heartbeatTtlMs)) return false;
  if (worker.paused_by_admin === 1 || worker.reported_status === 'paused') return false;
  const task = bestTaskFor(ctx, worker);
  return task !== undefined && grantLease(ctx, task, worker);
}

/**
 * Offers one ready task to the least loaded worker who may take it. `current` saves reading the
 * task's repo again: when it is that repo, it must have been read since the last write.
 */
export function assignTask(ctx: EngineContext, taskId: string, current?: RepoRow): boolean {
  const task = findTask(ctx.driver, taskId);
  if (!task || task.status !== 'ready' || task.deps_pending > 0) return false;
  const repo = current?.key === task.repo ? current : findRepo(ctx.driver, task.repo);
  const worker = bestWorkerFor(ctx, task, repo);
  return worker !== undefined && grantLease(ctx, task, worker, repo);
}

/**
 * After a repo's review budget, an area or a worker's room frees up: offers the repo's ready tasks
 * in queue order (so the most important waiting task gets a freed area first), until the budget is
 * used, no worker has room, or the queue ends. A queue whose first `scanLimit` tasks found no taker
 * hands over to the workers with room, who pick from everything they are eligible for: the cost
 * stays bounded by the work that can actually be granted.
 */
export function assignRepoQueue(ctx: EngineContext, repoKey: string, scanLimit = 128): number {
  const repo = findRepo(ctx.driver, repoKey);
  if (!repo) return 0;
  // Only a grant here changes the budget or a worker's room, so both are read again only after one.
  let budgetLeft = repo.max_open_prs - repo.budget_used;
  let workersWithRoom = budgetLeft > 0 && anyWorkerWithRoom(ctx);
  let granted = 0;
  let scanned = 0;
  let after: QueueKey | null = null;
  // Usually the head of the queue is taken or nothing is: a short first page, then longer ones.
  let pageSize: 4 | 32 = 4;
  while (budgetLeft > 0 && workersWithRoom) {
    const page: QueueKey[] = ctx.driver.all<QueueKey>(REPO_QUEUE_PAGE[pageSize], {
      repo: repoKey,
      first: after ? 0 : 1,
      p: after?.priority ?? 0,
      e: after?.estimate_points ?? 0,
      c: after?.created_at ?? 0,
      id: after?.id ?? '',
    });
    for (const task of page) {
      // The repo row stays current until a grant writes its budget.
      if (!assignTask(ctx, task.id, granted === 0 ? repo : undefined)) continue;
      granted++;
      budgetLeft--;
      workersWithRoom = budgetLeft > 0 && anyWorkerWithRoom(ctx);
      if (!workersWithRoom) return granted;
    }
    scanned += page.length;
    if (page.length < pageSize) return granted;
    after = page.at(-1)!;
    pageSize = 32;
    if (scanned >= scanLimit) return granted + assignAll(ctx);
  }
  return granted;
}

/**
 * A page of a repo's ready queue after a key. The size is written into the statement (one cached
 * statement per size): a bound LIMIT keeps SQLite from stopping early and costs several times more.
 */
const REPO_QUEUE_PAGE = Object.fromEntries(
  [4, 32].map((size) => [
    size,
    `SELECT id, priority, estimate_points, created_at FROM tasks
      WHERE status = 'ready' AND deps_pending = 0 AND repo = $repo
        AND ($first = 1 OR priority < $p OR (priority = $p AND (estimate_points > $e
             OR (estimate_points = $e AND (created_at > $c OR (created_at = $c AND id > $id))))))
      ORDER BY priority DESC, estimate_points, created_at, id LIMIT ${size}`,
  ]),
) as Record<4 | 32, string>;

/** Whether any online, unpaused worker could take one more task of some size. */
function anyWorkerWithRoom(ctx: EngineContext): boolean {
  return (
    ctx.driver.get(
      `SELECT 1 FROM workers w
        WHERE w.active_tasks < w.max_concurrent_tasks AND w.points_in_use < w.capacity_points
          AND w.paused_by_admin = 0 AND w.reported_status <> 'paused'
          AND w.last_heartbeat_at > $online_after
        LIMIT 1`,
      { online_after: ctx.clock.now() - ctx.config.heartbeatTtlMs },
    ) !== undefined
  );
}

/**
 * The full cycle: every online worker with room, least loaded first, takes its best task; rounds
 * repeat until a round grants nothing.
 */
export function assignAll(ctx: EngineContext): number {
  let granted = 0;
  for (let round = 0; round < 100; round++) {
    if (!ctx.driver.get(`SELECT 1 FROM tasks WHERE status = 'ready' AND deps_pending = 0 LIMIT 1`))
      break;
    const workers = ctx.driver.all<WorkerRow>(
      `SELECT w.* FROM workers w
        WHERE w.active_tasks < w.max_concurrent_tasks AND w.points_in_use < w.capacity_points
          AND w.paused_by_admin = 0 AND w.reported_status <> 'paused'
          AND w.last_heartbeat_at > $online_after
        ORDER BY w.points_in_use, w.active_tasks, w.reputation DESC, w.id`,
      { online_after: ctx.clock.now() - ctx.config.heartbeatTtlMs },
    );
    let grantedThisRound = 0;
    for (const listed of workers) {
      const worker = findWorker(ctx.driver, listed.id)!;
      if (grantBestTask(ctx, worker)) grantedThisRound++;
    }
    granted += grantedThisRound;
    if (grantedThisRound === 0) break;
  }
  return granted;
}

/**
 * Assigns what a write made assignable. Workers whose own room freed choose first: each takes the
 * best task it may have anywhere. Then repos, whose queues run in priority order, so a freed slot
 * or area goes to the most important waiting task rather than to whichever task happened to be
 * freed. Last, new or edited tasks.
 */
export function assignTouched(ctx: EngineContext, touched: Touched): void {
  for (const id of touched.workers) fillWorker(ctx, id);
  for (const repo of touched.repos) assignRepoQueue(ctx, repo);
  // New or freed tasks wait in the queue when no worker has room: one cheap check saves reading
  // each of them.
  if (touched.tasks.size === 0 || !anyWorkerWithRoom(ctx)) return;
  for (const id of touched.tasks) assignTask(ctx, id);
}
