import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OwpError } from '../../protocol/errors.ts';
import {
  TASK_STATUSES,
  type OwpEvent,
  type TaskStatus,
  type TransitionCause,
  type WorkerReportedStatus,
  type WorkerSettableStatus,
} from '../../protocol/index.ts';
import { type OutcomeStats, reputationOf } from '../eligibility.ts';
import type { TaskRow } from '../rows.ts';
import { type DriverFactory, type EngineHarness, harness } from '../testing/engine-harness.ts';

/*
 * Property-based tests: random small worlds, random interleavings of every command a worker, an
 * admin or the clock can issue, and after EVERY command the scheduler's safety invariants are
 * checked against what is really in the database:
 *
 *   1. a task has at most one live lease, held by its assignee; epochs per task strictly increase;
 *   2. no worker holds more points or tasks than it declared, and its counters match its tasks;
 *   3. no grant overdraws its repo's review budget;
 *   4. no grant takes an area that another task of the repo holds while area locks are on;
 *   5. a write under a stale, foreign or expired lease is refused and changes nothing;
 *   6. grants go only to online, unpaused, skilled, trusted workers with room (and not back to a
 *      worker that just released the task);
 *   7. event seqs strictly increase and the status-change events replay exactly into the tasks'
 *      statuses, one event per change, along the edges of the lifecycle graph.
 *
 * Invariants 3, 4 and 6 are rules about the moment of a grant, so they are checked at that moment
 * by replaying the event log: `task.status_changed` events carry every status change in order, and
 * `repo.upserted` events carry every budget and lock change, so the replay knows, exactly, how many
 * tasks of the repo were in flight and which areas were held just before each grant — even when an
 * admin lowers a budget below its use or turns locks on while two tasks share an area (both
 * legal; they just must not lead to more grants). Checking "count <= max_open_prs" on the final
 * state instead would be wrong as soon as a budget is lowered, and would miss nothing the replay
 * catches, since only a grant moves a task into the budget or into an area.
 *
 * Two more promises are checked after every command. Liveness: assignment runs inside the write
 * that freed or created something, so a freed or new task, the queue of a repo whose budget or
 * area freed, and a worker that came free must all have been served before the command returns.
 * Delivery: subscribers hear exactly the events the command committed, in seq order, and none
 * from a write that was refused. A second property repeats the delivery check with a subscriber
 * that itself writes while being notified.
 *
 * Rejected: fc.commands with a full model of the scheduler. The model would have to re-implement
 * assignment order to predict grants; here the engine decides and the checks say only what must
 * never happen, which is the contract.
 */

const CONFIG = {
  leaseTtlMs: 60_000,
  heartbeatTtlMs: 30_000,
  releaseCooldownMs: 90_000,
  defaultMaxAttempts: 1_000,
};
/** A basic (newly registered) worker may take tasks up to this tier. */
const BASIC_MAX_TIER = 1;

const SKILL_POOL = ['go', 'Go', 'python', 'PYTHON', 'docs', 'rust', 'Rust'];
const AREA_POOL = ['api', 'ui', 'db'];

const HOLDING: readonly TaskStatus[] = ['leased', 'in_progress', 'blocked'];
const IN_BUDGET: readonly TaskStatus[] = [...HOLDING, 'pr_opened'];
const NON_TERMINAL: readonly TaskStatus[] = ['ready', ...IN_BUDGET];

/** The lifecycle graph of DESIGN.md, written out independently of the engine's table. */
const EDGES: Record<TransitionCause, { from: readonly TaskStatus[]; to: TaskStatus }> = {
  grant: { from: ['ready'], to: 'leased' },
  // Offers and dead letters have their own cases (offers.case.test.ts, retries); the random runs
  // here use lease assignment and more attempts than they can use up.
  offer: { from: ['ready'], to: 'offered' },
  accept: { from: ['offered'], to: 'leased' },
  decline: { from: ['offered'], to: 'ready' },
  offer_expire: { from: ['offered'], to: 'ready' },
  start: { from: ['leased', 'blocked'], to: 'in_progress' },
  block: { from: ['leased', 'in_progress'], to: 'blocked' },
  open_pr: { from: ['in_progress'], to: 'pr_opened' },
  merge: { from: ['pr_opened'], to: 'merged' },
  expire: { from: HOLDING, to: 'ready' },
  release: { from: IN_BUDGET, to: 'ready' },
  requeue: { from: IN_BUDGET, to: 'ready' },
  cancel: { from: NON_TERMINAL, to: 'cancelled' },
};

/** The statuses a worker may report from each status (DESIGN.md's graph, worker edges only). */
const WORKER_MOVES: Record<TaskStatus, readonly TaskStatus[]> = {
  ready: [],
  leased: ['in_progress', 'blocked'],
  in_progress: ['blocked', 'pr_opened'],
  blocked: ['in_progress'],
  pr_opened: ['merged'],
  merged: [],
  cancelled: [],
  offered: [],
  failed: [],
};

/** What a write under a lease that is not (or no longer) the caller's may answer. */
const FENCE_ERRORS = [
  'stale_lease',
  'not_lease_holder',
  'lease_expired',
  'invalid_transition',
  'lease_not_found',
];

// ── commands ─────────────────────────────────────────────────────────────────────────────────

interface WorkerSpec {
  name: string;
  skills: string[];
  capacity_points: number;
  max_concurrent_tasks: number;
}

interface TaskSpec {
  /** An index into the world's repos, or a repo that was never created. */
  repo: number | 'ghost';
  estimate_points: number;
  priority: number;
  required_skills: string[];
  area: string | null;
  tier: number;
  /** The task's own lease TTL, or null for the repo's (or the engine's) default. */
  lease_ttl_seconds: number | null;
}

/** An admin edit of a ready task's scheduling fields. */
type TaskEdit = Partial<
  Pick<TaskSpec, 'estimate_points' | 'priority' | 'required_skills' | 'area' | 'tier'>
>;

/** A status to report, or `next`: the task's next step on the happy path, whatever it is then. */
type StatusTarget = WorkerSettableStatus | 'next';

