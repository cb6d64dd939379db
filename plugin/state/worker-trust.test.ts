import { describe, expect, it } from 'vitest';
import type { WorkerReputation } from '../../protocol/index.ts';
import { TRUST_TIER_CHOICES, reputationLines, trustTierChange } from './worker-trust.ts';

const alice = { name: 'Alice', trustTier: 'basic' as const };

describe('trustTierChange', () => {
  it('lists the tiers least trusted first', () => {
    expect(TRUST_TIER_CHOICES.map((c) => c.label)).toEqual([
      'Untrusted',
      'Basic',
      'Trusted',
      'Maintainer',
    ]);
  });

  it('sends the tier with its reason, trimmed', () => {
    expect(trustTierChange(alice, 'trusted', '  Ten clean PRs ')).toEqual({
      ok: true,
      request: { tier: 'trusted', reason: 'Ten clean PRs' },
    });
  });

  it('says what is wrong: no tier, the same tier, no reason, a reason too long', () => {
    expect(trustTierChange(alice, '', 'x')).toEqual({ ok: false, problem: 'Pick a trust tier.' });
    expect(trustTierChange(alice, 'basic', 'x')).toEqual({
      ok: false,
      problem: 'Alice is already Basic; pick another tier.',
    });
    expect(trustTierChange(alice, 'untrusted', '   ')).toEqual({
      ok: false,
      problem: 'Give a reason: the audit log keeps it with the change.',
    });
    expect(trustTierChange(alice, 'untrusted', 'x'.repeat(1001))).toEqual({
      ok: false,
      problem: 'Keep the reason to 1,000 characters or fewer.',
    });
  });
});

describe('reputationLines', () => {
  const reputation: WorkerReputation = {
    worker_id: 'w_alice',
    trust_tier: 'basic',
    reputation: 0.66,
    completion_rate: 0.625,
    on_time_rate: 0.75,
    offer_acceptance_rate: 0.5,
    tasks_completed: 4,
    leases_expired: 1,
    leases_released: 1,
    tasks_requeued: 0,
    prs_opened: 2,
    prs_on_time: 2,
    offers_accepted: 0,
    offers_rejected: 0,
    offers_expired: 0,
    formula: '0.6 × completion + 0.25 × on_time + 0.15 × offer_acceptance',
  };

  it('gives each rate with the counts behind it, and says when there is no history', () => {
    expect(reputationLines(reputation)).toEqual([
      {
        label: 'Completion',
        rate: '63%',
        from: '4 merged · 1 expired · 1 released · 0 requeued',
      },
      { label: 'On time', rate: '75%', from: '2 of 2 PRs before the lease first ran out' },
      { label: 'Offer acceptance', rate: '50%', from: 'no history yet, counted as 50%' },
    ]);
  });
});
