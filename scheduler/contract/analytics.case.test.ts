import { describe, expect, it } from 'vitest';
import { OwpError, type RepoAnalytics } from '../../protocol/index.ts';
import { loadRepoHistory, loadRepoHistoryPaced } from '../analytics.ts';
import { type DriverFactory, type EngineHarness, harness } from '../testing/engine-harness.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 17, 12, 0, 0); // the harness clock's start
const iso = (ms: number) => new Date(ms).toISOString();
const at = (minutes: number) => iso(T0 + minutes * MINUTE);

function owpErrorFrom(call: () => unknown): OwpError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(OwpError);
    return error as OwpError;
  }
  throw new Error('expected the call to be refused with an OwpError, but it succeeded');
}

const noOffers = { rate: null, accepted: 0, rejected: 0, expired: 0 };

/** How many statements whose SQL contains `marker` run from now on. */
function countReads(h: EngineHarness, marker: string): () => number {
  let n = 0;
  const all = h.driver.all.bind(h.driver);
  const get = h.driver.get.bind(h.driver);
  h.driver.all = (sql, params) => {
    if (sql.includes(marker)) n++;
    return all(sql, params);
  };
  h.driver.get = (sql, params) => {
    if (sql.includes(marker)) n++;
    return get(sql, params);
  };
  return () => n;
}

