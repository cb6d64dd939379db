import { normalizePath } from 'obsidian';
import type { BackendMode } from '../backend/pool-backend.ts';
import { WORKER_LIMITS } from '../../protocol/workers.ts';

/** Who the vault acts as: the pool's admin, one of its workers, or both. */
export type PoolRole = 'admin' | 'worker' | 'both';

/** A worker this vault registered, and in which pool (a token belongs to one pool only). */
export interface LocalWorkerRecord {
  /** `embedded`, or the server's URL. */
  pool: string;
  workerId: string;
  /**
   * Which of the vault's worker-token entries holds its token: '' for the one entry there was
   * before a vault kept a worker per pool, else one named after the pool.
   */
  tokenSlot: string;
}

/**
 * The plugin's settings as saved in its data file. The admin and worker tokens are not here: they
 * are kept in Obsidian's secret storage (see token-store.ts).
 */
export interface OwpSettings {
  mode: BackendMode;
  /** The shared server, remote mode only. */
  serverUrl: string;
  role: PoolRole;
  /** The folder of task notes, vault-relative. */
  tasksFolder: string;
  /** Where notes of merged and cancelled tasks move; empty keeps them where they are. */
  archiveFolder: string;
  /** The repo of a new task note that names none. */
  defaultRepo: string;
  /** Whether deleting a task's note cancels the task. */
  cancelOnDelete: boolean;
  /** The local worker's name, skills and capacity, used when registering. */
  workerName: string;
  workerSkills: string[];
  workerCapacityPoints: number;
  workerMaxTasks: number;
  /**
   * The vault's worker in each pool it registered with: switching from embedded to a server and
   * back finds the embedded worker again (one record, one token, made the other pool's forget it).
   */
  localWorkers: LocalWorkerRecord[];
  /** Names this vault's entries in the app-wide secret storage, so two vaults never share one. */
  secretPrefix: string;
}

export const DEFAULT_SETTINGS: Readonly<OwpSettings> = Object.freeze({
  mode: 'embedded',
  serverUrl: 'http://localhost:8787',
  role: 'both',
  tasksFolder: 'Tasks',
  archiveFolder: 'Tasks/Archive',
  defaultRepo: 'default',
  cancelOnDelete: false,
  workerName: 'Me',
  workerSkills: [],
  workerCapacityPoints: 5,
  workerMaxTasks: 2,
  localWorkers: [],
  secretPrefix: '',
});

/** The pool a worker registration belongs to, for the current mode and server. */
export function poolKey(settings: Pick<OwpSettings, 'mode' | 'serverUrl'>): string {
  return settings.mode === 'embedded' ? 'embedded' : trimUrl(settings.serverUrl);
}

/** The vault's worker in the current pool, or null when it has not registered there. */
export function localWorker(settings: OwpSettings): LocalWorkerRecord | null {
  const pool = poolKey(settings);
  return settings.localWorkers.find((record) => record.pool === pool) ?? null;
}

/** The local worker's id in the current pool, or null when this vault has not registered there. */
export function localWorkerId(settings: OwpSettings): string | null {
  return localWorker(settings)?.workerId ?? null;
}

/** Where the current pool's worker token is kept: its worker's slot, or the one it would get. */
export function workerTokenSlot(settings: OwpSettings): string {
  return localWorker(settings)?.tokenSlot ?? slotFor(poolKey(settings));
}

/** The records with `workerId` as the current pool's worker, in place of any earlier one. */
export function withLocalWorker(settings: OwpSettings, workerId: string): LocalWorkerRecord[] {
  const pool = poolKey(settings);
  const record = { pool, workerId, tokenSlot: workerTokenSlot(settings) };
  return [...settings.localWorkers.filter((r) => r.pool !== pool), record];
}

/** A short name for a pool's token entry (FNV-1a of its key): the same pool, the same entry. */
function slotFor(pool: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < pool.length; i++) {
    hash ^= pool.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

export function isAdminRole(role: PoolRole): boolean {
  return role !== 'worker';
}

export function isWorkerRole(role: PoolRole): boolean {
  return role !== 'admin';
}

/** `a, b ,,c` → `['a', 'b', 'c']`: skills as typed in a text field. */
export function parseSkills(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((skill) => skill.trim())
        .filter(Boolean),
    ),
  ];
}

/** The largest capacity a vault's worker may register with, in points and in tasks. */
export const COUNT_LIMITS = {
  workerCapacityPoints: WORKER_LIMITS.capacityPoints,
  workerMaxTasks: WORKER_LIMITS.maxTasks,
} as const;

/**
 * Settings from whatever the data file holds — nothing, an older version, or values edited by
 * hand — with every field valid: unknown or broken values fall back to the defaults.
 */
