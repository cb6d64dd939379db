import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ImportFileError, describeProblem, readTaskImport } from './task-import.ts';

describe('readTaskImport', () => {
  it('makes a create request per item, in the repo given, with the protocol defaults', () => {
    const text = `
- title: Fix the login redirect
  estimate_points: 2
  required_skills: [typescript]
- title: Write the changelog
  description: For 0.2.
`;
    const { requests, problems } = readTaskImport(text, 'acme/app', parse);
    expect(problems).toEqual([]);
    expect(requests).toEqual([
      expect.objectContaining({
        repo: 'acme/app',
        title: 'Fix the login redirect',
        estimate_points: 2,
        required_skills: ['typescript'],
      }),
      expect.objectContaining({
        repo: 'acme/app',
        title: 'Write the changelog',
        description: 'For 0.2.',
        estimate_points: 1,
      }),
    ]);
  });

  it('reports every bad item, with its number and title, and keeps the good ones', () => {
    const text = `
- title: Good
- title: Too big
  estimate_points: 500
- estimate_points: 2
`;
    const { requests, problems } = readTaskImport(text, 'acme/app', parse);
    expect(requests.map((r) => r.title)).toEqual(['Good']);
    expect(problems.map((p) => [p.item, p.title])).toEqual([
      [2, 'Too big'],
      [3, null],
    ]);
    expect(describeProblem(problems[0]!)).toMatch(/^Item 2 \(“Too big”\): estimate_points: /);
  });

  it('refuses a file that is not YAML, empty, or not a list', () => {
    expect(() => readTaskImport('- [unclosed', 'a', parse)).toThrow(ImportFileError);
    expect(() => readTaskImport('', 'a', parse)).toThrow('holds no tasks');
    expect(() => readTaskImport('title: one task', 'a', parse)).toThrow('YAML list');
  });
});
