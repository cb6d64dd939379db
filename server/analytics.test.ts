import { describe, expect, it } from 'vitest';
import { Scheduler } from '../scheduler/engine.ts';
import { sequentialIds } from '../scheduler/ids.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { buildApp } from './app.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';

const ADMIN = 'admin-secret-for-analytics-tests';
const VIEWER = 'viewer-secret-for-analytics-tests';
const admin = { 'x-admin-token': ADMIN };
const MINUTE = 60_000;

/**
 * acme/app with a budget of one: Alice (5 points, online from 12:00) takes a 2-point task at 12:00,
 * opens its PR at 12:20, and it is merged at 12:40. The clock stops at 13:00.
 */
function setup() {
  const clock = new ManualClock();
  const engine = new Scheduler({
    driver: new BetterSqlite3Driver({ path: ':memory:' }),
    clock,
    ids: sequentialIds(),
    config: { heartbeatTtlMs: 2 * 3600_000 },
  });
  const app = buildApp({ engine, adminToken: ADMIN, viewerToken: VIEWER });
  engine.upsertRepo({ repo: 'acme/app', max_open_prs: 1 });
  const { worker_id, token } = engine.registerWorker({ name: 'Alice', capacity_points: 5 });
  engine.heartbeat(worker_id, {});
  const task = engine.createTask({ repo: 'acme/app', title: 'Fix the login', estimate_points: 2 });
  engine.updateStatus(worker_id, task.task_id, { status: 'in_progress' });
  clock.advance(20 * MINUTE);
  engine.updateStatus(worker_id, task.task_id, { status: 'pr_opened' });
  clock.advance(20 * MINUTE);
  engine.markMerged(task.task_id);
  clock.advance(20 * MINUTE);
  const get = async (url: string, headers: Record<string, string> = admin) => {
    const res = await app.inject({ method: 'GET', url, headers });
    return { status: res.statusCode, body: res.json() };
  };
  return { app, engine, get, worker: { authorization: `Bearer ${token}` } };
}

const PERIOD = 'since=2026-01-17T12:00:00Z&until=2026-01-17T13:00:00Z';

describe('GET /v1/analytics/repositories/{repo}', () => {
  it("reports a repo's figures over the period asked for", async () => {
    const { get } = setup();
    const res = await get(`/v1/analytics/repositories/acme/app?${PERIOD}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      repo: 'acme/app',
      since: '2026-01-17T12:00:00.000Z',
      until: '2026-01-17T13:00:00.000Z',
      tasks_completed: 1,
      lead_time: { median_ms: 40 * MINUTE, samples: 1 },
      cycle_time: { median_ms: 20 * MINUTE, samples: 1 },
      requeue_rate: { rate: 0, grants: 1, expired: 0, released: 0, requeued: 0 },
      offer_acceptance_rate: { rate: null, accepted: 0, rejected: 0, expired: 0 },
      // 2 of Alice's 5 points for 20 of her 60 minutes online.
      worker_utilization: {
        rate: 40 / 300,
        held_point_ms: 40 * MINUTE,
        capacity_point_ms: 300 * MINUTE,
      },
      // Leased, then a PR open: the budget of one is full until the merge.
      review_budget_saturation: {
        rate: 40 / 60,
        saturated_ms: 40 * MINUTE,
        observed_ms: 60 * MINUTE,
      },
    });
  });

  it('takes the repo key with its slash as is or percent-encoded, and defaults the period', async () => {
    const { get } = setup();
    const encoded = await get(`/v1/analytics/repositories/acme%2Fapp?${PERIOD}`);
    expect(encoded.status).toBe(200);
    expect(encoded.body.repo).toBe('acme/app');
    expect(encoded.body.tasks_completed).toBe(1);
    const defaults = await get('/v1/analytics/repositories/acme/app');
    expect(defaults.body).toMatchObject({
      since: '2025-12-18T13:00:00.001Z',
      until: '2026-01-17T13:00:00.001Z',
      tasks_completed: 1,
    });
  });

  it('answers 404 repo_not_found for an unknown repo, in the envelope', async () => {
    const { get } = setup();
    const res = await get('/v1/analytics/repositories/acme/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        code: 'repo_not_found',
        message: 'No repo acme/nope.',
        details: { repo: 'acme/nope' },
      },
    });
  });

  it('refuses a bad key or period with 400 and the envelope', async () => {
    const { get } = setup();
    for (const url of [
      '/v1/analytics/repositories/a/b/c',
      '/v1/analytics/repositories/acme/app?since=last-week',
      '/v1/analytics/repositories/acme/app?until=2026-01-17',
      '/v1/analytics/repositories/acme/app?since=2026-01-17T13:00:00Z&until=2026-01-17T12:00:00Z',
    ]) {
      const res = await get(url);
      expect(res.status, url).toBe(400);
      expect(res.body.error.code, url).toBe('validation_failed');
    }
  });

  it('is read by the admin and the viewer, like every admin read; not by a worker', async () => {
    const { get, worker } = setup();
    const viewer = await get(`/v1/analytics/repositories/acme/app?${PERIOD}`, {
      'x-viewer-token': VIEWER,
    });
    expect(viewer.status).toBe(200);
    expect(viewer.body.tasks_completed).toBe(1);
    expect((await get('/v1/analytics/repositories/acme/app', worker)).status).toBe(401);
    expect((await get('/v1/analytics/repositories/acme/app', {})).body.error.code).toBe(
      'unauthorized',
    );
  });

  it('answers other requests while it reads a long history', async () => {
    const { app, engine, worker } = setup();
    for (let i = 0; i < 6_000; i++) engine.createTask({ repo: 'acme/app', title: `Backlog ${i}` });
    const answered: string[] = [];
    const [report, work] = await Promise.all([
      app
        .inject({
          method: 'GET',
          url: `/v1/analytics/repositories/acme/app?${PERIOD}`,
          headers: admin,
        })
        .then((res) => (answered.push('analytics'), res)),
      app
        .inject({ method: 'GET', url: '/v1/work', headers: worker })
        .then((res) => (answered.push('work'), res)),
    ]);
    expect(report.statusCode).toBe(200);
    expect(report.json().tasks_completed).toBe(1);
    expect(work.statusCode).toBe(200);
    // The history is over 6,000 events, more than a page: the worker's call came in between.
    expect(answered).toEqual(['work', 'analytics']);
  });
});
