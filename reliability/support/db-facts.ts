import Database from 'better-sqlite3';

/** One row of the `leases` table: every lease ever granted. Times are ms since the epoch. */
export interface LeaseFact {
  id: string;
  task_id: string;
  worker_id: string;
  epoch: number;
  granted_at: number;
  ended_at: number | null;
  end_cause: string | null;
}

export interface TaskFact {
  id: string;
  title: string;
  status: string;
  assignee: string | null;
  lease_id: string | null;
  lease_epoch: number;
  version: number;
}

/** A `task.status_changed` or `lease.renewed` event, flattened. */
export interface LeaseEventFact {
  seq: number;
  at: number;
  type: 'task.status_changed' | 'lease.renewed';
  task_id: string;
  worker_id: string | null;
  /** For status changes. */
  from?: string;
  to?: string;
  cause?: string;
  epoch?: number;
  lease_id: string | null;
}

export interface WorkerFact {
  id: string;
  name: string;
  token_hash: string;
  last_heartbeat_at: number | null;
}

/** What the checkers read from a server database once the run is over. */
export interface DbFacts {
  tasks: TaskFact[];
  leases: LeaseFact[];
  leaseEvents: LeaseEventFact[];
  workers: WorkerFact[];
  eventCount: number;
  /** Tasks with a `task.created` event. */
  createdEvents: Set<string>;
  integrity: string;
}

/**
 * Reads the facts straight from the SQLite file with better-sqlite3 — not through the engine, so a
 * bug in the engine's reads cannot hide one in its writes. Opening read-write lets SQLite recover
 * the WAL a killed server left behind, exactly as the next server start would.
 */
export function readDbFacts(path: string): DbFacts {
  const db = new Database(path);
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
    const tasks = db
      .prepare(
        'SELECT id, title, status, assignee, lease_id, lease_epoch, version FROM tasks ORDER BY rowid',
      )
      .all() as TaskFact[];
    const leases = db
      .prepare(
        'SELECT id, task_id, worker_id, epoch, granted_at, ended_at, end_cause FROM leases ORDER BY rowid',
      )
      .all() as LeaseFact[];
    const rows = db
      .prepare(
        `SELECT seq, at, type, task_id, worker_id, data FROM events
          WHERE type IN ('task.status_changed', 'lease.renewed') ORDER BY seq`,
      )
      .all() as Array<{
      seq: number;
      at: number;
      type: LeaseEventFact['type'];
      task_id: string;
      worker_id: string | null;
      data: string;
    }>;
    const leaseEvents = rows.map((row): LeaseEventFact => {
      const data = JSON.parse(row.data) as {
        from?: string;
        to?: string;
        cause?: string;
        epoch?: number;
        lease_id?: string | null;
      };
      return {
        seq: row.seq,
        at: row.at,
        type: row.type,
        task_id: row.task_id,
        worker_id: row.worker_id,
        from: data.from,
        to: data.to,
        cause: data.cause,
        epoch: data.epoch,
        lease_id: data.lease_id ?? null,
      };
    });
    const workers = db
      .prepare('SELECT id, name, token_hash, last_heartbeat_at FROM workers ORDER BY rowid')
      .all() as WorkerFact[];
    const eventCount = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    const createdEvents = new Set(
      (
        db.prepare("SELECT task_id FROM events WHERE type = 'task.created'").all() as Array<{
          task_id: string;
        }>
      ).map((row) => row.task_id),
    );
    return { tasks, leases, leaseEvents, workers, eventCount, createdEvents, integrity };
  } finally {
    db.close();
  }
}
