import { OwpError } from '../protocol/errors.ts';
import type { AuditFilter, AuditPage } from '../protocol/index.ts';
import { type EventRow, toEvent } from './event-log.ts';
import type { SqlDriver, SqlParams } from './storage-port.ts';

/**
 * The audit log: events filtered by type, actor, task, repo and time, oldest first, `limit` at a
 * time after the sequence number `after`. A read through the storage port, so every driver runs it.
 *
 * The WHERE clause holds only the filters given, rather than `($x IS NULL OR col = $x)` for each:
 * SQLite plans a statement once, and a condition that may be switched off cannot use an index, so
 * the repo and type filters could not use theirs (`events_by_repo`, `events_by_type`).
 */
export function listAuditEvents(driver: SqlDriver, filter: AuditFilter): AuditPage {
  const since = filter.since === undefined ? undefined : Date.parse(filter.since);
  const until = filter.until === undefined ? undefined : Date.parse(filter.until);
  if (since !== undefined && until !== undefined && since >= until) {
    throw new OwpError('validation_failed', 'since must be before until.', {
      issues: [{ path: 'since', message: 'must be before until' }],
    });
  }
  const conditions = ['seq > $after'];
  const params: SqlParams = { after: filter.after, limit: filter.limit + 1 };
  const add = (condition: string, name: string, value: string | number | undefined) => {
    if (value === undefined) return;
    conditions.push(condition);
    params[name] = value;
  };
  add('type = $type', 'type', filter.type);
  add('actor = $actor', 'actor', filter.actor);
  add('task_id = $task_id', 'task_id', filter.task_id);
  add('repo = $repo', 'repo', filter.repo);
  add('at >= $since', 'since', since);
  add('at < $until', 'until', until);
  // One row more than the page: whether it exists says whether there is a next page.
  const rows = driver.all<EventRow>(
    `SELECT seq, at, type, repo, task_id, worker_id, actor, data FROM events
      WHERE ${conditions.join(' AND ')}
      ORDER BY seq LIMIT $limit`,
    params,
  );
  const page = rows.slice(0, filter.limit);
  return {
    events: page.map(toEvent),
    next_after: rows.length > filter.limit ? page.at(-1)!.seq : null,
  };
}
