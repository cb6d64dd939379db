import { describe, expect, it } from 'vitest';
import { TRUST_TIER_LABELS, reputationLines, reputationText } from './worker-text.ts';
import type { WorkerReputation } from './workers.ts';

function aReputation(overrides: Partial<WorkerReputation> = {}): WorkerReputation {
  return {
    worker_id: 'w_alice',
    trust_tier: 'basic',
    reputation: 0.5,
    completion_rate: 0.5,
    on_time_rate: 0.5,
    offer_acceptance_rate: 0.5,
    tasks_completed: 0,
    leases_expired: 0,
    leases_released: 0,
    tasks_requeued: 0,
    prs_opened: 0,
    prs_on_time: 0,
    offers_accepted: 0,
    offers_rejected: 0,
    offers_expired: 0,
    formula: 'reputation = …',
    ...overrides,
  };
}

describe('trust tiers and reputation in words', () => {
  it('names every tier, and shows a score with two decimals', () => {
    expect(Object.values(TRUST_TIER_LABELS)).toEqual([
      'Untrusted',
      'Basic',
      'Trusted',
      'Maintainer',
    ]);
    expect(reputationText(0.6249)).toBe('0.62');
    expect(reputationText(1)).toBe('1.00');
  });

  it('breaks the score into its three rates and the counts behind each', () => {
    const lines = reputationLines(
      aReputation({
        completion_rate: 0.7142857,
        on_time_rate: 0.75,
        offer_acceptance_rate: 0.4,
        tasks_completed: 4,
        leases_expired: 1,
        leases_released: 0,
        tasks_requeued: 0,
        prs_opened: 2,
        prs_on_time: 2,
        offers_accepted: 1,
        offers_rejected: 1,
        offers_expired: 1,
      }),
    );
    expect(lines).toEqual([
      {
        label: 'Completion',
        rate: '71%',
        from: '4 merged · 1 expired · 0 released · 0 requeued',
      },
      { label: 'On time', rate: '75%', from: '2 of 2 PRs opened before the first lease ran out' },
      { label: 'Offer acceptance', rate: '40%', from: '1 accepted · 1 rejected · 1 expired' },
    ]);
  });

  it('says when a rate has no history yet (smoothed to one half)', () => {
    expect(reputationLines(aReputation()).map((line) => `${line.rate} ${line.from}`)).toEqual([
      '50% no history yet, counted as 50%',
      '50% no history yet, counted as 50%',
      '50% no history yet, counted as 50%',
    ]);
    expect(reputationLines(aReputation({ prs_opened: 1, on_time_rate: 1 / 3 }))[1]).toEqual({
      label: 'On time',
      rate: '33%',
      from: '0 of 1 PR opened before the first lease ran out',
    });
  });
});
