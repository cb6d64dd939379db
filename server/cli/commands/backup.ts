import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { BackupReport } from '../../backup.ts';
import type { ContextOf } from '../context.ts';
import { CliError } from '../errors.ts';
import { downloadTo } from '../transport.ts';
import { backupName } from '../../backup-names.ts';
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
        : join(dirname(source), 'backups', backupName(new Date()));
      // Loaded here: only this command and the server need the native SQLite module.
      const { backupDatabase, BackupError } = await import('../../backup.ts');
      const shown = (path: string) => shownFrom(cwd, path);
      ctx.note(`owp: backing up ${shown(source)}…`);
      const started = performance.now();
      let report;
      try {
        report = await backupDatabase(source, target, { overwrite: options.force === true });
      } catch (error) {
        if (error instanceof BackupError) throw new CliError(error.message);
        throw error;
      }
      const seconds = (performance.now() - started) / 1000;
      if (ctx.json) return ctx.printJson({ ...report, source, seconds });
      ctx.print(backupLine(shown(source), shown(report.path), report, seconds));
    });
}

/**
 * `owp admin backup`: the same copy made by the server (`GET /v1/admin/backup`) and downloaded,
 * for a backup kept on another machine than the pool's: checked here as `owp backup` checks its
 * own, and written under a temporary name until it is.
 */
export function addAdminBackupCommand(admin: Command, contextOf: ContextOf): Command {
  return admin
    .command('backup')
    .description(
      "download a copy of the server's database (one consistent snapshot, made while it runs), checked here",
    )
    .option('--to <file>', 'where it goes (default: owp-<UTC time>.db, the name the server gives)')
    .option('--force', 'replace the file when it exists')
    .action(async (options: { to?: string; force?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      // Says what to do when there is no admin token, before anything is sent.
      const token = ctx.requireAdminToken();
      const base = ctx.serverUrl();
      const chosen = options.to ? resolve(ctx.io.cwd, options.to) : null;
      const { checkBackup, checkBackupTarget, BackupError } = await import('../../backup.ts');
      const refuseExisting = (path: string) => {
        try {
          checkBackupTarget(path, { overwrite: options.force === true });
        } catch (error) {
          if (error instanceof BackupError) throw new CliError(error.message);
          throw error;
        }
      };
      if (chosen) refuseExisting(chosen);
      const folder = chosen ? dirname(chosen) : ctx.io.cwd;
      mkdirSync(folder, { recursive: true });
      const partial = join(folder, `.owp-backup-${process.pid}.partial`);
      ctx.note(`owp: downloading a backup from ${base}…`);
      const started = performance.now();
      try {
        const { fileName } = await downloadTo(
          { url: `${base}/v1/admin/backup`, headers: { 'x-admin-token': token } },
          partial,
          ctx.io.signal,
          DOWNLOAD_TIMEOUT_MS,
        );
        const report = await checkBackup(partial);
        const target = chosen ?? join(folder, fileName ?? backupName(new Date()));
        refuseExisting(target);
        chmodSync(partial, 0o600);
        renameSync(partial, target);
        const seconds = (performance.now() - started) / 1000;
        const done = { ...report, path: target };
        if (ctx.json) return ctx.printJson({ ...done, source: base, seconds });
        ctx.print(backupLine(base, shownFrom(ctx.io.cwd, target), done, seconds));
      } catch (error) {
        if (error instanceof BackupError) throw new CliError(error.message);
        throw error;
      } finally {
        rmSync(partial, { force: true });
      }
    });
}

/** How long a download may take in all: a large pool over a slow link. */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/** `backed up A to B: 0.2 MB in 12 ms, checked; 3 tasks, 2 workers, 14 events (schema 14)` */
function backupLine(from: string, to: string, report: BackupReport, seconds: number): string {
  const took = seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`;
  return (
    `backed up ${from} to ${to}: ${megabytes(report.bytes)} in ${took}, checked; ` +
    `${count(report.tasks, 'task')}, ${count(report.workers, 'worker')}, ` +
    `${count(report.events, 'event')} (schema ${report.schema})`
  );
}

/** A path as typed from `cwd` when it is below it, else whole. */
function shownFrom(cwd: string, path: string): string {
  const below = relative(cwd, path);
  return below.startsWith('..') ? path : below;
}

function megabytes(bytes: number): string {
  return bytes < 100_000 ? `${(bytes / 1000).toFixed(0)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
