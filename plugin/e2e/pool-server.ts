/**
 * A real OWP server for the plugin's browser tests — the Fastify app over a SQLite file on
 * 127.0.0.1 — that also serves the harness page, its script, the plugin's built styles.css and the
 * stand-in Obsidian theme, from the same origin as the API (no CORS in the way).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpOwpApi } from '../../protocol/index.ts';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { ROOT } from '../../scripts/plugin-build.mjs';
import { buildApp } from '../../server/app.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';

export const ADMIN_TOKEN = 'plugin-e2e-admin-token-0123456789abcdef';

export interface PoolServer {
  base: string;
  engine: Scheduler;
  admin: HttpOwpApi;
  /** The API as a worker holding `token`. */
  worker(token: string): HttpOwpApi;
  stop(): Promise<void>;
}

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>OWP Pool views</title>
    <link rel="stylesheet" href="/harness/obsidian-theme.css" />
    <link rel="stylesheet" href="/harness/styles.css" />
  </head>
  <body>
    <script type="module" src="/harness/harness.js"></script>
  </body>
</html>`;

export async function startPoolServer(dir: string, harnessDir: string): Promise<PoolServer> {
  const driver = new BetterSqlite3Driver({ path: join(dir, 'owp.db') });
  const engine = new Scheduler({
    driver,
    clock: systemClock,
    // People, not agents: leases of hours, and a worker stays online between test steps.
    config: { heartbeatTtlMs: 10 * 60_000, leaseTtlMs: 3 * 60 * 60_000 },
  });
  const app = buildApp({ engine, adminToken: ADMIN_TOKEN, logger: false });
  const files: Record<string, [string, string]> = {
    'harness.js': [join(harnessDir, 'harness.js'), 'text/javascript'],
    'styles.css': [join(ROOT, 'dist', 'plugin', 'styles.css'), 'text/css'],
    'obsidian-theme.css': [join(ROOT, 'plugin', 'e2e', 'obsidian-theme.css'), 'text/css'],
  };
  app.get('/harness', async (_request, reply) => reply.type('text/html').send(PAGE));
  app.get<{ Params: { file: string } }>('/harness/:file', async (request, reply) => {
    const file = files[request.params.file];
    if (!file) return reply.code(404).send();
    return reply.type(file[1]).send(await readFile(file[0]));
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const base = `http://127.0.0.1:${port}`;
  const sweep = setInterval(() => engine.sweep(), 500);
  return {
    base,
    engine,
    admin: new HttpOwpApi({ baseUrl: base, adminToken: ADMIN_TOKEN }),
    worker: (token) => new HttpOwpApi({ baseUrl: base, workerToken: token }),
    stop: async () => {
      clearInterval(sweep);
      await app.close();
      driver.close();
    },
  };
}
