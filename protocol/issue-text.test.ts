import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { plainIssue, plainIssueWithPath } from './issue-text.ts';

const Form = z.object({
  title: z.string().min(1).max(10),
  code: z.string().min(3),
  priority: z.int().min(0).max(100),
  skills: z.array(z.string()).max(2),
  tags: z.array(z.string()).min(1),
  note: z.string().optional(),
});

/** The plain text of each issue for `input`, by path. */
function problems(input: Record<string, unknown>) {
  const result = Form.safeParse(input);
  if (result.success) return {};
  return Object.fromEntries(
    result.error.issues.map((issue) => [issue.path.join('.'), plainIssue(issue, input)]),
  );
}

describe('plainIssue', () => {
  it('says a missing field is required, and a wrong type what it must be', () => {
    expect(problems({ code: 'abc', priority: 'high', skills: [], tags: ['x'], note: 5 })).toEqual({
      title: 'is required',
      priority: 'must be a number',
      note: 'must be a string',
    });
  });

  it('says what is too short, too long, too small or too big in words', () => {
    expect(
      problems({ title: '', code: 'ab', priority: 101, skills: ['a', 'b', 'c'], tags: [] }),
    ).toEqual({
      title: 'must not be empty',
      code: 'must be at least 3 characters',
      priority: 'must be at most 100',
      skills: 'must have at most 2 items',
      tags: 'must have at least 1 item',
    });
    expect(
      problems({ title: 'x'.repeat(11), code: 'abc', priority: -1, skills: [], tags: ['t'] }),
    ).toEqual({
      title: 'must be at most 10 characters',
      priority: 'must be at least 0',
    });
  });

  it('names the path before the problem when asked', () => {
    const result = z.object({ a: z.object({ b: z.string() }) }).safeParse({ a: {} });
    expect(result.success).toBe(false);
    expect(plainIssueWithPath(result.error!.issues[0]!, { a: {} })).toBe('a.b: is required');
  });
});
