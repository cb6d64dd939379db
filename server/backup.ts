import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

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
 * Copies the server's SQLite database to `target` while the server may be running: `VACUUM INTO`
 * writes one consistent snapshot (a read transaction: in WAL mode the server's writes go on
 * meanwhile, and the copy has every commit up to its start and none after), compacted. Written
 * under a temporary name and renamed once checked (`PRAGMA quick_check`, then the counts read
 * back), so a failed or interrupted backup never leaves a file that looks like one. The copy is
 * readable by its owner only: it holds every task, and the workers' token hashes.
 */
export function backupDatabase(
  source: string,
  target: string,
  { overwrite = false }: { overwrite?: boolean } = {},
): BackupReport {
  if (!existsSync(source)) throw new BackupError(`no database at ${source}`);
  if (existsSync(target) && !overwrite) {
    throw new BackupError(`${target} exists already (--force replaces it)`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  try {
    const db = new Database(source, { fileMustExist: true });
    try {
      // Waits for a checkpoint or a writer's lock for a moment rather than failing at once.
      db.pragma('busy_timeout = 5000');
      if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'tasks'`).get()) {
        throw new BackupError(`${source} is not an OWP Pool database (it has no tasks table)`);
      }
      db.prepare('VACUUM INTO ?').run(partial);
    } finally {
      db.close();
    }
    const report = check(partial);
    chmodSync(partial, 0o600);
    renameSync(partial, target);
    return { ...report, path: target };
  } catch (error) {
    rmSync(partial, { force: true });
    if (error instanceof BackupError) throw error;
    throw new BackupError(`cannot back up ${source}: ${(error as Error).message}`);
  }
}

/** Opens a finished copy read-only: intact, and what it holds. */
function check(path: string): BackupReport {
  const copy = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const verdict = copy.pragma('quick_check', { simple: true });
    if (verdict !== 'ok') throw new BackupError(`the copy failed its check: ${String(verdict)}`);
    const count = (table: string) =>
      (copy.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    const schema = copy.prepare('SELECT MAX(id) AS id FROM owp_migrations').get() as {
      id: number | null;
    };
    return {
      path,
      bytes: statSync(path).size,
      schema: schema.id ?? 0,
      tasks: count('tasks'),
      workers: count('workers'),
      events: count('events'),
    };
  } finally {
    copy.close();
  }
}
