import { describe, expect, it } from 'vitest';
import { OwpError } from '../../protocol/errors.ts';
import { describeError, fieldIssues } from './error-text.ts';

describe('errors in words', () => {
  it('keeps an OwpError message and code', () => {
    const error = new OwpError('invalid_transition', 'Cannot requeue a ready task.');
    expect(describeError(error)).toEqual({
      message: 'Cannot requeue a ready task.',
      code: 'invalid_transition',
    });
  });

  it('explains an unreachable server (fetch rejects with a TypeError)', () => {
    expect(describeError(new TypeError('Failed to fetch'))).toEqual({
      message: 'Cannot reach the server. Check that it is running and try again.',
      code: 'network',
    });
  });

  it('falls back to the message of anything else', () => {
    expect(describeError(new Error('boom'))).toEqual({ message: 'boom', code: null });
    expect(describeError('plain')).toEqual({ message: 'plain', code: null });
  });

  it('maps validation issues to the fields they are about, first issue per field', () => {
    const error = new OwpError('validation_failed', 'Invalid body', {
      issues: [
        { path: 'max_open_prs', message: 'Too big: expected number to be <=100' },
        { path: 'max_open_prs', message: 'second' },
        { path: 'required_skills.2', message: 'Too long' },
      ],
    });
    expect(fieldIssues(error)).toEqual({
      max_open_prs: 'Too big: expected number to be <=100',
      required_skills: 'Too long',
    });
    expect(fieldIssues(new OwpError('unknown_repo', 'no'))).toEqual({});
  });
});
