/**
 * Starts the OWP server: configuration from the environment (and `.env` when present), the SQLite
 * file, the admin token, the HTTP app, and the timers for the expiry sweep and the assignment
 * safety net. Stops cleanly on SIGTERM/SIGINT: in-flight requests finish, then the database closes.
 */
import { hash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { systemClock } from '../scheduler/clock.ts';
import { Scheduler } from '../scheduler/engine.ts';
import { LocalOwpApi } from '../scheduler/local-api.ts';
import { buildApp } from './app.ts';
import {
  BackupSchedule,
  backupBeforeUpgrade,
  backupDatabase,
  type UpgradeBackup,
} from './backup.ts';
import { githubOptionsFromEnv } from './github/github-client.ts';
import { GithubPrSync } from './github/pr-sync.ts';
import { GithubWriteBack, parseWriteBackRepos, resumeFile } from './github/write-back.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';
import { ConfigError, loadConfig, type ServerConfig } from './config.ts';
import { findDashboardDir, registerDashboard } from './dashboard.ts';
import { limitHeapGrowth } from './heap.ts';

const SWEEP_INTERVAL_MS = 1000;
const ASSIGN_INTERVAL_MS = 5000;

/** The admin token: from OWP_ADMIN_TOKEN, else the one stored beside the database, else a new one. */
function adminToken(
  config: ServerConfig,
  dataDir: string,
): { token: string; source: string; created: boolean } {
  if (config.OWP_ADMIN_TOKEN)
    return { token: config.OWP_ADMIN_TOKEN, source: 'OWP_ADMIN_TOKEN', created: false };
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    // Empty or short, every admin call would be refused: the admin would be locked out.
    if (token.length < 16) {
      throw new ConfigError(
        `${file}: the admin token there must be at least 16 characters (delete the file to have a new one made)`,
      );
    }
    return { token, source: file, created: false };
  }
  const token = `owpa_${randomBytes(32).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, source: file, created: true };
}

export interface StartOptions {
  /** Where log lines go (default stdout); tests read them to prove no secret is logged. */
  logStream?: { write(line: string): void };
  /**
   * Told when an older database was copied and is about to be migrated, before the migrations
   * run: on a large database they take a while (schema 14: ~3 s per million events).
   */
  onUpgrade?: (upgrade: UpgradeBackup) => void;
}

/** Starts the server from configuration; `stop()` drains requests and closes the database. */
export async function startServer(
  env: Record<string, string | undefined> = process.env,
  options: StartOptions = {},
) {
  const config = loadConfig(env);
  const github = githubSettings(config, 'OWP_GITHUB_WRITEBACK_REPOS', env);
  const prSyncSettings = githubSettings(config, 'OWP_GITHUB_PR_SYNC_REPOS', env);
  const dbPath = resolve(config.OWP_DB_PATH);
  const dataDir = dirname(dbPath);
  let driver: BetterSqlite3Driver;
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new ConfigError(`OWP_DB_PATH: cannot make ${dataDir}: ${(error as Error).message}`);
  }
  let admin: ReturnType<typeof adminToken>;
  try {
    admin = adminToken(config, dataDir);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const file = join(dataDir, 'admin-token');
    throw new ConfigError(`${file}: cannot use the admin token file: ${(error as Error).message}`);
  }
  // An existing pool about to be migrated to a newer schema is copied first, as it was.
  let upgradeBackup: UpgradeBackup | null;
  try {
    upgradeBackup = await backupBeforeUpgrade(dbPath);
  } catch (error) {
    throw new ConfigError(`OWP_DB_PATH: ${(error as Error).message}`);
  }
  if (upgradeBackup) options.onUpgrade?.(upgradeBackup);
  try {
    driver = new BetterSqlite3Driver({
      path: dbPath,
      groupCommit: config.OWP_GROUP_COMMIT,
      backgroundCheckpoint: true,
    });
  } catch (error) {
    // A folder, a folder it may not write: one line, not a stack trace.
    throw new ConfigError(`OWP_DB_PATH: cannot open ${dbPath}: ${(error as Error).message}`);
  }
  const engine = new Scheduler({
    driver,
    clock: systemClock,
    config: {
      leaseTtlMs: config.OWP_LEASE_TTL * 1000,
      heartbeatTtlMs: config.OWP_HEARTBEAT_TTL * 1000,
      defaultMaxAttempts: config.OWP_MAX_ATTEMPTS,
      offerTtlMs: config.OWP_OFFER_TTL * 1000,
      heartbeatCoalesceMs: Math.min(
        config.OWP_HEARTBEAT_COALESCE_MS,
        config.OWP_HEARTBEAT_TTL * 100,
      ),
      // Node's one-shot hash: a third of the time of a Hash object, on every worker request.
      hashToken: (token) => hash('sha256', token, 'hex'),
    },
  });
  const app = buildApp({
    engine,
    committed: () => driver.committed(),
    backup: (target) => backupDatabase(dbPath, target),
    adminToken: admin.token,
    viewerToken: config.OWP_VIEWER_TOKEN,
    registrationsPerMinute: config.OWP_REGISTRATIONS_PER_MINUTE,
    authFailuresPerMinute: config.OWP_AUTH_FAILURES_PER_MINUTE,
    maxEventStreams: config.OWP_MAX_EVENT_STREAMS,
    requestTimeoutMs: config.OWP_REQUEST_TIMEOUT * 1000,
    logger: {
      level: config.OWP_LOG_LEVEL,
      // Request logs carry no headers by default; redact them anyway should a serializer add them.
      redact: [
        'req.headers.authorization',
        'req.headers["x-admin-token"]',
        'req.headers["x-viewer-token"]',
      ],
      // The server reads no secret from a URL, but a client may still put one there by mistake
      // (`?token=…`): the request line is logged with such values masked.
      serializers: {
        req: (request: { method: string; url: string; ip?: string }) => ({
          method: request.method,
          url: maskSecretsInUrl(request.url),
          remoteAddress: request.ip,
        }),
      },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
  });
  // The web dashboard at `/` (dist/dashboard, built by `npm run build`). Registered here rather
  // than in buildApp so inject() tests of the API stay API-only.
  registerDashboard(app);
  try {
    await app.listen({ host: config.OWP_HOST, port: config.OWP_PORT });
  } catch (error) {
    // Nothing may stay open behind a server that did not start (the checkpoint thread would keep
    // the process alive).
    await app.close();
    await driver.stopBackgroundWork();
    driver.close();
    throw listenError(error, config.OWP_HOST, config.OWP_PORT);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.OWP_PORT;
  // An IPv6 address goes in brackets in a URL (http://[::1]:8787).
  const host = config.OWP_HOST.includes(':') ? `[${config.OWP_HOST}]` : config.OWP_HOST;
  const base = `http://${host}:${port}`;

  const timers = [
    setInterval(
      survive('the expiry sweep', () => engine.sweep()),
      SWEEP_INTERVAL_MS,
    ),
    setInterval(
      survive('the assignment pass', () => {
        const end = app.owp.metrics.assignmentSeconds.startTimer({ trigger: 'timer' });
        engine.assignAll();
        end();
      }),
      ASSIGN_INTERVAL_MS,
    ),
  ];
  /**
   * A timer's work that fails (the database locked by another process past the busy timeout, or
   * made read-only) is tried again at the next tick, said once when it starts failing and once
   * when it works again: thrown from a timer, it stopped the whole server.
   */
  function survive(what: string, work: () => void): () => void {
    let failing = false;
    return () => {
      try {
        work();
        if (failing) app.log.warn(`${what} works again`);
        failing = false;
      } catch (error) {
        if (!failing) app.log.error({ err: error }, `${what} failed; trying again at each tick`);
        failing = true;
      }
    };
  }
  const writeBack = github
    ? new GithubWriteBack({
        api: new LocalOwpApi(engine, { admin: true }),
        repos: github.repos,
        client: github.client,
        registry: app.owp.metrics.registry,
        log: (level, message) => app.log[level](message),
        // Named after the database: two databases in one folder keep their own places.
        resume: resumeFile(`${dbPath}.github-write-back.json`),
      })
    : null;
  await writeBack?.start();
  const prSync = prSyncSettings
    ? new GithubPrSync({
        api: new LocalOwpApi(engine, { admin: true }),
        repos: prSyncSettings.repos,
        client: prSyncSettings.client,
        log: (level, message) => app.log[level](message),
      })
    : null;
  prSync?.start();
  const backups =
    config.OWP_BACKUP_EVERY > 0
      ? new BackupSchedule({
          dbPath,
          everyMs: config.OWP_BACKUP_EVERY * 3600_000,
          keep: config.OWP_BACKUP_KEEP,
          log: (level, message) => app.log[level](message),
          registry: app.owp.metrics.registry,
        })
      : null;
  backups?.start();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      app.owp.setStopping();
      for (const timer of timers) clearInterval(timer);
      await writeBack?.stop();
      await prSync?.stop();
      await backups?.stop();
      await app.close();
      await driver.stopBackgroundWork();
      driver.close();
    })());

  return { app, engine, config, base, admin, upgradeBackup, backups, stop };
}