const NEXT_STEP: Partial<Record<TaskStatus, WorkerSettableStatus>> = {
  leased: 'in_progress',
  in_progress: 'pr_opened',
  blocked: 'in_progress',
  pr_opened: 'merged',
};

/** Who makes a lease write: the worker the picked lease was granted to, or any worker. */
type Actor = 'holder' | number;

/**
 * Which lease a write names: one of the leases live right now (the usual, honest case) or any
 * lease ever granted (mostly ended ones: a worker replaying what it remembers).
 */
interface LeasePick {
  from: 'live' | 'history';
  i: number;
}

/** How a status write is fenced: with the picked lease's id and/or an epoch near its own. */
interface Fence {
  sendLeaseId: boolean;
  epoch: 'omit' | 'same' | 'older' | 'newer';
}

/*
 * Commands name workers, tasks and leases by index (taken modulo what exists when the command
 * runs), so every generated sequence is runnable and shrinks to a readable one. A status write
 * without a lease (`lease: null`) is the v0.1 form, fenced only by the task's assignee.
 */
type Command =
  | {
      kind: 'upsertRepo';
      repo: number;
      max_open_prs: number;
      area_locks_enabled?: boolean;
      lease_ttl_seconds?: number | null;
    }
  | { kind: 'register'; worker: WorkerSpec }
  | { kind: 'heartbeat'; worker: number; status: WorkerReportedStatus }
  | { kind: 'getWork'; worker: number }
  | { kind: 'createTask'; task: TaskSpec }
  | { kind: 'updateTask'; task: number; edit: TaskEdit; version: 'current' | 'stale' | 'omit' }
  | {
      kind: 'status';
      actor: Actor;
      lease: LeasePick | null;
      task: number;
      fence: Fence;
      to: StatusTarget;
      withPrUrl: boolean;
    }
  | { kind: 'renew' | 'release'; actor: Actor; lease: LeasePick; bogusId: boolean }
  | { kind: 'requeue' | 'cancel' | 'markMerged'; task: number }
  | { kind: 'pause' | 'resume'; worker: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'sweep' }
  | { kind: 'assignAll' };

const index = fc.nat({ max: 20 });
/** `usual` nine times in ten. */
const mostly = (usual: boolean) =>
  fc.oneof(
    { arbitrary: fc.constant(usual), weight: 9 },
    { arbitrary: fc.constant(!usual), weight: 1 },
  );
const actor: fc.Arbitrary<Actor> = fc.oneof(
  { arbitrary: fc.constant('holder' as const), weight: 3 },
  { arbitrary: index, weight: 1 },
);

/** Review budgets 0–4; 0 (a paused repo) is the rare case. */
const budget = fc.constantFrom(0, 1, 2, 3, 3, 4, 4);

const leasePick: fc.Arbitrary<LeasePick> = fc.record({
  from: fc.constantFrom<LeasePick['from']>('live', 'live', 'history'),
  i: index,
});

const workerSpec: fc.Arbitrary<WorkerSpec> = fc.record({
  name: fc.constantFrom('Ada', 'Brook', 'Cy', 'Dee'),
  skills: fc.subarray(SKILL_POOL, { maxLength: 4 }),
  capacity_points: fc.integer({ min: 1, max: 6 }),
  max_concurrent_tasks: fc.integer({ min: 1, max: 3 }),
});

const taskFields = {
  estimate_points: fc.integer({ min: 1, max: 4 }),
  priority: fc.integer({ min: 0, max: 3 }),
  required_skills: fc.oneof(
    { arbitrary: fc.constant<string[]>([]), weight: 2 },
    { arbitrary: fc.subarray(SKILL_POOL, { minLength: 1, maxLength: 2 }), weight: 3 },
  ),
  area: fc.option(fc.constantFrom(...AREA_POOL), { nil: null }),
  tier: fc.constantFrom(0, 0, 1, 1, 2),
};

/** Lease TTLs in seconds for repos and tasks; null falls back to the engine's 60 s. */
const leaseTtl = fc.constantFrom(null, null, null, 10, 30, 120);

const taskSpec: fc.Arbitrary<TaskSpec> = fc.record({
  repo: fc.oneof(
    { arbitrary: fc.nat({ max: 2 }), weight: 12 },
    { arbitrary: fc.constant('ghost' as const), weight: 1 },
  ),
  ...taskFields,
  lease_ttl_seconds: leaseTtl,
});

/** Clock steps up to twice the lease TTL, with the TTL boundaries themselves made likely. */
const clockStep = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 10_000 }), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 2 * CONFIG.leaseTtlMs }), weight: 2 },
  fc.constantFrom(
    CONFIG.heartbeatTtlMs - 1,
    CONFIG.heartbeatTtlMs,
    CONFIG.leaseTtlMs - 1,
    CONFIG.leaseTtlMs,
  ),
);

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record(
      {
        kind: fc.constant('upsertRepo' as const),
        repo: index,
        max_open_prs: budget,
        area_locks_enabled: fc.boolean(),
        lease_ttl_seconds: leaseTtl,
      },
      { requiredKeys: ['kind', 'repo', 'max_open_prs'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('register' as const), worker: workerSpec }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('heartbeat' as const),
      worker: index,
      status: fc.constantFrom<WorkerReportedStatus>('idle', 'idle', 'working', 'paused'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('getWork' as const), worker: index }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('createTask' as const), task: taskSpec }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('updateTask' as const),
      task: index,
      edit: fc.record(taskFields, { requiredKeys: [] }),
      version: fc.constantFrom('current' as const, 'stale' as const, 'omit' as const),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('status' as const),
      actor,
      lease: fc.option(leasePick, { nil: null, freq: 8 }),
      task: index,
      fence: fc.record({
        sendLeaseId: fc.boolean(),
        epoch: fc.constantFrom<Fence['epoch']>('omit', 'same', 'same', 'older', 'newer'),
      }),
      to: fc.constantFrom<StatusTarget>(
        'next',
        'next',
        'in_progress',
        'blocked',
        'pr_opened',
        'merged',
      ),
      withPrUrl: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom('renew' as const, 'release' as const),
      actor,
      lease: leasePick,
      bogusId: mostly(false),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('requeue' as const, 'cancel' as const, 'markMerged' as const),
      task: index,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom('pause' as const, 'resume' as const),
      worker: index,
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: clockStep }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'assignAll' as const }) },
);

