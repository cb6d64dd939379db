import type { TaskStatus } from '../../protocol/common.ts';
import type { Task } from '../../protocol/tasks.ts';
import { STATUS_ORDER, isUnfinishedStatus } from './statuses.ts';

export type SortKey =
  'updated_at' | 'created_at' | 'priority' | 'title' | 'status' | 'repo' | 'points';
export type SortDirection = 'asc' | 'desc';

/** What the tasks table shows: filter, search, sort and page, all client-side. */
export interface TaskTableQuery {
  /** Words that must all appear in the id, title, repo, area, assignee or skills. */
  search: string;
  repo: string | null;
  /** A status, `open` for every status not merged or cancelled (failed too), or null for all. */
  status: TaskStatus | 'open' | null;
  sort: SortKey;
  direction: SortDirection;
  /** 1-based. */
  page: number;
  pageSize: number;
}

export const DEFAULT_TASK_QUERY: TaskTableQuery = {
  search: '',
  repo: null,
  status: null,
  sort: 'updated_at',
  direction: 'desc',
  page: 1,
  pageSize: 25,
};

export interface TaskTablePage {
  rows: Task[];
  /** Tasks matching the filter and search, over all pages. */
  total: number;
  /** The page actually shown: the asked one, clamped to the pages there are. */
  page: number;
  pageCount: number;
}

/** The direction a column sorts in when first clicked: newest and most important first. */
export const FIRST_DIRECTION: Record<SortKey, SortDirection> = {
  updated_at: 'desc',
  created_at: 'desc',
  priority: 'desc',
  points: 'asc',
  title: 'asc',
  status: 'asc',
  repo: 'asc',
};

const statusRank = (status: TaskStatus) => STATUS_ORDER.indexOf(status);

const compareBy: Record<SortKey, (a: Task, b: Task) => number> = {
  updated_at: (a, b) => a.updated_at.localeCompare(b.updated_at),
  created_at: (a, b) => a.created_at.localeCompare(b.created_at),
  priority: (a, b) => a.priority - b.priority,
  points: (a, b) => a.estimate_points - b.estimate_points,
  title: (a, b) => a.title.localeCompare(b.title, undefined, { sensitivity: 'base' }),
  status: (a, b) => statusRank(a.status) - statusRank(b.status),
  repo: (a, b) => a.repo.localeCompare(b.repo),
};

function searchText(task: Task, workerNames: ReadonlyMap<string, string>): string {
  const assignee = task.assignee ? `${task.assignee} ${workerNames.get(task.assignee) ?? ''}` : '';
  return [task.task_id, task.title, task.repo, task.area ?? '', assignee, ...task.required_skills]
    .join(' ')
    .toLowerCase();
}

/**
 * Filters, searches, sorts (ties broken by id, so the order is stable) and pages the tasks.
 * `workerNames` lets a search for a worker's name find the tasks it holds.
 */
export function queryTasks(
  tasks: Iterable<Task>,
  query: TaskTableQuery,
  workerNames: ReadonlyMap<string, string> = new Map(),
): TaskTablePage {
  const terms = query.search.toLowerCase().split(/\s+/).filter(Boolean);
  const matching: Task[] = [];
  for (const task of tasks) {
    if (query.repo && task.repo !== query.repo) continue;
    if (
      query.status === 'open'
        ? !isUnfinishedStatus(task.status)
        : query.status && task.status !== query.status
    ) {
      continue;
    }
    if (terms.length > 0) {
      const text = searchText(task, workerNames);
      if (!terms.every((term) => text.includes(term))) continue;
    }
    matching.push(task);
  }
  const sign = query.direction === 'asc' ? 1 : -1;
  const compare = compareBy[query.sort];
  matching.sort((a, b) => sign * compare(a, b) || a.task_id.localeCompare(b.task_id));
  const pageSize = Math.max(1, query.pageSize);
  const pageCount = Math.max(1, Math.ceil(matching.length / pageSize));
  const page = Math.min(Math.max(1, query.page), pageCount);
  return {
    rows: matching.slice((page - 1) * pageSize, page * pageSize),
    total: matching.length,
    page,
    pageCount,
  };
}

/** Clicking a column header: the same column flips direction, a new one starts at its default. */
export function toggleSort(query: TaskTableQuery, key: SortKey): TaskTableQuery {
  const direction =
    query.sort === key ? (query.direction === 'asc' ? 'desc' : 'asc') : FIRST_DIRECTION[key];
  return { ...query, sort: key, direction, page: 1 };
}
