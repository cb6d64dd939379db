import {
  readPendingCreates,
  withEntries,
  withTaskIds,
  type NoteRecord,
  type PendingCreate,
} from '../sync/note-record.ts';
import { normalizeSettings, type OwpSettings } from './settings.ts';

/** The plugin's data file: `Plugin.loadData` / `Plugin.saveData`. */
export interface PluginDataFile {
  load(): Promise<unknown>;
  save(data: unknown): Promise<void>;
}

/**
 * Obsidian's secret storage (`app.secretStorage`, Obsidian 1.11.4 and later): secrets kept by the
 * operating system's keychain, outside the vault. Not in the 1.8.7 type definitions this plugin
 * builds against, so it is looked for at run time; results may be plain or promised.
 */
export interface SecretStorageLike {
  getSecret(id: string): string | null | Promise<string | null>;
  setSecret(id: string, secret: string): void | Promise<void>;
}

export type TokenName = 'admin' | 'worker';

/** Where tokens are kept: the app's secret storage, or — on an older app — the data file. */
export type TokenStorageKind = 'secret-storage' | 'plugin-data';

interface DataFileShape {
  settings: OwpSettings;
  /** Only when the app has no secret storage; by `tokenKey` (`worker`, `worker:<slot>`, `admin`). */
  tokens?: Record<string, string>;
  /** By pool (`poolKey`): open tasks whose note the user deleted, so it is not written again. */
  deletedNotes?: Record<string, string[]>;
  /**
   * By pool: open tasks that have a note, so one missing at the next start reads as deleted
   * rather than as never written (`NoteRecord`).
   */
  notedTasks?: Record<string, string[]>;
  /** By pool, by task: what its note held when last in agreement with it (`NoteRecord.synced`). */
  syncedNotes?: Record<string, Record<string, string>>;
  /** By pool: the tasks folder when the record was saved (`NoteRecord.folder`). */
  notesFolder?: Record<string, string>;
  /** By pool, by note path: task creations not answered yet (`NoteRecord.creating`). */
  creatingNotes?: Record<string, Record<string, PendingCreate>>;
  /** By pool: plain notes in the tasks folder left alone, not made tasks (`NoteRecord.leftAlone`). */
  leftNotes?: Record<string, string[]>;
}

/** The app's secret storage if it has one: `app.secretStorage` with both methods. */
export function findSecretStorage(app: unknown): SecretStorageLike | null {
  const storage = (app as { secretStorage?: Partial<SecretStorageLike> } | null)?.secretStorage;
  return storage &&
    typeof storage.getSecret === 'function' &&
    typeof storage.setSecret === 'function'
    ? (storage as SecretStorageLike)
    : null;
}