/** A small world, as the commands that build it: repos, workers (most online), a few tasks. */
const world: fc.Arbitrary<Command[]> = fc
  .record({
    repos: fc.array(fc.record({ max_open_prs: budget, area_locks_enabled: fc.boolean() }), {
      minLength: 1,
      maxLength: 3,
    }),
    workers: fc.array(fc.record({ spec: workerSpec, online: mostly(true) }), {
      minLength: 2,
      maxLength: 5,
    }),
    tasks: fc.array(taskSpec, { maxLength: 8 }),
  })
  .map(({ repos, workers, tasks }): Command[] => [
    ...repos.map((r, i) => ({ kind: 'upsertRepo' as const, repo: i, ...r })),
    ...workers.map(({ spec }) => ({ kind: 'register' as const, worker: spec })),
    ...workers.flatMap(({ online }, i) =>
      online ? [{ kind: 'heartbeat' as const, worker: i, status: 'idle' as const }] : [],
    ),
    ...tasks.map((task) => ({ kind: 'createTask' as const, task })),
  ]);

const scenario = fc
  .tuple(world, fc.array(command, { maxLength: 60, size: 'max' }))
  .map(([setup, steps]) => ({ setup, steps }));

// ── the run: the engine under test plus what the test itself knows ─────────────────────────────

interface LeaseRow {
  id: string;
  task_id: string;
  worker_id: string;
  epoch: number;
  granted_at: number;
  ended_at: number | null;
}

/** What the test knows about a worker from the commands it issued, never from the engine. */
interface WorkerModel {
  spec: WorkerSpec;
  lastHeartbeatAt: number | null;
  reported: WorkerReportedStatus;
  pausedByAdmin: boolean;
}

/** A task as replayed from the event log, plus the facts the test gave it at creation. */
interface TaskModel {
  spec: TaskSpec;
  repo: string;
  status: TaskStatus;
  assignee: string | null;
  grants: number;
  lastEpoch: number;
  lastVersion: number;
  releasedBy: { worker: string; at: number } | null;
}

/** Thrown when a safety invariant fails; the message names the invariant and the facts. */
class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

function check(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new InvariantViolation(message());
}

const lower = (skills: readonly string[]) => skills.map((s) => s.trim().toLowerCase());
const repoKey = (i: number) => `repo-${i}`;

/** What one command freed or created, and so must have offered before it returned. */
class Freed {
  readonly tasks = new Set<string>();
  readonly workers = new Set<string>();
  readonly repos = new Set<string>();
  readonly areas = new Map<string, { repo: string; area: string }>();
}

class Run {
  readonly repoKeys: string[] = [];
  readonly workerIds: string[] = [];
  readonly taskIds: string[] = [];
  readonly workers = new Map<string, WorkerModel>();
  readonly tasks = new Map<string, TaskModel>();
  /** Task specs by id, known as soon as createTask returns, before its event is replayed. */
  readonly created = new Map<string, TaskSpec>();
  readonly repos = new Map<string, { max_open_prs: number; area_locks_enabled: boolean }>();
  lastSeq = 0;
  /** Seqs of the events a subscriber heard during the current command. */
  heard: number[] = [];
  /** What the current command made assignable, collected while its events are replayed. */
  freed = new Freed();

  constructor(readonly h: EngineHarness) {
    h.engine.onEvent((event) => this.heard.push(event.seq));
  }

  get now(): number {
    return this.h.clock.now();
  }

  pick<T>(items: readonly T[], i: number): T | undefined {
    return items.length === 0 ? undefined : items[i % items.length];
  }

  taskRow(id: string): TaskRow {
    return this.h.driver.get<TaskRow>('SELECT * FROM tasks WHERE id = $id', { id })!;
  }

  leaseHistory(): LeaseRow[] {
    return this.h.driver.all<LeaseRow>('SELECT * FROM leases ORDER BY rowid');
  }

  pickLease({ from, i }: LeasePick): LeaseRow | undefined {
    const leases = this.leaseHistory();
    return this.pick(from === 'live' ? leases.filter((l) => l.ended_at === null) : leases, i);
  }

  /** Everything a refused command must leave exactly as it was. */
  snapshot(): string {
    const d = this.h.driver;
    return JSON.stringify([
      d.all('SELECT * FROM tasks ORDER BY id'),
      d.all('SELECT * FROM leases ORDER BY id'),
      d.all('SELECT * FROM workers ORDER BY id'),
      d.all('SELECT * FROM repos ORDER BY key'),
      d.all('SELECT * FROM skill_sets ORDER BY id'),
      d.get('SELECT COUNT(*) AS n, MAX(seq) AS last FROM events'),
    ]);
  }
}

/** What a command must do, decided from the database before it runs. */
type Expectation = { must: 'succeed' } | { must: 'fail'; codes: readonly string[]; why: string };

interface Prepared {
  expectation: Expectation;
  act: () => unknown;
  /** Updates the test's own knowledge after the command succeeded. */
  onSuccess?: (result: unknown) => void;
  /** Checks that only hold right after this kind of command. */
  after?: () => void;
}

const SUCCEED: Expectation = { must: 'succeed' };
const transitionFor = (allowed: boolean): Expectation =>
  allowed ? SUCCEED : { must: 'fail', codes: ['invalid_transition'], why: 'edge not in graph' };