/** A query parameter whose name says it holds a secret. */
const SECRET_PARAM = /token|secret|key|password|auth/i;

/** `url` with the values of query parameters named like secrets replaced by `***`. */
export function maskSecretsInUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const query = url
    .slice(mark + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_PARAM.test(decodeURIComponentSafe(name)) ? `${name}=***` : pair;
    });
  return `${url.slice(0, mark)}?${query.join('&')}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Which settings came from command-line flags (`owp serve --port`) rather than OWP_* variables. */
export interface SettingSources {
  portFlag?: boolean;
  hostFlag?: boolean;
}

/**
 * The server could not listen where it was told to: said in the words of its settings. `message`
 * names the OWP_* variables; `describe` the flags, for a command line that set them.
 */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(readonly describe: (sources: SettingSources) => string) {
    super(describe({}));
  }
}

function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new ListenError(
      ({ portFlag }) =>
        `${where} is already in use (another OWP Pool server?): stop it, or ${portFlag ? 'pass a free --port' : 'set OWP_PORT to a free port'}`,
    );
  }
  if (code === 'EACCES') {
    return new ListenError(
      ({ portFlag }) =>
        `not allowed to listen on ${where}: choose ${portFlag ? 'a --port' : 'an OWP_PORT'} above 1023`,
    );
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new ListenError(
      ({ hostFlag }) =>
        `${host} is not an address of this machine: check ${hostFlag ? '--host' : 'OWP_HOST'}`,
    );
  }
  return error;
}

/**
 * A GitHub integration's settings (the write-back, the PR sync; each opt-in per GitHub repo): on
 * when its variable names repos, with GITHUB_TOKEN (and GITHUB_API_URL for GitHub Enterprise) from
 * the environment. Checked before anything starts, so a bad setting leaves nothing half-open.
 */
function githubSettings(
  config: ServerConfig,
  variable: 'OWP_GITHUB_WRITEBACK_REPOS' | 'OWP_GITHUB_PR_SYNC_REPOS',
  env: Record<string, string | undefined>,
) {
  const repos = parseWriteBackRepos(config[variable]);
  if (repos.length === 0) return null;
  const client = githubOptionsFromEnv(env);
  if (!client.token) throw new ConfigError(`${variable}: needs GITHUB_TOKEN`);
  return { repos, client };
}

/**
 * What a person needs after start: where the server is, its pages, and where the admin token is.
 * A new token is shown only on a terminal (`toTerminal`), where a person reads it once; written to
 * a log (a redirect, `docker logs`, a service manager) it would be a secret kept in the log, so
 * there the banner says where the file is instead.
 */
export function serverBanner(
  server: {
    base: string;
    config: ServerConfig;
    admin: { created: boolean; source: string; token: string };
    upgradeBackup?: UpgradeBackup | null;
  },
  { toTerminal = false }: { toTerminal?: boolean } = {},
): string {
  const { base, admin, upgradeBackup } = server;
  return [
    `OWP Pool server listening on ${base}`,
    findDashboardDir()
      ? `  dashboard: ${base}/`
      : `  dashboard: not built — run npm run build, then open ${base}/`,
    `  API docs:  ${base}/docs   (OpenAPI: ${base}/openapi.json)`,
    `  health:    ${base}/healthz   metrics: ${base}/metrics`,
    `  database:  ${resolve(server.config.OWP_DB_PATH)}`,
    ...(server.config.OWP_BACKUP_EVERY > 0
      ? [
          `  backups:   every ${server.config.OWP_BACKUP_EVERY} h into ${join(dirname(resolve(server.config.OWP_DB_PATH)), 'backups')}, the last ${server.config.OWP_BACKUP_KEEP} kept`,
        ]
      : []),
    ...(upgradeBackup
      ? [
          `  upgraded from schema ${upgradeBackup.from} to ${upgradeBackup.to}; the database as it was: ${upgradeBackup.report.path}`,
        ]
      : []),
    !admin.created
      ? `  admin token: from ${admin.source}`
      : toTerminal
        ? `  admin token (new, saved to ${admin.source}, mode 0600):\n    ${admin.token}`
        : `  admin token (new): saved to ${admin.source} (mode 0600); not printed, as this output is not a terminal`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  limitHeapGrowth();
  try {
    if (existsSync('.env')) process.loadEnvFile('.env');
    if (existsSync('env.local')) process.loadEnvFile('env.local');
    const server = await startServer(process.env, {
      onUpgrade: ({ from, to, report }) =>
        console.log(
          `owp: upgrading the database from schema ${from} to ${to} (the database as it was: ` +
            `${report.path}); a large one takes a while`,
        ),
    });
    console.log(serverBanner(server, { toTerminal: process.stdout.isTTY === true }));
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        void server.stop().then(() => process.exit(0));
      });
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`owp: bad configuration: ${error.message}`);
      process.exit(2);
    }
    if (error instanceof ListenError) {
      console.error(`owp: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}
