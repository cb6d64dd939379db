import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BetterSqlite3Driver } from '../server/better-sqlite3-driver.ts';
import {
  EVENT_BLOCK,
  type EventKeyColumn,
  keyedEvents,
  setEventBlockSize,
} from './event-blocks.ts';
import { EventLog } from './event-log.ts';
import { migrate } from './migrate.ts';
import { migrations } from './sql/migrations.generated.ts';
import { ManualClock } from './testing/manual-clock.ts';
import { recordQueryPlans } from './testing/query-plans.ts';

const clock = new ManualClock();
const TYPES = ['task.created', 'task.status_changed', 'worker.online'] as const;
const TASKS = ['t_1', 't_2', 't_3'];
const WORKERS = ['w_1', 'w_2'];
const REPOS = ['acme/app', 'acme/web'];

interface Logged {
  type: (typeof TYPES)[number];
  repo: string | null;
  task_id: string | null;
  worker_id: string | null;
  at: number;
  /** Written as a test or an import might: straight into the table, not through the log. */
  direct: boolean;
}

interface Row {
  seq: number;
  type: string;
  repo: string | null;
  task_id: string | null;
  worker_id: string | null;
  at: number;
}

const logged = fc.record({
  type: fc.constantFrom(...TYPES),
  repo: fc.option(fc.constantFrom(...REPOS)),
  task_id: fc.option(fc.constantFrom(...TASKS)),
  worker_id: fc.option(fc.constantFrom(...WORKERS)),
  at: fc.integer({ min: 0, max: 9 }),
  direct: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});

function logOf(events: readonly Logged[], blockSize: number): BetterSqlite3Driver {
  const driver = new BetterSqlite3Driver({ path: ':memory:' });
  migrate(driver, clock);
  setEventBlockSize(driver, blockSize);
  const log = new EventLog(driver);
  for (const e of events) {
    const refs = { repo: e.repo, task_id: e.task_id, worker_id: e.worker_id };
    if (e.direct) {
      driver.insert(
        `INSERT INTO events (at, type, repo, task_id, worker_id, actor, data)
         VALUES ($at, $type, $repo, $task_id, $worker_id, 'admin', '{}')`,
        { at: e.at, type: e.type, ...refs },
      );
    } else {
      driver.transaction(() => log.append(e.at, e.type, refs, {} as never, 'admin'));
    }
  }
  return driver;
}

