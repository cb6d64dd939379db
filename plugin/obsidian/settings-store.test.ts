import { describe, expect, it } from 'vitest';
import { SettingsStore, findSecretStorage, type PluginDataFile } from './settings-store.ts';

/** A data file in memory that counts its writes. */
class DataFile implements PluginDataFile {
  writes: unknown[] = [];
  constructor(public data: unknown = null) {}
  async load() {
    return this.data === null ? null : structuredClone(this.data);
  }
  async save(data: unknown) {
    this.data = structuredClone(data);
    this.writes.push(this.data);
  }
}

class Secrets {
  readonly map = new Map<string, string>();
  getSecret(id: string) {
    return this.map.get(id) ?? null;
  }
  setSecret(id: string, secret: string) {
    this.map.set(id, secret);
  }
}

describe('SettingsStore', () => {
  it('writes nothing on open, and nothing when an update changes no value', async () => {
    const file = new DataFile({ settings: { tasksFolder: 'Work' } });
    const store = await SettingsStore.open(file, null);
    expect(await store.update({ tasksFolder: 'Work' })).toBe(false);
    expect(await store.update({ tasksFolder: '/Work/' })).toBe(false); // the same, normalized
    expect(file.writes).toHaveLength(0);
  });

  it('writes once per change and tells its listeners', async () => {
    const file = new DataFile();
    const store = await SettingsStore.open(file, null);
    const heard: string[] = [];
    store.onChange((next, previous) => heard.push(`${previous.tasksFolder}→${next.tasksFolder}`));
    expect(await store.update({ tasksFolder: 'Projects' })).toBe(true);
    expect(file.writes).toEqual([
      { settings: expect.objectContaining({ tasksFolder: 'Projects' }) },
    ]);
    expect(heard).toEqual(['Tasks→Projects']);
  });

  it('keeps the deleted notes and the noted tasks of each pool in the data file, not as a setting', async () => {
    const file = new DataFile();
    const store = await SettingsStore.open(file, null);
    const heard: unknown[] = [];
    store.onChange((next) => heard.push(next));
    await store.setNoteRecord('embedded', { deleted: ['t_1', 't_2'], noted: ['t_4'] });
    await store.setNoteRecord('http://pool.lan:8787', { deleted: ['t_9'], noted: ['t_8'] });
    await store.setNoteRecord('http://pool.lan:8787', { deleted: [], noted: [] });
    expect(heard).toEqual([]);
    expect(file.data).toMatchObject({
      deletedNotes: { embedded: ['t_1', 't_2'] },
      notedTasks: { embedded: ['t_4'] },
    });

    const reopened = await SettingsStore.open(file, null);
    expect(reopened.noteRecord('embedded')).toEqual({ deleted: ['t_1', 't_2'], noted: ['t_4'] });
    expect(reopened.noteRecord('http://pool.lan:8787')).toEqual({ deleted: [], noted: [] });
    // A hand-edited file with nonsense in it reads as nothing remembered, not a crash.
    const odd = await SettingsStore.open(
      new DataFile({
        deletedNotes: { embedded: 'x', other: [1, '', 't_3'] },
        notedTasks: ['t_5'],
      }),
      null,
    );
    expect(odd.noteRecord('embedded')).toEqual({ deleted: [], noted: [] });
    expect(odd.noteRecord('other')).toEqual({ deleted: ['t_3'], noted: [] });
  });

  it('keeps the fingerprints of synced notes and the tasks folder of each pool, and reads a file from before them', async () => {
    const file = new DataFile({ settings: {}, deletedNotes: { embedded: ['t_1'] } });
    const store = await SettingsStore.open(file, null);
    // A data file from before: no fingerprints, no folder — the sync reads both as not known.
    expect(store.noteRecord('embedded')).toEqual({ deleted: ['t_1'], noted: [] });

    await store.setNoteRecord('embedded', {
      deleted: [],
      noted: ['t_2'],
      synced: { t_2: 'abcdefghijklmnopqrst' },
      folder: 'Tasks',
    });
    expect(file.data).toMatchObject({
      notedTasks: { embedded: ['t_2'] },
      syncedNotes: { embedded: { t_2: 'abcdefghijklmnopqrst' } },
      notesFolder: { embedded: 'Tasks' },
    });
    const reopened = await SettingsStore.open(file, null);
    expect(reopened.noteRecord('embedded')).toEqual({
      deleted: [],
      noted: ['t_2'],
      synced: { t_2: 'abcdefghijklmnopqrst' },
      folder: 'Tasks',
    });
  });

  it('keeps the task creations not answered yet of each pool, and drops entries that do not read', async () => {
    const pending = { key: 'note-1', request: { repo: 'demo', title: 'New idea', priority: 5 } };
    const file = new DataFile();
    const store = await SettingsStore.open(file, null);
    await store.setNoteRecord('embedded', {
      deleted: [],
      noted: [],
      creating: { 'Tasks/New idea.md': pending },
    });
    expect(file.data).toMatchObject({
      creatingNotes: { embedded: { 'Tasks/New idea.md': pending } },
    });
    const reopened = await SettingsStore.open(file, null);
    expect(reopened.noteRecord('embedded')).toEqual({
      deleted: [],
      noted: [],
      creating: { 'Tasks/New idea.md': pending },
    });
    // Answered: the entry goes, and with the pool's last one the key leaves the file.
    await reopened.setNoteRecord('embedded', { deleted: [], noted: [] });
    expect(file.data).not.toHaveProperty('creatingNotes');

    const odd = await SettingsStore.open(
      new DataFile({
        creatingNotes: {
          embedded: {
            'Tasks/No key.md': { request: pending.request },
            'Tasks/No title.md': { key: 'note-2', request: { repo: 'demo' } },
            'Tasks/Fine.md': pending,
          },
          other: 'x',
        },
      }),
      null,
    );
    expect(odd.noteRecord('embedded').creating).toEqual({ 'Tasks/Fine.md': pending });
    expect(odd.noteRecord('other')).not.toHaveProperty('creating');
  });

  it('keeps the notes the sync left alone, per pool; a file from before has none', async () => {
    const file = new DataFile();
    const store = await SettingsStore.open(file, null);
    expect(store.noteRecord('embedded')).not.toHaveProperty('leftAlone');
    await store.setNoteRecord('embedded', {
      deleted: [],
      noted: [],
      folder: 'Tasks',
      leftAlone: ['Tasks/Buy milk.md'],
    });
    expect(file.data).toMatchObject({ leftNotes: { embedded: ['Tasks/Buy milk.md'] } });
    const reopened = await SettingsStore.open(file, null);
    expect(reopened.noteRecord('embedded')).toEqual({
      deleted: [],
      noted: [],
      folder: 'Tasks',
      leftAlone: ['Tasks/Buy milk.md'],
    });
    expect(reopened.noteRecord('http://other')).not.toHaveProperty('leftAlone');
    // Made tasks: with the pool's last one the key leaves the file.
    await reopened.setNoteRecord('embedded', { deleted: [], noted: [], folder: 'Tasks' });
    expect(file.data).not.toHaveProperty('leftNotes');
  });

  it('keeps tokens in the secret storage under names of this vault, never in the file', async () => {
    const file = new DataFile();
    const secrets = new Secrets();
    const store = await SettingsStore.open(file, secrets);
    await store.setToken('worker', ' secret-worker-token ');
    expect(store.tokenStorage).toBe('secret-storage');
    expect(await store.token('worker')).toBe('secret-worker-token');
    const [id] = [...secrets.map.keys()];
    expect(id).toBe(`${store.settings.secretPrefix}-worker-token`);
    expect(JSON.stringify(file.data)).not.toContain('secret-worker-token');

    const writes = file.writes.length;
    await store.setToken('worker', 'secret-worker-token'); // unchanged: no write anywhere
    expect(file.writes).toHaveLength(writes);
  });

  it('without secret storage, keeps tokens in the data file', async () => {
    const file = new DataFile();
    const store = await SettingsStore.open(file, null);
    await store.setToken('admin', 'admin-token');
    expect(store.tokenStorage).toBe('plugin-data');
    expect(file.data).toMatchObject({ tokens: { admin: 'admin-token' } });
    await store.setToken('admin', '');
    expect(file.data).not.toHaveProperty('tokens');
  });

  it('moves tokens from the data file into the secret storage once the app has one', async () => {
    const file = new DataFile({ settings: {}, tokens: { worker: 'old-token' } });
    const secrets = new Secrets();
    const store = await SettingsStore.open(file, secrets);
    expect(await store.token('worker')).toBe('old-token');
    expect(file.data).not.toHaveProperty('tokens');
    expect([...secrets.map.values()]).toEqual(['old-token']);
  });

  it("keeps each pool's worker token in a slot of its own, in the file and when moved", async () => {
    const file = new DataFile();
    const store = await SettingsStore.open(file, null);
    await store.setToken('worker', 'plain-token');
    await store.setToken('worker', 'pool-b-token', 'b0b0b0b0');
    expect(await store.token('worker')).toBe('plain-token');
    expect(await store.token('worker', 'b0b0b0b0')).toBe('pool-b-token');
    expect(await store.token('worker', 'c0c0c0c0')).toBe('');
    expect(file.data).toMatchObject({
      tokens: { worker: 'plain-token', 'worker:b0b0b0b0': 'pool-b-token' },
    });

    const secrets = new Secrets();
    const moved = await SettingsStore.open(file, secrets);
    expect(await moved.token('worker')).toBe('plain-token');
    expect(await moved.token('worker', 'b0b0b0b0')).toBe('pool-b-token');
    const prefix = moved.settings.secretPrefix;
    expect([...secrets.map.keys()].sort()).toEqual([
      `${prefix}-worker-token`,
      `${prefix}-worker-token-b0b0b0b0`,
    ]);
    expect(file.data).not.toHaveProperty('tokens');
  });
});

it('findSecretStorage takes app.secretStorage only when it has both methods', () => {
  const storage = new Secrets();
  expect(findSecretStorage({ secretStorage: storage })).toBe(storage);
  expect(findSecretStorage({ secretStorage: { getSecret: () => null } })).toBeNull();
  expect(findSecretStorage({})).toBeNull();
});
