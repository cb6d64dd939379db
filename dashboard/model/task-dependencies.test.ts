import { describe, expect, it } from 'vitest';
import type { Task } from '../../protocol/tasks.ts';
import {
  dependenciesOf,
  dependencyChoices,
  dependentsOf,
  linksTo,
  waitingMarker,
} from './task-dependencies.ts';
import { aTask, at } from './testing/builders.ts';

/** Schema ← API ← UI, with Docs also waiting on the schema; one merged and one cancelled task. */
function pool(): Map<string, Task> {
  const tasks = [
    aTask('t_schema', { title: 'Schema', status: 'in_progress', created_at: at(0) }),
    aTask('t_api', {
      title: 'API',
      status: 'ready',
      depends_on: ['t_schema'],
      dependencies_pending: 1,
      created_at: at(10),
    }),
    aTask('t_ui', {
      title: 'UI',
      status: 'ready',
      depends_on: ['t_api', 't_done', 't_gone', 't_dropped'],
      dependencies_pending: 3,
      created_at: at(20),
    }),
    aTask('t_docs', {
      title: 'Docs',
      repo: 'site',
      depends_on: ['t_schema'],
      dependencies_pending: 1,
      created_at: at(5),
    }),
    aTask('t_done', { title: 'Done already', status: 'merged' }),
    aTask('t_dropped', { title: 'Dropped', status: 'cancelled' }),
    aTask('t_flaky', { title: 'Flaky job', status: 'failed' }),
  ];
  return new Map(tasks.map((t) => [t.task_id, t]));
}

describe('task dependencies in the detail', () => {
  it('lists what a task depends on in its own order, each with its state', () => {
    const tasks = pool();
    expect(dependenciesOf(tasks.get('t_ui')!, tasks)).toEqual([
      { task_id: 't_api', title: 'API', status: 'ready', state: 'pending' },
      { task_id: 't_done', title: 'Done already', status: 'merged', state: 'met' },
      { task_id: 't_gone', title: null, status: null, state: 'unknown' },
      { task_id: 't_dropped', title: 'Dropped', status: 'cancelled', state: 'never' },
    ]);
    expect(dependenciesOf(tasks.get('t_schema')!, tasks)).toEqual([]);
  });

  it('describes ids typed into the new-task form the same way', () => {
    expect(linksTo(['t_schema', 't_nope'], pool())).toEqual([
      { task_id: 't_schema', title: 'Schema', status: 'in_progress', state: 'pending' },
      { task_id: 't_nope', title: null, status: null, state: 'unknown' },
    ]);
  });

  it('finds the tasks it blocks from the loaded list, oldest first', () => {
    const tasks = pool();
    expect(dependentsOf('t_schema', tasks)).toEqual([
      { task_id: 't_docs', title: 'Docs', status: 'ready', state: 'pending' },
      { task_id: 't_api', title: 'API', status: 'ready', state: 'pending' },
    ]);
    expect(dependentsOf('t_api', tasks).map((l) => l.task_id)).toEqual(['t_ui']);
    expect(dependentsOf('t_ui', tasks)).toEqual([]);
  });

  it('adds the dependents the server listed that the page has not loaded, judging loaded ones live', () => {
    const tasks = pool();
    const listed = [
      // Not on the page (a pool larger than it): shown from the server's copy.
      aTask('t_far', {
        title: 'Far away',
        status: 'merged',
        depends_on: ['t_schema'],
        created_at: at(7),
      }),
      // On the page, but edited since the list was read: the page's copy says it no longer waits.
      aTask('t_ui', { title: 'UI', depends_on: ['t_schema'], created_at: at(20) }),
    ];
    expect(dependentsOf('t_schema', tasks, listed)).toEqual([
      { task_id: 't_docs', title: 'Docs', status: 'ready', state: 'pending' },
      { task_id: 't_far', title: 'Far away', status: 'merged', state: 'met' },
      { task_id: 't_api', title: 'API', status: 'ready', state: 'pending' },
    ]);
  });
});

describe('the "waiting on N" marker', () => {
  it('counts what the server counts and names the unmerged dependencies in its tooltip', () => {
    const tasks = pool();
    expect(waitingMarker(tasks.get('t_ui')!, tasks)).toEqual({
      label: 'waiting on 3',
      title: 'Starts once merged: “API” (ready), t_gone, “Dropped” (cancelled)',
    });
    expect(waitingMarker(tasks.get('t_api')!, tasks)).toEqual({
      label: 'waiting on 1',
      title: 'Starts once merged: “Schema” (in progress)',
    });
  });

  it('shows nothing once every dependency is merged, or for a task without any', () => {
    const tasks = pool();
    const met = aTask('t_next', { depends_on: ['t_done'], dependencies_pending: 0 });
    expect(waitingMarker(met, tasks)).toBeNull();
    expect(waitingMarker(tasks.get('t_schema')!, tasks)).toBeNull();
  });
});

describe('the dependency picker of the new-task form', () => {
  it('offers unfinished tasks not chosen yet: the same repo first, then the others, by title', () => {
    expect(dependencyChoices(pool().values(), 'demo', ['t_api'])).toEqual([
      { task_id: 't_flaky', label: 'Flaky job — failed (t_flaky)' },
      { task_id: 't_schema', label: 'Schema — in progress (t_schema)' },
      { task_id: 't_ui', label: 'UI — ready (t_ui)' },
      { task_id: 't_docs', label: 'Docs — site, ready (t_docs)' },
    ]);
  });

  it('offers nothing in an empty pool', () => {
    expect(dependencyChoices([], 'demo', [])).toEqual([]);
  });
});
