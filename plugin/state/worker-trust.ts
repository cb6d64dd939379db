import {
  TRUST_TIER_LABELS,
  TRUST_TIERS,
  TrustTierRequest,
  type TrustTier,
} from '../../protocol/index.ts';

/** The tiers in the order a picker lists them, least trusted first. */
export const TRUST_TIER_CHOICES: { value: TrustTier; label: string }[] = TRUST_TIERS.map(
  (value) => ({ value, label: TRUST_TIER_LABELS[value] }),
);

/**
 * The trust-tier change a form describes, or what is wrong with it. The reason is required: the
 * audit log keeps it with the change. Picking the tier the worker already has is refused here,
 * since the pool would take it silently and the admin would think something changed.
 */
export function trustTierChange(
  worker: { name: string; trustTier: TrustTier },
  tier: string,
  reason: string,
): { ok: true; request: TrustTierRequest } | { ok: false; problem: string } {
  if (!(TRUST_TIERS as readonly string[]).includes(tier)) {
    return { ok: false, problem: 'Pick a trust tier.' };
  }
  if (tier === worker.trustTier) {
    return {
      ok: false,
      problem: `${worker.name} is already ${TRUST_TIER_LABELS[worker.trustTier]}; pick another tier.`,
    };
  }
  if (reason.trim() === '') {
    return { ok: false, problem: 'Give a reason: the audit log keeps it with the change.' };
  }
  const parsed = TrustTierRequest.safeParse({ tier, reason });
  if (!parsed.success) {
    return { ok: false, problem: 'Keep the reason to 1,000 characters or fewer.' };
  }
  return { ok: true, request: parsed.data };
}
