import initSqlJs, {
  type BindParams,
  type Database,
  type SqlJsStatic,
  type Statement,
} from 'sql.js';
import {
  createTransactionControl,
  rowShapeFor,
  type RowShape,
  type SqlDriver,
  type SqlParams,
} from '../../scheduler/storage-port.ts';

/**
 * One write the database committed, as it was run: its SQL and its parameters, or null for a
 * script run with `exec` (migrations). Replaying a transaction's writes in order on the state it
 * started from gives the state it left: the engine decides every value (ids, times) itself and
 * binds it, and its SQL calls no clock or random function.
 */
export type JournalStatement = [sql: string, params: Record<string, string | number | null> | null];

/** Statements that change rows (SQLite counts what they changed), and other writes (schema). */
const ROW_WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;
const SCHEMA_WRITE = /^\s*(CREATE|DROP|ALTER)\b/i;

const PRAGMAS = 'PRAGMA foreign_keys = ON;';

let sqlJs: Promise<SqlJsStatic> | undefined;

/** Loads the sql.js WASM module once. `wasmBinary` lets a bundle carry it inline. */
export function loadSqlJs(wasmBinary?: ArrayBuffer | Uint8Array): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs(wasmBinary ? { wasmBinary: wasmBinary as ArrayBuffer } : undefined);
  return sqlJs;
}

/**
 * The embedded storage: SQLite compiled to WASM, in memory, saved by exporting the whole database
 * to bytes now and then, and by journaling each committed transaction's writes in between
 * (`onCommit`, `replay`). No Node API, so it runs in Obsidian on desktop and mobile alike.
 */
export class SqlJsDriver implements SqlDriver {
  private readonly statements = new Map<string, Statement>();
  /** Each query's row shape, from its first row (`rowOf`). */
  private readonly shapes = new Map<Statement, RowShape>();
  private inTransaction = 0;
  private readonly control: ReturnType<typeof createTransactionControl>;
  /** For `readVersion`: statements run other than through the engine (`exec`, `replay`). */
  private changedElsewhere = 0;
  private readonly writes = new Map<string, 'rows' | 'schema' | 'read'>();
  /** Writes of the transaction in progress, kept only while someone listens for commits. */
  private uncommitted: JournalStatement[] = [];
  private commitListener: ((writes: JournalStatement[]) => void) | null = null;

  private constructor(private readonly db: Database) {
    this.db.exec(PRAGMAS);
    this.control = createTransactionControl((sql) => this.db.exec(sql));
  }

  /** Opens a database from saved bytes, or a new empty one. */
  static async open(
    bytes?: Uint8Array,
    wasmBinary?: ArrayBuffer | Uint8Array,
  ): Promise<SqlJsDriver> {
    const SQL = await loadSqlJs(wasmBinary);
    return new SqlJsDriver(new SQL.Database(bytes));
  }

  transaction<T>(fn: () => T): T {
    const mark = this.uncommitted.length;
    this.inTransaction++;
    try {
      return this.control.transaction(fn);
    } catch (error) {
      // Rolled back (the whole transaction, or this savepoint): its writes never happened.
      this.uncommitted.length = mark;
      throw error;
    } finally {
      this.inTransaction--;
      if (this.inTransaction === 0) this.emitCommitted();
    }
  }

  /**
   * Hears the writes of each committed transaction, in commit order (a write outside any
   * transaction is one of its own): what the persister journals. One listener; null removes it.
   */
  onCommit(listener: ((writes: JournalStatement[]) => void) | null): void {
    this.commitListener = listener;
    this.uncommitted = [];
  }

  /**
   * Runs journaled transactions again, each in a transaction of its own, without telling the
   * commit listener: how a saved database catches up with the writes made after it was saved.
   */
  replay(transactions: readonly JournalStatement[][]): void {
    this.changedElsewhere++;
    for (const writes of transactions) {
      this.control.transaction(() => {
        for (const [sql, params] of writes) {
          if (params === null) this.db.exec(sql);
          else this.statement(sql).run(this.bind(params));
        }
      });
    }
  }

