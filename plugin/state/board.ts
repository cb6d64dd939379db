import { TASK_STATUSES, type Task, type TaskStatus } from '../../protocol/index.ts';
import { LIFECYCLE, isTerminal } from '../../scheduler/lifecycle.ts';
import type { PoolSnapshot } from './pool-snapshot.ts';
import { countdownText, isPast } from './time-text.ts';

/** Column and status names as the views show them (sentence case). */
export const STATUS_LABELS: Record<TaskStatus, string> = {
  ready: 'Ready',
  leased: 'Leased',
  in_progress: 'In progress',
  blocked: 'Blocked',
  pr_opened: 'PR opened',
  merged: 'Merged',
  cancelled: 'Cancelled',
  offered: 'Offered',
  failed: 'Failed',
};

/** Board filters; empty or null means "any". */
export interface BoardFilters {
  repo?: string | null;
  skill?: string | null;
  area?: string | null;
}

export interface BoardCard {
  taskId: string;
  title: string;
  repo: string;
  status: TaskStatus;
  points: number;
  priority: number;
  skills: string[];
  area: string | null;
  assigneeId: string | null;
  /** The assignee's name, or its id when the worker is not known. */
  assigneeName: string | null;
  /** `25m left`, `expired`, or null without an expiring lease. */
  leaseCountdown: string | null;
  leaseExpired: boolean;
  prUrl: string | null;
}

export interface BoardColumn {
  status: TaskStatus;
  title: string;
  cards: BoardCard[];
}

/**
 * The board: one column per status, in lifecycle order, with the cards that pass the filters.
 * Open columns run in queue order (priority, then smaller estimate, then age), as the scheduler
 * picks; merged and cancelled show the most recent first.
 */
export function boardColumns(
  snapshot: PoolSnapshot,
  filters: BoardFilters,
  now: number,
): BoardColumn[] {
  const byStatus = new Map<TaskStatus, Task[]>(TASK_STATUSES.map((s) => [s, []]));
  for (const task of snapshot.tasks.values()) {
    if (matches(task, filters)) byStatus.get(task.status)!.push(task);
  }
  return TASK_STATUSES.map((status) => {
    const tasks = byStatus.get(status)!;
    tasks.sort(isTerminal(status) ? mostRecentFirst : queueOrder);
    return {
      status,
      title: STATUS_LABELS[status],
      cards: tasks.map((task) => toCard(task, snapshot, now)),
    };
  });
}

/** The values the filter menus offer: every repo, skill and area on the board, sorted. */
export function boardFilterOptions(snapshot: PoolSnapshot): {
  repos: string[];
  skills: string[];
  areas: string[];
} {
  const repos = new Set(snapshot.repos.keys());
  const skills = new Set<string>();
  const areas = new Set<string>();
  for (const task of snapshot.tasks.values()) {
    repos.add(task.repo);
    for (const skill of task.required_skills) skills.add(skill.toLowerCase());
    if (task.area) areas.add(task.area);
  }
  const sorted = (set: Set<string>) => [...set].sort((a, b) => a.localeCompare(b));
  return { repos: sorted(repos), skills: sorted(skills), areas: sorted(areas) };
}

/** What an admin's drag from one column to another does: requeue, cancel or merge. */
export type BoardDropCause = 'requeue' | 'cancel' | 'merge';

/** The admin move a drop stands for, or null when the lifecycle does not allow it. */
export function boardDropCause(from: TaskStatus, to: TaskStatus): BoardDropCause | null {
  const edge = LIFECYCLE.find(
    (e) => e.from.includes(from) && e.to === to && e.actors.includes('admin'),
  );
  return edge ? (edge.cause as BoardDropCause) : null;
}

/** Whether an admin may drop a card from `from` onto the `to` column. */
export function boardDropAllowed(from: TaskStatus, to: TaskStatus): boolean {
  return boardDropCause(from, to) !== null;
}

function matches(task: Task, filters: BoardFilters): boolean {
  if (filters.repo && task.repo !== filters.repo) return false;
  if (filters.area && task.area !== filters.area) return false;
  if (filters.skill) {
    const wanted = filters.skill.toLowerCase();
    if (!task.required_skills.some((s) => s.toLowerCase() === wanted)) return false;
  }
  return true;
}

function queueOrder(a: Task, b: Task): number {
  return (
    b.priority - a.priority ||
    a.estimate_points - b.estimate_points ||
    a.created_at.localeCompare(b.created_at) ||
    a.task_id.localeCompare(b.task_id)
  );
}

function mostRecentFirst(a: Task, b: Task): number {
  return b.updated_at.localeCompare(a.updated_at) || a.task_id.localeCompare(b.task_id);
}

function toCard(task: Task, snapshot: PoolSnapshot, now: number): BoardCard {
  const expiresAt = task.lease?.expires_at ?? null;
  return {
    taskId: task.task_id,
    title: task.title,
    repo: task.repo,
    status: task.status,
    points: task.estimate_points,
    priority: task.priority,
    skills: task.required_skills,
    area: task.area,
    assigneeId: task.assignee,
    assigneeName: task.assignee
      ? (snapshot.workers.get(task.assignee)?.name ?? task.assignee)
      : null,
    leaseCountdown: countdownText(expiresAt, now),
    leaseExpired: isPast(expiresAt, now),
    prUrl: task.artifact?.pr_url ?? null,
  };
}
