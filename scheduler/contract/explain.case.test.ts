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

    it('tells a worker what keeps it from any work: paused, offline, or full', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const { worker_id: silent } = h.registeredWorker({ name: 'Silent' });
      expect(h.engine.explainWork(silent)).toMatchObject({
        summary: 'The pool has not heard from you yet: send a heartbeat.',
        blocker: { reason: 'worker_offline' },
      });

      const alice = h.onlineWorker({ name: 'Alice', max_concurrent_tasks: 1 });
      h.task();
      h.task();
      expect(h.engine.explainWork(alice)).toMatchObject({
        summary: 'You hold 1 task, as many as you may at once (max_concurrent_tasks 1).',
        blocker: { reason: 'no_free_slot' },
        queue: { ready: 1, within_reach: 1 },
        held_back: [],
      });
      h.engine.heartbeat(alice, { status: 'paused' });
      expect(h.engine.explainWork(alice).summary).toBe(
        'You reported yourself paused: send a heartbeat with status idle or working.',
      );
      h.engine.heartbeat(alice, { status: 'idle' });
      h.engine.pauseWorker(alice);
      expect(h.engine.explainWork(alice).summary).toBe(
        'An admin paused you: you get no new work until they resume you.',
      );
      h.clock.advanceSeconds(120);
      h.engine.resumeWorker(alice);
      expect(h.engine.explainWork(alice).summary).toBe(
        'The pool last heard from you 120 s ago (online means within 90 s): send a heartbeat.',
      );
    });

    it("describes the ready queue to a worker in counts, by its skills and the repos' budgets", async () => {
      const h = await harness(makeDriver);
      h.repo({ repo: 'open', max_open_prs: 5 });
      h.repo({ repo: 'full', max_open_prs: 1 });
      const holder = h.onlineWorker({ name: 'Holder', skills: ['go'], max_concurrent_tasks: 1 });
      h.task({ repo: 'full', required_skills: ['go'] });
      expect(h.leasesOf(holder)).toHaveLength(1);
      h.task({ repo: 'full', required_skills: ['go'] }); // full: waits for the budget
      h.task({ repo: 'open', required_skills: ['rust'] });
      h.task({ repo: 'open', required_skills: ['rust'] });
      const first = h.task({ repo: 'open', required_skills: ['rust'] }).task_id;
      h.task({ repo: 'open', depends_on: [first] });
      const gopher = h.onlineWorker({ name: 'Gopher', skills: ['go'] });

      expect(h.engine.explainWork(gopher)).toEqual({
        worker_id: gopher,
        summary:
          'None of the 4 ready tasks is within your reach: 3 need a skill you lack, and 1 is in a ' +
          'repo whose review budget is full.',
        blocker: null,
        queue: {
          ready: 4,
          missing_skill: 3,
          review_budget_full: 1,
          within_reach: 0,
          waiting_on_dependencies: 1,
        },
        held_back: [],
      });
    });

    it('tells a worker which rules stop it from the tasks within its reach, or that one is there', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const small = h.onlineWorker({ name: 'Small', capacity_points: 2 });
      const big = h.task({ estimate_points: 3 }).task_id;
      h.task({ tier: 3 });
      expect(h.engine.getTask(big).status).toBe('ready');
      expect(h.engine.explainWork(small)).toMatchObject({
        summary:
          'You may take none of the 2 ready tasks you have the skills for: 1 task needs a trust ' +
          'tier above yours (basic); 1 task needs more points than you have free (2).',
        held_back: [
          { reason: 'tier_not_trusted', count: 1 },
          { reason: 'not_enough_points', count: 1 },
        ],
      });

      // The cool-down after a release ends while nothing assigns: the task is there to take.
      const releaser = h.onlineWorker({ name: 'Releaser', capacity_points: 5 });
      const lease = h.leasesOf(releaser)[0]!;
      h.engine.releaseLease(releaser, lease.lease_id);
      expect(h.engine.explainWork(releaser).held_back).toContainEqual({
        reason: 'recently_released',
        count: 1,
        message: '1 task you released less than 10 minutes ago',
      });
      const minutes = h.engine.config.releaseCooldownMs / 60_000;
      for (let i = 1; i < minutes; i++) {
        h.clock.advanceSeconds(60);
        h.engine.heartbeat(releaser, { status: 'idle' });
      }
      h.clock.advanceSeconds(60);
      expect(h.engine.explainWork(releaser)).toMatchObject({
        summary: 'A task is ready for you: ask for work (GET /v1/work) to take it.',
        held_back: [],
      });
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
