import { describe, expect, it } from 'vitest';
import type { OwpEvent } from '../../protocol/events.ts';
import { mergeTaskEvents } from './task-history.ts';

const created = (seq: number, taskId: string): OwpEvent => ({
  seq,
  at: '2026-01-17T12:00:00.000Z',
  repo: 'demo',
  task_id: taskId,
  worker_id: null,
  type: 'task.created',
  data: { title: taskId, priority: 10 },
});

describe("a task's history", () => {
  it('joins the read and the live events, each once, oldest first, only this task', () => {
    const loaded = [created(1, 't_a'), created(3, 't_a')];
    const live = [created(3, 't_a'), created(4, 't_b'), created(5, 't_a')];
    expect(mergeTaskEvents('t_a', loaded, live).map((e) => e.seq)).toEqual([1, 3, 5]);
  });
});
