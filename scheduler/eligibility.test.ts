import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type IneligibleReason,
  type RepoFacts,
  type TaskFacts,
  type TaskOrderKey,
  type WorkerFacts,
  type WorkerOrderKey,
  MAX_TASK_TIER,
  compareTasks,
  compareWorkers,
  normalizeSkills,
  reputationOf,
  reviewBudgetLeft,
  whyIneligible,
} from './eligibility.ts';

/*
 * Properties of the pure assignment rules. These functions are the whole truth about who may take
 * what and in which order (the SQL only narrows candidates), so they are checked over all inputs
 * fast-check can think of rather than a handful of examples.
 */

const sign = (n: number) => Math.sign(n);

// ── ordering ─────────────────────────────────────────────────────────────────────────────────

// Small ranges, so that ties on the leading keys are common and the later keys get exercised.
const taskKey: fc.Arbitrary<TaskOrderKey> = fc.record({
  priority: fc.integer({ min: 0, max: 3 }),
  estimate_points: fc.integer({ min: 1, max: 3 }),
  created_at: fc.integer({ min: 0, max: 3 }),
  id: fc.constantFrom('t_a', 't_b', 't_c'),
});

const workerKey: fc.Arbitrary<WorkerOrderKey> = fc.record({
  points_in_use: fc.integer({ min: 0, max: 3 }),
  active_tasks: fc.integer({ min: 0, max: 2 }),
  reputation: fc.constantFrom(0.25, 0.5, 0.75),
  id: fc.constantFrom('w_a', 'w_b', 'w_c'),
});

/** The comparator laws that make `Array.prototype.sort` well defined, plus "0 only for equals". */
function totalOrderLaws<K>(name: string, key: fc.Arbitrary<K>, compare: (a: K, b: K) => number) {
  describe(`${name} is a total order`, () => {
    it('is reflexive and antisymmetric', () => {
      fc.assert(
        fc.property(key, key, (a, b) => {
          expect(compare(a, a)).toBe(0);
          expect(sign(compare(a, b)) + sign(compare(b, a))).toBe(0);
        }),
      );
    });

    it('is transitive', () => {
      fc.assert(
        fc.property(key, key, key, (a, b, c) => {
          fc.pre(compare(a, b) <= 0 && compare(b, c) <= 0);
          expect(compare(a, c)).toBeLessThanOrEqual(0);
        }),
      );
    });

    it('calls two keys equal only when every field is equal', () => {
      fc.assert(
        fc.property(key, key, (a, b) => {
          expect(compare(a, b) === 0).toBe(JSON.stringify(a) === JSON.stringify(b));
        }),
      );
    });

    it('sorts any list the same way whatever order it starts in', () => {
      fc.assert(
        fc.property(fc.array(key, { maxLength: 8 }), fc.nat(), (keys, seed) => {
          const shuffled = [...keys].sort((a, b) => sign(hash(a, seed) - hash(b, seed)));
          expect([...shuffled].sort(compare)).toEqual([...keys].sort(compare));
        }),
      );
    });
  });
}

/** A stable pseudo-random rank for a key, to shuffle without Math.random. */
function hash(value: unknown, seed: number): number {
  let h = seed | 0;
  for (const ch of JSON.stringify(value)) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}

totalOrderLaws('compareTasks', taskKey, compareTasks);
totalOrderLaws('compareWorkers', workerKey, compareWorkers);

describe('compareTasks follows priority, then estimate, then age', () => {
  it('puts the higher priority first, whatever else differs', () => {
    fc.assert(
      fc.property(taskKey, taskKey, (a, b) => {
        fc.pre(a.priority !== b.priority);
        expect(compareTasks(a, b) < 0).toBe(a.priority > b.priority);
      }),
    );
  });

  it('at equal priority puts the smaller estimate first', () => {
    fc.assert(
      fc.property(taskKey, taskKey, (a, b) => {
        fc.pre(a.priority === b.priority && a.estimate_points !== b.estimate_points);
        expect(compareTasks(a, b) < 0).toBe(a.estimate_points < b.estimate_points);
      }),
    );
  });

  it('at equal priority and estimate puts the older task first', () => {
    fc.assert(
      fc.property(taskKey, taskKey, (a, b) => {
        fc.pre(
          a.priority === b.priority &&
            a.estimate_points === b.estimate_points &&
            a.created_at !== b.created_at,
        );
        expect(compareTasks(a, b) < 0).toBe(a.created_at < b.created_at);
      }),
    );
  });
});

