import type { Command } from 'commander';
import type { RepoAnalytics } from '../../../protocol/analytics.ts';
import type { ContextOf } from '../context.ts';
import { formatRecord } from '../format.ts';
import { timeArg } from './audit.ts';

/** `owp admin analytics REPO`: a repo's throughput, timings and saturation over a period. */
export function addAnalyticsCommand(admin: Command, contextOf: ContextOf): void {
  admin
    .command('analytics')
    .description("a repo's throughput, lead and cycle times, requeues, utilization and budget use")
    .argument('<repo>', 'repo key: name or owner/name')
    .option(
      '--since <time>',
      'from this time (default 30 days before --until): ISO 8601, or 7d ago',
      timeArg,
    )
    .option('--until <time>', 'up to this time (default now): ISO 8601, or 24h ago', timeArg)
    .action(async (repo: string, options: { since?: string; until?: string }, command: Command) => {
      const ctx = contextOf(command);
      const report = await ctx.adminClient().call('repoAnalytics', {
        params: { '*': repo },
        query: { since: options.since, until: options.until },
      });
      if (ctx.json) return ctx.printJson(report);
      ctx.print(analyticsRecord(report));
    });
}

/** The report for a person: each figure with what it was computed from. */
export function analyticsRecord(report: RepoAnalytics): string {
  const { requeue_rate: requeues, offer_acceptance_rate: offers } = report;
  const utilization = report.worker_utilization;
  const saturation = report.review_budget_saturation;
  const answered = offers.accepted + offers.rejected + offers.expired;
  return formatRecord([
    ['repo', report.repo],
    ['period', `${report.since} → ${report.until}`],
    ['tasks completed', report.tasks_completed],
    ['lead time (median)', median(report.lead_time, 'task merged', 'tasks merged')],
    ['cycle time (median)', median(report.cycle_time, 'PR opened', 'PRs opened')],
    [
      'requeue rate',
      `${percent(requeues.rate)} (${requeues.expired} expired, ${requeues.released} released, ` +
        `${requeues.requeued} requeued, of ${requeues.grants} leases)`,
    ],
    [
      'offer acceptance',
      answered === 0
        ? '- (no offers)'
        : `${percent(offers.rate)} (${offers.accepted} accepted, ${offers.rejected} rejected, ` +
          `${offers.expired} expired)`,
    ],
    [
      'worker utilization',
      `${percent(utilization.rate)} (${pointHours(utilization.held_point_ms)} of ` +
        `${pointHours(utilization.capacity_point_ms)} point-hours online)`,
    ],
    [
      'review budget full',
      `${percent(saturation.rate)} (${duration(saturation.saturated_ms)} of ` +
        `${duration(saturation.observed_ms)})`,
    ],
  ]);
}

function median(
  figure: { median_ms: number | null; samples: number },
  one: string,
  many: string,
): string {
  if (figure.median_ms === null) return `- (no ${many})`;
  return `${duration(figure.median_ms)} (${figure.samples} ${figure.samples === 1 ? one : many})`;
}

function percent(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(1)}%`;
}

function pointHours(ms: number): string {
  return (ms / 3_600_000).toFixed(1);
}

/** `2d 3h`, `1h 5m`, `40m`, `45s`, `0s`: the largest unit that is not zero, and the next one. */
export function duration(ms: number): string {
  let rest = Math.round(ms / 1000);
  const amounts = DURATION_UNITS.map(([unit, seconds]) => {
    const amount = Math.floor(rest / seconds);
    rest -= amount * seconds;
    return { amount, unit };
  });
  const first = amounts.findIndex((a) => a.amount > 0);
  if (first < 0) return '0s';
  return amounts
    .slice(first, first + 2)
    .filter((a) => a.amount > 0)
    .map((a) => `${a.amount}${a.unit}`)
    .join(' ');
}

const DURATION_UNITS: Array<[string, number]> = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1],
];
