import { describe, expect, it } from 'vitest';
import { attemptLimit, attemptsText, failedNotice } from './task-attempts.ts';
import { aRepo, aTask } from './testing/builders.ts';

const repo = aRepo('demo', { max_attempts: 3 });

describe("a task's attempts", () => {
  it("counts against the task's own limit, else the repo's", () => {
    const own = aTask('t_1', { attempts: 2, max_attempts: 5 });
    const inherited = aTask('t_2', { attempts: 1 });
    expect(attemptLimit(own, repo)).toBe(5);
    expect(attemptsText(own, repo)).toBe("2 of 5 (this task's limit)");
    expect(attemptLimit(inherited, repo)).toBe(3);
    expect(attemptsText(inherited, repo)).toBe("1 of 3 (the repo's limit)");
  });

  it('shows the bare count when the repo is not loaded', () => {
    expect(attemptLimit(aTask('t_1', { attempts: 4 }), undefined)).toBeNull();
    expect(attemptsText(aTask('t_1', { attempts: 4 }), undefined)).toBe('4');
  });

  it('explains a failed task and what brings it back', () => {
    const failed = aTask('t_1', { status: 'failed', attempts: 3 });
    expect(failedNotice(failed, repo)).toBe(
      'Out of attempts (3 of 3 used): nothing will lease it again until an admin requeues it, ' +
        'which starts the count over, or cancels it.',
    );
    expect(failedNotice(failed, undefined)).toBe(
      'Out of attempts (3 used): nothing will lease it again until an admin requeues it, ' +
        'which starts the count over, or cancels it.',
    );
  });
});
