import type {
  Artifact,
  AssignmentMode,
  Repo,
  RepoContract,
  Task,
  TrustRules,
  TaskStatus,
  TrustTier,
  Worker,
  WorkerReportedStatus,
} from '../protocol/index.ts';
import { toIso, toIsoOrNull } from './clock.ts';

/** Rows as SQLite returns them; turned into protocol views at the engine's edge. */
export interface RepoRow {
  key: string;
  max_open_prs: number;
  area_locks_enabled: number;
  lease_ttl_ms: number | null;
  max_attempts: number | null;
  trust_rules: string | null; // JSON TrustRules
  contract: string | null; // JSON RepoContract
  assignment: AssignmentMode;
  offer_ttl_ms: number | null;
  /** Tasks counted against the review budget, kept by the transition writer. */
  budget_used: number;
  created_at: number;
  updated_at: number;
}

export interface TaskRow {
  id: string;
  repo: string;
  title: string;
  description: string;
  estimate_points: number;
  priority: number;
  skill_set_id: number;
  skills: string; // joined from skill_sets
  area: string | null;
  tier: number;
  status: TaskStatus;
  assignee: string | null;
  lease_id: string | null;
  lease_epoch: number;
  lease_granted_at: number | null;
  lease_expires_at: number | null;
  lease_ttl_ms: number | null;
  ttl_override_ms: number | null;
  artifact: string | null;
  attempts: number;
  released_by: string | null;
  released_at: number | null;
  max_attempts: number | null;
  depends_on: string; // JSON array of task ids
  deps_pending: number;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface WorkerRow {
  id: string;
  name: string;
  github_handle: string | null;
  skills: string;
  capacity_points: number;
  max_concurrent_tasks: number;
  reported_status: WorkerReportedStatus;
  paused_by_admin: number;
  note: string | null;
  last_heartbeat_at: number | null;
  announced_online: number;
  trust_tier: TrustTier;
  trust_rank: number;
  points_in_use: number;
  active_tasks: number;
  reputation: number;
  tasks_completed: number;
  leases_expired: number;
  leases_released: number;
  prs_opened: number;
  prs_on_time: number;
  tasks_requeued: number;
  offers_accepted: number;
  offers_rejected: number;
  offers_expired: number;
  registered_at: number;
}

/** Every task query selects these columns, with the skill set joined in as `skills`. */
export const TASK_COLUMNS = `t.*, s.skills AS skills`;
export const TASK_FROM = `tasks t JOIN skill_sets s ON s.id = t.skill_set_id`;

export const splitSkills = (joined: string): string[] => (joined === '' ? [] : joined.split('\n'));

export function toTask(row: TaskRow): Task {
  return {
    task_id: row.id,
    repo: row.repo,
    title: row.title,
    description: row.description,
    estimate_points: row.estimate_points,
    priority: row.priority,
    required_skills: splitSkills(row.skills),
    area: row.area,
    tier: row.tier,
    status: row.status,
    assignee: row.assignee,
    lease:
      row.lease_id !== null && row.assignee !== null && row.lease_granted_at !== null
        ? {
            lease_id: row.lease_id,
            epoch: row.lease_epoch,
            worker_id: row.assignee,
            granted_at: toIso(row.lease_granted_at),
            expires_at: toIsoOrNull(row.lease_expires_at),
          }
        : null,
    lease_ttl_seconds: row.ttl_override_ms === null ? null : row.ttl_override_ms / 1000,
    artifact: row.artifact === null ? null : (JSON.parse(row.artifact) as Artifact),
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    depends_on: JSON.parse(row.depends_on) as string[],
    dependencies_pending: row.deps_pending,
    version: row.version,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

/** The worker columns `toWorker` shows: a listing reads these, not the token hash and counters. */
export const WORKER_VIEW_COLUMNS = [
  'id',
  'name',
  'github_handle',
  'skills',
  'capacity_points',
  'max_concurrent_tasks',
  'reported_status',
  'paused_by_admin',
  'note',
  'last_heartbeat_at',
  'trust_tier',
  'points_in_use',
  'active_tasks',
  'reputation',
  'tasks_completed',
  'leases_expired',
  'leases_released',
  'registered_at',
] as const satisfies readonly (keyof WorkerRow)[];
export type WorkerViewRow = Pick<WorkerRow, (typeof WORKER_VIEW_COLUMNS)[number]>;

export function toWorker(row: WorkerViewRow, online: boolean): Worker {
  return {
    worker_id: row.id,
    name: row.name,
    github_handle: row.github_handle,
    skills: JSON.parse(row.skills) as string[],
    capacity_points: row.capacity_points,
    max_concurrent_tasks: row.max_concurrent_tasks,
    status: row.paused_by_admin ? 'paused' : row.reported_status,
    paused_by_admin: row.paused_by_admin === 1,
    online,
    last_heartbeat_at: toIsoOrNull(row.last_heartbeat_at),
    note: row.note,
    trust_tier: row.trust_tier,
    points_in_use: row.points_in_use,
    active_tasks: row.active_tasks,
    reputation: row.reputation,
    tasks_completed: row.tasks_completed,
    leases_expired: row.leases_expired,
    leases_released: row.leases_released,
    registered_at: toIso(row.registered_at),
  };
}

/** The repo settings that fall back to the engine's when the repo has none. */
export interface RepoDefaults {
  maxAttempts: number;
  trustRules: TrustRules;
  offerTtlMs: number;
}

export const trustRulesOf = (
  row: Pick<RepoRow, 'trust_rules'>,
  defaults: TrustRules,
): TrustRules =>
  row.trust_rules === null ? defaults : (JSON.parse(row.trust_rules) as TrustRules);

export const contractOf = (row: Pick<RepoRow, 'contract'>): RepoContract | null =>
  row.contract === null ? null : (JSON.parse(row.contract) as RepoContract);

export function toRepo(
  row: RepoRow,
  usage: { budget_used: number; open_prs: number; locked_areas: string[] },
  defaults: RepoDefaults,
): Repo {
  return {
    repo: row.key,
    max_open_prs: row.max_open_prs,
    area_locks_enabled: row.area_locks_enabled === 1,
    lease_ttl_seconds: row.lease_ttl_ms === null ? null : row.lease_ttl_ms / 1000,
    max_attempts: row.max_attempts ?? defaults.maxAttempts,
    trust_rules: trustRulesOf(row, defaults.trustRules),
    contract: contractOf(row),
    assignment: row.assignment,
    offer_ttl_seconds: (row.offer_ttl_ms ?? defaults.offerTtlMs) / 1000,
    budget_used: usage.budget_used,
    open_prs: usage.open_prs,
    locked_areas: usage.locked_areas,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}
