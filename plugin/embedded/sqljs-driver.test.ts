import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../scheduler/testing/seeded-random.ts';
import { runEngineContract } from '../../scheduler/engine.case.test.ts';
import { EngineHarness } from '../../scheduler/testing/engine-harness.ts';
import { type JournalStatement, SqlJsDriver } from './sqljs-driver.ts';

runEngineContract('sql.js', () => SqlJsDriver.open());

describe('SqlJsDriver persistence', () => {
  it('exports to bytes that reopen with every task and event', async () => {
    const first = new EngineHarness(await SqlJsDriver.open());
    first.repo();
    const task = first.task({ title: 'Saved to bytes' });
    const bytes = (first.driver as SqlJsDriver).export();

    const second = new EngineHarness(await SqlJsDriver.open(bytes));
    expect(second.engine.getTask(task.task_id).title).toBe('Saved to bytes');
    expect(second.engine.events().map((e) => e.type)).toEqual(['repo.upserted', 'task.created']);
  });

  it('keeps foreign keys enforced after an export', async () => {
    const driver = await SqlJsDriver.open();
    new EngineHarness(driver);
    driver.export();
    expect(driver.get('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
    expect(() =>
      driver.run(
        `INSERT INTO tasks (id, repo, title, description, estimate_points, priority, skill_set_id,
                            tier, status, created_at, updated_at)
         VALUES ('t_x', 'no-such-repo', 'x', '', 1, 1, 0, 0, 'ready', 0, 0)`,
      ),
    ).toThrow(/FOREIGN KEY/);
  });

  it('refuses to export inside a transaction rather than write a torn copy', async () => {
    const driver = await SqlJsDriver.open();
    expect(() => driver.transaction(() => driver.export())).toThrow(/during a transaction/);
  });
});

/** Every row of every table, in a stable order: two databases are equal when these are. */
function dump(driver: SqlJsDriver): Record<string, unknown[]> {
  const tables = driver.all<{ name: string; without_rowid: number }>(
    `SELECT name, sql LIKE '%WITHOUT ROWID%' AS without_rowid FROM sqlite_master
      WHERE type = 'table' ORDER BY name`,
  );
  return Object.fromEntries(
    tables.map(({ name, without_rowid }) => [
      name,
      driver.all(`SELECT * FROM "${name}" ORDER BY ${without_rowid ? '1, 2' : 'rowid'}`),
    ]),
  );
}

describe('SqlJsDriver journal', () => {
  it('hands over the writes of each committed transaction, and none of a rolled-back one', async () => {
    const driver = await SqlJsDriver.open();
    driver.exec('CREATE TABLE t (v INTEGER)');
    const committed: unknown[] = [];
    driver.onCommit((writes) => committed.push(writes));

    driver.transaction(() => {
      driver.run('INSERT INTO t (v) VALUES ($v)', { v: 1 });
      expect(driver.get('SELECT COUNT(*) AS n FROM t')).toEqual({ n: 1 }); // reads: not journaled
      expect(() =>
        driver.transaction(() => {
          driver.run('INSERT INTO t (v) VALUES ($v)', { v: 2 });
          throw new Error('inner');
        }),
      ).toThrow('inner');
      driver.get('UPDATE t SET v = v + $d RETURNING v', { d: 10 });
    });
    expect(() =>
      driver.transaction(() => {
        driver.run('INSERT INTO t (v) VALUES ($v)', { v: 3 });
        throw new Error('outer');
      }),
    ).toThrow('outer');
    driver.run('DELETE FROM t WHERE v = $v', { v: 99 }); // changes nothing: not journaled
    driver.run('DELETE FROM t WHERE v = $v', { v: 11 }); // outside a transaction: its own

    expect(committed).toEqual([
      [
        ['INSERT INTO t (v) VALUES ($v)', { v: 1 }],
        ['UPDATE t SET v = v + $d RETURNING v', { d: 10 }],
      ],
      [['DELETE FROM t WHERE v = $v', { v: 11 }]],
    ]);
  });

  it("replaying an engine's journal on the database it started from gives the same database", async () => {
    const random = seededRandom(20261126);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const h = new EngineHarness(await SqlJsDriver.open());
    const driver = h.driver as SqlJsDriver;
    h.repo({ max_open_prs: 3 });
    h.repo({ repo: 'offers', assignment: 'offer', max_open_prs: 2 });
    const start = driver.export();
    const journal: JournalStatement[][] = [];
    driver.onCommit((writes) => journal.push(writes));

    const workers = ['go', 'ts', ''].map((skill, i) =>
      h.onlineWorker({ name: `W${i}`, skills: skill ? [skill] : [], max_concurrent_tasks: 2 }),
    );
    const tasks: string[] = [];
    let failures = 0;
    for (let step = 0; step < 400; step++) {
      const worker = pick(workers);
      try {
        switch (Math.floor(random() * 9)) {
          case 0:
          case 1: {
            const task = h.task({
              repo: pick(['demo', 'demo', 'offers']),
              priority: Math.floor(random() * 5),
              required_skills: pick([[], [], ['go'], ['ts']]),
              area: pick([null, null, 'api', 'ui']),
              depends_on: tasks.length > 0 && random() < 0.2 ? [pick(tasks)] : [],
            });
            tasks.push(task.task_id);
            break;
          }
          case 2:
            h.engine.heartbeat(worker, { status: pick(['idle', 'working'] as const) });
            break;
          case 3: {
            const offer = h.engine.listOffers(worker).offers[0];
            if (offer && random() < 0.6) h.engine.acceptOffer(worker, offer.offer_id);
            else if (offer) h.engine.rejectOffer(worker, offer.offer_id, { reason: 'other' });
            break;
          }
          case 4:
          case 5: {
            const lease = h.engine.getWork(worker).leases[0];
            if (!lease) break;
            const next = pick(['in_progress', 'pr_opened', 'blocked', 'merged'] as const);
            h.engine.updateStatus(worker, lease.task_id, {
              status: next,
              ...(next === 'pr_opened'
                ? { artifact: { pr_url: `https://x.test/pr/${step}` } }
                : {}),
            });
            break;
          }
          case 6:
            if (tasks.length > 0) h.engine.markMerged(pick(tasks));
            break;
          case 7:
            h.clock.advanceSeconds(pick([1, 30, 900, 4000]));
            h.engine.sweep();
            break;
          default:
            if (tasks.length > 0)
              h.engine[pick(['cancelTask', 'requeueTask'] as const)](pick(tasks));
        }
      } catch {
        failures++; // refused writes (stale leases, invalid moves): rolled back, never journaled
      }
    }

    const replayed = await SqlJsDriver.open(start);
    replayed.replay(journal);
    expect(dump(replayed)).toEqual(dump(driver));
    // The comparison sees a missing transaction (the last one that recorded an event).
    const last = journal.findLastIndex((writes) =>
      writes.some(([sql]) => sql.startsWith('INSERT INTO events')),
    );
    const short = await SqlJsDriver.open(start);
    short.replay(journal.filter((_, i) => i !== last));
    expect(dump(short)).not.toEqual(dump(driver));
    expect(failures).toBeGreaterThan(10);
    expect(journal.length).toBeGreaterThan(150);
  });
});
