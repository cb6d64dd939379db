// @vitest-environment happy-dom
import { flushSync, mount, unmount, type Component } from 'svelte';
import { readable, writable } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OwpEvent, WorkOffer } from '../../protocol/index.ts';
import type { PoolSnapshot } from '../state/pool-snapshot.ts';
import { aReport } from '../state/testing/report-builder.ts';
import {
  NOW,
  aRepo,
  aSnapshot,
  aTask,
  aWorker,
  minutesFromNow,
} from '../state/testing/snapshot-builder.ts';
import Activity from './Activity.svelte';
import Analytics from './Analytics.svelte';
import Board from './Board.svelte';
import MyWork from './MyWork.svelte';
import TaskNotePanel from './TaskNotePanel.svelte';
import type { SessionInfo } from './view-host.ts';
import Workers from './Workers.svelte';

const mounted: Record<string, unknown>[] = [];
afterEach(() => {
  for (const component of mounted.splice(0)) void unmount(component);
  document.body.replaceChildren();
});

const admin: SessionInfo = {
  mode: 'embedded',
  admin: true,
  worker: true,
  workerId: 'w_alice',
  online: true,
};

/** Mounts a view with stores the test can change, as the plugin's views do. */
function render(
  View: Component<never>,
  snapshot: PoolSnapshot,
  props: Record<string, unknown> = {},
  session: SessionInfo = admin,
) {
  const target = document.body.appendChild(document.createElement('div'));
  const pool = writable(snapshot);
  const sessionStore = writable(session);
  mounted.push(
    mount(View as unknown as Component<Record<string, unknown>>, {
      target,
      props: { pool, session: sessionStore, clock: readable(NOW), ...props },
    }) as Record<string, unknown>,
  );
  flushSync();
  return { target, pool, session: sessionStore };
}

function click(el: Element | null | undefined): void {
  (el as HTMLElement).click();
  flushSync();
}

const byText = (root: ParentNode, selector: string, text: string) =>
  [...root.querySelectorAll<HTMLElement>(selector)].find((el) => el.textContent?.includes(text));

