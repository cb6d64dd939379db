import { describe, expect, it } from 'vitest';
import type { Worker } from '../../protocol/workers.ts';
import { sortWorkersForDisplay, workerLoad } from './worker-load.ts';

const worker = (name: string, overrides: Partial<Worker> = {}): Worker => ({
  worker_id: `w_${name}`,
  name,
  github_handle: null,
  skills: [],
  capacity_points: 5,
  max_concurrent_tasks: 2,
  status: 'idle',
  paused_by_admin: false,
  online: true,
  last_heartbeat_at: '2026-01-17T12:00:00.000Z',
  note: null,
  trust_tier: 'basic',
  points_in_use: 0,
  active_tasks: 0,
  reputation: 0,
  tasks_completed: 0,
  leases_expired: 0,
  leases_released: 0,
  registered_at: '2026-01-17T11:00:00.000Z',
  ...overrides,
});

describe('worker load', () => {
  it('measures points and tasks against capacity, capped at full', () => {
    expect(workerLoad(worker('a', { points_in_use: 3, active_tasks: 1 }))).toEqual({
      state: 'online',
      pointsFraction: 0.6,
      tasksFraction: 0.5,
      label: '3/5 pts · 1/2 tasks',
    });
    expect(workerLoad(worker('a', { points_in_use: 8 })).pointsFraction).toBe(1);
  });

  it('tells online, paused and offline apart', () => {
    expect(workerLoad(worker('a', { paused_by_admin: true })).state).toBe('paused');
    expect(workerLoad(worker('a', { status: 'paused' })).state).toBe('paused');
    expect(workerLoad(worker('a', { online: false, paused_by_admin: true })).state).toBe('offline');
  });

  it('lists online workers busiest first, then offline ones by most recent contact', () => {
    const sorted = sortWorkersForDisplay([
      worker('old', { online: false, last_heartbeat_at: '2026-01-16T00:00:00.000Z' }),
      worker('idle'),
      worker('recent', { online: false, last_heartbeat_at: '2026-01-17T10:00:00.000Z' }),
      worker('busy', { points_in_use: 4 }),
    ]);
    expect(sorted.map((w) => w.name)).toEqual(['busy', 'idle', 'recent', 'old']);
  });
});
