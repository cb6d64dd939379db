import { describe, expect, it } from 'vitest';
import type { Task } from '../../protocol/index.ts';
import {
  OWNED_KEYS,
  canonicalDescription,
  fileNameForTitle,
  fileNameMatchesTitle,
  noteToTaskFields,
  notePathForTitle,
  ownedChanges,
  taskToNote,
  titleFromPath,
} from './note-mapping.ts';

function aTask(overrides: Partial<Task> = {}): Task {
  return {
    task_id: 't_1',
    repo: 'acme/web',
    title: 'Fix: the crash',
    description: 'Steps to reproduce.',
    estimate_points: 3,
    priority: 20,
    required_skills: ['svelte', 'typescript'],
    area: 'ui',
    tier: 1,
    status: 'ready',
    assignee: null,
    lease: null,
    lease_ttl_seconds: null,
    artifact: null,
    attempts: 0,
    max_attempts: null,
    depends_on: [],
    dependencies_pending: 0,
    version: 4,
    created_at: '2026-01-17T12:00:00.000Z',
    updated_at: '2026-01-17T12:00:00.000Z',
    ...overrides,
  };
}

describe('taskToNote', () => {
  it('writes every owned key and the description as the body', () => {
    const note = taskToNote(aTask());
    expect(Object.keys(note.frontmatter).sort()).toEqual([...OWNED_KEYS].sort());
    expect(note.frontmatter).toEqual({
      owp_id: 't_1',
      repo: 'acme/web',
      status: 'ready',
      priority: 20,
      points: 3,
      skills: ['svelte', 'typescript'],
      area: 'ui',
      tier: 1,
      depends_on: [],
      assignee: null,
      lease_expires: null,
      pr_url: null,
      owp_version: 4,
    });
    expect(note.body).toBe('Steps to reproduce.\n');
  });

  it('names the assignee by the worker name when known, else by id', () => {
    const leased = aTask({
      status: 'pr_opened',
      assignee: 'w_7',
      lease: {
        lease_id: 'l_1',
        epoch: 1,
        worker_id: 'w_7',
        granted_at: '2026-01-17T12:00:00.000Z',
        expires_at: '2026-01-17T13:00:00.000Z',
      },
      artifact: { pr_url: 'https://github.com/acme/web/pull/9' },
    });
    expect(taskToNote(leased, new Map([['w_7', 'Ada']])).frontmatter).toMatchObject({
      assignee: 'Ada',
      lease_expires: '2026-01-17T13:00:00.000Z',
      pr_url: 'https://github.com/acme/web/pull/9',
    });
    expect(taskToNote(leased).frontmatter.assignee).toBe('w_7');
  });

  it('writes an empty description as an empty body', () => {
    expect(taskToNote(aTask({ description: '' })).body).toBe('');
  });

  it('writes the ids of the tasks it depends on, in the task’s order', () => {
    const task = aTask({ depends_on: ['t_b', 't_a'], dependencies_pending: 2 });
    expect(taskToNote(task).frontmatter.depends_on).toEqual(['t_b', 't_a']);
  });
});

describe('noteToTaskFields', () => {
  it('reads the user-editable fields, the title from the file name and the body', () => {
    const parsed = noteToTaskFields(
      { repo: 'acme/web', priority: 5, points: 2, skills: ['Go', 'sql'], area: 'db', tier: 2 },
      '\nThe body.\n\n',
      'Tasks/Speed up the query.md',
    );
    expect(parsed.errors).toEqual([]);
    expect(parsed.fields).toEqual({
      title: 'Speed up the query',
      description: 'The body.',
      repo: 'acme/web',
      priority: 5,
      estimate_points: 2,
      required_skills: ['go', 'sql'],
      area: 'db',
      tier: 2,
    });
  });

  it('accepts numbers typed as text and skills typed as a comma-separated line', () => {
    const { fields, errors } = noteToTaskFields(
      { priority: ' 7 ', points: '1', skills: 'TypeScript, svelte,', tier: '0' },
      '',
    );
    expect(errors).toEqual([]);
    expect(fields).toMatchObject({
      priority: 7,
      estimate_points: 1,
      required_skills: ['svelte', 'typescript'],
      tier: 0,
    });
  });

  it('leaves out missing and empty properties so the task keeps its values', () => {
    const { fields, errors } = noteToTaskFields({ priority: null, points: '', repo: '' }, 'x');
    expect(errors).toEqual([]);
    expect(fields).toEqual({ description: 'x' });
  });

  it('reads depends_on as a list of task ids, or ids typed on one line', () => {
    expect(noteToTaskFields({ depends_on: [' t_b ', 't_a', 't_b', ''] }, '').fields).toEqual({
      description: '',
      depends_on: ['t_b', 't_a'],
    });
    expect(noteToTaskFields({ depends_on: 't_Ab, t_c' }, '').fields.depends_on).toEqual([
      't_Ab',
      't_c',
    ]);
    // Emptied: the task no longer waits on anything.
    expect(noteToTaskFields({ depends_on: null }, '').fields.depends_on).toEqual([]);
    expect(noteToTaskFields({ depends_on: [] }, '').fields.depends_on).toEqual([]);
  });

  it('refuses depends_on that is not a list of ids, with a message fit for a Notice', () => {
    const message =
      'depends_on must be a list of task ids (the owp_id of other task notes), 50 at most.';
    for (const value of [
      { id: 't_1' },
      [1, 2],
      [['t_1']],
      Array.from({ length: 51 }, (_, i) => `t_${i}`),
    ]) {
      const { fields, errors } = noteToTaskFields({ depends_on: value }, '');
      expect(fields.depends_on).toBeUndefined();
      expect(errors).toEqual([{ key: 'depends_on', message }]);
    }
  });

  it('clears the area when the property is emptied', () => {
    expect(noteToTaskFields({ area: '' }, '').fields.area).toBeNull();
    expect(noteToTaskFields({ area: null }, '').fields.area).toBeNull();
  });

  it('reports each bad value with a message fit for a Notice, and never throws', () => {
    const { fields, errors } = noteToTaskFields(
      {
        priority: 'high',
        points: 0,
        tier: 7,
        skills: { nested: true },
        repo: 'not a repo!',
        area: ['a'],
      },
      'Body',
      'Tasks/ok.md',
    );
    expect(fields).toEqual({ title: 'ok', description: 'Body' });
    expect(Object.fromEntries(errors.map((e) => [e.key, e.message]))).toEqual({
      priority: 'priority must be a whole number from 0 to 1000; "high" is not.',
      points: 'points must be a whole number from 1 to 100; 0 is not.',
      tier: 'tier must be a whole number from 0 to 3; 7 is not.',
      skills: 'skills must be a list of names of at most 64 characters (50 at most).',
      repo: 'repo must be a name or owner/name, like "demo" or "acme/web"; "not a repo!" is not.',
      area: 'area must be text; ["a"] is not.',
    });
  });

  it('refuses a fractional priority', () => {
    expect(noteToTaskFields({ priority: 2.5 }, '').errors.map((e) => e.key)).toEqual(['priority']);
  });
});

