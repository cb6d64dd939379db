import type { DbFacts, LeaseFact } from '../support/db-facts.ts';
import { auditLeases, type LeaseAudit } from '../support/lease-audit.ts';
import type { CallRecord } from './call-history.ts';

export interface CrashCheckInput {
  /** Every client's history, concatenated. */
  calls: CallRecord[];
  db: DbFacts;
  /** The worker process killed for good, and when (ms since the epoch). */
  deadWorker?: { worker_id: string; diedAt: number };
  /** When the server was down: [killed, answering again]. */
  downtime: Array<[number, number]>;
  leaseTtlMs: number;
  sweepIntervalMs: number;
  /** Timer and event-loop jitter allowed on top of the bound. */
  slackMs: number;
  /**
   * The server's `OWP_HEARTBEAT_COALESCE_MS`: a heartbeat repeating one recorded less than this
   * before it is answered without a write, so the database may show that earlier one (0: none).
   */
  heartbeatCoalesceMs?: number;
}

export interface CrashCheckReport {
  acknowledged: {
    registrations: number;
    creations: number;
    statusUpdates: number;
    releases: number;
    heartbeats: number;
    total: number;
  };
  /** Acknowledged writes missing from the database (or present with other content). */
  lost: string[];
  /** Tasks created twice from one creation. */
  duplicated: string[];
  /** Tasks in the database no client ever asked for. */
  phantom: string[];
  /** Acknowledged status writes whose task later went backwards under the same lease. */
  regressed: string[];
  /** Leases a client was shown that the database gives to another worker or epoch. */
  misattributed: string[];
  leaseAudit: LeaseAudit;
  deadWorker: {
    leases: number;
    notRequeued: string[];
    late: string[];
    /** The largest (ended_at − bound) seen; negative means every requeue beat its bound. */
    worstMarginMs: number | null;
    /** The longest time from the worker's death to the requeue of one of its leases. */
    slowestRequeueMs: number | null;
  };
  serverErrors: string[];
  createAttempts: number;
  /** Creations sent but cut off by a kill, that the server had applied anyway. */
  unacknowledgedButApplied: number;
}

const RANK: Record<string, number> = {
  leased: 1,
  in_progress: 2,
  blocked: 2,
  pr_opened: 3,
  merged: 4,
};

/** Milliseconds of [from, to] during which the server was down. */
export function downtimeWithin(
  downtime: Array<[number, number]>,
  from: number,
  to: number,
): number {
  let total = 0;
  for (const [down, up] of downtime) total += Math.max(0, Math.min(up, to) - Math.max(down, from));
  return total;
}

/**
 * Checks a crash run: the client-side histories of acknowledged calls against the final database.
 * Pure, so its own tests can feed it a lost write, a duplicate or an overlap and watch it object.
 */