describe('Board', () => {
  const snapshot = aSnapshot({
    tasks: [
      aTask({ task_id: 't_1', title: 'Login', repo: 'app', required_skills: ['ts'], area: 'auth' }),
      aTask({ task_id: 't_2', title: 'Docs', repo: 'docs', status: 'in_progress' }),
      aTask({ task_id: 't_3', title: 'Old', repo: 'app', status: 'merged' }),
    ],
    workers: [aWorker()],
  });
  const cards = (target: HTMLElement) =>
    [...target.querySelectorAll('.owp-card')].map((c) =>
      c.querySelector('.owp-card-title')!.textContent!.trim(),
    );

  it('shows the open columns; done ones on request', () => {
    const { target } = render(Board, snapshot, { onOpenTask: vi.fn(), onMoveTask: vi.fn() });
    expect(cards(target)).toEqual(['Login', 'Docs']);
    expect(byText(target, '.owp-card', 'Docs')!.textContent).toContain('Alice');
    expect(byText(target, '.owp-card', 'Docs')!.textContent).toContain('30m left');
    const done = target.querySelector<HTMLInputElement>('.owp-toggle-label input')!;
    click(done);
    expect(cards(target)).toEqual(['Login', 'Docs', 'Old']);
  });

  it('opens a task’s note from its title, and offers an admin the moves the lifecycle allows', async () => {
    const onOpenTask = vi.fn();
    const onMoveTask = vi.fn(async () => undefined);
    const { target } = render(Board, snapshot, { onOpenTask, onMoveTask });
    click(byText(target, '.owp-card-title', 'Login'));
    expect(onOpenTask).toHaveBeenCalledWith('t_1');

    const card = byText(target, '.owp-card', 'Docs')!;
    click(card.querySelector('.owp-card-menu'));
    const moves = [...card.querySelectorAll('.owp-card-moves button')].map((b) =>
      b.textContent!.trim(),
    );
    expect(moves).toEqual(['Back to the queue', 'Cancel task']);
    click(byText(card, 'button', 'Cancel task'));
    expect(onMoveTask).toHaveBeenCalledWith('t_2', 'in_progress', 'cancelled');
  });

  it('offers no moves to a worker, and says what failed when a move is refused', async () => {
    const { target: asWorker } = render(
      Board,
      snapshot,
      { onOpenTask: vi.fn(), onMoveTask: vi.fn() },
      { ...admin, admin: false },
    );
    expect(asWorker.querySelector('.owp-card-menu')).toBeNull();
    expect(asWorker.querySelector('.owp-card[draggable="true"]')).toBeNull();

    const onMoveTask = vi.fn(async () => {
      throw new Error('Task t_1 cannot go to cancelled from merged.');
    });
    const { target } = render(Board, snapshot, { onOpenTask: vi.fn(), onMoveTask });
    const card = byText(target, '.owp-card', 'Login')!;
    click(card.querySelector('.owp-card-menu'));
    click(byText(card, 'button', 'Cancel task'));
    await vi.waitFor(() => {
      flushSync();
      expect(target.querySelector('[role="alert"]')?.textContent).toContain('cannot go to');
    });
  });

  it('keeps the last picture, marked offline, when the connection drops', () => {
    const { target, pool } = render(Board, snapshot, { onOpenTask: vi.fn(), onMoveTask: vi.fn() });
    pool.set({ ...snapshot, connection: 'offline' });
    flushSync();
    expect(target.querySelector('[data-testid="connection-banner"]')!.textContent).toContain(
      'Offline.',
    );
    expect(cards(target)).toEqual(['Login', 'Docs']);
  });

  it('says so when the pool refuses the vault’s token, rather than that it is reconnecting', () => {
    const { target, pool } = render(Board, snapshot, { onOpenTask: vi.fn(), onMoveTask: vi.fn() });
    pool.set({ ...snapshot, connection: 'offline', refused: 'The admin token is wrong.' });
    flushSync();
    const banner = target.querySelector('[data-testid="connection-banner"]')!.textContent;
    expect(banner).toContain('The pool refuses this vault’s token.');
    expect(banner).toContain(
      'The admin token is wrong. Enter the current admin token in the settings; until then, the last known data.',
    );
    expect(banner).not.toContain('reconnecting');
    expect(cards(target)).toEqual(['Login', 'Docs']);
  });
});

describe('the connection banner when the pool refuses the credentials', () => {
  const banner = (snapshot: PoolSnapshot) => {
    const { target } = render(Board, snapshot, { onOpenTask: vi.fn(), onMoveTask: vi.fn() });
    return target.querySelector('[data-testid="connection-banner"]')!.textContent!;
  };
  const neverLoaded = { phase: 'failed', connection: 'offline' } as const;

  // Was: "Can’t reach the pool. The admin token is wrong." although the server answered.
  it('says a first load was refused, not that the pool is unreachable', () => {
    const text = banner(
      aSnapshot({ ...neverLoaded, scope: 'admin', refused: 'The admin token is wrong.' }),
    );
    expect(text).toContain('The pool refuses this vault’s token.');
    expect(text).toContain(
      'The admin token is wrong. Enter the current admin token in the settings.',
    );
    expect(text).not.toContain('Can’t reach');
  });

  it('asks a worker whose token the pool refuses to register again or enter the token', () => {
    const text = banner(
      aSnapshot({
        ...neverLoaded,
        scope: 'worker',
        me: 'w_alice',
        refused: 'The worker token is not valid.',
      }),
    );
    expect(text).toContain(
      'The worker token is not valid. Register this vault’s worker again in the settings, or enter its current token there.',
    );
  });

  // Was: "Can’t reach the pool. Send the worker token as Authorization: Bearer <token>."
  it('asks a vault without a worker in this pool to register one first', () => {
    const text = banner(
      aSnapshot({
        ...neverLoaded,
        scope: 'worker',
        me: null,
        refused: 'Send the worker token as Authorization: Bearer <token>.',
      }),
    );
    expect(text).toContain('Register this vault’s worker first.');
    expect(text).toMatch(/register one in My work or with the command\s+“Register as worker”/);
    expect(text).not.toContain('Bearer');
    expect(text).not.toContain('Can’t reach');
  });
});

