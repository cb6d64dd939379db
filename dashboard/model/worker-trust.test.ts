import { describe, expect, it } from 'vitest';
import { aWorker } from './testing/builders.ts';
import { reputationTooltip, toTrustTierRequest } from './worker-trust.ts';

const alice = aWorker('w_alice', { name: 'alice', trust_tier: 'basic' });

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
      errors: { reason: 'must be at most 1000 characters' },
    });
  });
});

describe('reputation tooltip', () => {
  it('gives the score, two decimals, and its counts as a tooltip from the worker list', () => {
    const worker = aWorker('w_1', {
      reputation: 0.6249,
      tasks_completed: 4,
      leases_expired: 1,
      leases_released: 2,
    });
    expect(reputationTooltip(worker)).toBe('Reputation 0.62 from 4 merged, 1 expired, 2 released');
  });
});
