import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OwpError } from '../protocol/errors.ts';
import { TASK_STATUSES, TRANSITION_CAUSES, type TaskStatus } from '../protocol/index.ts';
import {
  type Actor,
  LIFECYCLE,
  allowedTargets,
  countsAgainstBudget,
  edgeFor,
  isHolding,
  isTerminal,
} from './lifecycle.ts';

const ACTORS: readonly Actor[] = ['worker', 'admin', 'system'];

/** Calls `fn`, expecting an OwpError; returns it. */
function caught(fn: () => unknown): OwpError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OwpError);
    return error as OwpError;
  }
  throw new Error('expected an OwpError, but nothing was thrown');
}

describe('allowedTargets', () => {
  it.each<[TaskStatus, TaskStatus[]]>([
    ['ready', []],
    ['leased', ['in_progress', 'blocked', 'ready']],
    ['in_progress', ['blocked', 'pr_opened', 'ready']],
    ['blocked', ['in_progress', 'ready']],
    ['pr_opened', ['merged', 'ready']],
    ['merged', []],
    ['cancelled', []],
    ['offered', ['leased', 'ready']],
    ['failed', []],
  ])('a worker may move a task that is %s to %j', (from, targets) => {
    expect(allowedTargets(from, 'worker')).toEqual(targets);
  });

  it.each<[TaskStatus, TaskStatus[]]>([
    ['ready', ['cancelled']],
    ['leased', ['ready', 'cancelled']],
    ['in_progress', ['ready', 'cancelled']],
    ['blocked', ['ready', 'cancelled']],
    ['pr_opened', ['merged', 'ready', 'cancelled']],
    ['merged', []],
    ['cancelled', []],
    ['offered', ['cancelled']],
    ['failed', ['ready', 'cancelled']],
  ])('an admin may move a task that is %s to %j', (from, targets) => {
    expect(allowedTargets(from, 'admin')).toEqual(targets);
  });

  it.each<[TaskStatus, TaskStatus[]]>([
    ['ready', ['leased', 'offered']],
    ['leased', ['ready']],
    ['in_progress', ['ready']],
    ['blocked', ['ready']],
    ['pr_opened', []],
    ['merged', []],
    ['cancelled', []],
    ['offered', ['ready']],
    ['failed', []],
  ])('the engine itself may move a task that is %s to %j', (from, targets) => {
    expect(allowedTargets(from, 'system')).toEqual(targets);
  });

  it('never lists a target twice, even when two causes lead there', () => {
    for (const from of TASK_STATUSES) {
      for (const actor of ACTORS) {
        const targets = allowedTargets(from, actor);
        expect(new Set(targets).size).toBe(targets.length);
      }
    }
  });
});

