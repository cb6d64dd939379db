import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchTransport, type OwpEvent, type StreamStatus } from '../../protocol/index.ts';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { buildApp, type OwpApp } from '../../server/app.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import { RemoteBackend } from './remote-backend.ts';

const ADMIN = 'remote-backend-test-admin-token';

/** A real server on a real port over a SQLite file, as `npm start` runs it. */
class TestServer {
  private constructor(
    readonly app: OwpApp,
    readonly engine: Scheduler,
    private readonly driver: BetterSqlite3Driver,
    readonly port: number,
  ) {}

  static async start(path: string, port = 0): Promise<TestServer> {
    const driver = new BetterSqlite3Driver({ path });
    const engine = new Scheduler({ driver, clock: systemClock });
    const app = buildApp({ engine, adminToken: ADMIN });
    await app.listen({ host: '127.0.0.1', port });
    const address = app.server.address() as { port: number };
    return new TestServer(app, engine, driver, address.port);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Stops the server the hard way for open streams: `app.close()` alone waits for them, since the
   * server ends its event streams only in an `onClose` hook, which runs after the close completed.
   */
  async stop(): Promise<void> {
    const closing = this.app.close();
    this.app.server.closeAllConnections();
    await closing;
    this.driver.close();
  }
}

/** Waits for a condition, failing after a generous deadline (the wait itself is not asserted). */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setUp() {
  const folder = await mkdtemp(join(tmpdir(), 'owp-remote-backend-'));
  cleanup.push(() => rm(folder, { recursive: true, force: true }));
  const dbPath = join(folder, 'owp.sqlite');
  const servers: TestServer[] = [await TestServer.start(dbPath)];
  cleanup.push(async () => {
    for (const server of servers) await server.stop().catch(() => undefined);
  });
  const backend = new RemoteBackend({
    baseUrl: servers[0]!.baseUrl,
    adminToken: ADMIN,
    transport: fetchTransport,
  });
  cleanup.push(() => backend.stop());
  const statuses: StreamStatus[] = [];
  backend.onStatus((status) => statuses.push(status));
  const events: OwpEvent[] = [];
  return { dbPath, servers, backend, statuses, events };
}

describe('RemoteBackend against a real server', () => {
  it('calls the API over the transport and streams live events', async () => {
    const { backend, events } = await setUp();
    await backend.start();
    backend.subscribe(0, (event) => events.push(event));
    await until(() => backend.status === 'live', 'the stream to be live');

    await backend.api.upsertRepo({ repo: 'demo' });
    const task = await backend.api.createTask({ repo: 'demo', title: 'Over the wire' });
    await until(() => events.length === 2, 'two events');
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'repo.upserted'],
      [2, 'task.created'],
    ]);
    expect((await backend.api.getTask(task.task_id)).title).toBe('Over the wire');
  });

  it('goes offline when the server stops, and after a restart on the same port and database gets what it missed', async () => {
    const { dbPath, servers, backend, statuses, events } = await setUp();
    backend.subscribe(0, (event) => events.push(event));
    await until(() => backend.status === 'live', 'the stream to be live');
    await backend.api.upsertRepo({ repo: 'demo' });
    await until(() => events.length === 1, 'the first event');

    const first = servers[0]!;
    await first.stop();
    await until(() => backend.status === 'offline', 'the offline status');

    // The server comes back on the same port and file; work happens before the client returns.
    const second = await TestServer.start(dbPath, first.port);
    servers.push(second);
    second.engine.createTask({ repo: 'demo', title: 'Made while you were away' });
    second.engine.createTask({ repo: 'demo', title: 'This one too' });
    backend.notifyOnline();
    await until(() => backend.status === 'live', 'the stream to be live again');
    await until(() => events.length === 3, 'the missed events');
    second.engine.createTask({ repo: 'demo', title: 'And one live' });
    await until(() => events.length === 4, 'the live event');

    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events.slice(1).map((e) => e.type === 'task.created' && e.data.title)).toEqual([
      'Made while you were away',
      'This one too',
      'And one live',
    ]);
    expect(statuses).toContain('offline');
    expect(statuses.at(-1)).toBe('live');
  });

  it('reconnects a live stream when the app becomes visible, without losing or repeating an event', async () => {
    const { servers, backend, events } = await setUp();
    const server = servers[0]!;
    backend.subscribe(0, (event) => events.push(event));
    await until(() => backend.status === 'live', 'the stream to be live');
    server.engine.upsertRepo({ repo: 'demo' });
    await until(() => events.length === 1, 'the first event');

    for (let round = 0; round < 5; round++) {
      backend.notifyVisible();
      server.engine.createTask({ repo: 'demo', title: `during reconnect ${round}` });
      await until(() => backend.status === 'live', 'the stream to be live');
      server.engine.createTask({ repo: 'demo', title: `after reconnect ${round}` });
    }
    await until(() => events.length === 11, 'every event');
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
  });

  it('resumes a subscription after the sequence it was given, and stop closes it', async () => {
    const { servers, backend, events } = await setUp();
    const server = servers[0]!;
    server.engine.upsertRepo({ repo: 'demo' });
    server.engine.createTask({ repo: 'demo', title: 'Already seen' });
    const subscription = backend.subscribe(1, (event) => events.push(event));
    await until(() => events.length === 1, 'the catch-up');
    expect(events[0]!.seq).toBe(2);

    subscription.close();
    server.engine.createTask({ repo: 'demo', title: 'Not heard' });
    const check = backend.subscribe(2, () => undefined);
    await until(() => backend.status === 'live', 'another stream');
    expect(events).toHaveLength(1);
    check.close();
  });

  it('reports offline for a server that is not there', async () => {
    const backend = new RemoteBackend({
      baseUrl: 'http://127.0.0.1:9', // the discard port: nothing listens
      adminToken: ADMIN,
      transport: fetchTransport,
    });
    cleanup.push(() => backend.stop());
    const statuses: StreamStatus[] = [];
    backend.subscribe(
      0,
      () => undefined,
      (status) => statuses.push(status),
    );
    await until(() => backend.status === 'offline', 'the offline status');
    expect(statuses).toEqual(['connecting', 'offline']);
    await expect(backend.api.listWorkers()).rejects.toThrow();
  });
});

