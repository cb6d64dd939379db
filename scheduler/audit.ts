import { OwpError } from '../protocol/errors.ts';
import type { AuditFilter, AuditPage } from '../protocol/index.ts';
import { type EventRow, toEvent } from './event-log.ts';
import { GivenFilters } from './given-filters.ts';
import type { SqlDriver } from './storage-port.ts';

/**
 * The audit log: events filtered by type, actor, task, repo and time, oldest first, `limit` at a
 * time after the sequence number `after`. A read through the storage port, so every driver runs it.
 *
 * The WHERE clause holds only the filters given (`GivenFilters`), so the repo, type and task
 * filters use their indexes (`events_by_repo`, `events_by_type`, `events_by_task`).
 */
export function listAuditEvents(driver: SqlDriver, filter: AuditFilter): AuditPage {
  const since = filter.since === undefined ? undefined : Date.parse(filter.since);
  const until = filter.until === undefined ? undefined : Date.parse(filter.until);
  if (since !== undefined && until !== undefined && since >= until) {
    throw new OwpError('validation_failed', 'since must be before until.', {
      issues: [{ path: 'since', message: 'must be before until' }],
    });
  }
  const filters = new GivenFilters({ after: filter.after, limit: filter.limit + 1 })
    .always('seq > $after')
    .add('type = $type', 'type', filter.type)
    .add('actor = $actor', 'actor', filter.actor)
    .add('task_id = $task_id', 'task_id', filter.task_id)
    .add('repo = $repo', 'repo', filter.repo)
    .add('at >= $since', 'since', since)
    .add('at < $until', 'until', until);
  // One row more than the page: whether it exists says whether there is a next page.
  const rows = driver.all<EventRow>(
    `SELECT seq, at, type, repo, task_id, worker_id, actor, data FROM events
      ${filters.where}
      ORDER BY seq LIMIT $limit`,
    filters.params,
  );
  const page = rows.slice(0, filter.limit);
  return {
    events: page.map(toEvent),
    next_after: rows.length > filter.limit ? page.at(-1)!.seq : null,
  };
}
