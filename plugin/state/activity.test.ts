import { describe, expect, it } from 'vitest';
import type { OwpEvent } from '../../protocol/index.ts';
import { activityItems, activityNames } from './activity.ts';
import { aSnapshot, aTask, aWorker, minutesFromNow } from './testing/snapshot-builder.ts';

/** An event as a test writes it: the type, its data, and whichever refs matter. */
type EventInput = {
  type: OwpEvent['type'];
  data: Record<string, unknown>;
  repo?: string | null;
  task_id?: string | null;
  worker_id?: string | null;
};

/** Events in order, numbered from 1, a minute apart, in the demo repo unless said otherwise. */
function history(...events: EventInput[]): OwpEvent[] {
  return events.map(
    (event, i) =>
      ({
        repo: 'demo',
        task_id: null,
        worker_id: null,
        ...event,
        seq: i + 1,
        at: minutesFromNow(i),
      }) as OwpEvent,
  );
}

const status = (
  cause: string,
  from: string,
  to: string,
  extra: Record<string, unknown> = {},
): EventInput => ({
  type: 'task.status_changed',
  task_id: 't_login',
  worker_id: 'w_alice',
  data: {
    from,
    to,
    cause,
    lease_id: 'l_1',
    epoch: 1,
    message: null,
    pr_url: null,
    version: 2,
    ...extra,
  },
});

const formatTime = (iso: string) => iso.slice(11, 16); // UTC HH:MM: tests stay zone-free

