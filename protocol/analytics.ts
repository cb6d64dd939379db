import { z } from 'zod';
import { RepoKey, Timestamp } from './common.ts';

/** How far back a period reaches when the query does not say: 30 days. */
export const DEFAULT_ANALYTICS_PERIOD_MS = 30 * 24 * 3600_000;

/**
 * `GET /v1/analytics/repositories/{repo}` — the period to report on. Without `since` it starts 30
 * days before `until`; without `until` it ends now (just after, so this millisecond counts).
 * `since` is inclusive, `until` exclusive.
 */
export const AnalyticsQuery = z
  .object({
    since: Timestamp.optional().describe(
      'Start of the period, inclusive (ISO 8601); default 30 days before `until`.',
    ),
    until: Timestamp.optional().describe('End of the period, exclusive (ISO 8601); default now.'),
  })
  .meta({ id: 'AnalyticsQuery' });
export type AnalyticsQuery = z.input<typeof AnalyticsQuery>;
export type AnalyticsFilter = z.output<typeof AnalyticsQuery>;

/** A median over some samples, in milliseconds; null when there were none. */
const MedianMs = z.object({
  median_ms: z.int().nullable(),
  samples: z.int(),
});

export const RepoAnalytics = z
  .object({
    repo: RepoKey,
    since: Timestamp,
    until: Timestamp,
    /** Tasks merged in the period. */
    tasks_completed: z.int(),
    /** Created (ready) → merged, over the tasks merged in the period. */
    lead_time: MedianMs,
    /** Lease granted → PR opened, over the PRs opened in the period (paired by lease). */
    cycle_time: MedianMs,
    /** Work handed back (expired, released, requeued by an admin) per lease granted. */
    requeue_rate: z.object({
      rate: z.number().nullable(),
      grants: z.int(),
      expired: z.int(),
      released: z.int(),
      requeued: z.int(),
    }),
    /** Offers accepted out of those answered or lapsed in the period; null when there were none. */
    offer_acceptance_rate: z.object({
      rate: z.number().nullable(),
      accepted: z.int(),
      rejected: z.int(),
      expired: z.int(),
    }),
    /**
     * The share of the points capacity of the workers online in the period that this repo's
     * tasks held, both as point-milliseconds.
     */
    worker_utilization: z.object({
      rate: z.number().nullable(),
      held_point_ms: z.int(),
      capacity_point_ms: z.int(),
    }),
    /** The share of the time the repo existed in the period that its review budget was full. */
    review_budget_saturation: z.object({
      rate: z.number().nullable(),
      saturated_ms: z.int(),
      observed_ms: z.int(),
    }),
  })
  .meta({ id: 'RepoAnalytics' });
export type RepoAnalytics = z.infer<typeof RepoAnalytics>;
