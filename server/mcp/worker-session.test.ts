/** The MCP tools' logic in-process, over a local SQLite file: registration and lease fencing. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { BetterSqlite3Driver } from '../better-sqlite3-driver.ts';
import { writeCredentials } from '../cli/config-file.ts';
import { poolOnManualClock as manualClockPool } from './testing/manual-clock-pool.ts';
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

/** The pool on a clock the test moves, removed after the test. */
function poolOnManualClock() {
  const pool = manualClockPool();
  cleanups.push(() => pool.close());
  return pool;
}

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

  // Was: "or --url file:///…", which owp refuses (--url takes http(s) only).
  it('names --db for credentials of a database file, --url for those of a server', async () => {
    const { backend, config } = pool();
    writeCredentials(config, { url: 'file:///tmp/other.db', worker_id: 'w_local', token: 'x' });
    const agent = session(backend, config);
    await expect(agent.nextTask()).rejects.toMatchObject({
      message: expect.stringContaining('or --db /tmp/other.db.'),
    });
    writeCredentials(config, { url: 'http://127.0.0.1:8787', worker_id: 'w_other', token: 'x' });
    await expect(session(backend, config).nextTask()).rejects.toMatchObject({
      message: expect.stringContaining('or --url http://127.0.0.1:8787.'),
    });
  });

  it('does not overwrite the credentials of another server unless told to', async () => {
    const { backend, config } = pool();
    writeCredentials(config, { url: 'http://127.0.0.1:8787', worker_id: 'w_other', token: 'x' });
    const agent = session(backend, config);
    expect(agent.workerId).toBeUndefined();
    // Not "call register first": that would lead an agent to overwrite the other worker.
    await expect(agent.nextTask()).rejects.toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('holds worker w_other of http://127.0.0.1:8787'),
    });
    await expect(agent.register({ name: 'agent' })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining(
        'holds worker w_other of http://127.0.0.1:8787, not of file://',
      ),
    });
    const replaced = await agent.register({ name: 'agent', replace: true });
    expect(replaced.already_registered).toBe(false);
    expect(JSON.parse(readFileSync(config, 'utf8')).worker_id).toBe(replaced.worker_id);
  });

  it('says through the tools that its credentials file is unreadable, and replaces it when told', async () => {
    const { backend, config } = pool();
    writeFileSync(config, '{"url": "http://127.0.0.1:8787", "tok');
    // Was: the constructor threw, and `owp mcp` died at start with no word to the agent.
    const agent = session(backend, config);
    await expect(agent.nextTask()).rejects.toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining(`${config} is not valid JSON`),
    });
    await expect(agent.register({ name: 'agent' })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('replace: true'),
    });
    const replaced = await agent.register({ name: 'agent', replace: true });
    expect(JSON.parse(readFileSync(config, 'utf8')).worker_id).toBe(replaced.worker_id);
    await expect(agent.nextTask()).resolves.toMatchObject({ worker_id: replaced.worker_id });
  });

  it('registers one worker for calls made at once', async () => {
    const { backend, config, engine } = pool();
    const agent = session(backend, config);
    const answers = await Promise.all([1, 2, 3].map(() => agent.register({ name: 'par' })));
    // Was: three workers, two of them orphaned, each answer naming its own.
    expect(new Set(answers.map((a) => a.worker_id)).size).toBe(1);
    expect(answers.map((a) => a.already_registered)).toEqual([false, true, true]);
    expect(engine.listWorkers()).toHaveLength(1);
  });

  // Was: registered afresh at once, overwriting the file — after an admin replaced the token, the
  // worker's leases were left to expire, and the new token it was handed fit no worker in the file.
  it('registers afresh only with replace when the saved token is refused (a new database)', async () => {
    const { backend, config } = pool();
    writeCredentials(config, { url: backend.target, worker_id: 'w_gone', token: 'stale-token' });
    const agent = session(backend, config);
    await expect(agent.register({ name: 'agent' })).rejects.toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('register with replace: true to make a new worker'),
    });
    expect(JSON.parse(readFileSync(config, 'utf8')).worker_id).toBe('w_gone');
    const registered = await agent.register({ name: 'agent', replace: true });
    expect(registered.already_registered).toBe(false);
    expect(registered.worker_id).not.toBe('w_gone');
  });

  it('takes the new token saved for its worker while it runs (owp worker token)', async () => {
    const { backend, config, engine, tasks } = pool(['Held']);
    const agent = session(backend, config);
    const { worker_id } = await agent.register({ name: 'agent' });
    const next = await agent.nextTask();
    expect(next.lease?.task_id).toBe(tasks[0]!.task_id);

    const { token } = engine.replaceWorkerToken(worker_id);
    await expect(agent.leases()).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(agent.register({ name: 'agent' })).rejects.toMatchObject({
      message: expect.stringContaining('owp worker token'),
    });
    const saved = JSON.parse(readFileSync(config, 'utf8'));
    writeCredentials(config, { ...saved, token });
    expect((await agent.leases()).map((l) => l.task_id)).toEqual([tasks[0]!.task_id]);
    await expect(agent.register({ name: 'agent' })).resolves.toMatchObject({
      worker_id,
      already_registered: true,
    });
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

  it('keeps a pause the agent chose through the keep-alive, until it asks for work', async () => {
    const { backend, config, engine } = pool();
    const agent = session(backend, config);
    const { worker_id } = await agent.register({ name: 'agent' });
    await agent.heartbeat({ status: 'paused', note: 'lunch' });
    await agent.keepAlive(() => {});
    engine.createTask({ repo: 'demo', title: 'While away' });
    // Was: the keep-alive said idle again, and the new task was granted to the paused agent.
    expect(engine.getWorker(worker_id)).toMatchObject({ status: 'paused', note: 'lunch' });
    expect(engine.getWork(worker_id).leases).toEqual([]);

    const next = await agent.nextTask();
    expect(next.lease?.title).toBe('While away');
    await agent.keepAlive(() => {});
    expect(engine.getWorker(worker_id).status).toBe('working');
    // A note stays until the agent's next heartbeat, through the keep-alive's.
    await agent.heartbeat({ note: 'reading the parser' });
    await agent.keepAlive(() => {});
    expect(engine.getWorker(worker_id)).toMatchObject({
      status: 'working',
      note: 'reading the parser',
    });
  });

  // Was: the task not started yet came first, so an agent that lost its context switched tasks
  // and left the one it had started held.
  // Was: idle, until the beat after — the first beat knew of no lease yet.
  it('says working at the first keep-alive beat of a new session when leases are held', async () => {
    const { backend, config, engine } = pool(['Held']);
    const first = session(backend, config);
    const { worker_id } = await first.register({ name: 'agent' });
    expect((await first.nextTask()).lease?.title).toBe('Held');
    engine.heartbeat(worker_id, { status: 'idle' });

    await session(backend, config).keepAlive(() => {});
    expect(engine.getWorker(worker_id).status).toBe('working');
  });

  it('hands back the task already started before one not started yet', async () => {
    const { backend, config, engine } = pool();
    const agent = session(backend, config);
    await agent.register({ name: 'agent', max_concurrent_tasks: 2 });
    engine.createTask({ repo: 'demo', title: 'Started', priority: 9 });
    const first = await agent.nextTask();
    expect(first.lease?.title).toBe('Started');
    await agent.reportProgress(first.lease!.task_id, 'in_progress');
    engine.createTask({ repo: 'demo', title: 'Not started', priority: 5 });
    const again = await agent.nextTask();
    expect(again.lease).toMatchObject({ title: 'Started', status: 'in_progress' });
    expect(again.other_leases.map((l) => [l.title, l.status])).toEqual([['Not started', 'leased']]);
  });

  // Was: the keep-alive sent the refused token on every beat — each a failed sign-in the server
  // counts against the address (30 a minute lock every client there out).
  it('beats no more with a token the pool refused, until another is saved', async () => {
    const { backend, config, engine } = pool();
    const asked: string[] = [];
    const counting = {
      ...backend,
      api: (token?: string) => (asked.push(token ?? ''), backend.api(token)),
    };
    const agent = session(counting, config);
    const { worker_id } = await agent.register({ name: 'agent' });
    const oldToken = JSON.parse(readFileSync(config, 'utf8')).token as string;
    const { token } = engine.replaceWorkerToken(worker_id);
    const errors: string[] = [];
    asked.length = 0;
    for (let beat = 0; beat < 3; beat++) await agent.keepAlive((m) => errors.push(m));
    expect(asked).toEqual([oldToken]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('heartbeat refused');
    expect(errors[0]).toContain('owp worker token');

    writeCredentials(config, { ...JSON.parse(readFileSync(config, 'utf8')), token });
    await agent.keepAlive((m) => errors.push(m));
    expect(errors).toHaveLength(1);
    expect(engine.getWorker(worker_id).online).toBe(true);
  });

  it('beats a few times within the shortest lease TTL it holds', async () => {
    const { backend, config, engine } = pool();
    engine.upsertRepo({ repo: 'fast', lease_ttl_seconds: 15 });
    const agent = session(backend, config);
    await agent.register({ name: 'agent', max_concurrent_tasks: 2 });
    expect(agent.nextBeatMs()).toBe(30_000);
    engine.createTask({ repo: 'fast', title: 'Quick one' });
    const next = await agent.nextTask();
    expect(next.lease?.title).toBe('Quick one');
    // A 30 s keep-alive would let a 15 s lease expire under a working agent.
    expect(agent.nextBeatMs()).toBe(5_000);
    expect(next.contract).toMatchObject({
      lease: { kept_alive_by: expect.stringContaining('every 5 s now') },
    });
  });

  it('keeps beating within a short lease TTL after its renewals, as the TTL since the grant grows', async () => {
    const { clock, engine, backend, config } = poolOnManualClock();
    engine.upsertRepo({ repo: 'fast', lease_ttl_seconds: 15 });
    const agent = session(backend, config);
    const { worker_id } = await agent.register({ name: 'agent' });
    engine.createTask({ repo: 'fast', title: 'Quick one' });
    const { lease } = await agent.nextTask();
    expect(agent.nextBeatMs()).toBe(5_000);
    // A minute of work, the keep-alive renewing the lease on time.
    for (let beat = 0; beat < 12; beat++) {
      clock.advance(agent.nextBeatMs());
      await agent.keepAlive(() => {});
    }
    await agent.reportProgress(lease!.task_id, 'in_progress');
    await agent.nextTask();
    // Was: expiry − grant (75 s after a minute) read as the TTL: a 25 s beat, and the 15 s lease
    // expired under a working agent.
    expect(agent.nextBeatMs()).toBe(5_000);
    clock.advance(agent.nextBeatMs());
    await agent.keepAlive(() => {});
    engine.sweep();
    expect(engine.getWork(worker_id).leases.map((l) => l.epoch)).toEqual([lease!.epoch]);
  });

  it('counts the TTL of a lease a keep-alive beat granted, before the agent asks', async () => {
    const { clock, engine, backend, config } = poolOnManualClock();
    engine.upsertRepo({ repo: 'fast', lease_ttl_seconds: 15 });
    const agent = session(backend, config);
    await agent.register({ name: 'agent' });
    await agent.nextTask();
    engine.createTask({ repo: 'fast', title: 'Granted at a beat' });
    clock.advance(agent.nextBeatMs());
    await agent.keepAlive(() => {});
    // Was: 30 s, until the agent next listed its leases: the new 15 s lease expired meanwhile.
    expect(agent.nextBeatMs()).toBe(5_000);
  });

  it('acts on a task whose PR is open: a retried open_pr is answered, a release frees it', async () => {
    const { backend, config, engine, tasks } = pool(['Only']);
    const agent = session(backend, config);
    await agent.register({ name: 'agent' });
    await agent.nextTask();
    const first = await agent.openPr(tasks[0]!.task_id, 'https://example.com/pull/7');
    // A retry after a lost answer: the same PR, answered with the task as it is.
    const again = await agent.openPr(tasks[0]!.task_id, 'https://example.com/pull/7');
    expect(again).toMatchObject({ status: 'pr_opened', version: first.version });
    // The PR was closed unmerged: the agent gives the task back.
    await expect(agent.release(tasks[0]!.task_id, 'PR closed')).resolves.toMatchObject({
      ok: true,
    });
    expect(engine.getTask(tasks[0]!.task_id).status).not.toBe('pr_opened');
    await expect(agent.release(tasks[0]!.task_id)).rejects.toMatchObject({
      code: 'not_lease_holder',
      message: expect.stringContaining('it has ended'),
    });
  });

  it('tells a heartbeat that went through from one that failed, when reading the leases fails', async () => {
    const { backend, config } = pool(['Parser']);
    let failReads = false;
    const flaky: WorkerBackend = {
      target: backend.target,
      close: () => backend.close(),
      api: (token) => {
        const api = backend.api(token);
        return Object.assign(Object.create(api) as typeof api, {
          getWork: () =>
            failReads ? Promise.reject(new Error('connection reset')) : api.getWork(),
        });
      },
    };
    const agent = session(flaky, config);
    await agent.register({ name: 'agent' });
    expect((await agent.nextTask()).lease).not.toBeNull();

    failReads = true;
    const errors: string[] = [];
    await agent.keepAlive((message) => errors.push(message));
    expect(errors).toEqual([
      'heartbeat sent, but reading the leases after it failed: connection reset',
    ]);
    // The heartbeat tool answers: its heartbeat was sent.
    await expect(agent.heartbeat()).resolves.toMatchObject({ ok: true });
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
    expect(next.message).toBe('No task you can take right now. No task is ready. Try again later.');
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
    expect(next.message).toContain('No lease, but 2 offer(s)');
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

    // Holding a lease does not hide an offer waiting for its answer.
    const third = engine.createTask({ repo: 'demo', title: 'Third' });
    const again = await agent.nextTask();
    expect(again.lease?.task_id).toBe(first.task_id);
    expect(again.offers.map((o) => o.task_id)).toEqual([third.task_id]);
    expect(again.message).toContain('1 offer(s) wait for an answer');
    expect(again.contract).toMatchObject({ defined_by_repo: true, test: 'npm test' });
  });
});

describe('WorkerSession keep-alive after an accepted offer', () => {
  it("beats within the accepted lease's TTL at once", async () => {
    const { engine, backend, config } = poolOnManualClock();
    engine.upsertRepo({ repo: 'demo', assignment: 'offer', lease_ttl_seconds: 15 });
    const agent = session(backend, config);
    const { worker_id } = await agent.register({ name: 'agent' });
    engine.heartbeat(worker_id);
    engine.createTask({ repo: 'demo', title: 'Offered' });
    const [offer] = await agent.offers();
    expect(agent.nextBeatMs()).toBe(30_000);
    await agent.acceptOffer(offer!.offer_id);
    // Was: 30 s until the agent next listed its leases; the 15 s lease expired meanwhile.
    expect(agent.nextBeatMs()).toBe(5_000);
  });
});
