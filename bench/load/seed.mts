/**
 * Seeds a database file in-process, with the engine over better-sqlite3, before the server starts
 * on it: registering 10,000 workers over HTTP (rate-limited, one request each) and creating 100k
 * tasks one POST at a time would take longer than the measurement. Same engine, same rows as the
 * HTTP path; workers stay offline until their first heartbeat, so nothing is granted here.
 *
 * A child process, so the orchestrator stays small: config in over IPC, tokens back.
 */
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import {
  benchRepos,
  isRareTask,
  repoRequest,
  taskRequest,
  workerRequest,
  type SkillMix,
} from './workload.mts';

export interface SeedConfig {
  dbPath: string;
  tasks: number;
  workers: number;
  mix: SkillMix;
}

const BATCH = 5000;

function seed({ dbPath, tasks, workers, mix }: SeedConfig) {
  const started = performance.now();
  const driver = new BetterSqlite3Driver({ path: dbPath });
  const engine = new Scheduler({ driver, clock: systemClock });
  const repos = benchRepos(workers);
  for (const repo of repos) engine.upsertRepo(repoRequest(repo));
  // Batches in one outer transaction: each engine write becomes a savepoint, one commit per batch.
  for (let i = 0; i < tasks; i += BATCH) {
    driver.transaction(() => {
      for (let j = i; j < Math.min(tasks, i + BATCH); j++) {
        engine.createTask(taskRequest(repos, j, isRareTask(j, mix)));
      }
    });
  }
  const tokens: string[] = [];
  for (let i = 0; i < workers; i += BATCH) {
    driver.transaction(() => {
      for (let j = i; j < Math.min(workers, i + BATCH); j++) {
        tokens.push(engine.registerWorker(workerRequest(j, mix)).token);
      }
    });
  }
  driver.db.pragma('wal_checkpoint(TRUNCATE)');
  driver.close();
  return { tokens, elapsedMs: performance.now() - started };
}

process.once('message', (message: { type: string; config: SeedConfig }) => {
  try {
    process.send?.({ type: 'seeded', ...seed(message.config) }, () => process.exit(0));
  } catch (error) {
    process.send?.({ type: 'error', message: (error as Error).stack ?? String(error) }, () =>
      process.exit(1),
    );
  }
});
