import type { Repo, Task, TaskStatus } from '../../protocol/index.ts';
import { LIFECYCLE, isTerminal } from '../../scheduler/lifecycle.ts';
import { dependenciesOf, dependentsOf, type DependencyLink } from './dependencies.ts';
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
  /** Dependencies not merged yet (the scheduler's count): the task waits while this is above 0. */
  waitingOn: number;
  /** The tasks this one depends on, in the order it names them. */
  dependsOn: DependencyLink[];
  /** The unfinished tasks that depend on this one, while it is not merged; oldest first. */
  blocks: DependencyLink[];
  /** What blocks what, in one sentence for a tooltip; null when the card has no dependencies. */
  dependencySummary: string | null;
  /** Why a failed task stopped, e.g. `Out of attempts: 3 of 3 used`; null for any other status. */
  failure: string | null;
}

export interface BoardColumn {
  status: TaskStatus;
  title: string;
  cards: BoardCard[];
  /**
   * Whether the board leaves the column out while it has no cards: `failed` always (it is the
   * exception that should stand out when it happens), `offered` unless a repo offers its work.
   */
  hideWhenEmpty: boolean;
}

/**
 * The columns in board order: open work in lifecycle order, then `failed` (out of the queue but
 * waiting for an admin, so next to the work, not the finished), then merged and cancelled.
 */
export const BOARD_ORDER: readonly TaskStatus[] = [
  'ready',
  'offered',
  'leased',
  'in_progress',
  'blocked',
  'pr_opened',
  'failed',
  'merged',
  'cancelled',
];

/**
 * The board: one column per status, in board order, with the cards that pass the filters.
 * Open columns run in queue order (priority, then smaller estimate, then age), as the scheduler
 * picks; merged and cancelled show the most recent first.
 */
export function boardColumns(
  snapshot: PoolSnapshot,
  filters: BoardFilters,
  now: number,
): BoardColumn[] {
  const byStatus = new Map<TaskStatus, Task[]>(BOARD_ORDER.map((s) => [s, []]));
  for (const task of snapshot.tasks.values()) {
    if (matches(task, filters)) byStatus.get(task.status)!.push(task);
  }
  const offersUsed = [...snapshot.repos.values()].some((repo) => repo.assignment === 'offer');
  return BOARD_ORDER.map((status) => {
    const tasks = byStatus.get(status)!;
    tasks.sort(isTerminal(status) ? mostRecentFirst : queueOrder);
    return {
      status,
      title: STATUS_LABELS[status],
      cards: tasks.map((task) => toCard(task, snapshot, now)),
      hideWhenEmpty: status === 'failed' || (status === 'offered' && !offersUsed),
    };
  });
}

/** A task at the other end of a dependency, in words: `“Title” (in progress)`, else its id. */
export function dependencyText(link: DependencyLink): string {
  return link.title === null
    ? link.taskId
    : `“${link.title}” (${STATUS_LABELS[link.status!].toLowerCase()})`;
}

/**
 * What blocks what around one task: the tasks it depends on, the unfinished tasks that depend on
 * it (none once it is merged), and both in one sentence (null without either).
 */
export function dependencyPicture(
  task: Task,
  tasks: ReadonlyMap<string, Task>,
): { dependsOn: DependencyLink[]; blocks: DependencyLink[]; summary: string | null } {
  const dependsOn = dependenciesOf(task, tasks);
  const blocks =
    task.status === 'merged'
      ? []
      : dependentsOf(task.task_id, tasks).filter((link) => !isTerminal(link.status!));
  const waitsOn = dependsOn.filter((link) => link.state !== 'met');
  const summary = [
    waitsOn.length > 0 ? `Waits on ${waitsOn.map(dependencyText).join(', ')}.` : '',
    blocks.length > 0 ? `Blocks ${blocks.map(dependencyText).join(', ')}.` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return { dependsOn, blocks, summary: summary === '' ? null : summary };
}

/**
 * A task's attempts against its limit: its own `max_attempts`, else its repo's (the value in
 * effect); without a known limit, only the count.
 */
export function failureText(task: Task, repo: Repo | undefined): string {
  const limit = task.max_attempts ?? repo?.max_attempts ?? null;
  return `Out of attempts: ${limit === null ? task.attempts : `${task.attempts} of ${limit}`} used`;
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
  const { dependsOn, blocks, summary } = dependencyPicture(task, snapshot.tasks);
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
    waitingOn: task.dependencies_pending,
    dependsOn,
    blocks,
    dependencySummary: summary,
    failure: task.status === 'failed' ? failureText(task, snapshot.repos.get(task.repo)) : null,
  };
}
