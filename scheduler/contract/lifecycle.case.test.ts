import { describe, expect, it } from 'vitest';
import {
  OwpError,
  type ErrorCode,
  type OwpEvent,
  type TaskStatus,
  type TransitionCause,
} from '../../protocol/index.ts';
import { type DriverFactory, type EngineHarness, harness } from '../testing/engine-harness.ts';

/*
 * The task lifecycle as a table: every starting status × every move a worker or an admin can ask
 * for. The expected outcomes are written out by hand from the lifecycle graph in DESIGN.md, not
 * derived from `LIFECYCLE`, so a wrong edge in the engine's table shows up here as a failing cell.
 */

const STARTING_STATUSES = [
  'ready',
  'leased',
  'in_progress',
  'blocked',
  'pr_opened',
  'merged',
  'cancelled',
] as const satisfies TaskStatus[];
type StartingStatus = (typeof STARTING_STATUSES)[number];

/** A task brought to a status through the public API, with the worker that holds (or held) it. */
interface Fixture {
  h: EngineHarness;
  workerId: string;
  taskId: string;
  /** The lease granted when the task was created; it may have ended since. */
  leaseId: string;
}

async function taskIn(makeDriver: DriverFactory, status: StartingStatus): Promise<Fixture> {
  const h = await harness(makeDriver);
  h.repo();
  const workerId = h.onlineWorker({ name: 'Alice' });
  const created = h.task({ title: 'Fix the login redirect' });
  expect(created.status).toBe('leased');
  const taskId = created.task_id;
  const leaseId = created.lease!.lease_id;
  // The only worker is paused: it keeps its lease and may still move its task, but takes nothing
  // new, so a task the move frees stays ready and every move shows as exactly one transition.
  h.engine.pauseWorker(workerId);
  const report = (to: 'in_progress' | 'blocked' | 'pr_opened') =>
    h.engine.updateStatus(workerId, taskId, {
      status: to,
      artifact: to === 'pr_opened' ? { pr_url: 'https://github.com/o/r/pull/1' } : null,
    });
  switch (status) {
    case 'ready':
      h.engine.requeueTask(taskId);
      break;
    case 'leased':
      break;
    case 'in_progress':
    case 'blocked':
      report(status);
      break;
    case 'pr_opened':
      report('in_progress');
      report('pr_opened');
      break;
    case 'merged':
      report('in_progress');
      report('pr_opened');
      h.engine.markMerged(taskId);
      break;
    case 'cancelled':
      h.engine.cancelTask(taskId);
      break;
  }
  expect(h.engine.getTask(taskId).status).toBe(status);
  return { h, workerId, taskId, leaseId };
}

interface Move {
  /** How the case is named: "worker", "worker release", "admin cancel", … */
  actor: string;
  /** The status the move asks for. */
  target: TaskStatus;
  act(f: Fixture): unknown;
}

const report = (target: 'in_progress' | 'blocked' | 'pr_opened' | 'merged'): Move => ({
  actor: 'worker',
  target,
  act: (f) => f.h.engine.updateStatus(f.workerId, f.taskId, { status: target }),
});

const MOVES = {
  in_progress: report('in_progress'),
  blocked: report('blocked'),
  pr_opened: report('pr_opened'),
  merged: report('merged'),
  release: {
    actor: 'worker release',
    target: 'ready',
    act: (f) => f.h.engine.releaseLease(f.workerId, f.leaseId, { reason: 'giving up' }),
  },
  cancel: {
    actor: 'admin cancel',
    target: 'cancelled',
    act: (f) => f.h.engine.cancelTask(f.taskId),
  },
  requeue: {
    actor: 'admin requeue',
    target: 'ready',
    act: (f) => f.h.engine.requeueTask(f.taskId),
  },
  merge: { actor: 'admin merge', target: 'merged', act: (f) => f.h.engine.markMerged(f.taskId) },
} satisfies Record<string, Move>;
type MoveName = keyof typeof MOVES;

