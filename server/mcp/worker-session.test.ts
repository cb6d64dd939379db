/** The MCP tools' logic in-process, over a local SQLite file: registration and lease fencing. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { BetterSqlite3Driver } from '../better-sqlite3-driver.ts';
import { writeCredentials } from '../cli/config-file.ts';
import { localBackend, type WorkerBackend } from './worker-backend.ts';
import { WorkerSession } from './worker-session.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A database with repo `demo` and the given tasks, and a backend over it. */
function pool(titles: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'owp-mcp-session-'));
  const db = join(dir, 'pool.db');
  const driver = new BetterSqlite3Driver({ path: db });
  const engine = new Scheduler({ driver, clock: systemClock });
  engine.upsertRepo({ repo: 'demo' });
  const tasks = titles.map((title) => engine.createTask({ repo: 'demo', title }));
  const backend = localBackend(db);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => driver.close());
  cleanups.push(() => backend.close());
  return { dir, db, engine, tasks, backend, config: join(dir, 'config.json') };
}

const session = (backend: WorkerBackend, configPath: string) =>
  new WorkerSession({ backend, configPath, heartbeatSeconds: 30 });

describe('WorkerSession.register', () => {
  it('saves credentials once and finds them again in a new session', async () => {
    const { backend, config } = pool();
    const first = session(backend, config);
    const registered = await first.register({ name: 'agent', skills: ['ts'] });
    expect(registered).toMatchObject({ already_registered: false, config });
    expect(JSON.parse(readFileSync(config, 'utf8'))).toMatchObject({
      url: backend.target,
      worker_id: registered.worker_id,
      name: 'agent',
    });

    const second = session(backend, config);
    expect(second.workerId).toBe(registered.worker_id);
    expect(await second.register({ name: 'agent' })).toMatchObject({
      worker_id: registered.worker_id,
      already_registered: true,
    });
  });

  it('does not overwrite the credentials of another server unless told to', async () => {
    const { backend, config } = pool();
    writeCredentials(config, { url: 'http://127.0.0.1:8787', worker_id: 'w_other', token: 'x' });
    const agent = session(backend, config);
    expect(agent.workerId).toBeUndefined();
    await expect(agent.register({ name: 'agent' })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('replace: true'),
    });
    const replaced = await agent.register({ name: 'agent', replace: true });
    expect(replaced.already_registered).toBe(false);
    expect(JSON.parse(readFileSync(config, 'utf8')).worker_id).toBe(replaced.worker_id);
  });

  it('registers afresh when the saved token is no longer known (a new database)', async () => {
    const { backend, config } = pool();
    writeCredentials(config, { url: backend.target, worker_id: 'w_gone', token: 'stale-token' });
    const agent = session(backend, config);
    const registered = await agent.register({ name: 'agent' });
    expect(registered.already_registered).toBe(false);
    expect(registered.worker_id).not.toBe('w_gone');
  });
});

describe('WorkerSession leases', () => {
  it('takes a task, opens its PR straight from leased, and refuses tasks it does not hold', async () => {
    const { backend, config, engine, tasks } = pool(['First', 'Second']);
    const agent = session(backend, config);
    await expect(agent.nextTask()).rejects.toMatchObject({ code: 'unauthorized' });
    await agent.register({ name: 'agent', max_concurrent_tasks: 1 });

    const next = await agent.nextTask();
    const held = tasks.find((t) => t.task_id === next.lease?.task_id)!;
    const other = tasks.find((t) => t !== held)!;
    expect(next.lease?.status).toBe('leased');
    expect(next.contract).toMatchObject({ repo: 'demo', defined_by_repo: false });
    await expect(agent.reportProgress(other.task_id, 'in_progress')).rejects.toMatchObject({
      code: 'not_lease_holder',
    });

    const opened = await agent.openPr(held.task_id, 'https://example.com/pull/1');
    expect(opened.status).toBe('pr_opened');
    const history = engine
      .events({ task_id: held.task_id })
      .filter((e) => e.type === 'task.status_changed')
      .map((e) => (e.type === 'task.status_changed' ? e.data.to : null));
    expect(history).toEqual(['leased', 'in_progress', 'pr_opened']);
  });

  it('says so when there is nothing to take, and keeps alive without throwing', async () => {
    const { backend, config } = pool();
    const agent = session(backend, config);
    const errors: string[] = [];
    await agent.keepAlive((message) => errors.push(message));
    await agent.register({ name: 'agent' });
    await agent.keepAlive((message) => errors.push(message));
    expect(errors).toEqual([]);
    const next = await agent.nextTask();
    expect(next).toMatchObject({ lease: null, contract: null, other_leases: [] });
    expect(next.message).toContain('No task you can take right now');
  });
});

describe('WorkerSession offers and the repo contract', () => {
  it("lists offers when there is no lease, accepts one with the repo's contract, rejects another", async () => {
    const { backend, config, engine } = pool();
    engine.upsertRepo({
      repo: 'demo',
      assignment: 'offer',
      contract: { setup: 'npm ci', test: 'npm test', branch_naming: 'owp/<task_id>' },
    });
    const agent = session(backend, config);
    const { worker_id } = await agent.register({ name: 'agent', max_concurrent_tasks: 2 });
    engine.heartbeat(worker_id);
    const first = engine.createTask({ repo: 'demo', title: 'First' });
    const second = engine.createTask({ repo: 'demo', title: 'Second' });

    const next = await agent.nextTask();
    expect(next.lease).toBeNull();
    expect(next.offers.map((o) => o.task_id)).toEqual([first.task_id, second.task_id]);
    expect(next.message).toContain('2 offer(s)');

    const [take, decline] = next.offers;
    const accepted = await agent.acceptOffer(take!.offer_id);
    expect(accepted.lease).toMatchObject({ task_id: first.task_id, status: 'leased' });
    expect(accepted.contract).toMatchObject({
      defined_by_repo: true,
      setup: 'npm ci',
      test: 'npm test',
      lint: null,
      branch_naming: 'owp/<task_id>',
      pr_template: null,
    });
    expect(await agent.rejectOffer(decline!.offer_id, 'skill_mismatch', 'no Rust here')).toEqual({
      ok: true,
      task_id: second.task_id,
    });
    expect(await agent.offers()).toEqual([]);
    expect(engine.getTask(second.task_id)).toMatchObject({ status: 'ready', assignee: null });

    const again = await agent.nextTask();
    expect(again.lease?.task_id).toBe(first.task_id);
    expect(again.contract).toMatchObject({ defined_by_repo: true, test: 'npm test' });
  });
});
