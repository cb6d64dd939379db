import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RefreshQueue, type RefreshBatch } from './refresh-queue.ts';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

const summary = (b: RefreshBatch) => ({
  tasks: [...b.taskIds].sort(),
  repos: b.repos,
  workers: b.workers,
  all: b.all,
});

describe('coalesced re-reads', () => {
  it('turns a burst of events into one read, after the delay', async () => {
    const batches: RefreshBatch[] = [];
    const queue = new RefreshQueue(async (b) => void batches.push(b), 100);
    queue.task('t_1');
    queue.task('t_2');
    queue.task('t_1');
    queue.mark('repos');
    await vi.advanceTimersByTimeAsync(99);
    expect(batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches.map(summary)).toEqual([
      { tasks: ['t_1', 't_2'], repos: true, workers: false, all: false },
    ]);
  });

  it('runs one read at a time; what arrives meanwhile goes in the next', async () => {
    const batches: RefreshBatch[] = [];
    let finish!: () => void;
    const queue = new RefreshQueue((b) => {
      batches.push(b);
      return new Promise<void>((resolve) => (finish = resolve));
    }, 10);
    queue.task('t_1');
    await vi.advanceTimersByTimeAsync(10);
    queue.task('t_2');
    queue.mark('workers');
    await vi.advanceTimersByTimeAsync(50);
    expect(batches).toHaveLength(1);
    finish();
    await vi.advanceTimersByTimeAsync(10);
    expect(batches.map(summary)).toEqual([
      { tasks: ['t_1'], repos: false, workers: false, all: false },
      { tasks: ['t_2'], repos: false, workers: true, all: false },
    ]);
  });

  it('keeps going after a failed read, and settles', async () => {
    const seen: string[][] = [];
    const queue = new RefreshQueue(async (b) => {
      seen.push([...b.taskIds]);
      if (seen.length === 1) throw new Error('server hiccup');
    }, 10);
    queue.task('t_1');
    await vi.advanceTimersByTimeAsync(10);
    queue.task('t_2');
    const settled = queue.settled();
    await vi.advanceTimersByTimeAsync(10);
    await settled;
    expect(seen).toEqual([['t_1'], ['t_2']]);
  });
});
