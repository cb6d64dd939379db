import { describe, expect, it } from 'vitest';
import { OwpError } from '../../protocol/errors.ts';
import { type DriverFactory, type EngineHarness, harness } from '../testing/engine-harness.ts';

/*
 * "Why is this task not assigned?" — `explainTask` names what holds a task back for every worker,
 * else sorts the online workers by the rule that stops each. Told through the public engine API.
 */

const explain = (h: EngineHarness, id: string) => h.engine.explainTask(id);

export function explainCases(makeDriver: DriverFactory): void {
  describe('explaining a task', () => {
    it('refuses an unknown task with task_not_found', async () => {
      const h = await harness(makeDriver);
      let thrown: unknown;
      try {
        explain(h, 't_missing');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(OwpError);
      expect((thrown as OwpError).code).toBe('task_not_found');
    });

    it('names the holder and the lease of a task that is not ready', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const alice = h.onlineWorker({ name: 'Alice' });
      const task = h.task({ title: 'Parser' }).task_id;

      expect(explain(h, task)).toEqual({
        task_id: task,
        status: 'leased',
        summary: 'Leased to Alice (lease until 2026-01-17T12:30:00.000Z); not started yet.',
        blocker: {
          reason: 'task_not_ready',
          message: 'Leased to Alice (lease until 2026-01-17T12:30:00.000Z); not started yet.',
        },
        workers: null,
      });

      h.engine.updateStatus(alice, task, { status: 'in_progress' });
      h.engine.updateStatus(alice, task, {
        status: 'pr_opened',
        artifact: { pr_url: 'https://github.com/demo/demo/pull/7' },
      });
      expect(explain(h, task).summary).toBe(
        "PR opened by Alice (https://github.com/demo/demo/pull/7); it counts against demo's " +
          'review budget until it is merged.',
      );
      h.engine.updateStatus(alice, task, { status: 'merged' });
      expect(explain(h, task).summary).toBe('Done: its PR was merged.');
    });

    it('says what each status that is not ready means for the task', async () => {
      const h = await harness(makeDriver, { defaultMaxAttempts: 1 });
      h.repo();
      const alice = h.onlineWorker({ name: 'Alice' });
      const task = h.task().task_id;
      h.engine.updateStatus(alice, task, { status: 'in_progress' });
      expect(explain(h, task).summary).toBe(
        'In progress with Alice (lease until 2026-01-17T12:30:00.000Z).',
      );
      h.engine.updateStatus(alice, task, { status: 'blocked', message: 'waiting on a key' });
      expect(explain(h, task).summary).toBe(
        'Blocked: Alice holds it (lease until 2026-01-17T12:30:00.000Z) and reported a blocker.',
      );
      h.engine.cancelTask(task);
      expect(explain(h, task).summary).toBe('Cancelled by an admin.');

      // Its one attempt expires: failed, and only an admin brings it back.
      const other = h.task().task_id;
      h.clock.advanceSeconds(31 * 60);
      h.engine.sweep();
      expect(explain(h, other)).toMatchObject({
        status: 'failed',
        summary: "Failed after 1 attempt; an admin's requeue puts it back in the queue.",
      });
    });

    it('names the worker an offer waits on, and those who declined one', async () => {
      const h = await harness(makeDriver);
      h.repo({ assignment: 'offer', offer_ttl_seconds: 600 });
      const alice = h.onlineWorker({ name: 'Alice' });
      const task = h.task().task_id;
      expect(explain(h, task).summary).toBe(
        'Offered to Alice until 2026-01-17T12:10:00.000Z; waiting for the answer.',
      );
      const offer = h.engine.listOffers(alice).offers[0]!;
      h.engine.rejectOffer(alice, offer.offer_id, { reason: 'insufficient_time' });
      expect(explain(h, task)).toMatchObject({
        status: 'ready',
        summary:
          'The one online worker may not take it: 1 worker declined an offer of it, or let one ' +
          'lapse, less than an hour ago.',
      });
    });

    it('says which workers are full or not trusted for the risk tier', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const busy = h.onlineWorker({ name: 'Busy', max_concurrent_tasks: 1 });
      h.task();
      expect(h.leasesOf(busy)).toHaveLength(1);
      const risky = h.task({ tier: 2 }).task_id;
      h.engine.setTrustTier(busy, { tier: 'trusted', reason: 'knows the code' });
      h.onlineWorker({ name: 'New' });
      expect(explain(h, risky).workers?.ineligible).toMatchObject([
        { reason: 'tier_not_trusted', message: '1 worker is not trusted for risk tier 2' },
        { reason: 'no_free_slot', message: '1 worker holds as many tasks at once as allowed' },
      ]);
    });

    it('lists the dependencies not merged yet, and says a cancelled one never will be', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const schema = h.task({ title: 'Schema' }).task_id;
      const api = h.task({ title: 'API' }).task_id;
      const ui = h.task({ title: 'UI', depends_on: [schema, api] }).task_id;

      const answer = explain(h, ui);
      expect(answer.blocker).toEqual({
        reason: 'waiting_on_dependencies',
        message: `Waits for 2 tasks to be merged: ${schema} "Schema" (ready), ${api} "API" (ready).`,
      });
      expect(answer.workers).toBeNull();

      h.engine.cancelTask(api);
      expect(explain(h, ui).summary).toBe(
        `Waits for 2 tasks to be merged: ${schema} "Schema" (ready), ${api} "API" (cancelled). ` +
          'A cancelled task is never merged: edit depends_on to go on without it.',
      );
    });

    it("says when the repo's review budget is full, and when the repo is paused", async () => {
      const h = await harness(makeDriver);
      h.repo({ max_open_prs: 1 });
      h.onlineWorker({ max_concurrent_tasks: 5 });
      h.task();
      const waiting = h.task().task_id;

      expect(explain(h, waiting).blocker).toEqual({
        reason: 'review_budget_full',
        message:
          "Repo demo's review budget is full: 1 of 1 in use (tasks offered, leased, in progress, " +
          'blocked or with a PR open).',
      });

      h.repo({ max_open_prs: 0 });
      expect(explain(h, waiting).summary).toBe('Repo demo is paused: its review budget is 0.');
    });

    it('names the task holding a locked area', async () => {
      const h = await harness(makeDriver);
      h.repo({ area_locks_enabled: true });
      h.onlineWorker({ name: 'Alice', max_concurrent_tasks: 5 });
      const first = h.task({ area: 'billing' }).task_id;
      const second = h.task({ area: 'billing' }).task_id;

      expect(explain(h, second).blocker).toEqual({
        reason: 'area_locked',
        message: `Area "billing" of demo is taken: task ${first} is leased by Alice.`,
      });
    });

    it('groups the online workers by the rule that stops each, most common first', async () => {
      const h = await harness(makeDriver);
      h.repo();
      h.registeredWorker({ name: 'Never seen' });
      const paused = h.onlineWorker({ name: 'Pia', skills: ['rust'] });
      h.engine.pauseWorker(paused);
      h.onlineWorker({ name: 'Ann', skills: ['go'] });
      h.onlineWorker({ name: 'Bob', skills: [] });
      h.onlineWorker({ name: 'Cy', skills: ['rust'], capacity_points: 2 });
      const task = h.task({ required_skills: ['rust'], estimate_points: 3 }).task_id;

      const answer = explain(h, task);
      expect(answer.status).toBe('ready');
      expect(answer.blocker).toBeNull();
      expect(answer.workers).toEqual({
        online: 4,
        offline: 1,
        eligible: [],
        eligible_count: 0,
        ineligible: [
          {
            reason: 'missing_skill',
            count: 2,
            message: '2 workers lack a required skill (rust)',
            examples: [
              { worker_id: expect.any(String), name: 'Ann' },
              { worker_id: expect.any(String), name: 'Bob' },
            ],
          },
          {
            reason: 'worker_paused',
            count: 1,
            message: '1 worker is paused',
            examples: [{ worker_id: paused, name: 'Pia' }],
          },
          {
            reason: 'not_enough_points',
            count: 1,
            message: '1 worker has fewer than 3 points free',
            examples: [{ worker_id: expect.any(String), name: 'Cy' }],
          },
        ],
      });
      expect(answer.summary).toBe(
        'None of the 4 online workers may take it: 2 workers lack a required skill (rust); ' +
          '1 worker is paused; 1 worker has fewer than 3 points free.',
      );
    });

    it('says when no worker is online, or none has registered', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const task = h.task().task_id;
      expect(explain(h, task).summary).toBe('No worker has registered yet.');

      h.onlineWorker({ name: 'Gone', skills: ['rust'] });
      h.clock.advanceSeconds(h.engine.config.heartbeatTtlMs / 1000);
      const rusty = h.task({ required_skills: ['rust'] }).task_id;
      expect(explain(h, rusty).summary).toBe(
        'No worker is online (1 registered, none heard from lately).',
      );
      expect(explain(h, rusty).workers).toMatchObject({ online: 0, offline: 1 });
    });

    it('names a worker who may take it now and is waiting for the next assignment', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const alice = h.onlineWorker({ name: 'Alice' });
      const task = h.task().task_id;
      const lease = h.leasesOf(alice)[0]!;
      h.engine.releaseLease(alice, lease.lease_id);

      expect(explain(h, task).workers?.ineligible).toEqual([
        {
          reason: 'recently_released',
          count: 1,
          message: '1 worker released it less than 10 minutes ago',
          examples: [{ worker_id: alice, name: 'Alice' }],
        },
      ]);

      // The cool-down passes while Alice stays online; nothing has assigned the task since.
      const minutes = h.engine.config.releaseCooldownMs / 60_000;
      for (let i = 1; i < minutes; i++) {
        h.clock.advanceSeconds(60);
        h.engine.heartbeat(alice, { status: 'idle' });
      }
      h.clock.advanceSeconds(60);
      const answer = explain(h, task);
      expect(answer.workers).toMatchObject({
        eligible: [{ worker_id: alice, name: 'Alice' }],
        eligible_count: 1,
        ineligible: [],
      });
      expect(answer.summary).toBe(
        '1 online worker may take it now (Alice); it is leased to the least loaded at the next ' +
          'assignment (a heartbeat, a work request or the timer).',
      );
      // Explaining wrote nothing: the task is still waiting for that assignment.
      expect(h.engine.getTask(task).status).toBe('ready');
    });
  });
}
