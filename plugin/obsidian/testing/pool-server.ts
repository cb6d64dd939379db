import { HttpOwpApi } from '../../../protocol/index.ts';
import { systemClock } from '../../../scheduler/clock.ts';
import { Scheduler } from '../../../scheduler/engine.ts';
import { buildApp, type OwpApp } from '../../../server/app.ts';
import { BetterSqlite3Driver } from '../../../server/better-sqlite3-driver.ts';

export interface PoolServer {
  app: OwpApp;
  base: string;
  /** An admin client of it. */
  admin: HttpOwpApi;
  close(): Promise<void>;
}

/**
 * A real OWP server on 127.0.0.1 (a free port) over an in-memory database, for a remote vault to
 * talk to. It allows the page's origin under happy-dom besides Obsidian's. `watch` adds hooks
 * before it listens (requests counted, streams seen).
 */
export async function servePool(
  adminToken: string,
  watch?: (app: OwpApp) => void,
): Promise<PoolServer> {
  const driver = new BetterSqlite3Driver({ path: ':memory:' });
  const app = buildApp({
    engine: new Scheduler({ driver, clock: systemClock }),
    adminToken,
    corsOrigins: [location.origin],
  });
  watch?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return {
    app,
    base,
    admin: new HttpOwpApi({ baseUrl: base, adminToken }),
    async close() {
      await app.close();
      driver.close();
    },
  };
}
