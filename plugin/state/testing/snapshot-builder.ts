import type { OwpEvent, Repo, Task, TaskStatus, Worker } from '../../../protocol/index.ts';
import { EMPTY_SNAPSHOT, type PoolSnapshot } from '../pool-snapshot.ts';

/** Fixed "now" for view-model tests: 2026-01-17 12:00 UTC. */
export const NOW = Date.parse('2026-01-17T12:00:00Z');
/** An ISO time `minutes` from NOW (negative: in the past). */
export const minutesFromNow = (minutes: number): string =>
  new Date(NOW + minutes * 60_000).toISOString();

let counter = 0;

/** A task with plain defaults; a holding status gets a lease expiring in 30 minutes. */
export function aTask(fields: Partial<Task> & { status?: TaskStatus } = {}): Task {
  const id = fields.task_id ?? `t_${String(++counter).padStart(4, '0')}`;
  const status = fields.status ?? 'ready';
  const held = ['leased', 'in_progress', 'blocked', 'pr_opened'].includes(status);
  const assignee = fields.assignee ?? (held ? 'w_alice' : null);
  return {
    task_id: id,
    repo: 'demo',
    title: `Task ${id}`,
    description: '',
    estimate_points: 1,
    priority: 10,
    required_skills: [],
    area: null,
    tier: 0,
    status,
    assignee,
    lease:
      held && assignee
        ? {
            lease_id: `l_${id}`,
            epoch: 1,
            worker_id: assignee,
            granted_at: minutesFromNow(-10),
            expires_at: status === 'pr_opened' ? null : minutesFromNow(30),
          }
        : null,
    lease_ttl_seconds: null,
    artifact: null,
    attempts: held ? 1 : 0,
    max_attempts: null,
    depends_on: [],
    dependencies_pending: 0,
    version: 1,
    created_at: minutesFromNow(-60),
    updated_at: minutesFromNow(-10),
    ...fields,
  };
}

export function aWorker(fields: Partial<Worker> = {}): Worker {
  return {
    worker_id: 'w_alice',
    name: 'Alice',
    github_handle: null,
    skills: [],
    capacity_points: 5,
    max_concurrent_tasks: 2,
    status: 'idle',
    paused_by_admin: false,
    online: true,
    last_heartbeat_at: minutesFromNow(-1),
    note: null,
    trust_tier: 'basic',
    points_in_use: 0,
    active_tasks: 0,
    reputation: 0,
    tasks_completed: 0,
    leases_expired: 0,
    leases_released: 0,
    registered_at: minutesFromNow(-600),
    ...fields,
  };
}

export function aRepo(fields: Partial<Repo> = {}): Repo {
  return {
    repo: 'demo',
    max_open_prs: 3,
    area_locks_enabled: true,
    lease_ttl_seconds: null,
    max_attempts: 5,
    trust_rules: { untrusted: 0, basic: 1, trusted: 2, maintainer: 3 },
    contract: null,
    assignment: 'lease',
    offer_ttl_seconds: 900,
    budget_used: 0,
    open_prs: 0,
    locked_areas: [],
    created_at: minutesFromNow(-600),
    updated_at: minutesFromNow(-600),
    ...fields,
  };
}

/** A ready snapshot holding the given tasks, workers, repos and events. */
export function aSnapshot(
  parts: {
    tasks?: Task[];
    workers?: Worker[];
    repos?: Repo[];
    events?: OwpEvent[];
  } & Partial<Omit<PoolSnapshot, 'tasks' | 'workers' | 'repos' | 'events'>> = {},
): PoolSnapshot {
  const { tasks = [], workers = [], repos = [], events = [], ...rest } = parts;
  return {
    ...EMPTY_SNAPSHOT,
    phase: 'ready',
    connection: 'live',
    tasks: new Map(tasks.map((t) => [t.task_id, t])),
    workers: new Map(workers.map((w) => [w.worker_id, w])),
    repos: new Map(repos.map((r) => [r.repo, r])),
    events,
    lastSeq: events.at(-1)?.seq ?? 0,
    ...rest,
  };
}
