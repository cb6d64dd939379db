import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OwpError } from '../../protocol/errors.ts';
import type { TaskCreateRequest } from '../../protocol/index.ts';
import { Scheduler } from '../engine.ts';
import type { SqlDriver } from '../storage-port.ts';
import { type DriverFactory, type EngineHarness, harness } from '../testing/engine-harness.ts';

/*
 * Who gets what, and when. Every eligibility rule and every ordering rule has its own test, told
 * through the public engine API only. Assertions read task status and assignee with `getTask` /
 * `listTasks`, never with `getWork`, because `getWork` itself assigns (it is the pull path) and
 * would hide whether a push trigger did its job.
 */

const HOLDING = ['leased', 'in_progress', 'blocked'];

/** fast-check runs of the queue-heads property (OWP_PROPERTY_RUNS raises it for a longer hunt). */
const QUEUE_HEAD_RUNS = Number(process.env.OWP_PROPERTY_RUNS ?? 60);

/** The worker a task is assigned to right now, or null. A pure read. */
const assigneeOf = (h: EngineHarness, taskId: string) => h.engine.getTask(taskId).assignee;
const statusOf = (h: EngineHarness, taskId: string) => h.engine.getTask(taskId).status;

/** Ids of the tasks `workerId` holds a live lease on, in creation order. A pure read. */
function heldBy(h: EngineHarness, workerId: string): string[] {
  return h.engine
    .listTasks({ assignee: workerId, limit: 500 })
    .tasks.filter((t) => HOLDING.includes(t.status))
    .map((t) => t.task_id);
}

/** Creates a task and returns its id. */
function taskId(h: EngineHarness, overrides: Partial<TaskCreateRequest> = {}): string {
  return h.task(overrides).task_id;
}

/** The worker starts its task and opens a PR for it. */
function openPr(h: EngineHarness, workerId: string, id: string): void {
  h.engine.updateStatus(workerId, id, { status: 'in_progress' });
  h.engine.updateStatus(workerId, id, {
    status: 'pr_opened',
    artifact: { pr_url: `https://github.com/demo/demo/pull/${id}` },
  });
}

/** The worker takes its task all the way: started, PR opened, merged. */
function finish(h: EngineHarness, workerId: string, id: string): void {
  openPr(h, workerId, id);
  h.engine.updateStatus(workerId, id, { status: 'merged' });
}

/** Events after `seq`, as `type[:cause]`, to spell out what a single call did and in what order. */
function eventsAfter(h: EngineHarness, seq: number): string[] {
  return h.engine
    .events({ after: seq, limit: 5000 })
    .map((e) => (e.type === 'task.status_changed' ? `${e.type}:${e.data.cause}` : e.type));
}

/** Grants after `seq`, as `task → worker`, in the order they were made. */
function grantsAfter(h: EngineHarness, seq: number): string[] {
  return h.engine
    .events({ after: seq, limit: 5000 })
    .filter((e) => e.type === 'task.status_changed' && e.data.cause === 'grant')
    .map((e) => `${e.task_id} → ${e.worker_id}`);
}

const lastSeq = (h: EngineHarness) => h.engine.state().last_event_seq;

/**
 * Lets the release cool-down pass while the worker stays online: a heartbeat a minute, then the
 * last minute in silence, so no write happens between the cool-down ending and the next call.
 */
function waitOutReleaseCooldown(h: EngineHarness, workerId: string): void {
  const minutes = h.engine.config.releaseCooldownMs / 60_000;
  for (let i = 1; i < minutes; i++) {
    h.clock.advanceSeconds(60);
    h.engine.heartbeat(workerId, { status: 'idle' });
  }
  h.clock.advanceSeconds(60);
}

/** Expects `fn` to throw an OwpError with `code`. */
function expectOwpError(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(OwpError);
  expect((thrown as OwpError).code).toBe(code);
}

/**
 * Creates ready tasks that no trigger assigned — the gap the timer's `assignAll` exists to close.
 * They come from a second host on the same database, configured with a 1 ms heartbeat TTL, so to
 * it every worker looks offline and every task it creates stays ready.
 */
function createTasksUnseenByWorkers(
  h: EngineHarness,
  tasks: Partial<TaskCreateRequest>[],
): string[] {
  const importer = new Scheduler({
    driver: h.driver,
    clock: h.clock,
    config: { heartbeatTtlMs: 1 },
  });
  return tasks.map((overrides) => {
    h.clock.advanceSeconds(1);
    return importer.createTask({ repo: 'demo', title: 'Imported task', ...overrides }).task_id;
  });
}

/**
 * A pool whose repo 'full' is at its review budget — room for one task, held by the worker
 * 'holder' — with `repos` beside it, five tasks of room each: a worker choosing now passes 'full'.
 */
async function withFullRepo(makeDriver: DriverFactory, repos: string[]) {
  const h = await harness(makeDriver);
  h.repo({ repo: 'full', max_open_prs: 1 });
  for (const repo of repos) h.repo({ repo, max_open_prs: 5 });
  const holder = h.onlineWorker({ name: 'holder', max_concurrent_tasks: 1 });
  const held = taskId(h, { repo: 'full', priority: 99 });
  return { h, holder, held };
}

/** `driver` without `readVersion`: an engine over it remembers no queue heads and reads each time. */
function rememberingNothing(driver: SqlDriver): SqlDriver {
  return {
    exec: (sql) => driver.exec(sql),
    run: (sql, params) => driver.run(sql, params),
    insert: (sql, params) => driver.insert(sql, params),
    get: (sql, params) => driver.get(sql, params),
    all: (sql, params) => driver.all(sql, params),
    transaction: (fn) => driver.transaction(fn),
    ...(driver.onCommitted ? { onCommitted: (fn: () => void) => driver.onCommitted!(fn) } : {}),
    close: () => driver.close(),
  };
}

/** One step of a random pool's life, for the remembered-heads property. */
type PoolStep =
  | { kind: 'task'; repo: number; priority: number; points: number; go: boolean }
  | { kind: 'progress'; worker: number }
  | { kind: 'merge'; task: number }
  | { kind: 'requeue'; task: number }
  | { kind: 'priority'; task: number; priority: number }
  | { kind: 'budget'; repo: number; max: number }
  | { kind: 'ask'; worker: number };