/** Turns a command into an action plus what it must do; undefined when it names nothing yet. */
function prepare(run: Run, cmd: Command): Prepared | undefined {
  const { engine } = run.h;
  switch (cmd.kind) {
    case 'upsertRepo': {
      const repo = run.pick(run.repoKeys, cmd.repo) ?? repoKey(cmd.repo);
      const { kind: _kind, repo: _repo, ...settings } = cmd;
      return {
        expectation: SUCCEED,
        act: () => engine.upsertRepo({ repo, ...settings }),
        onSuccess: () => {
          if (!run.repoKeys.includes(repo)) run.repoKeys.push(repo);
        },
      };
    }
    case 'register':
      return {
        expectation: SUCCEED,
        act: () => engine.registerWorker(cmd.worker),
        onSuccess: (result) => {
          const { worker_id } = result as { worker_id: string };
          run.workerIds.push(worker_id);
          run.workers.set(worker_id, {
            spec: cmd.worker,
            lastHeartbeatAt: null,
            reported: 'idle',
            pausedByAdmin: false,
          });
        },
      };
    case 'heartbeat': {
      const worker = run.pick(run.workerIds, cmd.worker);
      if (!worker) return undefined;
      return {
        expectation: SUCCEED,
        act: () => engine.heartbeat(worker, { status: cmd.status }),
        onSuccess: () => {
          const model = run.workers.get(worker)!;
          model.lastHeartbeatAt = run.now;
          model.reported = cmd.status;
        },
      };
    }
    case 'pause':
    case 'resume': {
      const worker = run.pick(run.workerIds, cmd.worker);
      if (!worker) return undefined;
      return {
        expectation: SUCCEED,
        act: () =>
          cmd.kind === 'pause' ? engine.pauseWorker(worker) : engine.resumeWorker(worker),
        onSuccess: () => {
          run.workers.get(worker)!.pausedByAdmin = cmd.kind === 'pause';
        },
      };
    }
    case 'getWork': {
      const worker = run.pick(run.workerIds, cmd.worker);
      if (!worker) return undefined;
      return {
        expectation: SUCCEED,
        act: () => engine.getWork(worker),
        after: () => {
          // GET /work fills the worker: afterwards no ready task is one it could take.
          for (const task of readyTaskIds(run)) noEligibleGrantLeft(run, task, worker, 'getWork');
        },
      };
    }
    case 'createTask': {
      const { repo: repoIndex, ...fields } = cmd.task;
      const repo = repoIndex === 'ghost' ? 'ghost' : (run.pick(run.repoKeys, repoIndex) ?? 'ghost');
      return {
        expectation:
          repo === 'ghost'
            ? { must: 'fail', codes: ['unknown_repo'], why: 'repo was never created' }
            : SUCCEED,
        act: () => engine.createTask({ repo, title: 'Generated task', ...fields }),
        onSuccess: (result) => {
          const created = (result as { task_id: string }).task_id;
          run.taskIds.push(created);
          run.created.set(created, cmd.task);
        },
      };
    }
    case 'updateTask': {
      // Only ready tasks are edited. Of held work, an edit the holder could not keep (an area
      // another task holds, points past its room) is refused (basics contract cases); the rest
      // (skills, tier) is an admin's right, but would break the steady-state checks.
      const taskId = run.pick(readyTaskIds(run), cmd.task);
      if (!taskId) return undefined;
      const { version } = run.taskRow(taskId);
      const expected = { current: version, stale: version + 1, omit: undefined }[cmd.version];
      return {
        expectation:
          cmd.version === 'stale'
            ? { must: 'fail', codes: ['stale_version'], why: 'edit based on another version' }
            : SUCCEED,
        act: () => engine.updateTask(taskId, { ...cmd.edit, expected_version: expected }),
        onSuccess: () => {
          const model = run.tasks.get(taskId);
          if (model) model.spec = { ...model.spec, ...cmd.edit };
        },
      };
    }
    case 'status':
      return prepareStatusWrite(run, cmd);
    case 'renew':
    case 'release':
      return prepareLeaseWrite(run, cmd);
    case 'requeue':
    case 'cancel':
    case 'markMerged': {
      const taskId = run.pick(run.taskIds, cmd.task);
      if (!taskId) return undefined;
      const { status } = run.taskRow(taskId);
      const allowed = {
        requeue: IN_BUDGET.includes(status),
        cancel: NON_TERMINAL.includes(status),
        markMerged: status === 'pr_opened',
      }[cmd.kind];
      const act = {
        requeue: () => engine.requeueTask(taskId),
        cancel: () => engine.cancelTask(taskId),
        markMerged: () => engine.markMerged(taskId),
      }[cmd.kind];
      return { expectation: transitionFor(allowed), act };
    }
    case 'advance':
      return { expectation: SUCCEED, act: () => run.h.clock.advance(cmd.ms) };
    case 'sweep':
      return {
        expectation: SUCCEED,
        act: () => engine.sweep(),
        after: () => {
          const lapsed = run.h.driver.all<{ id: string }>(
            `SELECT id FROM tasks WHERE status IN ('leased', 'in_progress', 'blocked')
               AND lease_expires_at <= $now`,
            { now: run.now },
          );
          check(
            lapsed.length === 0,
            () => `sweep left expired leases on ${JSON.stringify(lapsed)}`,
          );
        },
      };
    case 'assignAll':
      return {
        expectation: SUCCEED,
        act: () => engine.assignAll(),
        after: () => {
          // The full cycle stops only when no ready task is eligible for any worker.
          for (const task of readyTaskIds(run)) {
            for (const worker of run.workerIds) noEligibleGrantLeft(run, task, worker, 'assignAll');
          }
        },
      };
  }
}

/**
 * Whether `worker` may write about `task` under the given lease id / epoch right now, by the rules
 * of DESIGN.md: it is the assignee, the lease is the task's current one (same id, same epoch), and
 * the lease has not expired.
 */
function fenceHolds(
  run: Run,
  task: TaskRow,
  worker: string,
  leaseId: string | undefined,
  epoch: number | undefined,
): boolean {
  return (
    task.assignee === worker &&
    task.lease_id !== null &&
    (leaseId === undefined || leaseId === task.lease_id) &&
    (epoch === undefined || epoch === task.lease_epoch) &&
    (task.lease_expires_at === null || task.lease_expires_at > run.now)
  );
}

