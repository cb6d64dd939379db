import { describe, expect, it } from 'vitest';
import { TRUST_TIER_CHOICES, trustTierChange } from './worker-trust.ts';

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
