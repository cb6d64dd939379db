// @vitest-environment happy-dom
import { flushSync, mount, unmount, type Component } from 'svelte';
import { readable, writable } from 'svelte/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OwpEvent } from '../../protocol/index.ts';
import type { PoolSnapshot } from '../state/pool-snapshot.ts';
import { aReport } from '../state/testing/report-builder.ts';
import { NOW, aRepo, aSnapshot, aTask, aWorker } from '../state/testing/snapshot-builder.ts';
import Activity from './Activity.svelte';
import Analytics from './Analytics.svelte';
import Board from './Board.svelte';
import MyWork from './MyWork.svelte';
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
    const { target } = render(Workers, snapshot, { onPause, onResume });
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

  it('has no pause buttons for a worker', () => {
    const { target } = render(
      Workers,
      snapshot,
      { onPause: vi.fn(), onResume: vi.fn() },
      { ...admin, admin: false },
    );
    expect(byText(target, 'button', 'Pause')).toBeUndefined();
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

  it('goes online from its header', () => {
    const { target, handlers } = renderMyWork({ ...admin, online: false }, aSnapshot());
    expect(target.textContent).toContain('You are offline');
    click(byText(target, 'button', 'Go online'));
    expect(handlers.onSetOnline).toHaveBeenCalledWith(true);
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
