import { describe, expect, it } from 'vitest';
import { OwpError } from '../../protocol/errors.ts';
import { type DriverFactory, harness } from '../testing/engine-harness.ts';
import { EVENT_BLOCK } from '../event-blocks.ts';
import { recordQueryPlans } from '../testing/query-plans.ts';

/** Expects `fn` to throw an OwpError with `code`, and returns it for further checks. */
function expectOwpError(fn: () => unknown, code: string): OwpError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OwpError);
    expect((error as OwpError).code).toBe(code);
    return error as OwpError;
  }
  throw new Error(`expected OwpError ${code}, but nothing was thrown`);
}

export function basicsCases(makeDriver: DriverFactory): void {
  describe('repos', () => {
    it('creates a repo with the defaults and updates only the fields given', async () => {
      const h = await harness(makeDriver);
      const created = h.engine.upsertRepo({ repo: 'owner/name' });
      expect(created).toMatchObject({
        repo: 'owner/name',
        max_open_prs: 3,
        area_locks_enabled: true,
        lease_ttl_seconds: null,
        budget_used: 0,
        open_prs: 0,
        locked_areas: [],
      });

      h.clock.advanceSeconds(5);
      const updated = h.engine.upsertRepo({ repo: 'owner/name', max_open_prs: 7 });
      expect(updated).toMatchObject({ max_open_prs: 7, area_locks_enabled: true });
      expect(updated.updated_at).toBe('2026-01-17T12:00:05.000Z');
      expect(updated.created_at).toBe('2026-01-17T12:00:00.000Z');
    });

    it('refuses an invalid repo key or budget with validation_failed', async () => {
      const h = await harness(makeDriver);
      expectOwpError(() => h.engine.upsertRepo({ repo: 'a/b/c' }), 'validation_failed');
      const error = expectOwpError(
        () => h.engine.upsertRepo({ repo: 'demo', max_open_prs: 101 }),
        'validation_failed',
      );
      expect(error.details).toMatchObject({ issues: [{ path: 'max_open_prs' }] });
      expect(h.engine.listRepos()).toEqual([]);
    });

    it('deletes a repo only when none of its tasks is still open', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const task = h.task();
      expectOwpError(() => h.engine.deleteRepo('demo'), 'repo_in_use');

      h.engine.cancelTask(task.task_id);
      h.engine.deleteRepo('demo');
      expect(h.engine.listRepos()).toEqual([]);
      expectOwpError(() => h.engine.getTask(task.task_id), 'task_not_found');
      expectOwpError(() => h.engine.getRepo('demo'), 'repo_not_found');
      expect(h.eventTypes().at(-1)).toBe('repo.deleted');
      // Its tasks go with it, and the event says how many of each status, for counts kept live.
      expect(h.engine.events({ after: 0 }).at(-1)).toMatchObject({
        repo: 'demo',
        data: { tasks_deleted: { cancelled: 1 } },
      });
      expect(h.engine.state()).toMatchObject({ tasks_cancelled: 0 });
    });
  });

  describe('tasks', () => {
    it('creates a task with the v0.1 defaults', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const task = h.engine.createTask({ repo: 'demo', title: 'Docs: add a quickstart' });
      expect(task).toMatchObject({
        task_id: 't_0001',
        repo: 'demo',
        description: '',
        estimate_points: 1,
        priority: 10,
        required_skills: [],
        area: null,
        tier: 0,
        status: 'ready',
        assignee: null,
        lease: null,
        attempts: 0,
        version: 1,
      });
    });

    it('refuses a task for a repo that does not exist with unknown_repo', async () => {
      const h = await harness(makeDriver);
      const error = expectOwpError(() => h.task({ repo: 'nope' }), 'unknown_repo');
      expect(error.status).toBe(400);
    });

    it('stores required skills trimmed, lower-case, sorted and without duplicates', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const task = h.task({ required_skills: [' Python', 'docs', 'python', 'Go'] });
      expect(task.required_skills).toEqual(['docs', 'go', 'python']);
    });

    it('edits fields, bumps the version and records which fields changed', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const task = h.task();
      const edited = h.engine.updateTask(task.task_id, { title: 'Better title', priority: 50 });
      expect(edited).toMatchObject({ title: 'Better title', priority: 50, version: 2 });
      const last = h.engine.events().at(-1)!;
      expect(last).toMatchObject({
        type: 'task.updated',
        task_id: task.task_id,
        data: { fields: ['title', 'priority'], version: 2 },
      });
    });

    it('refuses an edit based on a stale version and changes nothing', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const task = h.task();
      h.engine.updateTask(task.task_id, { title: 'First edit', expected_version: 1 });
      const error = expectOwpError(
        () => h.engine.updateTask(task.task_id, { title: 'Lost edit', expected_version: 1 }),
        'stale_version',
      );
      expect(error.details).toMatchObject({ version: 2, expected_version: 1 });
      expect(h.engine.getTask(task.task_id)).toMatchObject({ title: 'First edit', version: 2 });
    });

    it("refuses to move a held task into a held area, or past its holder's room", async () => {
      const h = await harness(makeDriver);
      h.repo();
      const first = h.task({ area: 'x', estimate_points: 2 });
      const second = h.task({ area: 'y', estimate_points: 2 });
      h.task({ area: 'z', estimate_points: 1 });
      const alice = h.onlineWorker({ name: 'Alice', capacity_points: 6, max_concurrent_tasks: 3 });
      // Alice holds all three: 5 of her 6 points.
      expect(h.leasesOf(alice).map((l) => l.task_id)).toContain(second.task_id);
      expect(h.engine.getTask(first.task_id).status).toBe('leased');
      const held = h.engine.getTask(second.task_id);

      // Area x is held by the first task: the second may not join it while both are held.
      const locked = expectOwpError(
        () => h.engine.updateTask(second.task_id, { area: 'x' }),
        'area_locked',
      );
      expect(locked.details).toMatchObject({ task_id: second.task_id, area: 'x' });
      // Alice has room for 1 more point: the second task may grow from 2 to 3, not to 4.
      const over = expectOwpError(
        () => h.engine.updateTask(second.task_id, { estimate_points: 4 }),
        'over_capacity',
      );
      expect(over.details).toMatchObject({ worker_id: alice, room: 3, estimate_points: 4 });
      // Neither refusal changed anything.
      expect(h.engine.getTask(second.task_id)).toEqual(held);

      // What the holder can keep goes through: a free area, an estimate within her room.
      expect(h.engine.updateTask(second.task_id, { area: 'w', estimate_points: 3 })).toMatchObject({
        area: 'w',
        estimate_points: 3,
      });
      expect(h.engine.getWorker(alice).points_in_use).toBe(6);
      // Back in the queue (Alice paused, so it stays there), any area and size may be set.
      h.engine.pauseWorker(alice);
      h.engine.requeueTask(second.task_id);
      expect(h.engine.updateTask(second.task_id, { area: 'x', estimate_points: 8 })).toMatchObject({
        status: 'ready',
        area: 'x',
        estimate_points: 8,
      });
    });

    it('lists tasks by filter, a page at a time, without gaps or repeats', async () => {
      const h = await harness(makeDriver);
      h.repo();
      h.repo({ repo: 'other/repo' });
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push(
          h.task({
            title: `Task ${i}`,
            area: i % 2 ? 'ui' : 'api',
            required_skills: i < 3 ? ['Go'] : [],
          }).task_id,
        );
        h.clock.advance(1);
      }
      h.task({ repo: 'other/repo' });

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = h.engine.listTasks({ repo: 'demo', limit: 3, cursor });
        expect(page.tasks.length).toBeLessThanOrEqual(3);
        seen.push(...page.tasks.map((t) => t.task_id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(ids);

      // Newest first, a page at a time; a cursor of one order is refused in the other.
      const newest: string[] = [];
      let page = h.engine.listTasks({ repo: 'demo', limit: 3, order: 'newest' });
      for (;;) {
        newest.push(...page.tasks.map((t) => t.task_id));
        if (!page.next_cursor) break;
        const next = page.next_cursor;
        expectOwpError(
          () => h.engine.listTasks({ repo: 'demo', cursor: next }),
          'validation_failed',
        );
        page = h.engine.listTasks({ repo: 'demo', limit: 3, order: 'newest', cursor: next });
      }
      expect(newest).toEqual([...ids].reverse());

      expect(h.engine.listTasks({ area: 'ui' }).tasks.map((t) => t.title)).toEqual([
        'Task 1',
        'Task 3',
        'Task 5',
      ]);
      expect(h.engine.listTasks({ skill: 'GO' }).tasks).toHaveLength(3);
      expect(h.engine.listTasks({ status: 'merged' }).tasks).toEqual([]);
      expectOwpError(() => h.engine.listTasks({ cursor: '!!not-a-cursor' }), 'validation_failed');
      // Well-formed base64 of something no page ever ends with: refused, not read as page one.
      for (const forged of [':', '-1:', '1:', ':t_x', '1e3:t_x', ' 5:t_x']) {
        expectOwpError(() => h.engine.listTasks({ cursor: btoa(forged) }), 'validation_failed');
      }
    });

    it('lists by status, or what one task blocks, through an index rather than every task', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const first = h.task({ title: 'First' }).task_id;
      h.clock.advance(1);
      const blocked = h.task({ title: 'Blocked', depends_on: [first] }).task_id;
      const plans = recordQueryPlans(h.driver, 'ORDER BY t.created_at');
      const page = h.engine.listTasks({ status: 'ready', limit: 1 });
      h.engine.listTasks({ status: 'ready', limit: 1, cursor: page.next_cursor! });
      expect(h.engine.listTasks({ depends_on: first }).tasks.map((t) => t.task_id)).toEqual([
        blocked,
      ]);
      expect(plans[0]).toContain('tasks_by_status');
      expect(plans[1]).toMatch(/tasks_by_status \(status=\? AND \(created_at,id\)>\(\?,\?\)\)/);
      expect(plans[2]).toContain('task_dependents');
      // Newest first goes down the same index.
      const back = h.engine.listTasks({ status: 'ready', limit: 1, order: 'newest' });
      h.engine.listTasks({ status: 'ready', limit: 1, order: 'newest', cursor: back.next_cursor! });
      expect(plans[3]).toContain('tasks_by_status');
      expect(plans[3]).not.toContain('TEMP B-TREE');
      expect(plans[4]).toMatch(/tasks_by_status \(status=\? AND \(created_at,id\)<\(\?,\?\)\)/);
    });

    it('lists one repo, assignee or area through its own index, in creation order', async () => {
      const h = await harness(makeDriver);
      h.repo();
      h.repo({ repo: 'other' });
      const ui = h.task({ title: 'UI', area: 'ui' }).task_id;
      h.clock.advance(1);
      const elsewhere = h.task({ repo: 'other', title: 'Elsewhere' }).task_id;
      h.clock.advance(1);
      const docs = h.task({ title: 'Docs' }).task_id;
      const alice = h.onlineWorker({ name: 'Alice' });
      const taken = h.engine.getWork(alice).leases.map((l) => l.task_id);
      const plans = recordQueryPlans(h.driver, 'ORDER BY t.created_at');
      const ids = (query: Parameters<typeof h.engine.listTasks>[0]) =>
        h.engine.listTasks(query).tasks.map((t) => t.task_id);
      expect(ids({ repo: 'demo' })).toEqual([ui, docs]);
      expect(ids({ assignee: alice })).toEqual(
        [ui, elsewhere, docs].filter((id) => taken.includes(id)),
      );
      expect(taken.length).toBeGreaterThan(0);
      expect(ids({ area: 'ui' })).toEqual([ui]);
      expect(
        ids({
          repo: 'demo',
          limit: 1,
          cursor: h.engine.listTasks({ repo: 'demo', limit: 1 }).next_cursor!,
        }),
      ).toEqual([docs]);
      expect(plans[0]).toMatch(/tasks_by_repo \(repo=\?\)/);
      expect(plans[1]).toMatch(/tasks_by_assignee \(assignee=\?\)/);
      expect(plans[2]).toMatch(/tasks_by_area \(area=\?\)/);
      expect(plans.at(-1)).toMatch(/tasks_by_repo \(repo=\? AND \(created_at,id\)>\(\?,\?\)\)/);
      expect(plans.join('\n')).not.toContain('TEMP B-TREE');
    });

    it('counts tasks by status from the log, and counts again when the log was undone', async () => {
      const h = await harness(makeDriver);
      h.repo();
      h.repo({ repo: 'other' });
      const counted = () => {
        const s = h.engine.state();
        return { ready: s.tasks_ready, leased: s.tasks_leased, cancelled: s.tasks_cancelled };
      };
      h.task();
      const elsewhere = h.task({ repo: 'other' }).task_id;
      expect(counted()).toEqual({ ready: 2, leased: 0, cancelled: 0 });
      const alice = h.onlineWorker({ name: 'Alice', max_concurrent_tasks: 1 });
      expect(h.leasesOf(alice)).toHaveLength(1);
      h.engine.cancelTask(elsewhere);
      expect(counted()).toEqual({ ready: 0, leased: 1, cancelled: 1 });

      // A write that state() saw and that then rolled back: its event numbers are given out again.
      const before = h.engine.state().last_event_seq;
      expect(() =>
        h.driver.transaction(() => {
          h.task({ title: 'Undone' });
          h.task({ title: 'Undone too' });
          expect(counted()).toEqual({ ready: 2, leased: 1, cancelled: 1 });
          throw new Error('undo');
        }),
      ).toThrow('undo');
      h.engine.cancelTask(h.task({ title: 'Kept, then cancelled' }).task_id);
      expect(counted()).toEqual({ ready: 0, leased: 1, cancelled: 2 });
      expect(h.engine.state().last_event_seq).toBe(before + 2);

      // Deleting a repo deletes its finished tasks without an event per task.
      h.engine.deleteRepo('other');
      expect(counted()).toEqual({ ready: 0, leased: 1, cancelled: 1 });
    });

    it("frees another repo's task that waited on a deleted repo's cancelled task", async () => {
      const h = await harness(makeDriver);
      h.repo({ repo: 'lib' });
      h.repo({ repo: 'app' });
      const dropped = h.task({ repo: 'lib', title: 'Dropped' }).task_id;
      const kept = h.task({ repo: 'app', title: 'Kept' }).task_id;
      const waiting = h.task({ repo: 'app', title: 'Waits', depends_on: [kept, dropped] });
      h.engine.cancelTask(dropped);
      expect(h.engine.getTask(waiting.task_id).dependencies_pending).toBe(2);

      h.engine.deleteRepo('lib');
      // Edited as an admin would: the gone task leaves its list, and it waits on the rest only.
      expect(h.engine.getTask(waiting.task_id)).toMatchObject({
        depends_on: [kept],
        dependencies_pending: 1,
        version: waiting.version + 1,
      });
      const edits = h.engine.events({ limit: 5000 }).filter((e) => e.type === 'task.updated');
      expect(edits.at(-1)).toMatchObject({
        task_id: waiting.task_id,
        data: { fields: ['depends_on'] },
      });

      // With nothing left to wait on, it is assigned like any ready task.
      h.repo({ repo: 'lib' });
      const gone = h.task({ repo: 'lib', title: 'Gone' }).task_id;
      const last = h.task({ repo: 'app', title: 'Last', depends_on: [gone] }).task_id;
      h.engine.cancelTask(gone);
      h.engine.deleteRepo('lib');
      expect(h.engine.getTask(last).dependencies_pending).toBe(0);
      const alice = h.onlineWorker({ name: 'Alice', max_concurrent_tasks: 5 });
      expect(h.leasesOf(alice).map((l) => l.task_id)).toContain(last);
    });

    it('reports unknown tasks with task_not_found', async () => {
      const h = await harness(makeDriver);
      expectOwpError(() => h.engine.getTask('t_missing'), 'task_not_found');
      expectOwpError(() => h.engine.cancelTask('t_missing'), 'task_not_found');
      expectOwpError(() => h.engine.updateTask('t_missing', { title: 'x' }), 'task_not_found');
    });
  });

  describe('workers', () => {
    it('registers a worker, returns its token once and stores only the hash', async () => {
      const h = await harness(makeDriver);
      const { worker_id, token } = h.engine.registerWorker({
        name: 'Alice',
        github_handle: 'alice',
        skills: ['Python', 'docs'],
        capacity_points: 5,
        max_concurrent_tasks: 2,
      });
      expect(h.engine.authenticateWorker(token)).toBe(worker_id);
      expect(h.engine.authenticateWorker(`${token}x`)).toBeUndefined();
      const stored = h.driver.get<{ token_hash: string }>(
        'SELECT token_hash FROM workers WHERE id = $id',
        { id: worker_id },
      )!;
      expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(stored.token_hash).not.toContain(token);
      expect(h.engine.getWorker(worker_id)).toMatchObject({
        name: 'Alice',
        skills: ['docs', 'python'],
        online: false,
        trust_tier: 'basic',
        status: 'idle',
      });
      expect(JSON.stringify(h.engine.events())).not.toContain(token);
    });

    it('applies the v0.1 limits to registration', async () => {
      const h = await harness(makeDriver);
      expectOwpError(() => h.registeredWorker({ name: '' }), 'validation_failed');
      expectOwpError(() => h.registeredWorker({ name: 'x'.repeat(121) }), 'validation_failed');
      expectOwpError(() => h.registeredWorker({ capacity_points: 0 }), 'validation_failed');
      expectOwpError(() => h.registeredWorker({ max_concurrent_tasks: 21 }), 'validation_failed');
      expect(h.engine.listWorkers()).toEqual([]);
    });

    it('is online from its first heartbeat until the heartbeat TTL passes', async () => {
      const h = await harness(makeDriver, { heartbeatTtlMs: 90_000 });
      const { worker_id } = h.registeredWorker();
      expect(h.engine.getWorker(worker_id).online).toBe(false);

      const beat = h.engine.heartbeat(worker_id, { status: 'working', note: 'on it' });
      expect(beat).toEqual({
        ok: true,
        server_time: '2026-01-17T12:00:00.000Z',
        leases_renewed: 0,
      });
      expect(h.engine.getWorker(worker_id)).toMatchObject({
        online: true,
        status: 'working',
        note: 'on it',
      });

      h.clock.advanceSeconds(89);
      expect(h.engine.state().workers_online).toBe(1);
      h.clock.advanceSeconds(1);
      expect(h.engine.getWorker(worker_id).online).toBe(false);
      expect(h.engine.state().workers_online).toBe(0);
    });

    it('announces online, status changes and offline as events', async () => {
      const h = await harness(makeDriver, { heartbeatTtlMs: 30_000 });
      const worker = h.onlineWorker();
      h.engine.heartbeat(worker, { status: 'idle' });
      h.engine.heartbeat(worker, { status: 'working' });
      h.clock.advanceSeconds(31);
      expect(h.engine.sweep()).toEqual({ expired: 0, offers_expired: 0, workers_offline: 1 });
      expect(h.engine.sweep()).toEqual({ expired: 0, offers_expired: 0, workers_offline: 0 });
      h.engine.heartbeat(worker, { status: 'idle' });
      expect(h.eventTypes()).toEqual([
        'worker.registered',
        'worker.online',
        'worker.status_changed',
        'worker.offline',
        'worker.online',
      ]);
    });

    it('pauses and resumes a worker once, recording each change', async () => {
      const h = await harness(makeDriver);
      const worker = h.onlineWorker();
      expect(h.engine.pauseWorker(worker)).toMatchObject({
        paused_by_admin: true,
        status: 'paused',
      });
      h.engine.pauseWorker(worker);
      expect(h.engine.resumeWorker(worker)).toMatchObject({
        paused_by_admin: false,
        status: 'idle',
      });
      expect(
        h.eventTypes().filter((t) => t.startsWith('worker.p') || t.startsWith('worker.r')),
      ).toEqual(['worker.registered', 'worker.paused', 'worker.resumed']);
      expectOwpError(() => h.engine.pauseWorker('w_missing'), 'worker_not_found');
    });
  });

  describe('events and state', () => {
    it('numbers events in order and reads them after a sequence number', async () => {
      const h = await harness(makeDriver);
      h.repo();
      h.task();
      h.task();
      const all = h.engine.events();
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(h.engine.events({ after: 1 }).map((e) => e.seq)).toEqual([2, 3]);
      expect(h.engine.events({ after: 1, limit: 1 }).map((e) => e.seq)).toEqual([2]);
      expect(h.engine.events({ task_id: 't_0002' }).map((e) => e.seq)).toEqual([3]);
      expect(all[0]).toEqual({
        seq: 1,
        at: '2026-01-17T12:00:00.000Z',
        type: 'repo.upserted',
        repo: 'demo',
        task_id: null,
        worker_id: null,
        actor: 'admin',
        data: { max_open_prs: 10, area_locks_enabled: true },
      });
    });

    it('tells listeners each event under the number it is stored with', async () => {
      const h = await harness(makeDriver);
      const heard: number[] = [];
      h.engine.onEvent((event) => heard.push(event.seq));
      h.repo();
      const worker = h.onlineWorker();
      const task = h.task();
      h.engine.getWork(worker);
      h.engine.updateStatus(worker, task.task_id, { status: 'in_progress' });
      // A refused write appends nothing, and the next event takes the next number.
      expect(() => h.engine.updateStatus(worker, task.task_id, { status: 'merged' })).toThrow();
      h.engine.cancelTask(h.task().task_id);
      const stored = h.engine.events().map((e) => e.seq);
      expect(stored.length).toBeGreaterThan(5);
      expect(heard).toEqual(stored);
    });

    it('shows a worker only events about itself and its tasks', async () => {
      const h = await harness(makeDriver);
      h.repo();
      const alice = h.onlineWorker({ name: 'Alice' });
      const bob = h.onlineWorker({ name: 'Bob' });
      h.task();
      const aliceSees = h.engine.events({ worker_id: alice });
      expect(aliceSees.length).toBeGreaterThan(0);
      expect(aliceSees.every((e) => e.worker_id === alice)).toBe(true);
      expect(
        h.engine.events({ worker_id: bob }).some((e) => e.type === 'task.status_changed'),
      ).toBe(h.leasesOf(bob).length > 0);
    });

    it("reads a task's or a worker's events through its blocks, never the whole log", async () => {
      const h = await harness(makeDriver);
      h.repo();
      const alice = h.onlineWorker({ name: 'Alice' });
      const bob = h.onlineWorker({ name: 'Bob' });
      const task = h.task();
      // Past two blocks of the log: each change of a worker's reported status is an event.
      for (let beat = 0; h.engine.state().last_event_seq <= 2 * EVENT_BLOCK + 10; beat++) {
        h.clock.advance(2_000);
        h.engine.heartbeat(beat % 4 < 2 ? bob : alice, { status: beat % 2 ? 'idle' : 'working' });
      }
      const log = h.engine.events({ limit: 5000 });
      const plans = recordQueryPlans(h.driver, 'event');

      const ofTask = h.engine.events({ task_id: task.task_id });
      const ofAlice = h.engine.events({ worker_id: alice, after: 2, limit: 1000 });
      const later = h.engine.events({ worker_id: alice, after: EVENT_BLOCK + 5, limit: 300 });

      expect(ofTask).toEqual(log.filter((e) => e.task_id === task.task_id));
      const aliceAfter = (after: number, limit: number) =>
        log.filter((e) => e.worker_id === alice && e.seq > after).slice(0, limit);
      expect(ofAlice).toEqual(aliceAfter(2, 1000));
      expect(later).toEqual(aliceAfter(EVENT_BLOCK + 5, 300));
      expect(ofAlice.at(-1)!.seq).toBeGreaterThan(EVENT_BLOCK);
      expect(plans.some((plan) => plan.includes('PRIMARY KEY (block=? AND key=?)'))).toBe(true);
      // Blocks, events by sequence number, and the last few events by rowid: no scan of the log.
      for (const plan of plans) expect(plan).not.toMatch(/SCAN events/);
      // Both filters at once still mean both.
      const both = h.engine.events({ task_id: task.task_id, worker_id: alice });
      expect(both.length).toBeGreaterThan(0);
      expect(both.every((e) => e.task_id === task.task_id && e.worker_id === alice)).toBe(true);
    });

    it('tells listeners about events only after they commit', async () => {
      const h = await harness(makeDriver);
      const heard: string[] = [];
      const stop = h.engine.onEvent((event) => heard.push(event.type));
      h.repo();
      expect(() => h.task({ repo: 'missing' })).toThrow(OwpError);
      h.task();
      stop();
      h.task();
      expect(heard).toEqual(['repo.upserted', 'task.created']);
    });

    it('keeps writing when a listener throws', async () => {
      const h = await harness(makeDriver);
      h.engine.onEvent(() => {
        throw new Error('listener bug');
      });
      h.repo();
      expect(h.engine.listRepos()).toHaveLength(1);
    });

    it('counts tasks by status and workers online as v0.1 clients expect', async () => {
      const h = await harness(makeDriver);
      h.repo({ max_open_prs: 5 });
      const worker = h.onlineWorker({ max_concurrent_tasks: 1 });
      const first = h.task({ title: 'first', priority: 100 });
      h.task({ title: 'second' });
      h.engine.updateStatus(worker, first.task_id, { status: 'in_progress' });
      h.registeredWorker();
      expect(h.engine.state()).toEqual({
        workers_online: 1,
        tasks_ready: 1,
        tasks_leased: 0,
        tasks_in_progress: 1,
        tasks_pr_opened: 0,
        tasks_blocked: 0,
        tasks_merged: 0,
        tasks_cancelled: 0,
        tasks_offered: 0,
        tasks_failed: 0,
        workers_total: 2,
        last_event_seq: h.engine.events({ limit: 5000 }).at(-1)!.seq,
      });
    });
  });
}
