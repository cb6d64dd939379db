import { describe, expect, it } from 'vitest';
import type { Repo } from '../../protocol/repos.ts';
import { repoBudget, sortReposForDisplay } from './repo-budget.ts';

const repo = (key: string, max: number, used: number): Repo => ({
  repo: key,
  max_open_prs: max,
  area_locks_enabled: true,
  lease_ttl_seconds: null,
  max_attempts: 5,
  trust_rules: { untrusted: 0, basic: 1, trusted: 2, maintainer: 3 },
  contract: null,
  assignment: 'lease',
  offer_ttl_seconds: 900,
  budget_used: used,
  open_prs: 0,
  locked_areas: [],
  created_at: '2026-01-17T12:00:00.000Z',
  updated_at: '2026-01-17T12:00:00.000Z',
});

describe('review budgets', () => {
  it('counts what is left and marks a spent budget as throttled', () => {
    expect(repoBudget(repo('a', 3, 1))).toMatchObject({ left: 2, throttled: false, paused: false });
    expect(repoBudget(repo('a', 3, 3))).toMatchObject({ left: 0, throttled: true, fraction: 1 });
    // Lowered under load: more in flight than allowed is still throttled, never negative.
    expect(repoBudget(repo('a', 2, 4))).toMatchObject({ left: 0, throttled: true, fraction: 1 });
  });

  it('treats a budget of 0 as paused, and throttled', () => {
    expect(repoBudget(repo('a', 0, 0))).toMatchObject({
      throttled: true,
      paused: true,
      fraction: 1,
    });
  });

  it('lists throttled repos first, then by key', () => {
    const sorted = sortReposForDisplay([repo('b', 3, 0), repo('c', 1, 1), repo('a', 3, 0)]);
    expect(sorted.map((r) => r.repo)).toEqual(['c', 'a', 'b']);
  });
});
