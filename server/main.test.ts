import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Scheduler } from '../scheduler/engine.ts';
import { systemClock } from '../scheduler/clock.ts';
import { migrate, pendingUpgrade } from '../scheduler/migrate.ts';
import { migrations } from '../scheduler/sql/migrations.generated.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';
import { ConfigError } from './config.ts';
import { serverBanner, startServer } from './main.ts';

const dirs: string[] = [];
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'owp-main-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const env = (dir: string, extra: Record<string, string> = {}) => ({
  OWP_PORT: '0',
  OWP_DB_PATH: join(dir, 'data', 'owp.db'),
  OWP_LOG_LEVEL: 'info',
  ...extra,
});

describe('startServer (real network)', () => {
  it('generates an admin token once, stores it with mode 0600, and reuses it', async () => {
    const dir = tempDir();
    const first = await startServer(env(dir), { logStream: { write: () => {} } });
    expect(first.admin.created).toBe(true);
    const file = join(dir, 'data', 'admin-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.admin.token);
    await first.stop();

    const second = await startServer(env(dir), { logStream: { write: () => {} } });
    expect(second.admin).toMatchObject({ created: false, token: first.admin.token });
    await second.stop();

    const overridden = await startServer(
      env(dir, { OWP_ADMIN_TOKEN: 'from-the-environment-1234' }),
      {
        logStream: { write: () => {} },
      },
    );
    expect(overridden.admin).toMatchObject({
      source: 'OWP_ADMIN_TOKEN',
      token: 'from-the-environment-1234',
    });
    await overridden.stop();
  });

  it('never writes a worker or admin token to its logs', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const server = await startServer(env(dir, { OWP_LOG_LEVEL: 'trace' }), {
      logStream: { write: (line) => lines.push(line) },
    });
    const admin = { 'x-admin-token': server.admin.token, 'content-type': 'application/json' };
    await fetch(`${server.base}/v1/admin/repos`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ repo: 'demo' }),
    });
    const registered = (await (
      await fetch(`${server.base}/v1/workers/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Alice' }),
      })
    ).json()) as { token: string };
    await fetch(`${server.base}/v1/work`, {
      headers: { authorization: `Bearer ${registered.token}` },
    });
    await fetch(`${server.base}/v1/work`, {
      headers: { authorization: 'Bearer wrong-token-value' },
    });
    // A client that put a secret in the URL by mistake: the request line is logged masked.
    await fetch(`${server.base}/v1/admin/state?admin_token=${server.admin.token}&x=1`);
    await fetch(`${server.base}/healthz?Api%2DKey=${registered.token}`);
    await server.stop();

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(4);
    expect(log).not.toContain(server.admin.token);
    expect(log).not.toContain(registered.token);
    expect(log).not.toContain('wrong-token-value');
    expect(log).toContain('/v1/admin/state?admin_token=***&x=1');
    expect(log).toContain('/healthz?Api%2DKey=***');
  });

  it('keeps serving when its timers’ work fails (a database locked elsewhere), and says so once', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const server = await startServer(env(dir), {
      logStream: { write: (line) => lines.push(line) },
    });
    const sweep = server.engine.sweep.bind(server.engine);
    server.engine.sweep = () => {
      throw new Error('database is locked');
    };
    await new Promise((resolve) => setTimeout(resolve, 2300));
    expect((await fetch(`${server.base}/healthz`)).status).toBe(200);
    const failed = lines.filter((line) => line.includes('the expiry sweep failed'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toContain('database is locked');

    server.engine.sweep = sweep;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(lines.filter((line) => line.includes('the expiry sweep works again'))).toHaveLength(1);
    await server.stop();
    // 3.5 s of waiting on the sweep's 1 s timer: past vitest's 5 s default on a loaded machine.
  }, 15_000);

  it('closes the connection of a request answered while stopping, so the stop does not wait on it', async () => {
    const dir = tempDir();
    const server = await startServer(env(dir), { logStream: { write: () => {} } });
    const engine = server.engine;
    engine.upsertRepo({ repo: 'acme/app' });
    // A long read (a repo's analytics, read a page at a time) is under way when the stop begins.
    let entered!: () => void;
    const underWay = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const read = engine.repoAnalyticsPaced.bind(engine);
    engine.repoAnalyticsPaced = async (...args) => {
      entered();
      await released;
      return read(...args);
    };
    const answer = fetch(`${server.base}/v1/analytics/repositories/acme/app`, {
      headers: { 'x-admin-token': server.admin.token },
    });
    await underWay;
    const stopped = server.stop();
    release();
    const response = await answer;
    expect(response.status).toBe(200);
    expect(response.headers.get('connection')).toBe('close');
    await response.arrayBuffer();
    await stopped;
  });

  it('finishes every accepted write before stopping, so none is lost', async () => {
    const dir = tempDir();
    const server = await startServer(env(dir), { logStream: { write: () => {} } });
    const headers = { 'x-admin-token': server.admin.token, 'content-type': 'application/json' };
    await fetch(`${server.base}/v1/admin/repos`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ repo: 'demo', max_open_prs: 0 }),
    });
    // Writes go out in waves; the stop lands while some are on the wire and others not yet sent.
    let answered = 0;
    const send = (i: number) =>
      fetch(`${server.base}/v1/admin/tasks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ repo: 'demo', title: `write ${i}` }),
      })
        .then(async (res) => {
          answered++;
          return res.status === 200 ? ((await res.json()) as { task_id: string }).task_id : null;
        })
        .catch(() => null);
    const writes = Array.from({ length: 20 }, (_, i) => send(i));
    while (answered < 5) await new Promise((resolve) => setTimeout(resolve, 1));
    writes.push(...Array.from({ length: 40 }, (_, i) => send(20 + i)));
    const stopped = server.stop();
    writes.push(...Array.from({ length: 20 }, (_, i) => send(60 + i)));
    const results = await Promise.all(writes);
    await stopped;
    const acknowledged = results.filter((id): id is string => id !== null);

    const engine = new Scheduler({
      driver: new BetterSqlite3Driver({ path: join(dir, 'data', 'owp.db') }),
      clock: systemClock,
    });
    const stored = new Set(engine.listTasks({ limit: 500 }).tasks.map((t) => t.task_id));
    expect(acknowledged.length).toBeGreaterThanOrEqual(5);
    for (const id of acknowledged) expect(stored.has(id)).toBe(true);
    expect(existsSync(join(dir, 'data', 'owp.db'))).toBe(true);
  });
});

