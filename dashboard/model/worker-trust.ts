import { TRUST_TIERS, type TrustTier } from '../../protocol/common.ts';
import { TrustTierRequest, type Worker, type WorkerReputation } from '../../protocol/workers.ts';
import type { FormResult } from './form-values.ts';

export const TRUST_TIER_LABELS: Record<TrustTier, string> = {
  untrusted: 'Untrusted',
  basic: 'Basic',
  trusted: 'Trusted',
  maintainer: 'Maintainer',
};

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
            : (parsed.error.issues[0]?.message ?? 'not a valid reason'),
      },
    };
  }
  return { ok: true, value: parsed.data };
}

/** A reputation score as the panel shows it: `0.62`. */
export const formatReputation = (score: number): string => score.toFixed(2);

/** The score's tooltip, from what the worker list already carries. */
export function reputationTooltip(worker: Worker): string {
  return (
    `Reputation ${formatReputation(worker.reputation)} from ${worker.tasks_completed} completed, ` +
    `${worker.leases_expired} expired, ${worker.leases_released} released`
  );
}

/** One of the three rates the score combines, with the counts it comes from. */
export interface ReputationLine {
  label: string;
  rate: string;
  from: string;
}

const percent = (rate: number) => `${Math.round(rate * 100)}%`;
const NO_HISTORY = 'no history yet, counted as 50%';

/** The breakdown the expanded row shows, from `GET /v1/workers/{id}/reputation`. */
export function reputationLines(r: WorkerReputation): ReputationLine[] {
  const ended = r.tasks_completed + r.leases_expired + r.leases_released + r.tasks_requeued;
  const answered = r.offers_accepted + r.offers_rejected + r.offers_expired;
  return [
    {
      label: 'Completion',
      rate: percent(r.completion_rate),
      from:
        ended === 0
          ? NO_HISTORY
          : `${r.tasks_completed} completed · ${r.leases_expired} expired · ` +
            `${r.leases_released} released · ${r.tasks_requeued} requeued`,
    },
    {
      label: 'On time',
      rate: percent(r.on_time_rate),
      from:
        r.prs_opened === 0
          ? NO_HISTORY
          : `${r.prs_on_time} of ${r.prs_opened} PR${r.prs_opened === 1 ? '' : 's'} opened before the first lease ran out`,
    },
    {
      label: 'Offer acceptance',
      rate: percent(r.offer_acceptance_rate),
      from:
        answered === 0
          ? NO_HISTORY
          : `${r.offers_accepted} accepted · ${r.offers_rejected} rejected · ${r.offers_expired} expired`,
    },
  ];
}
