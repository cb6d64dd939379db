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
    line = `${oneLine(error)} (${error.code})`;
  } else if (error instanceof CliError) {
    line = error.message;
    code = error.exitCode;
  } else {
    line = `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
  }
  io.stderr.write(`owp: ${mask(line, secrets)}\n`);
  return code;
}

/**
 * The server's message on one line. A validation failure's message is zod's pretty form, an issue
 * per two lines ("✖ Too small…\n  → at title"); its `details.issues` say the same as `path: why`.
 */
function oneLine(error: OwpError): string {
  const issues = error.details?.issues;
  if (!error.message.includes('\n')) return error.message;
  if (error.code === 'validation_failed' && Array.isArray(issues) && issues.length > 0) {
    // "Invalid body: ✖ …": the part before the first issue names what was invalid.
    const what = error.message.split('✖')[0]!.trim();
    return `${what} ${issueLine(issues)}`.trim();
  }
  return error.message.replace(/\s*\n\s*/g, ' ');
}

/** Validation issues as one line, `path: why; …`, from the server's details or a zod error. */
export function issueLine(issues: ReadonlyArray<{ path?: unknown; message?: unknown }>): string {
  return issues
    .map(({ path, message }) => {
      const where = Array.isArray(path) ? path.map(String).join('.') : String(path ?? '');
      return where ? `${where}: ${String(message)}` : String(message);
    })
    .join('; ');
}

function mask(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) {
    if (secret.length >= 8) masked = masked.split(secret).join('***');
  }
  return masked;
}
