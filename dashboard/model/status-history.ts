import type { TaskStatus } from '../../protocol/common.ts';
import type { OwpEvent } from '../../protocol/events.ts';
import type { PoolState } from '../../protocol/leases.ts';
import { OPEN_STATUSES, STATUS_ORDER } from './statuses.ts';

export type StatusCounts = Record<TaskStatus, number>;

/** Known counts at a known event: `GET /v1/admin/state` gives both at once. */
export interface HistoryAnchor {
  seq: number;
  counts: StatusCounts;
}

/** Series for uPlot: x in Unix seconds, one y array per status. */
export interface QueueDepthSeries {
  t: number[];
  byStatus: Record<TaskStatus, number[]>;
}

export interface CompletedSeries {
  /** Start of each hour, Unix seconds. */
  t: number[];
  merged: number[];
}

const HOUR_MS = 3_600_000;
/** The shortest span the queue chart draws. */
const MIN_SPAN_MS = 60_000;

export const zeroCounts = (): StatusCounts =>
  Object.fromEntries(STATUS_ORDER.map((s) => [s, 0])) as StatusCounts;

/** The task counts in a pool-state answer, keyed by status. */
export function countsFromState(state: PoolState): StatusCounts {
  return {
    ready: state.tasks_ready,
    leased: state.tasks_leased,
    in_progress: state.tasks_in_progress,
    blocked: state.tasks_blocked,
    pr_opened: state.tasks_pr_opened,
    merged: state.tasks_merged,
    cancelled: state.tasks_cancelled,
    offered: state.tasks_offered,
    failed: state.tasks_failed,
  };
}

/** How one event changes the counts, or null when it does not. */
function deltaOf(event: OwpEvent): Array<[TaskStatus, number]> | null {
  if (event.type === 'task.created') return [['ready', 1]];
  // Deleted with their repo (finished tasks only): no event of their own says they are gone.
  if (event.type === 'repo.deleted' && event.data.tasks_deleted) {
    const deleted = Object.entries(event.data.tasks_deleted) as Array<[TaskStatus, number]>;
    return deleted.map(([status, n]) => [status, -n]);
  }
  if (event.type === 'task.status_changed') {
    return [
      [event.data.from, -1],
      [event.data.to, 1],
    ];
  }
  return null;
}

interface Point {
  /** Milliseconds, truncated to the second: events within one second share a point. */
  t: number;
  counts: StatusCounts;
}

/**
 * Task counts by status over time, rebuilt by replaying `task.created` and `task.status_changed`
 * events, then kept current from the live stream.
 *
 * Replaying from an anchor (the counts `GET /v1/admin/state` reported at a known sequence number)
 * rather than from zero means a history that starts part-way (only the last N events loaded) still
 * ends at the true counts: the counts before the first loaded event are the anchor minus what the
 * loaded events did. With the whole history the two ways agree.
 */
export class StatusHistory {
  private readonly points: Point[] = [];
  private current: StatusCounts;
  /** The counts before the first event: what any earlier moment looked like. */
  private readonly start: StatusCounts;
  private lastSeq = 0;
  /** Merges by the start of their hour (ms). */
  private readonly mergedByHour = new Map<number, number>();

  private constructor(start: StatusCounts) {
    this.start = { ...start };
    this.current = { ...start };
  }

  /** Builds the history from events in sequence order, anchored when an anchor is given. */
  static fromEvents(events: readonly OwpEvent[], anchor?: HistoryAnchor): StatusHistory {
    const start = anchor ? { ...anchor.counts } : zeroCounts();
    if (anchor) {
      for (const event of events) {
        if (event.seq > anchor.seq) break;
        for (const [status, change] of deltaOf(event) ?? []) start[status] -= change;
      }
    }
    const history = new StatusHistory(start);
    for (const event of events) history.apply(event);
    return history;
  }

  /** The counts after the last event applied. */
  get counts(): Readonly<StatusCounts> {
    return this.current;
  }

  /** Points recorded (one per second with changes). */
  get size(): number {
    return this.points.length;
  }

  /** Applies one live event; returns whether the charts changed. Repeats are ignored. */
  apply(event: OwpEvent): boolean {
    if (event.seq <= this.lastSeq) return false;
    this.lastSeq = event.seq;
    const delta = deltaOf(event);
    if (!delta) return false;
    const counts = { ...this.current };
    for (const [status, change] of delta) counts[status] += change;
    this.current = counts;
    const at = Date.parse(event.at);
    const t = at - (at % 1000);
    const last = this.points.at(-1);
    if (last && last.t >= t) last.counts = counts;
    else this.points.push({ t, counts });
    if (event.type === 'task.status_changed' && event.data.to === 'merged') {
      const hour = at - (at % HOUR_MS);
      this.mergedByHour.set(hour, (this.mergedByHour.get(hour) ?? 0) + 1);
    }
    return true;
  }

  /**
   * Tasks by status over the last `windowMs`, ending at `nowMs` (or the last event, if later)
   * with the current counts. The span is never shorter than a minute, so a fresh pool still draws
   * lines rather than a dot; at most about `maxPoints` points, keeping the last of each stretch,
   * which is what a stepped line shows.
   */
  queueDepth(nowMs: number, windowMs: number, maxPoints = 600): QueueDepthSeries {
    const end = Math.max(nowMs, this.points.at(-1)?.t ?? nowMs);
    const firstT = this.points[0]?.t ?? end;
    const from = Math.max(end - windowMs, Math.min(firstT, end - MIN_SPAN_MS));
    let atFrom = this.start;
    const inside: Point[] = [];
    for (const point of this.points) {
      if (point.t <= from) atFrom = point.counts;
      else inside.push(point);
    }
    const step = Math.max(1, (end - from) / maxPoints);
    const series: Point[] = [{ t: from, counts: atFrom }];
    for (const point of inside) {
      const last = series.at(-1)!;
      const sameStretch =
        series.length > 1 &&
        Math.floor((point.t - from) / step) === Math.floor((last.t - from) / step);
      if (sameStretch) series[series.length - 1] = point;
      else series.push(point);
    }
    if (series.at(-1)!.t < end) series.push({ t: end, counts: this.current });
    const byStatus = Object.fromEntries(
      STATUS_ORDER.map((s) => [s, series.map((p) => Math.max(0, p.counts[s]))]),
    ) as Record<TaskStatus, number[]>;
    return { t: series.map((p) => p.t / 1000), byStatus };
  }

  /** Tasks merged in each of the last `hours` hours, the current (partial) hour last. */
  completedPerHour(nowMs: number, hours = 24): CompletedSeries {
    const thisHour = nowMs - (nowMs % HOUR_MS);
    const t: number[] = [];
    const merged: number[] = [];
    for (let i = hours - 1; i >= 0; i--) {
      const hour = thisHour - i * HOUR_MS;
      t.push(hour / 1000);
      merged.push(this.mergedByHour.get(hour) ?? 0);
    }
    return { t, merged };
  }

  /** Open tasks now, for the chart's text summary. */
  openTotal(): number {
    return OPEN_STATUSES.reduce((sum, s) => sum + Math.max(0, this.current[s]), 0);
  }
}
