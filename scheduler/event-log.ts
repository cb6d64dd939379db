import type { OwpEvent, OwpEventData, OwpEventType } from '../protocol/index.ts';
import { toIso } from './clock.ts';
import { GivenFilters } from './given-filters.ts';
import type { SqlDriver, SqlParams } from './storage-port.ts';

/** One row of the events table. */
export interface EventRow {
  seq: number;
  at: number;
  type: OwpEventType;
  repo: string | null;
  task_id: string | null;
  worker_id: string | null;
  /** Null on events recorded before actors were kept (migration 0005). */
  actor: string | null;
  data: string;
}

export interface EventRefs {
  repo?: string | null;
  task_id?: string | null;
  worker_id?: string | null;
}

export interface EventQuery {
  /** Events with a sequence number greater than this. */
  after?: number;
  limit?: number;
  /** Only events about this worker: its own record and the tasks it holds or held. */
  worker_id?: string;
  task_id?: string;
}

/** The wire form of an event row. */
export const toEvent = (row: EventRow): OwpEvent =>
  ({
    seq: row.seq,
    at: toIso(row.at),
    type: row.type,
    repo: row.repo,
    task_id: row.task_id,
    worker_id: row.worker_id,
    actor: row.actor,
    data: JSON.parse(row.data) as unknown,
  }) as OwpEvent;

/**
 * The statement `EventLog.list` runs: only the filters given (`GivenFilters`; written as
 * `$task IS NULL OR …`, a task's history read the whole log from its start). A task's events come
 * through `events_by_task` and a worker's through `events_by_worker`, already in order.
 */
function eventListStatement(query: EventQuery): { sql: string; params: SqlParams } {
  const filters = new GivenFilters({
    after: query.after ?? 0,
    limit: Math.min(Math.max(query.limit ?? 500, 1), 5000),
  })
    .always('seq > $after')
    .add('task_id = $task', 'task', query.task_id)
    .add('worker_id = $worker', 'worker', query.worker_id);
  return {
    sql: `SELECT * FROM events ${filters.where} ORDER BY seq LIMIT $limit`,
    params: filters.params,
  };
}

/** The append-only event table: audit log, SSE source and history in one. */
export class EventLog {
  constructor(private readonly driver: SqlDriver) {}

  /** Appends one event; `actor` is who the write was made by (`admin`, `system` or a worker id). */
  append<T extends OwpEventType>(
    at: number,
    type: T,
    refs: EventRefs,
    data: OwpEventData<T>,
    actor: string,
  ): OwpEvent {
    const seq = this.driver.insert(
      `INSERT INTO events (at, type, repo, task_id, worker_id, actor, data)
       VALUES ($at, $type, $repo, $task_id, $worker_id, $actor, $data)`,
      {
        at,
        type,
        repo: refs.repo ?? null,
        task_id: refs.task_id ?? null,
        worker_id: refs.worker_id ?? null,
        actor,
        data: JSON.stringify(data),
      },
    );
    return {
      seq,
      at: toIso(at),
      type,
      repo: refs.repo ?? null,
      task_id: refs.task_id ?? null,
      worker_id: refs.worker_id ?? null,
      actor,
      data,
    } as OwpEvent;
  }

  /** Events in sequence order, for catching up after `Last-Event-ID`. */
  list(query: EventQuery = {}): OwpEvent[] {
    const { sql, params } = eventListStatement(query);
    return this.driver.all<EventRow>(sql, params).map(toEvent);
  }

  lastSeq(): number {
    return this.driver.get<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM events')?.seq ?? 0;
  }
}
