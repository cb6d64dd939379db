import type { SqlDriver, SqlParams } from '../storage-port.ts';

/**
 * Records SQLite's query plan of every `all()` query and `run()` write whose SQL contains
 * `marker`, as it runs, one string per statement (`EXPLAIN QUERY PLAN` details joined by `; `):
 * how a test checks that a statement goes through the index meant for it instead of walking a
 * table or a wider index. Works on every driver of the storage port.
 */
export function recordQueryPlans(driver: SqlDriver, marker: string): string[] {
  const plans: string[] = [];
  const all = driver.all.bind(driver);
  const run = driver.run.bind(driver);
  const record = (sql: string, params?: SqlParams) => {
    if (!sql.includes(marker)) return;
    const plan = all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
    plans.push(plan.map((row) => row.detail).join('; '));
  };
  driver.all = <Row>(sql: string, params?: SqlParams): Row[] => {
    record(sql, params);
    return all<Row>(sql, params);
  };
  driver.run = (sql: string, params?: SqlParams) => {
    record(sql, params);
    return run(sql, params);
  };
  return plans;
}