function newSecretPrefix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `owp-pool-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The settings and tokens, kept in the plugin's data file and the app's secret storage, and written
 * only when something actually changed: typing the same value again, or opening the settings, does
 * not touch the file (which sync services would otherwise upload again and again).
 *
 * Tokens go to the secret storage when the app has one, under names unique to this vault; an older
 * app keeps them in the data file instead (the only place a plugin has). Tokens found in the data
 * file once the app has secret storage are moved there.
 */
export class SettingsStore {
  private current: OwpSettings;
  private fileTokens: Record<string, string>;
  private deleted: Record<string, string[]>;
  private noted: Record<string, string[]>;
  private synced: Record<string, Record<string, string>>;
  private notesFolder: Record<string, string>;
  private creating: Record<string, Record<string, PendingCreate>>;
  private left: Record<string, string[]>;
  private savedJson: string | null;
  private readonly listeners = new Set<(next: OwpSettings, previous: OwpSettings) => void>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: PluginDataFile,
    private readonly secrets: SecretStorageLike | null,
    raw: unknown,
  ) {
    const data = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<DataFileShape>;
    this.current = normalizeSettings(data.settings);
    this.fileTokens = { ...(data.tokens ?? {}) };
    this.deleted = readTaskIds(data.deletedNotes);
    this.noted = readTaskIds(data.notedTasks);
    this.synced = readFingerprints(data.syncedNotes);
    this.notesFolder = readFolders(data.notesFolder);
    this.creating = readByPool(data.creatingNotes, readPendingCreates);
    // Paths, not task ids, but kept the same way: a list per pool.
    this.left = readTaskIds(data.leftNotes);
    this.savedJson = raw === null || raw === undefined ? null : JSON.stringify(raw);
  }

  /** Reads the data file (and moves tokens from it into the secret storage, if there is one now). */
  static async open(
    file: PluginDataFile,
    secrets: SecretStorageLike | null,
  ): Promise<SettingsStore> {
    const store = new SettingsStore(file, secrets, await file.load());
    if (secrets && Object.keys(store.fileTokens).length > 0) {
      const moving = store.fileTokens;
      store.fileTokens = {};
      for (const [key, token] of Object.entries(moving)) {
        const [name, slot = ''] = key.split(':') as [TokenName, string?];
        if (token) await store.setToken(name, token, slot);
      }
      await store.persist();
    }
    return store;
  }

  get settings(): OwpSettings {
    return this.current;
  }

  get tokenStorage(): TokenStorageKind {
    return this.secrets ? 'secret-storage' : 'plugin-data';
  }

  /** Hears every change that was saved; returns the unsubscribe function. */
  onChange(listener: (next: OwpSettings, previous: OwpSettings) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies `patch`; saves and tells the listeners only if a value changed. Resolves saved-or-not. */
  async update(patch: Partial<OwpSettings>): Promise<boolean> {
    const previous = this.current;
    const next = normalizeSettings({ ...previous, ...patch });
    if (JSON.stringify(next) === JSON.stringify(previous)) return false;
    this.current = next;
    await this.persist();
    for (const listener of this.listeners) listener(next, previous);
    return true;
  }

  /** What the note sync keeps of a pool's task notes: those deleted, and the tasks that have one. */
  noteRecord(pool: string): NoteRecord {
    const synced = this.synced[pool];
    const folder = this.notesFolder[pool];
    const creating = this.creating[pool];
    const left = this.left[pool];
    return {
      deleted: [...(this.deleted[pool] ?? [])],
      noted: [...(this.noted[pool] ?? [])],
      ...(synced ? { synced: { ...synced } } : {}),
      ...(folder !== undefined ? { folder } : {}),
      ...(creating ? { creating: { ...creating } } : {}),
      ...(left ? { leftAlone: [...left] } : {}),
    };
  }

  /** Keeps it (not a setting: nobody listening to settings hears of it). */
  setNoteRecord(pool: string, record: NoteRecord): Promise<void> {
    this.deleted = withTaskIds(this.deleted, pool, record.deleted);
    this.noted = withTaskIds(this.noted, pool, record.noted);
    this.synced = withEntries(this.synced, pool, record.synced ?? {});
    const folders = { ...this.notesFolder };
    if (record.folder === undefined) delete folders[pool];
    else folders[pool] = record.folder;
    this.notesFolder = folders;
    this.creating = withEntries(this.creating, pool, record.creating ?? {});
    this.left = withTaskIds(this.left, pool, record.leftAlone ?? []);
    return this.persist();
  }

  /**
   * A token, or '' when none is kept. Worker tokens are kept per pool, in the slot of that pool's
   * worker (`workerTokenSlot`); the admin token has one.
   */
  async token(name: TokenName, slot = ''): Promise<string> {
    if (!this.secrets) return this.fileTokens[tokenKey(name, slot)] ?? '';
    if (!this.current.secretPrefix) return '';
    return (await this.secrets.getSecret(this.secretId(name, slot))) ?? '';
  }

  /** Keeps a token ('' forgets it). Writes only when it changed; says whether it did. */
  async setToken(name: TokenName, token: string, slot = ''): Promise<boolean> {
    const value = token.trim();
    if ((await this.token(name, slot)) === value) return false;
    if (!this.secrets) {
      const key = tokenKey(name, slot);
      if (value) this.fileTokens[key] = value;
      else delete this.fileTokens[key];
      await this.persist();
      return true;
    }
    if (!this.current.secretPrefix) {
      this.current = { ...this.current, secretPrefix: newSecretPrefix() };
      await this.persist();
    }
    await this.secrets.setSecret(this.secretId(name, slot), value);
    return true;
  }

  private secretId(name: TokenName, slot: string): string {
    return `${this.current.secretPrefix}-${name}-token${slot ? `-${slot}` : ''}`;
  }

  /** Resolves once the data file writes started so far are done (failed or not). */
  settled(): Promise<void> {
    return this.writing.catch(() => undefined);
  }

  /** Writes the data file unless it already holds exactly this; one write at a time, in order. */
  private persist(): Promise<void> {
    const data: DataFileShape = { settings: this.current };
    if (Object.keys(this.fileTokens).length > 0) data.tokens = { ...this.fileTokens };
    if (Object.keys(this.deleted).length > 0) data.deletedNotes = this.deleted;
    if (Object.keys(this.noted).length > 0) data.notedTasks = this.noted;
    if (Object.keys(this.synced).length > 0) data.syncedNotes = this.synced;
    if (Object.keys(this.notesFolder).length > 0) data.notesFolder = this.notesFolder;
    if (Object.keys(this.creating).length > 0) data.creatingNotes = this.creating;
    if (Object.keys(this.left).length > 0) data.leftNotes = this.left;
    const json = JSON.stringify(data);
    // A failed write must not block the ones after it; its caller still hears the failure.
    const write = this.writing
      .catch(() => undefined)
      .then(async () => {
        if (json === this.savedJson) return;
        await this.file.save(data);
        this.savedJson = json;
      });
    this.writing = write;
    return write;
  }
}

function readTaskIds(value: unknown): Record<string, string[]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const read: Record<string, string[]> = {};
  for (const [pool, ids] of Object.entries(value)) {
    if (!Array.isArray(ids)) continue;
    const kept = ids.filter((id): id is string => typeof id === 'string' && id !== '');
    if (kept.length > 0) read[pool] = kept;
  }
  return read;
}

function readFingerprints(value: unknown): Record<string, Record<string, string>> {
  return readByPool(value, (prints) =>
    typeof prints !== 'object' || prints === null || Array.isArray(prints)
      ? {}
      : Object.fromEntries(
          Object.entries(prints as Record<string, unknown>).filter(
            (entry): entry is [string, string] => typeof entry[1] === 'string',
          ),
        ),
  );
}

/** Per pool, what `readOne` keeps of each pool's entries; a pool left with none is dropped. */
function readByPool<V>(
  value: unknown,
  readOne: (entries: unknown) => Record<string, V>,
): Record<string, Record<string, V>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const read: Record<string, Record<string, V>> = {};
  for (const [pool, entries] of Object.entries(value as Record<string, unknown>)) {
    const kept = readOne(entries);
    if (Object.keys(kept).length > 0) read[pool] = kept;
  }
  return read;
}

function readFolders(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

/** Where a token is kept in the data file: its name, and its slot when it has one. */
function tokenKey(name: TokenName, slot: string): string {
  return slot ? `${name}:${slot}` : name;
}
