import {
  TRUST_TIERS,
  type TrustRules,
  type TrustTier,
  type WaitReason,
} from '../protocol/index.ts';

/** The highest task risk tier (0–3) each worker trust tier may take, unless a repo says otherwise. */
export const MAX_TASK_TIER: Record<TrustTier, number> = {
  untrusted: 0,
  basic: 1,
  trusted: 2,
  maintainer: 3,
};

/** A trust tier as a rank: untrusted 0, basic 1, trusted 2, maintainer 3. */
export const trustRank = (tier: TrustTier): number => TRUST_TIERS.indexOf(tier);

/**
 * The lowest trust rank a repo's rules let take a task of `taskTier`, or null when no tier may.
 * Rules are monotone (a more trusted tier never takes less), so every higher rank may take it too.
 */
export function minTrustRankFor(rules: TrustRules, taskTier: number): number | null {
  const rank = TRUST_TIERS.findIndex((tier) => rules[tier] >= taskTier);
  return rank === -1 ? null : rank;
}

/** What eligibility needs to know about a task, as plain values. */
export interface TaskFacts {
  status: string;
  estimate_points: number;
  required_skills: readonly string[];
  tier: number;
  /** True when the worker released this task within the cool-down. */
  recently_released_by_worker?: boolean;
  /** True when the worker rejected an offer of this task, or let one expire, within the cool-down. */
  recently_declined_by_worker?: boolean;
  /** Dependencies not merged yet. */
  dependencies_pending?: number;
}

export interface RepoFacts {
  exists: boolean;
  max_open_prs: number;
  /** Tasks leased, in progress, blocked or with a PR open. */
  budget_used: number;
  /** Area locks are on for the repo and another task in the same area holds a lease. */
  area_locked: boolean;
}

export interface WorkerFacts {
  online: boolean;
  paused: boolean;
  skills: ReadonlySet<string>;
  /** The highest task risk tier the worker's trust tier may take in the task's repo. */
  max_tier: number;
  capacity_points: number;
  points_in_use: number;
  max_concurrent_tasks: number;
  active_tasks: number;
}

/** The rule that stops a grant, by name (the wire's `WaitReason`). */
export type IneligibleReason = WaitReason;

/**
 * Why `worker` may not take `task` now, or null when it may. Every rule at once, over plain values:
 * the SQL store narrows candidates with indexes, then confirms each grant with this function, and a
 * PostgreSQL store would do the same.
 */
export function whyIneligible(
  task: TaskFacts,
  repo: RepoFacts,
  worker: WorkerFacts,
): IneligibleReason | null {
  if (task.status !== 'ready') return 'task_not_ready';
  if ((task.dependencies_pending ?? 0) > 0) return 'waiting_on_dependencies';
  if (!repo.exists) return 'repo_missing';
  if (reviewBudgetLeft(repo) <= 0) return 'review_budget_full';
  if (repo.area_locked) return 'area_locked';
  if (!worker.online) return 'worker_offline';
  if (worker.paused) return 'worker_paused';
  if (task.tier > worker.max_tier) return 'tier_not_trusted';
  if (!task.required_skills.every((skill) => worker.skills.has(skill))) return 'missing_skill';
  if (worker.points_in_use + task.estimate_points > worker.capacity_points)
    return 'not_enough_points';
  if (worker.active_tasks >= worker.max_concurrent_tasks) return 'no_free_slot';
  if (task.recently_released_by_worker) return 'recently_released';
  if (task.recently_declined_by_worker) return 'recently_declined';
  return null;
}

/** How many more tasks the repo may have in flight before its maintainers' review queue is full. */
export function reviewBudgetLeft(repo: Pick<RepoFacts, 'max_open_prs' | 'budget_used'>): number {
  return repo.max_open_prs - repo.budget_used;
}

export interface TaskOrderKey {
  priority: number;
  estimate_points: number;
  created_at: number;
  id: string;
}

/** Ready tasks go by priority (higher first), then smaller estimate, then age, then id. */
export function compareTasks(a: TaskOrderKey, b: TaskOrderKey): number {
  return (
    b.priority - a.priority ||
    a.estimate_points - b.estimate_points ||
    a.created_at - b.created_at ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export interface WorkerOrderKey {
  points_in_use: number;
  active_tasks: number;
  reputation: number;
  id: string;
}

/** Among eligible workers the least loaded wins (points, then tasks), then higher reputation. */
export function compareWorkers(a: WorkerOrderKey, b: WorkerOrderKey): number {
  return (
    a.points_in_use - b.points_in_use ||
    a.active_tasks - b.active_tasks ||
    b.reputation - a.reputation ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** A worker's outcomes, as counted by the engine. Fields added in v1 may be absent (0). */
export interface OutcomeStats {
  tasks_completed: number;
  leases_expired: number;
  leases_released: number;
  /** Tasks an admin took back from the worker. */
  tasks_requeued?: number;
  prs_opened?: number;
  /** PRs opened before the lease's first expiry, without needing a renewal. */
  prs_on_time?: number;
  offers_accepted?: number;
  offers_rejected?: number;
  offers_expired?: number;
}

/** Laplace's rule of succession: `hits` of `trials`, smoothed so no history reads as 0.5. */
const smoothed = (hits: number, trials: number) => (hits + 1) / (trials + 2);

/** The three rates reputation combines, each in (0, 1) and 0.5 with no history. */
export function outcomeRates(stats: OutcomeStats) {
  const ended =
    stats.tasks_completed +
    stats.leases_expired +
    stats.leases_released +
    (stats.tasks_requeued ?? 0);
  const offers =
    (stats.offers_accepted ?? 0) + (stats.offers_rejected ?? 0) + (stats.offers_expired ?? 0);
  return {
    completion_rate: smoothed(stats.tasks_completed, ended),
    on_time_rate: smoothed(stats.prs_on_time ?? 0, stats.prs_opened ?? 0),
    offer_acceptance_rate: smoothed(stats.offers_accepted ?? 0, offers),
  };
}

export const REPUTATION_FORMULA =
  'reputation = 0.6 × completion + 0.25 × on_time + 0.15 × offer_acceptance, where ' +
  'completion = (completed + 1) / (completed + expired + released + requeued + 2), ' +
  'on_time = (PRs opened before the first lease expiry + 1) / (PRs opened + 2), ' +
  'offer_acceptance = (accepted + 1) / (accepted + rejected + offers expired + 2)';

/**
 * Reputation in (0, 1), 0.5 for a new worker: mostly whether leases end in a merge, then whether
 * PRs come within the first lease, then whether offers are taken. Breaks ties in assignment.
 */
export function reputationOf(stats: OutcomeStats): number {
  const rates = outcomeRates(stats);
  return (
    0.6 * rates.completion_rate + 0.25 * rates.on_time_rate + 0.15 * rates.offer_acceptance_rate
  );
}

/** Skills compare case-insensitively: stored trimmed, lower-case, sorted, without duplicates. */
export function normalizeSkills(skills: readonly string[]): string[] {
  return [...new Set(skills.map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0))].sort();
}