describe('event blocks', () => {
  it('finds exactly the events a scan of the log finds, for any key, range, limit and filter', () => {
    fc.assert(
      fc.property(
        fc.array(logged, { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom<EventKeyColumn>('task_id', 'worker_id', 'repo', 'type'),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 1, max: 20 }),
        fc.option(fc.integer({ min: 0, max: 9 })),
        (events, blockSize, column, after, span, limit, before) => {
          const driver = logOf(events, blockSize);
          const all = driver.all<Row>('SELECT seq, type, repo, task_id, worker_id, at FROM events');
          const values = { task_id: TASKS, worker_id: WORKERS, repo: REPOS, type: TYPES };
          for (const value of values[column]) {
            const through = after + span;
            const found = keyedEvents<Row>(
              driver,
              'seq, type, repo, task_id, worker_id, at',
              { column, value },
              { after, through },
              limit,
              before === null ? '' : 'at < $before',
              before === null ? {} : { before },
            );
            const expected = all
              .filter((e) => e[column] === value && e.seq > after && e.seq <= through)
              .filter((e) => before === null || e.at < before)
              .slice(0, limit);
            expect(found).toEqual(expected);
          }
          driver.close();
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  it('walks a key through more blocks than one statement reads', () => {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    migrate(driver, clock);
    setEventBlockSize(driver, 2);
    const log = new EventLog(driver);
    driver.transaction(() => {
      for (let i = 0; i < 401; i++) {
        log.append(i, 'task.created', { task_id: i % 2 ? 't_odd' : 't_even' }, {} as never, 'x');
      }
    });
    const seqs = (after: number, limit: number) =>
      keyedEvents<{ seq: number }>(
        driver,
        'seq',
        { column: 'task_id', value: 't_even' },
        { after, through: 1000 },
        limit,
      ).map((row) => row.seq);
    const plans = recordQueryPlans(driver, 'event_blocks');
    // Odd sequence numbers: 200 blocks of two, then the last event after them.
    expect(seqs(0, 1000)).toEqual(Array.from({ length: 201 }, (_, i) => 2 * i + 1));
    expect(seqs(300, 3)).toEqual([301, 303, 305]);
    // A look-up of the key in each block, a page of blocks a statement.
    expect(plans.length).toBeGreaterThan(1);
    for (const plan of plans) expect(plan).toContain('USING PRIMARY KEY (block=? AND key=?)');
    driver.close();
  });

  it('writes a block when the event that completes it is appended, undone with it', () => {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    migrate(driver, clock);
    setEventBlockSize(driver, 3);
    const log = new EventLog(driver);
    const append = (task: string) =>
      log.append(0, 'task.created', { repo: 'acme/app', task_id: task }, {} as never, 'admin');
    const blocks = () =>
      driver.all('SELECT key, block, seqs FROM event_blocks ORDER BY key, block');
    driver.transaction(() => {
      append('t_1');
      append('t_2');
    });
    expect(blocks()).toEqual([]);
    expect(() =>
      driver.transaction(() => {
        append('t_1');
        throw new Error('the write fails after its event');
      }),
    ).toThrow();
    expect(blocks()).toEqual([]);
    driver.transaction(() => append('t_1'));
    expect(blocks()).toEqual([
      { key: 'r:acme/app', block: 0, seqs: '1,2,3' },
      { key: 't:t_1', block: 0, seqs: '1,3' },
      { key: 't:t_2', block: 0, seqs: '2' },
      { key: 'y:task.created', block: 0, seqs: '1,2,3' },
    ]);
    expect(driver.get('SELECT built FROM event_blocks_state')).toEqual({ built: 1 });
    expect(() => setEventBlockSize(driver, 8)).toThrow(/before its first event/);
    driver.close();
  });

  it('fills the blocks of a log written before them (migration 0014) as appending would', () => {
    const events = Array.from({ length: 2 * EVENT_BLOCK + 100 }, (_, i) => ({
      type: TYPES[i % 3]!,
      repo: i % 5 === 0 ? null : REPOS[i % 2]!,
      task_id: i % 7 === 0 ? null : `t_${i % 11}`,
      worker_id: i % 2 === 0 ? null : WORKERS[i % 3 === 0 ? 0 : 1]!,
    }));
    const blocksOf = (driver: BetterSqlite3Driver) => ({
      blocks: driver.all('SELECT key, block, seqs FROM event_blocks ORDER BY key, block'),
      keys: driver.all('SELECT key, first_block FROM event_keys ORDER BY key'),
      state: driver.get('SELECT built, size FROM event_blocks_state'),
    });
    const insert = `INSERT INTO events (at, type, repo, task_id, worker_id, actor, data)
      VALUES (0, $type, $repo, $task_id, $worker_id, 'admin', '{}')`;

    const upgraded = new BetterSqlite3Driver({ path: ':memory:' });
    migrate(
      upgraded,
      clock,
      migrations.filter((m) => m.id < 14),
    );
    upgraded.transaction(() => {
      for (const e of events) upgraded.insert(insert, e);
    });
    migrate(upgraded, clock);

    const appended = new BetterSqlite3Driver({ path: ':memory:' });
    migrate(appended, clock);
    const log = new EventLog(appended);
    appended.transaction(() => {
      for (const e of events) log.append(0, e.type, e, {} as never, 'admin');
    });

    const expected = blocksOf(appended);
    expect(expected.state).toEqual({ built: 2, size: EVENT_BLOCK });
    expect(blocksOf(upgraded)).toEqual(expected);
    // The read indexes the blocks replace are gone.
    expect(
      upgraded.all("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'"),
    ).toEqual([]);
    upgraded.close();
    appended.close();
  });
});
