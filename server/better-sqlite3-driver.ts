import Database from 'better-sqlite3';
import {
  createTransactionRunner,
  type SqlDriver,
  type SqlParams,
} from '../scheduler/storage-port.ts';

export interface BetterSqlite3Options {
  /** A file path, or `:memory:`. */
  path: string;
}

/**
 * The server's storage: a SQLite file through better-sqlite3, in WAL mode so readers never wait
 * for the writer. `synchronous = NORMAL` is durable across process crashes in WAL mode (only a
 * power loss can drop the last commits), at a fraction of FULL's fsync cost.
 */
export class BetterSqlite3Driver implements SqlDriver {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  readonly transaction: <T>(fn: () => T) => T;

  constructor(options: BetterSqlite3Options) {
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // Prepared and cached rather than `db.exec`, which parses its SQL again on every call.
    this.transaction = createTransactionRunner((sql) => this.statement(sql).run());
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  run(sql: string, params: SqlParams = {}): { changes: number } {
    return { changes: this.statement(sql).run(params).changes };
  }

  get<Row>(sql: string, params: SqlParams = {}): Row | undefined {
    return this.statement(sql).get(params) as Row | undefined;
  }

  all<Row>(sql: string, params: SqlParams = {}): Row[] {
    return this.statement(sql).all(params) as Row[];
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }
}