describe('ownedChanges', () => {
  it('names the owned keys that differ, ignoring the user’s own properties', () => {
    const before: Record<string, unknown> = { ...taskToNote(aTask()).frontmatter };
    const after = { ...before, priority: 99, area: null, tags: ['mine'], cssclasses: 'x' };
    expect(ownedChanges(before, after)).toEqual(['priority', 'area']);
  });

  it('treats equal values written differently as unchanged', () => {
    const before = { priority: 5, skills: ['b', 'a'], area: '', pr_url: null, owp_version: 3 };
    const after = { priority: '5', skills: 'A, b', area: null, pr_url: '', owp_version: '3' };
    expect(ownedChanges(before, after)).toEqual([]);
  });

  it('sees a property removed as a change', () => {
    expect(ownedChanges({ priority: 5 }, {})).toEqual(['priority']);
    expect(ownedChanges({ depends_on: ['t_1'] }, {})).toEqual(['depends_on']);
  });

  it('takes dependencies in any order, and an absent depends_on as none', () => {
    expect(ownedChanges({ depends_on: ['t_a', 't_b'] }, { depends_on: 't_b, t_a' })).toEqual([]);
    // Notes written before the key existed agree with a task that depends on nothing.
    expect(ownedChanges({ depends_on: [] }, {})).toEqual([]);
    expect(ownedChanges({ depends_on: ['t_a'] }, { depends_on: ['t_A'] })).toEqual(['depends_on']);
  });
});

describe('file names', () => {
  it('replaces the characters Obsidian forbids and trims', () => {
    expect(fileNameForTitle('  Fix: a/b \\ c*?"<>|#^[x] ')).toBe('Fix a b c x');
    expect(fileNameForTitle('...hidden')).toBe('hidden');
    expect(fileNameForTitle('#?:')).toBe('Untitled task');
  });

  it('composes the name (NFC), as the vault stores every path', () => {
    expect(fileNameForTitle('Cafe\u0301 menu')).toBe('Caf\u00e9 menu');
    expect(fileNameMatchesTitle('Caf\u00e9 menu', 'Cafe\u0301 menu')).toBe(true);
  });

  it('caps the name at 200 bytes without splitting a character', () => {
    const name = fileNameForTitle('é'.repeat(150));
    expect(new TextEncoder().encode(name).length).toBeLessThanOrEqual(200);
    expect(name).toBe('é'.repeat(100));
  });

  it('adds " (2)", " (3)" when a path is taken', () => {
    const taken = new Set(['Tasks/Fix a bug.md', 'Tasks/Fix a bug (2).md']);
    expect(notePathForTitle('Tasks', 'Fix a bug', (p) => taken.has(p))).toBe(
      'Tasks/Fix a bug (3).md',
    );
    expect(notePathForTitle('', 'Other', () => false)).toBe('Other.md');
  });

  it('knows when a file name still stands for a title', () => {
    expect(fileNameMatchesTitle('Fix the crash', 'Fix: the crash')).toBe(true);
    expect(fileNameMatchesTitle('Fix the crash (2)', 'Fix: the crash')).toBe(true);
    expect(fileNameMatchesTitle('Fix the bug', 'Fix: the crash')).toBe(false);
    expect(fileNameMatchesTitle('Fix the crash (12)', 'Fix: the crash')).toBe(true);
    // Not a suffix the sync makes: renaming "Release" to "Release (2024)" retitles its task.
    expect(fileNameMatchesTitle('Release (2024)', 'Release')).toBe(false);
    expect(fileNameMatchesTitle('Release (1)', 'Release')).toBe(false);
    expect(fileNameMatchesTitle('Release (02)', 'Release')).toBe(false);
  });

  it('takes the title from the path', () => {
    expect(titleFromPath('Tasks/sub/A title.md')).toBe('A title');
    expect(titleFromPath('Root.MD')).toBe('Root');
  });
});

describe('canonicalDescription', () => {
  it('ignores leading blank lines and trailing whitespace, not inner text', () => {
    expect(canonicalDescription('\n  \n  indented\n\nmore  \n\n')).toBe('  indented\n\nmore');
  });
});
