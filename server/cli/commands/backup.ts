import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ContextOf } from '../context.ts';
import { CliError } from '../errors.ts';
import { envFiles, serverDbPath } from './serve.ts';

/**
 * `owp backup`: a copy of the server's database, made while it runs, checked, and said what it
 * holds. Local to the machine (or container) that has the file: `docker compose exec owp node
 * dist/cli/owp.js backup` in the image.
 */
export function addBackupCommand(program: Command, contextOf: ContextOf): Command {
  return program
    .command('backup')
    .description(
      "copy the server's database while it runs: one consistent snapshot, checked (restore: stop the server, put the copy in place)",
    )
    .option('--db <path>', 'the SQLite file (OWP_DB_PATH, default data/owp.db)')
    .option(
      '--to <file>',
      'where the copy goes (default backups/owp-<UTC time>.db beside the database)',
    )
    .option('--force', 'replace --to when it exists')
    .action(async (options: { db?: string; to?: string; force?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const cwd = ctx.io.cwd;
      const source = options.db
        ? resolve(cwd, options.db)
        : serverDbPath(cwd, { ...envFiles(cwd), ...ctx.io.env });
      const target = options.to
        ? resolve(cwd, options.to)
        : join(dirname(source), 'backups', `owp-${stamp(new Date())}.db`);
      // Loaded here: only this command and the server need the native SQLite module.
      const { backupDatabase, BackupError } = await import('../../backup.ts');
      const shown = (path: string) =>
        relative(cwd, path).startsWith('..') ? path : relative(cwd, path);
      ctx.note(`owp: backing up ${shown(source)}…`);
      const started = performance.now();
      let report;
      try {
        report = backupDatabase(source, target, { overwrite: options.force === true });
      } catch (error) {
        if (error instanceof BackupError) throw new CliError(error.message);
        throw error;
      }
      const seconds = (performance.now() - started) / 1000;
      if (ctx.json) return ctx.printJson({ ...report, source, seconds });
      ctx.print(
        `backed up ${shown(source)} to ${shown(report.path)}: ${megabytes(report.bytes)} in ` +
          `${seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`}, checked; ${count(report.tasks, 'task')}, ` +
          `${count(report.workers, 'worker')}, ${count(report.events, 'event')} (schema ${report.schema})`,
      );
    });
}

/** A UTC time for a file name: 2026-11-27T115300Z (no colons, which some file systems refuse). */
function stamp(at: Date): string {
  return at
    .toISOString()
    .replace(/:/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function megabytes(bytes: number): string {
  return bytes < 100_000 ? `${(bytes / 1000).toFixed(0)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
