import initSqlJs, {
  type BindParams,
  type Database,
  type SqlJsStatic,
  type Statement,
} from 'sql.js';
import {
  createTransactionRunner,
  type SqlDriver,
  type SqlParams,
} from '../../scheduler/storage-port.ts';

const PRAGMAS = 'PRAGMA foreign_keys = ON;';

let sqlJs: Promise<SqlJsStatic> | undefined;

/** Loads the sql.js WASM module once. `wasmBinary` lets a bundle carry it inline. */
export function loadSqlJs(wasmBinary?: ArrayBuffer | Uint8Array): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs(wasmBinary ? { wasmBinary: wasmBinary as ArrayBuffer } : undefined);
  return sqlJs;
}

/**
 * The embedded storage: SQLite compiled to WASM, in memory, saved by exporting the whole database
 * to bytes. No Node API, so it runs in Obsidian on desktop and mobile alike.
 */
export class SqlJsDriver implements SqlDriver {
  private readonly statements = new Map<string, Statement>();
  private inTransaction = 0;
  private readonly runTransaction: <T>(fn: () => T) => T;

  private constructor(private readonly db: Database) {
    this.db.exec(PRAGMAS);
    this.runTransaction = createTransactionRunner((sql) => this.db.exec(sql));
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
    this.inTransaction++;
    try {
      return this.runTransaction(fn);
    } finally {
      this.inTransaction--;
    }
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
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
  }

  run(sql: string, params: SqlParams = {}): { changes: number } {
    const statement = this.statement(sql);
    statement.run(this.bind(params));
    return { changes: this.db.getRowsModified() };
  }

  get<Row>(sql: string, params: SqlParams = {}): Row | undefined {
    const statement = this.statement(sql);
    try {
      statement.bind(this.bind(params));
      return statement.step() ? (statement.getAsObject() as Row) : undefined;
    } finally {
      statement.reset();
    }
  }

  all<Row>(sql: string, params: SqlParams = {}): Row[] {
    const statement = this.statement(sql);
    const rows: Row[] = [];
    try {
      statement.bind(this.bind(params));
      while (statement.step()) rows.push(statement.getAsObject() as Row);
    } finally {
      statement.reset();
    }
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
    this.db.close();
  }
}
