import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { buildApp, type AppOptions, type OwpApp } from '../../server/app.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';

export const FIXTURE_ADMIN_TOKEN = 'owpa_fixture_admin_0123456789abcdef0123';
export const FIXTURE_VIEWER_TOKEN = 'owpv_fixture_viewer_0123456789abcdef012';

export interface FixtureWorker {
  id: string;
  token: string;
}

/** A listening app over a SQLite file, with a known cast: two workers, a held task, a ready one. */
export interface AppFixture {
  app: OwpApp;
  engine: Scheduler;
  dbPath: string;
  port: number;
  base: string;
  adminToken: string;
  viewerToken: string;
  /** Worker A holds `heldTask` under `lease`. */
  workerA: FixtureWorker;
  /** Worker B holds `taskOfB` under `leaseOfB`. */
  workerB: FixtureWorker;
  heldTask: string;
  lease: { id: string; epoch: number };
  taskOfB: string;
  leaseOfB: { id: string; epoch: number };
  /** A task in a repo with a zero review budget: it stays ready whatever happens. */
  readyTask: string;
  /** The log lines the app wrote (when `captureLogs` was asked for). */
  logLines: string[];
  close(): Promise<void>;
}

export interface FixtureOptions extends Partial<Omit<AppOptions, 'engine' | 'adminToken'>> {
  logLevel?: string;
}

/**
 * Builds the app the way the server does (buildApp over the better-sqlite3 driver), listening on
 * 127.0.0.1, with generous rate limits unless the test sets its own. Time-driven upkeep (sweep,
 * assignment timer) does not run, so nothing changes unless a request changes it.
 */
export async function startAppFixture(options: FixtureOptions = {}): Promise<AppFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'owp-fixture-'));
  const dbPath = join(dir, 'owp.db');
  const driver = new BetterSqlite3Driver({ path: dbPath });
  const engine = new Scheduler({
    driver,
    clock: systemClock,
    config: { leaseTtlMs: 3600_000, heartbeatTtlMs: 3600_000 },
  });
  const logLines: string[] = [];
  const { logLevel, ...appOptions } = options;
  const app = buildApp({
    engine,
    adminToken: FIXTURE_ADMIN_TOKEN,
    viewerToken: FIXTURE_VIEWER_TOKEN,
    registrationsPerMinute: 1_000_000,
    authFailuresPerMinute: 1_000_000,
    logger: {
      level: logLevel ?? 'warn',
      redact: ['req.headers.authorization', 'req.headers["x-admin-token"]'],
      stream: { write: (line: string) => logLines.push(line) },
    },
    ...appOptions,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  engine.upsertRepo({ repo: 'fuzz', max_open_prs: 100, area_locks_enabled: false });
  engine.upsertRepo({ repo: 'owner/held', max_open_prs: 0 });
  const readyTask = engine.createTask({ repo: 'owner/held', title: 'stays ready' }).task_id;
  const workerA = asWorker(engine.registerWorker({ name: 'Worker A', skills: ['a'] }));
  const workerB = asWorker(engine.registerWorker({ name: 'Worker B', skills: ['b'] }));
  const heldTask = engine.createTask({
    repo: 'fuzz',
    title: 'held by A',
    required_skills: ['a'],
  }).task_id;
  const taskOfB = engine.createTask({
    repo: 'fuzz',
    title: 'held by B',
    required_skills: ['b'],
  }).task_id;
  engine.heartbeat(workerA.id, { status: 'working' });
  engine.heartbeat(workerB.id, { status: 'working' });
  const leaseOf = (workerId: string, taskId: string) => {
    const lease = engine.getWork(workerId).leases.find((l) => l.task_id === taskId);
    if (!lease) throw new Error(`fixture: ${workerId} did not get ${taskId}`);
    return { id: lease.lease_id, epoch: lease.epoch };
  };
  const lease = leaseOf(workerA.id, heldTask);
  const leaseOfB = leaseOf(workerB.id, taskOfB);

  return {
    app,
    engine,
    dbPath,
    port,
    base: `http://127.0.0.1:${port}`,
    adminToken: FIXTURE_ADMIN_TOKEN,
    viewerToken: FIXTURE_VIEWER_TOKEN,
    workerA,
    workerB,
    heldTask,
    lease,
    taskOfB,
    leaseOfB,
    readyTask,
    logLines,
    close: async () => {
      await app.close();
      driver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function asWorker(registered: { worker_id: string; token: string }): FixtureWorker {
  return { id: registered.worker_id, token: registered.token };
}

/** A fingerprint of every row of every table, to prove a batch of requests changed nothing. */
export function snapshotDb(path: string): { hash: string; rows: Record<string, number> } {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all() as Array<{ name: string }>;
    const hash = createHash('sha256');
    const rows: Record<string, number> = {};
    for (const { name } of tables) {
      const all = db.prepare(`SELECT * FROM "${name}" ORDER BY 1`).all();
      rows[name] = all.length;
      hash.update(`${name}\n${JSON.stringify(all)}\n`);
    }
    return { hash: hash.digest('hex'), rows };
  } finally {
    db.close();
  }
}