function prepareStatusWrite(run: Run, cmd: Extract<Command, { kind: 'status' }>) {
  const lease = cmd.lease === null ? undefined : run.pickLease(cmd.lease);
  const taskId = lease?.task_id ?? run.pick(run.taskIds, cmd.task);
  if (!taskId) return undefined;
  const task = run.taskRow(taskId);
  const worker =
    cmd.actor === 'holder'
      ? (lease?.worker_id ?? task.assignee ?? run.workerIds[0])
      : run.pick(run.workerIds, cmd.actor);
  if (!worker) return undefined;
  const leaseId = lease && cmd.fence.sendLeaseId ? lease.id : undefined;
  const base = lease?.epoch ?? task.lease_epoch;
  const epoch = {
    omit: undefined,
    same: base,
    older: base - 1,
    newer: base + 1,
  }[cmd.fence.epoch];
  const sentEpoch = epoch === undefined ? undefined : Math.max(1, epoch);
  const to = cmd.to === 'next' ? (NEXT_STEP[task.status] ?? 'in_progress') : cmd.to;
  const request = {
    status: to,
    lease_id: leaseId,
    epoch: sentEpoch,
    artifact: cmd.withPrUrl ? { pr_url: `https://example.test/pr/${task.lease_epoch}` } : undefined,
  };
  let expectation: Expectation;
  const repeatsItsMerge =
    to === 'merged' &&
    task.status === 'merged' &&
    task.lease_id === null &&
    task.assignee === worker &&
    (sentEpoch === undefined || sentEpoch === task.lease_epoch) &&
    (leaseId === undefined || (lease!.worker_id === worker && lease!.epoch === task.lease_epoch));
  if (repeatsItsMerge) {
    expectation = SUCCEED; // the last holder's retried report: acknowledged, nothing written
  } else if (!fenceHolds(run, task, worker, leaseId, sentEpoch)) {
    expectation = { must: 'fail', codes: FENCE_ERRORS, why: 'stale, foreign or expired lease' };
  } else if (to === task.status) {
    expectation = SUCCEED; // a repeated report is acknowledged
  } else {
    expectation = transitionFor(WORKER_MOVES[task.status].includes(to));
  }
  return {
    expectation,
    act: () => run.h.engine.updateStatus(worker, taskId, request),
  } satisfies Prepared;
}

function prepareLeaseWrite(run: Run, cmd: Extract<Command, { kind: 'renew' | 'release' }>) {
  const lease = run.pickLease(cmd.lease);
  if (!lease) return undefined;
  const worker = cmd.actor === 'holder' ? lease.worker_id : run.pick(run.workerIds, cmd.actor)!;
  const leaseId = cmd.bogusId ? 'l_never_granted' : lease.id;
  const task = run.taskRow(lease.task_id);
  let expectation: Expectation;
  if (cmd.bogusId) {
    expectation = { must: 'fail', codes: ['lease_not_found'], why: 'no such lease' };
  } else if (lease.worker_id !== worker || !fenceHolds(run, task, worker, leaseId, lease.epoch)) {
    expectation = { must: 'fail', codes: FENCE_ERRORS, why: 'stale, foreign or expired lease' };
  } else if (cmd.kind === 'renew') {
    // Only a lease that can still expire can be renewed; a PR's lease has no expiry.
    expectation = transitionFor(HOLDING.includes(task.status));
  } else {
    expectation = transitionFor(IN_BUDGET.includes(task.status));
  }
  const { engine } = run.h;
  return {
    expectation,
    act: () =>
      cmd.kind === 'renew'
        ? engine.renewLease(worker, leaseId)
        : engine.releaseLease(worker, leaseId, { reason: 'generated' }),
  } satisfies Prepared;
}

function readyTaskIds(run: Run): string[] {
  return run.h.driver
    .all<{ id: string }>(`SELECT id FROM tasks WHERE status = 'ready' ORDER BY id`)
    .map((r) => r.id);
}

function noEligibleGrantLeft(run: Run, task: string, worker: string, after: string): void {
  const reason = run.h.engine.explainIneligibility(task, worker);
  check(
    reason !== null,
    () => `after ${after}, ready task ${task} is still eligible for worker ${worker}`,
  );
}

// ── invariants ───────────────────────────────────────────────────────────────────────────────

/**
 * Replays the events the last command appended into the test's model, checking the grant-time
 * rules (3, 4, 6) at each grant and the event log's own shape (7) as it goes.
 */
function replayNewEvents(run: Run): void {
  const events = run.h.engine.events({ after: run.lastSeq, limit: 5000 });
  for (const event of events) {
    check(
      event.seq > run.lastSeq,
      () => `7: event seq ${event.seq} does not follow ${run.lastSeq}`,
    );
    run.lastSeq = event.seq;
    applyEvent(run, event);
  }
}

