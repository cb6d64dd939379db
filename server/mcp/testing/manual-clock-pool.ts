import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scheduler } from '../../../scheduler/engine.ts';
import { LocalOwpApi } from '../../../scheduler/local-api.ts';
import { ManualClock } from '../../../scheduler/testing/manual-clock.ts';
import { BetterSqlite3Driver } from '../../better-sqlite3-driver.ts';
import type { WorkerBackend } from '../worker-backend.ts';

/**
 * An in-memory pool on a clock the test moves, with repo `demo`; a worker backend over it (as
 * `owp mcp --db` has) and a credentials path in a temporary folder. `close()` removes both.
 */
export function poolOnManualClock() {
  const dir = mkdtempSync(join(tmpdir(), 'owp-mcp-clock-'));
  const clock = new ManualClock();
  const driver = new BetterSqlite3Driver({ path: ':memory:' });
  const engine = new Scheduler({ driver, clock });
  engine.upsertRepo({ repo: 'demo' });
  const backend: WorkerBackend = {
    target: 'file:///manual-clock.db',
    api: (workerToken) => new LocalOwpApi(engine, { workerToken }),
    tick: () => void engine.sweep(),
    close: () => {},
  };
  return {
    clock,
    engine,
    backend,
    config: join(dir, 'config.json'),
    close() {
      driver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