describe('startServer upgrading an older database', () => {
  /** A database file at the schema before the newest, as an older release left it. */
  function olderPool(dir: string) {
    const path = join(dir, 'data', 'owp.db');
    mkdirSync(join(dir, 'data'));
    const driver = new BetterSqlite3Driver({ path });
    migrate(driver, systemClock, migrations.slice(0, -1));
    driver.close();
    return { path, from: migrations.at(-2)!.id, to: migrations.at(-1)!.id };
  }
  const quiet = { logStream: { write: () => {} } };

  it('keeps a copy of the database as it was before migrating it, and says where', async () => {
    const dir = tempDir();
    const { path, from, to } = olderPool(dir);
    // Told before the migrations run, while the file is still at the older schema.
    const told: Array<{ from: number; to: number; schemaThen: number | undefined }> = [];
    const server = await startServer(env(dir), {
      ...quiet,
      onUpgrade: (upgrade) => {
        const then = new BetterSqlite3Driver({ path });
        told.push({ from: upgrade.from, to: upgrade.to, schemaThen: pendingUpgrade(then)?.from });
        then.close();
      },
    });
    try {
      expect(told).toEqual([{ from, to, schemaThen: from }]);
      expect(server.upgradeBackup).toMatchObject({ from, to, report: { schema: from } });
      const kept = server.upgradeBackup!.report.path;
      expect(kept).toMatch(new RegExp(`/data/backups/owp-before-schema-${to}-[0-9T-]+Z\\.db$`));
      expect(existsSync(kept)).toBe(true);
      expect(serverBanner(server)).toContain(
        `  upgraded from schema ${from} to ${to}; the database as it was: ${kept}`,
      );
    } finally {
      await server.stop();
    }
    // At the newest schema now: the next start keeps no copy.
    const again = await startServer(env(dir), quiet);
    await again.stop();
    expect(again.upgradeBackup).toBeNull();
    expect(serverBanner(again)).not.toContain('upgraded');
    expect(existsSync(path)).toBe(true);
  });

  it('makes backups on a timer when asked, and says so in its banner', async () => {
    const dir = tempDir();
    const server = await startServer(
      env(dir, { OWP_BACKUP_EVERY: '24', OWP_BACKUP_KEEP: '3' }),
      quiet,
    );
    try {
      expect(server.backups?.folder).toBe(join(dir, 'data', 'backups'));
      expect(serverBanner(server)).toContain(
        `  backups:   every 24 h into ${join(dir, 'data', 'backups')}, the last 3 kept`,
      );
    } finally {
      await server.stop();
    }
    const plain = await startServer(env(dir), quiet);
    await plain.stop();
    expect(plain.backups).toBeNull();
    expect(serverBanner(plain)).not.toContain('backups:');
  });

  it('does not migrate a database it could not copy first', async () => {
    const dir = tempDir();
    const { path, from } = olderPool(dir);
    // Where the copies go is taken by a file: the copy fails.
    writeFileSync(join(dir, 'data', 'backups'), 'not a folder');
    const error = await startServer(env(dir), quiet).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/could not be made \(.*\); nothing was changed$/);
    const driver = new BetterSqlite3Driver({ path });
    const schema = driver.db.prepare('SELECT MAX(id) FROM owp_migrations').pluck().get();
    driver.close();
    expect(schema).toBe(from);
  });
});

