import { describe, expect, it } from 'vitest';
import { taskNotePanel } from './task-note-panel.ts';
import { aRepo, aSnapshot, aTask } from './testing/snapshot-builder.ts';

describe('taskNotePanel', () => {
  const contract = {
    setup: 'npm ci',
    test: 'npm test',
    lint: null,
    branch_naming: 'owp/<task id>',
    pr_template: '## What changed\n',
  };
  const snapshot = aSnapshot({
    tasks: [
      aTask({ task_id: 't_schema', title: 'Schema', repo: 'acme/web', status: 'in_progress' }),
      aTask({
        task_id: 't_api',
        title: 'API',
        repo: 'acme/web',
        depends_on: ['t_schema'],
        dependencies_pending: 1,
        attempts: 1,
      }),
      aTask({ task_id: 't_ui', title: 'UI', repo: 'acme/web', depends_on: ['t_api'] }),
      aTask({ task_id: 't_lost', repo: 'elsewhere', status: 'failed', attempts: 2 }),
    ],
    repos: [aRepo({ repo: 'acme/web', contract, max_attempts: 3 })],
  });

  it('gives the repo’s contract, what the task waits on and blocks, and its attempts', () => {
    expect(taskNotePanel(snapshot, 't_api')).toEqual({
      taskId: 't_api',
      repo: 'acme/web',
      status: 'ready',
      statusLabel: 'Ready',
      waitingOn: 1,
      dependsOn: [{ taskId: 't_schema', title: 'Schema', status: 'in_progress', state: 'pending' }],
      blocks: [{ taskId: 't_ui', title: 'UI', status: 'ready', state: 'pending' }],
      contract: [
        { key: 'setup', label: 'Setup', text: 'npm ci', kind: 'code' },
        { key: 'test', label: 'Test', text: 'npm test', kind: 'code' },
        { key: 'branch_naming', label: 'Branch naming', text: 'owp/<task id>', kind: 'code' },
        { key: 'pr_template', label: 'PR template', text: '## What changed', kind: 'block' },
      ],
      repoKnown: true,
      attempts: '1 of 3',
      failure: null,
      summary: 'Ready · waiting on 1 · blocks 1 · contract',
    });
  });

  it('says why a failed task stopped, and that its repo is unknown here', () => {
    expect(taskNotePanel(snapshot, 't_lost')).toMatchObject({
      contract: [],
      repoKnown: false,
      attempts: '2',
      failure: 'Out of attempts: 2 used',
      summary: 'Failed',
    });
  });

  it('is null for a task the snapshot does not hold', () => {
    expect(taskNotePanel(snapshot, 't_nope')).toBeNull();
  });
});