export function analyticsCases(makeDriver: DriverFactory): void {
  describe('repo analytics', () => {
    /**
     * One repo with a review budget of one, over 150 minutes (leases last an hour, a worker is
     * online while its heartbeat is younger than 10 minutes):
     *
     *    0  Alice (4 points) comes online; task A (2 points) is created and granted to her
     *    5  task B (1 point) is created; the budget is full, so it waits
     *   10  Alice starts A                      20  Alice opens A's PR (she holds nothing now)
     *   30  the admin merges A; B goes to Alice 40  Alice releases B (budget free until 45)
     *   45  Bob (2 points) comes online and gets B
     *   70  the sweep marks Bob offline (silent since 45; Alice beat at 65)
     *  110  the sweep expires Bob's lease on B and marks Alice offline (silent since 65)
     *  115  Alice comes back and gets B         118  the admin pauses Alice
     *  120  the admin requeues B: nobody may take it (Alice paused, Bob offline)
     *  150  now
     */
    async function story(): Promise<EngineHarness> {
      const h = await harness(makeDriver, { leaseTtlMs: 60 * MINUTE, heartbeatTtlMs: 10 * MINUTE });
      let minute = 0;
      const until = (next: number) => {
        h.clock.advance((next - minute) * MINUTE);
        minute = next;
      };
      h.repo({ max_open_prs: 1, area_locks_enabled: false });
      const alice = h.onlineWorker({ name: 'Alice', capacity_points: 4 });
      const a = h.task({ title: 'A', estimate_points: 2 });
      expect(a.assignee).toBe(alice);
      until(5);
      const b = h.task({ title: 'B', estimate_points: 1 });
      expect(b.status).toBe('ready');
      until(10);
      h.engine.heartbeat(alice, {});
      h.engine.updateStatus(alice, a.task_id, { status: 'in_progress' });
      until(20);
      h.engine.heartbeat(alice, {});
      h.engine.updateStatus(alice, a.task_id, {
        status: 'pr_opened',
        artifact: { pr_url: 'https://github.com/acme/app/pull/1' },
      });
      until(30);
      h.engine.heartbeat(alice, {});
      h.engine.markMerged(a.task_id);
      expect(h.engine.getTask(b.task_id).assignee).toBe(alice);
      until(40);
      h.engine.heartbeat(alice, {});
      h.engine.releaseLease(alice, h.engine.getTask(b.task_id).lease!.lease_id);
      until(45);
      const bob = h.onlineWorker({ name: 'Bob', capacity_points: 2 });
      expect(h.engine.getTask(b.task_id).assignee).toBe(bob);
      until(50);
      h.engine.heartbeat(alice, {});
      until(65);
      h.engine.heartbeat(alice, {});
      until(70);
      expect(h.engine.sweep()).toEqual({ expired: 0, offers_expired: 0, workers_offline: 1 });
      until(110);
      expect(h.engine.sweep()).toEqual({ expired: 1, offers_expired: 0, workers_offline: 1 });
      until(115);
      h.engine.heartbeat(alice, {});
      expect(h.engine.getTask(b.task_id).assignee).toBe(alice);
      until(118);
      h.engine.pauseWorker(alice);
      until(120);
      expect(h.engine.requeueTask(b.task_id).status).toBe('ready');
      until(150);
      return h;
    }

    it('reports the whole story with the definitions of the README', async () => {
      const h = await story();
      const report = h.engine.repoAnalytics('demo', { since: at(0), until: at(150) });
      expect(report).toEqual<RepoAnalytics>({
        repo: 'demo',
        since: at(0),
        until: at(150),
        tasks_completed: 1,
        // A: created at 0, merged at 30.
        lead_time: { median_ms: 30 * MINUTE, samples: 1 },
        // A: granted at 0, PR opened at 20.
        cycle_time: { median_ms: 20 * MINUTE, samples: 1 },
        // Grants: A at 0, B at 30, 45 and 115; back to the queue at 40, 110 and 120.
        requeue_rate: { rate: 3 / 4, grants: 4, expired: 1, released: 1, requeued: 1 },
        offer_acceptance_rate: noOffers,
        worker_utilization: {
          // Held while online: A 2 × 20 min, B 1 × (10 + 25 + 5) min; Bob held B offline 70–110.
          // Capacity online: Alice 4 × (110 + 35) min, Bob 2 × 25 min.
          rate: 80 / 630,
          held_point_ms: 80 * MINUTE,
          capacity_point_ms: 630 * MINUTE,
        },
        // Full 0–40, 45–110 and 115–120, out of 150 minutes.
        review_budget_saturation: {
          rate: 110 / 150,
          saturated_ms: 110 * MINUTE,
          observed_ms: 150 * MINUTE,
        },
      });
    });

    it('counts only what falls in the period, with the state at its start carried in', async () => {
      const h = await story();
      expect(h.engine.repoAnalytics('demo', { since: at(30), until: at(60) })).toEqual({
        repo: 'demo',
        since: at(30),
        until: at(60),
        tasks_completed: 1,
        lead_time: { median_ms: 30 * MINUTE, samples: 1 },
        cycle_time: { median_ms: null, samples: 0 },
        requeue_rate: { rate: 1 / 2, grants: 2, expired: 0, released: 1, requeued: 0 },
        offer_acceptance_rate: noOffers,
        worker_utilization: {
          rate: 25 / 150,
          held_point_ms: 25 * MINUTE,
          capacity_point_ms: 150 * MINUTE,
        },
        review_budget_saturation: {
          rate: 25 / 30,
          saturated_ms: 25 * MINUTE,
          observed_ms: 30 * MINUTE,
        },
      });
    });

    it('defaults to the 30 days up to now, and counts a held lease only up to now', async () => {
      const h = await story();
      const report = h.engine.repoAnalytics('demo');
      // Until just after now: an event of this very millisecond counts.
      expect(report.until).toBe(iso(T0 + 150 * MINUTE + 1));
      expect(report.since).toBe(iso(T0 + 150 * MINUTE + 1 - 30 * 24 * 60 * MINUTE));
      expect(report.tasks_completed).toBe(1);
      h.engine.createTask({ repo: 'demo', title: 'Now' });
      expect(h.engine.repoAnalytics('demo').review_budget_saturation.observed_ms).toBe(
        report.review_budget_saturation.observed_ms,
      );
      // A period reaching into the future observes the repo only up to now.
      const ahead = h.engine.repoAnalytics('demo', { since: at(0), until: at(1000) });
      expect(ahead.review_budget_saturation.observed_ms).toBe(150 * MINUTE);
      expect(ahead.worker_utilization.capacity_point_ms).toBe(630 * MINUTE);
    });

    it('takes medians over several samples, the mean of the middle two when even', async () => {
      const h = await harness(makeDriver);
      h.repo({ area_locks_enabled: false });
      const alice = h.onlineWorker({ name: 'Alice', max_concurrent_tasks: 10 });
      const leadMinutes = [10, 20, 30, 40];
      const tasks = leadMinutes.map((_, i) => h.task({ title: `T${i}` }).task_id);
      for (const id of tasks) h.engine.updateStatus(alice, id, { status: 'in_progress' });
      for (const [i, minutes] of leadMinutes.entries()) {
        const clockAt = T0 + minutes * MINUTE;
        h.clock.advance(clockAt - h.clock.now());
        h.engine.heartbeat(alice, {});
        h.engine.updateStatus(alice, tasks[i]!, { status: 'pr_opened' });
        h.engine.updateStatus(alice, tasks[i]!, { status: 'merged' });
      }
      const report = h.engine.repoAnalytics('demo', { since: at(0), until: at(60) });
      expect(report.tasks_completed).toBe(4);
      expect(report.lead_time).toEqual({ median_ms: 25 * MINUTE, samples: 4 });
      expect(report.cycle_time).toEqual({ median_ms: 25 * MINUTE, samples: 4 });
    });

    it('counts offer events when the log has them, and says null with none', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const offer = (type: string, minutes: number) =>
        h.driver.run(
          `INSERT INTO events (at, type, repo, task_id, worker_id, actor, data)
           VALUES ($at, $type, 'demo', NULL, NULL, 'system', '{}')`,
          { at: T0 + minutes * MINUTE, type },
        );
      expect(h.engine.repoAnalytics('demo').offer_acceptance_rate).toEqual(noOffers);
      offer('offer.accepted', 1);
      offer('offer.accepted', 2);
      offer('offer.rejected', 3);
      offer('offer.expired', 4);
      offer('offer.accepted', 90); // after the period
      h.clock.advance(120 * MINUTE);
      expect(
        h.engine.repoAnalytics('demo', { since: at(0), until: at(60) }).offer_acceptance_rate,
      ).toEqual({ rate: 2 / 4, accepted: 2, rejected: 1, expired: 1 });
    });

    it('counts the offers the engine makes, and a lease from an accepted offer as a grant', async () => {
      const h = await harness(makeDriver);
      h.repo({ assignment: 'offer', offer_ttl_seconds: 600, area_locks_enabled: false });
      const alice = h.onlineWorker({ name: 'Alice' });
      const offerOf = () => h.engine.listOffers(alice).offers.at(-1)!.offer_id;
      // A: offered at 0, accepted at 1, PR opened at 11.
      const a = h.task({ title: 'A' });
      const offerA = offerOf();
      h.clock.advance(MINUTE);
      h.engine.heartbeat(alice, {});
      h.engine.acceptOffer(alice, offerA);
      h.engine.updateStatus(alice, a.task_id, { status: 'in_progress' });
      h.clock.advance(10 * MINUTE);
      h.engine.heartbeat(alice, {});
      h.engine.updateStatus(alice, a.task_id, { status: 'pr_opened' });
      // B: offered and rejected; C: offered and left to expire.
      h.task({ title: 'B' });
      h.engine.rejectOffer(alice, offerOf(), { reason: 'insufficient_time' });
      h.task({ title: 'C' });
      expect(h.engine.listOffers(alice).offers).toHaveLength(1);
      h.clock.advance(11 * MINUTE);
      expect(h.engine.sweep().offers_expired).toBe(1);

      const report = h.engine.repoAnalytics('demo', { since: at(0), until: at(30) });
      expect(report.offer_acceptance_rate).toEqual({
        rate: 1 / 3,
        accepted: 1,
        rejected: 1,
        expired: 1,
      });
      expect(report.requeue_rate).toEqual({
        rate: 0,
        grants: 1,
        expired: 0,
        released: 0,
        requeued: 0,
      });
      expect(report.cycle_time).toEqual({ median_ms: 10 * MINUTE, samples: 1 });
    });

    it('starts afresh for a repo deleted and created again under the same key', async () => {
      const h = await harness(makeDriver);
      h.repo({ max_open_prs: 0 });
      h.engine.cancelTask(h.task().task_id);
      h.clock.advance(10 * MINUTE);
      h.engine.deleteRepo('demo');
      h.clock.advance(10 * MINUTE);
      h.repo({ max_open_prs: 2 });
      h.clock.advance(10 * MINUTE);
      const report = h.engine.repoAnalytics('demo', { since: at(0), until: at(30) });
      // A budget of 0 is always full: the first repo was saturated, the new one is not.
      expect(report.review_budget_saturation).toEqual({
        rate: 0,
        saturated_ms: 0,
        observed_ms: 10 * MINUTE,
      });
    });

    it('gives the same reports when the history is read a page at a time, one read for asks that overlap', async () => {
      const h = await story();
      const periods = [
        { since: at(0), until: at(150) },
        { since: at(30), until: at(60) },
        { since: at(100), until: at(400) },
        {},
      ];
      let pauses = 0;
      const pause = async () => void pauses++;
      const reads = countReads(h, 'FROM events');
      const paced = await Promise.all(
        periods.map((period) => h.engine.repoAnalyticsPaced('demo', period, pause)),
      );
      // The four asks came together: the history was read once (the log's end, the repo's last
      // deletion, one page of its events, one page of each kind of the workers' comings and goings).
      expect(reads()).toBe(5);
      // No pause between pages (there is one page); one before each ask's figures.
      expect(pauses).toBe(periods.length);
      expect(paced).toEqual(periods.map((period) => h.engine.repoAnalytics('demo', period)));

      await expect(h.engine.repoAnalyticsPaced('acme/nope', {}, pause)).rejects.toMatchObject({
        code: 'repo_not_found',
      });
      await expect(
        h.engine.repoAnalyticsPaced('demo', { since: at(10), until: at(5) }, pause),
      ).rejects.toMatchObject({ code: 'validation_failed' });
    });

    it('reads a long history in pages, up to the event that was last when it began', async () => {
      const h = await story();
      const whole = loadRepoHistory(h.driver, 'demo', Number.MAX_SAFE_INTEGER);
      expect(whole.events.length).toBeGreaterThan(10);
      let pauses = 0;
      const paced = await loadRepoHistoryPaced(
        h.driver,
        'demo',
        Number.MAX_SAFE_INTEGER,
        async () => {
          // Written while the history is being read: not part of it.
          if (pauses++ === 0) h.task({ title: 'Created meanwhile' });
        },
        4,
      );
      // A pause after each full page: of the repo's events, and of each kind of presence change.
      const comings = whole.presence.filter((change) => change.online).length;
      const goings = whole.presence.length - comings;
      expect(goings).toBeGreaterThan(0);
      expect(pauses).toBe(
        Math.floor(whole.events.length / 4) + Math.floor(comings / 4) + Math.floor(goings / 4),
      );
      expect(paced).toEqual(whole);
      // The two kinds, read apart, come back as one run in the order of the log.
      const logged = h.driver
        .all<{ worker_id: string; at: number; type: string }>(
          `SELECT worker_id, at, type FROM events
            WHERE type IN ('worker.online', 'worker.offline') ORDER BY seq`,
        )
        .map((row) => ({
          worker_id: row.worker_id,
          at: row.at,
          online: row.type === 'worker.online',
        }));
      expect(whole.presence).toEqual(logged);
      expect(whole.presence.map((change) => change.online)).toContain(false);
    });

    it('answers repo_not_found for an unknown repo and validation_failed for a bad period', async () => {
      const h = await harness(makeDriver);
      h.repo({ repo: 'acme/app' });
      const unknown = owpErrorFrom(() => h.engine.repoAnalytics('acme/nope'));
      expect(unknown.code).toBe('repo_not_found');
      expect(unknown.details).toEqual({ repo: 'acme/nope' });
      expect(owpErrorFrom(() => h.engine.repoAnalytics('a/b/c')).code).toBe('validation_failed');
      const backwards = owpErrorFrom(() =>
        h.engine.repoAnalytics('acme/app', { since: at(10), until: at(5) }),
      );
      expect(backwards.code).toBe('validation_failed');
      expect(backwards.message).toBe('since must be before until.');
      expect(
        owpErrorFrom(() => h.engine.repoAnalytics('acme/app', { since: 'last week' })).code,
      ).toBe('validation_failed');
      expect(h.engine.repoAnalytics('acme/app').tasks_completed).toBe(0);
    });

    it('starts a period no earlier than 1970, so its bounds stay ISO 8601 a client can read', async () => {
      const h = await harness(makeDriver);
      h.repo({ repo: 'acme/app' });
      const early = h.engine.repoAnalytics('acme/app', { until: '1970-01-10T00:00:00Z' });
      expect(early.since).toBe('1970-01-01T00:00:00.000Z');
      const ancient = h.engine.repoAnalytics('acme/app', {
        since: '0001-01-01T00:00:00Z',
        until: '1970-01-02T00:00:00Z',
      });
      expect(ancient.since).toBe('1970-01-01T00:00:00.000Z');
      // A period that ends before 1970 has nothing in it to count.
      expect(
        owpErrorFrom(() => h.engine.repoAnalytics('acme/app', { until: '0000-01-01T00:00:00Z' }))
          .code,
      ).toBe('validation_failed');
    });
  });
}