const POOL_STEP: fc.Arbitrary<PoolStep> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('task' as const),
      repo: fc.nat(4),
      priority: fc.nat(9),
      points: fc.integer({ min: 1, max: 3 }),
      go: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('progress' as const), worker: fc.nat(2) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('priority' as const),
      task: fc.nat(40),
      priority: fc.nat(9),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('budget' as const),
      repo: fc.nat(4),
      max: fc.nat(3),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ask' as const), worker: fc.nat(2) }) },
);

/** Runs `step` on `h`; a refusal is part of the outcome, compared like the rest. */
function runPoolStep(h: EngineHarness, workers: string[], step: PoolStep): string {
  try {
    switch (step.kind) {
      case 'task':
        return taskId(h, {
          repo: `r${step.repo}`,
          priority: step.priority,
          estimate_points: step.points,
          required_skills: step.go ? ['go'] : [],
        });
      case 'progress': {
        const worker = workers[step.worker]!;
        const [held] = heldBy(h, worker);
        if (!held) return 'nothing held';
        const status = statusOf(h, held);
        if (status === 'leased') h.engine.updateStatus(worker, held, { status: 'in_progress' });
        else openPr(h, worker, held);
        return `${held} moved`;
      }
      case 'merge': {
        const { tasks } = h.engine.listTasks({ status: 'pr_opened', limit: 500 });
        const task = tasks[step.task % Math.max(1, tasks.length)];
        if (!task) return 'no PR open';
        h.engine.updateStatus(task.assignee!, task.task_id, { status: 'merged' });
        return `${task.task_id} merged`;
      }
      case 'requeue': {
        const { tasks } = h.engine.listTasks({ status: 'in_progress', limit: 500 });
        const task = tasks[step.task % Math.max(1, tasks.length)];
        if (!task) return 'nothing in progress';
        h.engine.requeueTask(task.task_id);
        return `${task.task_id} requeued`;
      }
      case 'priority': {
        const { tasks } = h.engine.listTasks({ status: 'ready', limit: 500 });
        const task = tasks[step.task % Math.max(1, tasks.length)];
        if (!task) return 'no ready task';
        h.engine.updateTask(task.task_id, { priority: step.priority });
        return `${task.task_id} edited`;
      }
      case 'budget':
        h.repo({ repo: `r${step.repo}`, max_open_prs: step.max, area_locks_enabled: false });
        return 'budget set';
      case 'ask':
        return h.engine
          .getWork(workers[step.worker]!)
          .leases.map((lease) => lease.task_id)
          .join(',');
    }
  } catch (error) {
    if (error instanceof OwpError) return error.code;
    throw error;
  }
}