function applyEvent(run: Run, event: OwpEvent): void {
  switch (event.type) {
    case 'repo.upserted':
      run.repos.set(event.repo!, event.data);
      run.freed.repos.add(event.repo!);
      return;
    case 'task.created': {
      const spec = run.created.get(event.task_id!);
      check(spec !== undefined, () => `7: task.created for unknown task ${event.task_id}`);
      run.tasks.set(event.task_id!, {
        spec,
        repo: event.repo!,
        status: 'ready',
        assignee: null,
        grants: 0,
        lastEpoch: 0,
        lastVersion: 1,
        releasedBy: null,
      });
      run.freed.tasks.add(event.task_id!);
      return;
    }
    case 'task.updated':
      run.freed.tasks.add(event.task_id!);
      return;
    case 'worker.online':
    case 'worker.resumed':
      run.freed.workers.add(event.worker_id!);
      return;
    case 'worker.status_changed':
      if (event.data.from === 'paused') run.freed.workers.add(event.worker_id!);
      return;
    case 'task.status_changed': {
      const task = run.tasks.get(event.task_id!);
      check(task !== undefined, () => `7: status change of unknown task ${event.task_id}`);
      const { from, to, cause, epoch, version } = event.data;
      const where = `event ${event.seq} (${cause} of ${event.task_id})`;
      check(from === task.status, () => `7: ${where} says from ${from}, task was ${task.status}`);
      check(
        EDGES[cause].from.includes(from) && EDGES[cause].to === to,
        () => `7: ${where} moves ${from} -> ${to}, not an edge of the lifecycle`,
      );
      check(version > task.lastVersion, () => `7: ${where} has version ${version} not increasing`);
      task.lastVersion = version;
      if (cause === 'grant') {
        checkGrant(run, event.task_id!, task, event.worker_id!, epoch, where);
        task.assignee = event.worker_id;
        task.grants++;
        task.lastEpoch = epoch;
      } else {
        check(
          epoch === task.lastEpoch,
          () => `1: ${where} carries epoch ${epoch}, lease was ${task.lastEpoch}`,
        );
      }
      noteWhatWasFreed(run, event.task_id!, task, event.data);
      if (cause === 'release') task.releasedBy = { worker: task.assignee!, at: run.now };
      if (cause === 'expire' || cause === 'requeue') task.releasedBy = null;
      if (to === 'ready') task.assignee = null;
      task.status = to;
      return;
    }
    default:
      return;
  }
}

/**
 * What a status change frees: the task itself when it returns to the queue; a review-budget slot
 * when it leaves the budget; its area when it stops holding a lease; and its worker's room when
 * the worker made progress (not when it let go or went silent: those are not offered more work).
 */
function noteWhatWasFreed(
  run: Run,
  taskId: string,
  task: TaskModel,
  change: { from: TaskStatus; to: TaskStatus; cause: TransitionCause },
): void {
  const { from, to, cause } = change;
  const freed = run.freed;
  if (to === 'ready') freed.tasks.add(taskId);
  if (IN_BUDGET.includes(from) && !IN_BUDGET.includes(to)) freed.repos.add(task.repo);
  if (HOLDING.includes(from) && !HOLDING.includes(to)) {
    if (task.spec.area !== null) {
      const key = `${task.repo}\n${task.spec.area}`;
      freed.areas.set(key, { repo: task.repo, area: task.spec.area });
    }
    if (cause !== 'expire' && cause !== 'release' && task.assignee !== null) {
      freed.workers.add(task.assignee);
    }
  }
}

/**
 * Assignment runs inside the write that made something assignable, so whatever the command freed
 * or created must be taken by the time it returns, if anyone may take it: each freed or new task,
 * the whole queue of each repo whose budget freed, the tasks waiting on each freed area, and the
 * best task for each worker that came online, was resumed or finished a piece of work. (Within one
 * write, assignment only grants, and a grant never makes another grant possible, so checking at
 * the end is exact.)
 */
function checkFreedWasOffered(run: Run): void {
  const freed = run.freed;
  const ready = run.h.driver.all<{ id: string; repo: string; area: string | null }>(
    `SELECT id, repo, area FROM tasks WHERE status = 'ready' ORDER BY id`,
  );
  const mustBeTaken = new Map<string, string>();
  for (const task of ready) {
    if (freed.tasks.has(task.id)) mustBeTaken.set(task.id, 'it was freed or created');
    if (freed.repos.has(task.repo)) mustBeTaken.set(task.id, `repo ${task.repo} was freed`);
    if (task.area !== null && freed.areas.has(`${task.repo}\n${task.area}`)) {
      mustBeTaken.set(task.id, `area ${task.repo}/${task.area} was freed`);
    }
  }
  for (const [task, why] of mustBeTaken) {
    for (const worker of run.workerIds) {
      const reason = run.h.engine.explainIneligibility(task, worker);
      check(
        reason !== null,
        () => `ready task ${task} is still eligible for ${worker}, though ${why}`,
      );
    }
  }
  for (const worker of freed.workers) {
    for (const task of ready) {
      const reason = run.h.engine.explainIneligibility(task.id, worker);
      check(
        reason !== null,
        () => `worker ${worker} came free but ready task ${task.id} is still eligible for it`,
      );
    }
  }
}

/** The rules about the moment of a grant, against the state just before it. */
function checkGrant(
  run: Run,
  taskId: string,
  task: TaskModel,
  workerId: string,
  epoch: number,
  where: string,
): void {
  const now = run.now;
  const others = [...run.tasks.entries()].filter(([id]) => id !== taskId).map(([, t]) => t);
  const repo = run.repos.get(task.repo)!;

  check(epoch > task.lastEpoch, () => `1: ${where} epoch ${epoch} after ${task.lastEpoch}`);

  const inFlight = others.filter((t) => t.repo === task.repo && IN_BUDGET.includes(t.status));
  check(
    inFlight.length < repo.max_open_prs,
    () => `3: ${where} with ${inFlight.length} in flight and max_open_prs ${repo.max_open_prs}`,
  );

  if (repo.area_locks_enabled && task.spec.area !== null) {
    const holder = others.find(
      (t) => t.repo === task.repo && t.spec.area === task.spec.area && HOLDING.includes(t.status),
    );
    check(holder === undefined, () => `4: ${where} in locked area ${task.spec.area}`);
  }

  const worker = run.workers.get(workerId);
  check(worker !== undefined, () => `6: ${where} to unknown worker ${workerId}`);
  const to = `${where} to ${workerId}`;
  check(
    worker.lastHeartbeatAt !== null && now - worker.lastHeartbeatAt < CONFIG.heartbeatTtlMs,
    () => `6: ${to}, which is offline (last heartbeat ${worker.lastHeartbeatAt}, now ${now})`,
  );
  check(!worker.pausedByAdmin && worker.reported !== 'paused', () => `6: ${to}, which is paused`);
  const skills = new Set(lower(worker.spec.skills));
  const missing = lower(task.spec.required_skills).filter((s) => !skills.has(s));
  check(missing.length === 0, () => `6: ${to}, which lacks ${missing.join(', ')}`);
  check(
    task.spec.tier <= BASIC_MAX_TIER,
    () => `6: ${to}, a basic worker, of tier ${task.spec.tier}`,
  );
  const load = others.filter((t) => t.assignee === workerId && HOLDING.includes(t.status));
  const points = load.reduce((sum, t) => sum + t.spec.estimate_points, 0);
  check(
    points + task.spec.estimate_points <= worker.spec.capacity_points,
    () => `2: ${to} needing ${task.spec.estimate_points} points with ${points} in use`,
  );
  check(
    load.length < worker.spec.max_concurrent_tasks,
    () => `2: ${to} already holding ${load.length} tasks`,
  );
  const released = task.releasedBy;
  check(
    !(released?.worker === workerId && now - released.at < CONFIG.releaseCooldownMs),
    () => `6: ${to}, which released it ${now - (released?.at ?? 0)} ms ago`,
  );
}