describe('edgeFor', () => {
  it('finds the edge by cause', () => {
    expect(edgeFor('ready', 'system', { cause: 'grant' })).toMatchObject({
      cause: 'grant',
      to: 'leased',
    });
    expect(edgeFor('blocked', 'system', { cause: 'expire' })).toMatchObject({ to: 'ready' });
  });

  it('finds the edge by target status, naming its cause', () => {
    expect(edgeFor('in_progress', 'worker', { to: 'pr_opened' }).cause).toBe('open_pr');
    expect(edgeFor('leased', 'worker', { to: 'ready' }).cause).toBe('release');
    expect(edgeFor('leased', 'admin', { to: 'ready' }).cause).toBe('requeue');
    expect(edgeFor('pr_opened', 'worker', { to: 'merged' }).cause).toBe('merge');
  });

  it('refuses a move the graph lacks with a 409 naming where the task may go', () => {
    const error = caught(() => edgeFor('pr_opened', 'worker', { to: 'in_progress' }));

    expect(error.code).toBe('invalid_transition');
    expect(error.status).toBe(409);
    expect(error.message).toBe(
      'A task that is pr_opened cannot move to in_progress; from pr_opened the worker may move it to: merged, ready (by releasing the lease).',
    );
    expect(error.details).toEqual({
      from: 'pr_opened',
      to: 'in_progress',
      allowed: ['merged', 'ready'],
    });
  });

  it('refuses a cause from a final status, saying it is final', () => {
    const error = caught(() => edgeFor('merged', 'admin', { cause: 'cancel' }));

    expect(error.code).toBe('invalid_transition');
    expect(error.message).toBe('A task that is merged cannot cancel; merged is final.');
    expect(error.details).toEqual({ from: 'merged', cause: 'cancel', allowed: [] });
  });

  it('does not call a status final when only this actor has no move from it', () => {
    // A ready task is far from final: the engine grants it and an admin may cancel it.
    const error = caught(() => edgeFor('ready', 'worker', { to: 'in_progress' }));

    expect(error.code).toBe('invalid_transition');
    expect(error.details).toEqual({ from: 'ready', to: 'in_progress', allowed: [] });
    expect(error.message).not.toMatch(/ready is final/);
  });

  it('keeps each cause to its actors', () => {
    expect(caught(() => edgeFor('ready', 'worker', { cause: 'grant' })).code).toBe(
      'invalid_transition',
    );
    expect(caught(() => edgeFor('ready', 'admin', { cause: 'grant' })).code).toBe(
      'invalid_transition',
    );
    expect(caught(() => edgeFor('leased', 'admin', { cause: 'start' })).code).toBe(
      'invalid_transition',
    );
    expect(caught(() => edgeFor('leased', 'worker', { cause: 'expire' })).code).toBe(
      'invalid_transition',
    );
    expect(caught(() => edgeFor('leased', 'worker', { cause: 'cancel' })).code).toBe(
      'invalid_transition',
    );
    // The review time is not the sweeper's: a PR-opened task never expires.
    expect(caught(() => edgeFor('pr_opened', 'system', { cause: 'expire' })).code).toBe(
      'invalid_transition',
    );
  });

  it('allows a move exactly when allowedTargets lists it, and the refusal lists the same', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TASK_STATUSES),
        fc.constantFrom(...ACTORS),
        fc.constantFrom(...TASK_STATUSES),
        (from, actor, to) => {
          const allowed = allowedTargets(from, actor);
          if (allowed.includes(to)) {
            const edge = edgeFor(from, actor, { to });
            expect(edge.to).toBe(to);
            expect(edge.from).toContain(from);
            expect(edge.actors).toContain(actor);
          } else {
            expect(caught(() => edgeFor(from, actor, { to })).details).toMatchObject({ allowed });
          }
        },
      ),
    );
  });
});

describe('the lifecycle table', () => {
  it('has exactly one edge per transition cause', () => {
    expect(LIFECYCLE.map((e) => e.cause).sort()).toEqual([...TRANSITION_CAUSES].sort());
  });

  it('lets nothing leave a final status, and lets an admin cancel from every other one', () => {
    for (const status of TASK_STATUSES) {
      const leaving = LIFECYCLE.filter((e) => e.from.includes(status));
      if (isTerminal(status)) {
        expect(leaving).toEqual([]);
      } else {
        expect(edgeFor(status, 'admin', { cause: 'cancel' }).to).toBe('cancelled');
      }
    }
  });

  it('reaches merged only from pr_opened, and leased only by a grant or an accepted offer', () => {
    expect(LIFECYCLE.filter((e) => e.to === 'merged').flatMap((e) => e.from)).toEqual([
      'pr_opened',
    ]);
    expect(LIFECYCLE.filter((e) => e.to === 'leased')).toEqual([
      { cause: 'grant', from: ['ready'], to: 'leased', actors: ['system'] },
      { cause: 'accept', from: ['offered'], to: 'leased', actors: ['worker'] },
    ]);
  });

  it('sends only counted attempts (expiries, releases) to failed, and only an admin takes it back', () => {
    expect(
      LIFECYCLE.filter((e) => e.whenOutOfAttempts === 'failed')
        .map((e) => e.cause)
        .sort(),
    ).toEqual(['expire', 'release']);
    expect(allowedTargets('failed', 'worker')).toEqual([]);
    expect(allowedTargets('failed', 'system')).toEqual([]);
    expect(edgeFor('failed', 'admin', { cause: 'requeue' }).to).toBe('ready');
  });
});

describe('status classes', () => {
  it.each<[TaskStatus, boolean, boolean, boolean]>([
    // status,      holding, budget, terminal
    ['ready', false, false, false],
    ['leased', true, true, false],
    ['in_progress', true, true, false],
    ['blocked', true, true, false],
    ['pr_opened', false, true, false],
    ['merged', false, false, true],
    ['cancelled', false, false, true],
    ['offered', false, true, false],
    ['failed', false, false, false],
  ])(
    '%s: holding %s, counts against the budget %s, terminal %s',
    (status, holding, budget, terminal) => {
      expect(isHolding(status)).toBe(holding);
      expect(countsAgainstBudget(status)).toBe(budget);
      expect(isTerminal(status)).toBe(terminal);
    },
  );
});
