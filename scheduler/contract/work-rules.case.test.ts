import { describe, expect, it } from 'vitest';
import { OwpError } from '../../protocol/index.ts';
import { REPUTATION_FORMULA } from '../eligibility.ts';
import { type DriverFactory, type EngineHarness, harness } from '../testing/engine-harness.ts';

const MINUTE = 60_000;
const TTL = 30 * MINUTE; // the default lease TTL

/** The thrown OwpError; fails the test if the call succeeds or throws anything else. */
function refusal(call: () => unknown): OwpError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(OwpError);
    return error as OwpError;
  }
  throw new Error('expected the call to be refused with an OwpError, but it succeeded');
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Lets the worker's lease on `taskId` run out, keeping the worker itself online. */
function letLeaseExpire(h: EngineHarness, workerId: string) {
  h.clock.advance(TTL);
  h.engine.heartbeat(workerId, { status: 'idle' });
  return h.engine.sweep();
}

/** OWP v1 work rules: retries and dead letters, dependencies, trust, the contract and offers. */
export function workRuleCases(makeDriver: DriverFactory): void {
  describe('retries and dead letters', () => {
    it('sends a task to failed when its last attempt expires, freeing the worker and the budget', async () => {
      const h = await harness(makeDriver);
      h.repo({ max_attempts: 2, max_open_prs: 1 });
      const alice = h.onlineWorker({ name: 'Alice' });
      const task = h.task({ title: 'Flaky migration' }).task_id;

      expect(letLeaseExpire(h, alice).expired).toBe(1);
      // One attempt used: back in the queue, and granted again at once.
      expect(h.engine.getTask(task)).toMatchObject({ status: 'leased', attempts: 1 });

      expect(letLeaseExpire(h, alice).expired).toBe(1);
      expect(h.engine.getTask(task)).toMatchObject({
        status: 'failed',
        attempts: 2,
        assignee: null,
        lease: null,
      });
      expect(h.engine.getWorker(alice)).toMatchObject({ active_tasks: 0, points_in_use: 0 });
      expect(h.engine.getRepo('demo').budget_used).toBe(0);
      expect(h.engine.state()).toMatchObject({ tasks_failed: 1, tasks_ready: 0 });
      const last = h.engine.events({ task_id: task }).at(-1)!;
      expect(last).toMatchObject({
        type: 'task.status_changed',
        data: { from: 'leased', to: 'failed', cause: 'expire' },
      });
      // Nothing grants a failed task, however long it waits.
      h.clock.advance(TTL);
      h.engine.heartbeat(alice);
      expect(h.engine.assignAll()).toBe(0);
      expect(h.engine.getTask(task).status).toBe('failed');
    });

    it('does not hand a short lease that expired straight back to the silent worker it expired on', async () => {
      // Was: with 10 s leases, a worker gone quiet still counted online for 90 s, so each expiry
      // granted the task back to it at once, an attempt burnt every 10 s: failed in under a minute.
      const h = await harness(makeDriver);
      h.repo({ lease_ttl_seconds: 10, max_attempts: 5 });
      const alice = h.onlineWorker({ name: 'Alice' });
      const task = h.task({ title: 'Quick fix' }).task_id;
      expect(h.engine.getTask(task)).toMatchObject({ status: 'leased', assignee: alice });

      h.clock.advanceSeconds(11);
      expect(h.engine.sweep().expired).toBe(1);
      expect(h.engine.getTask(task)).toMatchObject({ status: 'ready', attempts: 1 });
      h.clock.advanceSeconds(30);
      h.engine.sweep();
      expect(h.engine.assignAll()).toBe(0);
      expect(h.engine.getTask(task)).toMatchObject({ status: 'ready', attempts: 1 });
      // Why it waits, in words: Alice is online but silent longer than the lease lasts.
      expect(h.engine.explainTask(task).summary).toContain(
        'last heard from longer ago than its lease lasts (10 s)',
      );

      // Someone heard from gets it; so does Alice, once she beats again.
      const bob = h.onlineWorker({ name: 'Bob' });
      h.engine.getWork(bob);
      expect(h.engine.getTask(task)).toMatchObject({ status: 'leased', assignee: bob });
      h.engine.releaseLease(bob, h.engine.getTask(task).lease!.lease_id);
      h.clock.advance(11 * MINUTE);
      h.engine.heartbeat(alice, { status: 'idle' });
      h.engine.getWork(alice);
      expect(h.engine.getTask(task)).toMatchObject({ status: 'leased', assignee: alice });
    });

    it('counts releases too, and a task override beats the repo setting', async () => {
      const h = await harness(makeDriver, { releaseCooldownMs: 0 });
      h.repo({ max_attempts: 5 });
      const alice = h.onlineWorker({ name: 'Alice' });
      const task = h.task({ max_attempts: 1 });
      expect(task).toMatchObject({ max_attempts: 1, status: 'leased' });

      const answer = h.engine.releaseLease(alice, task.lease!.lease_id, {
        reason: 'cannot reproduce',
      });

      // The answer says where the task went: the releasing worker may no longer read it.
      expect(answer).toEqual({ ok: true, task_id: task.task_id, status: 'failed' });
      expect(h.engine.getTask(task.task_id)).toMatchObject({ status: 'failed', attempts: 1 });
    });

    it('uses the engine default when neither the task nor its repo sets a limit', async () => {
      const h = await harness(makeDriver, { defaultMaxAttempts: 3 });
      h.repo();
      expect(h.engine.getRepo('demo').max_attempts).toBe(3);
      const alice = h.onlineWorker();
      const task = h.task().task_id;
      for (let i = 0; i < 2; i++) letLeaseExpire(h, alice);
      expect(h.engine.getTask(task)).toMatchObject({ status: 'leased', attempts: 2 });
      letLeaseExpire(h, alice);
      expect(h.engine.getTask(task)).toMatchObject({ status: 'failed', attempts: 3 });
    });

    it('lets an admin requeue a failed task with a fresh count, or cancel it; nobody else', async () => {
      const h = await harness(makeDriver);
      h.repo({ max_attempts: 1 });
      const alice = h.onlineWorker();
      const task = h.task().task_id;
      letLeaseExpire(h, alice);
      expect(h.engine.getTask(task).status).toBe('failed');

      const requeued = h.engine.requeueTask(task);

      // Back in the queue with its attempts reset — and granted again straight away.
      expect(requeued).toMatchObject({ status: 'leased', attempts: 0, assignee: alice });
      const causes = h.engine
        .events({ task_id: task })
        .flatMap((e) => (e.type === 'task.status_changed' ? [`${e.data.from}>${e.data.to}`] : []));
      expect(causes).toEqual(['ready>leased', 'leased>failed', 'failed>ready', 'ready>leased']);

      letLeaseExpire(h, alice);
      expect(h.engine.cancelTask(task).status).toBe('cancelled');
    });
  });

  describe('dependencies', () => {
    it('lists what a task blocks: the tasks that depend on it, in creation order', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const schema = h.task({ title: 'Schema' }).task_id;
      const other = h.task({ title: 'Other' }).task_id;
      const api = h.task({ title: 'API', depends_on: [schema] }).task_id;
      const ui = h.task({ title: 'UI', depends_on: [other, schema] }).task_id;
      h.task({ title: 'Docs', depends_on: [other] });

      const blocks = (id: string, limit = 50) =>
        h.engine.listTasks({ depends_on: id, limit }).tasks.map((t) => t.task_id);
      expect(blocks(schema)).toEqual([api, ui]);
      expect(blocks(api)).toEqual([]);
      // Pages like every task list.
      const first = h.engine.listTasks({ depends_on: schema, limit: 1 });
      expect(first.tasks.map((t) => t.task_id)).toEqual([api]);
      const rest = h.engine.listTasks({ depends_on: schema, limit: 1, cursor: first.next_cursor! });
      expect(rest.tasks.map((t) => t.task_id)).toEqual([ui]);
      // Edges follow edits.
      h.engine.updateTask(ui, { depends_on: [other] });
      expect(blocks(schema)).toEqual([api]);
    });

    it('holds a task back until every task it depends on is merged, then grants it', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const alice = h.onlineWorker({ name: 'Alice', max_concurrent_tasks: 1 });
      const schema = h.task({ title: 'Schema', priority: 1 }).task_id;
      const bob = h.onlineWorker({ name: 'Bob', max_concurrent_tasks: 1 });
      const api = h.task({ title: 'API', priority: 1 }).task_id;
      const ui = h.task({ title: 'UI', priority: 100, depends_on: [schema, api] });

      // The most important task waits; the workers hold the two it depends on.
      expect(ui).toMatchObject({
        status: 'ready',
        depends_on: [schema, api],
        dependencies_pending: 2,
      });
      const carol = h.onlineWorker({ name: 'Carol' });
      expect(h.leasesOf(carol)).toEqual([]);
      expect(h.engine.explainIneligibility(ui.task_id, carol)).toBe('waiting_on_dependencies');

      for (const [worker, task] of [
        [alice, schema],
        [bob, api],
      ] as const) {
        h.engine.updateStatus(worker, task, { status: 'in_progress' });
        h.engine.updateStatus(worker, task, { status: 'pr_opened' });
      }
      h.engine.updateStatus(alice, schema, { status: 'merged' });
      expect(h.engine.getTask(ui.task_id)).toMatchObject({
        status: 'ready',
        dependencies_pending: 1,
      });

      h.engine.updateStatus(bob, api, { status: 'merged' });

      // The last merge releases it, and the least loaded worker gets it in the same write.
      expect(h.engine.getTask(ui.task_id)).toMatchObject({
        status: 'leased',
        dependencies_pending: 0,
      });
      expect(h.engine.getTask(ui.task_id).assignee).not.toBeNull();
    });

    it('counts a dependency that is already merged as met', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const done = h.task().task_id;
      h.engine.updateStatus(h.onlineWorker(), done, { status: 'in_progress' });
      const worker = h.engine.getTask(done).assignee!;
      h.engine.updateStatus(worker, done, { status: 'pr_opened' });
      h.engine.markMerged(done);

      const next = h.task({ depends_on: [done] });

      expect(next).toMatchObject({ dependencies_pending: 0, status: 'leased' });
    });

    it('refuses unknown tasks and cycles with clear errors, and changes nothing', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const a = h.task({ title: 'A' }).task_id;
      const b = h.task({ title: 'B', depends_on: [a] }).task_id;
      const c = h.task({ title: 'C', depends_on: [b] }).task_id;
      const seq = h.engine.state().last_event_seq;

      const unknown = refusal(() => h.task({ depends_on: [a, 't_9999'] }));
      expect(unknown.code).toBe('dependency_unknown');
      // A task being created has no id to name yet (it named the id it would have had).
      expect(unknown.details).toEqual({ missing: ['t_9999'] });
      const edit = refusal(() => h.engine.updateTask(c, { depends_on: ['t_9998'] }));
      expect(edit.details).toEqual({ task_id: c, missing: ['t_9998'] });

      const self = refusal(() => h.engine.updateTask(a, { depends_on: [a] }));
      expect(self.code).toBe('dependency_cycle');

      const cycle = refusal(() => h.engine.updateTask(a, { depends_on: [c] }));
      expect(cycle.code).toBe('dependency_cycle');
      expect(cycle.details).toMatchObject({ cycle: [a, c, b, a] });
      expect(cycle.message).toContain(`${c} → ${b} already waits on ${a}`);

      expect(h.engine.getTask(a)).toMatchObject({ depends_on: [], dependencies_pending: 0 });
      expect(h.engine.listTasks({}).tasks).toHaveLength(3);
      expect(h.engine.state().last_event_seq).toBe(seq);
    });

    it('lets an admin replace the dependencies of a task', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const a = h.task({ title: 'A' }).task_id;
      const b = h.task({ title: 'B', depends_on: [a] }).task_id;

      expect(h.engine.updateTask(b, { depends_on: [] })).toMatchObject({
        depends_on: [],
        dependencies_pending: 0,
      });
      expect(h.engine.updateTask(a, { depends_on: [b] })).toMatchObject({
        depends_on: [b],
        dependencies_pending: 1,
      });
    });
  });

  describe('trust tiers', () => {
    it('routes risky work only to workers trusted for it, and records who changed a tier and why', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const alice = h.onlineWorker({ name: 'Alice' });
      const risky = h.task({ title: 'Rotate the signing keys', tier: 2 }).task_id;
      expect(h.engine.getTask(risky).status).toBe('ready');
      expect(h.engine.explainIneligibility(risky, alice)).toBe('tier_not_trusted');

      const worker = h.engine.setTrustTier(alice, {
        tier: 'trusted',
        reason: 'two years of merged PRs',
      });

      expect(worker.trust_tier).toBe('trusted');
      expect(h.engine.getTask(risky)).toMatchObject({ status: 'leased', assignee: alice });
      const changed = h.engine.events({}).find((e) => e.type === 'worker.trust_changed');
      expect(changed).toMatchObject({
        worker_id: alice,
        data: { from: 'basic', to: 'trusted', reason: 'two years of merged PRs' },
      });
    });

    it("follows the repo's own rules: what each tier may take", async () => {
      const h = await harness(makeDriver);
      h.repo({ trust_rules: { untrusted: -1, basic: 2, trusted: 2, maintainer: 3 } });
      expect(h.engine.getRepo('demo').trust_rules).toEqual({
        untrusted: -1,
        basic: 2,
        trusted: 2,
        maintainer: 3,
      });
      const basic = h.onlineWorker({ name: 'Basic' });
      const tierTwo = h.task({ tier: 2 });
      expect(tierTwo.assignee).toBe(basic);

      const newcomer = h.onlineWorker({ name: 'Newcomer' });
      h.engine.setTrustTier(newcomer, { tier: 'untrusted', reason: 'new account' });
      h.engine.setTrustTier(basic, { tier: 'untrusted', reason: 'test' });
      const trivial = h.task({ tier: 0 }).task_id;
      expect(h.engine.getTask(trivial).status).toBe('ready');
      expect(h.engine.explainIneligibility(trivial, newcomer)).toBe('tier_not_trusted');
    });

    it('refuses rules where a more trusted tier would take less', async () => {
      const h = await harness(makeDriver);
      expect(
        refusal(() =>
          h.repo({ trust_rules: { untrusted: 2, basic: 1, trusted: 2, maintainer: 3 } }),
        ).code,
      ).toBe('validation_failed');
    });
  });

  describe('reputation', () => {
    it('starts at one half and follows outcomes by the documented formula', async () => {
      const h = await harness(makeDriver, { releaseCooldownMs: 0 });
      h.repo();
      const alice = h.onlineWorker({ name: 'Alice', max_concurrent_tasks: 1 });
      expect(h.engine.reputation(alice)).toMatchObject({
        reputation: 0.5,
        completion_rate: 0.5,
        on_time_rate: 0.5,
        offer_acceptance_rate: 0.5,
        formula: REPUTATION_FORMULA,
      });

      // One task merged, its PR opened within the first lease; one released.
      const first = h.task().task_id;
      h.engine.updateStatus(alice, first, { status: 'in_progress' });
      h.clock.advance(10 * MINUTE);
      h.engine.heartbeat(alice, { status: 'working' });
      h.engine.updateStatus(alice, first, { status: 'pr_opened' });
      h.engine.updateStatus(alice, first, { status: 'merged' });
      const second = h.task();
      h.engine.releaseLease(alice, second.lease!.lease_id);

      const rep = h.engine.reputation(alice);
      expect(rep).toMatchObject({
        tasks_completed: 1,
        leases_released: 1,
        prs_opened: 1,
        prs_on_time: 1,
        completion_rate: 2 / 4,
        on_time_rate: 2 / 3,
        offer_acceptance_rate: 1 / 2,
      });
      expect(rep.reputation).toBeCloseTo(0.6 * (2 / 4) + 0.25 * (2 / 3) + 0.15 * (1 / 2), 12);
      expect(h.engine.getWorker(alice).reputation).toBe(rep.reputation);
    });

    it('does not count a PR opened after the first lease ran out as on time', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const alice = h.onlineWorker();
      const task = h.task().task_id;
      h.engine.updateStatus(alice, task, { status: 'in_progress' });
      h.clock.advance(TTL - MINUTE);
      h.engine.heartbeat(alice, { status: 'working' }); // renewed, so it may run past the TTL
      h.clock.advance(2 * MINUTE);
      h.engine.updateStatus(alice, task, { status: 'pr_opened' });
      expect(h.engine.reputation(alice)).toMatchObject({ prs_opened: 1, prs_on_time: 0 });
    });
  });

  describe('repo contract', () => {
    it('delivers the contract with every lease, dropping blank fields', async () => {
      const h = await harness(makeDriver);
      h.repo({
        contract: {
          setup: 'npm ci',
          test: 'npm test',
          lint: '  ',
          branch_naming: 'owp/<task_id>',
          pr_template: '## What\n\n## Why',
        },
      });
      const contract = {
        setup: 'npm ci',
        test: 'npm test',
        branch_naming: 'owp/<task_id>',
        pr_template: '## What\n\n## Why',
      };
      expect(h.engine.getRepo('demo').contract).toEqual(contract);
      const alice = h.onlineWorker();
      h.task();
      expect(h.leasesOf(alice)[0]!.contract).toEqual(contract);

      h.repo({ contract: null });
      expect(h.engine.getRepo('demo').contract).toBeNull();
      expect(h.leasesOf(alice)[0]!.contract).toBeNull();
    });
  });

  describe('offers', () => {
    async function offerRepo(config = {}) {
      const h = await harness(makeDriver, config);
      h.repo({
        assignment: 'offer',
        offer_ttl_seconds: 600,
        max_open_prs: 2,
        contract: { test: 'make test' },
      });
      return h;
    }

    it("offers instead of leasing, reserving the worker's room and the budget until it answers", async () => {
      const h = await offerRepo();
      const alice = h.onlineWorker({ name: 'Alice', max_concurrent_tasks: 1 });
      const task = h.task({ title: 'Write the changelog', area: 'docs' });

      expect(task).toMatchObject({ status: 'offered', assignee: alice, lease: null });
      expect(h.leasesOf(alice)).toEqual([]);
      const { offers } = h.engine.listOffers(alice);
      expect(offers).toEqual([
        {
          offer_id: 'o_0001',
          task_id: task.task_id,
          repo: 'demo',
          title: 'Write the changelog',
          description: '',
          estimate_points: 1,
          priority: 10,
          area: 'docs',
          tier: 0,
          required_skills: [],
          offered_at: iso(h.clock.now()),
          expires_at: iso(h.clock.now() + 600_000),
          contract: { test: 'make test' },
        },
      ]);
      expect(h.engine.getWorker(alice)).toMatchObject({ active_tasks: 1, points_in_use: 1 });
      expect(h.engine.getRepo('demo')).toMatchObject({ budget_used: 1, locked_areas: ['docs'] });
      expect(h.eventTypes()).toContain('offer.made');

      const lease = h.engine.acceptOffer(alice, 'o_0001');

      expect(lease).toMatchObject({
        task_id: task.task_id,
        status: 'leased',
        epoch: 1,
        lease_expires_at: iso(h.clock.now() + TTL),
        contract: { test: 'make test' },
      });
      expect(h.leasesOf(alice).map((l) => l.lease_id)).toEqual([lease.lease_id]);
      expect(h.engine.listOffers(alice).offers).toEqual([]);
      expect(h.engine.reputation(alice).offers_accepted).toBe(1);
      expect(h.eventTypes().slice(-2)).toEqual(['offer.accepted', 'task.status_changed:accept']);
      // Accepted once is accepted: a second answer is refused.
      expect(refusal(() => h.engine.acceptOffer(alice, 'o_0001')).code).toBe('offer_closed');
    });

    it('frees a rejected task for someone else, and does not offer it back during the cool-down', async () => {
      const h = await offerRepo({ offerCooldownMs: 60 * MINUTE });
      const alice = h.onlineWorker({ name: 'Alice' });
      const task = h.task().task_id;
      expect(h.engine.getTask(task).assignee).toBe(alice);

      h.engine.rejectOffer(alice, 'o_0001', {
        reason: 'unclear_requirements',
        message: 'Which changelog?',
      });

      expect(h.engine.getTask(task)).toMatchObject({ status: 'ready', assignee: null });
      expect(h.engine.explainIneligibility(task, alice)).toBe('recently_declined');
      expect(h.engine.listOffers(alice).offers).toEqual([]);
      const rejected = h.engine.events({}).find((e) => e.type === 'offer.rejected');
      expect(rejected).toMatchObject({
        worker_id: alice,
        data: { offer_id: 'o_0001', reason: 'unclear_requirements', message: 'Which changelog?' },
      });
      expect(h.engine.reputation(alice).offers_rejected).toBe(1);

      // Another worker gets it at once.
      const bob = h.onlineWorker({ name: 'Bob' });
      expect(h.engine.getTask(task)).toMatchObject({ status: 'offered', assignee: bob });
      h.engine.rejectOffer(bob, 'o_0002', { reason: 'insufficient_time' });

      // After the cool-down, Alice may be offered it again.
      h.clock.advance(60 * MINUTE + 1);
      h.engine.heartbeat(alice);
      h.engine.heartbeat(bob);
      expect(h.engine.listOffers(alice).offers.map((o) => o.task_id)).toEqual([task]);
    });

    it('lets an unanswered offer expire through the sweep, with the same cool-down', async () => {
      const h = await offerRepo();
      const alice = h.onlineWorker({ name: 'Alice' });
      const task = h.task().task_id;
      h.clock.advance(600_000 - 1);
      h.engine.heartbeat(alice);
      expect(h.engine.sweep().offers_expired).toBe(0);

      h.clock.advance(1);

      expect(refusal(() => h.engine.acceptOffer(alice, 'o_0001')).code).toBe('offer_closed');
      expect(h.engine.sweep()).toMatchObject({ offers_expired: 1 });
      expect(h.engine.getTask(task)).toMatchObject({ status: 'ready', assignee: null });
      expect(h.engine.getWorker(alice).active_tasks).toBe(0);
      expect(h.engine.reputation(alice).offers_expired).toBe(1);
      expect(h.engine.explainIneligibility(task, alice)).toBe('recently_declined');
      expect(h.eventTypes()).toContain('offer.expired');
    });

    it("refuses other workers' offers and unknown ones, and withdraws an offer when its task is cancelled", async () => {
      const h = await offerRepo();
      const alice = h.onlineWorker({ name: 'Alice' });
      const bob = h.onlineWorker({ name: 'Bob' });
      const task = h.task().task_id;
      const holder = h.engine.getTask(task).assignee!;
      const other = holder === alice ? bob : alice;

      expect(refusal(() => h.engine.acceptOffer(other, 'o_0001')).code).toBe('not_offer_holder');
      expect(refusal(() => h.engine.acceptOffer(holder, 'o_9999')).code).toBe('offer_not_found');

      h.engine.cancelTask(task);

      expect(h.engine.listOffers(holder).offers).toEqual([]);
      expect(refusal(() => h.engine.acceptOffer(holder, 'o_0001')).code).toBe('offer_closed');
      expect(h.eventTypes()).toContain('offer.withdrawn');
      expect(h.engine.getWorker(holder).active_tasks).toBe(0);
    });
  });
}
