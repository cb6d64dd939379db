import {
  TRUST_TIER_LABELS,
  reputationText,
  type TrustTier,
  type WorkerReportedStatus,
} from '../../protocol/index.ts';
import type { PoolSnapshot } from './pool-snapshot.ts';
import { agoText } from './time-text.ts';

export interface WorkerRow {
  workerId: string;
  name: string;
  githubHandle: string | null;
  online: boolean;
  /** What the worker reports (idle, working, paused). */
  status: WorkerReportedStatus;
  /** Paused by itself or by an admin: gets no new leases. */
  paused: boolean;
  pausedByAdmin: boolean;
  pointsUsed: number;
  pointsCapacity: number;
  /** Points used over capacity, 0–1, for a load bar. */
  pointsLoad: number;
  tasksUsed: number;
  tasksMax: number;
  tasksLoad: number;
  skills: string[];
  /** `2m ago`, `never`: the last heartbeat. */
  lastSeen: string;
  /** Whether this is the local worker. */
  isMe: boolean;
  trustTier: TrustTier;
  trustLabel: string;
  reputation: number;
  /** `0.62`. */
  reputationText: string;
  /** What the score comes from, for its tooltip. */
  reputationDetail: string;
}

/** The workers view: online ones first, then by name; load as used over capacity. */
export function workerRows(snapshot: PoolSnapshot, now: number): WorkerRow[] {
  return [...snapshot.workers.values()]
    .map((w): WorkerRow => ({
      workerId: w.worker_id,
      name: w.name,
      githubHandle: w.github_handle,
      online: w.online,
      status: w.status,
      paused: w.status === 'paused' || w.paused_by_admin,
      pausedByAdmin: w.paused_by_admin,
      pointsUsed: w.points_in_use,
      pointsCapacity: w.capacity_points,
      pointsLoad: load(w.points_in_use, w.capacity_points),
      tasksUsed: w.active_tasks,
      tasksMax: w.max_concurrent_tasks,
      tasksLoad: load(w.active_tasks, w.max_concurrent_tasks),
      skills: w.skills,
      lastSeen: agoText(w.last_heartbeat_at, now),
      isMe: w.worker_id === snapshot.me,
      trustTier: w.trust_tier,
      trustLabel: TRUST_TIER_LABELS[w.trust_tier],
      reputation: w.reputation,
      reputationText: reputationText(w.reputation),
      reputationDetail:
        `Reputation ${reputationText(w.reputation)}: ${w.tasks_completed} merged, ` +
        `${w.leases_expired} expired, ${w.leases_released} released`,
    }))
    .sort(
      (a, b) =>
        Number(b.online) - Number(a.online) ||
        a.name.localeCompare(b.name) ||
        a.workerId.localeCompare(b.workerId),
    );
}

function load(used: number, capacity: number): number {
  return capacity > 0 ? Math.min(1, used / capacity) : 0;
}
