import { describe, expect, it } from 'vitest';
import { DEFAULT_TASK_QUERY, queryTasks, toggleSort, type TaskTableQuery } from './task-table.ts';
import { aTask, at } from './testing/builders.ts';

const tasks = [
  aTask('t_1', {
    title: 'Fix login redirect',
    repo: 'web',
    status: 'ready',
    priority: 10,
    updated_at: at(30),
  }),
  aTask('t_2', {
    title: 'Speed up sync',
    repo: 'plugin',
    status: 'leased',
    priority: 50,
    assignee: 'w_ada',
    updated_at: at(10),
    area: 'sync',
  }),
  aTask('t_3', {
    title: 'Docs: login flow',
    repo: 'web',
    status: 'merged',
    priority: 5,
    updated_at: at(20),
    required_skills: ['docs'],
  }),
  aTask('t_4', {
    title: 'Flaky sync test',
    repo: 'plugin',
    status: 'cancelled',
    priority: 50,
    updated_at: at(40),
  }),
  aTask('t_5', {
    title: 'Migrate the session store',
    repo: 'web',
    status: 'failed',
    priority: 30,
    attempts: 3,
    updated_at: at(5),
  }),
];
const query = (overrides: Partial<TaskTableQuery>) => ({ ...DEFAULT_TASK_QUERY, ...overrides });
const ids = (q: Partial<TaskTableQuery>, names = new Map<string, string>()) =>
  queryTasks(tasks, query(q), names).rows.map((t) => t.task_id);

describe('the tasks table', () => {
  it('lists the most recently updated first by default', () => {
    expect(ids({})).toEqual(['t_4', 't_1', 't_3', 't_2', 't_5']);
  });

  it('filters by repo, by status, and by "open" (not merged or cancelled, so failed too)', () => {
    expect(ids({ repo: 'web' })).toEqual(['t_1', 't_3', 't_5']);
    expect(ids({ status: 'leased' })).toEqual(['t_2']);
    expect(ids({ status: 'failed' })).toEqual(['t_5']);
    expect(ids({ status: 'open' })).toEqual(['t_1', 't_2', 't_5']);
    expect(ids({ repo: 'plugin', status: 'open' })).toEqual(['t_2']);
  });

  it('searches every word across title, id, repo, area, skills and the assignee by name', () => {
    expect(ids({ search: 'login' })).toEqual(['t_1', 't_3']);
    expect(ids({ search: 'LOGIN docs' })).toEqual(['t_3']);
    expect(ids({ search: 't_4' })).toEqual(['t_4']);
    expect(ids({ search: 'ada' }, new Map([['w_ada', 'Ada Lovelace']]))).toEqual(['t_2']);
    expect(ids({ search: 'lovelace' }, new Map([['w_ada', 'Ada Lovelace']]))).toEqual(['t_2']);
  });

  it('sorts by a column, ties broken by id so the order never jumps', () => {
    expect(ids({ sort: 'priority', direction: 'desc' })).toEqual([
      't_2',
      't_4',
      't_5',
      't_1',
      't_3',
    ]);
    // Lifecycle order: failed comes last, after cancelled.
    expect(ids({ sort: 'status', direction: 'asc' })).toEqual(['t_1', 't_2', 't_3', 't_4', 't_5']);
    expect(ids({ sort: 'title', direction: 'asc' })).toEqual(['t_3', 't_1', 't_4', 't_5', 't_2']);
  });

  it('pages, clamping a page past the end to the last one', () => {
    const page2 = queryTasks(tasks, query({ pageSize: 3, page: 2 }));
    expect(page2).toMatchObject({ total: 5, page: 2, pageCount: 2 });
    expect(page2.rows.map((t) => t.task_id)).toEqual(['t_2', 't_5']);
    expect(queryTasks(tasks, query({ pageSize: 3, page: 9 })).page).toBe(2);
    expect(queryTasks([], query({}))).toMatchObject({ total: 0, page: 1, pageCount: 1, rows: [] });
  });

  it('flips the direction on a second click and starts a new column at its natural order', () => {
    const byPriority = toggleSort(query({ page: 3 }), 'priority');
    expect(byPriority).toMatchObject({ sort: 'priority', direction: 'desc', page: 1 });
    expect(toggleSort(byPriority, 'priority').direction).toBe('asc');
    expect(toggleSort(byPriority, 'title').direction).toBe('asc');
  });
});
