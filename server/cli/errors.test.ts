import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { OwpError } from '../../protocol/errors.ts';
import { CliError, reportError, UsageError } from './errors.ts';
import type { CliIo } from './io.ts';

function captureIo() {
  const stderr = { text: '', write: (chunk: string) => (stderr.text += chunk) };
  const io = { stderr } as unknown as CliIo;
  return { io, stderr };
}

describe('reportError', () => {
  it('prints the server message with its code and exits 1', () => {
    const { io, stderr } = captureIo();
    expect(reportError(new OwpError('task_not_found', 'No task with id t_x.'), io)).toBe(1);
    expect(stderr.text).toBe('owp: No task with id t_x. (task_not_found)\n');
  });

  it("puts a validation failure on one line, naming each field (zod's form takes two per issue)", () => {
    const { io, stderr } = captureIo();
    const error = new OwpError(
      'validation_failed',
      'Invalid body: ✖ Too small: expected string to have >=1 characters\n  → at title\n✖ Too small: expected number to be >=0\n  → at priority',
      {
        issues: [
          { path: 'title', message: 'Too small: expected string to have >=1 characters' },
          { path: 'priority', message: 'Too small: expected number to be >=0' },
        ],
      },
    );
    expect(reportError(error, io)).toBe(1);
    expect(stderr.text).toBe(
      'owp: Invalid body: title: Too small: expected string to have >=1 characters; priority: Too small: expected number to be >=0 (validation_failed)\n',
    );
  });

  it('masks every secret the run handled, should a message ever echo one', () => {
    const { io, stderr } = captureIo();
    const secret = 'owpa_s3cret-token-value';
    reportError(new CliError(`rejected ${secret} twice: ${secret}`), io, [secret]);
    expect(stderr.text).toBe('owp: rejected *** twice: ***\n');
  });

  it('exits 2 for usage errors and 0 for help, printing nothing more for commander', () => {
    const { io, stderr } = captureIo();
    expect(reportError(new UsageError('bad'), io)).toBe(2);
    const usage = new CommanderError(1, 'commander.missingArgument', 'missing');
    expect(reportError(usage, io)).toBe(2);
    const help = new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)');
    expect(reportError(help, io)).toBe(0);
    expect(stderr.text).toBe('owp: bad\n');
  });
});
