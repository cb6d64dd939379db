import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Counter, Gauge, type Registry } from 'prom-client';
import { pendingUpgrade } from '../scheduler/migrate.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';
import { backupName, backupStamp } from './backup-names.ts';

/** What a backup holds, read back from the copy itself. */
export interface BackupReport {
  path: string;
  bytes: number;
  /** The newest migration the copy has: the schema version a server opening it will see. */
  schema: number;
  tasks: number;
  workers: number;
  events: number;
}

/** A backup that could not be made; its message says why, for a person. */
export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/**
 * The worker thread's program, evaluated as CommonJS: the snapshot and its check, on connections
 * of its own, so a server's thread goes on answering meanwhile (a 100 MB database takes seconds).
 * `VACUUM INTO` writes one consistent snapshot — a read transaction: in WAL mode the server's
 * writes go on, and the copy has every commit up to its start and none after — compacted.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.modulePath);
const { source, target } = workerData;
let report;
try {
  // No source: only the check, of a copy made elsewhere (a download).
  if (source !== null) {
  const db = new Database(source, { fileMustExist: true });
  try {
    // Waits a moment for a checkpoint or a writer's lock rather than failing at once.
    db.pragma('busy_timeout = 5000');
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'tasks'").get()) {
      throw Object.assign(new Error(source + ' is not an OWP Pool database (it has no tasks table)'), { ours: true });
    }
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  }
  const copy = new Database(target, { readonly: true, fileMustExist: true });
  try {
    if (!copy.prepare("SELECT 1 FROM sqlite_master WHERE name = 'tasks'").get()) {
      throw Object.assign(new Error(target + ' is not an OWP Pool database (it has no tasks table)'), { ours: true });
    }
    const verdict = copy.pragma('quick_check', { simple: true });
    if (verdict !== 'ok') {
      throw Object.assign(new Error('the copy failed its check: ' + verdict), { ours: true });
    }
    const count = (table) => copy.prepare('SELECT COUNT(*) FROM ' + table).pluck().get();
    report = {
      ok: true,
      bytes: statSync(target).size,
      schema: copy.prepare('SELECT MAX(id) FROM owp_migrations').pluck().get() ?? 0,
      tasks: count('tasks'),
      workers: count('workers'),
      events: count('events'),
    };
  } finally {
    copy.close();
  }
} catch (error) {
  report = { ok: false, message: error.message, ours: error.ours === true };
}
parentPort.postMessage(report);
`;

type SnapshotAnswer =
  ({ ok: true } & Omit<BackupReport, 'path'>) | { ok: false; message: string; ours: boolean };

/**
 * Copies the server's SQLite database to `target` while the server may be running (see
 * `WORKER_SOURCE`): written under a temporary name and renamed once checked (`PRAGMA
 * quick_check`, then the counts read back), so a failed or interrupted backup never leaves a file
 * that looks like one. The copy is readable by its owner only: it holds every task, and the
 * workers' token hashes.
 */
export async function backupDatabase(
  source: string,
  target: string,
  { overwrite = false }: { overwrite?: boolean } = {},
): Promise<BackupReport> {
  if (!existsSync(source)) throw new BackupError(`no database at ${source}`);
  if (sameFile(target, source) || DB_SIDE_FILES.some((end) => sameFile(target, source + end))) {
    throw new BackupError(
      `${target} is the database being backed up; name another file for the copy`,
    );
  }
  checkBackupTarget(target, { overwrite });
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const answer = await inThread(source, partial);
    if (!answer.ok) {
      throw new BackupError(
        answer.ours ? answer.message : `cannot back up ${source}: ${answer.message}`,
      );
    }
    chmodSync(partial, 0o600);
    renameSync(partial, target);
    const { ok: _ok, ...report } = answer;
    return { ...report, path: target };
  } finally {
    rmSync(partial, { force: true });
  }
}

/** The files SQLite keeps beside a database while it is open (WAL mode) or mid-transaction. */
const DB_SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * Refuses a backup's destination that cannot or must not be replaced: a folder; a file there
 * already, unless `overwrite`; and, even with it, a database something has open (its `-wal` or
 * `-shm` beside it). Replacing a live database's file leaves its server writing to the replaced
 * one, whose commits are gone at the next start.
 */
