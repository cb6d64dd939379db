import { describe, expect, it } from 'vitest';
import { OwpError } from '../../protocol/errors.ts';
import {
  addDependency,
  createRefusalFields,
  creationAttempt,
  draftToKeep,
  emptyTaskForm,
  openingForm,
  removeDependency,
  toTaskCreateRequest,
} from './task-form.ts';

describe('the new-task form', () => {
  it('turns what was typed into a create request', () => {
    const result = toTaskCreateRequest({
      ...emptyTaskForm('demo'),
      title: '  Fix login  ',
      required_skills: 'ts, Svelte ,, sql',
      area: ' auth ',
      priority: '40',
      lease_ttl_seconds: '',
    });
    expect(result).toEqual({
      ok: true,
      value: {
        repo: 'demo',
        title: 'Fix login',
        description: '',
        required_skills: ['ts', 'Svelte', 'sql'],
        area: 'auth',
        estimate_points: 1,
        priority: 40,
        tier: 0,
      },
    });
  });

  it('sends the dependencies and an attempt limit when given', () => {
    const result = toTaskCreateRequest({
      ...emptyTaskForm('demo'),
      title: 'Wire the API',
      depends_on: ' t_schema,t_auth , ',
      max_attempts: '2',
    });
    expect(result).toEqual({
      ok: true,
      value: {
        repo: 'demo',
        title: 'Wire the API',
        description: '',
        required_skills: [],
        area: null,
        estimate_points: 1,
        priority: 10,
        tier: 0,
        max_attempts: 2,
        depends_on: ['t_schema', 't_auth'],
      },
    });
  });

  it('names each wrong field with the protocol’s own rule', () => {
    const result = toTaskCreateRequest({
      ...emptyTaskForm(''),
      priority: 'high',
      tier: '7',
      lease_ttl_seconds: '3',
      max_attempts: '0',
      depends_on: 't_a, t_a',
    });
    expect(result.ok).toBe(false);
    const errors = (result as { errors: Record<string, string> }).errors;
    expect(Object.keys(errors).sort()).toEqual([
      'depends_on',
      'lease_ttl_seconds',
      'max_attempts',
      'priority',
      'repo',
      'tier',
      'title',
    ]);
    expect(errors.priority).toBe('must be a whole number');
    expect(errors.depends_on).toBe('each task may be named once');
    expect(errors.tier).toMatch(/3/);
    expect(errors.max_attempts).toBe('must be at least 1');
  });

  it('adds a picked dependency once, at the end, and removes one', () => {
    expect(addDependency('', 't_a')).toBe('t_a');
    expect(addDependency('t_a,t_b ', 't_c')).toBe('t_a, t_b, t_c');
    expect(addDependency('t_a, t_b', 't_a')).toBe('t_a, t_b');
    expect(removeDependency('t_a, t_b, t_c', 't_b')).toBe('t_a, t_c');
    expect(removeDependency('t_a', 't_a')).toBe('');
  });

  it("puts the server's refusal of a dependency under the field, in its words", () => {
    const unknown = new OwpError(
      'dependency_unknown',
      'No task with id t_9; a task can depend only on existing tasks.',
      { missing: ['t_9'] },
    );
    expect(createRefusalFields(unknown)).toEqual({
      depends_on: 'No task with id t_9; a task can depend only on existing tasks.',
    });
    const invalid = new OwpError('validation_failed', 'Invalid request.', {
      issues: [{ path: 'title', message: 'too long' }],
    });
    expect(createRefusalFields(invalid)).toEqual({ title: 'too long' });
    expect(createRefusalFields(new OwpError('repo_not_found', 'No repo demo.'))).toEqual({});
  });

  it('keeps a draft only when something besides the repo was typed', () => {
    expect(draftToKeep(emptyTaskForm('owner/app'))).toBeNull();
    expect(draftToKeep({ ...emptyTaskForm('owner/app'), description: '  \n' })).toBeNull();
    const typed = { ...emptyTaskForm('owner/app'), title: 'Add a dark theme', priority: '40' };
    const kept = draftToKeep(typed);
    expect(kept).toEqual(typed);
    // A copy: later typing in the closed form's object does not reach the kept draft.
    typed.title = 'changed';
    expect(kept?.title).toBe('Add a dark theme');
  });

  it('opens on the kept draft, in its repo while that repo exists', () => {
    const draft = { ...emptyTaskForm('owner/site'), title: 'Half written' };
    expect(openingForm(null, ['owner/app', 'owner/site'])).toEqual(emptyTaskForm('owner/app'));
    expect(openingForm(draft, ['owner/app', 'owner/site'])).toEqual(draft);
    expect(openingForm(draft, ['owner/app'])).toEqual({ ...draft, repo: 'owner/app' });
    expect(openingForm(draft, [])).toEqual({ ...draft, repo: '' });
  });

  it('sends the same request again with the same key, and another with a new one', () => {
    const request = { repo: 'owner/app', title: 'Fix the login', priority: 5 };
    const first = creationAttempt(null, request);
    expect(first.key).toMatch(/^dashboard-[0-9a-f]{32}$/);
    // Create pressed again after no answer: the same request, in whatever key order.
    expect(creationAttempt(first, { priority: 5, title: 'Fix the login', repo: 'owner/app' })).toBe(
      first,
    );
    const edited = creationAttempt(first, { ...request, title: 'Fix the login page' });
    expect(edited.key).not.toBe(first.key);
    expect(creationAttempt(null, request).key).not.toBe(first.key);
  });
});