  private captured(sql: string, params: SqlParams | null): void {
    if (!this.commitListener) return;
    let kind = this.writes.get(sql);
    if (kind === undefined) {
      kind =
        params === null || SCHEMA_WRITE.test(sql)
          ? 'schema'
          : ROW_WRITE.test(sql)
            ? 'rows'
            : 'read';
      this.writes.set(sql, kind);
    }
    // A row write that changed nothing would change nothing again (the upkeep's cleanup of old
    // idempotency keys, every few seconds): the journal does not grow while the pool is quiet.
    if (kind === 'read' || (kind === 'rows' && this.db.getRowsModified() === 0)) return;
    let copy: Record<string, string | number | null> | null = null;
    if (params !== null) {
      // A copy: callers may reuse their params object for the next statement.
      copy = {};
      for (const [key, value] of Object.entries(params)) {
        copy[key] = typeof value === 'bigint' ? Number(value) : value;
      }
    }
    this.uncommitted.push([sql, copy]);
    if (this.inTransaction === 0) this.emitCommitted();
  }

  private emitCommitted(): void {
    if (this.uncommitted.length === 0) return;
    const writes = this.uncommitted;
    this.uncommitted = [];
    this.commitListener?.(writes);
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * The current row as an object, like sql.js's `getAsObject()`, which asks for the column names
   * again on every row and sets them one by one; here a factory made once per statement builds it
   * (`rowShapeFor`).
   */
  private rowOf(statement: Statement): Record<string, unknown> {
    const values = statement.get();
    const known = this.shapes.get(statement);
    const shape = rowShapeFor(known, values, () => statement.getColumnNames());
    if (shape !== known) this.shapes.set(statement, shape);
    return shape.toRow(values);
  }

  /** sql.js names parameters with their sigil: `{ $id: … }`. */
  private bind(params: SqlParams): BindParams {
    const bound: Record<string, string | number | null> = {};
    for (const [key, value] of Object.entries(params)) {
      bound[`$${key}`] = typeof value === 'bigint' ? Number(value) : value;
    }
    return bound;
  }

  exec(sql: string): void {
    this.db.exec(sql);
    // Migrations run here: a `SELECT *` read before may name other columns now.
    this.shapes.clear();
    this.captured(sql, null);
    this.changedElsewhere++;
  }

  /** One connection, in memory: only rollbacks and statements outside the engine change reads. */
  readVersion(): number {
    return this.changedElsewhere + this.control.rollbacks;
  }

  run(sql: string, params: SqlParams = {}): { changes: number } {
    const statement = this.statement(sql);
    statement.run(this.bind(params));
    const changes = this.db.getRowsModified();
    this.captured(sql, params);
    return { changes };
  }

  insert(sql: string, params: SqlParams = {}): number {
    this.run(sql, params);
    return this.get<{ rowid: number }>('SELECT last_insert_rowid() AS rowid')!.rowid;
  }

  get<Row>(sql: string, params: SqlParams = {}): Row | undefined {
    const statement = this.statement(sql);
    let row: Row | undefined;
    try {
      statement.bind(this.bind(params));
      // A write with RETURNING makes all its changes on this first step.
      row = statement.step() ? (this.rowOf(statement) as Row) : undefined;
    } finally {
      statement.reset();
    }
    this.captured(sql, params);
    return row;
  }

  all<Row>(sql: string, params: SqlParams = {}): Row[] {
    const statement = this.statement(sql);
    const rows: Row[] = [];
    try {
      statement.bind(this.bind(params));
      while (statement.step()) rows.push(this.rowOf(statement) as Row);
    } finally {
      statement.reset();
    }
    this.captured(sql, params);
    return rows;
  }

  /**
   * The whole database as bytes, for the persister. sql.js cannot export inside an open write
   * transaction, so that is refused here with a clear message; pragmas are re-applied afterwards
   * because some sql.js versions reset them on export.
   */
  export(): Uint8Array {
    if (this.inTransaction > 0) {
      throw new Error('Cannot export the embedded database during a transaction.');
    }
    const bytes = this.db.export();
    this.db.exec(PRAGMAS);
    return bytes;
  }

  close(): void {
    for (const statement of this.statements.values()) statement.free();
    this.statements.clear();
    this.shapes.clear();
    this.db.close();
  }
}
