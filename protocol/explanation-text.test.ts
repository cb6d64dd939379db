import { describe, expect, it } from 'vitest';
import { explanationText } from './explanation-text.ts';
import type { TaskExplanation } from './tasks.ts';

const ready = (workers: TaskExplanation['workers'], summary = 'the summary'): TaskExplanation => ({
  task_id: 't_1',
  status: 'ready',
  summary,
  blocker: null,
  workers,
});

describe('explanationText', () => {
  it('is the summary alone when something holds the task back for everyone', () => {
    const blocked: TaskExplanation = {
      task_id: 't_1',
      status: 'leased',
      summary: 'Leased to Alice; not started yet.',
      blocker: { reason: 'task_not_ready', message: 'Leased to Alice; not started yet.' },
      workers: null,
    };
    expect(explanationText(blocked)).toEqual({
      lead: 'Leased to Alice; not started yet.',
      reasons: [],
    });
  });

  it('lists the rules that stop the online workers, a line each, with who and how many more', () => {
    const answer = ready({
      online: 5,
      offline: 0,
      eligible: [],
      eligible_count: 0,
      ineligible: [
        {
          reason: 'missing_skill',
          count: 4,
          message: '4 workers lack a required skill (rust)',
          examples: [
            { worker_id: 'w_1', name: 'Ann' },
            { worker_id: 'w_2', name: 'Bob' },
            { worker_id: 'w_3', name: 'Cy' },
          ],
        },
        {
          reason: 'worker_paused',
          count: 1,
          message: '1 worker is paused',
          examples: [{ worker_id: 'w_4', name: 'Di' }],
        },
      ],
    });
    expect(explanationText(answer)).toEqual({
      lead: 'None of the 5 online workers may take it:',
      reasons: [
        '4 workers lack a required skill (rust): Ann, Bob, Cy, …',
        '1 worker is paused: Di',
      ],
    });
    const one = ready({
      ...answer.workers!,
      online: 1,
      ineligible: [answer.workers!.ineligible[1]!],
    });
    expect(explanationText(one).lead).toBe('The one online worker may not take it:');
  });

  it('is the summary when a worker may take it now, or none is online', () => {
    const eligible = ready(
      {
        online: 2,
        offline: 0,
        eligible: [{ worker_id: 'w_1', name: 'Ann' }],
        eligible_count: 1,
        ineligible: [
          {
            reason: 'no_free_slot',
            count: 1,
            message: '1 worker holds as many tasks at once as allowed',
            examples: [{ worker_id: 'w_2', name: 'Bob' }],
          },
        ],
      },
      '1 online worker may take it now (Ann); …',
    );
    expect(explanationText(eligible)).toEqual({
      lead: '1 online worker may take it now (Ann); …',
      reasons: [],
    });
    const nobody = ready(
      { online: 0, offline: 3, eligible: [], eligible_count: 0, ineligible: [] },
      'No worker is online (3 registered, none heard from lately).',
    );
    expect(explanationText(nobody).reasons).toEqual([]);
  });
});
