import type { RepoAnalytics } from '../../protocol/analytics.ts';
import type { OwpApi } from '../../protocol/api.ts';
import { formatSpan } from './time-format.ts';

const DAY = 86_400_000;

/** The periods the analytics view offers, each split into buckets for its trend charts. */
export const ANALYTICS_WINDOWS = {
  '7 d': { days: 7, buckets: 7 },
  '30 d': { days: 30, buckets: 6 },
  '90 d': { days: 90, buckets: 9 },
} as const;
export type AnalyticsWindow = keyof typeof ANALYTICS_WINDOWS;

export interface Period {
  since: string;
  until: string;
}

/** The window ending at `now`, cut into equal consecutive buckets, oldest first. */
export function bucketPeriods(now: number, window: AnalyticsWindow): Period[] {
  const { days, buckets } = ANALYTICS_WINDOWS[window];
  const size = (days * DAY) / buckets;
  const start = now - days * DAY;
  return Array.from({ length: buckets }, (_, i) => ({
    since: new Date(start + i * size).toISOString(),
    until: new Date(i === buckets - 1 ? now : start + (i + 1) * size).toISOString(),
  }));
}

/** The whole window's figures and each bucket's, for the tiles and the trend charts. */
export interface RepoAnalyticsView {
  repo: string;
  window: AnalyticsWindow;
  total: RepoAnalytics;
  buckets: RepoAnalytics[];
}

/**
 * Asks the server for the window and for each of its buckets, all at once. Medians do not add
 * up, so each bucket is its own request rather than a share of the total.
 */
export async function loadRepoAnalytics(
  api: Pick<OwpApi, 'repoAnalytics'>,
  repo: string,
  window: AnalyticsWindow,
  now: number,
): Promise<RepoAnalyticsView> {
  const periods = bucketPeriods(now, window);
  const whole = { since: periods[0]!.since, until: periods.at(-1)!.until };
  const [total, ...buckets] = await Promise.all(
    [whole, ...periods].map((period) => api.repoAnalytics(repo, period)),
  );
  return { repo, window, total: total!, buckets };
}

/** One figure as a tile shows it. */
export interface AnalyticsTile {
  key: string;
  label: string;
  value: string;
  detail: string;
}

const percent = (rate: number | null) => (rate === null ? '—' : `${Math.round(rate * 100)}%`);
const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The figures of a report, each with what it was computed from. */
export function analyticsTiles(report: RepoAnalytics): AnalyticsTile[] {
  const { requeue_rate: requeues, offer_acceptance_rate: offers } = report;
  const handedBack = requeues.expired + requeues.released + requeues.requeued;
  const answered = offers.accepted + offers.rejected + offers.expired;
  const median = (figure: RepoAnalytics['lead_time'], one: string, many: string) =>
    figure.median_ms === null
      ? { value: '—', detail: `no ${many} yet` }
      : {
          value: formatSpan(figure.median_ms),
          detail: `median of ${plural(figure.samples, one, many)}`,
        };
  return [
    {
      key: 'completed',
      label: 'Completed',
      value: String(report.tasks_completed),
      detail: 'tasks merged',
    },
    { key: 'lead', label: 'Lead time', ...median(report.lead_time, 'task', 'tasks') },
    { key: 'cycle', label: 'Cycle time', ...median(report.cycle_time, 'PR', 'PRs') },
    {
      key: 'requeue',
      label: 'Requeue rate',
      value: percent(requeues.rate),
      detail: `${handedBack} of ${plural(requeues.grants, 'lease', 'leases')} back to the queue`,
    },
    {
      key: 'offers',
      label: 'Offer acceptance',
      value: percent(offers.rate),
      detail: answered === 0 ? 'no offers yet' : `${offers.accepted} of ${answered} offers`,
    },
    {
      key: 'utilization',
      label: 'Worker utilization',
      value: percent(report.worker_utilization.rate),
      detail: 'of the online capacity',
    },
    {
      key: 'saturation',
      label: 'Budget full',
      value: percent(report.review_budget_saturation.rate),
      detail: `${formatSpan(report.review_budget_saturation.saturated_ms)} of ${formatSpan(
        report.review_budget_saturation.observed_ms,
      )}`,
    },
  ];
}

/** The trend charts' data: one point per bucket, at its start (uPlot wants seconds). */
export interface TrendSeries {
  t: number[];
  completed: number[];
  leadHours: (number | null)[];
  cycleHours: (number | null)[];
}

export function trendSeries(buckets: readonly RepoAnalytics[]): TrendSeries {
  const hours = (ms: number | null) => (ms === null ? null : Math.round(ms / 36_000) / 100);
  return {
    t: buckets.map((b) => Date.parse(b.since) / 1000),
    completed: buckets.map((b) => b.tasks_completed),
    leadHours: buckets.map((b) => hours(b.lead_time.median_ms)),
    cycleHours: buckets.map((b) => hours(b.cycle_time.median_ms)),
  };
}
