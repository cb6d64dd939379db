import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCliServer, type CliServer } from '../testing/cli-server.ts';
import { duration } from './analytics.ts';

const MINUTE = 60_000;
let server: CliServer;

/**
 * acme/app with a budget of one: Alice (5 points, online from 12:00) takes a 2-point task at
 * 12:00, opens its PR at 12:20, and it is merged at 12:40. The clock stops at 13:00.
 */
beforeEach(async () => {
  server = await startCliServer({ heartbeatTtlMs: 2 * 3600_000 });
  const { engine, clock } = server;
  engine.upsertRepo({ repo: 'acme/app', max_open_prs: 1 });
  const { worker_id } = engine.registerWorker({ name: 'Alice', capacity_points: 5 });
  engine.heartbeat(worker_id, {});
  const task = engine.createTask({ repo: 'acme/app', title: 'Fix the login', estimate_points: 2 });
  engine.updateStatus(worker_id, task.task_id, { status: 'in_progress' });
  clock.advance(20 * MINUTE);
  engine.updateStatus(worker_id, task.task_id, { status: 'pr_opened' });
  clock.advance(20 * MINUTE);
  engine.markMerged(task.task_id);
  clock.advance(20 * MINUTE);
});
afterEach(async () => {
  await server.close();
});

const PERIOD = ['--since', '2026-01-17T12:00:00Z', '--until', '2026-01-17T13:00:00Z'];

describe('owp admin analytics', () => {
  it("prints a repo's figures, each with what it was computed from", async () => {
    const result = await server.owp(['admin', 'analytics', 'acme/app', ...PERIOD]);
    expect(result).toEqual({
      code: 0,
      stdout: [
        'repo                 acme/app',
        'period               2026-01-17T12:00:00.000Z → 2026-01-17T13:00:00.000Z',
        'tasks completed      1',
        'lead time (median)   40m (1 task merged)',
        'cycle time (median)  20m (1 PR opened)',
        'requeue rate         0.0% (0 expired, 0 released, 0 requeued, of 1 leases)',
        'offer acceptance     - (no offers)',
        'worker utilization   13.3% (0.7 of 5.0 point-hours online)',
        'review budget full   66.7% (40m of 1h)',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('prints the report as JSON for scripts', async () => {
    const result = await server.owp(['--json', 'admin', 'analytics', 'acme/app', ...PERIOD]);
    expect(JSON.parse(result.stdout)).toMatchObject({
      repo: 'acme/app',
      tasks_completed: 1,
      lead_time: { median_ms: 40 * MINUTE, samples: 1 },
      review_budget_saturation: { saturated_ms: 40 * MINUTE, observed_ms: 60 * MINUTE },
    });
  });

  it('says when there is nothing to measure', async () => {
    server.engine.upsertRepo({ repo: 'quiet' });
    const result = await server.owp(['admin', 'analytics', 'quiet']);
    expect(result.stdout).toContain('lead time (median)   - (no tasks merged)');
    expect(result.stdout).toContain('requeue rate         - (0 expired, 0 released, 0 requeued');
    expect(result.stdout).toContain('worker utilization   0.0% (0.0 of 5.0 point-hours online)');
    expect(result.stdout).toContain('review budget full   - (0s of 0s)');
  });

  it('fails with the server’s message for an unknown repo, and exit 2 for a bad time', async () => {
    expect(await server.owp(['admin', 'analytics', 'acme/nope'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'owp: No repo acme/nope. (repo_not_found)\n',
    });
    const badTime = await server.owp(['admin', 'analytics', 'acme/app', '--since', 'monday']);
    expect(badTime.code).toBe(2);
  });
});

describe('duration', () => {
  it('names the largest unit and the next one', () => {
    expect(duration(0)).toBe('0s');
    expect(duration(45_000)).toBe('45s');
    expect(duration(40 * MINUTE)).toBe('40m');
    expect(duration(65 * MINUTE + 30_000)).toBe('1h 5m');
    expect(duration(51 * 3600_000 + 59 * MINUTE)).toBe('2d 3h');
    expect(duration(86_400_000 + 30_000)).toBe('1d');
  });
});
