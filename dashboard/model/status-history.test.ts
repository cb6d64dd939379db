import { describe, expect, it } from 'vitest';
import { StatusHistory, zeroCounts, type StatusCounts } from './status-history.ts';
import { EventScript, ORIGIN_MS } from './testing/builders.ts';

const HOUR = 3_600_000;
const counts = (partial: Partial<StatusCounts>): StatusCounts => ({ ...zeroCounts(), ...partial });

/** Two tasks: one goes all the way to merged, one is taken and then requeued. */
const day = () =>
  new EventScript()
    .created('t_a', 0)
    .created('t_b', 10)
    .moved('t_a', 20, 'ready', 'leased', 'grant', 'w_1')
    .moved('t_a', 30, 'leased', 'in_progress', 'start', 'w_1')
    .workerOnline('w_2', 35)
    .moved('t_b', 40, 'ready', 'leased', 'grant', 'w_2')
    .moved('t_a', 3600, 'in_progress', 'pr_opened', 'open_pr', 'w_1')
    .moved('t_b', 3700, 'leased', 'ready', 'requeue')
    .moved('t_a', 7300, 'pr_opened', 'merged', 'merge');

describe('task counts over time, replayed from events', () => {
  it('replays created and status_changed events into the current counts', () => {
    const history = StatusHistory.fromEvents(day().events);
    expect(history.counts).toEqual(counts({ ready: 1, merged: 1 }));
    expect(history.openTotal()).toBe(1);
  });

  it('anchored on known counts, a partial history ends at the same counts as the whole one', () => {
    const all = day().events;
    const whole = StatusHistory.fromEvents(all);
    // Only the events after seq 5 were loaded; state said these counts at seq 9.
    const partial = StatusHistory.fromEvents(all.slice(5), {
      seq: 9,
      counts: counts({ ready: 1, merged: 1 }),
    });
    expect(partial.counts).toEqual(whole.counts);
    const now = ORIGIN_MS + 8000_000;
    const tail = (h: StatusHistory) => {
      const s = h.queueDepth(now, 2 * HOUR);
      return s.t.map((t, i) => [
        t,
        s.byStatus.ready[i],
        s.byStatus.leased[i],
        s.byStatus.pr_opened[i],
      ]);
    };
    expect(tail(partial)).toEqual(tail(whole));
  });

  it('anchored after live events: events past the anchor are applied on top', () => {
    const all = day().events;
    const history = StatusHistory.fromEvents(all, {
      seq: 7,
      counts: counts({ ready: 0, leased: 1, pr_opened: 1 }),
    });
    expect(history.counts).toEqual(counts({ ready: 1, merged: 1 }));
  });

  it('draws one point per second with changes, from the window start to now', () => {
    const history = StatusHistory.fromEvents(day().events);
    const now = ORIGIN_MS + 8000_000;
    const series = history.queueDepth(now, 24 * HOUR);
    expect(series.t[0]).toBe(ORIGIN_MS / 1000);
    expect(series.t.at(-1)).toBe(now / 1000);
    expect(series.byStatus.ready).toEqual([1, 2, 1, 1, 0, 0, 1, 1, 1]);
    expect(series.byStatus.merged.at(-1)).toBe(1);
  });

  it('starts a short window with the counts at its start', () => {
    const history = StatusHistory.fromEvents(day().events.slice(0, 7));
    const now = ORIGIN_MS + 3650_000;
    const series = history.queueDepth(now, 60_000);
    expect(series.t).toEqual([(now - 60_000) / 1000, (ORIGIN_MS + 3600_000) / 1000, now / 1000]);
    expect(series.byStatus.in_progress).toEqual([1, 0, 0]);
    expect(series.byStatus.pr_opened).toEqual([0, 1, 1]);
  });

  it('spans at least a minute, so a single burst still draws a line', () => {
    const history = StatusHistory.fromEvents(new EventScript().created('t_a', 0).events);
    const series = history.queueDepth(ORIGIN_MS, HOUR);
    expect(series.t).toEqual([(ORIGIN_MS - 60_000) / 1000, ORIGIN_MS / 1000]);
    expect(series.byStatus.ready).toEqual([0, 1]);
  });

  it('thins long histories to about the asked number of points, keeping the latest', () => {
    const script = new EventScript();
    for (let i = 0; i < 1000; i++) script.created(`t_${i}`, i * 10);
    const history = StatusHistory.fromEvents(script.events);
    const series = history.queueDepth(ORIGIN_MS + 10_000_000, 24 * HOUR, 50);
    expect(series.t.length).toBeLessThanOrEqual(52);
    expect(series.byStatus.ready.at(-1)).toBe(1000);
  });

  it('applies live events once and says whether the charts changed', () => {
    const script = day();
    const history = StatusHistory.fromEvents(script.events.slice(0, 4));
    expect(history.apply(script.events[4]!)).toBe(false); // worker.online: no count changes
    expect(history.apply(script.events[5]!)).toBe(true);
    expect(history.apply(script.events[5]!)).toBe(false); // a repeat
    expect(history.counts).toEqual(counts({ leased: 1, in_progress: 1 }));
  });

  it('drops the tasks deleted with their repo from the counts, live and replayed', () => {
    const script = new EventScript()
      .created('t_a', 0)
      .created('t_b', 5)
      .moved('t_a', 10, 'ready', 'cancelled', 'cancel')
      .repoDeleted('demo', 20, { cancelled: 1 })
      .created('t_c', 30);
    const [first, second, cancelled, deleted, later] = script.events;

    const live = StatusHistory.fromEvents([first!, second!, cancelled!]);
    expect(live.counts).toEqual(counts({ ready: 1, cancelled: 1 }));
    expect(live.apply(deleted!)).toBe(true);
    expect(live.counts).toEqual(counts({ ready: 1 }));
    expect(live.queueDepth(ORIGIN_MS + 60_000, HOUR).byStatus.cancelled.at(-1)).toBe(0);
    live.apply(later!);
    expect(live.counts).toEqual(counts({ ready: 2 }));

    expect(StatusHistory.fromEvents(script.events).counts).toEqual(counts({ ready: 2 }));
  });

  it('counts merges per hour for the last 24 hours, the current hour last', () => {
    const history = StatusHistory.fromEvents(day().events);
    const series = history.completedPerHour(ORIGIN_MS + 7400_000, 3);
    expect(series.t).toEqual([
      ORIGIN_MS / 1000,
      (ORIGIN_MS + HOUR) / 1000,
      (ORIGIN_MS + 2 * HOUR) / 1000,
    ]);
    expect(series.merged).toEqual([0, 0, 1]);
  });
});