describe('Board: the v1 work rules', () => {
  const snapshot = aSnapshot({
    tasks: [
      aTask({ task_id: 't_schema', title: 'Schema', status: 'in_progress' }),
      aTask({
        task_id: 't_api',
        title: 'API',
        depends_on: ['t_schema'],
        dependencies_pending: 1,
      }),
      aTask({ task_id: 't_flaky', title: 'Flaky test', status: 'failed', attempts: 5 }),
      aTask({ task_id: 't_offer', title: 'Header', status: 'offered', assignee: 'w_alice' }),
    ],
    workers: [aWorker()],
    repos: [aRepo({ repo: 'demo', max_attempts: 5, assignment: 'offer' })],
  });
  const column = (target: HTMLElement, status: string) =>
    target.querySelector<HTMLElement>(`.owp-column[data-status="${status}"]`);

  it('shows a failed task with why it stopped, and requeues it with one click', async () => {
    const onMoveTask = vi.fn(async () => undefined);
    const { target } = render(Board, snapshot, { onOpenTask: vi.fn(), onMoveTask });
    expect(target.querySelector('.owp-failed-count')!.textContent!.trim()).toBe('1 failed');
    const failed = column(target, 'failed')!;
    expect(failed.querySelector('.owp-card-failure')!.textContent).toBe(
      'Out of attempts: 5 of 5 used',
    );
    click(byText(failed, 'button', 'Requeue'));
    expect(onMoveTask).toHaveBeenCalledWith('t_flaky', 'failed', 'ready');
    click(failed.querySelector('.owp-card-menu'));
    expect(
      [...failed.querySelectorAll('.owp-card-moves button')].map((b) => b.textContent!.trim()),
    ).toEqual(['Requeue', 'Cancel task']);
  });

  it('gives a worker no Requeue, and leaves out empty failed and offered columns', () => {
    const { target } = render(
      Board,
      snapshot,
      { onOpenTask: vi.fn(), onMoveTask: vi.fn() },
      { ...admin, admin: false },
    );
    expect(byText(target, 'button', 'Requeue')).toBeUndefined();
    expect(column(target, 'offered')!.textContent).toContain('Offered to Alice');

    const { target: quiet } = render(
      Board,
      aSnapshot({ tasks: [aTask({ title: 'Plain' })], repos: [aRepo()] }),
      { onOpenTask: vi.fn(), onMoveTask: vi.fn() },
    );
    expect(
      [...quiet.querySelectorAll('.owp-column')].map((c) => c.getAttribute('data-status')),
    ).toEqual(['ready', 'leased', 'in_progress', 'blocked', 'pr_opened']);
  });

  it('shows what blocks what: “waiting on 1” with the titles, each a link to its note', () => {
    const onOpenTask = vi.fn();
    const { target } = render(Board, snapshot, { onOpenTask, onMoveTask: vi.fn() });
    const api = target.querySelector<HTMLElement>('.owp-card[data-task-id="t_api"]')!;
    const toggle = api.querySelector<HTMLElement>('.owp-dependency-toggle')!;
    expect(toggle.textContent!.replace(/\s+/g, ' ').trim()).toBe('waiting on 1');
    expect(toggle.title).toBe('Waits on “Schema” (in progress).');
    const schema = target.querySelector<HTMLElement>('.owp-card[data-task-id="t_schema"]')!;
    expect(schema.querySelector<HTMLElement>('.owp-dependency-toggle')!.title).toBe(
      'Blocks “API” (ready).',
    );

    click(toggle);
    const groups = [...api.querySelectorAll('.owp-dependency-group')].map((g) =>
      g.textContent!.replace(/\s+/g, ' ').trim(),
    );
    expect(groups).toEqual(['Depends on Schema not merged yet']);
    click(byText(api, '.owp-dependency button', 'Schema'));
    expect(onOpenTask).toHaveBeenCalledWith('t_schema');
  });
});

