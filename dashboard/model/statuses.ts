import { TASK_STATUSES, type TaskStatus } from '../../protocol/common.ts';

/** Task statuses in lifecycle order, as the tiles, the table and the charts list them. */
export const STATUS_ORDER: readonly TaskStatus[] = TASK_STATUSES;

/** Statuses still in the queue (not merged or cancelled): the "queue depth" chart stacks these. */
export const OPEN_STATUSES: readonly TaskStatus[] = [
  'ready',
  'offered',
  'leased',
  'in_progress',
  'blocked',
  'pr_opened',
];

export const STATUS_LABELS: Record<TaskStatus, string> = {
  ready: 'Ready',
  leased: 'Leased',
  in_progress: 'In progress',
  blocked: 'Blocked',
  pr_opened: 'PR open',
  merged: 'Merged',
  cancelled: 'Cancelled',
  offered: 'Offered',
  failed: 'Failed',
};

/** The status inside a sentence: `3 in progress`, `2 PR open`. */
export const STATUS_NOUNS: Record<TaskStatus, string> = {
  ready: 'ready',
  leased: 'leased',
  in_progress: 'in progress',
  blocked: 'blocked',
  pr_opened: 'PR open',
  merged: 'merged',
  cancelled: 'cancelled',
  offered: 'offered',
  failed: 'failed',
};

/**
 * One colour per status, shared by badges (through `--status-*` CSS variables) and the charts.
 * Mid-tone hues that read on both the light and the dark background.
 */
export const STATUS_COLORS: Record<TaskStatus, string> = {
  ready: '#3b82f6',
  leased: '#8b5cf6',
  in_progress: '#d97706',
  blocked: '#dc2626',
  pr_opened: '#0d9488',
  merged: '#16a34a',
  cancelled: '#8b8f98',
  offered: '#6366f1',
  failed: '#be185d',
};

export const isOpenStatus = (status: TaskStatus): boolean => OPEN_STATUSES.includes(status);

/**
 * Not merged or cancelled: what the table's "open" filter shows and what a new task may depend
 * on. Unlike `isOpenStatus` this keeps `failed`, which is out of the queue but waits for an admin.
 */
export const isUnfinishedStatus = (status: TaskStatus): boolean =>
  status !== 'merged' && status !== 'cancelled';
