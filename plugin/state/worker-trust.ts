import {
  TRUST_TIERS,
  TrustTierRequest,
  type TrustTier,
  type WorkerReputation,
} from '../../protocol/index.ts';

/** Trust tiers as the views name them. */
export const TRUST_TIER_LABELS: Record<TrustTier, string> = {
  untrusted: 'Untrusted',
  basic: 'Basic',
  trusted: 'Trusted',
  maintainer: 'Maintainer',
};

/** The tiers in the order a picker lists them, least trusted first. */
export const TRUST_TIER_CHOICES: { value: TrustTier; label: string }[] = TRUST_TIERS.map(
  (value) => ({ value, label: TRUST_TIER_LABELS[value] }),
);

/** A reputation score as the views show it: `0.62`. */
export const reputationText = (score: number): string => score.toFixed(2);

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

/** One of the three rates a reputation combines, with the counts behind it. */
export interface ReputationLine {
  label: string;
  rate: string;
  from: string;
}

const percent = (rate: number) => `${Math.round(rate * 100)}%`;
const NO_HISTORY = 'no history yet, counted as 50%';

/** The breakdown of `GET /v1/workers/{id}/reputation`, for the admin deciding on a tier. */
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
          : `${r.tasks_completed} merged · ${r.leases_expired} expired · ` +
            `${r.leases_released} released · ${r.tasks_requeued} requeued`,
    },
    {
      label: 'On time',
      rate: percent(r.on_time_rate),
      from:
        r.prs_opened === 0
          ? NO_HISTORY
          : `${r.prs_on_time} of ${r.prs_opened} PR${r.prs_opened === 1 ? '' : 's'} before the lease first ran out`,
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
