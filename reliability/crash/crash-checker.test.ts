import { describe, expect, it } from 'vitest';
import type { DbFacts } from '../support/db-facts.ts';
import type { CallRecord } from './call-history.ts';
import { checkCrashRun, downtimeWithin, type CrashCheckInput } from './crash-checker.ts';

/** A tiny consistent run: one task created, granted to w_1, started and merged. */
function cleanRun(): CrashCheckInput {
  const call = (op: CallRecord['op'], extra: Partial<CallRecord>): CallRecord => ({
    actor: 'w1',
    worker_id: 'w_1',
    op,
    method: 'POST',
    path: '',
    first_sent: 100,
    acked: 110,
    attempts: 1,
    http: 200,
    ...extra,
  });
  const calls: CallRecord[] = [
    call('register', { response: { worker_id: 'w_1', token: 'x' } }),
    call('create_attempt', { actor: 'admin', http: 0, body: { title: 'crash-1' } }),
    call('create', { actor: 'admin', body: { title: 'crash-1' }, response: { task_id: 't_1' } }),
    call('heartbeat', { response: { server_time: new Date(150).toISOString() } }),
    call('status', {
      path: '/v1/tasks/t_1/status',
      body: { status: 'in_progress', lease_id: 'l_1', epoch: 1 },
    }),
    call('status', {
      path: '/v1/tasks/t_1/status',
      body: { status: 'merged', lease_id: 'l_1', epoch: 1 },
    }),
  ];
  const db: DbFacts = {
    tasks: [
      {
        id: 't_1',
        title: 'crash-1',
        status: 'merged',
        assignee: 'w_1',
        lease_id: null,
        lease_epoch: 1,
        version: 4,
      },
    ],
    leases: [
      {
        id: 'l_1',
        task_id: 't_1',
        worker_id: 'w_1',
        epoch: 1,
        granted_at: 120,
        ended_at: 140,
        end_cause: 'merge',
      },
    ],
    leaseEvents: [
      {
        seq: 1,
        at: 120,
        type: 'task.status_changed',
        task_id: 't_1',
        worker_id: 'w_1',
        from: 'ready',
        to: 'leased',
        cause: 'grant',
        epoch: 1,
        lease_id: 'l_1',
      },
      {
        seq: 2,
        at: 130,
        type: 'task.status_changed',
        task_id: 't_1',
        worker_id: 'w_1',
        from: 'leased',
        to: 'in_progress',
        cause: 'start',
        epoch: 1,
        lease_id: 'l_1',
      },
      {
        seq: 3,
        at: 140,
        type: 'task.status_changed',
        task_id: 't_1',
        worker_id: 'w_1',
        from: 'in_progress',
        to: 'merged',
        cause: 'merge',
        epoch: 1,
        lease_id: 'l_1',
      },
    ],
    workers: [{ id: 'w_1', name: 'w1', token_hash: 'h', last_heartbeat_at: 150 }],
    eventCount: 3,
    createdEvents: new Set(['t_1']),
    integrity: 'ok',
  };
  return { calls, db, downtime: [], leaseTtlMs: 10_000, sweepIntervalMs: 1000, slackMs: 0 };
}

describe('the crash checker objects to what it must catch', () => {
  it('passes a consistent run', () => {
    const report = checkCrashRun(cleanRun());
    expect(report.acknowledged.total).toBe(5);
    expect([...report.lost, ...report.duplicated, ...report.phantom, ...report.regressed]).toEqual(
      [],
    );
    expect(report.leaseAudit.doubleGrants).toEqual([]);
    expect(report.leaseAudit.writesOutsideLease).toEqual([]);
  });

  it('accepts a heartbeat answered without a write only within the coalescing window', () => {
    const run = cleanRun();
    // The database's last heartbeat is at 150; one acknowledged at 1149 was coalesced into it.
    run.calls.push({ ...run.calls[3]!, response: { server_time: new Date(1149).toISOString() } });
    expect(checkCrashRun(run).lost).toEqual(['heartbeat of w_1 at 1149 (database has 150)']);
    expect(checkCrashRun({ ...run, heartbeatCoalesceMs: 1000 }).lost).toEqual([]);
    // At 1150 it would have been written: its absence is a loss, window or not.
    run.calls.push({ ...run.calls[3]!, response: { server_time: new Date(1150).toISOString() } });
    expect(checkCrashRun({ ...run, heartbeatCoalesceMs: 1000 }).lost).toEqual([
      'heartbeat of w_1 at 1150 (database has 150)',
    ]);
  });

  it('catches an acknowledged creation missing from the database', () => {
    const run = cleanRun();
    run.db.tasks = [];
    run.db.createdEvents.clear();
    expect(checkCrashRun(run).lost).toEqual([
      'creation of t_1: no event records it',
      'creation of t_1 (crash-1)',
      'in_progress on t_1 under l_1: lease or task missing',
      'merged on t_1 under l_1: lease or task missing',
    ]);
  });

  it('catches one creation that became two tasks, and a task nobody asked for', () => {
    const run = cleanRun();
    run.db.tasks.push({ ...run.db.tasks[0]!, id: 't_2', lease_epoch: 0, lease_id: null });
    run.db.tasks.push({ ...run.db.tasks[0]!, id: 't_3', title: 'stranger', lease_epoch: 0 });
    const report = checkCrashRun(run);
    expect(report.duplicated).toEqual(['2 tasks titled crash-1']);
    expect(report.phantom).toEqual(['task titled stranger']);
  });

  it('catches an acknowledged status write the event log does not hold', () => {
    const run = cleanRun();
    run.db.leaseEvents.splice(1, 1);
    expect(checkCrashRun(run).lost).toEqual(['in_progress on t_1 under l_1: no event records it']);
  });

  it('catches a task held by two workers at once, and a write after its lease ended', () => {
    const run = cleanRun();
    run.db.leases.push({
      id: 'l_2',
      task_id: 't_1',
      worker_id: 'w_2',
      epoch: 2,
      granted_at: 135,
      ended_at: null,
      end_cause: null,
    });
    run.db.leaseEvents.push({
      seq: 4,
      at: 141,
      type: 'lease.renewed',
      task_id: 't_1',
      worker_id: 'w_1',
      lease_id: 'l_1',
    });
    const audit = checkCrashRun(run).leaseAudit;
    expect(audit.doubleGrants).toHaveLength(1);
    expect(audit.writesOutsideLease.join()).toContain('after the lease ended');
  });

  it('catches a dead worker lease requeued later than its TTL plus one sweep plus downtime', () => {
    const run = cleanRun();
    run.deadWorker = { worker_id: 'w_9', diedAt: 1000 };
    run.downtime = [[2000, 2500]];
    run.db.leases.push(
      {
        id: 'l_8',
        task_id: 't_8',
        worker_id: 'w_9',
        epoch: 1,
        granted_at: 900,
        ended_at: 12_400,
        end_cause: 'expire',
      },
      {
        id: 'l_9',
        task_id: 't_9',
        worker_id: 'w_9',
        epoch: 1,
        granted_at: 900,
        ended_at: 12_600,
        end_cause: 'expire',
      },
    );
    const report = checkCrashRun(run).deadWorker;
    expect(report.leases).toBe(2);
    expect(report.late).toEqual(['l_9: requeued 100 ms past its bound']);
    expect(
      downtimeWithin(
        [
          [0, 10],
          [20, 30],
        ],
        5,
        25,
      ),
    ).toBe(10);
  });
});
