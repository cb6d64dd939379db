/**
 * A real OWP server for the browser tests: the Fastify app from server/app.ts over a SQLite file,
 * with the dashboard from dist/dashboard, on 127.0.0.1. Stopping and starting again on the same
 * port and file is a server restart as the page sees it.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpOwpApi } from '../../protocol/index.ts';
import { systemClock, type Clock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { buildApp } from '../../server/app.ts';
import { backupDatabase } from '../../server/backup.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import { registerDashboard } from '../../server/dashboard.ts';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
export const VIEWER_TOKEN = 'e2e-viewer-token-0123456789abcdef';
export const DASHBOARD_DIR = fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));

export interface TestServer {
  base: string;
  port: number;
  engine: Scheduler;
  /** The API as the admin, over HTTP. */
  admin: HttpOwpApi;
  /** `Last-Event-ID` of every `GET /v1/events` request, in order. */
  streamRequests: Array<string | undefined>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  dbPath: string;
  /** 0 picks a free port; pass the old one to restart in place. */
  port?: number;
  clock?: Clock;
  heartbeatTtlMs?: number;
  /** The admin token (default `ADMIN_TOKEN`); another one on a restart is a rotated token. */
  adminToken?: string;
}

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const driver = new BetterSqlite3Driver({ path: options.dbPath });
  const engine = new Scheduler({
    driver,
    clock: options.clock ?? systemClock,
    config: { heartbeatTtlMs: options.heartbeatTtlMs ?? 60_000, leaseTtlMs: 30 * 60_000 },
  });
  const app = buildApp({
    engine,
    adminToken: options.adminToken ?? ADMIN_TOKEN,
    viewerToken: VIEWER_TOKEN,
    // As server/main.ts gives it.
    backup: (target) => backupDatabase(options.dbPath, target),
  });
  const streamRequests: Array<string | undefined> = [];
  app.addHook('onRequest', async (request) => {
    if (request.url.split('?')[0] === '/v1/events') {
      const id = request.headers['last-event-id'];
      streamRequests.push(typeof id === 'string' ? id : undefined);
    }
  });
  registerDashboard(app, { dir: DASHBOARD_DIR });
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const { port } = app.server.address() as { port: number };
  const base = `http://127.0.0.1:${port}`;
  // What server/main.ts does on timers, faster: leases expire and workers go offline on time.
  const sweep = setInterval(() => engine.sweep(), 250);
  return {
    base,
    port,
    engine,
    admin: new HttpOwpApi({ baseUrl: base, adminToken: options.adminToken ?? ADMIN_TOKEN }),
    streamRequests,
    stop: async () => {
      clearInterval(sweep);
      await app.close();
      driver.close();
    },
  };
}

export const dbPathIn = (dir: string) => join(dir, 'owp.db');
