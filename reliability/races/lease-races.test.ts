/**
 * Part 2 — lease races at speed. Many workers over real HTTP against an in-process server with
 * a short lease TTL and a fast sweep: heartbeats stop and start around the TTL, leases lapse and
 * are granted again, and workers keep retrying writes under the leases they lost. No stale write
 * may be accepted, and no task may ever be held twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { buildApp } from '../../server/app.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import { readDbFacts, type LeaseFact } from '../support/db-facts.ts';
import { FigureSheet, atLeast, measured, zero } from '../support/figures.ts';
import { auditLeases } from '../support/lease-audit.ts';
import { runSeed, seededRandom } from '../support/seeded-random.ts';
import { RacingWorker, type WriteAttempt } from './racing-worker.ts';

const WORKERS = 24;
const LEASE_TTL_MS = 600;
const HEARTBEAT_TTL_MS = 1500;
const SWEEP_MS = 20;
const RUN_MS = 25_000;
const ADMIN_TOKEN = 'owpa_races_0123456789abcdef0123456789';

const dir = mkdtempSync(join(tmpdir(), 'owp-races-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sheet = new FigureSheet(2, 'Lease races at speed');

/** Why a write was stale when it was sent, or null when it was not (or cannot be told). */
function staleness(
  attempt: WriteAttempt,
  byId: Map<string, LeaseFact>,
  byTaskEpoch: Map<string, LeaseFact>,
  newer: Map<string, LeaseFact[]>,
) {
  if (attempt.fencing === 'none') return null;
  const lease =
    attempt.lease_id !== undefined
      ? byId.get(attempt.lease_id)
      : byTaskEpoch.get(`${attempt.task_id} ${attempt.epoch}`);
  if (!lease) return null;
  const epochMismatch = attempt.epoch !== undefined && attempt.epoch !== lease.epoch;
  const ended = lease.ended_at !== null && lease.ended_at < attempt.sent;
  if (!ended && !epochMismatch) return null;
  const regranted = (newer.get(lease.task_id) ?? []).some(
    (other) => other.epoch > lease.epoch && other.granted_at < attempt.sent,
  );
  return {
    lease,
    regranted,
    sameWorker:
      regranted &&
      (newer.get(lease.task_id) ?? []).some(
        (o) =>
          o.epoch > lease.epoch && o.worker_id === attempt.worker_id && o.granted_at < attempt.sent,
      ),
  };
}