/** The invariants that hold of every state the database is ever in. */
function checkState(run: Run): void {
  const { driver } = run.h;
  const tasks = driver.all<TaskRow>('SELECT * FROM tasks ORDER BY id');
  const leases = run.leaseHistory();

  // 7: the replayed event log says exactly what the tasks table says.
  check(
    tasks.length === run.tasks.size,
    () => `7: ${tasks.length} tasks but ${run.tasks.size} task.created events`,
  );
  for (const row of tasks) {
    const model = run.tasks.get(row.id)!;
    check(
      model.status === row.status,
      () => `7: task ${row.id} is ${row.status} but its events say ${model.status}`,
    );
    check(row.version >= model.lastVersion, () => `7: task ${row.id} version went back`);
  }
  // 7 also: the pool's counts by status, kept from the log, are the table's.
  const state = run.h.engine.state() as unknown as Record<string, number>;
  for (const status of TASK_STATUSES) {
    const n = tasks.filter((t) => t.status === status).length;
    check(
      state[`tasks_${status}`] === n,
      () => `7: state() counts ${state[`tasks_${status}`]} ${status} tasks, the table ${n}`,
    );
  }

  // 1: one live lease per task, the assignee's, at the task's epoch; epochs grow per task.
  for (const row of tasks) {
    const own = leases.filter((l) => l.task_id === row.id);
    const live = own.filter((l) => l.ended_at === null);
    const model = run.tasks.get(row.id)!;
    check(live.length <= 1, () => `1: task ${row.id} has ${live.length} un-ended leases`);
    check(
      own.length === model.grants,
      () => `1: task ${row.id} has ${own.length} leases for ${model.grants} grant events`,
    );
    for (let i = 1; i < own.length; i++) {
      check(
        own[i]!.epoch > own[i - 1]!.epoch,
        () => `1: task ${row.id} lease epochs not increasing`,
      );
    }
    check(
      row.lease_epoch === (own.at(-1)?.epoch ?? 0),
      () =>
        `1: task ${row.id} is at epoch ${row.lease_epoch}, its last lease at ${own.at(-1)?.epoch}`,
    );
    if (IN_BUDGET.includes(row.status)) {
      const lease = live[0];
      check(
        lease !== undefined && lease.id === row.lease_id,
        () => `1: ${row.status} task ${row.id} has lease ${row.lease_id} but live ${lease?.id}`,
      );
      check(
        row.assignee === lease.worker_id && row.assignee === model.assignee,
        () => `1: task ${row.id} assigned to ${row.assignee}, lease held by ${lease.worker_id}`,
      );
    } else {
      check(
        live.length === 0 && row.lease_id === null,
        () => `1: ${row.status} task ${row.id} still has a live lease`,
      );
    }
    if (row.status === 'ready') {
      check(row.assignee === null, () => `1: ready task ${row.id} assigned to ${row.assignee}`);
    }
  }

  // 2: no worker holds more than it declared; its counters match its tasks, and its stored
  // reputation is the one its outcome counts give.
  const workers = driver.all<
    {
      id: string;
      capacity_points: number;
      max_concurrent_tasks: number;
      points_in_use: number;
      active_tasks: number;
      reputation: number;
    } & Required<OutcomeStats>
  >('SELECT * FROM workers ORDER BY id');
  for (const worker of workers) {
    const held = tasks.filter((t) => t.assignee === worker.id && HOLDING.includes(t.status));
    const points = held.reduce((sum, t) => sum + t.estimate_points, 0);
    check(
      points <= worker.capacity_points && held.length <= worker.max_concurrent_tasks,
      () =>
        `2: worker ${worker.id} holds ${held.length} tasks / ${points} points, ` +
        `declared ${worker.max_concurrent_tasks} / ${worker.capacity_points}`,
    );
    check(
      worker.points_in_use === points && worker.active_tasks === held.length,
      () =>
        `2: worker ${worker.id} counters say ${worker.active_tasks} tasks / ` +
        `${worker.points_in_use} points, its tasks say ${held.length} / ${points}`,
    );
    check(
      worker.reputation === reputationOf(worker),
      () =>
        `2: worker ${worker.id} reputation ${worker.reputation}, its counts give ${reputationOf(worker)}`,
    );
  }

  // 3: each repo's kept budget count is what its tasks say.
  for (const repo of driver.all<{ key: string; budget_used: number }>(
    'SELECT key, budget_used FROM repos ORDER BY key',
  )) {
    const inBudget = tasks.filter((t) => t.repo === repo.key && IN_BUDGET.includes(t.status));
    check(
      repo.budget_used === inBudget.length,
      () => `3: repo ${repo.key} counter says ${repo.budget_used}, its tasks ${inBudget.length}`,
    );
  }
}

// ── the interpreter ──────────────────────────────────────────────────────────────────────────

function describeCommand(cmd: Command, step: number): string {
  return `step ${step}: ${JSON.stringify(cmd)}`;
}