describe('RemoteBackend against a newer server', () => {
  // Was: a reconnect (the app visible again, the network back) resumed after the last event
  // delivered, so the server sent an event of a type this plugin does not know again every time.
  it('resumes past an event of a type it does not know when it reconnects', async () => {
    const frames =
      'id: 1\nevent: repo.upserted\ndata: {"seq":1,"at":"2026-01-01T00:00:00.000Z","type":"repo.upserted","repo":"demo","task_id":null,"worker_id":null,"data":{"max_open_prs":3,"area_locks_enabled":false}}\n\n' +
      'id: 2\nevent: repo.teleported\ndata: {"seq":2,"at":"2026-01-01T00:00:01.000Z","type":"repo.teleported","repo":"demo","task_id":null,"worker_id":null,"data":{}}\n\n';
    const asked: string[] = [];
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      asked.push((init.headers as Record<string, string>)['last-event-id']!);
      const first = asked.length === 1;
      return new Response(
        new ReadableStream({
          start(controller) {
            if (first) controller.enqueue(new TextEncoder().encode(frames));
          },
        }),
        { status: 200, headers: { 'content-type': 'text/event-stream' } },
      );
    }) as typeof fetch;
    const backend = new RemoteBackend({
      baseUrl: 'http://127.0.0.1:9',
      adminToken: ADMIN,
      transport: fetchTransport,
      fetch: fakeFetch,
    });
    cleanup.push(() => backend.stop());
    const seen: number[] = [];
    backend.subscribe(0, (event) => seen.push(event.seq));
    await until(() => seen.length === 1, 'the event it knows');

    backend.notifyVisible();
    await until(() => asked.length === 2, 'the reconnect');
    expect(asked).toEqual(['0', '2']);
    expect(seen).toEqual([1]);
  });
});
