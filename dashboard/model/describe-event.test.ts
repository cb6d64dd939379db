import { describe, expect, it } from 'vitest';
import type { OwpEvent } from '../../protocol/events.ts';
import { describeEvent, inFeed, transitionLabel, type EventNames } from './describe-event.ts';
import { EventScript, at } from './testing/builders.ts';

const names: EventNames = {
  taskTitle: (id) => ({ t_a: 'Fix login' })[id],
  workerName: (id) => ({ w_1: 'ada' })[id],
};

describe('events in words', () => {
  it('names the task and worker instead of their ids when known', () => {
    const [grant, requeue] = new EventScript()
      .moved('t_a', 1, 'ready', 'leased', 'grant', 'w_1')
      .moved('t_zz', 2, 'leased', 'ready', 'requeue', 'w_9').events;
    expect(describeEvent(grant!, names)).toEqual({
      text: '“Fix login” leased to ada',
      tone: 'neutral',
    });
    expect(describeEvent(requeue!, names)).toEqual({
      text: '“t_zz” requeued by an admin',
      tone: 'warn',
    });
    expect(transitionLabel(grant!)).toBe('Ready → Leased');
  });

  it('describes every kind of event', () => {
    const base = { seq: 1, at: at(0), repo: 'demo', task_id: null, worker_id: 'w_1' };
    const cases: Array<[OwpEvent, string]> = [
      [
        { ...base, type: 'repo.upserted', data: { max_open_prs: 1, area_locks_enabled: false } },
        'Repo demo: review budget 1 PR, area locks off',
      ],
      [{ ...base, type: 'repo.deleted', data: {} }, 'Repo demo deleted'],
      [
        { ...base, type: 'task.created', task_id: 't_a', data: { title: 'New', priority: 5 } },
        '“New” created in demo (priority 5)',
      ],
      [
        {
          ...base,
          type: 'task.updated',
          task_id: 't_a',
          data: { fields: ['priority', 'area'], version: 3 },
        },
        '“Fix login” edited: priority, area',
      ],
      [
        { ...base, type: 'worker.registered', data: { name: 'ada', skills: ['ts'] } },
        'Worker ada registered (ts)',
      ],
      [{ ...base, type: 'worker.online', data: { status: 'idle' } }, 'ada came online (idle)'],
      [{ ...base, type: 'worker.offline', data: {} }, 'ada went offline'],
      [
        { ...base, type: 'worker.status_changed', data: { from: 'idle', to: 'working' } },
        'ada: idle → working',
      ],
      [{ ...base, type: 'worker.paused', data: {} }, 'ada paused by an admin'],
      [{ ...base, type: 'worker.resumed', data: {} }, 'ada resumed'],
    ];
    for (const [event, text] of cases) expect(describeEvent(event, names).text).toBe(text);
  });

  it("leaves the task unsaid in the task's own history", () => {
    const [created, grant, opened] = new EventScript()
      .created('t_a', 0, 'Fix login')
      .moved('t_a', 1, 'ready', 'leased', 'grant', 'w_1')
      .moved('t_a', 2, 'in_progress', 'pr_opened', 'open_pr', 'w_1').events;
    expect(describeEvent(created!, names, true).text).toBe('Created in demo (priority 10)');
    expect(describeEvent(grant!, names, true).text).toBe('Leased to ada');
    expect(describeEvent(opened!, names, true).text).toBe('PR opened by ada');
    expect(describeEvent(opened!, names).text).toBe('“Fix login”: PR opened by ada');
  });

  it('carries the message of a block or a release', () => {
    const [block] = new EventScript().moved(
      't_a',
      1,
      'in_progress',
      'blocked',
      'block',
      'w_1',
    ).events;
    const withMessage = {
      ...block!,
      data: {
        ...(block as Extract<OwpEvent, { type: 'task.status_changed' }>).data,
        message: 'needs a key',
      },
    } as OwpEvent;
    expect(describeEvent(withMessage, names)).toEqual({
      text: '“Fix login” blocked (ada) — needs a key',
      tone: 'bad',
    });
  });

  it('keeps the reason of the release that used the last attempt', () => {
    const [failed] = new EventScript().moved('t_a', 1, 'in_progress', 'failed', 'release', 'w_1')
      .events as [Extract<OwpEvent, { type: 'task.status_changed' }>];
    const withReason = { ...failed, data: { ...failed.data, message: 'cannot reproduce' } };
    expect(describeEvent(withReason, names)).toEqual({
      text: '“Fix login”: out of attempts (released by ada — cannot reproduce); waiting for an admin',
      tone: 'bad',
    });
  });

  it('says a dependency was merged, not that someone edited the task', () => {
    const event: OwpEvent = {
      seq: 1,
      at: at(0),
      repo: 'demo',
      task_id: 't_a',
      worker_id: null,
      type: 'task.updated',
      data: { fields: ['dependencies_pending'], version: 2 },
    } as OwpEvent;
    expect(describeEvent(event, names).text).toBe('“Fix login”: a task it depends on was merged');
  });

  it('shows an offer once in the live feed: by its offer event, not the status change too', () => {
    const [offered, started] = new EventScript()
      .moved('t_a', 1, 'ready', 'offered', 'offer', 'w_1')
      .moved('t_a', 2, 'leased', 'in_progress', 'start', 'w_1').events;
    expect(inFeed(offered!)).toBe(false);
    expect(inFeed(started!)).toBe(true);
    expect(
      inFeed({
        seq: 3,
        at: at(0),
        repo: 'demo',
        task_id: 't_a',
        worker_id: 'w_1',
        type: 'offer.expired',
        data: {},
      } as unknown as OwpEvent),
    ).toBe(true);
  });

  it('leaves lease renewals out of the live feed: upkeep, every half TTL of every lease', () => {
    const renewed = {
      seq: 4,
      at: at(0),
      repo: 'demo',
      task_id: 't_a',
      worker_id: 'w_1',
      actor: 'w_1',
      type: 'lease.renewed',
      data: { lease_id: 'l_1', expires_at: at(30) },
    } as unknown as OwpEvent;
    expect(inFeed(renewed)).toBe(false);
  });
});
