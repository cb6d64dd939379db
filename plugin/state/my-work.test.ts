import { describe, expect, it } from 'vitest';
import type { WorkOffer } from '../../protocol/index.ts';
import { REJECT_REASONS, myOffers, myWork, offerRejection, workerActions } from './my-work.ts';
import { NOW, aSnapshot, aTask, minutesFromNow } from './testing/snapshot-builder.ts';

function anOffer(fields: Partial<WorkOffer> = {}): WorkOffer {
  return {
    offer_id: 'o_1',
    task_id: 't_1',
    repo: 'acme/web',
    title: 'Fix the header',
    description: '',
    estimate_points: 2,
    priority: 10,
    area: 'ui',
    tier: 1,
    required_skills: ['css'],
    offered_at: minutesFromNow(-5),
    expires_at: minutesFromNow(10),
    contract: null,
    ...fields,
  };
}

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

describe('myOffers', () => {
  it('lists open offers, the one soonest to run out first, with the repo’s contract', () => {
    const snapshot = aSnapshot({
      offers: [
        anOffer({ offer_id: 'o_later', task_id: 't_later', expires_at: minutesFromNow(40) }),
        anOffer({
          offer_id: 'o_soon',
          task_id: 't_soon',
          title: 'Soon',
          expires_at: minutesFromNow(3),
          contract: { setup: 'npm ci', test: 'npm test', pr_template: null },
        }),
        anOffer({ offer_id: 'o_gone', expires_at: minutesFromNow(-1) }),
      ],
    });
    expect(myOffers(snapshot, NOW)).toEqual([
      {
        offerId: 'o_soon',
        taskId: 't_soon',
        title: 'Soon',
        repo: 'acme/web',
        points: 2,
        priority: 10,
        area: 'ui',
        skills: ['css'],
        tier: 1,
        expiresIn: '3m left',
        contract: [
          { key: 'setup', label: 'Setup', text: 'npm ci', kind: 'code' },
          { key: 'test', label: 'Test', text: 'npm test', kind: 'code' },
        ],
      },
      expect.objectContaining({ offerId: 'o_later', expiresIn: '40m left', contract: [] }),
    ]);
  });

  it('drops an offer once its time is up', () => {
    const snapshot = aSnapshot({ offers: [anOffer({ expires_at: minutesFromNow(10) })] });
    expect(myOffers(snapshot, NOW + 10 * 60_000)).toEqual([]);
  });
});

describe('offerRejection', () => {
  it('offers the protocol’s reasons, in words', () => {
    expect(REJECT_REASONS).toEqual([
      { value: 'insufficient_time', label: 'Not enough time' },
      { value: 'unclear_requirements', label: 'The requirements are unclear' },
      { value: 'skill_mismatch', label: 'Not my skills' },
      { value: 'other', label: 'Another reason' },
    ]);
  });

  it('needs a reason; the message is optional, trimmed, and at most 1,000 characters', () => {
    expect(offerRejection(null, 'busy')).toEqual({
      ok: false,
      problem: 'Pick a reason for turning the offer down.',
    });
    expect(offerRejection('bored', '')).toMatchObject({ ok: false });
    expect(offerRejection('skill_mismatch', '  ')).toEqual({
      ok: true,
      request: { reason: 'skill_mismatch', message: null },
    });
    expect(offerRejection('other', ' On leave this week ')).toEqual({
      ok: true,
      request: { reason: 'other', message: 'On leave this week' },
    });
    expect(offerRejection('other', 'x'.repeat(1001))).toEqual({
      ok: false,
      problem: 'Keep the message to 1,000 characters or fewer.',
    });
  });
});
