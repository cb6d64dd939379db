import { describe, expect, it } from 'vitest';
import {
  boardColumns,
  boardDropAllowed,
  boardDropCause,
  boardFilterOptions,
  failureText,
} from './board.ts';
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
  it('has one column per status, open work first, then failed, then done; sentence-case titles', () => {
    const columns = boardColumns(aSnapshot(), {}, NOW);
    expect(columns.map((c) => c.status)).toEqual([
      'ready',
      'offered',
      'leased',
      'in_progress',
      'blocked',
      'pr_opened',
      'failed',
      'merged',
      'cancelled',
    ]);
    expect(columns.map((c) => c.title)).toEqual([
      'Ready',
      'Offered',
      'Leased',
      'In progress',
      'Blocked',
      'PR opened',
      'Failed',
      'Merged',
      'Cancelled',
    ]);
  });

  it('leaves out an empty failed column, and an empty offered one unless a repo offers work', () => {
    const hidden = (snapshot: Parameters<typeof boardColumns>[0]) =>
      boardColumns(snapshot, {}, NOW)
        .filter((c) => c.hideWhenEmpty)
        .map((c) => c.status);
    expect(hidden(aSnapshot({ repos: [aRepo({ assignment: 'lease' })] }))).toEqual([
      'offered',
      'failed',
    ]);
    expect(hidden(aSnapshot({ repos: [aRepo({ assignment: 'offer' })] }))).toEqual(['failed']);
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
        waitingOn: 0,
        dependsOn: [],
        blocks: [],
        dependencySummary: null,
        failure: null,
      },
    ]);
  });

  it('shows what blocks what: a card waits on the unmerged tasks it names and blocks its dependents', () => {
    const snapshot = aSnapshot({
      tasks: [
        aTask({ task_id: 't_schema', title: 'Schema', status: 'in_progress' }),
        aTask({ task_id: 't_seed', title: 'Seed data', status: 'merged' }),
        aTask({
          task_id: 't_api',
          title: 'API',
          depends_on: ['t_schema', 't_seed', 't_gone'],
          dependencies_pending: 2,
          created_at: minutesFromNow(-30),
        }),
        aTask({
          task_id: 't_ui',
          title: 'UI',
          depends_on: ['t_api'],
          dependencies_pending: 1,
          created_at: minutesFromNow(-20),
        }),
        aTask({
          task_id: 't_docs',
          title: 'Docs',
          status: 'cancelled',
          depends_on: ['t_api'],
          dependencies_pending: 1,
        }),
      ],
    });
    const card = (id: string) =>
      boardColumns(snapshot, {}, NOW)
        .flatMap((c) => c.cards)
        .find((c) => c.taskId === id)!;

    expect(card('t_api')).toMatchObject({
      waitingOn: 2,
      dependsOn: [
        { taskId: 't_schema', title: 'Schema', status: 'in_progress', state: 'pending' },
        { taskId: 't_seed', title: 'Seed data', status: 'merged', state: 'met' },
        { taskId: 't_gone', title: null, status: null, state: 'unknown' },
      ],
      blocks: [{ taskId: 't_ui', title: 'UI', status: 'ready', state: 'pending' }],
      dependencySummary: 'Waits on “Schema” (in progress), t_gone. Blocks “UI” (ready).',
    });
    expect(card('t_schema')).toMatchObject({
      waitingOn: 0,
      dependsOn: [],
      blocks: [{ taskId: 't_api', title: 'API', status: 'ready', state: 'pending' }],
      dependencySummary: 'Blocks “API” (ready).',
    });
    // A merged task blocks nothing any more.
    expect(card('t_seed')).toMatchObject({ blocks: [], dependencySummary: null });
  });

  it('says why a failed task stopped: its attempts against its own limit, else its repo’s', () => {
    const snapshot = aSnapshot({
      tasks: [
        aTask({ task_id: 't_own', status: 'failed', attempts: 2, max_attempts: 2 }),
        aTask({ task_id: 't_repo', status: 'failed', attempts: 3 }),
        aTask({ task_id: 't_ready', attempts: 1 }),
      ],
      repos: [aRepo({ repo: 'demo', max_attempts: 3 })],
    });
    const columns = boardColumns(snapshot, {}, NOW);
    expect(cardsOf(columns, 'failed').map((c) => [c.taskId, c.failure])).toEqual([
      ['t_own', 'Out of attempts: 2 of 2 used'],
      ['t_repo', 'Out of attempts: 3 of 3 used'],
    ]);
    expect(cardsOf(columns, 'ready')[0]!.failure).toBeNull();
    expect(failureText(aTask({ status: 'failed', attempts: 4 }), undefined)).toBe(
      'Out of attempts: 4 used',
    );
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
    expect(boardDropCause('failed', 'ready')).toBe('requeue');
    expect(boardDropCause('failed', 'cancelled')).toBe('cancel');
    expect(boardDropCause('offered', 'cancelled')).toBe('cancel');
    expect(boardDropCause('in_progress', 'ready')).toBe('requeue');
    expect(boardDropCause('pr_opened', 'ready')).toBe('requeue');
    expect(boardDropCause('ready', 'cancelled')).toBe('cancel');
    expect(boardDropCause('blocked', 'cancelled')).toBe('cancel');
    expect(boardDropCause('pr_opened', 'merged')).toBe('merge');
  });

  it('refuses worker moves, system moves and anything out of a final status', () => {
    expect(boardDropAllowed('leased', 'in_progress')).toBe(false);
    expect(boardDropAllowed('ready', 'leased')).toBe(false);
    expect(boardDropAllowed('offered', 'ready')).toBe(false); // the worker's to decline
    expect(boardDropAllowed('ready', 'failed')).toBe(false);
    expect(boardDropAllowed('in_progress', 'merged')).toBe(false);
    expect(boardDropAllowed('ready', 'ready')).toBe(false);
    expect(boardDropAllowed('merged', 'ready')).toBe(false);
    expect(boardDropAllowed('cancelled', 'cancelled')).toBe(false);
    expect(boardDropAllowed('pr_opened', 'merged')).toBe(true);
  });
});
