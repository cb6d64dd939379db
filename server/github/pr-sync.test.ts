/** The PR state read back from a fake GitHub, over the engine in-process. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { BetterSqlite3Driver } from '../better-sqlite3-driver.ts';
import { startServer } from '../main.ts';
import { GithubPrSync, pullRefOf } from './pr-sync.ts';
import { FakeGithub } from './testing/fake-github.ts';

const GITHUB_TOKEN = 'ghp_fake_token_for_the_pr_sync';

let fake: FakeGithub;
let engine: Scheduler;
let driver: BetterSqlite3Driver;
const syncs: GithubPrSync[] = [];

beforeEach(async () => {
  fake = new FakeGithub(GITHUB_TOKEN);
  await fake.start();
  driver = new BetterSqlite3Driver({ path: ':memory:' });
  engine = new Scheduler({ driver, clock: systemClock });
  for (const repo of ['acme/app', 'acme/lib']) engine.upsertRepo({ repo, max_open_prs: 5 });
});

afterEach(async () => {
  for (const sync of syncs.splice(0)) await sync.stop();
  await fake.close();
  driver.close();
});

function prSync(repos: string[], log?: (level: string, message: string) => void) {
  const sync = new GithubPrSync({
    api: new LocalOwpApi(engine, { admin: true }),
    repos,
    client: { token: GITHUB_TOKEN, baseUrl: fake.baseUrl },
    log,
  });
  syncs.push(sync);
  return sync;
}

/** A task in `repo` whose worker opened the PR at `prUrl`. */
function withPrOpen(repo: string, prUrl: string): string {
  const { worker_id } = engine.registerWorker({ name: `w for ${prUrl}`, capacity_points: 5 });
  engine.heartbeat(worker_id, { status: 'idle' });
  const task = engine.createTask({ repo, title: `Task for ${prUrl}` });
  // The least loaded online worker took it: a worker whose PR is open has its room back.
  const holder = engine.getTask(task.task_id).assignee!;
  engine.updateStatus(holder, task.task_id, { status: 'in_progress' });
  engine.updateStatus(holder, task.task_id, { status: 'pr_opened', artifact: { pr_url: prUrl } });
  return task.task_id;
}

describe('pullRefOf', () => {
  it('reads the owner, repo and number of a pull request URL, and nothing else', () => {
    expect(pullRefOf('https://github.com/acme/app/pull/7')).toEqual({
      owner: 'acme',
      repo: 'app',
      number: 7,
    });
    expect(pullRefOf('https://ghe.example.com/acme/app/pull/12/files#diff')).toMatchObject({
      number: 12,
    });
    expect(pullRefOf('https://github.com/acme/app/issues/7')).toBeNull();
    expect(pullRefOf('not a url')).toBeNull();
    expect(pullRefOf('ftp://github.com/acme/app/pull/7')).toBeNull();
  });
});

