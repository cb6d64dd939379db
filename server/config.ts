import { z } from 'zod';
import { queryInt } from '../protocol/common.ts';

/**
 * A whole number from an environment variable: digits only (around them, spaces), as `queryInt`
 * reads a query string (a coercion took "   " for 0, a random port, and "1e3" for 1000).
 */
const envInt = (min: number, max: number, fallback: number) =>
  // Spaces around the digits (" 8080", a CRLF .env's "8080\r") are not part of the number.
  z.preprocess(
    (value) => (typeof value === 'string' ? value.trim() : value),
    queryInt(min, max, fallback),
  );

/**
 * A token given in a variable: 16+ characters, none of them spaces at either end, which HTTP
 * drops from a header value — such a token could never be presented, and the admin was locked out.
 */
const tokenSetting = z
  .string()
  .min(16, 'must be at least 16 characters')
  .refine((token) => token === token.trim(), {
    message: 'must not start or end with a space (HTTP drops those from a header)',
  });

/** Server settings; each has an `OWP_*` variable. Durations are seconds, as people type them. */
/** GitHub repositories an integration acts on: `owner/name,owner/name`. */
const githubRepoList = z
  .string()
  .regex(
    /^\s*[\w.-]+\/[\w.-]+(\s*,\s*[\w.-]+\/[\w.-]+)*\s*$/,
    'a comma-separated list of owner/name',
  )
  .optional();

export const ServerConfig = z.object({
  OWP_HOST: z.string().min(1).default('127.0.0.1'),
  OWP_PORT: envInt(0, 65535, 8787),
  OWP_DB_PATH: z.string().min(1).default('data/owp.db'),
  OWP_ADMIN_TOKEN: tokenSetting.optional(),
  OWP_LEASE_TTL: envInt(10, 7 * 24 * 3600, 1800),
  OWP_HEARTBEAT_TTL: envInt(5, 24 * 3600, 90),
  /** Expiries and releases before a task goes to `failed`, for repos that set no limit. */
  OWP_MAX_ATTEMPTS: envInt(1, 100, 5),
  /** Seconds an offer waits for its answer, for repos that set none. */
  OWP_OFFER_TTL: envInt(10, 7 * 24 * 3600, 900),
  /** Commit the writes of one event-loop turn together (answers still wait for the commit). */
  OWP_GROUP_COMMIT: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((value) => value === 'true' || value === '1'),
  /** Milliseconds; a repeated heartbeat inside this window is answered without a write. */
  OWP_HEARTBEAT_COALESCE_MS: envInt(0, 60_000, 1000),
  OWP_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  OWP_VIEWER_TOKEN: tokenSetting.optional(),
  OWP_REGISTRATIONS_PER_MINUTE: envInt(1, 1_000_000, 20),
  OWP_AUTH_FAILURES_PER_MINUTE: envInt(1, 1_000_000, 30),
  OWP_MAX_EVENT_STREAMS: envInt(1, 100_000, 1000),
  OWP_REQUEST_TIMEOUT: envInt(1, 3600, 30),
  /** Hours between scheduled backups into `backups/` beside the database; 0: none. */
  OWP_BACKUP_EVERY: envInt(0, 24 * 365, 0),
  /** How many scheduled backups are kept (older ones deleted). */
  OWP_BACKUP_KEEP: envInt(1, 10_000, 7),
  OWP_GITHUB_WRITEBACK_REPOS: githubRepoList,
  OWP_GITHUB_PR_SYNC_REPOS: githubRepoList,
});
export type ServerConfig = z.infer<typeof ServerConfig>;

/**
 * Reads the configuration from the environment. Bad values stop the start with one line naming
 * the variable, e.g. `OWP_PORT: Too big: expected number to be <=65535`.
 */
export function loadConfig(env: Record<string, string | undefined>): ServerConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key.startsWith('OWP_') && value !== ''),
  );
  const result = ServerConfig.safeParse(present);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new ConfigError(`${issue.path.join('.')}: ${issue.message}`);
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
