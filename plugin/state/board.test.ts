import { describe, expect, it } from 'vitest';
import { TASK_STATUSES } from '../../protocol/index.ts';
import { boardColumns, boardDropAllowed, boardDropCause, boardFilterOptions } from './board.ts';
import {
  NOW,
  aRepo,
  aSnapshot,
  aTask,
  aWorker,
  minutesFromNow,
} from './testing/snapshot-builder.ts';

const cardsOf = (columns: ReturnType<typeof boardColumns>, status: string) =>
  columns.find((c) => c.status === status)!.cards;

describe('boardColumns', () => {
  it('has one column per status, in lifecycle order, with sentence-case titles', () => {
    const columns = boardColumns(aSnapshot(), {}, NOW);
    expect(columns.map((c) => c.status)).toEqual([...TASK_STATUSES]);
    expect(columns.map((c) => c.title)).toEqual([
      'Ready',
      'Leased',
      'In progress',
      'Blocked',
      'PR opened',
      'Merged',
      'Cancelled',
    ]);
  });

  it('makes cards with points, skills, area, the assignee by name and the lease countdown', () => {
    const snapshot = aSnapshot({
      tasks: [
        aTask({
          task_id: 't_login',
          title: 'Fix login',
          status: 'in_progress',
          estimate_points: 3,
          required_skills: ['ts', 'auth'],
          area: 'auth',
        }),
      ],
      workers: [aWorker({ worker_id: 'w_alice', name: 'Alice' })],
    });
    expect(cardsOf(boardColumns(snapshot, {}, NOW), 'in_progress')).toEqual([
      {
        taskId: 't_login',
        title: 'Fix login',
        repo: 'demo',
        status: 'in_progress',
        points: 3,
        priority: 10,
        skills: ['ts', 'auth'],
        area: 'auth',
        assigneeId: 'w_alice',
        assigneeName: 'Alice',
        leaseCountdown: '30m left',
        leaseExpired: false,
        prUrl: null,
      },
    ]);
  });

  it('counts down from the injected now, shows an expired lease, and none for a PR in review', () => {
    const leased = aTask({ status: 'leased' });
    const review = aTask({ status: 'pr_opened', artifact: { pr_url: 'https://x.test/pull/1' } });
    const snapshot = aSnapshot({ tasks: [leased, review] });
    const later = boardColumns(snapshot, {}, NOW + 31 * 60_000);
    expect(cardsOf(later, 'leased')[0]).toMatchObject({
      leaseCountdown: 'expired',
      leaseExpired: true,
      assigneeName: 'w_alice', // not a known worker: its id stands in
    });
    expect(cardsOf(later, 'pr_opened')[0]).toMatchObject({
      leaseCountdown: null,
      leaseExpired: false,
      prUrl: 'https://x.test/pull/1',
    });
  });

  it('orders open columns as the queue does, and closed ones most recent first', () => {
    const snapshot = aSnapshot({
      tasks: [
        aTask({ task_id: 't_low', priority: 1 }),
        aTask({ task_id: 't_big', priority: 50, estimate_points: 5 }),
        aTask({ task_id: 't_small_new', priority: 50, created_at: minutesFromNow(-1) }),
        aTask({ task_id: 't_small_old', priority: 50, created_at: minutesFromNow(-100) }),
        aTask({ task_id: 't_merged_old', status: 'merged', updated_at: minutesFromNow(-50) }),
        aTask({ task_id: 't_merged_new', status: 'merged', updated_at: minutesFromNow(-5) }),
      ],
    });
    const columns = boardColumns(snapshot, {}, NOW);
    expect(cardsOf(columns, 'ready').map((c) => c.taskId)).toEqual([
      't_small_old',
      't_small_new',
      't_big',
      't_low',
    ]);
    expect(cardsOf(columns, 'merged').map((c) => c.taskId)).toEqual([
      't_merged_new',
      't_merged_old',
    ]);
  });

  it('filters by repo, skill (any case) and area together', () => {
    const snapshot = aSnapshot({
      tasks: [
        aTask({ task_id: 't_1', repo: 'a/web', required_skills: ['TS'], area: 'ui' }),
        aTask({ task_id: 't_2', repo: 'a/web', required_skills: ['go'], area: 'ui' }),
        aTask({ task_id: 't_3', repo: 'b/api', required_skills: ['ts'], area: 'ui' }),
        aTask({ task_id: 't_4', repo: 'a/web', required_skills: ['ts'], area: 'db' }),
      ],
    });
    const ids = (filters: Parameters<typeof boardColumns>[1]) =>
      boardColumns(snapshot, filters, NOW).flatMap((c) => c.cards.map((card) => card.taskId));
    expect(ids({ repo: 'a/web', skill: 'ts', area: 'ui' })).toEqual(['t_1']);
    expect(ids({ skill: 'Ts' }).sort()).toEqual(['t_1', 't_3', 't_4']);
    expect(ids({ repo: null, skill: '', area: null })).toHaveLength(4);
  });
});

describe('boardFilterOptions', () => {
  it('offers every repo, skill and area, sorted and without repeats', () => {
    const snapshot = aSnapshot({
      tasks: [
        aTask({ repo: 'b/api', required_skills: ['TS', 'sql'], area: 'db' }),
        aTask({ repo: 'b/api', required_skills: ['ts'], area: null }),
      ],
      repos: [aRepo({ repo: 'a/empty' })],
    });
    expect(boardFilterOptions(snapshot)).toEqual({
      repos: ['a/empty', 'b/api'],
      skills: ['sql', 'ts'],
      areas: ['db'],
    });
  });
});

describe('boardDropAllowed and boardDropCause', () => {
  it('allows the admin moves of the lifecycle: requeue to ready, cancel, merge a PR', () => {
    expect(boardDropCause('in_progress', 'ready')).toBe('requeue');
    expect(boardDropCause('pr_opened', 'ready')).toBe('requeue');
    expect(boardDropCause('ready', 'cancelled')).toBe('cancel');
    expect(boardDropCause('blocked', 'cancelled')).toBe('cancel');
    expect(boardDropCause('pr_opened', 'merged')).toBe('merge');
  });

  it('refuses worker moves, system moves and anything out of a final status', () => {
    expect(boardDropAllowed('leased', 'in_progress')).toBe(false);
    expect(boardDropAllowed('ready', 'leased')).toBe(false);
    expect(boardDropAllowed('in_progress', 'merged')).toBe(false);
    expect(boardDropAllowed('ready', 'ready')).toBe(false);
    expect(boardDropAllowed('merged', 'ready')).toBe(false);
    expect(boardDropAllowed('cancelled', 'cancelled')).toBe(false);
    expect(boardDropAllowed('pr_opened', 'merged')).toBe(true);
  });
});
