import { describe, expect, it } from 'vitest';
import type { OwpApi } from '../api.ts';
import { OwpError } from '../errors.ts';
import type { OwpEvent } from '../events.ts';

/** What the suite needs from an implementation: the API as admin, as a worker, and anonymous. */
export interface ApiTarget {
  admin: OwpApi;
  asWorker(token: string): OwpApi;
  anonymous: OwpApi;
  close?(): Promise<void>;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OwpError);
    expect((error as OwpError).code).toBe(code);
    return;
  }
  throw new Error(`expected OwpError ${code}, but the call succeeded`);
}

async function until<T>(read: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The OWP API conformance suite. It runs against every implementation of `OwpApi` — in-process,
 * HTTP against the app, HTTP against any running server — and assumes nothing about what else the
 * server holds: each test works in a repo and with a skill of its own, so it can run against a
 * shared server without disturbing it or being disturbed.
 */
export function runApiContract(name: string, makeTarget: () => Promise<ApiTarget>): void {
  describe(`OWP API conformance: ${name}`, () => {
    const fresh = () => Math.random().toString(36).slice(2, 10);

    async function world() {
      const target = await makeTarget();
      const id = fresh();
      const repo = `conformance/${id}`;
      const skill = `conformance-${id}`;
      await target.admin.upsertRepo({ repo, max_open_prs: 3, area_locks_enabled: true });
      const join = async (name: string) => {
        const { worker_id, token } = await target.admin.registerWorker({
          name,
          skills: [skill],
          capacity_points: 5,
          max_concurrent_tasks: 2,
        });
        return { id: worker_id, api: target.asWorker(token) };
      };
      return { target, repo, skill, join };
    }

    it('runs the v0.1 life of a task: lease, start, PR, merge', async () => {
      const { target, repo, skill, join } = await world();
      try {
        const alice = await join('Alice');
        await alice.api.heartbeat({ status: 'idle' });
        const task = await target.admin.createTask({
          repo,
          title: 'Conformance task',
          required_skills: [skill],
          area: 'docs',
        });
        const work = await alice.api.getWork();
        expect(work.worker_id).toBe(alice.id);
        const lease = work.leases.find((l) => l.task_id === task.task_id);
        expect(lease).toMatchObject({
          repo,
          title: 'Conformance task',
          status: 'leased',
          epoch: 1,
        });

        await alice.api.updateStatus(task.task_id, {
          status: 'in_progress',
          lease_id: lease!.lease_id,
        });
        const opened = await alice.api.updateStatus(task.task_id, {
          status: 'pr_opened',
          lease_id: lease!.lease_id,
          artifact: { pr_url: 'https://example.test/pull/1' },
        });
        expect(opened).toMatchObject({
          status: 'pr_opened',
          artifact: { pr_url: 'https://example.test/pull/1' },
        });
        expect((await target.admin.getRepo(repo)).open_prs).toBe(1);
        const merged = await alice.api.updateStatus(task.task_id, { status: 'merged' });
        expect(merged.status).toBe('merged');
        expect((await target.admin.getTask(task.task_id)).lease).toBeNull();
      } finally {
        await target.close?.();
      }
    });

    it('fences stale and foreign writes', async () => {
      const { target, repo, skill, join } = await world();
      try {
        const alice = await join('Alice');
        const bob = await join('Bob');
        await alice.api.heartbeat();
        const task = await target.admin.createTask({
          repo,
          title: 'Fenced',
          required_skills: [skill],
        });
        const lease = (await alice.api.getWork()).leases.find((l) => l.task_id === task.task_id)!;
        await expectCode(
          bob.api.updateStatus(task.task_id, { status: 'in_progress' }),
          'not_lease_holder',
        );
        await expectCode(bob.api.renewLease(lease.lease_id), 'not_lease_holder');

        await alice.api.releaseLease(lease.lease_id, 'testing');
        await expectCode(
          alice.api.updateStatus(task.task_id, { status: 'in_progress', lease_id: lease.lease_id }),
          'stale_lease',
        );
        const after = await target.admin.getTask(task.task_id);
        expect(after.attempts).toBe(1);
      } finally {
        await target.close?.();
      }
    });

    it('answers bad requests with stable error codes', async () => {
      const { target, repo, join } = await world();
      try {
        const alice = await join('Alice');
        await expectCode(target.admin.getTask('t_does_not_exist'), 'task_not_found');
        await expectCode(
          target.admin.createTask({ repo: `${repo}-missing`, title: 'x' }),
          'unknown_repo',
        );
        await expectCode(target.admin.createTask({ repo, title: '' }), 'validation_failed');
        await expectCode(
          alice.api.updateStatus('t_does_not_exist', { status: 'in_progress' }),
          'task_not_found',
        );
        await expectCode(target.anonymous.getWork(), 'unauthorized');
        await expectCode(target.anonymous.listWorkers(), 'unauthorized');
        await expectCode(alice.api.listWorkers(), 'unauthorized');
      } finally {
        await target.close?.();
      }
    });

    it('creates a task once for one idempotency key, sent again after a lost answer', async () => {
      const { target, repo } = await world();
      try {
        const key = `conformance-${fresh()}`;
        const request = { repo, title: 'Made once', priority: 3, required_skills: ['a', 'b'] };
        const first = await target.admin.createTask(request, { idempotencyKey: key });
        // The same request with its keys in another order is the same request.
        const again = await target.admin.createTask(
          { required_skills: ['a', 'b'], priority: 3, title: 'Made once', repo },
          { idempotencyKey: key },
        );
        expect(again).toEqual(first);
        await expectCode(
          target.admin.createTask({ ...request, title: 'Another' }, { idempotencyKey: key }),
          'idempotency_key_reused',
        );
        const other = await target.admin.createTask(request, { idempotencyKey: `${key}-2` });
        expect(other.task_id).not.toBe(first.task_id);
        await expectCode(
          target.admin.createTask(request, { idempotencyKey: '' }),
          'validation_failed',
        );
        const { tasks } = await target.admin.listTasks({ repo });
        expect(tasks.map((task) => task.task_id).sort()).toEqual(
          [first.task_id, other.task_id].sort(),
        );
      } finally {
        await target.close?.();
      }
    });

    it('edits with optimistic concurrency, requeues and cancels', async () => {
      const { target, repo } = await world();
      try {
        const task = await target.admin.createTask({
          repo,
          title: 'Edit me',
          required_skills: ['nobody-has-this'],
        });
        const edited = await target.admin.updateTask(task.task_id, {
          title: 'Edited',
          expected_version: task.version,
        });
        expect(edited).toMatchObject({ title: 'Edited', version: task.version + 1 });
        await expectCode(
          target.admin.updateTask(task.task_id, { title: 'Lost', expected_version: task.version }),
          'stale_version',
        );
        expect((await target.admin.cancelTask(task.task_id)).status).toBe('cancelled');
        await expectCode(target.admin.requeueTask(task.task_id), 'invalid_transition');
        const page = await target.admin.listTasks({ repo, status: 'cancelled' });
        expect(page.tasks.map((t) => t.task_id)).toEqual([task.task_id]);
      } finally {
        await target.close?.();
      }
    });

    it('lets an admin record the merge of an open PR', async () => {
      const { target, repo, skill, join } = await world();
      try {
        const alice = await join('Alice');
        await alice.api.heartbeat();
        const task = await target.admin.createTask({
          repo,
          title: 'Merged by a maintainer',
          required_skills: [skill],
        });
        await alice.api.getWork();
        await alice.api.updateStatus(task.task_id, { status: 'in_progress' });
        await expectCode(target.admin.mergeTask(task.task_id), 'invalid_transition');
        await alice.api.updateStatus(task.task_id, { status: 'pr_opened' });
        const merged = await target.admin.mergeTask(task.task_id);
        expect(merged).toMatchObject({ status: 'merged', lease: null });
        await expectCode(alice.api.mergeTask(task.task_id), 'unauthorized');
      } finally {
        await target.close?.();
      }
    });

    it('offers work in an offer repo: accept gives the lease, reject frees the task', async () => {
      const { target, repo, skill, join } = await world();
      try {
        await target.admin.upsertRepo({
          repo,
          assignment: 'offer',
          contract: { test: 'npm test', branch_naming: 'owp/<task_id>' },
        });
        const alice = await join('Alice');
        const bob = await join('Bob');
        await alice.api.heartbeat();
        const first = await target.admin.createTask({
          repo,
          title: 'Offered',
          required_skills: [skill],
        });
        expect(first.status).toBe('offered');
        const holder = first.assignee === alice.id ? alice : bob;
        const other = holder === alice ? bob : alice;
        const { offers } = await holder.api.listOffers();
        const offer = offers.find((o) => o.task_id === first.task_id)!;
        expect(offer).toMatchObject({
          repo,
          title: 'Offered',
          contract: { test: 'npm test', branch_naming: 'owp/<task_id>' },
        });
        await expectCode(other.api.acceptOffer(offer.offer_id), 'not_offer_holder');
        await expectCode(holder.api.acceptOffer('o_doesnotexist'), 'offer_not_found');

        const lease = await holder.api.acceptOffer(offer.offer_id);
        expect(lease).toMatchObject({ task_id: first.task_id, status: 'leased', epoch: 1 });
        expect((await holder.api.getWork()).leases.map((l) => l.task_id)).toContain(first.task_id);
        await expectCode(holder.api.acceptOffer(offer.offer_id), 'offer_closed');

        const second = await target.admin.createTask({
          repo,
          title: 'Declined',
          required_skills: [skill],
        });
        const taker = second.assignee === alice.id ? alice : bob;
        const secondOffer = (await taker.api.listOffers()).offers.find(
          (o) => o.task_id === second.task_id,
        )!;
        await expectCode(
          taker.api.rejectOffer(secondOffer.offer_id, { reason: 'not a reason' as never }),
          'validation_failed',
        );
        expect(
          await taker.api.rejectOffer(secondOffer.offer_id, { reason: 'insufficient_time' }),
        ).toEqual({ ok: true, task_id: second.task_id });
        const after = await target.admin.getTask(second.task_id);
        expect(after.assignee).not.toBe(taker.id);
      } finally {
        await target.close?.();
      }
    });

    it('sets trust tiers with a reason and reports reputation to the admin and the worker itself', async () => {
      const { target, repo, skill, join } = await world();
      try {
        const alice = await join('Alice');
        const bob = await join('Bob');
        await alice.api.heartbeat();
        const risky = await target.admin.createTask({
          repo,
          title: 'Risky',
          tier: 2,
          required_skills: [skill],
        });
        expect(risky.status).toBe('ready');
        await expectCode(
          target.admin.setTrustTier(alice.id, { tier: 'trusted', reason: '' }),
          'validation_failed',
        );
        await expectCode(
          alice.api.setTrustTier(alice.id, { tier: 'maintainer', reason: 'me' }),
          'unauthorized',
        );
        const trusted = await target.admin.setTrustTier(alice.id, {
          tier: 'trusted',
          reason: 'reviewed history',
        });
        expect(trusted.trust_tier).toBe('trusted');
        expect(await target.admin.getTask(risky.task_id)).toMatchObject({
          status: 'leased',
          assignee: alice.id,
        });
        const own = await alice.api.workerReputation(alice.id);
        expect(own).toMatchObject({ worker_id: alice.id, trust_tier: 'trusted', reputation: 0.5 });
        expect(await target.admin.workerReputation(alice.id)).toEqual(own);
        await expectCode(bob.api.workerReputation(alice.id), 'forbidden');
        await expectCode(target.admin.workerReputation('w_doesnotexist'), 'worker_not_found');
      } finally {
        await target.close?.();
      }
    });

    it('holds dependent tasks back, refuses cycles, and dead-letters a task out of attempts', async () => {
      const { target, repo, skill, join } = await world();
      try {
        await target.admin.upsertRepo({ repo, max_attempts: 1 });
        const first = await target.admin.createTask({
          repo,
          title: 'First',
          required_skills: [skill],
        });
        const second = await target.admin.createTask({
          repo,
          title: 'Second',
          required_skills: [skill],
          depends_on: [first.task_id],
        });
        expect(second).toMatchObject({ depends_on: [first.task_id], dependencies_pending: 1 });
        await expectCode(
          target.admin.createTask({ repo, title: 'Orphan', depends_on: ['t_doesnotexist'] }),
          'dependency_unknown',
        );
        await expectCode(
          target.admin.updateTask(first.task_id, { depends_on: [second.task_id] }),
          'dependency_cycle',
        );

        const alice = await join('Alice');
        await alice.api.heartbeat();
        const leases = (await alice.api.getWork()).leases;
        expect(leases.map((l) => l.task_id)).toEqual([first.task_id]);
        await alice.api.releaseLease(leases[0]!.lease_id, 'cannot do it');
        expect(await target.admin.getTask(first.task_id)).toMatchObject({
          status: 'failed',
          attempts: 1,
        });
        expect((await target.admin.requeueTask(first.task_id)).attempts).toBe(0);
      } finally {
        await target.close?.();
      }
    });

    it('explains why a task waits, for the admin only', async () => {
      const { target, repo, skill, join } = await world();
      try {
        const first = await target.admin.createTask({
          repo,
          title: 'First',
          required_skills: [skill],
        });
        const second = await target.admin.createTask({
          repo,
          title: 'Second',
          required_skills: [skill],
          depends_on: [first.task_id],
        });
        expect(await target.admin.explainTask(second.task_id)).toMatchObject({
          task_id: second.task_id,
          status: 'ready',
          blocker: {
            reason: 'waiting_on_dependencies',
            message: `Waits for 1 task to be merged: ${first.task_id} "First" (ready).`,
          },
          workers: null,
        });

        const alice = await join('Alice');
        await alice.api.heartbeat();
        await alice.api.getWork();
        const held = await target.admin.explainTask(first.task_id);
        expect(held).toMatchObject({ status: 'leased', blocker: { reason: 'task_not_ready' } });
        expect(held.summary).toMatch(/^Leased to Alice \(lease until .+\); not started yet\.$/);

        await expectCode(target.admin.explainTask('t_does_not_exist'), 'task_not_found');
        await expectCode(alice.api.explainTask(first.task_id), 'unauthorized');
        await expectCode(target.anonymous.explainTask(first.task_id), 'unauthorized');
      } finally {
        await target.close?.();
      }
    });

    it('explains to a worker why it is given no work, in counts', async () => {
      const { target, join } = await world();
      try {
        const alice = await join('Alice');
        expect(await alice.api.explainWork()).toMatchObject({
          worker_id: alice.id,
          summary: 'The pool has not heard from you yet: send a heartbeat.',
          blocker: { reason: 'worker_offline' },
        });
        await alice.api.heartbeat();
        await target.admin.pauseWorker(alice.id);
        expect((await alice.api.explainWork()).blocker).toMatchObject({ reason: 'worker_paused' });
        await expectCode(target.admin.explainWork(), 'unauthorized');
      } finally {
        await target.close?.();
      }
    });

    it('pauses and resumes a worker, and lists it', async () => {
      const { target, join } = await world();
      try {
        const alice = await join('Alice');
        expect((await target.admin.pauseWorker(alice.id)).status).toBe('paused');
        expect((await target.admin.resumeWorker(alice.id)).paused_by_admin).toBe(false);
        expect((await target.admin.listWorkers()).some((w) => w.worker_id === alice.id)).toBe(true);
      } finally {
        await target.close?.();
      }
    });

    it("replaces a worker's token: the old one is refused at once, the worker keeps what it held", async () => {
      const { target, repo, skill, join } = await world();
      try {
        const alice = await join('Alice');
        await target.admin.createTask({ repo, title: 'Held across', required_skills: [skill] });
        await alice.api.heartbeat();
        const [lease] = (await alice.api.getWork()).leases;
        expect(lease).toBeDefined();

        await expectCode(alice.api.replaceWorkerToken(alice.id), 'unauthorized');
        await expectCode(target.anonymous.replaceWorkerToken(alice.id), 'unauthorized');
        await expectCode(target.admin.replaceWorkerToken('w_does_not_exist'), 'worker_not_found');
        const replaced = await target.admin.replaceWorkerToken(alice.id);
        expect(replaced.worker_id).toBe(alice.id);

        // Refused at once, though it was just used (a server may remember a token's worker).
        await expectCode(alice.api.heartbeat(), 'unauthorized');
        await expectCode(alice.api.getWork(), 'unauthorized');
        const renewed = target.asWorker(replaced.token);
        expect((await renewed.getWork()).leases.map((l) => l.lease_id)).toEqual([lease!.lease_id]);
        const task = await renewed.updateStatus(lease!.task_id, {
          status: 'in_progress',
          lease_id: lease!.lease_id,
        });
        expect(task.status).toBe('in_progress');
        const again = await target.admin.replaceWorkerToken(alice.id);
        expect(again.token).not.toBe(replaced.token);
        await expectCode(renewed.heartbeat(), 'unauthorized');

        const { events } = await target.admin.auditEvents({
          type: 'worker.token_replaced',
          limit: 1000,
        });
        expect(events.filter((e) => e.worker_id === alice.id).map((e) => e.actor)).toEqual([
          'admin',
          'admin',
        ]);
      } finally {
        await target.close?.();
      }
    });

    it('reads one worker as the listing shows it, for the admin only', async () => {
      const { target, join } = await world();
      try {
        const alice = await join('Alice');
        await alice.api.heartbeat();
        await target.admin.pauseWorker(alice.id);
        const listed = (await target.admin.listWorkers()).find((w) => w.worker_id === alice.id);
        expect(await target.admin.getWorker(alice.id)).toEqual(listed);
        await expectCode(target.admin.getWorker('w_does_not_exist'), 'worker_not_found');
        await expectCode(alice.api.getWorker(alice.id), 'unauthorized');
        await expectCode(target.anonymous.getWorker(alice.id), 'unauthorized');
      } finally {
        await target.close?.();
      }
    });

    it('keeps an audit log of who did what, for the admin only', async () => {
      const { target, repo, skill, join } = await world();
      try {
        const alice = await join('Alice');
        await alice.api.heartbeat();
        const task = await target.admin.createTask({
          repo,
          title: 'Audited',
          required_skills: [skill],
        });
        await alice.api.getWork();
        await alice.api.updateStatus(task.task_id, { status: 'in_progress' });
        const page = await target.admin.auditEvents({ repo });
        expect(
          page.events.map((e) => [
            e.type === 'task.status_changed' ? `${e.type}:${e.data.cause}` : e.type,
            e.actor,
          ]),
        ).toEqual([
          ['repo.upserted', 'admin'],
          ['task.created', 'admin'],
          ['task.status_changed:grant', 'system'],
          ['task.status_changed:start', alice.id],
        ]);
        expect(page.next_after).toBeNull();
        const first = await target.admin.auditEvents({ repo, limit: 1 });
        expect(first.events.map((e) => e.type)).toEqual(['repo.upserted']);
        const rest = await target.admin.auditEvents({ repo, after: first.next_after! });
        expect(rest.events.map((e) => e.seq)).toEqual(page.events.slice(1).map((e) => e.seq));
        const byAlice = await target.admin.auditEvents({ actor: alice.id, task_id: task.task_id });
        expect(byAlice.events.map((e) => e.type)).toEqual(['task.status_changed']);
        await expectCode(target.admin.auditEvents({ since: 'yesterday' }), 'validation_failed');
        await expectCode(alice.api.auditEvents({ repo }), 'unauthorized');
        await expectCode(target.anonymous.auditEvents(), 'unauthorized');
      } finally {
        await target.close?.();
      }
    });

    it("reports a repo's analytics from its history", async () => {
      const { target, repo, skill, join } = await world();
      try {
        const alice = await join('Alice');
        await alice.api.heartbeat();
        const task = await target.admin.createTask({
          repo,
          title: 'Measured',
          required_skills: [skill],
        });
        await alice.api.getWork();
        await alice.api.updateStatus(task.task_id, { status: 'in_progress' });
        await alice.api.updateStatus(task.task_id, { status: 'pr_opened' });
        await target.admin.mergeTask(task.task_id);
        const report = await target.admin.repoAnalytics(repo);
        expect(report).toMatchObject({
          repo,
          tasks_completed: 1,
          lead_time: { samples: 1 },
          cycle_time: { samples: 1 },
          requeue_rate: { rate: 0, grants: 1, expired: 0, released: 0, requeued: 0 },
          offer_acceptance_rate: { rate: null, accepted: 0, rejected: 0, expired: 0 },
        });
        expect(report.lead_time.median_ms).toBeGreaterThanOrEqual(0);
        expect(Date.parse(report.until) - Date.parse(report.since)).toBe(30 * 24 * 3600_000);
        await expectCode(target.admin.repoAnalytics(`${repo}-missing`), 'repo_not_found');
        await expectCode(alice.api.repoAnalytics(repo), 'unauthorized');
      } finally {
        await target.close?.();
      }
    });

    it('delivers live events in order, after the catch-up read', async () => {
      const { target, repo } = await world();
      try {
        const history = await target.admin.events(0, 1000);
        let after = history.at(-1)?.seq ?? 0;
        // Page to the end of the history first (a shared server may hold more than one page).
        for (
          let page = history;
          page.length === 1000;
          page = await target.admin.events(after, 1000)
        ) {
          after = page.at(-1)!.seq;
        }
        const seen: OwpEvent[] = [];
        const subscription = target.admin.subscribe(after, (event) => seen.push(event));
        try {
          const task = await target.admin.createTask({
            repo,
            title: 'Announced',
            required_skills: ['nobody-has-this'],
          });
          const created = await until(() =>
            seen.find((e) => e.type === 'task.created' && e.task_id === task.task_id),
          );
          expect(created).toMatchObject({ repo, data: { title: 'Announced' } });
          const seqs = seen.map((e) => e.seq);
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          expect(seqs[0]).toBeGreaterThan(after);
          const caughtUp = await target.admin.events(after, 1000);
          expect(caughtUp.some((e) => e.seq === created.seq)).toBe(true);
        } finally {
          subscription.close();
        }
      } finally {
        await target.close?.();
      }
    });
  });
}
