/**
 * A worker's trust tier and reputation in words, as the web dashboard and the Obsidian views both
 * show them: one wording, so an admin reads the same thing in either.
 */
import type { TrustTier } from './common.ts';
import type { WorkerReputation } from './workers.ts';

export const TRUST_TIER_LABELS: Record<TrustTier, string> = {
  untrusted: 'Untrusted',
  basic: 'Basic',
  trusted: 'Trusted',
  maintainer: 'Maintainer',
};

/** A reputation score as the views show it: `0.62`. */
export const reputationText = (score: number): string => score.toFixed(2);

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
