/**
 * A day in a small pool, simulated on the real engine so the screenshots show what a maintainer
 * would see: four repos (one throttled, one paused, one with a contract, one offering its work),
 * workers busy, idle, paused and gone silent, tasks in every status (one waiting on another), and
 * a day of history for the charts. Deterministic: a seeded generator.
 */
import type { Clock } from '../../scheduler/clock.ts';
import type { Scheduler } from '../../scheduler/engine.ts';

/** The wall clock, set back by `lagMs`: the simulation runs the day in the past, then catches up. */
export class LaggingClock implements Clock {
  lagMs = 0;
  now(): number {
    return Date.now() - this.lagMs;
  }
}

/** mulberry32: small, seeded, good enough for a demo. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REPOS = [
  { repo: 'owp/pool', max_open_prs: 5, area_locks_enabled: true },
  { repo: 'owp/obsidian-plugin', max_open_prs: 2, area_locks_enabled: true },
  { repo: 'acme/docs', max_open_prs: 4, area_locks_enabled: false },
  { repo: 'acme/infra', max_open_prs: 0, area_locks_enabled: true },
];

type Seed = [repo: string, title: string, area: string | null, skills: string[], points: number];

const TASKS: Seed[] = [
  ['owp/pool', 'Fence status writes with the lease epoch', 'scheduler', ['ts', 'sql'], 3],
  ['owp/pool', 'Index skill sets for the assignment query', 'scheduler', ['sql'], 2],
  ['owp/pool', 'Rate-limit failed admin authentications', 'server', ['ts'], 2],
  ['owp/pool', 'SSE: resume from Last-Event-ID after restart', 'server', ['ts'], 3],
  ['owp/pool', 'Expose lease sweep duration in /metrics', 'server', ['ts'], 1],
  ['owp/pool', 'OpenAPI: document the error envelope', 'protocol', ['ts'], 1],
  ['owp/pool', 'Conformance suite: idempotent heartbeat', 'protocol', ['ts'], 2],
  ['owp/pool', 'Dashboard: queue depth chart', 'dashboard', ['ts', 'svelte'], 3],
  ['owp/pool', 'Dashboard: keyboard navigation in the task table', 'dashboard', ['svelte'], 2],
  ['owp/pool', 'Cap catch-up pages on the event stream', 'server', ['ts'], 2],
  ['owp/pool', 'Migration 0004: task dependencies', 'scheduler', ['sql'], 5],
  ['owp/pool', 'CLI: owp tasks import --dry-run', null, ['ts'], 2],
  ['owp/pool', 'Dockerfile: run as non-root user', null, ['docker'], 1],
  ['owp/pool', 'Reputation: weight recent outcomes more', 'scheduler', ['ts'], 3],
  ['owp/pool', 'Explain ineligibility in GET /v1/work', 'scheduler', ['ts'], 2],
  ['owp/pool', 'Trim idle SSE connections on shutdown', 'server', ['ts'], 1],
  ['owp/pool', 'Protocol: repo keys with dots', 'protocol', ['ts'], 1],
  ['owp/pool', 'Bench: 10k tasks, 200 workers', null, ['ts', 'sql'], 3],
  ['owp/obsidian-plugin', 'Sync: keep user properties untouched', 'sync', ['ts'], 3],
  ['owp/obsidian-plugin', 'Board view: drag to requeue', 'ui', ['svelte'], 3],
  ['owp/obsidian-plugin', 'Embedded mode: persist sql.js on quit', 'embedded', ['ts'], 2],
  ['owp/obsidian-plugin', 'Archive merged task notes', 'sync', ['ts'], 2],
  ['owp/obsidian-plugin', 'Mobile: reconnect on visibilitychange', 'remote', ['ts'], 2],
  ['owp/obsidian-plugin', 'Settings tab: server URL validation', 'ui', ['svelte'], 1],
  ['owp/obsidian-plugin', 'Conflict resolution by owp_version', 'sync', ['ts'], 5],
  ['owp/obsidian-plugin', 'Activity feed side panel', 'ui', ['svelte'], 3],
  ['owp/obsidian-plugin', 'Create task from command palette', 'ui', ['ts'], 1],
  ['owp/obsidian-plugin', 'Deleted note setting: cancel task', 'sync', ['ts'], 2],
  ['acme/docs', 'Quick start for a solo maintainer', null, ['docs'], 2],
  ['acme/docs', 'Explain review budgets with an example', null, ['docs'], 1],
  ['acme/docs', 'Area locks: when to turn them off', null, ['docs'], 1],
  ['acme/docs', 'Worker guide: leases and heartbeats', null, ['docs'], 2],
  ['acme/docs', 'Diagram of the task lifecycle', null, ['docs'], 1],
  ['acme/docs', 'FAQ: why was my task not assigned?', null, ['docs'], 1],
  ['acme/docs', 'Glossary page', null, ['docs'], 1],
  ['acme/docs', 'Self-hosting behind nginx', null, ['docs'], 2],
  ['acme/infra', 'Terraform module for the container', 'deploy', ['docker'], 3],
  ['acme/infra', 'Nightly SQLite backup to object storage', 'backup', ['sql'], 2],
  ['acme/infra', 'Alert when no worker is online', 'monitoring', ['docker'], 1],
  ['owp/pool', 'Validate Idempotency-Key length', 'protocol', ['ts'], 1],
  ['owp/pool', 'Faster task list cursor decoding', 'scheduler', ['ts'], 1],
  ['owp/pool', 'Dashboard: offline banner', 'dashboard', ['svelte'], 1],
  ['owp/pool', 'Log request ids, never tokens', 'server', ['ts'], 1],
  ['owp/pool', 'Property test: no lease outlives its task', 'scheduler', ['ts'], 3],
  ['owp/obsidian-plugin', 'Note template for new tasks', 'ui', ['ts'], 1],
  ['owp/obsidian-plugin', 'Show lease countdown in the note', 'ui', ['svelte'], 2],
  ['acme/docs', 'Changelog for v0.2', null, ['docs'], 1],
  ['acme/docs', 'Screenshots of the dashboard', null, ['docs'], 1],
  ['owp/pool', 'Readiness probe waits for migrations', 'server', ['ts'], 1],
  ['owp/pool', 'PostgreSQL store: design notes', null, ['sql'], 3],
  ['owp/pool', 'Requeue reason in the event log', 'scheduler', ['ts'], 1],
  ['owp/pool', 'Worker stats: tasks completed per week', 'server', ['ts', 'sql'], 2],
  ['owp/obsidian-plugin', 'Status bar: tasks leased to me', 'ui', ['svelte'], 1],
  ['owp/obsidian-plugin', 'Retry queue for offline edits', 'remote', ['ts'], 3],
  ['owp/pool', 'Dashboard: phone layout', 'dashboard', ['svelte'], 2],
  ['owp/pool', 'Heartbeat jitter for large pools', 'scheduler', ['ts'], 1],
];

const WORKERS = [
  {
    name: 'alice',
    github_handle: 'alice-dev',
    skills: ['ts', 'svelte', 'sql'],
    capacity_points: 8,
    max_concurrent_tasks: 3,
  },
  {
    name: 'claude-agent-1',
    github_handle: null,
    skills: ['ts', 'sql', 'docker'],
    capacity_points: 6,
    max_concurrent_tasks: 2,
  },
  {
    name: 'claude-agent-2',
    github_handle: null,
    skills: ['ts', 'svelte'],
    capacity_points: 6,
    max_concurrent_tasks: 2,
  },
  {
    name: 'bob',
    github_handle: 'bobwrites',
    skills: ['docs'],
    capacity_points: 3,
    max_concurrent_tasks: 2,
  },
  {
    name: 'dave-bot',
    github_handle: null,
    skills: ['ts'],
    capacity_points: 4,
    max_concurrent_tasks: 1,
  },
  {
    name: 'erin',
    github_handle: 'erin-k',
    skills: ['sql', 'docker', 'ts'],
    capacity_points: 5,
    max_concurrent_tasks: 2,
  },
];

const HOUR = 3_600_000;
const STEP = 10 * 60_000;

/** Runs the day on `engine` (whose clock is `clock`), ending at the present. */
export function simulateDay(engine: Scheduler, clock: LaggingClock, seed = 7): void {
  const rand = random(seed);
  const chance = (p: number) => rand() < p;
  clock.lagMs = 26 * HOUR;
  for (const repo of REPOS)
    engine.upsertRepo({ ...repo, max_open_prs: Math.max(repo.max_open_prs, 1) });
  const workers = WORKERS.map((w) => engine.registerWorker(w).worker_id);
  const [, , , , dave, erin] = workers;
  let next = 0;
  const createSome = (n: number) => {
    for (let i = 0; i < n && next < TASKS.length; i++) {
      const [repo, title, area, skills, points] = TASKS[next++]!;
      engine.createTask({
        repo,
        title,
        area,
        required_skills: skills,
        estimate_points: points,
        priority: [5, 10, 10, 20, 50][Math.floor(rand() * 5)]!,
        description: `Part of the ${repo} roadmap.\n\nDone when the change is merged with tests.`,
      });
    }
  };
  createSome(12);
  // The rest arrive through the day, the last ones in the final hour: a queue at the end.
  const arrivals = TASKS.length - next;
  const arrivalHour = (i: number) => 1 + (i * 22.5) / arrivals;
  let arrived = 0;

  for (let lag = 24 * HOUR; lag >= 0; lag -= STEP) {
    clock.lagMs = lag;
    const hour = 24 - lag / HOUR;
    engine.sweep();
    while (arrived < arrivals && arrivalHour(arrived) <= hour) {
      createSome(1);
      arrived++;
    }
    if (hour >= 12 && hour < 12 + STEP / HOUR) engine.pauseWorker(erin!);
    if (hour >= 21 && hour < 21 + STEP / HOUR)
      engine.upsertRepo({ repo: 'acme/infra', max_open_prs: 0 });
    for (const workerId of workers) {
      // dave-bot goes silent in the evening; its lease will expire and it will show offline.
      if (workerId === dave && hour > 20) continue;
      if (chance(0.05)) continue; // a missed heartbeat now and then
      engine.heartbeat(workerId, { status: 'working' });
      for (const lease of engine.getWork(workerId).leases) {
        const write = { lease_id: lease.lease_id, epoch: lease.epoch };
        if (lease.status === 'leased' && chance(0.5)) {
          engine.updateStatus(workerId, lease.task_id, { status: 'in_progress', ...write });
        } else if (lease.status === 'in_progress' && chance(0.04)) {
          engine.updateStatus(workerId, lease.task_id, {
            status: 'blocked',
            message: 'waiting for a decision on the API shape',
            ...write,
          });
        } else if (lease.status === 'in_progress' && chance(0.06)) {
          engine.updateStatus(workerId, lease.task_id, {
            status: 'pr_opened',
            artifact: {
              pr_url: `https://github.com/${lease.repo}/pull/${100 + Math.floor(rand() * 800)}`,
            },
            ...write,
          });
        } else if (lease.status === 'blocked' && chance(0.15)) {
          engine.updateStatus(workerId, lease.task_id, { status: 'in_progress', ...write });
        } else if (lease.status === 'in_progress' && chance(0.01)) {
          engine.releaseLease(workerId, lease.lease_id, { reason: 'out of my depth' });
        }
      }
    }
    // Maintainers merge reviewed PRs; the plugin's maintainer is away in the evening.
    for (const task of engine.listTasks({ status: 'pr_opened', limit: 500 }).tasks) {
      if (task.repo === 'owp/obsidian-plugin' && hour > 19) continue;
      if (chance(0.12)) engine.markMerged(task.task_id);
    }
  }
  const cancel = engine.listTasks({ repo: 'acme/infra', status: 'ready', limit: 1 }).tasks[0];
  if (cancel) engine.cancelTask(cancel.task_id);
  clock.lagMs = 0;
  engine.sweep();
  for (const [i, workerId] of workers.entries()) {
    if (workerId !== dave) engine.heartbeat(workerId, { status: i === 3 ? 'idle' : 'working' });
  }
  showWorkRules(engine);
}

