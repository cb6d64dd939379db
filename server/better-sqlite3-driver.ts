import Database from 'better-sqlite3';
import { WalCheckpointer } from './wal-checkpointer.ts';
import {
  createTransactionControl,
  rowShapeFor,
  type RowShape,
  type SqlDriver,
  type SqlParams,
} from '../scheduler/storage-port.ts';

export interface BetterSqlite3Options {
  /** A file path, or `:memory:`. */
  path: string;
  /**
   * Group commit: the transactions of one event-loop turn become savepoints of a single commit,
   * made on `setImmediate`, and the turn's reads run in that transaction too. Whoever answers
   * waits for `committed()` first.
   */
  groupCommit?: boolean;
  /**
   * Checkpoint the WAL from a worker thread (file databases only), keeping that work off the
   * thread that writes; its COMMITs then checkpoint only as a backstop, past BACKSTOP_PAGES.
   */
  backgroundCheckpoint?: boolean;
}

interface RawQuery {
  statement: Database.Statement;
  /** Set by the first row (`rowShapeFor`). */
  shape?: RowShape;
}

/** WAL pages after which a COMMIT checkpoints anyway (SQLite's default is 1,000): about 40 MB. */
const BACKSTOP_PAGES = 10_000;

/**
 * The server's storage: a SQLite file through better-sqlite3, in WAL mode so readers never wait
 * for the writer. `synchronous = NORMAL` is durable across process crashes in WAL mode (only a
 * power loss can drop the last commits), at a fraction of FULL's fsync cost.
 *
 * With `groupCommit`, every write of one turn of the event loop — all the requests Node read from
 * its sockets in that turn — is committed at once: the WAL frames of pages they share (the event
 * log's tail, the queue indexes, the workers) are written once per turn instead of once per
 * request. Each write is still its own savepoint, so one that fails undoes only itself; its events
 * reach listeners, and its answer its client, only after the commit (`onCommitted`, `committed`).
 * A turn's reads join the same transaction (`joinBatch`).
 */
export class BetterSqlite3Driver implements SqlDriver {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly queries = new Map<string, RawQuery>();
  private readonly control: ReturnType<typeof createTransactionControl>;
  private readonly groupCommit: boolean;
  private readonly checkpointer: WalCheckpointer | null = null;
  private batch: {
    /** False while the turn has only read: its transaction holds a snapshot, not the write lock. */
    writing: boolean;
    afterCommit: Array<() => void>;
    waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
  } | null = null;
  /** For `readVersion`: `exec` calls and other connections' commits seen, and SQLite's counter. */
  private changedElsewhere = 0;
  private dataVersion: Database.Statement | null = null;
  private lastDataVersion = 0;

  constructor(options: BetterSqlite3Options) {
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // The savepoints of a group commit keep the pages they change in a sub-journal, which SQLite
    // moves to a file in /var/tmp past 64 KiB: at 100 workers most turns did, each creating,
    // writing and deleting a file. In memory it lasts until the commit (a few hundred KiB).
    this.db.pragma('temp_store = MEMORY');
    this.groupCommit = options.groupCommit ?? false;
    if (options.backgroundCheckpoint && options.path !== ':memory:') {
      this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
      this.checkpointer = new WalCheckpointer(options.path);
    }
    // Prepared and cached rather than `db.exec`, which parses its SQL again on every call.
    this.control = createTransactionControl((sql) => this.statement(sql).run());
  }

  /**
   * A query statement in raw mode with its column names and row factory. better-sqlite3 builds
   * each result object property by property through V8's API; an engine row has ~27 columns, and
   * building it in JavaScript from the raw values costs less (`rowFactory`).
   */
  private query(sql: string): RawQuery {
    let query = this.queries.get(sql);
    if (!query) {
      query = { statement: this.db.prepare(sql).raw(true) };
      this.queries.set(sql, query);
    }
    return query;
  }

