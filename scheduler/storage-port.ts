/**
 * The one port between the engine and storage: a synchronous, SQLite-shaped driver. Each backend
 * implements it in a file named after itself (`better-sqlite3-driver.ts`, `sqljs-driver.ts`).
 *
 * Statements use named parameters written `$name`; params objects use the bare names.
 */
export type SqlValue = string | number | bigint | null;
export type SqlParams = Record<string, SqlValue>;

export interface SqlDriver {
  /** Runs one or more statements that return nothing (migrations, pragmas). */
  exec(sql: string): void;
  /** Runs one statement and reports how many rows it changed. */
  run(sql: string, params?: SqlParams): { changes: number };
  /**
   * Runs one INSERT of one row and returns its rowid (on a table with an INTEGER PRIMARY KEY, that
   * key). Cheaper than `RETURNING`, which makes SQLite collect its results in a table of its own.
   */
  insert(sql: string, params?: SqlParams): number;
  /** The first row of a query, or undefined. */
  get<Row>(sql: string, params?: SqlParams): Row | undefined;
  /** Every row of a query. */
  all<Row>(sql: string, params?: SqlParams): Row[];
  /**
   * Runs `fn` in a transaction: commits when it returns, rolls back when it throws. Nested calls
   * become savepoints, so a failing inner step undoes only itself.
   */
  transaction<T>(fn: () => T): T;
  /**
   * Runs `fn` once what has been written so far is committed: at once, unless the driver groups
   * several transactions into one commit (then after that commit, and never if it fails). The
   * engine hands its events to listeners through this, so nobody hears of an uncommitted write.
   * Optional: a driver without it commits every transaction as it ends.
   */
  onCommitted?(fn: () => void): void;
  /**
   * A number that changes whenever what this connection reads may have changed other than through
   * the engine's own statements since it was last asked: a transaction or savepoint rolled back,
   * statements run through `exec`, another connection's commit (another process on the same file).
   * The engine keeps what it learnt from its own reads (the ready queues' heads) only while this
   * stays the same. Optional: without it, the engine keeps nothing and reads every time.
   */
  readVersion?(): number;
  close(): void;
}

/**
 * Transactions from single statements: BEGIN IMMEDIATE at the outside (take the write lock up
 * front rather than fail on upgrade later), savepoints inside. `exec` gets one statement at a
 * time, so a driver can run them as cached prepared statements: every write pays for these. A
 * driver may also hold an outer transaction open across several of them (`begin` … `commit`), so
 * they become savepoints inside one commit: group commit. `rollbacks` counts what was undone, for
 * the driver's `readVersion`.
 */
export function createTransactionControl(exec: (sql: string) => void) {
  let depth = 0;
  let rollbacks = 0;
  return {
    transaction,
    get depth() {
      return depth;
    },
    /** How many transactions and savepoints have been rolled back (for `readVersion`). */
    get rollbacks() {
      return rollbacks;
    },
    /** IMMEDIATE takes the write lock now; DEFERRED only a snapshot, until the first write. */
    begin(mode: 'IMMEDIATE' | 'DEFERRED' = 'IMMEDIATE'): void {
      if (depth !== 0) throw new Error('begin() inside a transaction');
      exec(`BEGIN ${mode}`);
      depth = 1;
    },
    commit(): void {
      if (depth !== 1) throw new Error('commit() outside the outer transaction');
      exec('COMMIT');
      depth = 0;
    },
    rollback(): void {
      if (depth !== 1) throw new Error('rollback() outside the outer transaction');
      depth = 0;
      rollbacks++;
      exec('ROLLBACK');
    },
  };

  function transaction<T>(fn: () => T): T {
    const savepoint = `owp_sp_${depth}`;
    exec(depth === 0 ? 'BEGIN IMMEDIATE' : `SAVEPOINT ${savepoint}`);
    depth++;
    try {
      const result = fn();
      depth--;
      exec(depth === 0 ? 'COMMIT' : `RELEASE ${savepoint}`);
      return result;
    } catch (error) {
      depth--;
      rollbacks++;
      if (depth === 0) {
        exec('ROLLBACK');
      } else {
        exec(`ROLLBACK TO ${savepoint}`);
        exec(`RELEASE ${savepoint}`);
      }
      throw error;
    }
  }
}

/** Builds a result row from a statement's values, in column order. */
export type RowFactory = (values: readonly unknown[]) => Record<string, unknown>;

/**
 * A row factory for one column list, for drivers that read a statement's values as an array.
 * Compiled once: one object literal with the column names as its keys, which V8 builds from a
 * template of a fixed shape. Setting the keys one by one in a loop goes through a store that sees
 * a different key each time, ~0.17 µs a column (4.6 µs of a 27-column worker row, against 0.3 µs
 * for the literal). A later column of the same name wins, as in better-sqlite3's and sql.js's own
 * rows. The names come from the engine's own SQL, and are quoted as JSON strings besides. Where
 * code generation is not allowed (a Content-Security-Policy without 'unsafe-eval'), the slow way.
 */
export function rowFactory(columns: readonly string[]): RowFactory {
  // A computed key for `__proto__`, which as a plain literal key would set the prototype instead.
  const fields = columns.map((name, i) =>
    name === '__proto__' ? `['__proto__']: values[${i}]` : `${JSON.stringify(name)}: values[${i}]`,
  );
  try {
    return new Function('values', `return { ${fields.join(', ')} };`) as RowFactory;
  } catch {
    // Own data properties, `__proto__` included; a later duplicate wins.
    return (values) => Object.fromEntries(columns.map((name, i) => [name, values[i]]));
  }
}

/** A statement's row factory and the number of columns it was made for. */
export interface RowShape {
  columns: number;
  toRow: RowFactory;
}

/**
 * The shape to build `values` with: `known` while the statement returns as many columns as it was
 * made for, else a new one from `names()`. SQLite prepares a statement again by itself after the
 * schema changes, so a `SELECT *` may come back with another number of columns; a change that
 * keeps the count (a renamed column) comes through a migration, and drivers forget their shapes
 * then.
 */
export function rowShapeFor(
  known: RowShape | undefined,
  values: readonly unknown[],
  names: () => readonly string[],
): RowShape {
  return known?.columns === values.length
    ? known
    : { columns: values.length, toRow: rowFactory(names()) };
}