describe('lease races at speed: lapsing heartbeats and stale retries over real HTTP', () => {
  it(
    'accepts no write under a stale lease or epoch, and never grants a task twice',
    { timeout: 120_000 },
    async () => {
      const seed = runSeed();
      const random = seededRandom(seed + 2);
      const dbPath = join(dir, 'races.db');
      const driver = new BetterSqlite3Driver({ path: dbPath });
      const engine = new Scheduler({
        driver,
        clock: systemClock,
        config: {
          leaseTtlMs: LEASE_TTL_MS,
          heartbeatTtlMs: HEARTBEAT_TTL_MS,
          releaseCooldownMs: 0,
        },
      });
      const app = buildApp({ engine, adminToken: ADMIN_TOKEN, registrationsPerMinute: 10_000 });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const timers = [
        setInterval(() => engine.sweep(), SWEEP_MS),
        setInterval(() => engine.assignAll(), 200),
      ];
      const admin = (path: string, body: unknown) =>
        fetch(base + path, {
          method: 'POST',
          headers: { 'x-admin-token': ADMIN_TOKEN, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });

      try {
        await admin('/v1/admin/repos', {
          repo: 'races',
          max_open_prs: 100,
          area_locks_enabled: false,
        });
        let created = 0;
        const topUp = async () => {
          const ready = engine.state().tasks_ready;
          for (let i = ready; i < 60; i++) {
            await admin('/v1/admin/tasks', {
              repo: 'races',
              title: `race-${++created}`,
              estimate_points: 1 + (created % 2),
            });
          }
        };
        await topUp();

        const attempts: WriteAttempt[] = [];
        const statuses: number[] = [];
        const deadline = Date.now() + RUN_MS;
        const workers = Array.from(
          { length: WORKERS },
          (_, i) =>
            new RacingWorker({
              base,
              leaseTtlMs: LEASE_TTL_MS,
              deadline,
              random: seededRandom(seed + 1000 + i),
              attempts,
              statuses,
            }),
        );
        for (const [i, worker] of workers.entries()) await worker.register(`racer-${i + 1}`);
        const feeding = (async () => {
          while (Date.now() < deadline) {
            await topUp();
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        })();
        await Promise.all([...workers.map((worker) => worker.run()), feeding]);
        void random;

        for (const timer of timers) clearInterval(timer);
        await app.close();
        driver.close();

        const db = readDbFacts(dbPath);
        const audit = auditLeases(db.leases, db.tasks, db.leaseEvents);
        const byId = new Map(db.leases.map((lease) => [lease.id, lease]));
        const byTaskEpoch = new Map(
          db.leases.map((lease) => [`${lease.task_id} ${lease.epoch}`, lease]),
        );
        const newer = new Map<string, LeaseFact[]>();
        for (const lease of db.leases)
          newer.set(lease.task_id, [...(newer.get(lease.task_id) ?? []), lease]);

        let stale = 0;
        let staleAfterRegrant = 0;
        let staleToSameWorker = 0;
        const staleAccepted: string[] = [];
        for (const attempt of attempts) {
          const why = staleness(attempt, byId, byTaskEpoch, newer);
          if (!why) continue;
          stale++;
          if (why.regranted) staleAfterRegrant++;
          if (why.sameWorker) staleToSameWorker++;
          if (attempt.http >= 200 && attempt.http < 300) {
            staleAccepted.push(
              `${attempt.kind} (${attempt.fencing}) by ${attempt.worker_id} on ${attempt.task_id} under ${why.lease.id} ` +
                `epoch ${attempt.epoch}, sent ${attempt.sent}, lease ended ${why.lease.ended_at} → ${attempt.http}`,
            );
          }
        }
        const fiveHundreds = statuses.filter((status) => status >= 500).length;
        const expired = db.leases.filter((lease) => lease.end_cause === 'expire').length;
        const regrantedTasks = new Set(
          db.leases.filter((lease) => lease.epoch > 1).map((l) => l.task_id),
        ).size;

        sheet.add(
          measured(
            'workers / lease TTL / sweep interval',
            `${WORKERS} / ${LEASE_TTL_MS} ms / ${SWEEP_MS} ms`,
          ),
          measured('HTTP calls', statuses.length),
          atLeast('leases granted', db.leases.length, 200),
          measured(
            '… expired / tasks granted more than once / tasks merged',
            `${expired} / ${regrantedTasks} / ${db.tasks.filter((t) => t.status === 'merged').length}`,
          ),
          measured(
            'fenced writes accepted while current (legitimate)',
            attempts.filter((a) => !a.deliberatelyStale && a.fencing !== 'none' && a.http === 200)
              .length,
          ),
          atLeast('stale writes attempted (lease ended, or epoch old, before sending)', stale, 500),
          measured(
            '… after the task was granted again / again to the same worker',
            `${staleAfterRegrant} / ${staleToSameWorker}`,
          ),
          zero('stale writes accepted', staleAccepted.length),
          zero('double grants (overlapping leases)', audit.doubleGrants.length),
          zero(
            'writes recorded outside their lease (DB audit)',
            audit.writesOutsideLease.length + audit.epochErrors.length,
          ),
          zero('5xx answers', fiveHundreds),
        );
        sheet.note(`races seed ${seed}`);

        expect(staleAccepted).toEqual([]);
        expect(audit.doubleGrants).toEqual([]);
        expect(audit.epochErrors).toEqual([]);
        expect(audit.writesOutsideLease).toEqual([]);
        expect(fiveHundreds).toBe(0);
        expect(stale).toBeGreaterThanOrEqual(500);
        expect(staleAfterRegrant).toBeGreaterThan(0);
        expect(db.integrity).toBe('ok');
      } finally {
        for (const timer of timers) clearInterval(timer);
        await app.close();
      }
    },
  );
});
