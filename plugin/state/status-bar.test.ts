import { describe, expect, it } from 'vitest';
import { statusBarText } from './status-bar.ts';
import { aRepo, aSnapshot, aTask, aWorker } from './testing/snapshot-builder.ts';

describe('statusBarText', () => {
  const pool = {
    workers: [
      aWorker({ worker_id: 'w_1' }),
      aWorker({ worker_id: 'w_2' }),
      aWorker({ worker_id: 'w_3' }),
      aWorker({ worker_id: 'w_4', online: false }),
    ],
    tasks: [
      ...Array.from({ length: 5 }, () => aTask({ status: 'ready' })),
      aTask({ status: 'leased' }),
    ],
    repos: [
      aRepo({ repo: 'a', open_prs: 2, max_open_prs: 2 }),
      aRepo({ repo: 'b', max_open_prs: 1 }),
    ],
  };

  it('counts workers online, ready tasks, and open PRs over the total review budget', () => {
    expect(statusBarText(aSnapshot(pool))).toBe('3 online · 5 ready · 2/3 PRs');
  });

  it('says when the numbers are the last known ones', () => {
    expect(statusBarText(aSnapshot({ ...pool, connection: 'offline' }))).toBe(
      'Offline · 3 online · 5 ready · 2/3 PRs',
    );
  });

  it('shows a worker its own tasks and PRs', () => {
    const snapshot = aSnapshot({
      scope: 'worker',
      me: 'w_alice',
      tasks: [
        aTask({ status: 'leased' }),
        aTask({ status: 'in_progress' }),
        aTask({ status: 'pr_opened' }),
      ],
    });
    expect(statusBarText(snapshot)).toBe('2 tasks · 1 PR open');
  });

  it('says when it is loading or cannot reach the pool', () => {
    expect(statusBarText(aSnapshot({ phase: 'loading' }))).toBe('OWP: loading…');
    expect(statusBarText(aSnapshot({ phase: 'failed' }))).toBe('OWP: pool unreachable');
  });
});