/**
 * OWP v1 in the pictures, at the end of the day: a repo with a contract, one that offers its work,
 * a task waiting on another, and one out of attempts waiting for an admin.
 */
function showWorkRules(engine: Scheduler): void {
  engine.upsertRepo({
    repo: 'owp/pool',
    contract: { setup: 'npm ci', test: 'npm test', lint: 'npm run lint' },
  });
  engine.upsertRepo({ repo: 'owp/obsidian-plugin', assignment: 'offer', offer_ttl_seconds: 1800 });
  const working = engine.listTasks({ status: 'in_progress', limit: 500 }).tasks;
  const inProgress = working.find((t) => t.repo === 'owp/pool');
  if (inProgress) {
    engine.createTask({
      repo: 'owp/pool',
      title: 'Dashboard: dependency graph view',
      area: 'dashboard',
      required_skills: ['svelte'],
      estimate_points: 2,
      depends_on: [inProgress.task_id],
    });
  }
  const flaky = working.find((t) => t !== inProgress && t.lease);
  if (flaky?.lease) {
    engine.updateTask(flaky.task_id, { max_attempts: 1 });
    engine.releaseLease(flaky.lease.worker_id, flaky.lease.lease_id, {
      reason: 'cannot reproduce the failure',
    });
  }
}
