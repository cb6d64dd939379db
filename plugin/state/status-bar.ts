import type { PoolSnapshot } from './pool-snapshot.ts';

/**
 * The status-bar line. Admin: `3 online · 5 ready · 2/3 PRs` (open PRs over the review budget of
 * every repo). A worker, who cannot see the pool: `2 tasks · 1 PR open`. Prefixed `Offline · `
 * while the last known numbers are shown without a live connection.
 */
export function statusBarText(snapshot: PoolSnapshot): string {
  if (snapshot.phase === 'idle' || snapshot.phase === 'loading') return 'OWP: loading…';
  if (snapshot.phase === 'failed') return 'OWP: pool unreachable';
  const prefix = snapshot.connection === 'offline' ? 'Offline · ' : '';
  if (snapshot.scope === 'worker') {
    let held = 0;
    let prs = 0;
    for (const task of snapshot.tasks.values()) {
      if (task.assignee !== snapshot.me) continue;
      if (task.status === 'pr_opened') prs++;
      else if (['leased', 'in_progress', 'blocked'].includes(task.status)) held++;
    }
    return `${prefix}${count(held, 'task')} · ${count(prs, 'PR')} open`;
  }
  let online = 0;
  for (const worker of snapshot.workers.values()) if (worker.online) online++;
  let ready = 0;
  for (const task of snapshot.tasks.values()) if (task.status === 'ready') ready++;
  let open = 0;
  let budget = 0;
  for (const repo of snapshot.repos.values()) {
    open += repo.open_prs;
    budget += repo.max_open_prs;
  }
  return `${prefix}${online} online · ${ready} ready · ${open}/${budget} PRs`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
