import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { OwpClient } from '../../protocol/client.ts';
import { defaultConfigPath, readCredentials, type WorkerCredentials } from './config-file.ts';
import { CliError, UsageError } from './errors.ts';
import type { CliIo } from './io.ts';
import { cliTransport } from './transport.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8787';

/** The options every command accepts, from the root program. */
export interface GlobalOptions {
  url?: string;
  adminToken?: string;
  json?: boolean;
  config?: string;
}

/**
 * One command's view of the world: where the server is, which credentials to use, and how to
 * print. Credentials are looked up only when a command needs them, so `owp --help` or
 * `owp worker register` never complain about a missing admin token.
 */
export class CliContext {
  /** Every secret this run has handled, masked from any error line. */
  readonly secrets: string[] = [];

  constructor(
    readonly io: CliIo,
    readonly options: GlobalOptions,
  ) {}

  /** Where the admin token came from when it was read from the server's file, for a 401's hint. */
  adminTokenFile: string | null = null;
  /** The worker whose saved credentials the command used, for the hint after a refusal. */
  savedWorker: string | null = null;

  get json(): boolean {
    return this.options.json === true;
  }

  /** `--url`, else `OWP_URL`, else the URL saved with the worker's credentials, else the default. */
  serverUrl(saved?: string): string {
    return normalUrl(this.options.url ?? this.io.env.OWP_URL ?? saved ?? DEFAULT_URL);
  }

  configPath(): string {
    return this.options.config
      ? resolve(this.io.cwd, this.options.config)
      : defaultConfigPath(this.io.env, this.io.homeDir);
  }

  /** A client whose requests time out, and abort on Ctrl-C unless given another signal. */
  client(
    options: { baseUrl: string; workerToken?: string; adminToken?: string },
    signal: AbortSignal = this.io.signal,
  ): OwpClient {
    return new OwpClient({ ...options, transport: cliTransport(signal) });
  }

  /** An admin client: the token from `--admin-token`, `OWP_ADMIN_TOKEN`, or the server's file. */
  adminClient(): OwpClient {
    return this.client({ baseUrl: this.serverUrl(), adminToken: this.requireAdminToken() });
  }

  /** The admin token, or a usage error saying where one is looked for. */
  requireAdminToken(): string {
    const token = this.adminToken();
    if (!token) {
      throw new UsageError(
        'no admin token: pass --admin-token, set OWP_ADMIN_TOKEN, or run where `owp serve` wrote data/admin-token',
      );
    }
    return token;
  }

  /**
   * The admin token if one can be found. The file is the one `owp serve` writes beside its
   * database; it belongs to a server on this machine, so it is never sent to another host.
   */
  adminToken(): string | undefined {
    let token = this.options.adminToken ?? this.io.env.OWP_ADMIN_TOKEN;
    if (!token && isLoopback(this.serverUrl())) {
      const dbPath = resolve(this.io.cwd, this.io.env.OWP_DB_PATH || join('data', 'owp.db'));
      const file = join(dirname(dbPath), 'admin-token');
      if (existsSync(file)) token = readFileSync(file, 'utf8').trim() || undefined;
      if (token) this.adminTokenFile = file;
    }
    if (token) this.secrets.push(token);
    return token;
  }

  /**
   * The path a `--db` option names, resolved, for a command that works on the database in-process.
   * A missing folder is an error naming it; a missing file is made (a new pool), and said so on
   * stderr, since it is as often a typo in the path as a first start. A database at an older
   * schema is first copied as it was, as the server does before it upgrades one (and said so).
   */
  async localDatabase(path: string): Promise<string> {
    const resolved = resolve(this.io.cwd, path);
    if (!existsSync(dirname(resolved))) {
      throw new CliError(`--db ${path}: the folder ${dirname(resolved)} does not exist`);
    }
    if (!existsSync(resolved)) {
      this.note(`owp: no database at ${resolved}: starting a new, empty one`);
      return resolved;
    }
    // Loaded here: only the commands with --db need the native SQLite module.
    const { backupBeforeUpgrade, BackupError } = await import('../backup.ts');
    try {
      const upgrade = await backupBeforeUpgrade(resolved);
      if (upgrade) {
        this.note(
          `owp: ${resolved} is upgraded from schema ${upgrade.from} to ${upgrade.to}; ` +
            `the database as it was: ${upgrade.report.path}`,
        );
      }
    } catch (error) {
      if (error instanceof BackupError) throw new CliError(error.message);
      throw error;
    }
    return resolved;
  }

  /**
   * The saved worker and a client acting as it; a clear error when nobody has registered. Its token
   * goes only to the server that issued it: `--url` or `OWP_URL` naming another one is refused
   * rather than handed the token (and answered "not valid", which would only mislead).
   */
  workerClient(): { client: OwpClient; credentials: WorkerCredentials } {
    const path = this.configPath();
    const credentials = readCredentials(path);
    if (!credentials) {
      throw new CliError(`no worker credentials in ${path}; run \`owp worker register\` first`);
    }
    if (credentials.url.startsWith('file:')) {
      // Registered by `owp mcp --db`: a worker of that database file, which no server knows.
      throw new CliError(
        `${path} holds worker ${credentials.worker_id} of the local database ${credentials.url} (owp mcp --db); ` +
          '`owp worker` works with a server: pass --config with a worker of one, or register one there',
      );
    }
    const saved = normalUrl(credentials.url);
    const asked = this.options.url ?? this.io.env.OWP_URL;
    if (asked !== undefined && normalUrl(asked) !== saved) {
      const from = this.options.url !== undefined ? '--url' : 'OWP_URL';
      throw new CliError(
        `${path} holds worker ${credentials.worker_id} of ${saved}, not of ${normalUrl(asked)} (${from}); ` +
          `its token is sent only to the server that issued it. Drop ${from}, pass --config with a worker of that server, ` +
          `or edit "url" in ${path} if the server moved`,
      );
    }
    this.secrets.push(credentials.token);
    this.savedWorker = credentials.worker_id;
    const client = this.client({ baseUrl: saved, workerToken: credentials.token });
    return { client, credentials };
  }

  /** Writes text (a newline is added) to stdout. */
  print(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** Writes a value as pretty JSON, for `--json`. */
  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A note for the person at the terminal; never part of the output scripts read. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** How a command's action gets its context: built from the root program's global options. */
export type ContextOf = (command: Command) => CliContext;

/** Commander parser for a whole number in [min, max]; a bad value is a usage error (exit 2). */
export function intArg(min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || number < min || number > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return number;
  };
}

/** Commander parser for `a,b,c`. */
export function listArg(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/**
 * A server URL as the CLI uses it: http(s), no trailing slash, and the server's address rather
 * than its API's (`…/v1`, as the plugin takes it too; the client adds /v1 itself). A user,
 * password, query or fragment is refused: the URL is printed and saved, where a secret must not be.
 */
function normalUrl(url: string): string {
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url)) {
    throw new UsageError(`--url must be an http(s) URL`);
  }
  const parsed = new URL(url);
  if (parsed.username || parsed.password || parsed.search || parsed.hash) {
    throw new UsageError(
      "--url takes the server's address only, without a user, password, query or fragment: tokens go in --admin-token, OWP_ADMIN_TOKEN or the credentials file",
    );
  }
  return url.replace(/\/+$/, '').replace(/\/v1$/, '');
}
