import { HttpOwpApi, type Transport } from '../protocol/index.ts';
import { runApiContract } from '../protocol/conformance/api.case.test.ts';
import { systemClock } from '../scheduler/clock.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { buildApp } from './app.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';

const ADMIN = 'conformance-admin-token';

// The HTTP client against the real server on a real port: REST and the SSE stream end to end.
runApiContract('HTTP client against the server (real network)', async () => {
  const engine = new Scheduler({
    driver: new BetterSqlite3Driver({ path: ':memory:' }),
    clock: systemClock,
  });
  const app = buildApp({ engine, adminToken: ADMIN });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    admin: new HttpOwpApi({ baseUrl, adminToken: ADMIN }),
    asWorker: (workerToken) => new HttpOwpApi({ baseUrl, workerToken }),
    anonymous: new HttpOwpApi({ baseUrl }),
    close: () => app.close(),
  };
});

// The same client over app.inject(): no port, every request through the same routes.
runApiContract('HTTP client through app.inject()', async () => {
  const engine = new Scheduler({
    driver: new BetterSqlite3Driver({ path: ':memory:' }),
    clock: systemClock,
  });
  const app = buildApp({ engine, adminToken: ADMIN });
  await app.listen({ host: '127.0.0.1', port: 0 }); // only the SSE test needs the port
  const { port } = app.server.address() as { port: number };
  const transport: Transport = async (request) => {
    const res = await app.inject({
      method: request.method as 'GET',
      url: request.url.replace(/^http:\/\/[^/]+/, ''),
      headers: request.headers,
      payload: request.body,
    });
    return { status: res.statusCode, json: res.body ? res.json() : undefined };
  };
  const make = (credentials: { adminToken?: string; workerToken?: string }) =>
    new HttpOwpApi({ baseUrl: `http://127.0.0.1:${port}`, transport, ...credentials });
  return {
    admin: make({ adminToken: ADMIN }),
    asWorker: (workerToken) => make({ workerToken }),
    anonymous: make({}),
    close: () => app.close(),
  };
});