export function assignmentCases(makeDriver: DriverFactory): void {
  describe('assignment', () => {
    describe('review budget', () => {
      it('never has more tasks leased, in progress, blocked or with a PR open than max_open_prs', async () => {
        const h = await harness(makeDriver);
        h.repo({ max_open_prs: 2 });
        const w = h.onlineWorker({ max_concurrent_tasks: 5 });

        const first = taskId(h);
        const second = taskId(h);
        const third = taskId(h);
        expect([first, second, third].map((id) => statusOf(h, id))).toEqual([
          'leased',
          'leased',
          'ready',
        ]);
        expect(h.engine.explainIneligibility(third, w)).toBe('review_budget_full');

        // Blocked and PR-opened tasks still wait for a maintainer's attention: the slot stays used.
        h.engine.updateStatus(w, second, { status: 'blocked' });
        openPr(h, w, first);
        expect(statusOf(h, third)).toBe('ready');
        expect(h.engine.explainIneligibility(third, w)).toBe('review_budget_full');
        expect(h.engine.getRepo('demo')).toMatchObject({ budget_used: 2, open_prs: 1 });
      });

      it('max_open_prs 0 pauses the repo: nothing is leased, not even on request', async () => {
        const h = await harness(makeDriver);
        h.repo({ max_open_prs: 0 });
        const w = h.onlineWorker();

        const id = taskId(h);

        expect(statusOf(h, id)).toBe('ready');
        expect(h.engine.explainIneligibility(id, w)).toBe('review_budget_full');
        expect(h.engine.getWork(w).leases).toEqual([]);
      });

      it('merging a PR frees the slot and the waiting task goes at once to the least loaded eligible worker', async () => {
        const h = await harness(makeDriver);
        h.repo({ max_open_prs: 1 });
        h.repo({ repo: 'other' });
        const a = h.onlineWorker({ name: 'A' });
        taskId(h, { repo: 'other', estimate_points: 2 }); // → A, the only worker online
        const inReview = taskId(h); // → A, and the demo budget is now full
        const waiting = taskId(h);
        const b = h.onlineWorker({ name: 'B' });
        taskId(h, { repo: 'other' }); // → B, the less loaded
        openPr(h, a, inReview);
        expect(assigneeOf(h, waiting)).toBeNull();

        const before = lastSeq(h);
        h.engine.markMerged(inReview);

        // A has just completed a task (higher reputation) but still holds 2 points; B holds 1.
        expect(h.engine.getWorker(a).reputation).toBeGreaterThan(h.engine.getWorker(b).reputation);
        expect(assigneeOf(h, waiting)).toBe(b);
        expect(eventsAfter(h, before)).toEqual([
          'task.status_changed:merge',
          'task.status_changed:grant',
        ]);
      });

      it('the freed slot goes to the highest-priority waiting task', async () => {
        const h = await harness(makeDriver);
        h.repo({ max_open_prs: 1 });
        const w = h.onlineWorker();
        const current = taskId(h, { priority: 10 });
        const low = taskId(h, { priority: 5 });
        const high = taskId(h, { priority: 90 });

        finish(h, w, current);

        expect(statusOf(h, high)).toBe('leased');
        expect(statusOf(h, low)).toBe('ready');
        expect(h.engine.explainIneligibility(low, w)).toBe('review_budget_full');
      });

      it('raising the budget with upsertRepo grants the waiting tasks, best first', async () => {
        const h = await harness(makeDriver);
        h.repo({ max_open_prs: 0 });
        const w = h.onlineWorker({ max_concurrent_tasks: 5 });
        const p1 = taskId(h, { priority: 1 });
        const p2 = taskId(h, { priority: 2 });
        const p3 = taskId(h, { priority: 3 });

        h.engine.upsertRepo({ repo: 'demo', max_open_prs: 2 });

        expect(heldBy(h, w)).toEqual([p2, p3]);
        expect(statusOf(h, p1)).toBe('ready');
        expect(h.engine.getRepo('demo').budget_used).toBe(2);
      });

      it('raising the budget grants every waiting task that fits, however long the queue', async () => {
        const h = await harness(makeDriver);
        h.repo({ max_open_prs: 0 });
        const workers = ['A', 'B', 'C', 'D', 'E'].map((name) =>
          h.onlineWorker({ name, capacity_points: 10, max_concurrent_tasks: 5 }),
        );
        const ids = Array.from({ length: 20 }, (_, i) => taskId(h, { title: `Task ${i}` }));

        h.engine.upsertRepo({ repo: 'demo', max_open_prs: 20 });

        // 25 free slots across the workers and a budget of 20: every task should be leased.
        expect(ids.filter((id) => statusOf(h, id) === 'ready')).toEqual([]);
        expect(workers.map((w) => heldBy(h, w).length)).toEqual([4, 4, 4, 4, 4]);
      });

      it('a worker asking for work passes over a full repo whose tasks outrank the rest', async () => {
        const h = await harness(makeDriver);
        h.repo({ repo: 'full', max_open_prs: 1 });
        h.repo({ repo: 'low', max_open_prs: 5 });
        h.repo({ repo: 'mid', max_open_prs: 5 });
        h.onlineWorker({ name: 'holder', max_concurrent_tasks: 1 });
        taskId(h, { repo: 'full', priority: 99 }); // → holder: 'full' is now at its budget
        const outranking = [1, 2, 3].map(() => taskId(h, { repo: 'full', priority: 90 }));
        const low = taskId(h, { repo: 'low', priority: 10 });
        const mid = taskId(h, { repo: 'mid', priority: 20 });
        const midSkilled = taskId(h, { repo: 'mid', priority: 30, required_skills: ['go'] });

        // Two picks: the best two tasks outside the full repo, across repos and skill sets.
        const w = h.onlineWorker({ name: 'asker', skills: ['go'], max_concurrent_tasks: 2 });

        expect(heldBy(h, w).sort()).toEqual([midSkilled, mid].sort());
        expect(statusOf(h, low)).toBe('ready');
        expect(outranking.map((id) => statusOf(h, id))).toEqual(['ready', 'ready', 'ready']);
      });

      it('with forty repos with room, a full repo is still passed over', async () => {
        const h = await harness(makeDriver);
        h.repo({ repo: 'full', max_open_prs: 1 });
        const open = Array.from({ length: 40 }, (_, i) => `open-${String(i).padStart(2, '0')}`);
        for (const repo of open) h.repo({ repo, max_open_prs: 1 });
        const holder = h.onlineWorker({ name: 'holder', max_concurrent_tasks: 1 });
        taskId(h, { repo: 'full', priority: 99 }); // → holder
        const outranking = taskId(h, { repo: 'full', priority: 90 });
        const best = taskId(h, { repo: 'open-33', priority: 50 });
        for (const repo of open) taskId(h, { repo, priority: 10 });

        const w = h.onlineWorker({ name: 'asker', max_concurrent_tasks: 1 });

        expect(heldBy(h, holder)).toHaveLength(1);
        expect(heldBy(h, w)).toEqual([best]);
        expect(statusOf(h, outranking)).toBe('ready');
      });

      describe('a queue that changed since a worker last chose, while a repo is full', () => {
        /**
         * 'full' at its budget; 'one' has tasks of priority 30 and 25, 'two' one of 20. The asker
         * takes the 30, which leaves 'two' last seen with a 20 at its head: then the change that
         * `prepare` returns puts a better task at the head of 'two', and the asker, opening its
         * PR, chooses again. (`prepare` runs before anyone but the holder has chosen.)
         */
        async function chooseAfter(
          prepare: (h: EngineHarness) => (inTwo: string) => string,
        ): Promise<void> {
          const { h } = await withFullRepo(makeDriver, ['one', 'two']);
          const change = prepare(h);
          taskId(h, { repo: 'full', priority: 90 });
          const first = taskId(h, { repo: 'one', priority: 30 });
          const second = taskId(h, { repo: 'one', priority: 25 });
          const inTwo = taskId(h, { repo: 'two', priority: 20 });
          const asker = h.onlineWorker({ name: 'asker', max_concurrent_tasks: 1 });
          expect(heldBy(h, asker)).toEqual([first]);

          const expected = change(inTwo);
          expect(statusOf(h, expected)).toBe('ready');
          openPr(h, asker, first);

          expect(heldBy(h, asker)).toEqual([expected]);
          expect(statusOf(h, second)).toBe('ready');
        }

        it('a new task that outranks the rest is chosen', async () => {
          await chooseAfter((h) => () => taskId(h, { repo: 'two', priority: 40 }));
        });

        it('a task whose priority was raised is chosen', async () => {
          await chooseAfter((h) => (inTwo) => {
            h.engine.updateTask(inTwo, { priority: 40 });
            return inTwo;
          });
        });

        it('a task written by another engine on the same database is chosen', async () => {
          await chooseAfter((h) => {
            // Its workers all look offline to it, so its task stays ready (as in assignAll's tests).
            const other = new Scheduler({
              driver: h.driver,
              clock: h.clock,
              config: { heartbeatTtlMs: 1 },
            });
            return () =>
              other.createTask({ repo: 'two', title: 'From elsewhere', priority: 40 }).task_id;
          });
        });
      });

      it('a repo that got room since a worker last chose is chosen from again', async () => {
        const { h, holder, held } = await withFullRepo(makeDriver, ['one']);
        // A second full repo, which stays full.
        h.repo({ repo: 'busy', max_open_prs: 1 });
        h.onlineWorker({ name: 'busy', max_concurrent_tasks: 1 });
        taskId(h, { repo: 'busy', priority: 99 });
        const waiting = taskId(h, { repo: 'full', priority: 90 });
        const first = taskId(h, { repo: 'one', priority: 30 });
        const second = taskId(h, { repo: 'one', priority: 25 });
        const asker = h.onlineWorker({ name: 'asker', max_concurrent_tasks: 1 });
        expect(heldBy(h, asker)).toEqual([first]);

        // The admin cancels the held task: 'full' has room, and the holder chooses at once.
        h.engine.cancelTask(held);

        expect(heldBy(h, holder)).toEqual([waiting]);
        expect(statusOf(h, second)).toBe('ready');
      });

      it('a task put back in the queue since a worker last chose is chosen', async () => {
        const { h } = await withFullRepo(makeDriver, ['one', 'two']);
        const putBack = taskId(h, { repo: 'one', priority: 80 });
        const inTwo = taskId(h, { repo: 'two', priority: 50 });
        const nextInTwo = taskId(h, { repo: 'two', priority: 40 });
        const first = taskId(h, { repo: 'one', priority: 30 });
        const taker = h.onlineWorker({ name: 'taker', max_concurrent_tasks: 1 });
        const asker = h.onlineWorker({ name: 'asker', max_concurrent_tasks: 1 });
        expect(heldBy(h, taker)).toEqual([putBack]);
        expect(heldBy(h, asker)).toEqual([inTwo]);
        h.engine.updateStatus(taker, putBack, { status: 'in_progress' });

        // Back in the queue, the taker paused by the admin, and nobody else with room.
        h.engine.pauseWorker(taker);
        h.engine.requeueTask(putBack);
        expect(statusOf(h, putBack)).toBe('ready');
        openPr(h, asker, inTwo);

        expect(heldBy(h, asker)).toEqual([putBack]);
        expect([nextInTwo, first].map((id) => statusOf(h, id))).toEqual(['ready', 'ready']);
      });

      it('a worker whose points the best head exceeds gets the best task it can take, in any repo', async () => {
        const { h } = await withFullRepo(makeDriver, ['one', 'two']);
        taskId(h, { repo: 'full', priority: 90 });
        const tooLarge = taskId(h, { repo: 'one', priority: 50, estimate_points: 5 });
        const smallInOne = taskId(h, { repo: 'one', priority: 10, estimate_points: 1 });
        const best = taskId(h, { repo: 'two', priority: 30, estimate_points: 2 });
        const third = taskId(h, { repo: 'two', priority: 20, estimate_points: 1 });

        const w = h.onlineWorker({ name: 'small', capacity_points: 3, max_concurrent_tasks: 2 });

        expect(heldBy(h, w)).toEqual([best, third]);
        expect([tooLarge, smallInOne].map((id) => statusOf(h, id))).toEqual(['ready', 'ready']);
      });

      it(
        'remembered queue heads choose exactly what reading every queue each time chooses',
        async () => {
          await fc.assert(
            fc.asyncProperty(
              fc.array(POOL_STEP, { minLength: 30, maxLength: 80 }),
              async (steps) => {
                const pools = [
                  await harness(makeDriver),
                  await harness(async () => rememberingNothing(await makeDriver())),
                ];
                // Five repos, the first with room for one task: full from the first grant on.
                const workers = pools.map((h) => {
                  for (let r = 0; r < 5; r++) {
                    h.repo({
                      repo: `r${r}`,
                      max_open_prs: r === 0 ? 1 : 3,
                      area_locks_enabled: false,
                    });
                  }
                  return [0, 1, 2].map((i) =>
                    h.onlineWorker({
                      name: `w${i}`,
                      skills: i === 2 ? [] : ['go'],
                      capacity_points: 3 + i,
                      max_concurrent_tasks: 1 + (i % 2),
                    }),
                  );
                });
                for (const step of steps) {
                  const outcomes = pools.map((h, i) => runPoolStep(h, workers[i]!, step));
                  expect(outcomes[0]).toBe(outcomes[1]);
                }
                const log = (h: EngineHarness) =>
                  h.engine
                    .events({ limit: 5000 })
                    .map((e) => [e.type, e.task_id, e.worker_id, e.data]);
                expect(log(pools[0]!)).toEqual(log(pools[1]!));
                for (const h of pools) h.driver.close();
              },
            ),
            { numRuns: QUEUE_HEAD_RUNS },
          );
          // ~70 ms a run on sql.js here, twice that under the full suite: past vitest's 5 s default.
        },
        Math.max(60_000, QUEUE_HEAD_RUNS * 500),
      );

      it('lowering the budget below what is in flight revokes nothing but holds new work back', async () => {
        const h = await harness(makeDriver);
        h.repo({ max_open_prs: 3 });
        const w = h.onlineWorker({ max_concurrent_tasks: 5 });
        const [t1, t2, t3] = [taskId(h), taskId(h), taskId(h)];
        const waiting = taskId(h);

        h.engine.upsertRepo({ repo: 'demo', max_open_prs: 1 });
        expect(heldBy(h, w)).toEqual([t1, t2, t3]);

        finish(h, w, t1);
        expect(h.engine.getRepo('demo').budget_used).toBe(2);
        expect(statusOf(h, waiting)).toBe('ready');
        expect(h.engine.explainIneligibility(waiting, w)).toBe('review_budget_full');
      });
    });

    describe('area locks', () => {
      it('a second task in the same area waits while the first is held, and the repo shows the lock', async () => {
        const h = await harness(makeDriver);
        h.repo({ area_locks_enabled: true });
        const w = h.onlineWorker();

        const first = taskId(h, { area: 'auth' });
        const second = taskId(h, { area: 'auth' });

        expect(assigneeOf(h, first)).toBe(w);
        expect(statusOf(h, second)).toBe('ready');
        expect(h.engine.explainIneligibility(second, w)).toBe('area_locked');
        expect(h.engine.getRepo('demo').locked_areas).toEqual(['auth']);
      });

      it('a blocked task still holds its area', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        const first = taskId(h, { area: 'auth' });
        const second = taskId(h, { area: 'auth' });

        h.engine.updateStatus(w, first, { status: 'blocked', message: 'waiting on a decision' });

        expect(statusOf(h, second)).toBe('ready');
        expect(h.engine.explainIneligibility(second, w)).toBe('area_locked');
        expect(h.engine.getRepo('demo').locked_areas).toEqual(['auth']);
      });

      it('opening the PR unlocks the area and the holder takes the waiting task', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        const first = taskId(h, { area: 'auth' });
        const second = taskId(h, { area: 'auth' });

        const before = lastSeq(h);
        openPr(h, w, first);

        expect(assigneeOf(h, second)).toBe(w);
        expect(h.engine.getRepo('demo').locked_areas).toEqual(['auth']); // now held by `second`
        expect(eventsAfter(h, before)).toEqual([
          'task.status_changed:start',
          'task.status_changed:open_pr',
          'task.status_changed:grant',
        ]);
      });

      it('an area unlocked by an opened PR goes at once to another worker who can take the waiting task', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const a = h.onlineWorker({ name: 'A', skills: [] });
        const first = taskId(h, { area: 'auth' }); // → A
        const b = h.onlineWorker({ name: 'B', skills: ['go'] });
        const second = taskId(h, { area: 'auth', required_skills: ['go'] }); // only B may take it
        expect(h.engine.explainIneligibility(second, b)).toBe('area_locked');

        openPr(h, a, first);

        expect(assigneeOf(h, second)).toBe(b);
        expect(h.engine.getRepo('demo').locked_areas).toEqual(['auth']);
      });

      it('when the holder releases its task, the waiting task in that area is granted', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        const first = taskId(h, { area: 'auth' });
        const second = taskId(h, { area: 'auth' });

        h.engine.releaseLease(w, h.engine.getTask(first).lease!.lease_id, { reason: 'no time' });

        expect(assigneeOf(h, second)).toBe(w);
        expect(statusOf(h, first)).toBe('ready');
        expect(h.engine.explainIneligibility(first, w)).toBe('area_locked');
      });

      it('after a requeue frees the area, the higher-priority waiting task takes it first', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        const requeued = taskId(h, { area: 'auth', priority: 10 });
        const urgent = taskId(h, { area: 'auth', priority: 90 });
        expect(assigneeOf(h, requeued)).toBe(w);
        expect(statusOf(h, urgent)).toBe('ready');

        h.engine.requeueTask(requeued);

        // Both are now ready in one area; the queue order (priority first) decides who gets it.
        expect(assigneeOf(h, urgent)).toBe(w);
        expect(statusOf(h, requeued)).toBe('ready');
        expect(h.engine.explainIneligibility(requeued, w)).toBe('area_locked');
      });

      it('tasks without an area never lock', async () => {
        const h = await harness(makeDriver);
        h.repo({ area_locks_enabled: true });
        const w = h.onlineWorker();

        const first = taskId(h, { area: null });
        const second = taskId(h, { area: null });

        expect(heldBy(h, w)).toEqual([first, second]);
        expect(h.engine.getRepo('demo').locked_areas).toEqual([]);
      });

      it('with area locks off, tasks in one area run in parallel', async () => {
        const h = await harness(makeDriver);
        h.repo({ area_locks_enabled: false });
        const w = h.onlineWorker();

        const first = taskId(h, { area: 'auth' });
        const second = taskId(h, { area: 'auth' });

        expect(heldBy(h, w)).toEqual([first, second]);
        expect(h.engine.getRepo('demo').locked_areas).toEqual([]);
      });

      it('turning area locks off lets the waiting task go', async () => {
        const h = await harness(makeDriver);
        h.repo({ area_locks_enabled: true });
        const w = h.onlineWorker();
        const first = taskId(h, { area: 'auth' });
        const second = taskId(h, { area: 'auth' });

        h.engine.upsertRepo({ repo: 'demo', area_locks_enabled: false });

        expect(heldBy(h, w)).toEqual([first, second]);
      });

      it('the same area in another repo does not lock', async () => {
        const h = await harness(makeDriver);
        h.repo({ repo: 'demo' });
        h.repo({ repo: 'other' });
        const w = h.onlineWorker();

        const inDemo = taskId(h, { repo: 'demo', area: 'auth' });
        const inOther = taskId(h, { repo: 'other', area: 'auth' });

        expect(heldBy(h, w)).toEqual([inDemo, inOther]);
        expect(h.engine.getRepo('demo').locked_areas).toEqual(['auth']);
        expect(h.engine.getRepo('other').locked_areas).toEqual(['auth']);
      });
    });

    describe('skills', () => {
      it('a task goes only to a worker holding every required skill', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const a = h.onlineWorker({ name: 'A', skills: ['python'] });
        const id = taskId(h, { required_skills: ['python', 'rust'] });
        expect(statusOf(h, id)).toBe('ready');
        expect(h.engine.explainIneligibility(id, a)).toBe('missing_skill');

        const b = h.onlineWorker({ name: 'B', skills: ['python', 'rust'] });

        expect(assigneeOf(h, id)).toBe(b);
      });

      it('skills match case-insensitively, on either side', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const lower = h.onlineWorker({ name: 'lower', skills: ['python'] });
        const upper = h.onlineWorker({ name: 'upper', skills: ['RUST'] });

        const py = h.task({ required_skills: ['Python'] });
        const rust = h.task({ required_skills: ['rust'] });

        expect(py.required_skills).toEqual(['python']);
        expect(assigneeOf(h, py.task_id)).toBe(lower);
        expect(assigneeOf(h, rust.task_id)).toBe(upper);
      });

      it('a worker with a superset of the required skills takes the task', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker({ skills: ['docs', 'python', 'rust', 'sql'] });

        const id = taskId(h, { required_skills: ['sql', 'python'] });

        expect(assigneeOf(h, id)).toBe(w);
      });

      it('a task nobody online can take waits for the first worker with the skill to come online', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const pythonist = h.onlineWorker({ name: 'A', skills: ['python'] });
        const id = taskId(h, { required_skills: ['go'] });
        expect(statusOf(h, id)).toBe('ready');
        expect(h.engine.explainIneligibility(id, pythonist)).toBe('missing_skill');

        const gopher = h.registeredWorker({ name: 'B', skills: ['go'] }).worker_id;
        h.engine.heartbeat(gopher, { status: 'idle' });

        expect(assigneeOf(h, id)).toBe(gopher);
      });
    });

    describe('points and concurrency', () => {
      it('a task larger than the points left is skipped for a smaller one that fits exactly', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.registeredWorker({ capacity_points: 5, max_concurrent_tasks: 3 }).worker_id;
        const top = taskId(h, { estimate_points: 3, priority: 100 });
        const big = taskId(h, { estimate_points: 3, priority: 90 });
        const small = taskId(h, { estimate_points: 2, priority: 10 });

        h.engine.heartbeat(w, { status: 'idle' });

        expect(heldBy(h, w)).toEqual([top, small]);
        expect(h.engine.getWorker(w).points_in_use).toBe(5);
        expect(statusOf(h, big)).toBe('ready');
        expect(h.engine.explainIneligibility(big, w)).toBe('not_enough_points');
      });

      it('a task one point larger than the points left is refused', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker({ capacity_points: 5, max_concurrent_tasks: 3 });
        taskId(h, { estimate_points: 3 }); // → w, 2 points left

        const id = taskId(h, { estimate_points: 3 });

        expect(statusOf(h, id)).toBe('ready');
        expect(h.engine.explainIneligibility(id, w)).toBe('not_enough_points');
      });

      it('max_concurrent_tasks caps the leases however many points are free', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.registeredWorker({ capacity_points: 10, max_concurrent_tasks: 2 }).worker_id;
        const [t1, t2, t3] = [taskId(h), taskId(h), taskId(h)];

        h.engine.heartbeat(w, { status: 'idle' });

        expect(heldBy(h, w)).toEqual([t1, t2]);
        expect(statusOf(h, t3)).toBe('ready');
        expect(h.engine.explainIneligibility(t3, w)).toBe('no_free_slot');
      });

      it('opening a PR frees the worker’s capacity and it gets its next task in the same call', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker({ capacity_points: 10, max_concurrent_tasks: 2 });
        const [t1, t2, t3] = [taskId(h), taskId(h), taskId(h)];

        const before = lastSeq(h);
        openPr(h, w, t1);

        expect(heldBy(h, w)).toEqual([t2, t3]);
        expect(h.engine.getWorker(w)).toMatchObject({ active_tasks: 2, points_in_use: 2 });
        expect(grantsAfter(h, before)).toEqual([`${t3} → ${w}`]);
      });

      it('a blocked task keeps counting against the worker’s capacity', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker({ capacity_points: 10, max_concurrent_tasks: 1 });
        const first = taskId(h);
        const second = taskId(h);

        h.engine.updateStatus(w, first, { status: 'blocked' });

        expect(statusOf(h, second)).toBe('ready');
        expect(h.engine.explainIneligibility(second, w)).toBe('no_free_slot');
      });
    });

    describe('online and offline', () => {
      it('a registered worker that never sent a heartbeat gets nothing', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.registeredWorker().worker_id;

        const id = taskId(h);

        expect(statusOf(h, id)).toBe('ready');
        expect(h.engine.explainIneligibility(id, w)).toBe('worker_offline');
        expect(h.engine.getWork(w).leases).toEqual([]);
        expect(h.engine.getWorker(w).online).toBe(false);
      });

      it('a heartbeat just younger than the heartbeat TTL still counts as online', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        h.clock.advance(h.engine.config.heartbeatTtlMs - 1);

        const id = taskId(h);

        expect(assigneeOf(h, id)).toBe(w);
      });

      it('a worker whose last heartbeat is heartbeat-TTL old is offline and gets nothing', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        h.clock.advance(h.engine.config.heartbeatTtlMs);

        const id = taskId(h);

        expect(statusOf(h, id)).toBe('ready');
        expect(h.engine.explainIneligibility(id, w)).toBe('worker_offline');
        expect(h.engine.getWork(w).leases).toEqual([]);
      });

      it('coming back online with a heartbeat gets the waiting work in that same call', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        h.clock.advanceSeconds(120);
        const id = taskId(h);
        expect(statusOf(h, id)).toBe('ready');

        const before = lastSeq(h);
        h.engine.heartbeat(w, { status: 'idle' });

        expect(assigneeOf(h, id)).toBe(w);
        expect(eventsAfter(h, before)).toEqual(['worker.online', 'task.status_changed:grant']);
      });
    });

    describe('paused workers', () => {
      it('a worker that reports “paused” keeps its leases but gets no new ones', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        const held = taskId(h);

        const beat = h.engine.heartbeat(w, { status: 'paused' });
        const fresh = taskId(h);

        expect(beat.leases_renewed).toBe(1);
        expect(statusOf(h, fresh)).toBe('ready');
        expect(h.engine.explainIneligibility(fresh, w)).toBe('worker_paused');
        expect(h.engine.getWork(w).leases.map((l) => l.task_id)).toEqual([held]);
      });

      it('reporting “idle” again after a pause gets the waiting work at once', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker({}, 'paused');
        const id = taskId(h);
        expect(statusOf(h, id)).toBe('ready');

        const before = lastSeq(h);
        h.engine.heartbeat(w, { status: 'idle' });

        expect(assigneeOf(h, id)).toBe(w);
        expect(eventsAfter(h, before)).toEqual([
          'worker.status_changed',
          'task.status_changed:grant',
        ]);
      });

      it('an admin pause sticks even when the worker heartbeats “idle”, and its leases stay', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        const held = taskId(h);

        h.engine.pauseWorker(w);
        h.clock.advanceSeconds(30);
        h.engine.heartbeat(w, { status: 'idle' });
        const fresh = taskId(h);

        expect(h.engine.getWorker(w)).toMatchObject({ status: 'paused', paused_by_admin: true });
        expect(statusOf(h, fresh)).toBe('ready');
        expect(h.engine.explainIneligibility(fresh, w)).toBe('worker_paused');
        expect(heldBy(h, w)).toEqual([held]);
        expect(h.engine.getWork(w).leases.map((l) => l.task_id)).toEqual([held]);
      });

      it('resuming an admin-paused worker gives it the waiting work at once', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        h.engine.pauseWorker(w);
        const id = taskId(h);

        const before = lastSeq(h);
        h.engine.resumeWorker(w);

        expect(assigneeOf(h, id)).toBe(w);
        expect(eventsAfter(h, before)).toEqual(['worker.resumed', 'task.status_changed:grant']);
      });
    });

    describe('trust tiers', () => {
      it('a new worker is “basic” and takes tiers 0 and 1, not 2 or 3', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker({ max_concurrent_tasks: 5 });

        const [tier0, tier1, tier2, tier3] = [0, 1, 2, 3].map((tier) => taskId(h, { tier }));

        expect(h.engine.getWorker(w).trust_tier).toBe('basic');
        expect(heldBy(h, w)).toEqual([tier0, tier1]);
        expect(h.engine.explainIneligibility(tier2!, w)).toBe('tier_not_trusted');
        expect(h.engine.explainIneligibility(tier3!, w)).toBe('tier_not_trusted');
      });

      it('an untrusted worker takes only tier 0', async () => {
        const h = await harness(makeDriver, { defaultTrustTier: 'untrusted' });
        h.repo();
        const w = h.onlineWorker();

        const [tier0, tier1] = [0, 1].map((tier) => taskId(h, { tier }));

        expect(heldBy(h, w)).toEqual([tier0]);
        expect(h.engine.explainIneligibility(tier1!, w)).toBe('tier_not_trusted');
      });

      it('a trusted worker takes up to tier 2', async () => {
        const h = await harness(makeDriver, { defaultTrustTier: 'trusted' });
        h.repo();
        const w = h.onlineWorker({ max_concurrent_tasks: 5 });

        const [tier2, tier3] = [2, 3].map((tier) => taskId(h, { tier }));

        expect(h.engine.getWorker(w).trust_tier).toBe('trusted');
        expect(heldBy(h, w)).toEqual([tier2]);
        expect(h.engine.explainIneligibility(tier3!, w)).toBe('tier_not_trusted');
      });

      it('a maintainer takes every tier up to 3', async () => {
        const h = await harness(makeDriver, { defaultTrustTier: 'maintainer' });
        h.repo();
        const w = h.onlineWorker({ max_concurrent_tasks: 5 });

        const ids = [0, 1, 2, 3].map((tier) => taskId(h, { tier }));

        expect(heldBy(h, w)).toEqual(ids);
      });
    });

    describe('task order', () => {
      it('a worker taking one task at a time gets them by priority, then smaller estimate, then age', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.registeredWorker({ capacity_points: 10, max_concurrent_tasks: 1 }).worker_id;
        const specs = [
          { title: 'p10 e3 older', priority: 10, estimate_points: 3 },
          { title: 'p50 e5', priority: 50, estimate_points: 5 },
          { title: 'p10 e1', priority: 10, estimate_points: 1 },
          { title: 'p10 e3 newer', priority: 10, estimate_points: 3 },
          { title: 'p50 e2', priority: 50, estimate_points: 2 },
        ];
        for (const spec of specs) {
          h.task(spec);
          h.clock.advanceSeconds(1);
        }

        h.engine.heartbeat(w, { status: 'idle' });
        const received: string[] = [];
        for (let current = heldBy(h, w); current.length > 0; current = heldBy(h, w)) {
          expect(current).toHaveLength(1);
          received.push(h.engine.getTask(current[0]!).title);
          finish(h, w, current[0]!);
        }

        expect(received).toEqual(['p50 e2', 'p50 e5', 'p10 e1', 'p10 e3 older', 'p10 e3 newer']);
      });

      it('the order holds across repos and skill sets', async () => {
        const h = await harness(makeDriver);
        h.repo({ repo: 'demo' });
        h.repo({ repo: 'other' });
        const w = h.registeredWorker({
          skills: ['python', 'docs'],
          capacity_points: 10,
          max_concurrent_tasks: 1,
        }).worker_id;
        // Each task heads its own (repo, skill set) queue, so the engine must compare the heads.
        const specs = [
          {
            repo: 'other',
            title: 'p40 e3',
            priority: 40,
            estimate_points: 3,
            required_skills: ['docs'],
          },
          { repo: 'demo', title: 'p20 older', priority: 20 },
          { repo: 'demo', title: 'p50', priority: 50, required_skills: ['python'] },
          { repo: 'other', title: 'p40 e1', priority: 40 },
          { repo: 'demo', title: 'p20 newer', priority: 20, required_skills: ['docs', 'python'] },
        ];
        for (const spec of specs) {
          h.task(spec);
          h.clock.advanceSeconds(1);
        }

        h.engine.heartbeat(w, { status: 'idle' });
        const received: string[] = [];
        for (let current = heldBy(h, w); current.length > 0; current = heldBy(h, w)) {
          received.push(h.engine.getTask(current[0]!).title);
          finish(h, w, current[0]!);
        }

        expect(received).toEqual(['p50', 'p40 e1', 'p40 e3', 'p20 older', 'p20 newer']);
      });
    });

    describe('worker order', () => {
      it('a new task goes to the worker with fewer points in use', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const a = h.onlineWorker({ name: 'A', skills: ['alpha'] });
        const b = h.onlineWorker({ name: 'B', skills: ['beta'] });
        taskId(h, { required_skills: ['alpha'], estimate_points: 3 }); // → A
        taskId(h, { required_skills: ['beta'], estimate_points: 1 }); // → B

        const id = taskId(h);

        expect(h.engine.getWorker(a).points_in_use).toBe(3);
        expect(assigneeOf(h, id)).toBe(b);
      });

      it('with equal points, the worker with fewer tasks wins', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const a = h.onlineWorker({ name: 'A', skills: ['alpha'] });
        const b = h.onlineWorker({ name: 'B', skills: ['beta'] });
        taskId(h, { required_skills: ['alpha'], estimate_points: 1 }); // → A
        taskId(h, { required_skills: ['alpha'], estimate_points: 1 }); // → A
        taskId(h, { required_skills: ['beta'], estimate_points: 2 }); // → B

        expect(h.engine.getWorker(a)).toMatchObject({ points_in_use: 2, active_tasks: 2 });
        expect(h.engine.getWorker(b)).toMatchObject({ points_in_use: 2, active_tasks: 1 });

        const id = taskId(h);

        expect(assigneeOf(h, id)).toBe(b);
      });

      it('with equal load, the higher reputation wins, and reputation rises with each merged task', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const a = h.onlineWorker({ name: 'A', skills: ['alpha'] });
        const b = h.onlineWorker({ name: 'B', skills: ['beta'] });
        const reputationBefore = h.engine.getWorker(b).reputation;
        finish(h, b, taskId(h, { required_skills: ['beta'] }));

        const id = taskId(h);

        expect(h.engine.getWorker(b).reputation).toBeGreaterThan(reputationBefore);
        expect(h.engine.getWorker(a).reputation).toBe(reputationBefore);
        expect(assigneeOf(h, id)).toBe(b);
      });

      it('load outranks reputation', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const a = h.onlineWorker({ name: 'A', skills: ['alpha'] });
        const b = h.onlineWorker({ name: 'B', skills: ['beta'] });
        finish(h, b, taskId(h, { required_skills: ['beta'] }));
        taskId(h, { required_skills: ['beta'] }); // → B, which now holds 1 point

        const id = taskId(h);

        expect(h.engine.getWorker(b).reputation).toBeGreaterThan(h.engine.getWorker(a).reputation);
        expect(assigneeOf(h, id)).toBe(a);
      });
    });

    describe('cost rule', () => {
      it('a worker without the rare skill never gets rare-skill tasks, even of higher priority, and gets the best task it can take', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.registeredWorker({
          name: 'A',
          skills: ['python'],
          capacity_points: 10,
          max_concurrent_tasks: 1,
        }).worker_id;
        const rare = Array.from({ length: 5 }, (_, i) =>
          taskId(h, { title: `cuda ${i}`, priority: 100, required_skills: ['cuda'] }),
        );
        h.task({ title: 'plain p5', priority: 5 });
        h.task({ title: 'python p10', priority: 10, required_skills: ['python'] });
        h.task({ title: 'plain p20', priority: 20 });

        h.engine.heartbeat(w, { status: 'idle' });
        const received: string[] = [];
        for (let current = heldBy(h, w); current.length > 0; current = heldBy(h, w)) {
          received.push(h.engine.getTask(current[0]!).title);
          finish(h, w, current[0]!);
        }

        expect(received).toEqual(['plain p20', 'python p10', 'plain p5']);
        expect(rare.map((id) => statusOf(h, id))).toEqual(Array(5).fill('ready'));
        expect(h.engine.explainIneligibility(rare[0]!, w)).toBe('missing_skill');
        expect(h.engine.getWork(w).leases).toEqual([]);

        // The rare tasks are not lost: the first worker who has the skill gets them.
        const gpu = h.onlineWorker({ name: 'B', skills: ['CUDA'], max_concurrent_tasks: 2 });
        expect(heldBy(h, gpu)).toEqual(rare.slice(0, 2));
      });
    });

    describe('assignAll', () => {
      it('spreads tasks so every idle worker gets one before any gets two, least loaded first', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const a = h.onlineWorker({ name: 'A', max_concurrent_tasks: 3 });
        const b = h.onlineWorker({ name: 'B', skills: ['beta'], max_concurrent_tasks: 3 });
        const c = h.onlineWorker({ name: 'C', max_concurrent_tasks: 3 });
        taskId(h, { required_skills: ['beta'], estimate_points: 2 }); // → B, which starts loaded
        const [p70, p60, p50, p40, p30, p20, p10] = createTasksUnseenByWorkers(
          h,
          [70, 60, 50, 40, 30, 20, 10].map((priority) => ({ priority })),
        );
        expect(h.engine.state().tasks_ready).toBe(7);

        const before = lastSeq(h);
        const granted = h.engine.assignAll();

        expect(granted).toBe(7);
        expect(grantsAfter(h, before)).toEqual([
          `${p70} → ${a}`,
          `${p60} → ${c}`,
          `${p50} → ${b}`,
          `${p40} → ${a}`,
          `${p30} → ${c}`,
          `${p20} → ${b}`, // B is now full: three tasks
          `${p10} → ${a}`,
        ]);
      });

      it('hands a released task back to its worker once the release cool-down has passed', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        const id = taskId(h);
        h.engine.releaseLease(w, h.engine.getTask(id).lease!.lease_id);
        expect(h.engine.explainIneligibility(id, w)).toBe('recently_released');

        waitOutReleaseCooldown(h, w);
        expect(h.engine.explainIneligibility(id, w)).toBeNull();

        expect(h.engine.assignAll()).toBe(1);
        expect(assigneeOf(h, id)).toBe(w);
      });

      it('grants nothing when nothing is assignable', async () => {
        const h = await harness(makeDriver);
        h.repo({ max_open_prs: 0 });
        h.onlineWorker();
        expect(h.engine.assignAll()).toBe(0);

        const id = taskId(h);
        const before = lastSeq(h);

        expect(h.engine.assignAll()).toBe(0);
        expect(statusOf(h, id)).toBe('ready');
        expect(lastSeq(h)).toBe(before);
      });
    });

    describe('getWork', () => {
      it('lists only the worker’s leased, in-progress and blocked tasks, with the v0.1 fields and the lease', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker({
          skills: ['docs'],
          capacity_points: 10,
          max_concurrent_tasks: 5,
        });
        const leased = h.task({
          title: 'Docs: add a quickstart',
          description: 'A short **quickstart** in the README.',
          estimate_points: 2,
          priority: 30,
          area: 'docs',
          tier: 1,
          required_skills: ['Docs'],
        }).task_id;
        const started = taskId(h);
        const blocked = taskId(h);
        const inReview = taskId(h);
        const merged = taskId(h);
        h.engine.updateStatus(w, started, { status: 'in_progress' });
        h.engine.updateStatus(w, blocked, { status: 'blocked' });
        openPr(h, w, inReview);
        finish(h, w, merged);

        const work = h.engine.getWork(w);

        expect(work.worker_id).toBe(w);
        expect(work.leases.map((l) => [l.task_id, l.status])).toEqual([
          [leased, 'leased'],
          [started, 'in_progress'],
          [blocked, 'blocked'],
        ]);
        expect(work.leases[0]).toEqual({
          task_id: leased,
          repo: 'demo',
          title: 'Docs: add a quickstart',
          description: 'A short **quickstart** in the README.',
          estimate_points: 2,
          priority: 30,
          area: 'docs',
          tier: 1,
          required_skills: ['docs'],
          lease_expires_at: '2026-01-17T12:30:00.000Z',
          lease_id: h.engine.getTask(leased).lease!.lease_id,
          epoch: 1,
          status: 'leased',
          lease_granted_at: '2026-01-17T12:00:00.000Z',
          contract: null,
        });
      });

      it('grants what the worker is eligible for before answering', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        const id = taskId(h);
        h.engine.releaseLease(w, h.engine.getTask(id).lease!.lease_id);
        waitOutReleaseCooldown(h, w);
        expect(statusOf(h, id)).toBe('ready');

        const work = h.engine.getWork(w);

        expect(work.leases.map((l) => l.task_id)).toEqual([id]);
        expect(assigneeOf(h, id)).toBe(w);
      });
    });

    describe('explainIneligibility', () => {
      it('reports task_not_ready for a task that is already leased, to its holder and to others', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const holder = h.onlineWorker({ name: 'A' });
        const id = taskId(h);
        const other = h.onlineWorker({ name: 'B' });

        expect(assigneeOf(h, id)).toBe(holder);
        expect(h.engine.explainIneligibility(id, holder)).toBe('task_not_ready');
        expect(h.engine.explainIneligibility(id, other)).toBe('task_not_ready');
      });

      it('reports the repo’s reason before the worker’s', async () => {
        const h = await harness(makeDriver);
        h.repo({ max_open_prs: 0 });
        const offline = h.registeredWorker({ skills: [] }).worker_id;

        const id = taskId(h, { required_skills: ['go'], tier: 3 });

        expect(h.engine.explainIneligibility(id, offline)).toBe('review_budget_full');
      });

      it('refuses unknown tasks and workers with their not-found codes', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const w = h.onlineWorker();
        const id = taskId(h);

        expectOwpError(() => h.engine.explainIneligibility('t_missing', w), 'task_not_found');
        expectOwpError(() => h.engine.explainIneligibility(id, 'w_missing'), 'worker_not_found');
      });
    });
  });
}
