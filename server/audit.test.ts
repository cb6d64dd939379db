import { describe, expect, it } from 'vitest';
import { Scheduler } from '../scheduler/engine.ts';
import { sequentialIds } from '../scheduler/ids.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { buildApp } from './app.ts';
import { prefersCsv } from './audit-answer.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';

const ADMIN = 'admin-secret-for-audit-tests';
const VIEWER = 'viewer-secret-for-audit-tests';
const admin = { 'x-admin-token': ADMIN };
const MINUTE = 60_000;

/**
 * A pool with a short history:
 *   1 repo.upserted acme/app (admin, 12:00)   2 worker.registered w_0001 (12:00)
 *   3 worker.online w_0001 (12:00)            4 task.created t_0001 (admin, 12:01), a title
 *                                               with quotes and a comma
 *   5 grant t_0001 → w_0001 (system, 12:01)   6 start t_0001 (w_0001, 12:02)
 */
function setup() {
  const clock = new ManualClock();
  const engine = new Scheduler({
    driver: new BetterSqlite3Driver({ path: ':memory:' }),
    clock,
    ids: sequentialIds(),
  });
  const app = buildApp({ engine, adminToken: ADMIN, viewerToken: VIEWER });
  engine.upsertRepo({ repo: 'acme/app', max_open_prs: 2 });
  const { worker_id, token } = engine.registerWorker({ name: 'Alice' });
  engine.heartbeat(worker_id, {});
  clock.advance(MINUTE);
  engine.heartbeat(worker_id, {});
  const task = engine.createTask({ repo: 'acme/app', title: 'Fix "login", again' });
  clock.advance(MINUTE);
  engine.updateStatus(worker_id, task.task_id, { status: 'in_progress' });
  const get = async (url: string, headers: Record<string, string> = admin) => {
    const res = await app.inject({ method: 'GET', url, headers });
    return { status: res.statusCode, headers: res.headers, text: res.body };
  };
  return { app, engine, get, worker: { authorization: `Bearer ${token}` } };
}