/** Runs one command, then checks it did what it must and every invariant still holds. */
function step(run: Run, cmd: Command, n: number): void {
  const prepared = prepare(run, cmd);
  if (!prepared) return;
  run.freed = new Freed();
  run.heard = [];
  const firstNewSeq = run.lastSeq;
  // Only a command that may be refused needs the before-picture; one that must succeed fails anyway.
  const before = prepared.expectation.must === 'succeed' ? '' : run.snapshot();
  let result: unknown;
  let refused: OwpError | undefined;
  try {
    result = prepared.act();
  } catch (error) {
    if (!(error instanceof OwpError)) {
      throw new Error(`${describeCommand(cmd, n)} threw a non-OwpError: ${String(error)}`, {
        cause: error,
      });
    }
    refused = error;
  }
  const { expectation } = prepared;
  const at = () => describeCommand(cmd, n);
  if (refused) {
    check(
      expectation.must === 'fail',
      () => `${at()} must succeed but threw ${refused.code}: ${refused.message}`,
    );
    check(
      expectation.codes.includes(refused.code),
      () => `${at()} threw ${refused.code}; expected one of ${expectation.codes.join(', ')}`,
    );
    // 5: a refused write changes nothing: no row, no version, no event.
    check(run.snapshot() === before, () => `5: ${at()} threw ${refused.code} but changed state`);
  } else {
    check(
      expectation.must === 'succeed',
      () => `5: ${at()} must be refused (${expectation.must === 'fail' ? expectation.why : ''})`,
    );
    prepared.onSuccess?.(result);
  }
  try {
    replayNewEvents(run);
    // 7: subscribers hear every committed event once, in order, and nothing that rolled back.
    const logged = run.h.engine.events({ after: firstNewSeq, limit: 5000 }).map((e) => e.seq);
    check(
      JSON.stringify(run.heard) === JSON.stringify(logged),
      () => `7: listeners heard [${run.heard.join(', ')}], the log has [${logged.join(', ')}]`,
    );
    checkState(run);
    prepared.after?.();
    checkFreedWasOffered(run);
  } catch (error) {
    if (error instanceof InvariantViolation) error.message = `${at()}: ${error.message}`;
    throw error;
  }
}

/** Runs per driver; raise it (OWP_PROPERTY_RUNS=5000) to search harder for a counterexample. */
const NUM_RUNS = Number(process.env.OWP_PROPERTY_RUNS ?? 100);

/** Runs a command for its effect alone: refusals are fine, anything but an OwpError is not. */
function attempt(run: Run, cmd: Command): void {
  const prepared = prepare(run, cmd);
  if (!prepared) return;
  try {
    prepared.onSuccess?.(prepared.act());
  } catch (error) {
    if (!(error instanceof OwpError)) throw error;
  }
}

/**
 * Commands plus reactions: a subscriber that, on every `reactEvery`-th event, issues the next
 * reaction from inside its callback, as an agent on the embedded API reacting to news would (the
 * in-process API runs the engine synchronously, so such a call is a write nested in the delivery).
 */
const reentrantScenario = fc.record({
  setup: world,
  steps: fc.array(command, { maxLength: 30, size: 'max' }),
  reactions: fc.array(command, { minLength: 1, maxLength: 10 }),
  reactEvery: fc.integer({ min: 1, max: 3 }),
});

/** Property-based tests of the scheduler's safety invariants over random command interleavings. */
export function invariantCases(makeDriver: DriverFactory): void {
  describe('invariants under random interleavings', () => {
    it(
      'hold after every command: leases, capacity, review budget, area locks, fencing, eligibility, events',
      async () => {
        await fc.assert(
          fc.asyncProperty(scenario, async ({ setup, steps }) => {
            const run = new Run(await harness(makeDriver, CONFIG));
            try {
              [...setup, ...steps].forEach((cmd, n) => step(run, cmd, n));
            } finally {
              run.h.driver.close();
            }
          }),
          { numRuns: NUM_RUNS },
        );
      },
      Math.max(60_000, NUM_RUNS * 500),
    );
  });

  describe('event delivery to subscribers', () => {
    it(
      'reaches every subscriber once and in seq order, even when a subscriber writes while notified',
      async () => {
        await fc.assert(
          fc.asyncProperty(reentrantScenario, async ({ setup, steps, reactions, reactEvery }) => {
            const run = new Run(await harness(makeDriver, CONFIG));
            const pending = [...reactions];
            run.h.engine.onEvent((event) => {
              const reaction = event.seq % reactEvery === 0 ? pending.shift() : undefined;
              if (reaction) attempt(run, reaction);
            });
            try {
              for (const cmd of [...setup, ...steps]) attempt(run, cmd);
              const logged = run.h.engine.events({ limit: 5000 }).map((e) => e.seq);
              expect(run.heard).toEqual(logged);
            } finally {
              run.h.driver.close();
            }
          }),
          { numRuns: NUM_RUNS },
        );
      },
      Math.max(60_000, NUM_RUNS * 500),
    );

    // The property above, shrunk by hand to its smallest readable case.
    it('delivers one write’s events in seq order when a subscriber writes while notified', async () => {
      // Arrange: an idle worker, and a subscriber that reacts to a new task by reporting itself
      // busy, as an agent on the in-process API would.
      const h = await harness(makeDriver);
      h.repo();
      const worker = h.onlineWorker();
      h.engine.onEvent((event) => {
        if (event.type === 'task.created') h.engine.heartbeat(worker, { status: 'working' });
      });
      const heard: string[] = [];
      h.engine.onEvent((event) => heard.push(`${event.seq} ${eventName(event)}`));

      // Act: one write whose events are the task's creation and its grant to the worker.
      const before = h.engine.state().last_event_seq;
      h.task();

      // Assert: every subscriber hears what the log holds, in the log's order.
      const logged = h.engine
        .events({ after: before })
        .map((event) => `${event.seq} ${eventName(event)}`);
      expect(logged.map((line) => line.replace(/^\d+ /, ''))).toEqual([
        'task.created',
        'task.status_changed:grant',
        'worker.status_changed',
      ]);
      expect(heard).toEqual(logged);
    });
  });
}

function eventName(event: OwpEvent): string {
  return event.type === 'task.status_changed' ? `${event.type}:${event.data.cause}` : event.type;
}
