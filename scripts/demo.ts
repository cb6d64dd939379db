/**
 * `npm start` until the HTTP server lands: a narrated run of the scheduling engine on its SQLite
 * file (`data/demo.db`, recreated each run). Simulated time, real engine, real database.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OwpEvent } from '../protocol/index.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { BetterSqlite3Driver } from '../server/better-sqlite3-driver.ts';

const dataDir = join(process.cwd(), 'data');
const dbPath = join(dataDir, 'demo.db');
mkdirSync(dataDir, { recursive: true });
for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });

const clock = new ManualClock();
const start = clock.now();
const driver = new BetterSqlite3Driver({ path: dbPath });
const engine = new Scheduler({
  driver,
  clock,
  config: { leaseTtlMs: 10 * 60_000, heartbeatTtlMs: 90_000 },
});

const names = new Map<string, string>();
const titles = new Map<string, string>();
const stamp = () => `+${String(Math.round((clock.now() - start) / 60_000)).padStart(3)} min`;
engine.onEvent((event: OwpEvent) => {
  const who = event.worker_id ? (names.get(event.worker_id) ?? event.worker_id) : '';
  const what = event.task_id ? `“${titles.get(event.task_id) ?? event.task_id}”` : '';
  if (event.type === 'task.created') titles.set(event.task_id!, event.data.title);
  if (event.type === 'task.status_changed') {
    const { cause } = event.data;
    const verb = {
      grant: `leased to ${who}`,
      start: `started by ${who}`,
      block: `blocked (${who})`,
      open_pr: `PR opened by ${who}`,
      merge: 'merged',
      expire: `lease of ${who} expired → back to the queue`,
      release: `released by ${who}`,
      requeue: 'requeued',
      cancel: 'cancelled',
      offer: `offered to ${who}`,
      accept: `accepted by ${who}`,
      decline: `declined by ${who}`,
      offer_expire: `offer to ${who} expired → back to the queue`,
    }[cause];
    console.log(`${stamp()}  ${what} ${verb}`);
  } else if (event.type === 'worker.online' || event.type === 'worker.offline') {
    console.log(`${stamp()}  ${who} is ${event.type === 'worker.online' ? 'online' : 'offline'}`);
  }
});

console.log(`OWP Pool engine demo — database: ${dbPath}\n`);
engine.upsertRepo({ repo: 'acme/web', max_open_prs: 3, area_locks_enabled: true });
console.log('Repo acme/web: review budget 3 open PRs, area locks on.\n');

const register = (name: string, skills: string[]) => {
  const { worker_id } = engine.registerWorker({
    name,
    skills,
    capacity_points: 4,
    max_concurrent_tasks: 2,
  });
  names.set(worker_id, name);
  return worker_id;
};
const alice = register('Alice', ['python', 'docs']);
const bot = register('review-bot', ['docs', 'typescript']);
const carol = register('Carol', ['python', 'typescript']);

for (const worker of [alice, bot, carol]) engine.heartbeat(worker, { status: 'idle' });
console.log('');

const backlog = [
  {
    title: 'Add a quickstart to the README',
    required_skills: ['docs'],
    area: 'docs',
    priority: 50,
  },
  {
    title: 'Fix login redirect loop',
    required_skills: ['python'],
    area: 'auth',
    priority: 80,
    estimate_points: 2,
  },
  {
    title: 'Rate-limit password resets',
    required_skills: ['python'],
    area: 'auth',
    priority: 70,
    estimate_points: 2,
  },
  { title: 'Document the API errors', required_skills: ['docs'], area: 'docs', priority: 20 },
  {
    title: 'Port the build to esbuild',
    required_skills: ['typescript'],
    area: 'build',
    priority: 60,
    estimate_points: 3,
  },
];
console.log(`Queueing ${backlog.length} tasks:`);
for (const item of backlog) {
  engine.createTask({ repo: 'acme/web', ...item });
}

/** Each simulated minute: workers heartbeat (Carol vanishes at minute 3) and make progress. */
for (let minute = 1; minute <= 40; minute++) {
  clock.advance(60_000);
  for (const worker of minute >= 3 ? [alice, bot] : [alice, bot, carol]) {
    engine.heartbeat(worker, { status: 'working' });
    for (const lease of engine.getWork(worker).leases) {
      if (lease.status === 'leased')
        engine.updateStatus(worker, lease.task_id, { status: 'in_progress' });
      else if (lease.status === 'in_progress' && minute % 4 === 0) {
        engine.updateStatus(worker, lease.task_id, {
          status: 'pr_opened',
          artifact: { pr_url: `https://github.com/acme/web/pull/${minute}` },
        });
      }
    }
  }
  // The maintainer merges the oldest open PR every five minutes.
  if (minute % 5 === 0) {
    const open = engine.listTasks({ status: 'pr_opened', limit: 1 }).tasks[0];
    if (open) engine.markMerged(open.task_id);
  }
  engine.sweep();
  engine.assignAll();
}

const state = engine.state();
console.log('\nFinal state:');
console.table({
  ready: state.tasks_ready,
  leased: state.tasks_leased,
  in_progress: state.tasks_in_progress,
  pr_opened: state.tasks_pr_opened,
  merged: state.tasks_merged,
  workers_online: state.workers_online,
  events: state.last_event_seq,
});
console.log(
  '\nThis demo drives the engine in-process; `npm start` serves the same engine over HTTP (README: Walkthrough).',
);
driver.close();