export function normalizeSettings(raw: unknown): OwpSettings {
  const data = isRecord(raw) ? raw : {};
  const text = (key: keyof OwpSettings, fallback: string): string =>
    typeof data[key] === 'string' ? data[key] : fallback;
  const count = (key: keyof OwpSettings, fallback: number, max: number): number => {
    const value = data[key];
    return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max
      ? value
      : fallback;
  };
  const d = DEFAULT_SETTINGS;
  return {
    mode: data.mode === 'remote' ? 'remote' : 'embedded',
    serverUrl: savedServerUrl(text('serverUrl', d.serverUrl)),
    role: data.role === 'admin' || data.role === 'worker' ? data.role : 'both',
    // Never the vault's root: every note there would become a task.
    tasksFolder: normalizeFolder(text('tasksFolder', d.tasksFolder)) || d.tasksFolder,
    archiveFolder: normalizeFolder(text('archiveFolder', d.archiveFolder)),
    defaultRepo: text('defaultRepo', d.defaultRepo).trim(),
    cancelOnDelete: data.cancelOnDelete === true,
    workerName: text('workerName', d.workerName).trim() || d.workerName,
    workerSkills: Array.isArray(data.workerSkills)
      ? parseSkills(data.workerSkills.filter((s) => typeof s === 'string').join(','))
      : [],
    workerCapacityPoints: count(
      'workerCapacityPoints',
      d.workerCapacityPoints,
      COUNT_LIMITS.workerCapacityPoints,
    ),
    workerMaxTasks: count('workerMaxTasks', d.workerMaxTasks, COUNT_LIMITS.workerMaxTasks),
    localWorkers: readWorkerRecords(data.localWorkers, data.localWorker),
    secretPrefix: /^[a-z0-9-]{1,40}$/.test(text('secretPrefix', ''))
      ? text('secretPrefix', '')
      : '',
  };
}

/** The saved records, one per pool; a record saved before there were several keeps slot ''. */
function readWorkerRecords(values: unknown, legacy: unknown): LocalWorkerRecord[] {
  const records: LocalWorkerRecord[] = [];
  const saved: unknown[] = Array.isArray(values) ? values : [];
  for (const value of [...saved, legacy]) {
    if (!isRecord(value)) continue;
    const { pool, workerId, tokenSlot } = value;
    if (typeof pool !== 'string' || typeof workerId !== 'string' || workerId === '') continue;
    if (records.some((record) => record.pool === pool)) continue;
    records.push({ pool, workerId, tokenSlot: typeof tokenSlot === 'string' ? tokenSlot : '' });
  }
  return records;
}

/**
 * The server URL as typed, made the base the plugin calls (`…/v1/…` is added to it): http or
 * https, no trailing slash, no `/v1` of its own. Or why it is not one — a URL without its scheme
 * was resolved against Obsidian's own page, and `/v1` doubled every path (`/v1/v1/…`: 404).
 */
export function readServerUrl(typed: string): { url: string } | { problem: string } {
  const text = typed.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return {
      problem: `Start the server URL with http:// or https://, as in http://${text || '127.0.0.1:8787'}.`,
    };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `"${text}" is not a URL.` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      problem: `The server URL must start with http:// or https://, not ${url.protocol}//.`,
    };
  }
  if (url.username || url.password) {
    return { problem: 'Leave the token out of the server URL: it has a field of its own below.' };
  }
  if (url.search || url.hash) {
    return { problem: 'The server URL takes no ?query or #fragment.' };
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '').replace(/\/+$/, '');
  return { url: `${url.origin}${path}` };
}

/**
 * Why a tasks folder and an archive folder cannot go together, or null. Notes in the archive are
 * never made tasks, so a tasks folder inside it (or the same folder) would make no note a task.
 */
export function foldersClash(tasksFolder: string, archiveFolder: string): string | null {
  const tasks = normalizeFolder(tasksFolder);
  const archive = normalizeFolder(archiveFolder);
  if (archive === '' || (tasks !== archive && !tasks.startsWith(`${archive}/`))) return null;
  return `The archive folder cannot hold the tasks folder: notes in the archive never become tasks, so "${tasks}" would make none.`;
}

/** A saved server URL as the plugin calls it (one saved before it was checked may end in /v1). */
function savedServerUrl(saved: string): string {
  const read = readServerUrl(saved);
  return 'url' in read ? read.url : saved.trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A folder as the vault names its notes' paths, by Obsidian's own `normalizePath` (slashes for
 * backslashes, one for a run of them, none at either end, composed Unicode); '' for the root.
 * Trimming slashes alone kept `Work\Tasks` as typed: the vault filed the notes under
 * `Work/Tasks/…`, and no note was ever found in the folder the sync looked in.
 */
export function normalizeFolder(folder: string): string {
  const path = normalizePath(folder.trim());
  return path === '/' ? '' : path;
}

function trimUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}
