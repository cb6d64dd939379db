import { describe, expect, it } from 'vitest';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { SqlJsDriver } from '../embedded/sqljs-driver.ts';
import { myWork, workerActions } from '../state/my-work.ts';
import { aSnapshot } from '../state/testing/snapshot-builder.ts';
import { PoolActions, boardMoveTargets, prLabel, prUrlProblem } from './pool-actions.ts';

/** A pool with one task leased to one worker, and the APIs of its admin and its worker. */
async function poolWithALease() {
  const engine = new Scheduler({ driver: await SqlJsDriver.open(), clock: systemClock });
  const admin = new LocalOwpApi(engine, { admin: true });
  await admin.upsertRepo({ repo: 'demo' });
  const task = await admin.createTask({ repo: 'demo', title: 'Fix it' });
  const { worker_id, token } = await admin.registerWorker({ name: 'Ana' });
  const api = new LocalOwpApi(engine, { admin: true, workerToken: token });
  await api.heartbeat();
  const item = async () => {
    const snapshot = aSnapshot({ tasks: [await api.getTask(task.task_id)] });
    return myWork(snapshot, worker_id, Date.now())[0]!;
  };
  return { api, admin, taskId: task.task_id, item, actions: new PoolActions(() => api) };
}

describe('PoolActions', () => {
  it('runs a worker’s moves under its lease: start, then a PR with its link', async () => {
    const { actions, item, api, taskId } = await poolWithALease();
    const start = workerActions('leased').find((a) => a.kind === 'start')!;
    await actions.runWorkAction(await item(), start);
    expect((await api.getTask(taskId)).status).toBe('in_progress');

    const openPr = workerActions('in_progress').find((a) => a.kind === 'open_pr')!;
    await expect(actions.runWorkAction(await item(), openPr, 'not a link')).rejects.toThrow(
      'not a link',
    );
    await actions.runWorkAction(await item(), openPr, ' https://github.com/acme/app/pull/7 ');
    const task = await api.getTask(taskId);
    expect(task.status).toBe('pr_opened');
    expect(task.artifact?.pr_url).toBe('https://github.com/acme/app/pull/7');

    // The maintainer merges it from the board.
    await actions.moveTask(taskId, 'pr_opened', 'merged');
    expect((await api.getTask(taskId)).status).toBe('merged');
  });

  it('refuses a write made under a lease that has moved on', async () => {
    const { actions, item, admin, api, taskId } = await poolWithALease();
    const stale = await item();
    await admin.requeueTask(taskId);
    await api.heartbeat(); // granted again: a new lease, a new epoch
    const start = workerActions('leased').find((a) => a.kind === 'start')!;
    await expect(actions.runWorkAction(stale, start)).rejects.toMatchObject({ status: 409 });
  });

  it('releases a lease, and moves cards as an admin: back to the queue or cancelled', async () => {
    const { actions, item, api, taskId } = await poolWithALease();
    const release = workerActions('leased').find((a) => a.kind === 'release')!;
    await actions.runWorkAction(await item(), release);
    expect((await api.getTask(taskId)).attempts).toBe(1);

    await actions.moveTask(taskId, 'ready', 'cancelled');
    expect((await api.getTask(taskId)).status).toBe('cancelled');
    await expect(actions.moveTask(taskId, 'ready', 'merged')).rejects.toThrow('cannot be moved');
    await expect(actions.moveTask(taskId, 'cancelled', 'ready')).rejects.toThrow('cannot be moved');
  });
});

describe('what the views offer', () => {
  it('board moves: requeue, merge and cancel, as the lifecycle allows an admin', () => {
    expect(boardMoveTargets('ready')).toEqual(['cancelled']);
    expect(boardMoveTargets('blocked')).toEqual(['ready', 'cancelled']);
    expect(boardMoveTargets('pr_opened')).toEqual(['ready', 'merged', 'cancelled']);
    expect(boardMoveTargets('merged')).toEqual([]);
  });

  it('PR links: checked before sending, shown by number', () => {
    expect(prUrlProblem('')).toMatch(/Paste/);
    expect(prUrlProblem('github.com/a/b/pull/1')).toMatch(/not a link/);
    expect(prUrlProblem('ftp://example.org/pull/1')).toMatch(/https/);
    expect(prUrlProblem('https://github.com/a/b/pull/1')).toBeNull();
    expect(prLabel('https://github.com/a/b/pull/418')).toBe('PR #418');
    expect(prLabel('https://gitlab.com/a/b/-/merge_requests/9')).toBe('PR #9');
    expect(prLabel('https://example.org/review')).toBe('PR');
  });
});