describe('GET /v1/audit/events', () => {
  it('answers the filtered page as JSON, every event with its actor', async () => {
    const { get } = setup();
    const res = await get('/v1/audit/events?repo=acme%2Fapp&limit=2');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-disposition']).toBeUndefined();
    expect(JSON.parse(res.text)).toEqual({
      events: [
        {
          seq: 1,
          at: '2026-01-17T12:00:00.000Z',
          type: 'repo.upserted',
          repo: 'acme/app',
          task_id: null,
          worker_id: null,
          actor: 'admin',
          data: { max_open_prs: 2, area_locks_enabled: true },
        },
        {
          seq: 4,
          at: '2026-01-17T12:01:00.000Z',
          type: 'task.created',
          repo: 'acme/app',
          task_id: 't_0001',
          worker_id: null,
          actor: 'admin',
          data: { title: 'Fix "login", again', priority: 10 },
        },
      ],
      next_after: 4,
    });
    const next = JSON.parse((await get('/v1/audit/events?repo=acme%2Fapp&limit=2&after=4')).text);
    expect(next.events.map((e: { seq: number; actor: string }) => [e.seq, e.actor])).toEqual([
      [5, 'system'],
      [6, 'w_0001'],
    ]);
    expect(next.next_after).toBeNull();
    const byWorker = JSON.parse((await get('/v1/audit/events?actor=w_0001')).text);
    expect(byWorker.events.map((e: { type: string }) => e.type)).toEqual([
      'worker.registered',
      'worker.online',
      'task.status_changed',
    ]);
    const window = JSON.parse(
      (await get('/v1/audit/events?since=2026-01-17T12:01:00Z&until=2026-01-17T12:02:00Z')).text,
    );
    expect(window.events.map((e: { seq: number }) => e.seq)).toEqual([4, 5]);
  });

  it('exports CSV: a header row, quoted cells, CRLF, a file name and the next page in a header', async () => {
    const { get } = setup();
    const res = await get('/v1/audit/events?format=csv&task_id=t_0001&limit=2');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="owp-audit.csv"');
    expect(res.headers['x-owp-next-after']).toBe('5');
    expect(res.text).toBe(
      'seq,at,type,actor,repo,task_id,worker_id,data\r\n' +
        '4,2026-01-17T12:01:00.000Z,task.created,admin,acme/app,t_0001,,' +
        '"{""title"":""Fix \\""login\\"", again"",""priority"":10}"\r\n' +
        '5,2026-01-17T12:01:00.000Z,task.status_changed,system,acme/app,t_0001,w_0001,' +
        '"{""from"":""ready"",""to"":""leased"",""cause"":""grant"",""lease_id"":""l_0001"",' +
        '""epoch"":1,""message"":null,""pr_url"":null,""version"":2}"\r\n',
    );
    const last = await get('/v1/audit/events?format=csv&task_id=t_0001&after=5');
    expect(last.headers['x-owp-next-after']).toBeUndefined();
    expect(last.text.split('\r\n')).toEqual([
      'seq,at,type,actor,repo,task_id,worker_id,data',
      expect.stringMatching(/^6,2026-01-17T12:02:00\.000Z,task\.status_changed,w_0001,/),
      '',
    ]);
    const none = await get('/v1/audit/events?format=csv&repo=nope');
    expect(none.text).toBe('seq,at,type,actor,repo,task_id,worker_id,data\r\n');
  });

  it('answers CSV to an Accept header that asks for it, and JSON to one that does not', async () => {
    const { get } = setup();
    const csv = await get('/v1/audit/events?type=worker.online', { ...admin, accept: 'text/csv' });
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.text).toBe(
      'seq,at,type,actor,repo,task_id,worker_id,data\r\n' +
        '3,2026-01-17T12:00:00.000Z,worker.online,w_0001,,,w_0001,"{""status"":""idle""}"\r\n',
    );
    const json = await get('/v1/audit/events?type=worker.online', { ...admin, accept: '*/*' });
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(prefersCsv('text/csv;q=0.5, application/json')).toBe(false);
    expect(prefersCsv('application/json;q=0.5, text/csv')).toBe(true);
    expect(prefersCsv('text/csv;q=0')).toBe(false);
    expect(prefersCsv(undefined)).toBe(false);
  });

  it('exports JSON as a download with format=json, the same page as the plain answer', async () => {
    const { get } = setup();
    const plain = await get('/v1/audit/events?actor=system');
    const download = await get('/v1/audit/events?actor=system&format=json');
    expect(download.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(download.headers['content-disposition']).toBe('attachment; filename="owp-audit.json"');
    expect(JSON.parse(download.text)).toEqual(JSON.parse(plain.text));
  });

  it('is for the admin token only: 401 without it or with a worker token, 403 for a viewer', async () => {
    const { get, worker } = setup();
    const envelope = (res: { text: string }) => JSON.parse(res.text).error;
    const none = await get('/v1/audit/events', {});
    expect(none.status).toBe(401);
    expect(envelope(none).code).toBe('unauthorized');
    const asWorker = await get('/v1/audit/events', worker);
    expect(asWorker.status).toBe(401);
    expect(envelope(asWorker).code).toBe('unauthorized');
    const viewer = await get('/v1/audit/events?format=csv', { 'x-viewer-token': VIEWER });
    expect(viewer.status).toBe(403);
    expect(envelope(viewer)).toEqual({
      code: 'forbidden',
      message: 'This endpoint needs the admin token; a viewer may not read it.',
      details: null,
    });
    // The viewer still reads what it read before.
    expect((await get('/v1/admin/state', { 'x-viewer-token': VIEWER })).status).toBe(200);
    // The events, too, but not who made them: that is the audit log.
    const history = await get('/v1/events/history?after=0', { 'x-viewer-token': VIEWER });
    expect(history.status).toBe(200);
    const events = JSON.parse(history.text).events as Record<string, unknown>[];
    expect(events.map((e) => e.type)).toEqual(
      JSON.parse((await get('/v1/events/history?after=0')).text).events.map(
        (e: { type: string }) => e.type,
      ),
    );
    expect(events.length).toBeGreaterThan(0);
    expect(events.filter((e) => 'actor' in e)).toEqual([]);
  });

  it('refuses a bad query with 400 and the envelope, never a 5xx', async () => {
    const { get } = setup();
    for (const query of [
      'type=task.exploded',
      'since=yesterday',
      'until=2026-13-01T00:00:00Z',
      'limit=0',
      'limit=1001',
      'after=-1',
      'after=abc',
      // Not digits: coercion read these as 1000, 16 and 0, another page than the one typed.
      'after=1e3',
      'after=0x10',
      'after=',
      'limit=%2010',
      'format=xml',
      'repo=a%2Fb%2Fc',
      'actor=',
      'since=2026-01-17T12:05:00Z&until=2026-01-17T12:00:00Z',
    ]) {
      const res = await get(`/v1/audit/events?${query}`);
      expect(res.status, query).toBe(400);
      expect(JSON.parse(res.text).error.code, query).toBe('validation_failed');
    }
  });
});