type Outcome =
  | { kind: 'moves'; cause: TransitionCause }
  | { kind: 'no-op' }
  | { kind: 'refused'; code: 'invalid_transition'; allowed: TaskStatus[] }
  | { kind: 'refused'; code: Exclude<ErrorCode, 'invalid_transition'> };

const moves = (cause: TransitionCause): Outcome => ({ kind: 'moves', cause });
const NO_OP: Outcome = { kind: 'no-op' };
const refused = (allowed: TaskStatus[]): Outcome => ({
  kind: 'refused',
  code: 'invalid_transition',
  allowed,
});
const refusedWith = (code: 'not_lease_holder' | 'stale_lease'): Outcome => ({
  kind: 'refused',
  code,
});

// What each side may move a task to, from the graph; a refusal names exactly these.
const WORKER_MAY = {
  leased: ['in_progress', 'blocked', 'ready'],
  in_progress: ['blocked', 'pr_opened', 'ready'],
  blocked: ['in_progress', 'ready'],
  pr_opened: ['merged', 'ready'],
} satisfies Partial<Record<TaskStatus, TaskStatus[]>>;
const ADMIN_MAY = {
  ready: ['cancelled'],
  holding: ['ready', 'cancelled'],
  pr_opened: ['merged', 'ready', 'cancelled'],
} satisfies Record<string, TaskStatus[]>;
const FINAL = refused([]);

const EXPECTED: Record<StartingStatus, Record<MoveName, Outcome>> = {
  // Nobody holds a ready task: a worker has nothing to move, and its old lease is stale.
  ready: {
    in_progress: refusedWith('not_lease_holder'),
    blocked: refusedWith('not_lease_holder'),
    pr_opened: refusedWith('not_lease_holder'),
    merged: refusedWith('not_lease_holder'),
    release: refusedWith('stale_lease'),
    cancel: moves('cancel'),
    requeue: refused(ADMIN_MAY.ready),
    merge: refused(ADMIN_MAY.ready),
  },
  leased: {
    in_progress: moves('start'),
    blocked: moves('block'),
    pr_opened: refused(WORKER_MAY.leased),
    merged: refused(WORKER_MAY.leased),
    release: moves('release'),
    cancel: moves('cancel'),
    requeue: moves('requeue'),
    merge: refused(ADMIN_MAY.holding),
  },
  in_progress: {
    in_progress: NO_OP,
    blocked: moves('block'),
    pr_opened: moves('open_pr'),
    merged: refused(WORKER_MAY.in_progress),
    release: moves('release'),
    cancel: moves('cancel'),
    requeue: moves('requeue'),
    merge: refused(ADMIN_MAY.holding),
  },
  blocked: {
    in_progress: moves('start'),
    blocked: NO_OP,
    pr_opened: refused(WORKER_MAY.blocked),
    merged: refused(WORKER_MAY.blocked),
    release: moves('release'),
    cancel: moves('cancel'),
    requeue: moves('requeue'),
    merge: refused(ADMIN_MAY.holding),
  },
  // A PR under review can be merged (by either side), or closed unmerged back to the queue.
  pr_opened: {
    in_progress: refused(WORKER_MAY.pr_opened),
    blocked: refused(WORKER_MAY.pr_opened),
    pr_opened: NO_OP,
    merged: moves('merge'),
    release: moves('release'),
    cancel: moves('cancel'),
    requeue: moves('requeue'),
    merge: moves('merge'),
  },
  // Final states: the lease is over, nothing moves.
  merged: {
    in_progress: FINAL,
    blocked: FINAL,
    pr_opened: FINAL,
    // The holder's report agrees with what happened: a retry whose first answer was lost.
    merged: NO_OP,
    release: refusedWith('stale_lease'),
    cancel: FINAL,
    requeue: FINAL,
    merge: FINAL,
  },
  cancelled: {
    in_progress: FINAL,
    blocked: FINAL,
    pr_opened: FINAL,
    merged: FINAL,
    release: refusedWith('stale_lease'),
    cancel: FINAL,
    requeue: FINAL,
    merge: FINAL,
  },
};