describe('Workers', () => {
  const snapshot = aSnapshot({
    workers: [
      aWorker({
        worker_id: 'w_alice',
        name: 'Alice',
        points_in_use: 5,
        active_tasks: 1,
        skills: ['ts'],
      }),
      aWorker({
        worker_id: 'w_bob',
        name: 'Bob',
        online: false,
        paused_by_admin: true,
        status: 'paused',
      }),
    ],
    me: 'w_alice',
  });

  it('shows who is online, their load against capacity and skills; an admin pauses and resumes', () => {
    const onPause = vi.fn(async () => undefined);
    const onResume = vi.fn(async () => undefined);
    const { target } = render(Workers, snapshot, {
      onPause,
      onResume,
      onChangeTrust: vi.fn(),
      onNewToken: vi.fn(),
    });
    expect(target.textContent).toContain('1 of 2 online');
    const alice = target.querySelector<HTMLElement>('[data-worker-id="w_alice"]')!;
    expect(alice.textContent).toContain('You');
    expect(
      alice.querySelector('progress[aria-label="Points: 5 of 5"]')?.getAttribute('data-level'),
    ).toBe('full');
    click(byText(alice, 'button', 'Pause'));
    expect(onPause).toHaveBeenCalledWith('w_alice');
    const bob = target.querySelector<HTMLElement>('[data-worker-id="w_bob"]')!;
    click(byText(bob, 'button', 'Resume'));
    expect(onResume).toHaveBeenCalledWith('w_bob');
  });

  it('shows each worker’s trust tier and reputation; an admin changes the tier', () => {
    const onChangeTrust = vi.fn();
    const trusted = aSnapshot({
      workers: [
        aWorker({
          worker_id: 'w_alice',
          trust_tier: 'trusted',
          reputation: 0.715,
          tasks_completed: 3,
        }),
      ],
    });
    const { target } = render(Workers, trusted, {
      onPause: vi.fn(),
      onResume: vi.fn(),
      onChangeTrust,
      onNewToken: vi.fn(),
    });
    const alice = target.querySelector<HTMLElement>('[data-worker-id="w_alice"]')!;
    expect(alice.querySelector('.owp-trust')!.textContent!.trim()).toBe('Trusted');
    const reputation = alice.querySelector<HTMLElement>('.owp-reputation')!;
    expect(reputation.textContent!.trim()).toBe('Reputation 0.71');
    expect(reputation.title).toBe('Reputation 0.71: 3 merged, 0 expired, 0 released');
    click(byText(alice, 'button', 'Change trust'));
    expect(onChangeTrust).toHaveBeenCalledWith('w_alice');
  });

  it('has no pause or trust buttons for a worker', () => {
    const { target } = render(
      Workers,
      snapshot,
      { onPause: vi.fn(), onResume: vi.fn(), onChangeTrust: vi.fn(), onNewToken: vi.fn() },
      { ...admin, admin: false },
    );
    expect(byText(target, 'button', 'Pause')).toBeUndefined();
    expect(byText(target, 'button', 'Change trust')).toBeUndefined();
    expect(byText(target, 'button', 'New token')).toBeUndefined();
    expect(target.querySelector('.owp-trust')!.textContent!.trim()).toBe('Basic');
  });

  it("offers a new token for a shared pool's other workers only, not this vault's own", () => {
    const onNewToken = vi.fn();
    const pool = aSnapshot({
      workers: [aWorker({ worker_id: 'w_alice' }), aWorker({ worker_id: 'w_bob', name: 'Bob' })],
    });
    const handlers = { onPause: vi.fn(), onResume: vi.fn(), onChangeTrust: vi.fn(), onNewToken };
    const remote = render(Workers, pool, handlers, { ...admin, mode: 'remote' }).target;
    const row = (id: string) => remote.querySelector<HTMLElement>(`[data-worker-id="${id}"]`)!;
    expect(byText(row('w_alice'), 'button', 'New token')).toBeUndefined();
    click(byText(row('w_bob'), 'button', 'New token'));
    expect(onNewToken).toHaveBeenCalledWith('w_bob');

    // Embedded: the pool is this vault's; its workers' tokens are not handed out.
    const embedded = render(Workers, pool, handlers, admin).target;
    expect(byText(embedded, 'button', 'New token')).toBeUndefined();
  });
});

