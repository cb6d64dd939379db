import { describe, expect, it } from 'vitest';
import { myWork, workerActions } from './my-work.ts';
import { NOW, aSnapshot, aTask, minutesFromNow } from './testing/snapshot-builder.ts';

const kinds = (status: Parameters<typeof workerActions>[0]) =>
  workerActions(status).map((a) => a.kind);

describe('workerActions', () => {
  it('offers the moves the lifecycle allows a worker from each status', () => {
    expect(kinds('leased')).toEqual(['start', 'block', 'release']);
    expect(kinds('in_progress')).toEqual(['block', 'open_pr', 'release']);
    expect(kinds('blocked')).toEqual(['start', 'release']);
    expect(kinds('pr_opened')).toEqual(['merge', 'release']);
    expect(kinds('ready')).toEqual([]);
    expect(kinds('merged')).toEqual([]);
  });

  it('asks for a URL only when opening a PR', () => {
    expect(workerActions('in_progress')).toEqual([
      { kind: 'block', label: 'Blocked', target: 'blocked', needsUrl: false },
      { kind: 'open_pr', label: 'PR opened', target: 'pr_opened', needsUrl: true },
      { kind: 'release', label: 'Release', target: 'ready', needsUrl: false },
    ]);
  });
});

describe('myWork', () => {
  const snapshot = aSnapshot({
    tasks: [
      aTask({ task_id: 't_later', title: 'Later', status: 'in_progress' }),
      aTask({
        task_id: 't_soon',
        title: 'Soon',
        status: 'leased',
        lease: {
          lease_id: 'l_soon',
          epoch: 2,
          worker_id: 'w_alice',
          granted_at: minutesFromNow(-50),
          expires_at: minutesFromNow(5),
        },
      }),
      aTask({
        task_id: 't_review',
        title: 'In review',
        status: 'pr_opened',
        artifact: { pr_url: 'https://x.test/pull/3' },
      }),
      aTask({ task_id: 't_bobs', status: 'leased', assignee: 'w_bob' }),
      aTask({ task_id: 't_done', status: 'merged', assignee: 'w_alice' }),
      aTask({ task_id: 't_free', status: 'ready' }),
    ],
  });

  it('lists my held tasks and PRs, the lease soonest to expire first', () => {
    const items = myWork(snapshot, 'w_alice', NOW);
    expect(items.map((i) => i.taskId)).toEqual(['t_soon', 't_later', 't_review']);
    expect(items[0]).toMatchObject({
      title: 'Soon',
      status: 'leased',
      statusLabel: 'Leased',
      leaseId: 'l_soon',
      epoch: 2,
      leaseCountdown: '5m left',
      leaseExpired: false,
    });
    expect(items[2]).toMatchObject({
      statusLabel: 'PR opened',
      leaseCountdown: null,
      prUrl: 'https://x.test/pull/3',
    });
    expect(items[2]!.actions.map((a) => a.kind)).toEqual(['merge', 'release']);
  });

  it('counts down from the injected now and shows a lapsed lease', () => {
    const [soon] = myWork(snapshot, 'w_alice', NOW + 6 * 60_000);
    expect(soon).toMatchObject({ leaseCountdown: 'expired', leaseExpired: true });
  });

  it('is empty without a worker', () => {
    expect(myWork(snapshot, null, NOW)).toEqual([]);
  });
});
