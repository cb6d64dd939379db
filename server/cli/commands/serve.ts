import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import type { Command } from 'commander';
import { ConfigError } from '../../config.ts';
import { intArg, type ContextOf } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';

/** `owp serve`: the HTTP server in the foreground until Ctrl-C or SIGTERM. */
export function addServeCommand(program: Command, contextOf: ContextOf): Command {
  return program
    .command('serve')
    .description('run the OWP server (settings from OWP_* variables, .env and env.local)')
    .option('--host <host>', 'interface to listen on (OWP_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port (OWP_PORT, default 8787; 0 picks a free one)', intArg(0, 65535))
    .option('--db <path>', 'SQLite file (OWP_DB_PATH, default data/owp.db)')
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const env = {
        ...envFiles(ctx.io.cwd),
        ...ctx.io.env,
        ...(options.host ? { OWP_HOST: options.host } : {}),
        ...(options.port !== undefined ? { OWP_PORT: String(options.port) } : {}),
        ...(options.db ? { OWP_DB_PATH: options.db } : {}),
      };
      // The server resolves its database path against the process's directory.
      env.OWP_DB_PATH = serverDbPath(ctx.io.cwd, env);
      // Loaded here, not at the top: `owp worker …` on a laptop never needs Fastify or the
      // native SQLite module.
      const { startServer, serverBanner, ListenError } = await import('../../main.ts');
      const { limitHeapGrowth } = await import('../../heap.ts');
      limitHeapGrowth();
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer(env);
      } catch (error) {
        if (error instanceof ConfigError)
          throw new UsageError(`bad configuration: ${error.message}`);
        if (error instanceof ListenError) {
          // Named as the person set it: the flag, when the setting came from one.
          throw new CliError(
            error.describe({ portFlag: options.port !== undefined, hostFlag: !!options.host }),
          );
        }
        throw error;
      }
      ctx.print(serverBanner(server, { toTerminal: ctx.io.stdout.isTTY === true }));
      await new Promise<void>((done) => {
        if (ctx.io.signal.aborted) done();
        else ctx.io.signal.addEventListener('abort', () => done(), { once: true });
      });
      ctx.note('stopping…');
      await server.stop();
      ctx.note('stopped');
    });
}

/**
 * `.env` then `env.local` from the working directory, as `server/main.ts` loads them: neither
 * overrides a variable that is already set, and `.env` wins over `env.local`.
 */
export function envFiles(cwd: string): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const name of ['env.local', '.env']) {
    const path = join(cwd, name);
    if (existsSync(path)) Object.assign(merged, parseEnv(readFileSync(path, 'utf8')));
  }
  return merged;
}

/** The server's database file: `OWP_DB_PATH` (from `env`), else data/owp.db, from `cwd`. */
export function serverDbPath(cwd: string, env: Record<string, string | undefined>): string {
  return resolve(cwd, env.OWP_DB_PATH || join('data', 'owp.db'));
}
