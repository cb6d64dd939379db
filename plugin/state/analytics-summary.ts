import type { RepoAnalytics } from '../../protocol/index.ts';
import type { PoolSnapshot } from './pool-snapshot.ts';
import { spanText } from './time-text.ts';

/** One line of the analytics view: a figure, its value, and what it was computed from. */
export interface AnalyticsRow {
  key: string;
  label: string;
  value: string;
  detail: string;
}

/** The repos the view can report on, by key; the one to show first when none is picked. */
export function analyticsRepos(snapshot: PoolSnapshot): string[] {
  return [...snapshot.repos.keys()].sort((a, b) => a.localeCompare(b));
}

/** The repo to show: the one picked if it still exists, else the first. */
export function pickRepo(repos: readonly string[], picked: string | null): string | null {
  return picked !== null && repos.includes(picked) ? picked : (repos[0] ?? null);
}

const percent = (rate: number | null) => (rate === null ? '–' : `${Math.round(rate * 100)}%`);
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The last 30 days of a repo, as rows a narrow side panel can show. */
export function analyticsSummary(report: RepoAnalytics): AnalyticsRow[] {
  const requeues = report.requeue_rate;
  const offers = report.offer_acceptance_rate;
  const answered = offers.accepted + offers.rejected + offers.expired;
  const median = (figure: RepoAnalytics['lead_time'], one: string, many: string) =>
    figure.median_ms === null
      ? { value: '–', detail: `no ${many}` }
      : {
          value: spanText(figure.median_ms),
          detail: `median, ${count(figure.samples, one, many)}`,
        };
  return [
    { key: 'completed', label: 'Merged', value: String(report.tasks_completed), detail: 'tasks' },
    { key: 'lead', label: 'Lead time', ...median(report.lead_time, 'task', 'tasks') },
    { key: 'cycle', label: 'Cycle time', ...median(report.cycle_time, 'PR', 'PRs') },
    {
      key: 'requeue',
      label: 'Requeued',
      value: percent(requeues.rate),
      detail: `${requeues.expired + requeues.released + requeues.requeued} of ${count(requeues.grants, 'lease', 'leases')}`,
    },
    {
      key: 'offers',
      label: 'Offers accepted',
      value: percent(offers.rate),
      detail: answered === 0 ? 'no offers' : `${offers.accepted} of ${answered}`,
    },
    {
      key: 'utilization',
      label: 'Utilization',
      value: percent(report.worker_utilization.rate),
      detail: 'of online capacity',
    },
    {
      key: 'saturation',
      label: 'Budget full',
      value: percent(report.review_budget_saturation.rate),
      detail: 'of the time',
    },
  ];
}
