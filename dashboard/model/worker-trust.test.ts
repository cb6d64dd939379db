import { describe, expect, it } from 'vitest';
import type { WorkerReputation } from '../../protocol/workers.ts';
import { aWorker } from './testing/builders.ts';
import {
  formatReputation,
  reputationLines,
  reputationTooltip,
  toTrustTierRequest,
} from './worker-trust.ts';

const alice = aWorker('w_alice', { name: 'alice', trust_tier: 'basic' });

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

describe("changing a worker's trust tier", () => {
  it('sends the tier with the reason, trimmed', () => {
    expect(toTrustTierRequest(alice, 'trusted', '  two years of merged PRs ')).toEqual({
      ok: true,
      value: { tier: 'trusted', reason: 'two years of merged PRs' },
    });
  });

  it('asks for a reason, and for a tier other than the current one', () => {
    expect(toTrustTierRequest(alice, 'trusted', '   ')).toEqual({
      ok: false,
      errors: { reason: 'give a reason: the audit log keeps it with the change' },
    });
    expect(toTrustTierRequest(alice, 'basic', 'no change')).toEqual({
      ok: false,
      errors: { tier: 'alice is already basic: pick another tier' },
    });
  });

  it('refuses a reason longer than the protocol allows', () => {
    expect(toTrustTierRequest(alice, 'untrusted', 'x'.repeat(1001))).toEqual({
      ok: false,
      errors: { reason: 'Too big: expected string to have <=1000 characters' },
    });
  });
});

describe('reputation', () => {
  it('shows the score with two decimals and a tooltip from the worker list', () => {
    const worker = aWorker('w_1', {
      reputation: 0.6249,
      tasks_completed: 4,
      leases_expired: 1,
      leases_released: 2,
    });
    expect(formatReputation(worker.reputation)).toBe('0.62');
    expect(reputationTooltip(worker)).toBe(
      'Reputation 0.62 from 4 completed, 1 expired, 2 released',
    );
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
        from: '4 completed · 1 expired · 0 released · 0 requeued',
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
