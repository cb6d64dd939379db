import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { writeJsonFile } from '../json-file.ts';
import { CliError } from './errors.ts';

/** What `owp worker register` saves: enough to act as that worker later, and nothing else. */
export const WorkerCredentials = z.object({
  url: z.string().min(1),
  worker_id: z.string().min(1),
  token: z.string().min(1),
  name: z.string().optional(),
});
export type WorkerCredentials = z.infer<typeof WorkerCredentials>;

/** `$XDG_CONFIG_HOME/owp/config.json`, else `~/.config/owp/config.json`. */
export function defaultConfigPath(env: Record<string, string | undefined>, homeDir: string) {
  const base = env.XDG_CONFIG_HOME ? resolve(env.XDG_CONFIG_HOME) : join(homeDir, '.config');
  return join(base, 'owp', 'config.json');
}

/**
 * Where `owp admin github-write-back` keeps its place in a server's event log unless `--state`:
 * beside the default credentials, one file per server (`github-write-back/HOST_PORT.json`), since
 * each server numbers its events itself.
 */
export function defaultWriteBackStatePath(
  env: Record<string, string | undefined>,
  homeDir: string,
  serverUrl: string,
): string {
  const { host, pathname } = new URL(serverUrl);
  const key = `${host}${pathname}`.replace(/\/+$/, '').replace(/[^A-Za-z0-9.-]+/g, '_');
  return join(dirname(defaultConfigPath(env, homeDir)), 'github-write-back', `${key}.json`);
}

/** The saved worker, or undefined when there is no config file yet. */
export function readCredentials(path: string): WorkerCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not valid JSON; remove it and run \`owp worker register\``);
  }
  const parsed = WorkerCredentials.safeParse(json);
  if (!parsed.success) {
    throw new CliError(`${path} holds no worker credentials; run \`owp worker register\``);
  }
  return parsed.data;
}

/**
 * Saves the credentials readable by the owner only: the directory is created 0700 and the file is
 * written 0600 to a temporary name, then renamed, so the token is never visible to others even
 * for a moment and a crash never leaves half a file.
 */
export function writeCredentials(path: string, credentials: WorkerCredentials): void {
  writeJsonFile(path, credentials, { ownerOnly: true });
}
