import { expect, it } from 'vitest';
import { taskFormRequest } from './task-form.ts';

const values = { title: 'Fix it', repo: 'acme/app', points: '', skills: '', area: '' };

it('turns the form into a create request, with defaults for what is left empty', () => {
  expect(taskFormRequest({ ...values, skills: 'ts, css', area: ' auth ', points: '3' })).toEqual({
    ok: true,
    request: expect.objectContaining({
      title: 'Fix it',
      repo: 'acme/app',
      estimate_points: 3,
      required_skills: ['ts', 'css'],
      area: 'auth',
    }),
  });
  expect(taskFormRequest(values)).toMatchObject({
    ok: true,
    request: { estimate_points: 1, area: null },
  });
});

it('names the first thing to fix', () => {
  expect(taskFormRequest({ ...values, title: '  ' })).toEqual({
    ok: false,
    problem: 'Give the task a title.',
  });
  expect(taskFormRequest({ ...values, repo: 'not a repo' })).toMatchObject({
    ok: false,
    problem: expect.stringContaining('repo'),
  });
  expect(taskFormRequest({ ...values, points: '2.5' })).toMatchObject({
    ok: false,
    problem: expect.stringContaining('Points'),
  });
});
