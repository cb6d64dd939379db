import type { LeaseEventFact, LeaseFact, TaskFact } from './db-facts.ts';

/** Causes that end the lease they name. */
const ENDING_CAUSES = new Set(['merge', 'expire', 'release', 'requeue', 'cancel']);
/** How far apart two clock reads of one transaction may be. */
const SAME_TRANSACTION_MS = 250;

/** What the lease history of a database says about fencing. Every list must be empty. */
export interface LeaseAudit {
  leasesChecked: number;
  eventsChecked: number;
  /** Two leases of one task whose lifetimes overlap: a task held by two workers at once. */
  doubleGrants: string[];
  /** Epochs that are not 1, 2, 3, … per task, or a task row that disagrees with its leases. */
  epochErrors: string[];
  /** A write recorded under a lease that had already ended, or under the wrong epoch or worker. */
  writesOutsideLease: string[];
}

/**
 * Audits the `leases` table and the lease events of a database:
 * - per task, epochs run 1, 2, 3, … and each lease ended no later than the next one was granted
 *   (intervals [granted_at, ended_at) never overlap; only the newest may still be open);
 * - the task row names its newest lease, and holds it exactly when that lease is open;
 * - every event naming a lease carries that lease's epoch, comes after its grant and — by event
 *   sequence, which is the commit order — no later than the event that ended it.
 */
export function auditLeases(
  leases: LeaseFact[],
  tasks: TaskFact[],
  events: LeaseEventFact[],
): LeaseAudit {
  const audit: LeaseAudit = {
    leasesChecked: leases.length,
    eventsChecked: 0,
    doubleGrants: [],
    epochErrors: [],
    writesOutsideLease: [],
  };
  const byTask = new Map<string, LeaseFact[]>();
  for (const lease of leases) {
    const list = byTask.get(lease.task_id) ?? [];
    list.push(lease);
    byTask.set(lease.task_id, list);
  }
  for (const list of byTask.values()) list.sort((a, b) => a.epoch - b.epoch);

  for (const [taskId, list] of byTask) {
    list.forEach((lease, index) => {
      if (lease.epoch !== index + 1) {
        audit.epochErrors.push(
          `task ${taskId}: lease ${lease.id} has epoch ${lease.epoch}, expected ${index + 1}`,
        );
      }
      const next = list[index + 1];
      if (!next) return;
      if (next.granted_at < lease.granted_at) {
        audit.epochErrors.push(
          `task ${taskId}: epoch ${next.epoch} granted before epoch ${lease.epoch}`,
        );
      }
      if (lease.ended_at === null || lease.ended_at > next.granted_at) {
        audit.doubleGrants.push(
          `task ${taskId}: lease ${lease.id} (epoch ${lease.epoch}, ${lease.worker_id}, ` +
            `[${lease.granted_at}, ${lease.ended_at ?? 'open'})) overlaps lease ${next.id} ` +
            `(epoch ${next.epoch}, ${next.worker_id}, granted ${next.granted_at})`,
        );
      }
    });
  }

  for (const task of tasks) {
    const list = byTask.get(task.id) ?? [];
    const newest = list.at(-1);
    if (task.lease_epoch !== (newest?.epoch ?? 0)) {
      audit.epochErrors.push(
        `task ${task.id}: row epoch ${task.lease_epoch}, newest lease epoch ${newest?.epoch ?? 0}`,
      );
    }
    if (task.lease_id !== null) {
      if (!newest || newest.id !== task.lease_id || newest.ended_at !== null) {
        audit.epochErrors.push(
          `task ${task.id}: holds lease ${task.lease_id}, which is not its newest open lease`,
        );
      } else if (newest.worker_id !== task.assignee) {
        audit.epochErrors.push(
          `task ${task.id}: assignee ${task.assignee} but lease ${newest.id} is ${newest.worker_id}'s`,
        );
      }
    } else if (newest && newest.ended_at === null) {
      audit.epochErrors.push(`task ${task.id}: holds no lease but lease ${newest.id} never ended`);
    }
  }

  const leaseById = new Map(leases.map((lease) => [lease.id, lease]));
  const endSeq = new Map<string, number>();
  for (const event of events) {
    if (event.type === 'task.status_changed' && event.lease_id && ENDING_CAUSES.has(event.cause!)) {
      endSeq.set(event.lease_id, event.seq);
    }
  }
  for (const event of events) {
    if (!event.lease_id) continue;
    audit.eventsChecked++;
    const lease = leaseById.get(event.lease_id);
    const what = `event ${event.seq} (${event.type}${event.cause ? ` ${event.cause}` : ''} on ${event.task_id})`;
    if (!lease) {
      audit.writesOutsideLease.push(`${what}: names unknown lease ${event.lease_id}`);
      continue;
    }
    if (lease.task_id !== event.task_id) {
      audit.writesOutsideLease.push(`${what}: lease ${lease.id} belongs to task ${lease.task_id}`);
    }
    if (event.epoch !== undefined && event.epoch !== lease.epoch) {
      audit.writesOutsideLease.push(
        `${what}: epoch ${event.epoch}, lease ${lease.id} has ${lease.epoch}`,
      );
    }
    if (event.at < lease.granted_at) {
      audit.writesOutsideLease.push(
        `${what}: at ${event.at}, before the grant at ${lease.granted_at}`,
      );
    }
    const ended = endSeq.get(lease.id);
    if (ended !== undefined && event.seq > ended) {
      audit.writesOutsideLease.push(`${what}: after the lease ended (event ${ended})`);
    }
    if (event.type === 'task.status_changed' && ENDING_CAUSES.has(event.cause!)) {
      // The lease row and the event are written in one transaction but read the clock apart.
      const apart = lease.ended_at === null ? Infinity : Math.abs(event.at - lease.ended_at);
      if (apart > SAME_TRANSACTION_MS || lease.end_cause !== event.cause) {
        audit.writesOutsideLease.push(
          `${what}: lease row says ended ${lease.ended_at} by ${lease.end_cause}`,
        );
      }
    }
    const workerWrite = ['start', 'block', 'open_pr', 'release'].includes(event.cause ?? '');
    if ((workerWrite || event.type === 'lease.renewed') && event.worker_id !== lease.worker_id) {
      audit.writesOutsideLease.push(
        `${what}: made by ${event.worker_id}, lease is ${lease.worker_id}'s`,
      );
    }
  }
  for (const lease of leases) {
    if (lease.ended_at !== null && !endSeq.has(lease.id)) {
      audit.writesOutsideLease.push(
        `lease ${lease.id}: ended (${lease.end_cause}) without an event`,
      );
    }
  }
  return audit;
}
