import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditQuery, OwpError, type OwpEvent } from '../../protocol/index.ts';
import { listAuditEvents, listAuditEventsPaced } from '../audit.ts';
import { Scheduler } from '../engine.ts';
import { setEventBlockSize } from '../event-blocks.ts';
import { EventLog } from '../event-log.ts';
import { sequentialIds } from '../ids.ts';
import { migrate } from '../migrate.ts';
import { migrations } from '../sql/migrations.generated.ts';
import { type DriverFactory, type EngineHarness, harness } from '../testing/engine-harness.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { recordQueryPlans } from '../testing/query-plans.ts';
import type { SqlDriver } from '../storage-port.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 17, 12, 0, 0); // the harness clock's start
const iso = (ms: number) => new Date(ms).toISOString();

/** `type[:cause] by actor`, the way the audit story reads. */
const line = (e: OwpEvent) =>
  `${e.type === 'task.status_changed' ? `${e.type}:${e.data.cause}` : e.type} by ${e.actor}`;

function owpErrorFrom(call: () => unknown): OwpError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(OwpError);
    return error as OwpError;
  }
  throw new Error('expected the call to be refused with an OwpError, but it succeeded');
}

export function auditCases(makeDriver: DriverFactory): void {
  describe('audit log', () => {
    it('records every write with its actor: admin, system, or the worker itself', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const alice = h.onlineWorker({ name: 'Alice' });
      const first = h.task({ title: 'Fix the login' });
      h.engine.updateStatus(alice, first.task_id, { status: 'in_progress' });
      h.engine.renewLease(alice, first.lease!.lease_id);
      h.engine.idempotent(alice, 'key-1', 'fingerprint', () =>
        h.engine.updateStatus(alice, first.task_id, {
          status: 'pr_opened',
          artifact: { pr_url: 'https://github.com/acme/app/pull/1' },
        }),
      );
      h.engine.markMerged(first.task_id);
      const second = h.task({ title: 'Write the docs' });
      h.engine.releaseLease(alice, second.lease!.lease_id);
      h.engine.updateTask(second.task_id, { priority: 50 });
      h.engine.pauseWorker(alice);
      h.engine.heartbeat(alice, { status: 'working' });
      h.engine.resumeWorker(alice);
      const bob = h.onlineWorker({ name: 'Bob' });
      h.engine.requeueTask(second.task_id);
      h.clock.advance(31 * MINUTE);
      h.engine.sweep();
      h.engine.cancelTask(second.task_id);
      h.engine.deleteRepo('demo');

      expect(h.engine.auditEvents({ limit: 1000 }).events.map(line)).toEqual([
        'repo.upserted by admin',
        'worker.registered by w_0001',
        'worker.online by w_0001',
        'task.created by admin',
        // The grant that settling the admin's write made is the engine's own decision.
        'task.status_changed:grant by system',
        'task.status_changed:start by w_0001',
        'lease.renewed by w_0001',
        'task.status_changed:open_pr by w_0001',
        'task.status_changed:merge by admin',
        'task.created by admin',
        'task.status_changed:grant by system',
        'task.status_changed:release by w_0001',
        'task.updated by admin',
        'worker.paused by admin',
        'worker.status_changed by w_0001',
        'worker.resumed by admin',
        'worker.registered by w_0002',
        'worker.online by w_0002',
        // Bob's heartbeat made him eligible: his own write, but the grant is the system's.
        'task.status_changed:grant by system',
        'task.status_changed:requeue by admin',
        'task.status_changed:grant by system',
        'task.status_changed:expire by system',
        'worker.offline by system',
        'worker.offline by system',
        'task.status_changed:cancel by admin',
        'repo.deleted by admin',
      ]);
      expect(bob).toBe('w_0002');
    });

    it('keeps the actor on the event history and the live events too', async () => {
      const h = await harness(makeDriver);
      const heard: OwpEvent[] = [];
      h.engine.onEvent((event) => heard.push(event));
      h.repo();
      expect(heard.map((e) => e.actor)).toEqual(['admin']);
      expect(h.engine.events()).toEqual([
        {
          seq: 1,
          at: iso(T0),
          type: 'repo.upserted',
          repo: 'demo',
          task_id: null,
          worker_id: null,
          actor: 'admin',
          data: { max_open_prs: 10, area_locks_enabled: true },
        },
      ]);
    });

    it('reads events recorded before actors were kept with a null actor', async () => {
      const driver = await makeDriver();
      const clock = new ManualClock();
      migrate(
        driver,
        clock,
        migrations.filter((m) => m.id < 5),
      );
      driver.run(
        `INSERT INTO events (at, type, repo, task_id, worker_id, data)
         VALUES ($at, 'repo.upserted', 'demo', NULL, NULL, $data)`,
        { at: T0, data: JSON.stringify({ max_open_prs: 3, area_locks_enabled: true }) },
      );
      const engine = new Scheduler({ driver, clock, ids: sequentialIds() });
      engine.upsertRepo({ repo: 'demo', max_open_prs: 4 });
      expect(engine.auditEvents().events.map((e) => [e.seq, e.actor])).toEqual([
        [1, null],
        [2, 'admin'],
      ]);
    });

    describe('filters and pages', () => {
      /**
       * Two repos, one worker, events spread over 50 minutes:
       *   1 repo.upserted demo (admin, T0)         2 repo.upserted acme/app (admin, T0)
       *   3 worker.registered (w_0001, T0)         4 worker.online (w_0001, T0)
       *   5 worker.online again (w_0001, T0+10m: her heartbeat had gone stale)
       *   6 task.created t_0001 demo (admin, T0+10m) → 7 its grant to w_0001 (system)
       *   8 task.created t_0002 acme/app (admin, T0+20m), no grant (nobody knows rust)
       *   9 start t_0001 (w_0001, T0+30m)          10 task.updated t_0002 (admin, T0+40m)
       *  11 cancel t_0002 (admin, T0+50m)
       */
      async function story(): Promise<EngineHarness> {
        const h = await harness(makeDriver);
        h.repo();
        h.repo({ repo: 'acme/app' });
        const alice = h.onlineWorker({ name: 'Alice' });
        h.clock.advance(10 * MINUTE);
        h.engine.heartbeat(alice, {});
        h.task({ title: 'Fix the login' });
        h.clock.advance(10 * MINUTE);
        h.task({ repo: 'acme/app', title: 'Port to Rust', required_skills: ['rust'] });
        h.clock.advance(10 * MINUTE);
        h.engine.updateStatus(alice, 't_0001', { status: 'in_progress' });
        h.clock.advance(10 * MINUTE);
        h.engine.updateTask('t_0002', { title: 'Port to Go' });
        h.clock.advance(10 * MINUTE);
        h.engine.cancelTask('t_0002');
        return h;
      }
      const seqs = (
        h: EngineHarness,
        query: Parameters<EngineHarness['engine']['auditEvents']>[0],
      ) => h.engine.auditEvents(query).events.map((e) => e.seq);

      it('filters by type, actor, task, repo and time, all at once', async () => {
        const h = await story();
        expect(seqs(h, {})).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        expect(seqs(h, { type: 'task.created' })).toEqual([6, 8]);
        expect(seqs(h, { actor: 'admin' })).toEqual([1, 2, 6, 8, 10, 11]);
        expect(seqs(h, { actor: 'system' })).toEqual([7]);
        expect(seqs(h, { actor: 'w_0001' })).toEqual([3, 4, 5, 9]);
        expect(seqs(h, { task_id: 't_0002' })).toEqual([8, 10, 11]);
        expect(seqs(h, { repo: 'acme/app' })).toEqual([2, 8, 10, 11]);
        // since is inclusive, until exclusive.
        expect(seqs(h, { since: iso(T0 + 20 * MINUTE), until: iso(T0 + 40 * MINUTE) })).toEqual([
          8, 9,
        ]);
        expect(seqs(h, { since: '2026-01-17T13:20:00+01:00' })).toEqual([8, 9, 10, 11]);
        expect(seqs(h, { repo: 'acme/app', actor: 'admin', type: 'task.status_changed' })).toEqual([
          11,
        ]);
        expect(seqs(h, { repo: 'nope' })).toEqual([]);
      });

      it('pages in sequence order with next_after until the last page', async () => {
        const h = await story();
        const first = h.engine.auditEvents({ actor: 'admin', limit: 4 });
        expect(first.events.map((e) => e.seq)).toEqual([1, 2, 6, 8]);
        expect(first.next_after).toBe(8);
        const second = h.engine.auditEvents({ actor: 'admin', limit: 4, after: first.next_after! });
        expect(second.events.map((e) => e.seq)).toEqual([10, 11]);
        expect(second.next_after).toBeNull();
        // A page that ends exactly on the last match has no next page either.
        expect(h.engine.auditEvents({ actor: 'admin', limit: 6 }).next_after).toBeNull();
      });

      it('refuses a bad query with validation_failed', async () => {
        const h = await story();
        const refused = (query: Record<string, unknown>) =>
          owpErrorFrom(() => h.engine.auditEvents(query as never)).code;
        expect(refused({ type: 'task.exploded' })).toBe('validation_failed');
        expect(refused({ since: 'yesterday' })).toBe('validation_failed');
        expect(refused({ limit: 0 })).toBe('validation_failed');
        expect(refused({ limit: 1001 })).toBe('validation_failed');
        expect(refused({ after: -1 })).toBe('validation_failed');
        expect(refused({ repo: 'a/b/c' })).toBe('validation_failed');
        const error = owpErrorFrom(() =>
          h.engine.auditEvents({ since: iso(T0 + MINUTE), until: iso(T0 + MINUTE) }),
        );
        expect(error.message).toBe('since must be before until.');
        expect(error.details).toEqual({
          issues: [{ path: 'since', message: 'must be before until' }],
        });
      });
    });

    describe('read a window of the log at a time', () => {
      interface Logged {
        seq: number;
        at: number;
        type: string;
        actor: string;
        repo: string | null;
        task_id: string | null;
      }
      const TYPES = ['task.created', 'task.updated', 'worker.online'] as const;
      const ACTORS = ['admin', 'system', 'w_0001', 'w_0002'] as const;
      const REPOS = ['acme/app', 'acme/web'] as const;
      const TASKS = ['t_0001', 't_0002', 't_0003'] as const;

      /**
       * A migrated driver whose log holds `events`, in order (times need not rise with seq),
       * appended as the engine appends them, in blocks of four (`event_blocks`): the keyed reads
       * then go through several blocks and the events after the last.
       */
      async function logOf(events: Omit<Logged, 'seq'>[]): Promise<SqlDriver> {
        const driver = await makeDriver();
        migrate(driver, new ManualClock());
        setEventBlockSize(driver, 4);
        const log = new EventLog(driver);
        for (const e of events) {
          driver.transaction(() =>
            log.append(
              e.at,
              e.type as never,
              { repo: e.repo, task_id: e.task_id },
              {} as never,
              e.actor,
            ),
          );
        }
        return driver;
      }

      const logged = fc.record({
        at: fc.integer({ min: 0, max: 50 }).map((minute) => T0 + minute * MINUTE),
        type: fc.constantFrom(...TYPES),
        actor: fc.constantFrom(...ACTORS),
        repo: fc.option(fc.constantFrom(...REPOS)),
        task_id: fc.option(fc.constantFrom(...TASKS)),
      });
      const query = fc.record(
        {
          type: fc.constantFrom(...TYPES),
          actor: fc.constantFrom(...ACTORS),
          repo: fc.constantFrom(...REPOS),
          task_id: fc.constantFrom(...TASKS),
          since: fc.integer({ min: 0, max: 50 }).map((minute) => iso(T0 + minute * MINUTE)),
          until: fc.integer({ min: 0, max: 50 }).map((minute) => iso(T0 + minute * MINUTE)),
          after: fc.integer({ min: 0, max: 45 }),
          limit: fc.integer({ min: 1, max: 8 }),
        },
        { requiredKeys: [] },
      );

      /** The page the query asks for, filtered here from every event. */
      function expected(events: Logged[], q: AuditQuery) {
        const f = AuditQuery.parse(q);
        const since = f.since === undefined ? -Infinity : Date.parse(f.since);
        const until = f.until === undefined ? Infinity : Date.parse(f.until);
        const matches = events.filter(
          (e) =>
            e.seq > f.after &&
            (f.type === undefined || e.type === f.type) &&
            (f.actor === undefined || e.actor === f.actor) &&
            (f.repo === undefined || e.repo === f.repo) &&
            (f.task_id === undefined || e.task_id === f.task_id) &&
            e.at >= since &&
            e.at < until,
        );
        const page = matches.slice(0, f.limit).map((e) => e.seq);
        return { seqs: page, next_after: matches.length > f.limit ? page.at(-1)! : null };
      }

      it('gives the page one statement over the whole log would, whatever the window', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(logged, { maxLength: 40 }),
            query.filter((q) => !(q.since && q.until && q.since >= q.until)),
            fc.integer({ min: 1, max: 12 }),
            async (events, q, window) => {
              const driver = await logOf(events);
              try {
                const page = listAuditEvents(driver, AuditQuery.parse(q), window);
                const withSeq = events.map((e, i) => ({ ...e, seq: i + 1 }));
                expect({
                  seqs: page.events.map((e) => e.seq),
                  next_after: page.next_after,
                }).toEqual(expected(withSeq, q));
              } finally {
                driver.close();
              }
            },
          ),
          { numRuns: 150 },
        );
      }, 60_000);

      it('lets the host run between windows, and holds what was logged when it began', async () => {
        const events = Array.from({ length: 23 }, (_, i) => ({
          at: T0 + i * MINUTE,
          type: 'task.created',
          actor: i === 21 ? 'w_0002' : 'admin',
          repo: 'acme/app',
          task_id: null,
        }));
        const driver = await logOf(events);
        let pauses = 0;
        const page = await listAuditEventsPaced(
          driver,
          AuditQuery.parse({ actor: 'w_0002' }),
          async () => {
            pauses++;
            // Written while the read waits: after the last event when it began, so not in it.
            driver.insert(
              `INSERT INTO events (at, type, repo, task_id, worker_id, actor, data)
               VALUES ($at, 'task.created', NULL, NULL, NULL, 'w_0002', '{}')`,
              { at: T0 },
            );
          },
          5,
        );
        // 23 events, 5 to a window: five statements, the host ran between each two.
        expect(pauses).toBe(4);
        expect(page).toMatchObject({ events: [{ seq: 22 }], next_after: null });
        driver.close();
      });

      it("reads each filtered window through its key's blocks, and the unfiltered by rowid", async () => {
        const driver = await logOf([]);
        const plans = recordQueryPlans(driver, 'event');
        const queries = [{ type: 'task.created' }, { repo: 'acme/app' }, { task_id: 't_0001' }, {}];
        for (const q of queries) {
          listAuditEvents(driver, AuditQuery.parse({ ...q, actor: 'admin' }), 10);
        }
        // An empty log reads nothing; a statement is made once there is something to read.
        expect(plans).toEqual([]);
        const log = new EventLog(driver);
        for (let i = 0; i < 6; i++) {
          driver.transaction(() =>
            log.append(
              0,
              'task.created',
              { repo: 'acme/app', task_id: 't_0001' },
              {} as never,
              'admin',
            ),
          );
        }
        const written = plans.length;
        const pages = queries.map(
          (q) => listAuditEvents(driver, AuditQuery.parse({ ...q, actor: 'admin' }), 10).events,
        );
        // Each keyed read: the key's blocks, the four events of the block by sequence number, and
        // the two after it by rowid; the unfiltered read by rowid alone.
        for (const page of pages) expect(page.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
        const reads = plans.slice(written);
        expect(
          reads.filter((plan) => plan.includes('PRIMARY KEY (block=? AND key=?)')),
        ).toHaveLength(3);
        for (const plan of reads) expect(plan).not.toMatch(/SCAN events/);
        expect(reads.at(-1)).toMatch(/USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/);
        driver.close();
      });
    });
  });
}
