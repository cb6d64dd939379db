import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '../scheduler/engine.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { buildApp, type OwpApp } from './app.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';
import { SseReader } from './testing/sse-reader.ts';

const ADMIN = 'admin-secret-for-sse-tests';
const VIEWER = 'viewer-secret-for-sse-tests';
const open: { app?: OwpApp; readers: SseReader[] } = { readers: [] };

async function startServer(maxEventStreams?: number) {
  const engine = new Scheduler({
    driver: new BetterSqlite3Driver({ path: ':memory:' }),
    clock: new ManualClock(),
  });
  const app = buildApp({
    engine,
    adminToken: ADMIN,
    viewerToken: VIEWER,
    maxEventStreams,
    // Not the default 5 s: the close tests below wait at most 2 s.
    closeGraceMs: 100,
  });
  open.app = app;
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  return { engine, url: `http://127.0.0.1:${address.port}/v1/events` };
}

async function reader(url: string, headers: Record<string, string>) {
  const r = await new SseReader().open(url, headers);
  open.readers.push(r);
  return r;
}

afterEach(async () => {
  for (const r of open.readers.splice(0)) await r.close();
  await open.app?.close();
});

const seqs = (r: SseReader) => r.frames.map((f) => Number(f.id));

/** Closes the app, and says whether that ended within 2 s. */
async function closeApp(): Promise<string> {
  const closed = open.app!.close().then(() => 'closed');
  open.app = undefined;
  return Promise.race([
    closed,
    new Promise<string>((resolve) => setTimeout(() => resolve('still open after 2 s'), 2000)),
  ]);
}

