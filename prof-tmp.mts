import { BetterSqlite3Driver } from './server/better-sqlite3-driver.ts';
import { runCycles } from './bench/engine-bench.mts';
const d = new BetterSqlite3Driver({ path: ':memory:' });
console.log(await runCycles(d, { workers: 100, readyTasks: 1000, cycles: 30000, maxSeconds: 10 }));