describe('GithubPrSync', () => {
  it('marks merged a task whose PR was merged, and requeues one whose PR was closed unmerged', async () => {
    const merged = withPrOpen('acme/app', 'https://github.com/acme/app/pull/1');
    const closed = withPrOpen('acme/app', 'https://github.com/acme/app/pull/2');
    const open = withPrOpen('acme/app', 'https://github.com/acme/app/pull/3');
    const elsewhere = withPrOpen('acme/lib', 'https://github.com/acme/lib/pull/4');
    fake.setPull('acme/app', 1, { state: 'closed', merged: true });
    fake.setPull('acme/app', 2, { state: 'closed', merged: false });
    fake.setPull('acme/app', 3, { state: 'open', merged: false });
    fake.setPull('acme/lib', 4, { state: 'closed', merged: true });
    const lines: string[] = [];

    const result = await prSync(['ACME/app'], (level, message) =>
      lines.push(`${level} ${message}`),
    ).syncOnce();

    expect(result).toEqual({ checked: 3, merged: [merged], requeued: [closed], failed: [] });
    expect(engine.getTask(merged).status).toBe('merged');
    // Back in the queue (and maybe handed out again at once, as an admin's requeue is).
    expect(engine.auditEvents({ task_id: closed }).events).toContainEqual(
      expect.objectContaining({
        actor: 'admin',
        data: expect.objectContaining({ from: 'pr_opened', to: 'ready' }),
      }),
    );
    expect(engine.getTask(closed).status).not.toBe('pr_opened');
    expect(engine.getTask(open).status).toBe('pr_opened');
    // Not a listed repository: not even asked about.
    expect(engine.getTask(elsewhere).status).toBe('pr_opened');
    expect(fake.requests.map((r) => r.url)).not.toContain('/repos/acme/lib/pulls/4');
    expect(lines).toEqual([
      `info PR sync: https://github.com/acme/app/pull/1 was merged on GitHub; task ${merged} marked merged`,
      `info PR sync: https://github.com/acme/app/pull/2 was closed without merging; task ${closed} back in the queue`,
    ]);
    // The admin's moves in the audit log, as if an admin had made them.
    const audit = engine.auditEvents({ task_id: merged }).events.at(-1);
    expect(audit).toMatchObject({
      type: 'task.status_changed',
      actor: 'admin',
      data: { to: 'merged' },
    });

    // A second pass finds nothing more to do, and asks about the open PR by its ETag: an unchanged
    // PR answers 304, which GitHub does not count against the rate limit.
    fake.requests.length = 0;
    expect(await syncs[0]!.syncOnce()).toEqual({
      checked: 1,
      merged: [],
      requeued: [],
      failed: [],
    });
    expect(fake.requests).toEqual([
      expect.objectContaining({ url: '/repos/acme/app/pulls/3', ifNoneMatch: '"open-false"' }),
    ]);
    fake.setPull('acme/app', 3, { state: 'closed', merged: true });
    expect((await syncs[0]!.syncOnce()).merged).toEqual([open]);
  });

  it('reports a PR it cannot read and leaves its task, then catches up once it can', async () => {
    const task = withPrOpen('acme/app', 'https://github.com/acme/app/pull/9');
    const lines: string[] = [];
    const sync = prSync(['acme/app'], (level, message) => lines.push(`${level} ${message}`));

    expect(await sync.syncOnce()).toEqual({
      checked: 1,
      merged: [],
      requeued: [],
      failed: [
        {
          task_id: task,
          pr_url: 'https://github.com/acme/app/pull/9',
          message: 'GitHub answers 404: no such pull request, or no access',
        },
      ],
    });
    expect(engine.getTask(task).status).toBe('pr_opened');
    expect(lines.join('\n')).not.toContain(GITHUB_TOKEN);

    fake.setPull('acme/app', 9, { state: 'closed', merged: true });
    expect((await sync.syncOnce()).merged).toEqual([task]);
  });

  it('leaves a task its worker merged meanwhile as it is', async () => {
    const task = withPrOpen('acme/app', 'https://github.com/acme/app/pull/5');
    fake.setPull('acme/app', 5, { state: 'closed', merged: true });
    const api = new LocalOwpApi(engine, { admin: true });
    // The worker reports the merge just after the pass listed the task, while GitHub is read.
    const racing = Object.assign(Object.create(api) as LocalOwpApi, {
      listTasks: async (query: Parameters<LocalOwpApi['listTasks']>[0]) => {
        const page = await api.listTasks(query);
        engine.markMerged(task);
        return page;
      },
    });
    const sync = new GithubPrSync({
      api: racing,
      repos: ['acme/app'],
      client: { token: GITHUB_TOKEN, baseUrl: fake.baseUrl },
    });
    syncs.push(sync);
    expect(await sync.syncOnce()).toEqual({ checked: 1, merged: [], requeued: [], failed: [] });
    expect(engine.getTask(task).status).toBe('merged');
  });
});

describe('the server with OWP_GITHUB_PR_SYNC_REPOS', () => {
  it('reads the open PRs at start, and refuses to start without GITHUB_TOKEN', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owp-pr-sync-'));
    try {
      const dbPath = join(dir, 'owp.db');
      // A pool whose task has had its PR open since before this start.
      const fileDriver = new BetterSqlite3Driver({ path: dbPath });
      const seeded = new Scheduler({ driver: fileDriver, clock: systemClock });
      seeded.upsertRepo({ repo: 'acme/app' });
      const { worker_id } = seeded.registerWorker({ name: 'Gone agent', capacity_points: 5 });
      seeded.heartbeat(worker_id, { status: 'idle' });
      const task = seeded.createTask({ repo: 'acme/app', title: 'Left behind' }).task_id;
      seeded.updateStatus(worker_id, task, { status: 'in_progress' });
      seeded.updateStatus(worker_id, task, {
        status: 'pr_opened',
        artifact: { pr_url: 'https://github.com/acme/app/pull/77' },
      });
      fileDriver.close();
      fake.setPull('acme/app', 77, { state: 'closed', merged: true });

      const env = {
        OWP_HOST: '127.0.0.1',
        OWP_PORT: '0',
        OWP_DB_PATH: dbPath,
        OWP_LOG_LEVEL: 'silent',
        OWP_GITHUB_PR_SYNC_REPOS: 'acme/app',
      };
      await expect(startServer(env)).rejects.toThrow(
        /^OWP_GITHUB_PR_SYNC_REPOS: needs GITHUB_TOKEN/,
      );
      const server = await startServer({ ...env, GITHUB_TOKEN, GITHUB_API_URL: fake.baseUrl });
      try {
        await expect
          .poll(() => server.engine.getTask(task).status, { timeout: 5000 })
          .toBe('merged');
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