describe('startServer refuses what it cannot use, in one line', () => {
  const quiet = { logStream: { write: () => {} } };

  it('a database path it cannot open, naming it (was a stack trace)', async () => {
    const dir = tempDir();
    await expect(startServer(env(dir, { OWP_DB_PATH: dir }), quiet)).rejects.toThrow(
      new ConfigError(`OWP_DB_PATH: cannot open ${dir}: unable to open database file`),
    );
    writeFileSync(join(dir, 'file'), '');
    await expect(
      startServer(env(dir, { OWP_DB_PATH: join(dir, 'file', 'owp.db') }), quiet),
    ).rejects.toThrow(/^OWP_DB_PATH: cannot make .*\/file: EEXIST/);
  });

  it('an admin token file too short to use (empty, it locked the admin out)', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'admin-token'), '\n');
    await expect(startServer(env(dir), quiet)).rejects.toThrow(
      `${join(dir, 'data', 'admin-token')}: the admin token there must be at least 16 characters`,
    );
  });

  it('names an IPv6 address in brackets in its URLs', async () => {
    const dir = tempDir();
    const server = await startServer(env(dir, { OWP_HOST: '::1' }), quiet);
    expect(server.base).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect((await fetch(`${server.base}/healthz`)).status).toBe(200);
    await server.stop();
  });
});

describe('startServer with GitHub write-back', () => {
  it('refuses to start with write-back repos but no GITHUB_TOKEN, naming the variable', async () => {
    const dir = tempDir();
    await expect(
      startServer(env(dir, { OWP_GITHUB_WRITEBACK_REPOS: 'acme/web' }), {
        logStream: { write: () => {} },
      }),
    ).rejects.toThrow(/^OWP_GITHUB_WRITEBACK_REPOS: needs GITHUB_TOKEN/);
  });

  it('refuses a malformed repo list', async () => {
    const dir = tempDir();
    await expect(
      startServer(env(dir, { OWP_GITHUB_WRITEBACK_REPOS: 'not a repo' }), {
        logStream: { write: () => {} },
      }),
    ).rejects.toThrow(/^OWP_GITHUB_WRITEBACK_REPOS: a comma-separated list of owner\/name/);
  });
});

describe('serverBanner', () => {
  const server = (created: boolean) => ({
    base: 'http://127.0.0.1:8787',
    config: { OWP_DB_PATH: 'data/owp.db' } as Parameters<typeof serverBanner>[0]['config'],
    admin: { created, source: '/srv/data/admin-token', token: 'owpa_a-new-secret-token' },
  });

  it('shows a new admin token on a terminal, and only where it is anywhere else (a log)', () => {
    expect(serverBanner(server(true), { toTerminal: true })).toContain(
      'admin token (new, saved to /srv/data/admin-token, mode 0600):\n    owpa_a-new-secret-token',
    );
    const logged = serverBanner(server(true));
    expect(logged).not.toContain('owpa_a-new-secret-token');
    expect(logged).toContain('admin token (new): saved to /srv/data/admin-token (mode 0600)');
  });

  it('never shows a token it did not just make', () => {
    const banner = serverBanner(server(false), { toTerminal: true });
    expect(banner).toContain('admin token: from /srv/data/admin-token');
    expect(banner).not.toContain('owpa_a-new-secret-token');
  });
});
