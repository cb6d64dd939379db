import { OwpError } from '../protocol/errors.ts';
import type { AuditFilter, AuditPage } from '../protocol/index.ts';
import { firstEventKey, keyedEvents } from './event-blocks.ts';
import { type EventRow, toEvent } from './event-log.ts';
import { GivenFilters } from './given-filters.ts';
import { type PagedRead, readAtOnce, readPaced } from './paced.ts';
import type { SqlDriver } from './storage-port.ts';

/**
 * Sequence numbers one statement of an audit read covers: the most events it passes over, ~1–2 ms
 * of the thread (measured: 60–110 ns an event, by rowid or through an index, the filters checked
 * on each). A filter that matches little — a rare actor, a time range, `until` near the start —
 * would otherwise walk the whole log in one statement: 23–42 ms at 400,000 events.
 */
const AUDIT_SCAN_WINDOW = 20_000;

/**
 * The audit log: events filtered by type, actor, task, repo and time, oldest first, `limit` at a
 * time after the sequence number `after`. A read through the storage port, so every driver runs it.
 */
export function listAuditEvents(
  driver: SqlDriver,
  filter: AuditFilter,
  window = AUDIT_SCAN_WINDOW,
): AuditPage {
  return readAtOnce(auditRead(driver, filter, window));
}

/**
 * The same, awaiting `pause` between the statements of a read that passes over more than a window
 * of the log: the server's other requests, or Obsidian, run in between. The page holds what was
 * logged when the read began.
 */
export function listAuditEventsPaced(
  driver: SqlDriver,
  filter: AuditFilter,
  pause: () => Promise<void>,
  window = AUDIT_SCAN_WINDOW,
): Promise<AuditPage> {
  return readPaced(auditRead(driver, filter, window), pause);
}

/**
 * Reads the page a window of sequence numbers at a time, yielding between windows, until it has
 * one event more than the page (whether that exists says whether there is a next page) or has
 * reached the event that was last when it began. With a task, repo or type filter (the first of
 * them given) a window's events are found through that key's blocks (`keyedEvents`), else by
 * rowid; the other filters are checked on the events read. The WHERE clause holds only the
 * filters given (`GivenFilters`).
 */
function* auditRead(driver: SqlDriver, filter: AuditFilter, window: number): PagedRead<AuditPage> {
  const since = filter.since === undefined ? undefined : Date.parse(filter.since);
  const until = filter.until === undefined ? undefined : Date.parse(filter.until);
  if (since !== undefined && until !== undefined && since >= until) {
    throw new OwpError('validation_failed', 'since must be before until.', {
      issues: [{ path: 'since', message: 'must be before until' }],
    });
  }
  const filters = new GivenFilters()
    .add('type = $type', 'type', filter.type)
    .add('actor = $actor', 'actor', filter.actor)
    .add('task_id = $task_id', 'task_id', filter.task_id)
    .add('repo = $repo', 'repo', filter.repo)
    .add('at >= $since', 'since', since)
    .add('at < $until', 'until', until);
  const key = firstEventKey(filter, ['task_id', 'repo', 'type']);
  const columns = 'seq, at, type, repo, task_id, worker_id, actor, data';
  const condition = filters.condition ? ` AND ${filters.condition}` : '';
  const byRowid = `SELECT ${columns} FROM events
      WHERE seq > $after AND seq <= $through${condition}
      ORDER BY seq LIMIT $limit`;
  const read = (after: number, through: number, limit: number): EventRow[] =>
    key
      ? keyedEvents<EventRow>(
          driver,
          columns,
          key,
          { after, through },
          limit,
          filters.condition,
          filters.params,
        )
      : driver.all<EventRow>(byRowid, { ...filters.params, after, through, limit });
  const last = driver.get<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM events')!.seq ?? 0;
  const wanted = filter.limit + 1;
  const rows: EventRow[] = [];
  for (let after = filter.after; after < last && rows.length < wanted; after += window) {
    if (after > filter.after) yield;
    rows.push(...read(after, Math.min(after + window, last), wanted - rows.length));
  }
  const page = rows.slice(0, filter.limit);
  return {
    events: page.map(toEvent),
    next_after: rows.length > filter.limit ? page.at(-1)!.seq : null,
  };
}
