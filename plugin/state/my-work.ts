import type { TaskStatus } from '../../protocol/index.ts';
import { allowedTargets } from '../../scheduler/lifecycle.ts';
import { STATUS_LABELS } from './board.ts';
import type { PoolSnapshot } from './pool-snapshot.ts';
import { countdownText, isPast } from './time-text.ts';

/** What a worker can do with a task it holds; each is one API call. */
export type WorkActionKind = 'start' | 'block' | 'open_pr' | 'merge' | 'release';

export interface WorkAction {
  kind: WorkActionKind;
  /** The button's text (sentence case). */
  label: string;
  /** The status the task moves to. */
  target: TaskStatus;
  /** Opening a PR asks for its URL first. */
  needsUrl: boolean;
}

export interface MyWorkItem {
  taskId: string;
  title: string;
  repo: string;
  status: TaskStatus;
  statusLabel: string;
  points: number;
  area: string | null;
  /** The lease every write names, so a stale write is refused rather than applied. */
  leaseId: string | null;
  epoch: number | null;
  leaseCountdown: string | null;
  leaseExpired: boolean;
  prUrl: string | null;
  actions: WorkAction[];
}

/** The worker's moves, by the status they lead to (`ready` is a release). */
const ACTIONS: Partial<Record<TaskStatus, Omit<WorkAction, 'target'>>> = {
  in_progress: { kind: 'start', label: 'Start', needsUrl: false },
  blocked: { kind: 'block', label: 'Blocked', needsUrl: false },
  pr_opened: { kind: 'open_pr', label: 'PR opened', needsUrl: true },
  merged: { kind: 'merge', label: 'Merged', needsUrl: false },
  ready: { kind: 'release', label: 'Release', needsUrl: false },
};
const ACTION_ORDER: WorkActionKind[] = ['start', 'block', 'open_pr', 'merge', 'release'];
const MINE: readonly TaskStatus[] = ['leased', 'in_progress', 'blocked', 'pr_opened'];

/**
 * "My work": the tasks `workerId` holds or has a PR open for, the lease soonest to expire first,
 * each with the moves the lifecycle allows a worker from its status.
 */
export function myWork(snapshot: PoolSnapshot, workerId: string | null, now: number): MyWorkItem[] {
  if (!workerId) return [];
  const mine = [...snapshot.tasks.values()].filter(
    (t) => t.assignee === workerId && MINE.includes(t.status),
  );
  const expiry = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Infinity);
  mine.sort(
    (a, b) =>
      expiry(a.lease?.expires_at) - expiry(b.lease?.expires_at) ||
      a.created_at.localeCompare(b.created_at),
  );
  return mine.map((task) => {
    const expiresAt = task.lease?.expires_at ?? null;
    return {
      taskId: task.task_id,
      title: task.title,
      repo: task.repo,
      status: task.status,
      statusLabel: STATUS_LABELS[task.status],
      points: task.estimate_points,
      area: task.area,
      leaseId: task.lease?.lease_id ?? null,
      epoch: task.lease?.epoch ?? null,
      leaseCountdown: countdownText(expiresAt, now),
      leaseExpired: isPast(expiresAt, now),
      prUrl: task.artifact?.pr_url ?? null,
      actions: workerActions(task.status),
    };
  });
}

/** The moves a worker may make from `status`, in a steady order. */
export function workerActions(status: TaskStatus): WorkAction[] {
  return allowedTargets(status, 'worker')
    .flatMap((target) => {
      const action = ACTIONS[target];
      return action ? [{ ...action, target }] : [];
    })
    .sort((a, b) => ACTION_ORDER.indexOf(a.kind) - ACTION_ORDER.indexOf(b.kind));
}
