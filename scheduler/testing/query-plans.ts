import type { SqlDriver, SqlParams } from '../storage-port.ts';

/**
 * Records SQLite's query plan of every `all()` query whose SQL contains `marker`, as it runs, one
 * string per query (`EXPLAIN QUERY PLAN` details joined by `; `): how a test checks that a read
 * goes through an index instead of walking a table. Works on every driver of the storage port.
 */
export function recordQueryPlans(driver: SqlDriver, marker: string): string[] {
  const plans: string[] = [];
  const all = driver.all.bind(driver);
  driver.all = <Row>(sql: string, params?: SqlParams): Row[] => {
    if (sql.includes(marker)) {
      const plan = all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
      plans.push(plan.map((row) => row.detail).join('; '));
    }
    return all<Row>(sql, params);
  };
  return plans;
}
