import { describe, expect, it } from 'vitest';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { SqlJsDriver } from '../embedded/sqljs-driver.ts';
import { myWork, workerActions } from '../state/my-work.ts';
import { aSnapshot } from '../state/testing/snapshot-builder.ts';
import {
  PoolActions,
  boardMoveLabel,
  boardMoveTargets,
  prLabel,
  prUrlProblem,
} from './pool-actions.ts';

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

describe('PoolActions: the v1 work rules', () => {
  async function pool() {
    const engine = new Scheduler({ driver: await SqlJsDriver.open(), clock: systemClock });
    const admin = new LocalOwpApi(engine, { admin: true });
    const { worker_id, token } = await admin.registerWorker({ name: 'Ana' });
    const api = new LocalOwpApi(engine, { admin: true, workerToken: token });
    await api.heartbeat();
    return { admin, api, workerId: worker_id, actions: new PoolActions(() => api) };
  }

  it('accepts an offer, which becomes a lease, and rejects another with its reason', async () => {
    const { admin, api, actions } = await pool();
    await admin.upsertRepo({ repo: 'offers', assignment: 'offer' });
    const wanted = await admin.createTask({ repo: 'offers', title: 'Wanted' });
    const unwanted = await admin.createTask({ repo: 'offers', title: 'Unwanted' });
    const offers = (await api.listOffers()).offers;
    const offerOf = (taskId: string) => offers.find((o) => o.task_id === taskId)!.offer_id;

    await actions.acceptOffer(offerOf(wanted.task_id));
    expect((await api.getWork()).leases.map((l) => l.title)).toEqual(['Wanted']);

    await actions.rejectOffer(offerOf(unwanted.task_id), {
      reason: 'unclear_requirements',
      message: 'Which page?',
    });
    expect(await admin.getTask(unwanted.task_id)).toMatchObject({
      status: 'ready',
      assignee: null,
    });
    expect((await api.listOffers()).offers).toEqual([]);
    await expect(actions.acceptOffer(offerOf(unwanted.task_id))).rejects.toMatchObject({
      code: 'offer_closed',
    });
  });

  it('requeues a failed task with a fresh count, and changes a worker’s trust tier', async () => {
    const { admin, api, workerId, actions } = await pool();
    await admin.upsertRepo({ repo: 'once', max_attempts: 1 });
    const task = await admin.createTask({ repo: 'once', title: 'Flaky' });
    const [lease] = (await api.getWork()).leases;
    await api.releaseLease(lease!.lease_id, 'cannot reproduce');
    expect(await admin.getTask(task.task_id)).toMatchObject({ status: 'failed', attempts: 1 });

    await actions.setTrustTier(workerId, { tier: 'untrusted', reason: 'gave up on the task' });
    expect((await admin.listWorkers())[0]!.trust_tier).toBe('untrusted');

    await admin.pauseWorker(workerId); // else the requeued task is leased to Ana again at once
    await actions.moveTask(task.task_id, 'failed', 'ready');
    expect(await admin.getTask(task.task_id)).toMatchObject({ status: 'ready', attempts: 0 });
  });
});

describe('what the views offer', () => {
  it('board moves: requeue, merge and cancel, as the lifecycle allows an admin', () => {
    expect(boardMoveTargets('ready')).toEqual(['cancelled']);
    expect(boardMoveTargets('blocked')).toEqual(['ready', 'cancelled']);
    expect(boardMoveTargets('pr_opened')).toEqual(['ready', 'merged', 'cancelled']);
    expect(boardMoveTargets('merged')).toEqual([]);
    expect(boardMoveTargets('failed')).toEqual(['ready', 'cancelled']);
    expect(boardMoveTargets('offered')).toEqual(['cancelled']);
  });

  it('names a move: a failed task is requeued, other work goes back to the queue', () => {
    expect(boardMoveLabel('failed', 'ready')).toBe('Requeue');
    expect(boardMoveLabel('blocked', 'ready')).toBe('Back to the queue');
    expect(boardMoveLabel('pr_opened', 'merged')).toBe('Mark merged');
    expect(boardMoveLabel('failed', 'cancelled')).toBe('Cancel task');
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
