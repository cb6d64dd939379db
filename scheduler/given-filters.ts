import type { SqlParams, SqlValue } from './storage-port.ts';

/**
 * A WHERE clause holding only the filters a query was given. SQLite plans a statement once, and a
 * condition that may be switched off (`$x IS NULL OR col = $x`) cannot use an index: a filtered
 * read written that way walks the whole table. Each combination of filters is its own statement
 * instead (and its own cached prepared statement in the driver).
 */
export class GivenFilters {
  private readonly conditions: string[] = [];

  constructor(readonly params: SqlParams = {}) {}

  /** A condition that always applies. */
  always(condition: string): this {
    this.conditions.push(condition);
    return this;
  }

  /** `condition`, with `value` bound as `$name`, when a value was given. */
  add(condition: string, name: string, value: SqlValue | undefined): this {
    if (value === undefined) return this;
    this.conditions.push(condition);
    this.params[name] = value;
    return this;
  }

  /** `WHERE a AND b …`, or nothing when no condition applies. */
  get where(): string {
    return this.conditions.length > 0 ? `WHERE ${this.condition}` : '';
  }

  /** `a AND b …`, or '' when no condition applies. */
  get condition(): string {
    return this.conditions.join(' AND ');
  }
}
