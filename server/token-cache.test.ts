import { describe, expect, it } from 'vitest';
import { WorkerTokenCache } from './token-cache.ts';

describe('WorkerTokenCache', () => {
  it('answers from memory while fresh, looks up again after the TTL, never caches a miss', () => {
    let now = 0;
    const lookups: string[] = [];
    const table: Record<string, string> = { h1: 'w_1' };
    const lookup = (hash: string) => (lookups.push(hash), table[hash]);
    const cache = new WorkerTokenCache(10_000, 10, () => now);

    expect(cache.workerFor('h1', lookup)).toBe('w_1');
    now = 9_999;
    expect(cache.workerFor('h1', lookup)).toBe('w_1');
    expect(lookups).toEqual(['h1']);

    // Past the TTL it asks again, and a token gone from the table is refused.
    delete table.h1;
    now = 10_000;
    expect(cache.workerFor('h1', lookup)).toBeUndefined();
    expect(cache.workerFor('nope', lookup)).toBeUndefined();
    expect(cache.workerFor('nope', lookup)).toBeUndefined();
    expect(lookups).toEqual(['h1', 'h1', 'nope', 'nope']);
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const cache = new WorkerTokenCache(60_000, 2, () => 0);
    const lookups: string[] = [];
    const lookup = (hash: string) => (lookups.push(hash), `w_${hash}`);
    cache.workerFor('a', lookup);
    cache.workerFor('b', lookup);
    cache.workerFor('c', lookup);
    expect(cache.size).toBe(2);
    cache.workerFor('b', lookup);
    cache.workerFor('a', lookup);
    expect(lookups).toEqual(['a', 'b', 'c', 'a']);
  });

  it('forgets a worker whose token was replaced, and only that worker', () => {
    const table: Record<string, string> = { old: 'w_1', other: 'w_2' };
    const lookups: string[] = [];
    const lookup = (hash: string) => (lookups.push(hash), table[hash]);
    const cache = new WorkerTokenCache(60_000, 10, () => 0);
    cache.workerFor('old', lookup);
    cache.workerFor('other', lookup);

    delete table.old;
    cache.forgetWorker('w_1');
    expect(cache.workerFor('old', lookup)).toBeUndefined();
    expect(cache.workerFor('other', lookup)).toBe('w_2');
    expect(lookups).toEqual(['old', 'other', 'old']);
  });
});
