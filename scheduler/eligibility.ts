import type { TrustTier } from '../protocol/index.ts';

/** The highest task risk tier (0–3) each worker trust tier may take. */
export const MAX_TASK_TIER: Record<TrustTier, number> = {
  untrusted: 0,
  basic: 1,
  trusted: 2,
  maintainer: 3,
};

/** What eligibility needs to know about a task, as plain values. */
export interface TaskFacts {
  status: string;
  estimate_points: number;
  required_skills: readonly string[];
  tier: number;
  /** True when the worker released this task within the cool-down. */
  recently_released_by_worker?: boolean;
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
  max_tier: number;
  capacity_points: number;
  points_in_use: number;
  max_concurrent_tasks: number;
  active_tasks: number;
}

export type IneligibleReason =
  | 'task_not_ready'
  | 'repo_missing'
  | 'review_budget_full'
  | 'area_locked'
  | 'worker_offline'
  | 'worker_paused'
  | 'tier_not_trusted'
  | 'missing_skill'
  | 'not_enough_points'
  | 'no_free_slot'
  | 'recently_released';

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

/**
 * Reputation in [0, 1]: the completion rate of leases, smoothed so a new worker starts at 0.5
 * rather than at either extreme (Laplace's rule of succession).
 */
export function reputationOf(stats: {
  tasks_completed: number;
  leases_expired: number;
  leases_released: number;
}): number {
  const attempts = stats.tasks_completed + stats.leases_expired + stats.leases_released;
  return (stats.tasks_completed + 1) / (attempts + 2);
}

/** Skills compare case-insensitively: stored trimmed, lower-case, sorted, without duplicates. */
export function normalizeSkills(skills: readonly string[]): string[] {
  return [...new Set(skills.map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0))].sort();
}
