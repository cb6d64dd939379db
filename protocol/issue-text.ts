import type { z } from 'zod';

/**
 * A schema problem in the words a person reads on a form or in an import preview — "is required",
 * "must not be empty", "must be at most 200 characters" — rather than zod's own ("Too small:
 * expected string to have >=1 characters"). `root` is what was validated: a field it does not
 * hold is missing, whatever type was expected. The API keeps zod's messages: clients read codes.
 */
export function plainIssue(issue: z.core.$ZodIssue, root?: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return valueAt(root, issue.path) === undefined
        ? 'is required'
        : `must be ${withArticle(issue.expected)}`;
    case 'too_small': {
      const n = Number(issue.minimum);
      if (issue.origin === 'string') {
        return n <= 1 ? 'must not be empty' : `must be at least ${n} characters`;
      }
      if (issue.origin === 'array' || issue.origin === 'set') {
        return `must have at least ${n} ${n === 1 ? 'item' : 'items'}`;
      }
      return issue.inclusive === false ? `must be more than ${n}` : `must be at least ${n}`;
    }
    case 'too_big': {
      const n = Number(issue.maximum);
      if (issue.origin === 'string') return `must be at most ${n} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') {
        return `must have at most ${n} ${n === 1 ? 'item' : 'items'}`;
      }
      return issue.inclusive === false ? `must be less than ${n}` : `must be at most ${n}`;
    }
    default:
      return issue.message;
  }
}

/** `field: problem`, or the problem alone for the value itself. */
export function plainIssueWithPath(issue: z.core.$ZodIssue, root?: unknown): string {
  const text = plainIssue(issue, root);
  return issue.path.length ? `${issue.path.join('.')}: ${text}` : text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function withArticle(type: string): string {
  const noun = type === 'int' ? 'whole number' : type;
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}
