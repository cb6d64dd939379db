import { describe, expect, it } from 'vitest';
import type { RepoAnalytics } from '../../protocol/analytics.ts';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { EngineHarness } from '../../scheduler/testing/engine-harness.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import { analyticsTiles, bucketPeriods, loadRepoAnalytics, trendSeries } from './repo-analytics.ts';

const NOW = Date.parse('2026-01-17T12:00:00Z');
const HOUR = 3_600_000;

function aReport(overrides: Partial<RepoAnalytics> = {}): RepoAnalytics {
  return {
    repo: 'acme/app',
    since: '2026-01-10T12:00:00.000Z',
    until: '2026-01-17T12:00:00.000Z',
    tasks_completed: 0,
    lead_time: { median_ms: null, samples: 0 },
    cycle_time: { median_ms: null, samples: 0 },
    requeue_rate: { rate: null, grants: 0, expired: 0, released: 0, requeued: 0 },
    offer_acceptance_rate: { rate: null, accepted: 0, rejected: 0, expired: 0 },
    worker_utilization: { rate: null, held_point_ms: 0, capacity_point_ms: 0 },
    review_budget_saturation: { rate: null, saturated_ms: 0, observed_ms: 0 },
    ...overrides,
  };
}

describe('repo analytics in the dashboard', () => {
  it('cuts a window into equal buckets ending now', () => {
    expect(bucketPeriods(NOW, '30 d')).toEqual([
      { since: '2025-12-18T12:00:00.000Z', until: '2025-12-23T12:00:00.000Z' },
      { since: '2025-12-23T12:00:00.000Z', until: '2025-12-28T12:00:00.000Z' },
      { since: '2025-12-28T12:00:00.000Z', until: '2026-01-02T12:00:00.000Z' },
      { since: '2026-01-02T12:00:00.000Z', until: '2026-01-07T12:00:00.000Z' },
      { since: '2026-01-07T12:00:00.000Z', until: '2026-01-12T12:00:00.000Z' },
      { since: '2026-01-12T12:00:00.000Z', until: '2026-01-17T12:00:00.000Z' },
    ]);
    expect(bucketPeriods(NOW, '7 d')).toHaveLength(7);
  });

  it('shows each figure with what it was computed from', () => {
    const tiles = analyticsTiles(
      aReport({
        tasks_completed: 3,
        lead_time: { median_ms: 26 * HOUR + 20 * 60_000, samples: 3 },
        cycle_time: { median_ms: 40 * 60_000, samples: 1 },
        requeue_rate: { rate: 0.25, grants: 8, expired: 1, released: 1, requeued: 0 },
        worker_utilization: { rate: 0.4, held_point_ms: 4, capacity_point_ms: 10 },
        review_budget_saturation: { rate: 1 / 3, saturated_ms: 2 * HOUR, observed_ms: 6 * HOUR },
      }),
    );
    expect(tiles.map((t) => [t.label, t.value, t.detail])).toEqual([
      ['Completed', '3', 'tasks merged'],
      ['Lead time', '1 d 2 h', 'median of 3 tasks'],
      ['Cycle time', '40 min', 'median of 1 PR'],
      ['Requeue rate', '25%', '2 of 8 leases back to the queue'],
      ['Offer acceptance', '—', 'no offers yet'],
      ['Worker utilization', '40%', 'of the online capacity'],
      ['Budget full', '33%', '2 h of 6 h'],
    ]);
    expect(analyticsTiles(aReport()).find((t) => t.key === 'lead')).toMatchObject({
      value: '—',
      detail: 'no tasks yet',
    });
  });

  it('puts each bucket at its start, with its medians in hours', () => {
    const series = trendSeries([
      aReport({
        since: '2026-01-10T12:00:00.000Z',
        tasks_completed: 2,
        lead_time: { median_ms: 90 * 60_000, samples: 2 },
      }),
      aReport({ since: '2026-01-11T12:00:00.000Z', cycle_time: { median_ms: HOUR, samples: 1 } }),
    ]);
    expect(series).toEqual({
      t: [Date.parse('2026-01-10T12:00:00Z') / 1000, Date.parse('2026-01-11T12:00:00Z') / 1000],
      completed: [2, 0],
      leadHours: [1.5, null],
      cycleHours: [null, 1],
    });
  });

  it('loads the window and each bucket from the API', async () => {
    const h = new EngineHarness(new BetterSqlite3Driver({ path: ':memory:' }));
    h.repo({ repo: 'acme/app' });
    const alice = h.onlineWorker({ name: 'Alice' });
    const task = h.task({ repo: 'acme/app' });
    h.engine.updateStatus(alice, task.task_id, { status: 'in_progress' });
    h.clock.advance(20 * 60_000);
    h.engine.updateStatus(alice, task.task_id, { status: 'pr_opened' });
    h.engine.markMerged(task.task_id);
    h.clock.advance(HOUR);
    const view = await loadRepoAnalytics(
      new LocalOwpApi(h.engine, { admin: true }),
      'acme/app',
      '7 d',
      h.clock.now(),
    );
    expect(view.total).toMatchObject({
      until: '2026-01-17T13:20:00.000Z',
      tasks_completed: 1,
      lead_time: { median_ms: 20 * 60_000 },
    });
    expect(view.buckets.map((b) => b.tasks_completed)).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });
});