export function checkCrashRun(input: CrashCheckInput): CrashCheckReport {
  const { calls, db } = input;
  const ok = (call: CallRecord) => call.http === 200 || call.http === 201;
  const report: CrashCheckReport = {
    acknowledged: {
      registrations: 0,
      creations: 0,
      statusUpdates: 0,
      releases: 0,
      heartbeats: 0,
      total: 0,
    },
    lost: [],
    duplicated: [],
    phantom: [],
    regressed: [],
    misattributed: [],
    leaseAudit: auditLeases(db.leases, db.tasks, db.leaseEvents),
    deadWorker: {
      leases: 0,
      notRequeued: [],
      late: [],
      worstMarginMs: null,
      slowestRequeueMs: null,
    },
    serverErrors: calls
      .filter((call) => call.http >= 500)
      .map((call) => `${call.actor} ${call.method} ${call.path} → ${call.http}`),
    createAttempts: 0,
    unacknowledgedButApplied: 0,
  };
  const tasksById = new Map(db.tasks.map((task) => [task.id, task]));
  const workersById = new Map(db.workers.map((worker) => [worker.id, worker]));
  const leasesById = new Map<string, LeaseFact>(db.leases.map((lease) => [lease.id, lease]));
  const statusEvents = new Set(
    db.leaseEvents
      .filter((event) => event.type === 'task.status_changed')
      .map((event) => `${event.task_id} ${event.lease_id} ${event.to} ${event.cause}`),
  );

  // Registrations and heartbeats.
  for (const call of calls.filter((c) => ok(c) && c.op === 'register')) {
    report.acknowledged.registrations++;
    const { worker_id } = call.response as { worker_id: string };
    if (!workersById.has(worker_id))
      report.lost.push(`registration of ${worker_id} (${call.actor})`);
  }
  for (const call of calls.filter((c) => ok(c) && c.op === 'heartbeat')) {
    report.acknowledged.heartbeats++;
    const at = Date.parse((call.response as { server_time: string }).server_time);
    const seen = workersById.get(call.worker_id ?? '')?.last_heartbeat_at ?? null;
    // Kept: recorded at `at` or later, or answered without a write because one was recorded less
    // than the coalescing window before it.
    const kept = seen !== null && (seen >= at || at - seen < (input.heartbeatCoalesceMs ?? 0));
    if (!kept) {
      report.lost.push(`heartbeat of ${call.worker_id} at ${at} (database has ${seen})`);
    }
  }

  // Task creations: every acknowledged one present with its title; no title twice; no stranger.
  const attempted = new Set<string>();
  for (const call of calls.filter((c) => c.op === 'create_attempt')) {
    report.createAttempts++;
    attempted.add((call.body as { title: string }).title);
  }
  const acknowledgedIds = new Map<string, string>();
  for (const call of calls.filter((c) => ok(c) && c.op === 'create')) {
    report.acknowledged.creations++;
    const { task_id } = call.response as { task_id: string };
    const title = (call.body as { title: string }).title;
    if (acknowledgedIds.has(task_id))
      report.duplicated.push(`task id ${task_id} acknowledged twice`);
    acknowledgedIds.set(task_id, title);
    const task = tasksById.get(task_id);
    if (!db.createdEvents.has(task_id))
      report.lost.push(`creation of ${task_id}: no event records it`);
    if (!task) report.lost.push(`creation of ${task_id} (${title})`);
    else if (task.title !== title)
      report.lost.push(`creation of ${task_id}: title ${task.title}, sent ${title}`);
  }
  const titles = new Map<string, number>();
  for (const task of db.tasks) titles.set(task.title, (titles.get(task.title) ?? 0) + 1);
  for (const [title, count] of titles) {
    if (count > 1) report.duplicated.push(`${count} tasks titled ${title}`);
    if (!attempted.has(title)) report.phantom.push(`task titled ${title}`);
  }
  report.unacknowledgedButApplied = db.tasks.filter((task) => !acknowledgedIds.has(task.id)).length;

  // Status writes and releases made under a named lease.
  for (const call of calls.filter((c) => ok(c) && c.op === 'status')) {
    report.acknowledged.statusUpdates++;
    const body = call.body as { status: string; lease_id: string; epoch: number };
    const taskId = call.path.split('/')[3]!;
    const cause = { in_progress: 'start', blocked: 'block', pr_opened: 'open_pr', merged: 'merge' }[
      body.status
    ];
    const what = `${body.status} on ${taskId} under ${body.lease_id}`;
    if (!statusEvents.has(`${taskId} ${body.lease_id} ${body.status} ${cause}`)) {
      report.lost.push(`${what}: no event records it`);
      continue;
    }
    const lease = leasesById.get(body.lease_id);
    const task = tasksById.get(taskId);
    if (!lease || !task) {
      report.lost.push(`${what}: lease or task missing`);
      continue;
    }
    if (lease.ended_at === null) {
      if (task.lease_id !== lease.id || (RANK[task.status] ?? 0) < RANK[body.status]!) {
        report.regressed.push(`${what}: task is ${task.status} under ${task.lease_id}`);
      }
    } else if (lease.end_cause === 'merge' && task.status !== 'merged') {
      report.regressed.push(`${what}: lease ended by merge but task is ${task.status}`);
    }
  }
  for (const call of calls.filter((c) => ok(c) && c.op === 'release')) {
    report.acknowledged.releases++;
    const leaseId = call.path.split('/')[3]!;
    const lease = leasesById.get(leaseId);
    if (!lease || lease.end_cause !== 'release') {
      report.lost.push(`release of ${leaseId}: lease ended by ${lease?.end_cause ?? 'nothing'}`);
    } else if (!statusEvents.has(`${lease.task_id} ${leaseId} ready release`)) {
      report.lost.push(`release of ${leaseId}: no event records it`);
    }
  }
  const a = report.acknowledged;
  a.total = a.registrations + a.creations + a.statusUpdates + a.releases + a.heartbeats;

  // What clients were shown about their leases matches the database.
  for (const call of calls.filter((c) => ok(c) && c.op === 'work')) {
    for (const shown of (
      call.response as { leases: Array<{ lease_id: string; epoch: number; task_id: string }> }
    ).leases) {
      const lease = leasesById.get(shown.lease_id);
      if (
        !lease ||
        lease.worker_id !== call.worker_id ||
        lease.epoch !== shown.epoch ||
        lease.task_id !== shown.task_id
      ) {
        report.misattributed.push(
          `${call.worker_id} was shown ${shown.lease_id} (epoch ${shown.epoch})`,
        );
      }
    }
  }

  // Every lease of the dead worker requeued within its TTL plus one sweep (plus server downtime).
  if (input.deadWorker) {
    const { worker_id, diedAt } = input.deadWorker;
    for (const lease of db.leases.filter((l) => l.worker_id === worker_id)) {
      if (lease.ended_at !== null && lease.ended_at <= diedAt) continue; // ended while it lived
      report.deadWorker.leases++;
      if (lease.ended_at === null || lease.end_cause !== 'expire') {
        report.deadWorker.notRequeued.push(
          `${lease.id} on ${lease.task_id}: ${lease.end_cause ?? 'still open'}`,
        );
        continue;
      }
      const from = Math.max(diedAt, lease.granted_at);
      const bound =
        from +
        input.leaseTtlMs +
        input.sweepIntervalMs +
        downtimeWithin(input.downtime, from, lease.ended_at) +
        input.slackMs;
      const margin = lease.ended_at - bound;
      const dead = report.deadWorker;
      dead.worstMarginMs = Math.max(dead.worstMarginMs ?? margin, margin);
      dead.slowestRequeueMs = Math.max(dead.slowestRequeueMs ?? 0, lease.ended_at - diedAt);
      if (margin > 0)
        report.deadWorker.late.push(`${lease.id}: requeued ${margin} ms past its bound`);
    }
  }
  return report;
}