describe('compareWorkers prefers the least loaded, then the better reputation', () => {
  it('puts fewer points in use first, whatever else differs', () => {
    fc.assert(
      fc.property(workerKey, workerKey, (a, b) => {
        fc.pre(a.points_in_use !== b.points_in_use);
        expect(compareWorkers(a, b) < 0).toBe(a.points_in_use < b.points_in_use);
      }),
    );
  });

  it('at equal load puts the higher reputation first', () => {
    fc.assert(
      fc.property(workerKey, workerKey, (a, b) => {
        fc.pre(
          a.points_in_use === b.points_in_use &&
            a.active_tasks === b.active_tasks &&
            a.reputation !== b.reputation,
        );
        expect(compareWorkers(a, b) < 0).toBe(a.reputation > b.reputation);
      }),
    );
  });
});

// ── eligibility ──────────────────────────────────────────────────────────────────────────────

const skill = fc.constantFrom('go', 'python', 'docs', 'rust');

const taskFacts: fc.Arbitrary<TaskFacts> = fc.record({
  status: fc.constantFrom('ready', 'ready', 'ready', 'leased', 'pr_opened'),
  estimate_points: fc.integer({ min: 1, max: 6 }),
  required_skills: fc.uniqueArray(skill, { maxLength: 2 }),
  tier: fc.integer({ min: 0, max: 3 }),
  recently_released_by_worker: fc.boolean(),
  recently_declined_by_worker: fc.boolean(),
  dependencies_pending: fc.constantFrom(0, 0, 0, 1, 2),
});

const repoFacts: fc.Arbitrary<RepoFacts> = fc.record({
  exists: fc.oneof(
    { arbitrary: fc.constant(true), weight: 9 },
    { arbitrary: fc.constant(false), weight: 1 },
  ),
  max_open_prs: fc.integer({ min: 0, max: 4 }),
  budget_used: fc.integer({ min: 0, max: 5 }),
  area_locked: fc.boolean(),
});

const workerFacts: fc.Arbitrary<WorkerFacts> = fc.record({
  online: fc.boolean(),
  paused: fc.boolean(),
  skills: fc.uniqueArray(skill, { maxLength: 4 }).map((s) => new Set(s)),
  max_tier: fc.constantFrom(...Object.values(MAX_TASK_TIER)),
  capacity_points: fc.integer({ min: 1, max: 6 }),
  points_in_use: fc.integer({ min: 0, max: 6 }),
  max_concurrent_tasks: fc.integer({ min: 1, max: 3 }),
  active_tasks: fc.integer({ min: 0, max: 3 }),
});

/** Each rule of DESIGN.md's "Eligibility, all at once", written out on its own. */
const RULES: Record<IneligibleReason, (t: TaskFacts, r: RepoFacts, w: WorkerFacts) => boolean> = {
  task_not_ready: (t) => t.status === 'ready',
  repo_missing: (_t, r) => r.exists,
  review_budget_full: (_t, r) => r.budget_used < r.max_open_prs,
  area_locked: (_t, r) => !r.area_locked,
  worker_offline: (_t, _r, w) => w.online,
  worker_paused: (_t, _r, w) => !w.paused,
  tier_not_trusted: (t, _r, w) => t.tier <= w.max_tier,
  missing_skill: (t, _r, w) => t.required_skills.every((s) => w.skills.has(s)),
  not_enough_points: (t, _r, w) => w.points_in_use + t.estimate_points <= w.capacity_points,
  no_free_slot: (_t, _r, w) => w.active_tasks < w.max_concurrent_tasks,
  recently_released: (t) => !t.recently_released_by_worker,
  recently_declined: (t) => !t.recently_declined_by_worker,
  waiting_on_dependencies: (t) => (t.dependencies_pending ?? 0) === 0,
};

describe('whyIneligible', () => {
  it('returns null exactly when every rule holds', () => {
    fc.assert(
      fc.property(taskFacts, repoFacts, workerFacts, (task, repo, worker) => {
        const allHold = Object.values(RULES).every((rule) => rule(task, repo, worker));
        expect(whyIneligible(task, repo, worker) === null).toBe(allHold);
      }),
    );
  });

  it('names a rule that really fails', () => {
    fc.assert(
      fc.property(taskFacts, repoFacts, workerFacts, (task, repo, worker) => {
        const reason = whyIneligible(task, repo, worker);
        fc.pre(reason !== null);
        expect(RULES[reason](task, repo, worker)).toBe(false);
      }),
    );
  });

  it('finds a task eligible when the worker has exactly the points it needs left', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 6 }), (need, used) => {
        const task: TaskFacts = {
          status: 'ready',
          estimate_points: need,
          required_skills: [],
          tier: 0,
        };
        const repo: RepoFacts = {
          exists: true,
          max_open_prs: 1,
          budget_used: 0,
          area_locked: false,
        };
        const worker: WorkerFacts = {
          online: true,
          paused: false,
          skills: new Set(),
          max_tier: 0,
          capacity_points: used + need,
          points_in_use: used,
          max_concurrent_tasks: 1,
          active_tasks: 0,
        };
        expect(whyIneligible(task, repo, worker)).toBeNull();
      }),
    );
  });

  it('counts the review budget left as max_open_prs minus what is in flight', () => {
    fc.assert(
      fc.property(repoFacts, (repo) => {
        expect(reviewBudgetLeft(repo)).toBe(repo.max_open_prs - repo.budget_used);
      }),
    );
  });
});