export function checkBackupTarget(target: string, { overwrite }: { overwrite: boolean }): void {
  if (!existsSync(target)) return;
  if (statSync(target).isDirectory()) {
    throw new BackupError(
      `${target} is a folder; name the file the copy goes to, in it or elsewhere`,
    );
  }
  const open = DB_SIDE_FILES.find((end) => existsSync(target + end));
  if (open) {
    throw new BackupError(
      `${target} is a database in use (${basename(target + open)} is beside it); ` +
        'a backup never replaces one: stop what has it open, or name another file',
    );
  }
  if (!overwrite) throw new BackupError(`${target} exists already (--force replaces it)`);
}

/** Whether two paths name one file: the same path once links are followed, or the same inode. */
function sameFile(a: string, b: string): boolean {
  if (!existsSync(a) || !existsSync(b)) return false;
  const [sa, sb] = [statSync(a), statSync(b)];
  return realpathSync(a) === realpathSync(b) || (sa.dev === sb.dev && sa.ino === sb.ino);
}

/** Checks a copy made elsewhere (a download) as `backupDatabase` checks its own, and reads it. */
export async function checkBackup(path: string): Promise<BackupReport> {
  const answer = await inThread(null, path);
  if (!answer.ok) {
    throw new BackupError(answer.ours ? answer.message : `cannot read ${path}: ${answer.message}`);
  }
  const { ok: _ok, ...report } = answer;
  return { ...report, path };
}

async function inThread(source: string | null, target: string): Promise<SnapshotAnswer> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      source,
      target,
      modulePath: createRequire(import.meta.url).resolve('better-sqlite3'),
    },
  });
  const what = source === null ? `cannot read ${target}` : `cannot back up ${source}`;
  try {
    // One settling for the thread's answer, its failure, or its end without either.
    return await new Promise<SnapshotAnswer>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', (error) => reject(new BackupError(`${what}: ${error.message}`)));
      worker.once('exit', (code) => reject(new BackupError(`${what}: its thread ended (${code})`)));
    });
  } finally {
    await worker.terminate();
  }
}

/** The copy kept before an upgrade: which schema it had, and where it is. */
export interface UpgradeBackup {
  from: number;
  to: number;
  report: BackupReport;
}

/**
 * Before a server start migrates an existing database to a newer schema, a backup of it as it was:
 * `backups/owp-before-schema-<to>-<UTC time>.db` beside it. A new database, or one already at the
 * newest schema, needs none (null). When the copy cannot be made the start stops there, before
 * any migration ran: an upgrade is not worth the pool.
 */
export async function backupBeforeUpgrade(
  dbPath: string,
  now = new Date(),
): Promise<UpgradeBackup | null> {
  const upgrade = upgradeOf(dbPath);
  if (!upgrade) return null;
  const { from, to } = upgrade;
  const target = join(dirname(dbPath), 'backups', `owp-before-schema-${to}-${backupStamp(now)}.db`);
  try {
    return { from, to, report: await backupDatabase(dbPath, target) };
  } catch (error) {
    throw new BackupError(
      `the database at ${dbPath} is at schema ${from} and this version upgrades it to ${to}, ` +
        `but the copy kept before that could not be made (${(error as Error).message}); ` +
        'nothing was changed',
    );
  }
}

/**
 * `pendingUpgrade` of a database file, or null when it has nothing to upgrade, or is not a
 * database SQLite reads (a folder, another file): the server's own open then says so.
 */
function upgradeOf(path: string): { from: number; to: number } | null {
  if (!existsSync(path)) return null;
  let driver: BetterSqlite3Driver | undefined;
  try {
    driver = new BetterSqlite3Driver({ path });
    return pendingUpgrade(driver);
  } catch {
    return null;
  } finally {
    driver?.close();
  }
}

/** A scheduled backup's file name: `owp-2026-11-27T120501Z.db` (not the copies kept at upgrades). */
const SCHEDULED = /^owp-(\d{4})-(\d\d)-(\d\d)T(\d\d)(\d\d)(\d\d)Z\.db$/;

export interface BackupScheduleOptions {
  dbPath: string;
  /** Between two backups. */
  everyMs: number;
  /** How many scheduled backups to keep; older ones are deleted after each new one. */
  keep: number;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /**
   * Registers `owp_backup_last_success_timestamp_seconds`, `owp_backup_last_size_bytes` and
   * `owp_backups_total{outcome}` here (`app.owp.metrics.registry`): an alert on the first one's
   * age finds backups that stopped.
   */
  registry?: Registry;
}

