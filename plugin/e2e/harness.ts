/**
 * The browser test harness: the plugin's Svelte views, mounted as the plugin mounts them, against
 * a running server through the remote backend (REST and the live event stream over fetch) — what
 * the plugin does in remote mode, minus Obsidian. The page's query says which view, which theme
 * and which credentials: `?view=board&theme=dark&admin=…&worker=…&me=w_…`.
 */
import { mount } from 'svelte';
import { readable, writable } from 'svelte/store';
import { fetchTransport } from '../../protocol/index.ts';
import { RemoteBackend } from '../backend/remote-backend.ts';
import { PoolStore } from '../state/pool-store.ts';
import Activity from '../ui/Activity.svelte';
import Board from '../ui/Board.svelte';
import MyWork from '../ui/MyWork.svelte';
import { PoolActions } from '../ui/pool-actions.ts';
import type { SessionInfo } from '../ui/view-host.ts';
import Workers from '../ui/Workers.svelte';

const query = new URLSearchParams(location.search);
const view = query.get('view') ?? 'board';
const workerId = query.get('me');
document.body.classList.add(query.get('theme') === 'dark' ? 'theme-dark' : 'theme-light');
if (query.get('phone') === '1') document.body.classList.add('is-phone');

const backend = new RemoteBackend({
  baseUrl: location.origin,
  adminToken: query.get('admin') ?? undefined,
  workerToken: query.get('worker') ?? undefined,
  transport: fetchTransport,
  fetch: (input, init) => window.fetch(input, init),
});
const pool = new PoolStore({ backend, admin: query.has('admin'), workerId });
const session = writable<SessionInfo>({
  mode: 'remote',
  admin: query.has('admin'),
  worker: true,
  workerId,
  online: query.get('online') === '1',
});
const clock = readable(Date.now(), (set) => {
  const tick = window.setInterval(() => set(Date.now()), 5000);
  return () => window.clearInterval(tick);
});
const actions = new PoolActions(() => backend.api);
const openTask = (taskId: string) => {
  document.body.dataset.opened = taskId;
};

const titles: Record<string, string> = {
  board: 'Pool board',
  workers: 'Pool workers',
  activity: 'Pool activity',
  'my-work': 'My work',
};
const pane = document.createElement('div');
pane.className = 'harness-pane workspace-leaf-content';
const header = document.createElement('div');
header.className = 'harness-pane-header view-header';
const title = document.createElement('strong');
title.textContent = titles[view] ?? view;
header.append(title);
const content = document.createElement('div');
content.className = 'view-content owp-view-container';
if (query.get('phone') === '1') content.classList.add('is-phone');
pane.append(header, content);
document.body.append(pane);

const common = { pool, session, clock };
if (view === 'board') {
  mount(Board, {
    target: content,
    props: {
      ...common,
      onOpenTask: openTask,
      onMoveTask: (...a: Parameters<PoolActions['moveTask']>) => actions.moveTask(...a),
    },
  });
} else if (view === 'workers') {
  mount(Workers, {
    target: content,
    props: {
      ...common,
      onPause: (id: string) => actions.pauseWorker(id),
      onResume: (id: string) => actions.resumeWorker(id),
      // Obsidian asks in a dialog; the page only records which worker was picked.
      onChangeTrust: (id: string) => {
        document.body.dataset.trust = id;
      },
      onNewToken: (id: string) => {
        document.body.dataset.newToken = id;
      },
    },
  });
} else if (view === 'activity') {
  mount(Activity, { target: content, props: { pool, onOpenTask: openTask } });
} else {
  mount(MyWork, {
    target: content,
    props: {
      ...common,
      onOpenTask: openTask,
      onAction: (...a: Parameters<PoolActions['runWorkAction']>) => actions.runWorkAction(...a),
      onAcceptOffer: async (offerId: string) => {
        await actions.acceptOffer(offerId);
        pool.refreshOffers();
      },
      onRejectOffer: async (...a: Parameters<PoolActions['rejectOffer']>) => {
        await actions.rejectOffer(...a);
        pool.refreshOffers();
      },
      onSetOnline: async (online: boolean) => session.update((s) => ({ ...s, online })),
      onRegister: async () => undefined,
    },
  });
}
void pool.start();
