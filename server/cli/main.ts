/**
 * The `owp` command line: `owp serve`, `owp admin …`, `owp worker …`. `buildProgram(io)` builds
 * it over injected streams, environment, home directory and interrupt signal, so tests run it
 * in-process; `runCli` parses one command line and returns the exit code; `main` is the process.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { addAdminCommands } from './commands/admin.ts';
import { addAnalyticsCommand } from './commands/analytics.ts';
import { addAuditCommand } from './commands/audit.ts';
import { addAdminBackupCommand, addBackupCommand } from './commands/backup.ts';
import { addGithubCommands } from './commands/github.ts';
import { addMcpCommand } from './commands/mcp.ts';
import { addServeCommand } from './commands/serve.ts';
import { addVaultSyncCommand } from './commands/vault-sync.ts';
import { addWorkerCommands } from './commands/worker.ts';
import { CliContext, DEFAULT_URL, type GlobalOptions } from './context.ts';
import { OwpError } from '../../protocol/errors.ts';
import { EXIT_FAILURE, makeRepoHint, reportError } from './errors.ts';
import { processIo, type CliIo } from './io.ts';

/** The program, with every command registered; parse it with `runCli` to get an exit code. */
export function buildProgram(io: CliIo, contexts: CliContext[] = []): Command {
  const program = new Command('owp')
    .description('OWP Pool: leases, review budgets and area locks for many independent workers')
    .version(packageVersion(), '-V, --version')
    .option('--url <url>', `server URL (env OWP_URL, default ${DEFAULT_URL})`)
    .option(
      '--admin-token <token>',
      'admin token (env OWP_ADMIN_TOKEN, else data/admin-token written by `owp serve`)',
    )
    .option('--json', 'print JSON for scripts instead of tables')
    .option('--config <path>', 'worker credentials file (default ~/.config/owp/config.json)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`owp: ${text.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError();

  const contextOf = (command: Command) => {
    const context = new CliContext(io, command.optsWithGlobals<GlobalOptions>());
    contexts.push(context);
    return context;
  };
  addServeCommand(program, contextOf);
  addBackupCommand(program, contextOf);
  const admin = addAdminCommands(program, contextOf);
  addGithubCommands(admin, contextOf);
  addAdminBackupCommand(admin, contextOf);
  addAuditCommand(admin, contextOf);
  addAnalyticsCommand(admin, contextOf);
  addWorkerCommands(program, contextOf);
  addMcpCommand(program, contextOf);
  addVaultSyncCommand(program, contextOf);
  return program;
}

/** Runs one command line (without `node` and the script) and returns its exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // Each context remembers the secrets it handled, so an error line can mask them.
  const contexts: CliContext[] = [];
  try {
    await buildProgram(io, contexts).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    const code = reportError(
      error,
      io,
      contexts.flatMap((context) => context.secrets),
    );
    // Work sent to a missing repo: the engine names the HTTP call that makes one; here it is a
    // command. (`repo_not_found` answers reads too, where making the repo is no remedy.)
    const repo = error instanceof OwpError ? error.details?.repo : undefined;
    if (typeof repo === 'string' && error instanceof OwpError && error.code === 'unknown_repo') {
      io.stderr.write(`owp: ${makeRepoHint(repo)}\n`);
    }
    const tokenFile = contexts.find((context) => context.adminTokenFile)?.adminTokenFile;
    if (tokenFile && error instanceof OwpError && error.code === 'unauthorized') {
      io.stderr.write(
        `owp: the admin token was read from ${tokenFile}, the file of the server there; for another server pass --admin-token or set OWP_ADMIN_TOKEN\n`,
      );
    }
    const worker = contexts.find((context) => context.savedWorker)?.savedWorker;
    if (worker && error instanceof OwpError && error.code === 'unauthorized') {
      io.stderr.write(
        `owp: if an admin gave worker ${worker} a new token (\`owp admin new-token\`), save it with \`owp worker token\`; else \`owp worker register --force\` makes a new worker (a new id)\n`,
      );
    }
    return code;
  }
}

/** The process entry: real streams and signals; exits with the command's code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let code: number;
  try {
    code = await runCli(argv, processIo());
  } catch {
    code = EXIT_FAILURE;
  }
  process.exitCode = code;
  // Keep-alive sockets may hold the event loop for a while after the work is done.
  setTimeout(() => process.exit(code), 1000).unref();
}

function packageVersion(): string {
  try {
    const file = new URL('../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** True when this file is the script node was asked to run (`tsx server/cli/main.ts …`). */
function isEntryPoint(): boolean {
  try {
    const entry = process.argv[1];
    return !!entry && realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) await main();
