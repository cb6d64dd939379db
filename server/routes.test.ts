import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { routes, type RouteSpec } from '../protocol/index.ts';
import { buildOpenApiDocument, toOpenApiPath } from '../protocol/openapi.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { buildApp, type OwpApp } from './app.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';

const ADMIN = 'admin-secret-for-route-tests';
const admin = { 'x-admin-token': ADMIN };
/** Every (method, route pattern) answered in this file, to prove the whole table is covered. */
const reached = new Set<string>();

interface World {
  app: OwpApp;
  engine: Scheduler;
  clock: ManualClock;
  alice: { id: string; headers: Record<string, string> };
  bob: { id: string; headers: Record<string, string> };
}

function makeWorld(options: Partial<Parameters<typeof buildApp>[0]> = {}): World {
  const clock = new ManualClock();
  const driver = new BetterSqlite3Driver({ path: ':memory:' });
  const engine = new Scheduler({ driver, clock });
  const app = buildApp({
    engine,
    adminToken: ADMIN,
    // As the server's `backupDatabase` makes it, short of the thread and the check.
    backup: async (target) => driver.db.prepare('VACUUM INTO ?').run(target),
    ...options,
  });
  app.addHook('onResponse', async (request) => {
    reached.add(`${request.method} ${request.routeOptions.url}`);
  });
  engine.upsertRepo({ repo: 'owner/name', max_open_prs: 5 });
  const register = (name: string) => {
    const { worker_id, token } = engine.registerWorker({ name, capacity_points: 5 });
    return { id: worker_id, headers: { authorization: `Bearer ${token}` } };
  };
  return { app, engine, clock, alice: register('Alice'), bob: register('Bob') };
}

let w: World;
beforeEach(() => {
  w = makeWorld();
});

