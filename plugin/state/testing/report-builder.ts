import type { RepoAnalytics } from '../../../protocol/index.ts';

/** A repo analytics report with nothing measured; tests fill in what they look at. */
export function aReport(fields: Partial<RepoAnalytics> = {}): RepoAnalytics {
  return {
    repo: 'demo',
    since: '2025-12-18T12:00:00.000Z',
    until: '2026-01-17T12:00:00.000Z',
    tasks_completed: 0,
    lead_time: { median_ms: null, samples: 0 },
    cycle_time: { median_ms: null, samples: 0 },
    requeue_rate: { rate: null, grants: 0, expired: 0, released: 0, requeued: 0 },
    offer_acceptance_rate: { rate: null, accepted: 0, rejected: 0, expired: 0 },
    worker_utilization: { rate: null, held_point_ms: 0, capacity_point_ms: 0 },
    review_budget_saturation: { rate: null, saturated_ms: 0, observed_ms: 0 },
    ...fields,
  };
}