  private toRow(query: RawQuery, values: readonly unknown[]): Record<string, unknown> {
    query.shape = rowShapeFor(query.shape, values, () =>
      query.statement.columns().map((column) => column.name),
    );
    return query.shape.toRow(values);
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  readonly transaction = <T>(fn: () => T): T => {
    this.joinBatch(true);
    return this.control.transaction(fn);
  };

  onCommitted(fn: () => void): void {
    if (this.batch) this.batch.afterCommit.push(fn);
    else fn();
  }

  /** Resolves once everything written so far is committed; rejects if that commit failed. */
  committed(): Promise<void> {
    if (!this.batch) return Promise.resolve();
    return new Promise((resolve, reject) => this.batch!.waiters.push({ resolve, reject }));
  }

  /**
   * With group commit, every statement of a turn runs in the turn's one transaction, reads too:
   * a turn of reads alone (coalesced heartbeats, listings) then takes SQLite's read lock once
   * rather than once a statement, and its answers, which wait for `committed()`, go out together
   * after the turn. Reads open a deferred transaction — a snapshot, while other connections
   * (`owp mcp --db` beside the server) may still write — and the turn's first write makes it a
   * write transaction: in WAL mode a snapshot cannot take the write lock once another connection
   * has committed after it, so the reads' batch is committed there (it wrote nothing; its answers
   * may go) and a writing one, BEGIN IMMEDIATE, holds the rest of the turn. Only at the top of a
   * batch: inside a transaction the batch is a writing one already.
   */
  private joinBatch(writing: boolean): void {
    if (!this.groupCommit) return;
    if (writing && this.batch?.writing === false && this.control.depth === 1) this.commitBatch();
    if (this.batch || this.control.depth !== 0) return;
    this.control.begin(writing ? 'IMMEDIATE' : 'DEFERRED');
    this.batch = { writing, afterCommit: [], waiters: [] };
    setImmediate(() => this.commitBatch());
  }

  private commitBatch(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = null;
    try {
      this.control.commit();
    } catch (error) {
      // Nothing of the turn was written: its events are dropped and its writers hear why.
      try {
        this.control.rollback();
      } catch {
        // The failed COMMIT may have ended the transaction already.
      }
      for (const waiter of batch.waiters) waiter.reject(error);
      return;
    }
    for (const fn of batch.afterCommit) fn();
    for (const waiter of batch.waiters) waiter.resolve();
  }

  exec(sql: string): void {
    if (this.batch) this.joinBatch(true);
    this.db.exec(sql);
    // Migrations run here: a `SELECT *` prepared before may name other columns now.
    this.queries.clear();
    this.changedElsewhere++;
  }

  readVersion(): number {
    // SQLite's data_version changes when another connection commits to the file (~0.3 µs).
    this.dataVersion ??= this.db.prepare('PRAGMA data_version').pluck();
    const seen = this.dataVersion.get() as number;
    if (seen !== this.lastDataVersion) {
      this.lastDataVersion = seen;
      this.changedElsewhere++;
    }
    return this.changedElsewhere + this.control.rollbacks;
  }

  run(sql: string, params: SqlParams = {}): { changes: number } {
    if (this.batch) this.joinBatch(true);
    return { changes: this.statement(sql).run(params).changes };
  }

  insert(sql: string, params: SqlParams = {}): number {
    if (this.batch) this.joinBatch(true);
    return Number(this.statement(sql).run(params).lastInsertRowid);
  }

  get<Row>(sql: string, params: SqlParams = {}): Row | undefined {
    this.joinBatch(false);
    const query = this.query(sql);
    const values = query.statement.get(params) as unknown[] | undefined;
    return values && (this.toRow(query, values) as Row);
  }

  all<Row>(sql: string, params: SqlParams = {}): Row[] {
    this.joinBatch(false);
    const query = this.query(sql);
    const rows = query.statement.all(params) as unknown[][];
    return rows.map((values) => this.toRow(query, values) as Row);
  }

  /** Ends the background checkpoint thread, if any; `close()` after this leaves no thread behind. */
  async stopBackgroundWork(): Promise<void> {
    await this.checkpointer?.stop();
  }

  close(): void {
    void this.checkpointer?.stop();
    this.commitBatch();
    this.statements.clear();
    this.queries.clear();
    this.db.close();
  }
}
