import { describe, expect, it } from 'vitest';
import { NOW, aSnapshot, aWorker, minutesFromNow } from './testing/snapshot-builder.ts';
import { workerRows } from './worker-rows.ts';

describe('workerRows', () => {
  it('shows each worker online or not, its load, skills and last heartbeat', () => {
    const snapshot = aSnapshot({
      workers: [
        aWorker({
          worker_id: 'w_alice',
          name: 'Alice',
          skills: ['ts', 'docs'],
          capacity_points: 5,
          points_in_use: 3,
          max_concurrent_tasks: 2,
          active_tasks: 1,
          status: 'working',
          last_heartbeat_at: minutesFromNow(-2),
        }),
      ],
      me: 'w_alice',
    });
    expect(workerRows(snapshot, NOW)).toEqual([
      {
        workerId: 'w_alice',
        name: 'Alice',
        githubHandle: null,
        online: true,
        status: 'working',
        paused: false,
        pausedByAdmin: false,
        pointsUsed: 3,
        pointsCapacity: 5,
        pointsLoad: 0.6,
        tasksUsed: 1,
        tasksMax: 2,
        tasksLoad: 0.5,
        skills: ['ts', 'docs'],
        lastSeen: '2m ago',
        isMe: true,
        trustTier: 'basic',
        trustLabel: 'Basic',
        reputation: 0,
        reputationText: '0.00',
        reputationDetail: 'Reputation 0.00: 0 merged, 0 expired, 0 released',
      },
    ]);
  });

  it('shows each worker’s trust tier and reputation with what it comes from', () => {
    const snapshot = aSnapshot({
      workers: [
        aWorker({
          trust_tier: 'trusted',
          reputation: 0.6234,
          tasks_completed: 4,
          leases_expired: 1,
          leases_released: 2,
        }),
      ],
    });
    expect(workerRows(snapshot, NOW)[0]).toMatchObject({
      trustTier: 'trusted',
      trustLabel: 'Trusted',
      reputation: 0.6234,
      reputationText: '0.62',
      reputationDetail: 'Reputation 0.62: 4 merged, 1 expired, 2 released',
    });
  });

  it('lists online workers first, then by name', () => {
    const snapshot = aSnapshot({
      workers: [
        aWorker({ worker_id: 'w_1', name: 'Zoe', online: true }),
        aWorker({ worker_id: 'w_2', name: 'Bob', online: false, last_heartbeat_at: null }),
        aWorker({ worker_id: 'w_3', name: 'Alice', online: true }),
      ],
    });
    const rows = workerRows(snapshot, NOW);
    expect(rows.map((r) => r.name)).toEqual(['Alice', 'Zoe', 'Bob']);
    expect(rows[2]).toMatchObject({ online: false, lastSeen: 'never', isMe: false });
  });

  it('marks a worker paused by itself or by an admin', () => {
    const snapshot = aSnapshot({
      workers: [
        aWorker({ worker_id: 'w_1', name: 'Self', status: 'paused' }),
        aWorker({ worker_id: 'w_2', name: 'Admin', paused_by_admin: true, status: 'paused' }),
        aWorker({ worker_id: 'w_3', name: 'Free' }),
      ],
    });
    const paused = Object.fromEntries(
      workerRows(snapshot, NOW).map((r) => [r.name, [r.paused, r.pausedByAdmin]]),
    );
    expect(paused).toEqual({ Self: [true, false], Admin: [true, true], Free: [false, false] });
  });

  it('caps a load bar at full', () => {
    const snapshot = aSnapshot({ workers: [aWorker({ capacity_points: 2, points_in_use: 5 })] });
    expect(workerRows(snapshot, NOW)[0]!.pointsLoad).toBe(1);
  });
});