interface Case {
  name: string;
  from: StartingStatus;
  move: Move;
  outcome: Outcome;
}

const CASES: Case[] = STARTING_STATUSES.flatMap((from) =>
  (Object.keys(MOVES) as MoveName[]).map((name) => {
    const move: Move = MOVES[name];
    const outcome = EXPECTED[from][name];
    const verdict =
      outcome.kind === 'moves'
        ? 'is allowed'
        : outcome.kind === 'no-op'
          ? 'is a no-op'
          : `is refused (${outcome.code})`;
    return { name: `${move.actor}: ${from} → ${move.target} ${verdict}`, from, move, outcome };
  }),
);

/** The thrown OwpError; fails the test if the call succeeds or throws anything else. */
function owpErrorFrom(call: () => unknown): OwpError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(OwpError);
    return error as OwpError;
  }
  throw new Error('expected the call to be refused with an OwpError, but it succeeded');
}

const lastSeq = (h: EngineHarness) => h.engine.state().last_event_seq;
const sorted = (statuses: readonly string[]) => [...statuses].sort();

export function lifecycleCases(makeDriver: DriverFactory): void {
  describe('lifecycle', () => {
    describe('every move from every status', () => {
      it.each(CASES.map((c) => [c.name, c] as const))(
        '%s',
        async (_name, { from, move, outcome }) => {
          const f = await taskIn(makeDriver, from);
          const before = f.h.engine.getTask(f.taskId);
          const seq = lastSeq(f.h);

          if (outcome.kind === 'refused') {
            const error = owpErrorFrom(() => move.act(f));
            expect(error.code).toBe(outcome.code);
            expect(error.status).toBe(outcome.code === 'not_lease_holder' ? 403 : 409);
            if (outcome.code === 'invalid_transition') {
              expect(sorted(error.details!.allowed as string[])).toEqual(sorted(outcome.allowed));
            }
            // Refused means untouched: same row, same version, no event.
            expect(f.h.engine.getTask(f.taskId)).toEqual(before);
            expect(lastSeq(f.h)).toBe(seq);
            return;
          }

          move.act(f);
          const after = f.h.engine.getTask(f.taskId);
          const events = f.h.engine.events({ after: seq });
          if (outcome.kind === 'no-op') {
            expect(after).toEqual(before);
            expect(events).toEqual([]);
            return;
          }
          expect(after.status).toBe(move.target);
          expect(after.version).toBe(before.version + 1);
          expect(events).toEqual([
            expect.objectContaining({
              type: 'task.status_changed',
              task_id: f.taskId,
              data: expect.objectContaining({
                from,
                to: move.target,
                cause: outcome.cause,
                version: after.version,
              }),
            }),
          ]);
        },
      );
    });

    describe('rules around the table', () => {
      it('records the happy path as grant, start, open_pr, merge, in that order', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const alice = h.onlineWorker({ name: 'Alice' });
        const seq = lastSeq(h);

        const { task_id } = h.task();
        h.engine.updateStatus(alice, task_id, { status: 'in_progress' });
        h.engine.updateStatus(alice, task_id, {
          status: 'pr_opened',
          artifact: { pr_url: 'https://github.com/o/r/pull/7' },
        });
        h.engine.updateStatus(alice, task_id, { status: 'merged' });

        const changes = h.engine
          .events({ after: seq, task_id })
          .filter(
            (e): e is Extract<OwpEvent, { type: 'task.status_changed' }> =>
              e.type === 'task.status_changed',
          )
          .map((e) => `${e.data.from} -${e.data.cause}-> ${e.data.to}`);
        expect(changes).toEqual([
          'ready -grant-> leased',
          'leased -start-> in_progress',
          'in_progress -open_pr-> pr_opened',
          'pr_opened -merge-> merged',
        ]);
        expect(h.engine.getTask(task_id)).toMatchObject({
          status: 'merged',
          artifact: { pr_url: 'https://github.com/o/r/pull/7' },
        });
      });

      it('writes only the columns a move changes: a merge keeps its assignee unnamed, a cancelled offer clears it', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const alice = h.onlineWorker({ name: 'Alice' });
        const writes: string[] = [];
        const run = h.driver.run.bind(h.driver);
        h.driver.run = (sql, params) => {
          if (sql.includes('UPDATE tasks SET')) writes.push(sql.replace(/\s+/g, ' '));
          return run(sql, params);
        };
        const { task_id } = h.task();
        h.engine.updateStatus(alice, task_id, { status: 'in_progress' });
        h.engine.updateStatus(alice, task_id, {
          status: 'pr_opened',
          artifact: { pr_url: 'https://github.com/o/r/pull/8' },
        });
        writes.length = 0;

        h.engine.updateStatus(alice, task_id, { status: 'merged' });

        // SQLite rewrites the index entries of every column an UPDATE names, even to its own value.
        expect(writes).toHaveLength(1);
        expect(writes[0]).toMatch(/SET status = \$status, lease_id = \$lease_id, version/);
        expect(h.engine.getTask(task_id)).toMatchObject({
          status: 'merged',
          assignee: alice,
          lease: null,
        });

        // The same cause from an offer changes the assignee, so that write names it.
        h.engine.upsertRepo({ repo: 'o/offers', assignment: 'offer' });
        const offered = h.task({ repo: 'o/offers' });
        expect(offered).toMatchObject({ status: 'offered', assignee: alice });
        writes.length = 0;
        h.engine.cancelTask(offered.task_id);
        expect(writes).toHaveLength(1);
        expect(writes[0]).toContain('assignee = $assignee');
        expect(h.engine.getTask(offered.task_id)).toMatchObject({
          status: 'cancelled',
          assignee: null,
        });
      });

      it('refuses a worker moving a task leased to another worker (403 not_lease_holder)', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const alice = h.onlineWorker({ name: 'Alice' });
        const { task_id, lease } = h.task();
        const bob = h.onlineWorker({ name: 'Bob' });
        const before = h.engine.getTask(task_id);
        const seq = lastSeq(h);

        const byStatus = owpErrorFrom(() =>
          h.engine.updateStatus(bob, task_id, { status: 'in_progress' }),
        );
        const byRelease = owpErrorFrom(() => h.engine.releaseLease(bob, lease!.lease_id));

        expect(before.assignee).toBe(alice);
        for (const error of [byStatus, byRelease]) {
          expect(error.code).toBe('not_lease_holder');
          expect(error.status).toBe(403);
        }
        expect(h.engine.getTask(task_id)).toEqual(before);
        expect(lastSeq(h)).toBe(seq);
      });

      it.each([
        [
          'worker status report',
          (h: EngineHarness, w: string) =>
            h.engine.updateStatus(w, 't_9999', { status: 'in_progress' }),
        ],
        ['admin cancel', (h: EngineHarness) => h.engine.cancelTask('t_9999')],
        ['admin requeue', (h: EngineHarness) => h.engine.requeueTask('t_9999')],
        ['admin merge', (h: EngineHarness) => h.engine.markMerged('t_9999')],
      ])('answers %s on an unknown task with 404 task_not_found', async (_name, act) => {
        const h = await harness(makeDriver);
        h.repo();
        const alice = h.onlineWorker();
        const seq = lastSeq(h);

        const error = owpErrorFrom(() => act(h, alice));

        expect(error.code).toBe('task_not_found');
        expect(error.status).toBe(404);
        expect(error.details).toMatchObject({ task_id: 't_9999' });
        expect(lastSeq(h)).toBe(seq);
      });

      it('treats a repeated same-status report as a successful no-op (v0.1 retries)', async () => {
        const { h, workerId, taskId } = await taskIn(makeDriver, 'in_progress');
        const before = h.engine.getTask(taskId);
        const seq = lastSeq(h);

        const answer = h.engine.updateStatus(workerId, taskId, {
          status: 'in_progress',
          message: 'still on it',
        });

        expect(answer).toEqual(before);
        expect(h.engine.getTask(taskId)).toEqual(before);
        expect(h.engine.events({ after: seq })).toEqual([]);
      });

      it('answers a retried merged report with the task as it is: the first report ended the lease', async () => {
        const { h, workerId, taskId, leaseId } = await taskIn(makeDriver, 'pr_opened');
        h.engine.updateStatus(workerId, taskId, { status: 'merged', lease_id: leaseId });
        const merged = h.engine.getTask(taskId);
        const seq = lastSeq(h);

        // v0.1 (no lease named), v1 (the lease named, with its epoch): the same answer, no write.
        expect(h.engine.updateStatus(workerId, taskId, { status: 'merged' })).toEqual(merged);
        expect(
          h.engine.updateStatus(workerId, taskId, {
            status: 'merged',
            lease_id: leaseId,
            epoch: 1, // the first and only lease
          }),
        ).toEqual(merged);
        expect(h.engine.getTask(taskId)).toEqual(merged);
        expect(h.engine.events({ after: seq })).toEqual([]);

        // Anything else about the finished task is still refused.
        expect(
          owpErrorFrom(() => h.engine.updateStatus(workerId, taskId, { status: 'in_progress' })),
        ).toMatchObject({
          code: 'invalid_transition',
          message: expect.stringMatching(/lease has ended/),
        });
        const stale = owpErrorFrom(() =>
          h.engine.updateStatus(workerId, taskId, {
            status: 'merged',
            epoch: 2,
          }),
        );
        expect(stale.code).toBe('stale_lease');
        expect(h.engine.events({ after: seq })).toEqual([]);
        const bob = h.onlineWorker({ name: 'Bob' });
        const afterBob = lastSeq(h);
        expect(
          owpErrorFrom(() => h.engine.updateStatus(bob, taskId, { status: 'merged' })).code,
        ).toBe('not_lease_holder');
        expect(h.engine.events({ after: afterBob })).toEqual([]);
      });

      it('answers the holder reporting merged after an admin recorded the merge', async () => {
        const { h, workerId, taskId } = await taskIn(makeDriver, 'merged');
        const merged = h.engine.getTask(taskId);
        const seq = lastSeq(h);
        expect(h.engine.updateStatus(workerId, taskId, { status: 'merged' })).toEqual(merged);
        expect(h.engine.events({ after: seq })).toEqual([]);
      });

      it('says a lease has ended, not that another is current, when its task holds none', async () => {
        const { h, workerId, leaseId } = await taskIn(makeDriver, 'merged');
        const error = owpErrorFrom(() => h.engine.renewLease(workerId, leaseId));
        expect(error.code).toBe('stale_lease');
        expect(error.message).toMatch(/has ended: the task is merged and holds no lease now/);
      });

      it('records only the new artifact when a repeated report carries one', async () => {
        const { h, workerId, taskId } = await taskIn(makeDriver, 'pr_opened');
        const before = h.engine.getTask(taskId);
        const seq = lastSeq(h);

        h.engine.updateStatus(workerId, taskId, {
          status: 'pr_opened',
          artifact: { commit_sha: 'abc123' },
        });

        const after = h.engine.getTask(taskId);
        expect(after.status).toBe('pr_opened');
        expect(after.artifact).toMatchObject({
          pr_url: 'https://github.com/o/r/pull/1',
          commit_sha: 'abc123',
        });
        expect(after.version).toBe(before.version + 1);
        expect(h.engine.events({ after: seq })).toEqual([
          expect.objectContaining({
            type: 'task.updated',
            data: { fields: ['artifact'], version: after.version },
          }),
        ]);
      });

      it.each([
        ['a worker release', 1, 'release'],
        ['a lease expiry', 1, 'expire'],
        ['an admin requeue', 0, 'requeue'],
      ] as const)('counts %s as %d attempt(s)', async (_name, attempts, cause) => {
        const { h, workerId, taskId, leaseId } = await taskIn(makeDriver, 'in_progress');
        const seq = lastSeq(h);

        if (cause === 'release') h.engine.releaseLease(workerId, leaseId);
        if (cause === 'requeue') h.engine.requeueTask(taskId);
        if (cause === 'expire') {
          h.clock.advance(h.engine.config.leaseTtlMs);
          expect(h.engine.sweep().expired).toBe(1);
        }

        const after = h.engine.getTask(taskId);
        expect(after).toMatchObject({ status: 'ready', assignee: null, lease: null, attempts });
        expect(h.engine.events({ after: seq, task_id: taskId })).toContainEqual(
          expect.objectContaining({
            type: 'task.status_changed',
            data: expect.objectContaining({ from: 'in_progress', to: 'ready', cause }),
          }),
        );
      });

      it('adds attempts up over a task that is released, then expires', async () => {
        const h = await harness(makeDriver);
        h.repo();
        const alice = h.onlineWorker({ name: 'Alice' });
        const { task_id, lease } = h.task();
        h.engine.releaseLease(alice, lease!.lease_id);
        expect(h.engine.getTask(task_id).attempts).toBe(1);

        // Bob takes it, goes silent, and the lease runs out.
        h.onlineWorker({ name: 'Bob' });
        expect(h.engine.getTask(task_id).status).toBe('leased');
        h.clock.advance(h.engine.config.leaseTtlMs);
        h.engine.sweep();

        expect(h.engine.getTask(task_id)).toMatchObject({ status: 'ready', attempts: 2 });
      });

      it('stops the lease from expiring once the PR is opened', async () => {
        const { h, workerId, taskId, leaseId } = await taskIn(makeDriver, 'in_progress');
        expect(h.engine.getTask(taskId).lease!.expires_at).not.toBeNull();

        h.engine.updateStatus(workerId, taskId, { status: 'pr_opened' });

        const opened = h.engine.getTask(taskId);
        expect(opened.lease).toMatchObject({ lease_id: leaseId, worker_id: workerId });
        expect(opened.lease!.expires_at).toBeNull();
        // Review may take days, and the worker may go quiet meanwhile: the sweep leaves it alone.
        h.clock.advance(7 * 24 * 3600_000);
        expect(h.engine.sweep().expired).toBe(0);
        expect(h.engine.getTask(taskId)).toEqual(opened);
      });

      it.each([
        [
          'the worker reports it merged',
          (f: Fixture) => f.h.engine.updateStatus(f.workerId, f.taskId, { status: 'merged' }),
        ],
        ['an admin marks it merged', (f: Fixture) => f.h.engine.markMerged(f.taskId)],
      ])('ends the lease when %s', async (_name, merge) => {
        const f = await taskIn(makeDriver, 'pr_opened');

        merge(f);

        expect(f.h.engine.getTask(f.taskId)).toMatchObject({ status: 'merged', lease: null });
        expect(f.h.engine.getWorker(f.workerId)).toMatchObject({
          tasks_completed: 1,
          active_tasks: 0,
          points_in_use: 0,
        });
        expect(owpErrorFrom(() => f.h.engine.renewLease(f.workerId, f.leaseId)).code).toBe(
          'stale_lease',
        );
      });

      it('ends the lease and frees the worker when an admin cancels a task in progress', async () => {
        const { h, workerId, taskId, leaseId } = await taskIn(makeDriver, 'in_progress');
        expect(h.engine.getWorker(workerId).active_tasks).toBe(1);

        h.engine.cancelTask(taskId);

        expect(h.engine.getTask(taskId)).toMatchObject({ status: 'cancelled', lease: null });
        expect(h.engine.getWorker(workerId)).toMatchObject({ active_tasks: 0, points_in_use: 0 });
        expect(owpErrorFrom(() => h.engine.renewLease(workerId, leaseId)).code).toBe('stale_lease');
      });
    });
  });
}
