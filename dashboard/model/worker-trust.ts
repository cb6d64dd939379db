import { TRUST_TIERS, type TrustTier } from '../../protocol/common.ts';
import { plainIssue } from '../../protocol/issue-text.ts';
import { reputationText } from '../../protocol/worker-text.ts';
import { TrustTierRequest, type Worker } from '../../protocol/workers.ts';
import type { FormResult } from './form-values.ts';

/** The tiers in the order the select lists them, least trusted first. */
export const TRUST_TIER_ORDER: readonly TrustTier[] = TRUST_TIERS;

/**
 * The trust-tier change the admin's form describes. The server takes a change to the same tier
 * silently, so the form says so instead; the reason is required, since the audit log keeps it.
 */
export function toTrustTierRequest(
  worker: Pick<Worker, 'name' | 'trust_tier'>,
  tier: TrustTier,
  reason: string,
): FormResult<TrustTierRequest> {
  if (tier === worker.trust_tier) {
    return { ok: false, errors: { tier: `${worker.name} is already ${tier}: pick another tier` } };
  }
  const parsed = TrustTierRequest.safeParse({ tier, reason });
  if (!parsed.success) {
    return {
      ok: false,
      errors: {
        reason:
          reason.trim() === ''
            ? 'give a reason: the audit log keeps it with the change'
            : parsed.error.issues[0]
              ? plainIssue(parsed.error.issues[0], { tier, reason })
              : 'not a valid reason',
      },
    };
  }
  return { ok: true, value: parsed.data };
}

/** The score's tooltip, from what the worker list already carries. */
export function reputationTooltip(worker: Worker): string {
  return (
    `Reputation ${reputationText(worker.reputation)} from ${worker.tasks_completed} merged, ` +
    `${worker.leases_expired} expired, ${worker.leases_released} released`
  );
}
