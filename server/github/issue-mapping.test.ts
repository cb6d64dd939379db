import { describe, expect, it } from 'vitest';
import { findMalformedInput } from '../../protocol/common.ts';
import { TaskCreateRequest } from '../../protocol/tasks.ts';
import {
  changedFields,
  issueDescription,
  issueRefOf,
  isPullRequest,
  taskFieldsFromIssue,
  type GithubIssue,
} from './issue-mapping.ts';

/** An issue of acme/app with the given labels; everything else plain. */
function issue(labels: GithubIssue['labels'], extra: Partial<GithubIssue> = {}): GithubIssue {
  return {
    number: 7,
    title: 'Parser: handle empty input',
    body: 'Steps to reproduce…',
    html_url: 'https://github.com/acme/app/issues/7',
    labels,
    ...extra,
  };
}

describe('taskFieldsFromIssue (the wire doc conventions)', () => {
  it('uses the defaults when no label says otherwise', () => {
    const { fields, warnings } = taskFieldsFromIssue(issue(['pool:ready', 'bug']));
    expect(fields).toEqual({
      title: 'Parser: handle empty input',
      description: 'https://github.com/acme/app/issues/7\n\nSteps to reproduce…',
      estimate_points: 1,
      priority: 50,
      required_skills: [],
      area: null,
    });
    expect(warnings).toEqual([]);
  });

  it('maps estimate/size, named and numeric priority, every skill and the first area', () => {
    const { fields } = taskFieldsFromIssue(
      issue([
        { name: 'size:3' },
        { name: 'estimate:8' },
        { name: 'priority:high' },
        { name: 'skills:Python' },
        { name: 'skills:docs' },
        { name: 'area:parser' },
        { name: 'area:docs' },
      ]),
    );
    expect(fields).toMatchObject({
      estimate_points: 3,
      priority: 80,
      required_skills: ['docs', 'python'],
      area: 'parser',
    });
    for (const [label, priority] of [
      ['priority:critical', 100],
      ['priority:medium', 50],
      ['priority:Low', 20],
      ['priority:640', 640],
    ] as const) {
      expect(taskFieldsFromIssue(issue([label])).fields.priority).toBe(priority);
    }
  });

  it('keeps odd labels from failing the import: clamps ranges, ignores junk, with warnings', () => {
    const { fields, warnings } = taskFieldsFromIssue(
      issue(['estimate:500', 'priority:urgent', 'skills:', 'area: ']),
    );
    expect(fields).toMatchObject({ estimate_points: 100, priority: 50, required_skills: [] });
    expect(fields.area).toBeNull();
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toContain('outside 1–100; 100 used');
  });

  it('starts the description with the issue URL, then the body; no body gives the URL alone', () => {
    expect(taskFieldsFromIssue(issue([], { body: null })).fields.description).toBe(
      'https://github.com/acme/app/issues/7',
    );
    const long = issueDescription('https://github.com/acme/app/issues/7', 'x'.repeat(200_000));
    expect(long.length).toBe(100_000);
    expect(long.startsWith('https://github.com/acme/app/issues/7\n\nxxx')).toBe(true);
  });

  it('makes every title and body a task can take: cut between characters, one line, visible', () => {
    const TaskCreate = TaskCreateRequest.pick({ title: true, description: true });
    // Emoji (two UTF-16 units each) across the limits, at both parities: half of one was refused.
    const emoji = (before: number) => `${'c'.repeat(before)}${'😀'.repeat(1000)}`;
    const odd = [
      { title: `${'a'.repeat(298)}😀${'b'.repeat(20)}`, body: emoji(99_850) },
      { title: `${'a'.repeat(299)}😀`, body: emoji(99_851) },
      { title: '\u200b\u200b', body: null },
      { title: 'Tabs\tand\nbreaks', body: 'fine' },
    ].map((extra) => taskFieldsFromIssue(issue([], extra)).fields);
    for (const fields of odd) {
      expect(findMalformedInput(fields)).toBeNull();
      expect(TaskCreate.safeParse(fields).success).toBe(true);
    }
    expect(odd[0]!.title).toBe(`${'a'.repeat(298)}…`);
    expect(odd[1]!.title).toBe(`${'a'.repeat(299)}…`);
    expect(odd[2]!.title).toBe('Issue #7');
    expect(odd[3]!.title).toBe('Tabs and breaks');
  });

  it('recognises pull requests by their pull_request key', () => {
    expect(isPullRequest(issue([], { pull_request: { url: 'x' } }))).toBe(true);
    expect(isPullRequest(issue([]))).toBe(false);
  });
});

describe('issueRefOf', () => {
  it('reads the issue from the first line, on github.com and on GitHub Enterprise', () => {
    expect(issueRefOf('https://github.com/acme/app/issues/7\n\nbody')).toEqual({
      url: 'https://github.com/acme/app/issues/7',
      owner: 'acme',
      repo: 'app',
      number: 7,
    });
    expect(issueRefOf('https://ghe.example.com/acme/app/issues/12')).toMatchObject({
      owner: 'acme',
      repo: 'app',
      number: 12,
    });
  });

  it('ignores descriptions that only mention an issue later on', () => {
    expect(issueRefOf('Fix it.\nhttps://github.com/acme/app/issues/7')).toBeNull();
    expect(issueRefOf('https://github.com/acme/app/pull/7')).toBeNull();
    expect(issueRefOf('')).toBeNull();
  });
});

describe('changedFields', () => {
  const wanted = taskFieldsFromIssue(issue(['skills:python', 'area:parser'])).fields;

  it('is empty when the task already says what the issue says (skills as a set)', () => {
    expect(changedFields({ ...wanted, required_skills: ['PYTHON'] }, wanted)).toEqual({});
  });

  it('names only what differs', () => {
    expect(changedFields({ ...wanted, title: 'old', priority: 10, area: null }, wanted)).toEqual({
      title: wanted.title,
      priority: 50,
      area: 'parser',
    });
  });
});