describe('activityItems', () => {
  const snapshot = aSnapshot({
    tasks: [
      aTask({
        task_id: 't_login',
        title: 'Fix login',
        status: 'leased',
        lease: {
          lease_id: 'l_1',
          epoch: 1,
          worker_id: 'w_alice',
          granted_at: '2026-01-17T12:00:00.000Z',
          expires_at: '2026-01-17T12:30:00.000Z',
        },
      }),
    ],
    workers: [aWorker({ worker_id: 'w_alice', name: 'Alice' })],
  });
  const names = activityNames(snapshot);
  const texts = (events: OwpEvent[]) =>
    activityItems(events, names, { formatTime }).map((item) => item.text);

  it('says who took which task and until when, newest first', () => {
    const items = activityItems(
      history(
        {
          type: 'task.created',
          task_id: 't_login',
          data: { title: 'Fix login', priority: 10 },
        },
        status('grant', 'ready', 'leased'),
      ),
      names,
      { formatTime },
    );
    expect(items.map((i) => i.text)).toEqual([
      'Alice took “Fix login” (lease until 12:30)',
      'New task “Fix login” in demo',
    ]);
    expect(items[0]).toMatchObject({
      seq: 2,
      type: 'task.status_changed',
      time: '12:01',
      taskId: 't_login',
      workerId: 'w_alice',
      repo: 'demo',
    });
  });

  it('has a sentence for every step of a task’s life', () => {
    expect(
      texts(
        history(
          status('start', 'leased', 'in_progress'),
          status('block', 'in_progress', 'blocked', { message: 'waiting for the API key' }),
          status('open_pr', 'in_progress', 'pr_opened'),
          status('merge', 'pr_opened', 'merged'),
          status('expire', 'leased', 'ready'),
          status('release', 'leased', 'ready', { message: 'no time' }),
          status('requeue', 'pr_opened', 'ready'),
          status('cancel', 'ready', 'cancelled'),
          {
            type: 'task.updated',
            task_id: 't_login',
            data: { fields: ['title', 'estimate_points'], version: 3 },
          },
          {
            type: 'lease.renewed',
            task_id: 't_login',
            worker_id: 'w_alice',
            data: { lease_id: 'l_1', expires_at: '2026-01-17T13:15:00.000Z' },
          },
        ),
      ).reverse(),
    ).toEqual([
      'Alice started “Fix login”',
      'Alice is blocked on “Fix login”: waiting for the API key',
      'Alice opened a PR for “Fix login”',
      '“Fix login” was merged',
      'Alice’s lease on “Fix login” expired; it is back in the queue',
      'Alice released “Fix login”: no time',
      '“Fix login” was put back in the queue',
      '“Fix login” was cancelled',
      '“Fix login” edited: title, estimate points',
      // The renewal is not a line of its own: upkeep, recorded every half TTL of every lease.
    ]);
  });

  it('tells an offer’s life once, and a task that ran out of attempts', () => {
    const offer = (type: string, data: Record<string, unknown>): EventInput => ({
      type: type as OwpEvent['type'],
      task_id: 't_login',
      worker_id: 'w_alice',
      data: { offer_id: 'o_1', ...data },
    });
    expect(
      texts(
        history(
          status('offer', 'ready', 'offered'),
          offer('offer.made', { expires_at: '2026-01-17T12:15:00.000Z' }),
          status('decline', 'offered', 'ready', { message: 'on leave' }),
          offer('offer.rejected', { reason: 'insufficient_time', message: 'on leave' }),
          status('offer', 'ready', 'offered'),
          offer('offer.made', { expires_at: '2026-01-17T12:45:00.000Z' }),
          status('offer_expire', 'offered', 'ready', { message: 'offer expired' }),
          offer('offer.expired', {}),
          status('offer', 'ready', 'offered'),
          offer('offer.made', { expires_at: '2026-01-17T13:00:00.000Z' }),
          status('accept', 'offered', 'leased'),
          offer('offer.accepted', { lease_id: 'l_2' }),
          status('expire', 'leased', 'failed'),
          status('requeue', 'failed', 'ready'),
          status('release', 'leased', 'failed', { message: 'too hard' }),
          offer('offer.rejected', { reason: 'skill_mismatch', message: null }),
          offer('offer.withdrawn', {}),
        ),
      ).reverse(),
    ).toEqual([
      '“Fix login” was offered to Alice (until 12:15)',
      'Alice turned down “Fix login”: not enough time — on leave',
      '“Fix login” was offered to Alice (until 12:45)',
      'Alice let the offer of “Fix login” run out; it is back in the queue',
      '“Fix login” was offered to Alice (until 13:00)',
      'Alice accepted “Fix login”',
      'Alice’s lease on “Fix login” expired; out of attempts, it failed',
      '“Fix login” was put back in the queue',
      'Alice released “Fix login”: too hard; out of attempts, it failed',
      'Alice turned down “Fix login”: skills do not match',
    ]);
  });

  it('has a sentence for workers and repos', () => {
    expect(
      texts(
        history(
          {
            type: 'worker.registered',
            worker_id: 'w_bob',
            repo: null,
            data: { name: 'Bob', skills: ['go', 'sql'] },
          },
          { type: 'worker.online', worker_id: 'w_bob', repo: null, data: { status: 'idle' } },
          {
            type: 'worker.status_changed',
            worker_id: 'w_bob',
            repo: null,
            data: { from: 'idle', to: 'working' },
          },
          { type: 'worker.paused', worker_id: 'w_bob', repo: null, data: {} },
          { type: 'worker.resumed', worker_id: 'w_bob', repo: null, data: {} },
          {
            type: 'worker.trust_changed',
            worker_id: 'w_bob',
            repo: null,
            data: { from: 'basic', to: 'trusted', reason: 'ten clean PRs' },
          },
          { type: 'worker.offline', worker_id: 'w_bob', repo: null, data: {} },
          { type: 'repo.upserted', data: { max_open_prs: 1, area_locks_enabled: false } },
          { type: 'repo.upserted', data: { max_open_prs: 0, area_locks_enabled: true } },
          { type: 'repo.deleted', data: {} },
        ),
      ).reverse(),
    ).toEqual([
      'Bob joined with skills go, sql',
      'Bob is online',
      'Bob is now working',
      'Bob was paused by an admin',
      'Bob was resumed',
      'Bob’s trust tier is now trusted (was basic): ten clean PRs',
      'Bob went offline',
      'Repo demo set: up to 1 open PR, area locks off',
      'Repo demo paused (review budget 0)',
      'Repo demo removed',
    ]);
  });

  it('names what it does not know by the events’ own words, or by id', () => {
    const none = { workers: new Map(), tasks: new Map() };
    const events = history(
      { type: 'task.created', task_id: 't_new', data: { title: 'Unseen', priority: 1 } },
      { ...status('grant', 'ready', 'leased'), task_id: 't_new', worker_id: 'w_ghost' },
      { ...status('grant', 'ready', 'leased'), task_id: 't_gone', worker_id: null },
    );
    expect(activityItems(events, none, { formatTime }).map((i) => i.text)).toEqual([
      'A worker took “t_gone”',
      'w_ghost took “Unseen”',
      'New task “Unseen” in demo',
    ]);
  });
});
