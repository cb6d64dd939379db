import { CommanderError } from 'commander';
import { OwpError } from '../../protocol/errors.ts';
import type { CliIo } from './io.ts';

/** Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the CLI explains itself (no server involved), with the exit code it deserves. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

/** A wrong command line that commander cannot see (e.g. a bad STATUS argument): exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

/** After a refusal for a missing repo, where work was sent to it: the command that makes one. */
export function makeRepoHint(repo: string): string {
  return `\`owp admin repo ${repo}\` makes it (see --help for its budget)`;
}

/** Commander's own "errors" that are really successful outcomes. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

/**
 * Prints a failure as `owp: <message> (<code>)` and returns the exit code. Secrets the CLI knows
 * about are masked from the message, in case a server or a network library ever echoes one.
 */
export function reportError(error: unknown, io: CliIo, secrets: readonly string[] = []): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message through the configured output.
    if (COMMANDER_SUCCESS.has(error.code)) return EXIT_OK;
    return EXIT_USAGE;
  }
  let line: string;
  let code = EXIT_FAILURE;
  if (error instanceof OwpError) {
    line = `${error.message} (${error.code})`;
  } else if (error instanceof CliError) {
    line = error.message;
    code = error.exitCode;
  } else {
    line = `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
  }
  io.stderr.write(`owp: ${mask(line, secrets)}\n`);
  return code;
}

function mask(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) {
    if (secret.length >= 8) masked = masked.split(secret).join('***');
  }
  return masked;
}
