import type { Repo } from '../../protocol/repos.ts';

/** A repo's review budget as the repos panel shows it. */
export interface RepoBudget {
  used: number;
  max: number;
  left: number;
  /** No new leases: the budget is spent (or set to 0, which pauses the repo). */
  throttled: boolean;
  /** `max_open_prs` is 0: a maintainer paused the repo on purpose. */
  paused: boolean;
  /** How full the budget is, 0…1, for the bar. */
  fraction: number;
}

export function repoBudget(repo: Repo): RepoBudget {
  const used = repo.budget_used;
  const max = repo.max_open_prs;
  return {
    used,
    max,
    left: Math.max(0, max - used),
    throttled: used >= max,
    paused: max === 0,
    fraction: max === 0 ? 1 : Math.min(1, used / max),
  };
}

/** Throttled repos first (they need a maintainer), then by key. */
export function sortReposForDisplay(repos: readonly Repo[]): Repo[] {
  return [...repos].sort((a, b) => {
    const throttled = Number(repoBudget(b).throttled) - Number(repoBudget(a).throttled);
    return throttled || a.repo.localeCompare(b.repo);
  });
}