describe('Activity', () => {
  it('tells the events newest first, each task a link to its note', () => {
    const task = aTask({ task_id: 't_1', title: 'Login', status: 'leased' });
    const at = new Date(NOW).toISOString();
    const snapshot = aSnapshot({
      tasks: [task],
      workers: [aWorker()],
      events: [
        {
          seq: 1,
          type: 'task.created',
          at,
          repo: 'demo',
          task_id: 't_1',
          worker_id: null,
          data: { title: 'Login', priority: 10 },
        },
        {
          seq: 2,
          type: 'worker.online',
          at,
          repo: null,
          task_id: null,
          worker_id: 'w_alice',
          data: {},
        },
      ] as OwpEvent[],
    });
    const onOpenTask = vi.fn();
    const { target } = render(Activity, snapshot, { onOpenTask });
    const items = [...target.querySelectorAll('.owp-feed-item')].map((li) =>
      li.querySelector('.owp-feed-text')!.textContent!.trim(),
    );
    expect(items).toEqual(['Alice is online', 'New task “Login” in demo']);
    click(target.querySelector('.owp-feed-link'));
    expect(onOpenTask).toHaveBeenCalledWith('t_1');
  });
});

describe('My work', () => {
  const leased = aTask({ task_id: 't_1', title: 'Login', status: 'in_progress' });

  function renderMyWork(session: SessionInfo, snapshot = aSnapshot({ tasks: [leased] })) {
    const handlers = {
      onOpenTask: vi.fn(),
      onAction: vi.fn(async () => undefined),
      onAcceptOffer: vi.fn(async (_offerId: string) => undefined),
      onRejectOffer: vi.fn(async (_offerId: string, _request: unknown) => undefined),
      onSetOnline: vi.fn(async () => undefined),
      onRegister: vi.fn(async () => undefined),
    };
    return { ...render(MyWork, snapshot, handlers, session), handlers };
  }

  it('asks to register first', () => {
    const { target, handlers } = renderMyWork({ ...admin, workerId: null });
    click(byText(target, 'button', 'Register as worker'));
    expect(handlers.onRegister).toHaveBeenCalled();
  });

  it('lists my leases with their countdown and the moves I can make', () => {
    const { target } = renderMyWork(admin);
    const item = target.querySelector<HTMLElement>('.owp-work[data-task-id="t_1"]')!;
    expect(item.textContent).toContain('30m left');
    expect(
      [...item.querySelectorAll('.owp-actions button')].map((b) => b.textContent!.trim()),
    ).toEqual(['Blocked', 'PR opened', 'Release']);
  });

  it('asks for the PR link, checks it, and sends it with the move', async () => {
    const { target, handlers } = renderMyWork(admin);
    click(byText(target, 'button', 'PR opened'));
    const input = target.querySelector<HTMLInputElement>('input[type="url"]')!;
    click(byText(target, 'button', 'Save'));
    expect(target.textContent).toContain('Paste the link');
    expect(handlers.onAction).not.toHaveBeenCalled();

    input.value = 'https://github.com/acme/app/pull/7';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    flushSync();
    expect(target.textContent).not.toContain('Paste the link');
    click(byText(target, 'button', 'Save'));
    await vi.waitFor(() => expect(handlers.onAction).toHaveBeenCalled());
    const [item, action, url] = handlers.onAction.mock.calls[0] as unknown as [
      { taskId: string },
      { kind: string },
      string,
    ];
    expect([item.taskId, action.kind, url]).toEqual([
      't_1',
      'open_pr',
      'https://github.com/acme/app/pull/7',
    ]);
  });

  const offer: WorkOffer = {
    offer_id: 'o_1',
    task_id: 't_9',
    repo: 'acme/web',
    title: 'Header',
    description: '',
    estimate_points: 2,
    priority: 10,
    area: null,
    tier: 0,
    required_skills: ['css'],
    offered_at: minutesFromNow(-2),
    expires_at: minutesFromNow(13),
    contract: { setup: 'npm ci', test: 'npm test' },
  };

  it('lists my offers with the time left and the repo’s contract; Accept takes one', async () => {
    const { target, handlers } = renderMyWork(admin, aSnapshot({ offers: [offer] }));
    const item = target.querySelector<HTMLElement>('.owp-offer[data-offer-id="o_1"]')!;
    expect(item.querySelector('.owp-offer-title')!.textContent).toBe('Header');
    expect(item.querySelector('.owp-countdown')!.textContent).toBe('13m left');
    expect(
      [...item.querySelectorAll('.owp-contract-line')].map((l) =>
        l.textContent!.replace(/\s+/g, ' ').trim(),
      ),
    ).toEqual(['Setup npm ci', 'Test npm test']);
    expect(target.textContent).not.toContain('No leases right now');
    click(byText(item, 'button', 'Accept'));
    await vi.waitFor(() => expect(handlers.onAcceptOffer).toHaveBeenCalledWith('o_1'));
  });

  it('asks why before rejecting an offer, and sends the reason with an optional message', async () => {
    const { target, handlers } = renderMyWork(admin, aSnapshot({ offers: [offer] }));
    const item = target.querySelector<HTMLElement>('.owp-offer')!;
    click(byText(item, 'button', 'Reject…'));
    const select = item.querySelector<HTMLSelectElement>('select')!;
    expect([...select.options].map((o) => o.textContent!.trim())).toEqual([
      'Pick a reason…',
      'Not enough time',
      'The requirements are unclear',
      'Not my skills',
      'Another reason',
    ]);
    click(byText(item, 'button', 'Reject offer'));
    await vi.waitFor(() => {
      flushSync();
      expect(item.querySelector('[role="alert"]')?.textContent).toBe(
        'Pick a reason for turning the offer down.',
      );
    });
    expect(handlers.onRejectOffer).not.toHaveBeenCalled();

    select.value = 'unclear_requirements';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    const message = item.querySelector<HTMLInputElement>('input[type="text"]')!;
    message.value = ' Which page? ';
    message.dispatchEvent(new Event('input', { bubbles: true }));
    flushSync();
    click(byText(item, 'button', 'Reject offer'));
    await vi.waitFor(() =>
      expect(handlers.onRejectOffer).toHaveBeenCalledWith('o_1', {
        reason: 'unclear_requirements',
        message: 'Which page?',
      }),
    );
  });

  it('says in words why an offer could not be accepted', async () => {
    const { target, handlers } = renderMyWork(admin, aSnapshot({ offers: [offer] }));
    handlers.onAcceptOffer.mockRejectedValueOnce(
      new Error('Offer o_1 is expired; it can no longer be answered.'),
    );
    click(byText(target, 'button', 'Accept'));
    await vi.waitFor(() => {
      flushSync();
      expect(target.querySelector('.owp-offer [role="alert"]')?.textContent).toBe(
        'Offer o_1 is expired; it can no longer be answered.',
      );
    });
  });

  it('goes online from its header', () => {
    const { target, handlers } = renderMyWork({ ...admin, online: false }, aSnapshot());
    expect(target.textContent).toContain('You are offline');
    click(byText(target, 'button', 'Go online'));
    expect(handlers.onSetOnline).toHaveBeenCalledWith(true);
  });
});

