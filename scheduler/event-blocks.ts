import type { SqlDriver, SqlParams } from './storage-port.ts';

/**
 * Events per block, as migration 0014 stores it (`event_blocks_state.size`): block b holds the
 * sequence numbers b × size + 1 … (b + 1) × size.
 */
export const EVENT_BLOCK = 1024;

/** The columns an event can be found by, and the prefix of their keys in `event_blocks`. */
const PREFIX = { task_id: 't:', worker_id: 'w:', repo: 'r:', type: 'y:' } as const;
export type EventKeyColumn = keyof typeof PREFIX;

/** Events are found by one of these: a task, a worker, a repo or a type. */
export interface EventKey {
  column: EventKeyColumn;
  value: string;
}

/** The key of the first of `columns` that `filter` gives a value for, in that order. */
export function firstEventKey(
  filter: Partial<Record<EventKeyColumn, string>>,
  columns: readonly EventKeyColumn[],
): EventKey | undefined {
  const column = columns.find((name) => filter[name] !== undefined);
  return column && { column, value: filter[column]! };
}

/**
 * A range of events as block rows: each key that occurs there, with its sequence numbers in order.
 * One statement, so the grouping happens in SQLite; migration 0014 runs the same over a whole log.
 */
const WRITE_BLOCK = `WITH run AS (
    SELECT seq, task_id, worker_id, repo, type FROM events WHERE seq > $from AND seq <= $through
  )
  INSERT INTO event_blocks (block, key, seqs)
  SELECT $block, key, group_concat(seq, ',' ORDER BY seq)
  FROM (
    SELECT 't:' || task_id AS key, seq FROM run WHERE task_id IS NOT NULL
    UNION ALL
    SELECT 'w:' || worker_id, seq FROM run WHERE worker_id IS NOT NULL
    UNION ALL
    SELECT 'r:' || repo, seq FROM run WHERE repo IS NOT NULL
    UNION ALL
    SELECT 'y:' || type, seq FROM run
  )
  GROUP BY key`;
/** The keys a block holds that no block before it did. */
const FIRST_SEEN = `INSERT OR IGNORE INTO event_keys (key, first_block)
  SELECT key, block FROM event_blocks WHERE block = $block`;
const STATE = 'SELECT built, size FROM event_blocks_state';

/**
 * How many blocks are written (every event with seq ≤ built × size is in one) and their size.
 * Without the row (a log older than migration 0014 is never read here), nothing is in a block.
 */
function blockState(driver: SqlDriver): { built: number; size: number } {
  return driver.get<{ built: number; size: number }>(STATE) ?? { built: 0, size: EVENT_BLOCK };
}

/** Each log's block size, read once: it is set when the log is created and never changes. */
const sizes = new WeakMap<SqlDriver, number>();

function blockSize(driver: SqlDriver): number {
  let size = sizes.get(driver);
  if (size === undefined) {
    size = blockState(driver).size;
    sizes.set(driver, size);
  }
  return size;
}

/**
 * Tests: blocks of `size` events on a log that has none yet, so a few dozen events span several
 * blocks.
 */
export function setEventBlockSize(driver: SqlDriver, size: number): void {
  if (driver.get('SELECT 1 AS found FROM events LIMIT 1')) {
    throw new Error('The block size of a log is set before its first event.');
  }
  driver.run('UPDATE event_blocks_state SET size = $size', { size });
  sizes.set(driver, size);
}

/**
 * After the event `seq` was appended, in the same transaction: writes the blocks it completes. An
 * event whose number ends a block completes it (and any before it left unwritten: events inserted
 * other than through the log).
 */
export function afterAppend(driver: SqlDriver, seq: number): void {
  const size = blockSize(driver);
  if (seq % size !== 0) return;
  const complete = seq / size;
  let { built } = blockState(driver);
  if (built >= complete) return;
  for (; built < complete; built++) {
    driver.run(WRITE_BLOCK, { block: built, from: built * size, through: (built + 1) * size });
    driver.run(FIRST_SEEN, { block: built });
  }
  driver.run('UPDATE event_blocks_state SET built = $built', { built });
}

/** Blocks looked in per statement while walking a key's blocks. */
const BLOCKS_PAGE = 256;
/** The key's rows in the blocks first … end − 1, up to a page of blocks: a look-up per block. */
const KEY_BLOCKS = `WITH RECURSIVE probe (n) AS (
    SELECT $first UNION ALL SELECT n + 1 FROM probe WHERE n + 1 < $end LIMIT ${BLOCKS_PAGE}
  )
  SELECT b.block, b.seqs FROM probe JOIN event_blocks b ON b.block = probe.n AND b.key = $key
  ORDER BY b.block`;
const FIRST_BLOCK = 'SELECT first_block FROM event_keys WHERE key = $key';

/**
 * The events with `key` whose sequence numbers are in (after, through] and which pass `where` (a
 * condition on the events' columns, or ''), in log order, at most `limit`: `columns` of each. The
 * key is looked up in each block from the first that holds it, and its rows there name the events
 * to read by sequence number; past the last written block the events (fewer than a block) are read
 * in order and checked. `params` are `where`'s; the names this adds start with `k_`.
 */
export function keyedEvents<Row>(
  driver: SqlDriver,
  columns: string,
  key: EventKey,
  range: { after: number; through: number },
  limit: number,
  where = '',
  params: SqlParams = {},
): Row[] {
  const rows: Row[] = [];
  if (limit <= 0 || range.through <= range.after) return rows;
  const also = where ? ` AND ${where}` : '';
  const { built, size } = blockState(driver);
  const indexed = Math.min(range.through, built * size);
  const end = Math.ceil(indexed / size);
  const blockKey = PREFIX[key.column] + key.value;
  const seen = driver.get<{ first_block: number }>(FIRST_BLOCK, { key: blockKey });
  let first = Math.max(Math.floor(range.after / size), seen?.first_block ?? end);
  while (first < end) {
    const blocks = driver.all<{ block: number; seqs: string }>(KEY_BLOCKS, {
      key: blockKey,
      first,
      end,
    });
    for (const { seqs } of blocks) {
      const wanted = seqs
        .split(',')
        .map(Number)
        .filter((seq) => seq > range.after && seq <= indexed);
      if (wanted.length === 0) continue;
      rows.push(
        ...driver.all<Row>(
          `SELECT ${columns} FROM events
            WHERE seq IN (SELECT value FROM json_each($k_seqs))${also}
            ORDER BY seq LIMIT $k_limit`,
          { ...params, k_seqs: `[${wanted.join(',')}]`, k_limit: limit - rows.length },
        ),
      );
      if (rows.length >= limit) return rows;
    }
    first += BLOCKS_PAGE;
  }
  if (range.through > indexed) {
    rows.push(
      ...driver.all<Row>(
        `SELECT ${columns} FROM events
          WHERE seq > $k_from AND seq <= $k_through AND ${key.column} = $k_value${also}
          ORDER BY seq LIMIT $k_limit`,
        {
          ...params,
          k_from: Math.max(range.after, indexed),
          k_through: range.through,
          k_value: key.value,
          k_limit: limit - rows.length,
        },
      ),
    );
  }
  return rows;
}
