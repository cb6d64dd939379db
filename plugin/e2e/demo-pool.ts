/**
 * A pool in the middle of a working day, for the screenshots: two repos, a dozen tasks across
 * every column, four workers — one of them offline — with leases, a blocked task and PRs waiting.
 */
import type { HttpOwpApi, Task } from '../../protocol/index.ts';
import type { PoolServer } from './pool-server.ts';

export interface DemoPool {
  /** The worker the "my work" page shows. */
  me: { workerId: string; token: string };
}

const TASKS = [
  {
    repo: 'acme/app',
    title: 'Fix the login redirect loop',
    estimate_points: 2,
    priority: 50,
    required_skills: ['typescript'],
    area: 'auth',
  },
  {
    repo: 'acme/app',
    title: 'Add dark mode to settings page',
    estimate_points: 3,
    priority: 30,
    required_skills: ['svelte', 'css'],
    area: 'settings',
  },
  {
    repo: 'acme/app',
    title: 'Cache avatar images',
    estimate_points: 2,
    priority: 20,
    required_skills: ['typescript'],
    area: 'profile',
  },
  {
    repo: 'acme/app',
    title: 'Migrate orders table to new schema',
    estimate_points: 5,
    priority: 40,
    required_skills: ['sql'],
    area: 'billing',
  },
  {
    repo: 'acme/app',
    title: 'Rate-limit password reset emails',
    estimate_points: 1,
    priority: 60,
    required_skills: ['python'],
    area: 'auth',
  },
  {
    repo: 'acme/app',
    title: 'Flaky test in checkout flow',
    estimate_points: 1,
    priority: 35,
    required_skills: ['typescript'],
    area: 'checkout',
  },
  {
    repo: 'acme/app',
    title: 'Keyboard shortcuts help dialog',
    estimate_points: 2,
    priority: 10,
    required_skills: ['svelte'],
    area: 'ui',
  },
  {
    repo: 'acme/app',
    title: 'Export invoices as CSV',
    estimate_points: 3,
    priority: 15,
    required_skills: ['python', 'sql'],
    area: 'billing',
  },
  {
    repo: 'acme/docs',
    title: 'Document the webhook retries',
    estimate_points: 1,
    priority: 25,
    required_skills: ['docs'],
    area: 'webhooks',
  },
  {
    repo: 'acme/docs',
    title: 'Quick-start guide for the CLI',
    estimate_points: 2,
    priority: 20,
    required_skills: ['docs'],
    area: null,
  },
  {
    repo: 'acme/app',
    title: 'Remove the legacy feature flags',
    estimate_points: 2,
    priority: 5,
    required_skills: [],
    area: 'cleanup',
  },
  {
    repo: 'acme/app',
    title: 'Upgrade the charting library',
    estimate_points: 3,
    priority: 8,
    required_skills: ['typescript'],
    area: 'ui',
  },
];

async function register(server: PoolServer, request: Parameters<HttpOwpApi['registerWorker']>[0]) {
  const { worker_id, token } = await server.admin.registerWorker(request);
  return { workerId: worker_id, token, api: server.worker(token) };
}

async function held(api: HttpOwpApi): Promise<Task[]> {
  const work = await api.getWork();
  return Promise.all(work.leases.map((lease) => api.getTask(lease.task_id)));
}

export async function seedDemoPool(server: PoolServer): Promise<DemoPool> {
  const { admin } = server;
  await admin.upsertRepo({ repo: 'acme/app', max_open_prs: 8 });
  await admin.upsertRepo({ repo: 'acme/docs', max_open_prs: 2 });
  const tasks: Task[] = [];
  for (const task of TASKS) tasks.push(await admin.createTask({ ...task, description: '' }));

  // Dee registers but never comes online: the docs work waits for a docs worker.
  await register(server, { name: 'Dee Park', skills: ['docs'], github_handle: 'deepark' });
  const ana = await register(server, {
    name: 'Ana Souza',
    skills: ['typescript', 'svelte', 'css'],
    capacity_points: 8,
    max_concurrent_tasks: 3,
    github_handle: 'anasouza',
  });
  const bo = await register(server, {
    name: 'Bo Lin',
    skills: ['python', 'sql'],
    capacity_points: 6,
    max_concurrent_tasks: 2,
  });
  const chen = await register(server, {
    name: 'Chen Wu',
    skills: ['typescript'],
    capacity_points: 4,
    max_concurrent_tasks: 2,
  });

  // Chen first: a finished task (merged), then takes more.
  await chen.api.heartbeat({ status: 'idle' });
  for (const task of await held(chen.api)) {
    await chen.api.updateStatus(task.task_id, { status: 'in_progress' });
    await chen.api.updateStatus(task.task_id, {
      status: 'pr_opened',
      artifact: { pr_url: 'https://github.com/acme/app/pull/412' },
    });
    await chen.api.updateStatus(task.task_id, { status: 'merged' });
    break;
  }
  await chen.api.heartbeat({ status: 'working' });
  const chenTasks = await held(chen.api);
  if (chenTasks[0]) await chen.api.updateStatus(chenTasks[0].task_id, { status: 'in_progress' });

  await bo.api.heartbeat({ status: 'working' });
  const boTasks = await held(bo.api);
  if (boTasks[0]) {
    await bo.api.updateStatus(boTasks[0].task_id, { status: 'in_progress' });
    await bo.api.updateStatus(boTasks[0].task_id, {
      status: 'blocked',
      message: 'Waiting for the staging database',
    });
  }

  await ana.api.heartbeat({ status: 'working' });
  const anaTasks = await held(ana.api);
  if (anaTasks[0]) {
    await ana.api.updateStatus(anaTasks[0].task_id, { status: 'in_progress' });
    await ana.api.updateStatus(anaTasks[0].task_id, {
      status: 'pr_opened',
      artifact: { pr_url: 'https://github.com/acme/app/pull/418' },
    });
  }
  if (anaTasks[1]) await ana.api.updateStatus(anaTasks[1].task_id, { status: 'in_progress' });

  // An admin cancels one that is no longer wanted.
  const cleanup = tasks.find((t) => t.title.startsWith('Export invoices'))!;
  const current = await admin.getTask(cleanup.task_id);
  if (current.status === 'ready') await admin.cancelTask(cleanup.task_id);

  return { me: { workerId: ana.workerId, token: ana.token } };
}