describe('TaskNotePanel', () => {
  const snapshot = aSnapshot({
    tasks: [
      aTask({ task_id: 't_schema', title: 'Schema', status: 'in_progress' }),
      aTask({ task_id: 't_api', title: 'API', depends_on: ['t_schema'], dependencies_pending: 1 }),
    ],
    repos: [aRepo({ contract: { setup: 'npm ci', pr_template: '## What\n## Why' } })],
  });

  it('folds to one line, and unfolds to the contract and what the task waits on', () => {
    const onOpenTask = vi.fn();
    const { target } = render(TaskNotePanel, snapshot, { taskId: 't_api', onOpenTask });
    const panel = target.querySelector<HTMLDetailsElement>('details.owp-note-panel')!;
    expect(panel.open).toBe(false);
    expect(panel.querySelector('.owp-note-panel-line')!.textContent).toBe(
      'Ready · waiting on 1 · contract',
    );
    expect(
      [...panel.querySelectorAll('.owp-contract-line')].map((l) =>
        l.textContent!.replace(/\s+/g, ' ').trim(),
      ),
    ).toEqual(['Setup npm ci', 'PR template ## What ## Why']);
    expect(panel.querySelector('.owp-contract-line pre')!.textContent).toBe('## What\n## Why');
    expect(
      panel.querySelector('.owp-dependency-group')!.textContent!.replace(/\s+/g, ' ').trim(),
    ).toBe('Waiting on 1 of Schema not merged yet');
    click(byText(panel, '.owp-dependency button', 'Schema'));
    expect(onOpenTask).toHaveBeenCalledWith('t_schema');
  });

  it('follows the pool: a merged dependency stops the wait', () => {
    const { target, pool } = render(TaskNotePanel, snapshot, {
      taskId: 't_api',
      onOpenTask: vi.fn(),
    });
    const tasks = new Map(snapshot.tasks);
    tasks.set('t_schema', { ...tasks.get('t_schema')!, status: 'merged' });
    tasks.set('t_api', { ...tasks.get('t_api')!, dependencies_pending: 0 });
    pool.set({ ...snapshot, tasks });
    flushSync();
    expect(target.querySelector('.owp-note-panel-line')!.textContent).toBe(
      'Ready · depends on 1 · contract',
    );
  });
});