// ── skills ───────────────────────────────────────────────────────────────────────────────────

/** Skill names with the case and padding people actually type. */
const typedSkill = fc
  .tuple(
    fc.constantFrom('go', 'python', 'docs', 'rust', 'type-script', 'c++'),
    fc.array(fc.boolean(), { minLength: 11, maxLength: 11 }),
    fc.constantFrom('', ' ', '  '),
    fc.constantFrom('', ' ', '\t'),
  )
  .map(([name, upper, before, after]) => {
    const cased = [...name].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch)).join('');
    return `${before}${cased}${after}`;
  });
const typedSkills = fc.array(fc.oneof(typedSkill, fc.constantFrom('', ' ')), { maxLength: 8 });

describe('normalizeSkills', () => {
  it('is idempotent', () => {
    fc.assert(
      fc.property(typedSkills, (skills) => {
        expect(normalizeSkills(normalizeSkills(skills))).toEqual(normalizeSkills(skills));
      }),
    );
  });

  it('ignores case and surrounding space', () => {
    fc.assert(
      fc.property(typedSkills, (skills) => {
        const shouted = skills.map((s) => ` ${s.toUpperCase()} `);
        expect(normalizeSkills(shouted)).toEqual(normalizeSkills(skills));
      }),
    );
  });

  it('returns each non-blank skill once, trimmed, lower-case and sorted', () => {
    fc.assert(
      fc.property(typedSkills, (skills) => {
        const normalized = normalizeSkills(skills);
        const expected = new Set(
          skills.map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0),
        );
        expect(new Set(normalized)).toEqual(expected);
        expect(normalized).toHaveLength(expected.size);
        expect(normalized).toEqual([...normalized].sort());
      }),
    );
  });

  it('does not depend on the order the skills were given in', () => {
    fc.assert(
      fc.property(typedSkills, (skills) => {
        expect(normalizeSkills([...skills].reverse())).toEqual(normalizeSkills(skills));
      }),
    );
  });
});

// ── reputation ───────────────────────────────────────────────────────────────────────────────

const outcomes = fc.record({
  tasks_completed: fc.nat({ max: 10_000 }),
  leases_expired: fc.nat({ max: 10_000 }),
  leases_released: fc.nat({ max: 10_000 }),
});

describe('reputationOf', () => {
  it('starts a new worker at one half', () => {
    expect(reputationOf({ tasks_completed: 0, leases_expired: 0, leases_released: 0 })).toBe(0.5);
  });

  it('stays strictly between 0 and 1', () => {
    fc.assert(
      fc.property(outcomes, (stats) => {
        const reputation = reputationOf(stats);
        expect(reputation).toBeGreaterThan(0);
        expect(reputation).toBeLessThan(1);
      }),
    );
  });

  it('rises with every completed task', () => {
    fc.assert(
      fc.property(outcomes, (stats) => {
        const more = { ...stats, tasks_completed: stats.tasks_completed + 1 };
        expect(reputationOf(more)).toBeGreaterThan(reputationOf(stats));
      }),
    );
  });

  it('falls with every expired or released lease', () => {
    fc.assert(
      fc.property(
        outcomes,
        fc.constantFrom('leases_expired', 'leases_released'),
        (stats, field) => {
          const worse = { ...stats, [field]: stats[field] + 1 };
          expect(reputationOf(worse)).toBeLessThan(reputationOf(stats));
        },
      ),
    );
  });

  it('weighs an expiry and a release the same', () => {
    fc.assert(
      fc.property(outcomes, (stats) => {
        const expired = { ...stats, leases_expired: stats.leases_expired + 1 };
        const released = { ...stats, leases_released: stats.leases_released + 1 };
        expect(reputationOf(expired)).toBe(reputationOf(released));
      }),
    );
  });
});
