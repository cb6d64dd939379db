import { describe, expect, it } from 'vitest';
import { emptyTaskForm, toTaskCreateRequest } from './task-form.ts';

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

  it('names each wrong field with the protocol’s own rule', () => {
    const result = toTaskCreateRequest({
      ...emptyTaskForm(''),
      priority: 'high',
      tier: '7',
      lease_ttl_seconds: '3',
    });
    expect(result.ok).toBe(false);
    const errors = (result as { errors: Record<string, string> }).errors;
    expect(Object.keys(errors).sort()).toEqual([
      'lease_ttl_seconds',
      'priority',
      'repo',
      'tier',
      'title',
    ]);
    expect(errors.priority).toBe('must be a whole number');
    expect(errors.tier).toMatch(/3/);
  });
});
