import { describe, expect, it } from 'vitest';
import { OwpError, type Task } from '../../protocol/index.ts';
import type { EngineConfig, EngineContext } from '../context.ts';
import { expireLease, findExpiredLeases } from '../lease-sweep.ts';
import { edgeFor } from '../lifecycle.ts';
import { findTask } from '../task-store.ts';
import { type DriverFactory, type EngineHarness, harness } from '../testing/engine-harness.ts';
import { recordQueryPlans } from '../testing/query-plans.ts';
import { applyTransition } from '../transitions.ts';

type LeaseInfo = NonNullable<Task['lease']>;

const MINUTE = 60_000;
const TTL = 30 * MINUTE; // the default lease TTL

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
const iso = (ms: number) => new Date(ms).toISOString();

/** The engine's internals, for driving the two phases of the sweep by hand. */
const ctxOf = (h: EngineHarness) => (h.engine as unknown as { ctx: EngineContext }).ctx;

/** Everything a refused write must leave as it was: the task row and the event log. */
function snapshot(h: EngineHarness, taskId: string) {
  return { task: h.engine.getTask(taskId), lastSeq: lastSeq(h) };
}

export function leaseCases(makeDriver: DriverFactory): void {
  /** Alice is online and holds one freshly granted task. */
  async function aliceHoldsATask(config: Partial<EngineConfig> = {}) {
    const h = await harness(makeDriver, config);
    h.repo();
    const alice = h.onlineWorker({ name: 'Alice' });
    const task = h.task({ title: 'Fix the login redirect' });
    expect(task.assignee).toBe(alice);
    const lease: LeaseInfo = task.lease!;
    return { h, alice, taskId: task.task_id, lease };
  }

  describe('leases', () => {
    describe('fencing', () => {
      it('applies a status update made under the current lease id and epoch', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();

        const task = h.engine.updateStatus(alice, taskId, {
          status: 'in_progress',
          lease_id: lease.lease_id,
          epoch: lease.epoch,
        });

        expect(task.status).toBe('in_progress');
        expect(task.lease).toMatchObject({ lease_id: lease.lease_id, epoch: 1 });
      });

      const writesUnderALease = [
        [
          'status update',
          (h: EngineHarness, worker: string, taskId: string, lease: LeaseInfo) =>
            h.engine.updateStatus(worker, taskId, {
              status: 'in_progress',
              lease_id: lease.lease_id,
              epoch: lease.epoch,
            }),
        ],
        [
          'renewal',
          (h: EngineHarness, worker: string, _taskId: string, lease: LeaseInfo) =>
            h.engine.renewLease(worker, lease.lease_id),
        ],
        [
          'release',
          (h: EngineHarness, worker: string, _taskId: string, lease: LeaseInfo) =>
            h.engine.releaseLease(worker, lease.lease_id),
        ],
      ] as const;

      it.each(writesUnderALease)(
        'refuses a %s under a lease that expired and went to another worker, changing nothing',
        async (_name, write) => {
          const { h, alice, taskId, lease } = await aliceHoldsATask();
          const bob = h.registeredWorker({ name: 'Bob' }).worker_id;
          // Alice goes quiet; her lease runs out and the sweep hands the task to Bob.
          h.clock.advance(TTL);
          h.engine.heartbeat(bob);
          expect(h.engine.sweep().expired).toBe(1);
          expect(h.engine.getTask(taskId)).toMatchObject({
            status: 'leased',
            assignee: bob,
            lease: { epoch: 2 },
          });
          const before = snapshot(h, taskId);

          const error = owpErrorFrom(() => write(h, alice, taskId, lease));

          expect(error.code).toBe('stale_lease');
          expect(error.status).toBe(409);
          expect(snapshot(h, taskId)).toEqual(before);
        },
      );

      it('refuses the old lease after the same worker is granted the task again', async () => {
        const { h, alice, taskId, lease: first } = await aliceHoldsATask();
        h.clock.advance(TTL);
        expect(h.engine.sweep().expired).toBe(1);
        // Alice comes back and is given the same task under a new lease.
        h.engine.heartbeat(alice);
        const second = h.engine.getTask(taskId).lease!;
        expect(second).toMatchObject({ worker_id: alice, epoch: 2 });
        expect(second.lease_id).not.toBe(first.lease_id);
        const before = snapshot(h, taskId);

        const error = owpErrorFrom(() =>
          h.engine.updateStatus(alice, taskId, {
            status: 'in_progress',
            lease_id: first.lease_id,
            epoch: first.epoch,
          }),
        );

        expect(error.code).toBe('stale_lease');
        expect(error.details).toMatchObject({ current_epoch: 2 });
        expect(snapshot(h, taskId)).toEqual(before);
        // The new lease works.
        expect(
          h.engine.updateStatus(alice, taskId, {
            status: 'in_progress',
            lease_id: second.lease_id,
            epoch: second.epoch,
          }).status,
        ).toBe('in_progress');
      });

      it.each([
        ['with the current lease id', true],
        ['without a lease id (v0.1 with an epoch)', false],
      ])('refuses a status update %s but the wrong epoch (stale_lease)', async (_name, named) => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        const before = snapshot(h, taskId);

        const error = owpErrorFrom(() =>
          h.engine.updateStatus(alice, taskId, {
            status: 'in_progress',
            lease_id: named ? lease.lease_id : undefined,
            epoch: lease.epoch + 1,
          }),
        );

        expect(error.code).toBe('stale_lease');
        // It names the epoch that was wrong, not the lease that is still current.
        expect(error.message).toBe(
          `Epoch ${lease.epoch + 1} is not the current lease of task ${taskId} (epoch ${lease.epoch}); the write was not applied.`,
        );
        expect(error.details).toMatchObject({ epoch: lease.epoch + 1, current_epoch: lease.epoch });
        expect(snapshot(h, taskId)).toEqual(before);
      });

      it('refuses a transition computed from a row another write has changed since (same status and epoch)', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        const ctx = ctxOf(h);
        const stale = findTask(ctx.driver, taskId)!;
        // An admin's edit leaves the status and the lease alone; only the version tells.
        h.engine.updateTask(taskId, { title: 'Fix the login redirect loop' });
        const before = snapshot(h, taskId);

        const error = owpErrorFrom(() =>
          applyTransition(ctx, stale, edgeFor(stale.status, 'worker', { to: 'in_progress' }), {
            epoch: lease.epoch,
            worker: alice,
          }),
        );

        expect(error.code).toBe('stale_lease');
        expect(snapshot(h, taskId)).toEqual(before);
        expect(before.task).toMatchObject({
          status: 'leased',
          title: 'Fix the login redirect loop',
        });
      });

      it.each(writesUnderALease)(
        "refuses a %s naming another worker's lease (403 not_lease_holder)",
        async (_name, write) => {
          const { h, taskId, lease } = await aliceHoldsATask();
          const bob = h.onlineWorker({ name: 'Bob' });
          const before = snapshot(h, taskId);

          const error = owpErrorFrom(() => write(h, bob, taskId, lease));

          expect(error.code).toBe('not_lease_holder');
          expect(error.status).toBe(403);
          expect(snapshot(h, taskId)).toEqual(before);
        },
      );

      it.each(writesUnderALease)(
        'answers a %s naming an unknown lease with 404 lease_not_found',
        async (_name, write) => {
          const { h, alice, taskId, lease } = await aliceHoldsATask();
          const before = snapshot(h, taskId);

          const error = owpErrorFrom(() =>
            write(h, alice, taskId, { ...lease, lease_id: 'l_9999' }),
          );

          expect(error.code).toBe('lease_not_found');
          expect(error.status).toBe(404);
          expect(snapshot(h, taskId)).toEqual(before);
        },
      );

      it("does not accept a worker's lease on one task for a write about another", async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        const other = h.task({ title: 'Another task' });
        expect(other.assignee).toBe(alice);
        const before = snapshot(h, other.task_id);

        const error = owpErrorFrom(() =>
          h.engine.updateStatus(alice, other.task_id, {
            status: 'in_progress',
            lease_id: lease.lease_id,
          }),
        );

        expect(error.code).toBe('lease_not_found');
        expect(snapshot(h, other.task_id)).toEqual(before);
        expect(h.engine.getTask(taskId).status).toBe('leased');
      });
    });

    describe('renewLease', () => {
      it('extends the lease to a full TTL from now and records lease.renewed', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        h.clock.advance(20 * MINUTE);
        const seq = lastSeq(h);

        const answer = h.engine.renewLease(alice, lease.lease_id);

        const expiresAt = iso(h.clock.now() + TTL);
        expect(answer).toEqual({
          ok: true,
          lease_id: lease.lease_id,
          epoch: 1,
          expires_at: expiresAt,
        });
        expect(h.engine.getTask(taskId).lease).toMatchObject({
          lease_id: lease.lease_id,
          expires_at: expiresAt,
        });
        expect(h.engine.events({ after: seq })).toEqual([
          expect.objectContaining({
            type: 'lease.renewed',
            task_id: taskId,
            worker_id: alice,
            data: { lease_id: lease.lease_id, expires_at: expiresAt },
          }),
        ]);
      });

      it('refuses to renew a lease that has already expired (lease_expired)', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        h.clock.advance(TTL);
        const before = snapshot(h, taskId);

        const error = owpErrorFrom(() => h.engine.renewLease(alice, lease.lease_id));

        expect(error.code).toBe('lease_expired');
        expect(error.status).toBe(409);
        expect(error.details).toMatchObject({ task_id: taskId, expired_at: lease.expires_at });
        expect(snapshot(h, taskId)).toEqual(before);
      });

      it('has nothing to renew once the PR is open: the lease no longer expires', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        h.engine.updateStatus(alice, taskId, { status: 'in_progress' });
        h.engine.updateStatus(alice, taskId, { status: 'pr_opened' });
        const before = snapshot(h, taskId);

        const error = owpErrorFrom(() => h.engine.renewLease(alice, lease.lease_id));

        expect(error.code).toBe('invalid_transition');
        expect(snapshot(h, taskId)).toEqual(before);
      });
    });

    describe('releaseLease', () => {
      it('returns the task to the queue, counts an attempt and records the release', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        h.engine.updateStatus(alice, taskId, { status: 'in_progress' });
        const seq = lastSeq(h);

        const answer = h.engine.releaseLease(alice, lease.lease_id, { reason: 'out of my depth' });

        expect(answer).toEqual({ ok: true, task_id: taskId, status: 'ready' });
        expect(h.engine.getTask(taskId)).toMatchObject({
          status: 'ready',
          assignee: null,
          lease: null,
          attempts: 1,
        });
        expect(h.engine.events({ after: seq })).toEqual([
          expect.objectContaining({
            type: 'task.status_changed',
            task_id: taskId,
            worker_id: alice,
            data: expect.objectContaining({
              from: 'in_progress',
              to: 'ready',
              cause: 'release',
              lease_id: lease.lease_id,
              message: 'out of my depth',
            }),
          }),
        ]);
        expect(h.engine.getWorker(alice)).toMatchObject({
          leases_released: 1,
          active_tasks: 0,
          points_in_use: 0,
        });
      });

      it('does not hand the released task back to the same worker until the cool-down ends', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        const cooldown = h.engine.config.releaseCooldownMs;

        h.engine.releaseLease(alice, lease.lease_id);
        expect(h.leasesOf(alice)).toEqual([]);
        expect(h.engine.assignAll()).toBe(0);

        h.clock.advance(cooldown - 1000);
        h.engine.heartbeat(alice);
        expect(h.leasesOf(alice)).toEqual([]);
        expect(h.engine.getTask(taskId).status).toBe('ready');

        h.clock.advance(1000);
        expect(h.leasesOf(alice)).toEqual([expect.objectContaining({ task_id: taskId, epoch: 2 })]);
      });

      it('keeps the cool-down through an admin’s requeue, also of the task the release failed', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask({ defaultMaxAttempts: 1 });
        const cooldown = h.engine.config.releaseCooldownMs;

        // The last attempt given up: failed, and the admin puts it back at once.
        h.engine.releaseLease(alice, lease.lease_id);
        expect(h.engine.getTask(taskId).status).toBe('failed');
        expect(h.engine.requeueTask(taskId)).toMatchObject({ status: 'ready', assignee: null });
        h.engine.heartbeat(alice);
        expect(h.leasesOf(alice)).toEqual([]);

        h.clock.advance(cooldown - 1000);
        h.engine.heartbeat(alice);
        expect(h.leasesOf(alice)).toEqual([]);
        h.clock.advance(1000);
        expect(h.leasesOf(alice)).toEqual([expect.objectContaining({ task_id: taskId })]);
      });

      it('hands the released task to another worker at once', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        const bob = h.onlineWorker({ name: 'Bob' });
        const seq = lastSeq(h);

        h.engine.releaseLease(alice, lease.lease_id);

        expect(h.engine.getTask(taskId)).toMatchObject({ status: 'leased', assignee: bob });
        expect(
          h.engine
            .events({ after: seq })
            .map((e) => [e.type, e.worker_id, 'cause' in e.data ? e.data.cause : null]),
        ).toEqual([
          ['task.status_changed', alice, 'release'],
          ['task.status_changed', bob, 'grant'],
        ]);
      });
    });

    describe('heartbeat', () => {
      it("renews every live lease of the worker, and only that worker's", async () => {
        const h = await harness(makeDriver);
        h.repo();
        const alice = h.onlineWorker({ name: 'Alice' });
        const bob = h.onlineWorker({ name: 'Bob' });
        // The least loaded worker gets each new task: Alice, Bob, then Alice again.
        const [first, second, third] = [h.task(), h.task(), h.task()];
        expect([first.assignee, second.assignee, third.assignee]).toEqual([alice, bob, alice]);
        h.engine.updateStatus(alice, third.task_id, { status: 'in_progress' });
        h.clock.advance(20 * MINUTE);

        const answer = h.engine.heartbeat(alice, { status: 'working' });

        expect(answer).toMatchObject({ ok: true, leases_renewed: 2 });
        const renewed = iso(h.clock.now() + TTL);
        expect(h.engine.getTask(first.task_id).lease!.expires_at).toBe(renewed);
        expect(h.engine.getTask(third.task_id).lease!.expires_at).toBe(renewed);
        expect(h.engine.getTask(second.task_id).lease!.expires_at).toBe(second.lease!.expires_at);
      });

      it('renews through the index of held tasks, not every task the worker ever had', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        h.engine.updateStatus(alice, taskId, { status: 'in_progress', lease_id: lease.lease_id });
        h.engine.updateStatus(alice, taskId, {
          status: 'pr_opened',
          lease_id: lease.lease_id,
          artifact: { pr_url: 'https://github.com/acme/app/pull/1' },
        });
        h.engine.markMerged(taskId);
        const plans = recordQueryPlans(h.driver, 'SET lease_expires_at = $now + lease_ttl_ms');

        h.engine.heartbeat(alice, { status: 'working' });

        expect(plans).toHaveLength(1);
        expect(plans[0]).toContain('tasks_held_by');
      });

      it('keeps leases alive across many TTLs while heartbeats continue (sliding expiry)', async () => {
        const ttl = 2 * MINUTE;
        const { h, alice, taskId, lease } = await aliceHoldsATask({ leaseTtlMs: ttl });

        for (let beat = 0; beat < 20; beat++) {
          h.clock.advance(MINUTE);
          expect(h.engine.heartbeat(alice).leases_renewed).toBe(1);
          expect(h.engine.sweep().expired).toBe(0);
        }

        // Twenty minutes is ten TTLs; the lease granted at the start still holds the task.
        expect(h.engine.getTask(taskId)).toMatchObject({ status: 'leased', attempts: 0 });
        expect(h.engine.getTask(taskId).lease).toMatchObject({
          lease_id: lease.lease_id,
          epoch: 1,
          expires_at: iso(h.clock.now() + ttl),
        });
        expect(h.eventTypes()).not.toContain('task.status_changed:expire');

        // Once the heartbeats stop, one TTL later the lease is gone.
        h.clock.advance(ttl);
        expect(h.engine.sweep().expired).toBe(1);
      });

      it('announces a renewal by heartbeat every half TTL: the expiry last heard of never runs out while heartbeats continue', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        const heard: string[] = [];
        const seq = lastSeq(h);

        // Two hours of heartbeats every 30 s, with a 30 min TTL.
        let lastHeard = Date.parse(lease.expires_at!);
        let closest = Infinity;
        for (let beat = 0; beat < 240; beat++) {
          h.clock.advance(30_000);
          h.engine.heartbeat(alice, { status: 'working' });
          for (const event of h.engine.events({ after: seq, limit: 1000 })) {
            if (event.type !== 'lease.renewed' || heard.includes(event.data.expires_at)) continue;
            heard.push(event.data.expires_at);
            expect(event).toMatchObject({ task_id: taskId, worker_id: alice, actor: alice });
            expect(event.data.lease_id).toBe(lease.lease_id);
            lastHeard = Date.parse(event.data.expires_at);
          }
          closest = Math.min(closest, lastHeard - h.clock.now());
        }

        // One event per 15 minutes, not one per heartbeat (240), each naming the new expiry.
        expect(heard).toHaveLength(8);
        expect(heard[0]).toBe(iso(Date.parse(lease.granted_at) + 15 * MINUTE + TTL));
        // What a board or a note last heard is at least half a TTL (less one beat) ahead of now.
        expect(closest).toBeGreaterThanOrEqual(TTL / 2 - 30_000);
        expect(h.engine.getTask(taskId).lease!.expires_at).toBe(iso(h.clock.now() + TTL));
      });

      it('answers a repeated heartbeat inside the coalescing window without a write', async () => {
        const { h, alice, taskId } = await aliceHoldsATask({ heartbeatCoalesceMs: 1000 });
        h.clock.advance(MINUTE);
        expect(h.engine.heartbeat(alice).leases_renewed).toBe(1);
        const renewedTo = h.engine.getTask(taskId).lease!.expires_at;
        const seq = lastSeq(h);

        // The same status and note 999 ms later: nothing written, nothing recorded.
        h.clock.advance(999);
        expect(h.engine.heartbeat(alice)).toEqual({
          ok: true,
          server_time: iso(h.clock.now()),
          leases_renewed: 0,
        });
        expect(h.engine.getTask(taskId).lease!.expires_at).toBe(renewedTo);
        expect(lastSeq(h)).toBe(seq);

        // A changed status is always written, however soon it comes.
        expect(h.engine.heartbeat(alice, { status: 'working' }).leases_renewed).toBe(1);
        expect(h.eventTypes().at(-1)).toBe('worker.status_changed');
        const changedAt = h.clock.now();

        // At the window's end the heartbeat is written again and renews the lease from now.
        h.clock.advance(1000);
        expect(h.engine.heartbeat(alice, { status: 'working' }).leases_renewed).toBe(1);
        expect(h.engine.getTask(taskId).lease!.expires_at).toBe(iso(changedAt + 1000 + TTL));
      });

      it('does not revive a lease that is already past its expiry', async () => {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        h.clock.advance(TTL);

        const answer = h.engine.heartbeat(alice);

        expect(answer.leases_renewed).toBe(0);
        expect(h.engine.getTask(taskId).lease).toMatchObject({
          lease_id: lease.lease_id,
          expires_at: lease.expires_at,
        });
        expect(
          owpErrorFrom(() => h.engine.updateStatus(alice, taskId, { status: 'in_progress' })).code,
        ).toBe('lease_expired');
        // The lapsed lease belongs to the sweep.
        expect(h.engine.sweep().expired).toBe(1);
        expect(h.engine.getTask(taskId).lease!.lease_id).not.toBe(lease.lease_id);
      });

      it('finds expired leases through the expiry index, not by reading every held task', async () => {
        const { h } = await aliceHoldsATask();
        const plans = recordQueryPlans(h.driver, 'lease_expires_at <= $now');
        h.engine.sweep();
        expect(plans).toHaveLength(1);
        expect(plans[0]).toContain('tasks_lease_expiry');
      });

      it("expires a silent worker's leases after the TTL and marks the worker offline", async () => {
        const { h, alice, taskId: first } = await aliceHoldsATask();
        h.clock.advanceSeconds(1);
        const second = h.task({ title: 'Second task' }).task_id;
        h.engine.updateStatus(alice, second, { status: 'in_progress' });
        const seq = lastSeq(h);

        // Past the heartbeat TTL but not the lease TTL: offline, but still holding its work.
        h.clock.advance(TTL - MINUTE);
        expect(h.engine.sweep()).toEqual({ expired: 0, offers_expired: 0, workers_offline: 1 });
        expect(h.engine.getWorker(alice).online).toBe(false);
        expect(h.engine.getTask(first).status).toBe('leased');
        expect(h.engine.getTask(second).status).toBe('in_progress');

        // Both leases have run out; the sweep takes the oldest expiry first.
        h.clock.advance(MINUTE + 1000);
        expect(h.engine.sweep()).toEqual({ expired: 2, offers_expired: 0, workers_offline: 0 });

        expect(h.engine.getTask(first)).toMatchObject({
          status: 'ready',
          lease: null,
          attempts: 1,
        });
        expect(h.engine.getTask(second)).toMatchObject({
          status: 'ready',
          lease: null,
          attempts: 1,
        });
        expect(h.engine.getWorker(alice)).toMatchObject({ leases_expired: 2, active_tasks: 0 });
        expect(
          h.engine
            .events({ after: seq })
            .map((e) =>
              e.type === 'task.status_changed'
                ? `${e.task_id} ${e.data.from} -${e.data.cause}-> ${e.data.to}`
                : `${e.type} ${e.worker_id}`,
            ),
        ).toEqual([
          `worker.offline ${alice}`,
          `${first} leased -expire-> ready`,
          `${second} in_progress -expire-> ready`,
        ]);
      });
    });

    describe('lease TTL', () => {
      it.each([
        ['the default', null, null, TTL],
        ["the repo's", 7200, null, 7200_000],
        ["the task's, over the repo's", 7200, 300, 300_000],
        ["the task's, over the default", null, 300, 300_000],
      ] as const)(
        'grants a lease for %s TTL',
        async (_name, repoTtlSeconds, taskTtlSeconds, expectedMs) => {
          const h = await harness(makeDriver);
          h.repo({ lease_ttl_seconds: repoTtlSeconds });
          h.onlineWorker();

          const task = h.task({ lease_ttl_seconds: taskTtlSeconds });

          const granted = Date.parse(task.lease!.granted_at);
          expect(Date.parse(task.lease!.expires_at!) - granted).toBe(expectedMs);
          // The silent worker's lease runs out exactly then.
          h.clock.advance(expectedMs - 1);
          expect(h.engine.sweep().expired).toBe(0);
          h.clock.advance(1);
          expect(h.engine.sweep().expired).toBe(1);
        },
      );

      it("renews by the lease's own TTL, not the default", async () => {
        const h = await harness(makeDriver);
        h.repo({ lease_ttl_seconds: 7200 });
        const alice = h.onlineWorker();
        const task = h.task({ lease_ttl_seconds: 300 });
        const fiveMinutes = 300_000;

        h.clock.advance(MINUTE);
        const renewed = h.engine.renewLease(alice, task.lease!.lease_id);
        expect(renewed.expires_at).toBe(iso(h.clock.now() + fiveMinutes));

        h.clock.advance(MINUTE);
        h.engine.heartbeat(alice);
        expect(h.engine.getTask(task.task_id).lease!.expires_at).toBe(
          iso(h.clock.now() + fiveMinutes),
        );
      });
    });

    /*
     * Regression: the sweep reads expired leases, then requeues them one by one. Anything can
     * happen between the two — the worker finishes, heartbeats, releases, or another sweeper
     * (another server) gets there first. The requeue must apply only if the lease it read is still
     * the current one and still expired, checked in the same statement that writes.
     *
     * To land a worker's write in that gap the clock steps back a minute: two servers' clocks
     * differ a little, and on the worker's server the lease is still live.
     */
    describe('sweep race regression', () => {
      /** Alice holds a task in progress whose lease has just run out, and phase one has read it. */
      async function expiredAndRead() {
        const { h, alice, taskId, lease } = await aliceHoldsATask();
        h.engine.updateStatus(alice, taskId, { status: 'in_progress' });
        h.clock.advance(TTL);
        const ctx = ctxOf(h);
        const read = findExpiredLeases(ctx);
        expect(read).toEqual([
          {
            task_id: taskId,
            lease_id: lease.lease_id,
            epoch: 1,
            expires_at: Date.parse(lease.expires_at!),
          },
        ]);
        return { h, ctx, alice, taskId, lease, read: read[0]! };
      }

      /** Runs `write` on a server whose clock is a minute behind, as if it landed first. */
      function onAServerAMinuteBehind(h: EngineHarness, write: () => void) {
        h.clock.advance(-MINUTE);
        write();
        h.clock.advance(MINUTE);
      }

      it('sweep requeues an expired lease nobody touched (the control case)', async () => {
        const { h, ctx, taskId, read } = await expiredAndRead();

        expect(expireLease(ctx, read)).toBe(true);

        expect(h.engine.getTask(taskId)).toMatchObject({ status: 'ready', attempts: 1 });
        expect(h.eventTypes().at(-1)).toBe('task.status_changed:expire');
      });

      it('sweep does not requeue a task completed between its read and its write', async () => {
        const { h, ctx, alice, taskId, read } = await expiredAndRead();
        onAServerAMinuteBehind(h, () =>
          h.engine.updateStatus(alice, taskId, {
            status: 'pr_opened',
            artifact: { pr_url: 'https://github.com/o/r/pull/9' },
          }),
        );
        const before = snapshot(h, taskId);
        expect(before.task.status).toBe('pr_opened');

        expect(expireLease(ctx, read)).toBe(false);

        expect(snapshot(h, taskId)).toEqual(before);
        expect(before.task.attempts).toBe(0);
        expect(h.engine.sweep().expired).toBe(0);
      });

      it('sweep does not requeue a task whose lease a heartbeat renewed between its read and its write', async () => {
        const { h, ctx, alice, taskId, lease, read } = await expiredAndRead();
        onAServerAMinuteBehind(h, () => {
          expect(h.engine.heartbeat(alice).leases_renewed).toBe(1);
        });
        const before = snapshot(h, taskId);

        expect(expireLease(ctx, read)).toBe(false);

        expect(snapshot(h, taskId)).toEqual(before);
        expect(before.task).toMatchObject({ status: 'in_progress', attempts: 0 });
        expect(before.task.lease).toMatchObject({
          lease_id: lease.lease_id,
          expires_at: iso(h.clock.now() - MINUTE + TTL),
        });
      });

      it('sweep does not count a second attempt for a task released between its read and its write', async () => {
        const { h, ctx, alice, taskId, lease, read } = await expiredAndRead();
        onAServerAMinuteBehind(h, () => h.engine.releaseLease(alice, lease.lease_id));
        const before = snapshot(h, taskId);
        expect(before.task).toMatchObject({ status: 'ready', attempts: 1 });

        expect(expireLease(ctx, read)).toBe(false);

        expect(snapshot(h, taskId)).toEqual(before);
      });

      it('sweep does not take back a task another sweeper already expired and re-granted', async () => {
        const { h, ctx, taskId, read } = await expiredAndRead();
        const bob = h.onlineWorker({ name: 'Bob' });
        // Another server's sweep gets there first; the task goes to Bob under epoch 2.
        expect(h.engine.sweep().expired).toBe(1);
        const regranted = h.engine.getTask(taskId);
        expect(regranted).toMatchObject({ status: 'leased', assignee: bob, attempts: 1 });
        expect(regranted.lease!.epoch).toBe(2);
        const before = snapshot(h, taskId);

        expect(expireLease(ctx, read)).toBe(false);

        expect(snapshot(h, taskId)).toEqual(before);
      });

      it("sweep does not expire a task's new lease on the strength of an old lease's read", async () => {
        const { h, ctx, alice, taskId, read } = await expiredAndRead();
        h.engine.sweep();
        h.engine.heartbeat(alice);
        expect(h.engine.getTask(taskId).lease).toMatchObject({ worker_id: alice, epoch: 2 });
        // The new lease runs out too; a read of the old one must still not touch it.
        h.clock.advance(TTL);
        const before = snapshot(h, taskId);

        expect(expireLease(ctx, read)).toBe(false);

        expect(snapshot(h, taskId)).toEqual(before);
        // Phase one reads the new lease afresh, and that one does expire.
        const [fresh] = findExpiredLeases(ctx);
        expect(fresh).toMatchObject({ task_id: taskId, epoch: 2 });
        expect(expireLease(ctx, fresh!)).toBe(true);
      });

      it('the expire statement itself refuses a stale row whose lease was renewed after the read', async () => {
        const { h, ctx, alice, taskId } = await expiredAndRead();
        const stale = findTask(ctx.driver, taskId)!;
        onAServerAMinuteBehind(h, () => h.engine.heartbeat(alice));
        const before = snapshot(h, taskId);

        // Past every check a caller could make on the stale row: only the statement's guard is left.
        const error = owpErrorFrom(() =>
          applyTransition(ctx, stale, edgeFor(stale.status, 'system', { cause: 'expire' }), {
            epoch: stale.lease_epoch,
            expiredAt: h.clock.now(),
          }),
        );

        expect(error.code).toBe('stale_lease');
        expect(snapshot(h, taskId)).toEqual(before);
        expect(findTask(ctx.driver, taskId)).toMatchObject({ status: 'in_progress', attempts: 0 });
      });
    });

    describe('idempotency', () => {
      it('replays the first answer for the same key and fingerprint without running again', async () => {
        const { h, alice, taskId } = await aliceHoldsATask();
        let calls = 0;
        const start = () =>
          h.engine.idempotent(alice, 'key-1', 'POST /v1/tasks/status in_progress', () => {
            calls++;
            return h.engine.updateStatus(alice, taskId, { status: 'in_progress' });
          });

        const first = start();
        // The task moves on; a late retry of the first request must not move it back.
        h.engine.updateStatus(alice, taskId, { status: 'blocked' });
        const before = snapshot(h, taskId);
        const replay = start();

        expect(calls).toBe(1);
        expect(replay).toEqual(first);
        expect(replay.status).toBe('in_progress');
        expect(snapshot(h, taskId)).toEqual(before);
        expect(before.task.status).toBe('blocked');
      });

      it('refuses the same key with another fingerprint (idempotency_key_reused)', async () => {
        const { h, alice, taskId } = await aliceHoldsATask();
        h.engine.idempotent(alice, 'key-1', 'status in_progress', () =>
          h.engine.updateStatus(alice, taskId, { status: 'in_progress' }),
        );
        const before = snapshot(h, taskId);
        let ran = false;

        const error = owpErrorFrom(() =>
          h.engine.idempotent(alice, 'key-1', 'status blocked', () => {
            ran = true;
            return h.engine.updateStatus(alice, taskId, { status: 'blocked' });
          }),
        );

        expect(error.code).toBe('idempotency_key_reused');
        expect(error.status).toBe(422);
        expect(ran).toBe(false);
        expect(snapshot(h, taskId)).toEqual(before);
      });

      it('does not store a failure: its writes are undone and a retry runs again', async () => {
        const { h, alice, taskId } = await aliceHoldsATask();
        const before = snapshot(h, taskId);
        let calls = 0;
        const start = (failAfterWriting: boolean) =>
          h.engine.idempotent(alice, 'key-1', 'status in_progress', () => {
            calls++;
            const task = h.engine.updateStatus(alice, taskId, { status: 'in_progress' });
            if (failAfterWriting) throw new Error('connection reset');
            return task;
          });

        expect(() => start(true)).toThrow('connection reset');
        expect(snapshot(h, taskId)).toEqual(before);

        expect(start(false).status).toBe('in_progress');
        expect(start(false).status).toBe('in_progress');
        expect(calls).toBe(2);
      });

      it('keeps keys per worker', async () => {
        const h = await harness(makeDriver);
        const alice = h.registeredWorker({ name: 'Alice' }).worker_id;
        const bob = h.registeredWorker({ name: 'Bob' }).worker_id;

        const forAlice = h.engine.idempotent(alice, 'key-1', 'a', () => ({ who: 'alice' }));
        const forBob = h.engine.idempotent(bob, 'key-1', 'b', () => ({ who: 'bob' }));

        expect(forAlice).toEqual({ who: 'alice' });
        expect(forBob).toEqual({ who: 'bob' });
        expect(h.engine.idempotent(alice, 'key-1', 'a', () => ({ who: 'rerun' }))).toEqual({
          who: 'alice',
        });
      });

      it('forgets keys older than the idempotency TTL at the sweep', async () => {
        const h = await harness(makeDriver);
        const alice = h.registeredWorker().worker_id;
        const ttl = h.engine.config.idempotencyTtlMs;
        let calls = 0;
        const call = () => h.engine.idempotent(alice, 'key-1', 'f', () => ({ call: ++calls }));
        expect(call()).toEqual({ call: 1 });

        h.clock.advance(ttl);
        h.engine.sweep();
        expect(call()).toEqual({ call: 1 });

        h.clock.advance(1);
        h.engine.sweep();
        expect(call()).toEqual({ call: 2 });
      });
    });
  });
}