async function call(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'OPTIONS',
  url: string,
  headers: Record<string, string> = {},
  payload?: unknown,
) {
  const res = await w.app.inject({
    method,
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: res.body ? res.json() : undefined, headers: res.headers };
}

describe('v1 task routes', () => {
  it('lists tasks with filters and a cursor', async () => {
    for (let i = 0; i < 3; i++) {
      w.engine.createTask({ repo: 'owner/name', title: `t${i}`, area: i === 0 ? 'ui' : null });
      w.clock.advance(1);
    }
    const page = await call('GET', '/v1/tasks?repo=owner%2Fname&limit=2', admin);
    expect(page.status).toBe(200);
    expect(page.body.tasks.map((t: { title: string }) => t.title)).toEqual(['t0', 't1']);
    const next = await call('GET', `/v1/tasks?limit=2&cursor=${page.body.next_cursor}`, admin);
    expect(next.body).toMatchObject({ tasks: [{ title: 't2' }], next_cursor: null });
    expect((await call('GET', '/v1/tasks?area=ui', admin)).body.tasks).toHaveLength(1);
    // Out of range or not digits, the message names the range (0 and 501 are whole numbers).
    for (const limit of ['0', '501', '2e1', '99999999999999999999']) {
      const refused = await call('GET', `/v1/tasks?limit=${limit}`, admin);
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.issues).toEqual([
        { path: 'limit', message: 'must be a whole number from 1 to 500, written in digits' },
      ]);
    }
    expect((await call('GET', '/v1/tasks?status=done', admin)).body.error.code).toBe(
      'validation_failed',
    );
  });

  it('gets, edits, requeues and cancels a task', async () => {
    const task = w.engine.createTask({ repo: 'owner/name', title: 'Edit me' });
    expect((await call('GET', `/v1/tasks/${task.task_id}`, admin)).body.title).toBe('Edit me');
    const edited = await call('PATCH', `/v1/admin/tasks/${task.task_id}`, admin, {
      priority: 99,
      expected_version: 1,
    });
    expect(edited.body).toMatchObject({ priority: 99, version: 2 });
    const stale = await call('PATCH', `/v1/admin/tasks/${task.task_id}`, admin, {
      priority: 1,
      expected_version: 1,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_version');
    // A field an edit does not take is refused by name; dropped, it answered 200 and did nothing.
    const unknown = await call('PATCH', `/v1/admin/tasks/${task.task_id}`, admin, {
      status: 'cancelled',
      priorty: 5,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({
      code: 'validation_failed',
      message:
        "Invalid body: ✖ not a field of a task edit: status, priorty (a task's status changes by cancel, requeue and merge; its repo never does)",
    });
    expect(w.engine.getTask(task.task_id)).toMatchObject({ status: 'ready', version: 2 });

    w.engine.heartbeat(w.alice.id, {});
    w.engine.getWork(w.alice.id);
    w.engine.pauseWorker(w.alice.id);
    const requeued = await call('POST', `/v1/admin/tasks/${task.task_id}/requeue`, admin);
    expect(requeued.body).toMatchObject({ status: 'ready', assignee: null });
    const cancelled = await call('POST', `/v1/admin/tasks/${task.task_id}/cancel`, admin);
    expect(cancelled.body.status).toBe('cancelled');
    const again = await call('POST', `/v1/admin/tasks/${task.task_id}/cancel`, admin);
    expect(again.status).toBe(409);
    expect(again.body.error.details.allowed).toEqual([]);
  });

  it('lets a worker read only the tasks it holds', async () => {
    w.engine.heartbeat(w.alice.id, {});
    const task = w.engine.createTask({ repo: 'owner/name', title: 'Alice’s' });
    expect((await call('GET', `/v1/tasks/${task.task_id}`, w.alice.headers)).status).toBe(200);
    const bob = await call('GET', `/v1/tasks/${task.task_id}`, w.bob.headers);
    expect(bob.status).toBe(403);
    expect(bob.body.error.code).toBe('forbidden');
    expect((await call('GET', '/v1/tasks', w.alice.headers)).status).toBe(401);
  });

  it('explains to a worker why it is given no work, and to nobody else', async () => {
    w.engine.heartbeat(w.alice.id, {});
    w.engine.createTask({ repo: 'owner/name', title: 'Needs Rust', required_skills: ['rust'] });
    const answer = await call('GET', '/v1/work/explanation', w.alice.headers);
    expect(answer).toMatchObject({
      status: 200,
      body: {
        worker_id: w.alice.id,
        summary: 'None of the 1 ready task is within your reach: 1 needs a skill you lack.',
        queue: { ready: 1, missing_skill: 1, within_reach: 0 },
      },
    });
    // The queue in counts only: no task's id or title reaches a worker that does not hold it.
    expect(JSON.stringify(answer.body)).not.toContain('Needs Rust');
    expect((await call('GET', '/v1/work/explanation', admin)).status).toBe(401);
  });

  it('explains why a task waits, to the admin and the viewer only', async () => {
    w = makeWorld({ viewerToken: 'viewer-token-for-tests' });
    w.engine.heartbeat(w.alice.id, {});
    const task = w.engine.createTask({
      repo: 'owner/name',
      title: 'Needs Rust',
      required_skills: ['rust'],
    });
    const url = `/v1/admin/tasks/${task.task_id}/explanation`;
    const answer = await call('GET', url, admin);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      task_id: task.task_id,
      status: 'ready',
      blocker: null,
      summary: 'The one online worker may not take it: 1 worker lacks a required skill (rust).',
      workers: { online: 1, offline: 1, eligible_count: 0 },
    });
    const viewer = await call('GET', url, { 'x-viewer-token': 'viewer-token-for-tests' });
    expect(viewer.body).toEqual(answer.body);
    // It names other workers: not for a worker to read.
    expect((await call('GET', url, w.alice.headers)).status).toBe(401);
    expect(await call('GET', '/v1/admin/tasks/t_nope/explanation', admin)).toMatchObject({
      status: 404,
      body: { error: { code: 'task_not_found' } },
    });
  });
});

describe('merge and event history', () => {
  it('lets an admin record a merge and reads the task’s history', async () => {
    w.engine.heartbeat(w.alice.id, {});
    const task = w.engine.createTask({ repo: 'owner/name', title: 'Merge me' });
    w.engine.updateStatus(w.alice.id, task.task_id, { status: 'in_progress' });
    w.engine.updateStatus(w.alice.id, task.task_id, { status: 'pr_opened' });
    const merged = await call('POST', `/v1/admin/tasks/${task.task_id}/merge`, admin);
    expect(merged.body).toMatchObject({ status: 'merged', lease: null });

    const history = await call('GET', `/v1/events/history?task_id=${task.task_id}`, admin);
    expect(
      history.body.events.map(
        (e: { type: string; data: { cause?: string } }) => e.data.cause ?? e.type,
      ),
    ).toEqual(['task.created', 'grant', 'start', 'open_pr', 'merge']);
    const page = await call('GET', '/v1/events/history?after=2&limit=1', admin);
    expect(page.body.events.map((e: { seq: number }) => e.seq)).toEqual([3]);
    const asWorker = await call('GET', '/v1/events/history', w.alice.headers);
    expect(
      asWorker.body.events.every((e: { worker_id: string }) => e.worker_id === w.alice.id),
    ).toBe(true);
  });
});

describe('viewer token', () => {
  it('reads what an admin reads and changes nothing', async () => {
    w = makeWorld({ viewerToken: 'viewer-token-for-tests' });
    const viewer = { 'x-viewer-token': 'viewer-token-for-tests' };
    expect((await call('GET', '/v1/admin/state', viewer)).status).toBe(200);
    expect((await call('GET', '/v1/tasks', viewer)).status).toBe(200);
    expect((await call('GET', '/v1/events/history', viewer)).status).toBe(200);
    expect((await call('GET', `/v1/admin/workers/${w.alice.id}`, viewer)).status).toBe(200);
    const write = await call('POST', '/v1/admin/repos', viewer, { repo: 'sneaky' });
    expect(write.status).toBe(403);
    expect(write.body.error.code).toBe('forbidden');
    expect((await call('GET', '/v1/work', viewer)).status).toBe(401);
    const wrong = await call('GET', '/v1/admin/state', { 'x-viewer-token': 'guess' });
    expect(wrong.status).toBe(401);
  });

  it('is refused when the server has no viewer token', async () => {
    const res = await call('GET', '/v1/admin/state', { 'x-viewer-token': 'anything' });
    expect(res.status).toBe(401);
  });
});

describe('v1 lease routes', () => {
  it('renews and releases a lease by id, and fences stale writes with 409', async () => {
    w.engine.heartbeat(w.alice.id, {});
    const task = w.engine.createTask({ repo: 'owner/name', title: 'Lease me' });
    const [lease] = (await call('GET', '/v1/work', w.alice.headers)).body.leases;
    expect(lease).toMatchObject({ task_id: task.task_id, epoch: 1 });

    w.clock.advanceSeconds(60);
    const renewed = await call('POST', `/v1/leases/${lease.lease_id}/renew`, w.alice.headers);
    expect(renewed.body).toEqual({
      ok: true,
      lease_id: lease.lease_id,
      epoch: 1,
      expires_at: '2026-01-17T12:31:00.000Z',
    });
    const bobRenews = await call('POST', `/v1/leases/${lease.lease_id}/renew`, w.bob.headers);
    expect(bobRenews.status).toBe(403);

    const released = await call('POST', `/v1/leases/${lease.lease_id}/release`, w.alice.headers, {
      reason: 'no time',
    });
    expect(released.body).toEqual({ ok: true, task_id: task.task_id, status: 'ready' });

    const stale = await call('POST', `/v1/tasks/${task.task_id}/status`, w.alice.headers, {
      status: 'in_progress',
      lease_id: lease.lease_id,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_lease');
    expect((await call('POST', '/v1/leases/l_nope/renew', w.alice.headers)).status).toBe(404);
  });
});

describe('v1 worker and repo routes', () => {
  it('lists, gets, pauses and resumes workers', async () => {
    const list = await call('GET', '/v1/admin/workers', admin);
    expect(list.body.workers.map((x: { name: string }) => x.name)).toEqual(['Alice', 'Bob']);
    const one = await call('GET', `/v1/admin/workers/${w.alice.id}`, admin);
    expect(one).toMatchObject({ status: 200, body: list.body.workers[0] });
    expect(await call('GET', '/v1/admin/workers/w_nope', admin)).toMatchObject({
      status: 404,
      body: { error: { code: 'worker_not_found' } },
    });
    const paused = await call('POST', `/v1/admin/workers/${w.alice.id}/pause`, admin);
    expect(paused.body).toMatchObject({ paused_by_admin: true, status: 'paused' });
    const resumed = await call('POST', `/v1/admin/workers/${w.alice.id}/resume`, admin);
    expect(resumed.body.paused_by_admin).toBe(false);
    expect((await call('POST', '/v1/admin/workers/w_nope/pause', admin)).status).toBe(404);
  });

  it('lists, gets and deletes repos whose key holds a slash', async () => {
    expect((await call('GET', '/v1/admin/repos', admin)).body.repos).toHaveLength(1);
    const repo = await call('GET', '/v1/admin/repos/owner/name', admin);
    expect(repo.body).toMatchObject({ repo: 'owner/name', max_open_prs: 5 });
    expect((await call('GET', '/v1/admin/repos/owner%2Fname', admin)).body.repo).toBe('owner/name');
    expect((await call('GET', '/v1/admin/repos/nope', admin)).status).toBe(404);
    expect(await call('DELETE', '/v1/admin/repos/owner/name', admin)).toMatchObject({
      status: 200,
      body: { ok: true },
    });
    expect((await call('GET', '/v1/admin/repos', admin)).body.repos).toEqual([]);
  });
});

describe('v1 offer, trust and reputation routes', () => {
  it('lists, accepts and rejects offers with 201 for an accept and clear errors', async () => {
    w.engine.upsertRepo({ repo: 'owner/name', assignment: 'offer', offer_ttl_seconds: 300 });
    w.engine.heartbeat(w.alice.id, {});
    const task = w.engine.createTask({ repo: 'owner/name', title: 'Offer me' });
    const listed = await call('GET', '/v1/work/offers', w.alice.headers);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({
      worker_id: w.alice.id,
      offers: [{ task_id: task.task_id, expires_at: '2026-01-17T12:05:00.000Z' }],
    });
    const offerId = listed.body.offers[0].offer_id as string;
    // The v0.1 call shows no lease for an offer.
    expect((await call('GET', '/v1/work', w.alice.headers)).body.leases).toEqual([]);

    const foreign = await call('POST', `/v1/work/offers/${offerId}/accept`, w.bob.headers);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('not_offer_holder');
    const badReason = await call('POST', `/v1/work/offers/${offerId}/reject`, w.alice.headers, {
      reason: 'bored',
    });
    expect(badReason.status).toBe(400);
    const badId = await call('POST', '/v1/work/offers/not-an-offer/accept', w.alice.headers);
    expect(badId.status).toBe(400);

    const accepted = await call('POST', `/v1/work/offers/${offerId}/accept`, w.alice.headers);
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({ task_id: task.task_id, status: 'leased', epoch: 1 });
    // An accepted offer is a lease granted, for /metrics too.
    const metrics = await w.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('owp_leases_granted_total 1');
    const again = await call('POST', `/v1/work/offers/${offerId}/reject`, w.alice.headers, {
      reason: 'other',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('offer_closed');
    expect((await call('POST', '/v1/work/offers/o_nope/accept', w.alice.headers)).status).toBe(404);
  });

  it('sets a trust tier (admin only, with a reason) and reads reputation', async () => {
    const url = `/v1/workers/${w.alice.id}/trust-tier`;
    expect(
      (await call('POST', url, w.alice.headers, { tier: 'maintainer', reason: 'x' })).status,
    ).toBe(401);
    expect((await call('POST', url, admin, { tier: 'trusted' })).status).toBe(400);
    expect((await call('POST', url, admin, { tier: 'wizard', reason: 'x' })).status).toBe(400);
    const set = await call('POST', url, admin, { tier: 'trusted', reason: 'long history' });
    expect(set).toMatchObject({
      status: 200,
      body: { worker_id: w.alice.id, trust_tier: 'trusted' },
    });
    expect(
      (await call('POST', '/v1/workers/w_nope/trust-tier', admin, { tier: 'basic', reason: 'x' }))
        .status,
    ).toBe(404);

    const reputation = `/v1/workers/${w.alice.id}/reputation`;
    const own = await call('GET', reputation, w.alice.headers);
    expect(own.body).toMatchObject({
      worker_id: w.alice.id,
      trust_tier: 'trusted',
      reputation: 0.5,
    });
    expect((await call('GET', reputation, admin)).body).toEqual(own.body);
    const other = await call('GET', reputation, w.bob.headers);
    expect(other.status).toBe(403);
    expect((await call('GET', reputation)).status).toBe(401);
  });
});

describe('audit and analytics routes', () => {
  it("reads the audit log and a repo's analytics (details in audit.test.ts, analytics.test.ts)", async () => {
    const audit = await call('GET', '/v1/audit/events?actor=admin', admin);
    expect(audit.status).toBe(200);
    expect(audit.body).toMatchObject({
      events: [{ seq: 1, type: 'repo.upserted', actor: 'admin' }],
      next_after: null,
    });
    const analytics = await call('GET', '/v1/analytics/repositories/owner/name', admin);
    expect(analytics.status).toBe(200);
    expect(analytics.body).toMatchObject({ repo: 'owner/name', tasks_completed: 0 });
  });
});

describe('operations', () => {
  it('sends a copy of the database as a download, and keeps nothing of it after', async () => {
    w.engine.createTask({ repo: 'owner/name', title: 'Backed up' });
    const leftovers = () =>
      readdirSync(tmpdir()).filter((name) => name.startsWith('owp-download-'));
    const before = leftovers().length;
    const res = await w.app.inject({ method: 'GET', url: '/v1/admin/backup', headers: admin });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.sqlite3');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="owp-\d{4}-\d\d-\d\dT\d{6}Z\.db"$/,
    );
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    expect(res.rawPayload.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    const dir = mkdtempSync(join(tmpdir(), 'owp-routes-'));
    try {
      writeFileSync(join(dir, 'copy.db'), res.rawPayload);
      const copy = new Database(join(dir, 'copy.db'), { readonly: true });
      expect(copy.prepare('SELECT title FROM tasks').pluck().all()).toEqual(['Backed up']);
      copy.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(leftovers()).toHaveLength(before);

    // A pool kept in memory alone has no file to copy: said so, not a 500.
    const inMemory = makeWorld({ backup: undefined });
    const none = await inMemory.app.inject({
      method: 'GET',
      url: '/v1/admin/backup',
      headers: admin,
    });
    expect(none.statusCode).toBe(404);
    expect(none.json().error).toMatchObject({
      code: 'route_not_found',
      message: 'This server keeps its pool in memory: no file to copy.',
    });
  });

  it('answers readiness and Prometheus metrics', async () => {
    expect((await call('GET', '/readyz')).body).toEqual({ ok: true });
    w.engine.heartbeat(w.alice.id, {});
    w.engine.createTask({ repo: 'owner/name', title: 'counted' });
    await call('GET', '/v1/work', w.alice.headers);
    const countsRead = vi.spyOn(w.engine, 'state');
    const metrics = await w.app.inject({ method: 'GET', url: '/metrics' });
    // Counting tasks by status walks an index of every task: once per scrape, not per gauge.
    expect(countsRead).toHaveBeenCalledTimes(1);
    countsRead.mockRestore();
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('owp_tasks{status="leased"} 1');
    expect(metrics.body).toContain('owp_workers_online 1');
    expect(metrics.body).toContain('owp_leases_granted_total 1');
    expect(metrics.body).toMatch(
      /owp_assignment_duration_seconds_count\{trigger="work_request"\} 1/,
    );
    expect(metrics.body).toMatch(
      /owp_http_request_duration_seconds_count\{method="GET",route="\/v1\/work",status="200"\} 1/,
    );
    w.app.owp.setStopping();
    const stopping = await call('GET', '/readyz');
    expect(stopping.status).toBe(503);
  });

  it('answers CORS preflights for the Obsidian origins only', async () => {
    const preflight = (origin: string) =>
      call('OPTIONS', '/v1/work', {
        origin,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      });
    for (const origin of ['app://obsidian.md', 'capacitor://localhost', 'http://localhost']) {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(String(res.headers['access-control-allow-headers'])).toContain('authorization');
    }
    expect(
      (await preflight('https://evil.example')).headers['access-control-allow-origin'],
    ).toBeUndefined();
  });

  it('rate-limits registration per client address', async () => {
    w = makeWorld({ registrationsPerMinute: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await call('POST', '/v1/workers/register', {}, { name: `w${i}` })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await call('POST', '/v1/workers/register', {}, { name: 'late' });
    expect(limited.body.error.code).toBe('rate_limited');
  });

  it('locks out an address after repeated failed authentication, even with a good token next', async () => {
    w = makeWorld({ authFailuresPerMinute: 3 });
    for (let i = 0; i < 3; i++) {
      expect((await call('GET', '/v1/admin/state', { 'x-admin-token': `guess-${i}` })).status).toBe(
        401,
      );
    }
    const locked = await call('GET', '/v1/admin/state', admin);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('rate_limited');
    expect(locked.body.error.details.retry_after_seconds).toBeGreaterThan(0);
    expect(locked.headers['retry-after']).toBe(
      String(locked.body.error.details.retry_after_seconds),
    );
    // Routes that take no credentials stay open to the locked-out address: health checks go on.
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('POST', '/v1/workers/register', {}, { name: 'after-lockout' })).status).toBe(
      200,
    );
  });

  it('never echoes a token in an error message', async () => {
    const secret = 'owpw_this-is-not-a-valid-token-but-looks-like-one';
    const res = await call('GET', '/v1/work', { authorization: `Bearer ${secret}` });
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body)).not.toContain(secret);
  });
});

describe('answers only what the OpenAPI document says it may', () => {
  const document = buildOpenApiDocument();
  /** A concrete URL for a route: made-up ids, the repo of the world. */
  const urlOf = (path: string) =>
    path.replace('*', 'owner/name').replace(/\{(\w+)\}/g, (_m, name: string) => `${name[0]}_x`);
  const documented = (spec: RouteSpec, status: number) =>
    document.paths[toOpenApiPath(spec.path)]![spec.method.toLowerCase() as 'get']!.responses[
      String(status)
    ] as { 'x-owp-error-codes'?: string[] } | undefined;

  it('for the viewer token where it is refused, and a broken body on every route that may take one', async () => {
    w = makeWorld({ viewerToken: 'viewer-token-for-tests' });
    const viewer = { 'x-viewer-token': 'viewer-token-for-tests' };
    const seen: string[] = [];
    for (const spec of Object.values(routes) as RouteSpec[]) {
      const url = urlOf(spec.path);
      if (spec.auth === 'admin' || spec.auth === 'worker_or_admin') {
        const res = await call(spec.method, url, viewer);
        const doc = documented(spec, res.status);
        expect(
          doc,
          `${spec.method} ${spec.path}: viewer → ${res.status} undocumented`,
        ).toBeDefined();
        if (res.status >= 400) {
          expect(doc!['x-owp-error-codes'], `${spec.method} ${spec.path}`).toContain(
            res.body.error.code,
          );
        }
        seen.push(`viewer ${res.status}`);
      }
      if (spec.method !== 'GET') {
        const res = await w.app.inject({
          method: spec.method,
          url,
          headers: { ...admin, 'content-type': 'application/json' },
          payload: '{x',
        });
        expect(res.statusCode, `${spec.method} ${spec.path}`).toBe(400);
        expect(
          documented(spec, 400)?.['x-owp-error-codes'],
          `${spec.method} ${spec.path}`,
        ).toContain('malformed_json');
        seen.push('broken body 400');
      }
    }
    // Both kinds of answer were met, the viewer's 403 among them.
    expect(seen).toContain('viewer 403');
    expect(seen).toContain('broken body 400');
  });
});

afterAll(async () => {
  // The v0.1 routes are covered in app.test.ts; this file covers the rest of the table.
  const v1 = Object.values(routes).filter((r) => !('v01' in r && r.v01));
  const missing = v1
    .map((r) => `${r.method} ${r.path.replace(/\{(\w+)\}/g, ':$1')}`)
    .filter((key) => !reached.has(key));
  expect(missing, `routes never reached: ${missing.join(', ')}`).toEqual([]);
});
