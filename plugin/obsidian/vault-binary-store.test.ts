import { afterEach, expect, it } from 'vitest';
import { Persister } from '../embedded/persister.ts';
import { createApp, type App } from '../testing/obsidian-fake/index.ts';
import { VaultBinaryStore } from './vault-binary-store.ts';

let app: App;
afterEach(() => app?.destroy());

it('reads, writes, lists and removes files in its folder, creating the folder on first write', async () => {
  app = createApp();
  const store = new VaultBinaryStore(app.vault.adapter, '.obsidian/plugins/owp-pool/db');
  expect(await store.list()).toEqual([]);
  expect(await store.read('missing.sqlite')).toBeNull();

  const bytes = new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 4); // a view into a larger buffer
  await store.write('a.sqlite', bytes);
  await store.writeText('a.json', '{"ok":true}');
  expect([...(await store.read('a.sqlite'))!]).toEqual([2, 3, 4]);
  expect(await store.readText('a.json')).toBe('{"ok":true}');
  expect((await store.list()).sort()).toEqual(['a.json', 'a.sqlite']);

  await store.remove('a.sqlite');
  await store.remove('never-there');
  expect(await store.list()).toEqual(['a.json']);
  // In the config folder: the vault does not index the database.
  expect(app.vault.getFiles()).toEqual([]);
});

it('carries the persister: a saved generation loads back', async () => {
  app = createApp();
  const store = new VaultBinaryStore(app.vault.adapter, '.obsidian/plugins/owp-pool/db');
  const data = new TextEncoder().encode('SQLite format 3\0 and the rest of the database');
  const saver = new Persister(store, { exportBytes: () => data });
  saver.markDirty();
  await saver.flush();
  const loaded = await new Persister(store, { exportBytes: () => data }).load();
  expect(loaded && new TextDecoder().decode(loaded)).toBe(new TextDecoder().decode(data));
});
