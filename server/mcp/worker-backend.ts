/**
 * Where an MCP worker's calls go: a remote OWP server over HTTP, or a local SQLite database
 * through the engine in this process. Both hand out an `OwpApi` acting as one worker, so the
 * session above them cannot tell the two apart.
 */
import { pathToFileURL } from 'node:url';
import type { OwpApi } from '../../protocol/api.ts';
import type { Transport } from '../../protocol/client.ts';
import { HttpOwpApi } from '../../protocol/http-api.ts';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { BetterSqlite3Driver } from '../better-sqlite3-driver.ts';

export interface WorkerBackend {
  /**
   * What the saved credentials belong to: the server URL, or the database's `file://` URL. A
   * worker registered against one is unknown to the other.
   */
  readonly target: string;
  /** The API acting as the worker with this token; without one only `registerWorker` works. */
  api(workerToken?: string): OwpApi;
  /** Time-driven upkeep between calls (the local engine's expiry sweep); none when remote. */
  tick?(): void;
  close(): void;
}

/** A remote OWP server at `url`. */
export function remoteBackend(url: string, transport?: Transport): WorkerBackend {
  const baseUrl = url.replace(/\/+$/, '');
  return {
    target: baseUrl,
    api: (workerToken) => new HttpOwpApi({ baseUrl, workerToken, transport }),
    close: () => {},
  };
}

/**
 * The engine over a SQLite file (created if missing), as `owp serve` would open it: an agent
 * works from a database on this machine with no server running. Repos and tasks come from
 * whoever else uses the file (`owp serve --db`, an import); this side only acts as a worker.
 */
export function localBackend(dbPath: string): WorkerBackend {
  const driver = new BetterSqlite3Driver({ path: dbPath });
  const engine = new Scheduler({ driver, clock: systemClock });
  return {
    target: pathToFileURL(dbPath).href,
    api: (workerToken) => new LocalOwpApi(engine, { workerToken }),
    // Nobody else may be running the sweep for this file: expired leases go back to the queue here.
    tick: () => void engine.sweep(),
    close: () => driver.close(),
  };
}
