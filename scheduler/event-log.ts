import type { OwpEvent, OwpEventData, OwpEventType } from '../protocol/index.ts';
import { toIso } from './clock.ts';
import { afterAppend, firstEventKey, keyedEvents } from './event-blocks.ts';
import type { SqlDriver } from './storage-port.ts';

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
    afterAppend(this.driver, seq);
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

  /**
   * Events in sequence order, for catching up after `Last-Event-ID`. A task's events are found
   * through its blocks (`keyedEvents`), else a worker's through its own; the whole log by rowid.
   */
  list(query: EventQuery = {}): OwpEvent[] {
    const after = query.after ?? 0;
    const limit = Math.min(Math.max(query.limit ?? 500, 1), 5000);
    const key = firstEventKey(query, ['task_id', 'worker_id']);
    // A task's events seen by one worker: both filters.
    const byWorker = query.task_id !== undefined && query.worker_id !== undefined;
    const rows = key
      ? keyedEvents<EventRow>(
          this.driver,
          '*',
          key,
          { after, through: Number.MAX_SAFE_INTEGER },
          limit,
          byWorker ? 'worker_id = $worker' : '',
          byWorker ? { worker: query.worker_id! } : {},
        )
      : this.driver.all<EventRow>(
          'SELECT * FROM events WHERE seq > $after ORDER BY seq LIMIT $limit',
          { after, limit },
        );
    return rows.map(toEvent);
  }

  lastSeq(): number {
    return this.driver.get<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM events')?.seq ?? 0;
  }
}
