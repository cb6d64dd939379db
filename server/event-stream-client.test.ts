import { afterEach, describe, expect, it } from 'vitest';
import { EventStreamClient, type OwpEvent, type StreamStatus } from '../protocol/index.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { buildApp, type OwpApp } from './app.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADMIN = 'admin-token-for-stream-client';
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function serve(dbPath: string, port = 0) {
  const engine = new Scheduler({
    driver: new BetterSqlite3Driver({ path: dbPath }),
    clock: new ManualClock(),
  });
  const app: OwpApp = buildApp({ engine, adminToken: ADMIN });
  await app.listen({ host: '127.0.0.1', port });
  return { engine, app, port: (app.server.address() as { port: number }).port };
}

async function until(check: () => boolean, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('EventStreamClient (real network)', () => {
  it('goes offline when the server stops, and catches up at once on reconnectNow() after it returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owp-esc-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const dbPath = join(dir, 'pool.db');
    const first = await serve(dbPath);
    first.engine.upsertRepo({ repo: 'demo' });

    const seen: OwpEvent[] = [];
    const statuses: StreamStatus[] = [];
    const client = new EventStreamClient({
      url: `http://127.0.0.1:${first.port}/v1/events`,
      headers: { 'x-admin-token': ADMIN },
      after: 0,
      onEvent: (event) => seen.push(event),
      onStatus: (status) => statuses.push(status),
      // A long back-off: only reconnectNow() can bring it back within the test's time.
      minDelayMs: 60_000,
      maxDelayMs: 60_000,
    });
    cleanup.push(() => client.close());
    await until(() => seen.length === 1);
    expect(statuses.at(-1)).toBe('live');

    await first.app.close();
    await until(() => statuses.at(-1) === 'offline');

    const second = await serve(dbPath, first.port);
    cleanup.push(() => second.app.close());
    second.engine.createTask({ repo: 'demo', title: 'written while the client was away' });
    client.reconnectNow();
    await until(() => seen.length === 2);
    expect(statuses.at(-1)).toBe('live');
    expect(seen.map((e) => e.seq)).toEqual([1, 2]);
    expect(seen[1]).toMatchObject({
      type: 'task.created',
      data: { title: 'written while the client was away' },
    });
  });

  // Was: an event of a type it did not know (from a newer server) was passed over without moving
  // the resume point, so every reconnect asked for it again.
  it('passes over an event of a type it does not know, and resumes after it', async () => {
    const asked: string[] = [];
    const frames = [
      'id: 1\nevent: worker.paused\ndata: {"seq":1,"at":"2026-01-01T00:00:00.000Z","type":"worker.paused","repo":null,"task_id":null,"worker_id":"w_1","data":{}}\n\n',
      'id: 2\nevent: worker.teleported\ndata: {"seq":2,"at":"2026-01-01T00:00:01.000Z","type":"worker.teleported","repo":null,"task_id":null,"worker_id":"w_1","data":{"to":"mars"}}\n\n',
    ];
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      asked.push((init.headers as Record<string, string>)['last-event-id']!);
      const body = asked.length === 1 ? frames.join('') : '';
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(body));
            if (asked.length === 1) controller.close();
          },
        }),
        { status: 200, headers: { 'content-type': 'text/event-stream' } },
      );
    }) as typeof fetch;
    const seen: number[] = [];
    const client = new EventStreamClient({
      url: 'http://127.0.0.1:9/v1/events',
      headers: {},
      after: 0,
      onEvent: (event) => seen.push(event.seq),
      fetch: fakeFetch,
      minDelayMs: 1,
    });
    cleanup.push(() => client.close());
    await until(() => asked.length === 2);
    expect(seen).toEqual([1]);
    expect(asked).toEqual(['0', '2']);
    expect(client.lastEventId).toBe(2);
  });
});
