import { describe, expect, it } from 'vitest';
import { taskActionsFor } from './task-actions.ts';

describe('the admin buttons a task offers', () => {
  it('follows the lifecycle: requeue while someone holds it or a PR is open; cancel until it ends', () => {
    expect(taskActionsFor('ready')).toEqual({ requeue: false, cancel: true });
    for (const status of ['leased', 'in_progress', 'blocked', 'pr_opened'] as const) {
      expect(taskActionsFor(status)).toEqual({ requeue: true, cancel: true });
    }
    expect(taskActionsFor('merged')).toEqual({ requeue: false, cancel: false });
    expect(taskActionsFor('cancelled')).toEqual({ requeue: false, cancel: false });
  });

  it('requeues a failed task (its attempts start again) and cancels it; an offer waits for its answer', () => {
    expect(taskActionsFor('failed')).toEqual({ requeue: true, cancel: true });
    expect(taskActionsFor('offered')).toEqual({ requeue: false, cancel: true });
  });
});