describe('GET /v1/events (real network)', () => {
  it('streams events with id = sequence number and the event type', async () => {
    const { engine, url } = await startServer();
    const stream = await reader(url, { 'x-admin-token': ADMIN });
    expect(stream.status).toBe(200);
    engine.upsertRepo({ repo: 'demo' });
    engine.createTask({ repo: 'demo', title: 'Streamed' });
    await stream.waitFor((f) => f.length === 2);
    expect(stream.frames.map((f) => f.event)).toEqual(['repo.upserted', 'task.created']);
    expect(seqs(stream)).toEqual([1, 2]);
    expect(JSON.parse(stream.frames[1]!.data!)).toMatchObject({
      seq: 2,
      data: { title: 'Streamed' },
    });
  });

  it('resumes from Last-Event-ID after a dropped connection without losing or repeating an event', async () => {
    const { engine, url } = await startServer();
    engine.upsertRepo({ repo: 'demo' });
    const first = await reader(url, { 'x-admin-token': ADMIN });
    for (let i = 0; i < 5; i++) engine.createTask({ repo: 'demo', title: `before ${i}` });
    await first.waitFor((f) => f.length === 6);
    await first.close(); // the connection drops

    for (let i = 0; i < 5; i++) engine.createTask({ repo: 'demo', title: `while away ${i}` });
    const lastSeen = first.frames.at(-1)!.id!;
    const second = await reader(url, { 'x-admin-token': ADMIN, 'last-event-id': lastSeen });
    for (let i = 0; i < 3; i++) engine.createTask({ repo: 'demo', title: `after ${i}` });
    await second.waitFor((f) => f.length === 8);

    const all = [...seqs(first), ...seqs(second)];
    expect(all).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
  });

  it('resumes from the newest event when Last-Event-ID is past it (another log)', async () => {
    const { engine, url } = await startServer();
    engine.upsertRepo({ repo: 'demo' });
    // A client that last saw event 100000 of a database that has since been recreated.
    const stream = await reader(url, { 'x-admin-token': ADMIN, 'last-event-id': '100000' });
    engine.createTask({ repo: 'demo', title: 'After the reconnect' });
    await stream.waitFor((f) => f.length === 1);
    expect(seqs(stream)).toEqual([2]);
  });

  it('catches up past one page of history', async () => {
    const { engine, url } = await startServer();
    engine.upsertRepo({ repo: 'demo' });
    for (let i = 0; i < 1200; i++) engine.createTask({ repo: 'demo', title: `t${i}` });
    const stream = await reader(`${url}?after=100`, { 'x-admin-token': ADMIN });
    await stream.waitFor((f) => f.length === 1101);
    expect(seqs(stream)[0]).toBe(101);
    expect(seqs(stream).at(-1)).toBe(1201);
  });

  it('shows a worker only its own events', async () => {
    const { engine, url } = await startServer();
    engine.upsertRepo({ repo: 'demo' });
    const alice = engine.registerWorker({ name: 'Alice' });
    const bob = engine.registerWorker({ name: 'Bob' });
    const stream = await reader(url, { authorization: `Bearer ${alice.token}` });
    engine.heartbeat(bob.worker_id, {});
    engine.heartbeat(alice.worker_id, {});
    engine.createTask({ repo: 'demo', title: 'for someone' });
    await stream.waitFor((f) => f.some((frame) => frame.event === 'worker.online'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const events = stream.frames.map((f) => JSON.parse(f.data!) as { worker_id: string });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.worker_id === alice.worker_id)).toBe(true);
  });

  it('ends a worker’s stream when an admin replaces its token, after telling it; others go on', async () => {
    const { engine, url } = await startServer();
    const alice = engine.registerWorker({ name: 'Alice' });
    const bob = engine.registerWorker({ name: 'Bob' });
    const aliceStream = await reader(url, { authorization: `Bearer ${alice.token}` });
    const bobStream = await reader(url, { authorization: `Bearer ${bob.token}` });
    const adminStream = await reader(url, { 'x-admin-token': ADMIN });
    engine.heartbeat(alice.worker_id, {});
    await aliceStream.waitFor((f) => f.some((frame) => frame.event === 'worker.online'));

    const replaced = engine.replaceWorkerToken(alice.worker_id);
    const ended = await Promise.race([
      aliceStream.ended.then(() => 'ended'),
      new Promise((resolve) => setTimeout(() => resolve('still open after 2 s'), 2000)),
    ]);
    expect(ended).toBe('ended');
    expect(aliceStream.frames.map((f) => f.event)).toEqual([
      'worker.registered',
      'worker.online',
      'worker.token_replaced',
    ]);
    expect((await reader(url, { authorization: `Bearer ${alice.token}` })).status).toBe(401);

    // A stream opened with the new token catches up past the event and stays open.
    const renewed = await reader(url, { authorization: `Bearer ${replaced.token}` });
    await renewed.waitFor((f) => f.some((frame) => frame.event === 'worker.token_replaced'));

    // Nothing more is written to the old one, and the other streams go on.
    engine.heartbeat(alice.worker_id, { status: 'working' });
    engine.heartbeat(bob.worker_id, {});
    await bobStream.waitFor((f) => f.some((frame) => frame.event === 'worker.online'));
    await adminStream.waitFor((f) => f.some((frame) => frame.event === 'worker.status_changed'));
    await renewed.waitFor((f) => f.some((frame) => frame.event === 'worker.status_changed'));
    expect(adminStream.frames.map((f) => f.event)).toContain('worker.token_replaced');
  });

  it('shows the viewer every event, but not who made it (the audit log is the admin’s)', async () => {
    const { engine, url } = await startServer();
    engine.upsertRepo({ repo: 'demo' }); // before the stream: its catch-up
    const viewer = await reader(url, { 'x-viewer-token': VIEWER });
    const admin = await reader(url, { 'x-admin-token': ADMIN });
    engine.createTask({ repo: 'demo', title: 'live' });
    await viewer.waitFor((f) => f.length === 2);
    await admin.waitFor((f) => f.length === 2);
    const parsed = (r: SseReader) => r.frames.map((f) => JSON.parse(f.data!) as object);
    expect(parsed(admin).map((e) => 'actor' in e && e.actor)).toEqual(['admin', 'admin']);
    expect(parsed(viewer)).toEqual(
      parsed(admin).map((event) => {
        const { actor: _actor, ...rest } = event as { actor?: string };
        return rest;
      }),
    );
  });

  it('lets the server close while a client still holds a stream', async () => {
    const { url } = await startServer();
    const stream = await reader(url, { 'x-admin-token': ADMIN });
    expect(stream.status).toBe(200);
    expect(await closeApp()).toBe('closed');
  });

  it('lets the server close after its clients stopped reading without closing', async () => {
    const { url } = await startServer();
    // Aborting Node's fetch of a stream leaves a connection open that carries no request.
    for (let i = 0; i < 2; i++) await (await reader(url, { 'x-admin-token': ADMIN })).close();
    const connections = () =>
      new Promise<number>((resolve, reject) =>
        open.app!.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      );
    expect(await connections()).toBe(2);

    expect(await closeApp()).toBe('closed');
  });

  it('refuses a stream without credentials, and past the connection limit', async () => {
    const { url } = await startServer(1);
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.code).toBe('unauthorized');
    await reader(url, { 'x-admin-token': ADMIN });
    const second = await fetch(url, { headers: { 'x-admin-token': ADMIN } });
    expect(second.status).toBe(503);
    expect((await second.json()).error.code).toBe('not_ready');
  });
});
