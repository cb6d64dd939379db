import { describe, expect, it } from 'vitest';
import { analyticsRepos, analyticsSummary, pickRepo } from './analytics-summary.ts';
import { aReport } from './testing/report-builder.ts';
import { aRepo, aSnapshot } from './testing/snapshot-builder.ts';

const MINUTE = 60_000;

describe('the analytics summary', () => {
  it('lists the pool’s repos by key and keeps the one picked while it exists', () => {
    const repos = analyticsRepos(
      aSnapshot({ repos: [aRepo({ repo: 'owner/web' }), aRepo({ repo: 'demo' })] }),
    );
    expect(repos).toEqual(['demo', 'owner/web']);
    expect(pickRepo(repos, null)).toBe('demo');
    expect(pickRepo(repos, 'owner/web')).toBe('owner/web');
    expect(pickRepo(repos, 'deleted')).toBe('demo');
    expect(pickRepo([], null)).toBeNull();
  });

  it('says each figure in a few words, with what it was computed from', () => {
    const rows = analyticsSummary(
      aReport({
        tasks_completed: 4,
        lead_time: { median_ms: 26 * 60 * MINUTE + 5 * MINUTE, samples: 4 },
        cycle_time: { median_ms: 65 * MINUTE, samples: 1 },
        requeue_rate: { rate: 0.2, grants: 10, expired: 1, released: 1, requeued: 0 },
        offer_acceptance_rate: { rate: 0.75, accepted: 3, rejected: 1, expired: 0 },
        worker_utilization: { rate: 0.456, held_point_ms: 456, capacity_point_ms: 1000 },
        review_budget_saturation: { rate: 0.1, saturated_ms: 1, observed_ms: 10 },
      }),
    );
    expect(rows.map((r) => [r.label, r.value, r.detail])).toEqual([
      ['Merged', '4', 'tasks'],
      ['Lead time', '1d 2h', 'median, 4 tasks'],
      ['Cycle time', '1h 05m', 'median, 1 PR'],
      ['Requeued', '20%', '2 of 10 leases'],
      ['Offers accepted', '75%', '3 of 4'],
      ['Utilization', '46%', 'of online capacity'],
      ['Budget full', '10%', 'of the time'],
    ]);
  });

  it('shows a dash where there is nothing to measure', () => {
    const rows = analyticsSummary(aReport());
    expect(rows.map((r) => [r.value, r.detail])).toEqual([
      ['0', 'tasks'],
      ['–', 'no tasks'],
      ['–', 'no PRs'],
      ['–', '0 of 0 leases'],
      ['–', 'no offers'],
      ['–', 'of online capacity'],
      ['–', 'of the time'],
    ]);
  });
});