/**
 * Backups on a timer (`OWP_BACKUP_EVERY`): each one into `backups/` beside the database, then the
 * oldest scheduled ones beyond `keep` deleted (a copy kept at an upgrade, or one made by hand under
 * another name, is never touched). The first is due `everyMs` after the newest one already there,
 * so a server restarted more often than that still makes them. A failure is logged and the next
 * one tried on time; a backup still running when the next is due is not doubled.
 */
export class BackupSchedule {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;
  readonly folder: string;

  private readonly metrics: {
    lastSuccess: Gauge;
    lastSize: Gauge;
    runs: Counter<'outcome'>;
  } | null;

  constructor(private readonly options: BackupScheduleOptions) {
    this.folder = join(dirname(options.dbPath), 'backups');
    const registers = options.registry ? [options.registry] : null;
    this.metrics = registers && {
      lastSuccess: new Gauge({
        name: 'owp_backup_last_success_timestamp_seconds',
        help: 'When the newest scheduled backup was made (Unix time; 0 while there is none).',
        registers,
      }),
      lastSize: new Gauge({
        name: 'owp_backup_last_size_bytes',
        help: 'The size of the newest scheduled backup.',
        registers,
      }),
      runs: new Counter({
        name: 'owp_backups_total',
        help: 'Scheduled backups by outcome (made, failed).',
        labelNames: ['outcome'],
        registers,
      }),
    };
  }

  start(now = Date.now()): void {
    // A restart does not reset the age of the newest backup to "never".
    const newest = this.scheduled().at(-1);
    if (newest) {
      this.metrics?.lastSuccess.set(newest.at / 1000);
      this.metrics?.lastSize.set(statSync(join(this.folder, newest.name)).size);
    }
    this.plan(this.dueIn(now));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }

  /** Milliseconds until the next backup is due, from the newest scheduled one in the folder. */
  dueIn(now: number): number {
    const newest = this.scheduled().at(-1);
    if (!newest) return this.options.everyMs;
    return Math.max(0, newest.at + this.options.everyMs - now);
  }

  /** One backup now, then the pruning; the report of the new copy and the names deleted. */
  async runOnce(now = new Date()): Promise<{ report: BackupReport; deleted: string[] }> {
    const report = await backupDatabase(this.options.dbPath, join(this.folder, backupName(now)), {
      overwrite: true,
    });
    const deleted = this.scheduled()
      .slice(0, -this.options.keep)
      .map(({ name }) => name);
    for (const name of deleted) rmSync(join(this.folder, name), { force: true });
    return { report, deleted };
  }

  private plan(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    // The server's life is not tied to its backups.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const log = this.options.log ?? (() => {});
    const at = new Date();
    const run = this.runOnce(at);
    this.running = run;
    try {
      const { report, deleted } = await run;
      // To the second, as its file is named: a restart reads the same time back from the name.
      this.metrics?.lastSuccess.set(Math.floor(at.getTime() / 1000));
      this.metrics?.lastSize.set(report.bytes);
      this.metrics?.runs.inc({ outcome: 'made' });
      log(
        'info',
        `backup: ${report.path} (${report.bytes} bytes; ${report.tasks} tasks, ${report.events} events)` +
          (deleted.length ? `; deleted the older ${deleted.join(', ')}` : ''),
      );
    } catch (error) {
      this.metrics?.runs.inc({ outcome: 'failed' });
      log('error', `backup failed: ${(error as Error).message}; the next is tried on time`);
    } finally {
      this.running = null;
      this.plan(this.options.everyMs);
    }
  }

  /** The scheduled backups in the folder, oldest first, with when each was made. */
  private scheduled(): Array<{ name: string; at: number }> {
    let names: string[];
    try {
      names = readdirSync(this.folder);
    } catch {
      return [];
    }
    return names
      .map((name) => {
        const m = SCHEDULED.exec(name);
        return m
          ? { name, at: Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) }
          : null;
      })
      .filter((entry): entry is { name: string; at: number } => entry !== null)
      .sort((a, b) => a.at - b.at);
  }
}
