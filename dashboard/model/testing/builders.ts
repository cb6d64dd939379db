/** Fixture builders for the dashboard's model tests: plain protocol values, named fields only. */
import type { TaskStatus } from '../../../protocol/common.ts';
import type { OwpEvent } from '../../../protocol/events.ts';
import type { Repo } from '../../../protocol/repos.ts';
import type { Task } from '../../../protocol/tasks.ts';
import type { Worker } from '../../../protocol/workers.ts';

const T0 = Date.parse('2026-01-17T12:00:00Z');
/** An ISO time `seconds` after the fixtures' origin. */
export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
export const ORIGIN_MS = T0;

export function aTask(id: string, overrides: Partial<Task> = {}): Task {
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
    status: 'ready',
    assignee: null,
    lease: null,
    lease_ttl_seconds: null,
    artifact: null,
    attempts: 0,
    max_attempts: null,
    depends_on: [],
    dependencies_pending: 0,
    version: 1,
    created_at: at(0),
    updated_at: at(0),
    ...overrides,
  };
}

/** A repo with the server's defaults: leases, three attempts, the default trust rules. */
export function aRepo(key: string, overrides: Partial<Repo> = {}): Repo {
  return {
    repo: key,
    max_open_prs: 3,
    area_locks_enabled: true,
    lease_ttl_seconds: null,
    max_attempts: 3,
    trust_rules: { untrusted: 0, basic: 1, trusted: 2, maintainer: 3 },
    contract: null,
    assignment: 'lease',
    offer_ttl_seconds: 900,
    budget_used: 0,
    open_prs: 0,
    locked_areas: [],
    created_at: at(0),
    updated_at: at(0),
    ...overrides,
  };
}

/** An online, idle worker of the basic trust tier with no history. */
export function aWorker(id: string, overrides: Partial<Worker> = {}): Worker {
  return {
    worker_id: id,
    name: `Worker ${id}`,
    github_handle: null,
    skills: [],
    capacity_points: 5,
    max_concurrent_tasks: 2,
    status: 'idle',
    paused_by_admin: false,
    online: true,
    last_heartbeat_at: at(0),
    note: null,
    trust_tier: 'basic',
    points_in_use: 0,
    active_tasks: 0,
    reputation: 0.5,
    tasks_completed: 0,
    leases_expired: 0,
    leases_released: 0,
    registered_at: at(0),
    ...overrides,
  };
}

/** Events in the order they are made; each gets the next sequence number. */
export class EventScript {
  readonly events: OwpEvent[] = [];

  created(taskId: string, seconds: number, title = `Task ${taskId}`): this {
    return this.push({
      at: at(seconds),
      repo: 'demo',
      task_id: taskId,
      worker_id: null,
      type: 'task.created',
      data: { title, priority: 10 },
    });
  }

  moved(
    taskId: string,
    seconds: number,
    from: TaskStatus,
    to: TaskStatus,
    cause: Extract<OwpEvent, { type: 'task.status_changed' }>['data']['cause'],
    workerId: string | null = null,
  ): this {
    return this.push({
      at: at(seconds),
      repo: 'demo',
      task_id: taskId,
      worker_id: workerId,
      type: 'task.status_changed',
      data: { from, to, cause, lease_id: null, epoch: 1, message: null, pr_url: null, version: 2 },
    });
  }

  repoDeleted(
    repo: string,
    seconds: number,
    tasksDeleted: Partial<Record<TaskStatus, number>> = {},
  ): this {
    return this.push({
      at: at(seconds),
      repo,
      task_id: null,
      worker_id: null,
      type: 'repo.deleted',
      data: { tasks_deleted: tasksDeleted },
    });
  }

  workerOnline(workerId: string, seconds: number): this {
    return this.push({
      at: at(seconds),
      repo: null,
      task_id: null,
      worker_id: workerId,
      type: 'worker.online',
      data: { status: 'idle' },
    });
  }

  private push(event: Omit<OwpEvent, 'seq'>): this {
    this.events.push({ ...event, seq: this.events.length + 1 } as OwpEvent);
    return this;
  }
}