describe('Analytics', () => {
  const snapshot = aSnapshot({ repos: [aRepo({ repo: 'owner/web' }), aRepo({ repo: 'demo' })] });
  const figures = (target: HTMLElement) =>
    [...target.querySelectorAll('[data-figure]')].map((row) =>
      row.textContent!.replace(/\s+/g, ' ').trim(),
    );

  it("shows the first repo's figures, and another repo's when picked", async () => {
    const onLoad = vi.fn(async (repo: string) =>
      aReport({ repo, tasks_completed: repo === 'demo' ? 3 : 7 }),
    );
    const { target } = render(Analytics, snapshot, { onLoad });
    await vi.waitFor(() => {
      flushSync();
      expect(figures(target)[0]).toBe('Merged 3 tasks');
    });
    expect(onLoad).toHaveBeenCalledWith('demo');
    expect(figures(target)).toHaveLength(7);
    const select = target.querySelector<HTMLSelectElement>('select[aria-label="Repo"]')!;
    expect([...select.options].map((o) => o.value)).toEqual(['demo', 'owner/web']);
    select.value = 'owner/web';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await vi.waitFor(() => {
      flushSync();
      expect(figures(target)[0]).toBe('Merged 7 tasks');
    });
    expect(onLoad).toHaveBeenLastCalledWith('owner/web');
  });

  it('says what went wrong when the figures cannot be read', async () => {
    const onLoad = vi.fn(async () => {
      throw new Error('No repo demo.');
    });
    const { target } = render(Analytics, snapshot, { onLoad });
    await vi.waitFor(() => {
      flushSync();
      expect(target.querySelector('[role="alert"]')?.textContent).toContain('No repo demo.');
    });
  });

  it('asks a worker-only vault for the admin token instead of loading', () => {
    const onLoad = vi.fn();
    const { target } = render(Analytics, snapshot, { onLoad }, { ...admin, admin: false });
    expect(target.textContent).toContain('Analytics are for admins');
    expect(onLoad).not.toHaveBeenCalled();
  });
});
