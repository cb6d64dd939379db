import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TFile, TFolder, createApp, type App } from './index.ts';

const apps: App[] = [];
afterEach(() => apps.splice(0).forEach((app) => app.destroy()));

function anApp(files: Record<string, string> = {}): App {
  const app = createApp({ files });
  apps.push(app);
  return app;
}

/** Every vault event, as `name path [oldPath]`. */
function recordEvents(app: App): string[] {
  const seen: string[] = [];
  for (const name of ['create', 'modify', 'delete'] as const) {
    app.vault.on(name, (file) => seen.push(`${name} ${(file as TFile).path}`));
  }
  app.vault.on('rename', (file, oldPath) => seen.push(`rename ${(file as TFile).path} ${oldPath}`));
  return seen;
}

describe('the fake vault over a folder on disk', () => {
  it('indexes what is on disk, but not the config folder', () => {
    const app = anApp({ 'a.md': 'A', 'Folder/b.md': 'B', 'Folder/img.png': 'x' });
    expect(
      app.vault
        .getMarkdownFiles()
        .map((f) => f.path)
        .sort(),
    ).toEqual(['Folder/b.md', 'a.md']);
    expect(app.vault.getFiles()).toHaveLength(3);
    const file = app.vault.getAbstractFileByPath('Folder/b.md');
    expect(file).toBeInstanceOf(TFile);
    expect(file).toMatchObject({ name: 'b.md', basename: 'b', extension: 'md' });
    expect(file?.parent).toBeInstanceOf(TFolder);
    expect(file?.parent?.path).toBe('Folder');
    expect(app.vault.getRoot().isRoot()).toBe(true);
    expect(app.vault.getAbstractFileByPath('.obsidian')).toBeNull();
  });

  it('creates, reads, modifies, processes, renames and deletes, with an event after each', async () => {
    const app = anApp();
    const events = recordEvents(app);

    await app.vault.createFolder('Notes/Deep');
    const file = await app.vault.create('Notes/Deep/n.md', 'one');
    await app.vault.modify(file, 'two');
    await app.vault.process(file, (text) => `${text} three`);
    await app.vault.process(file, (text) => text); // unchanged: no write, no event
    expect(await app.vault.read(file)).toBe('two three');
    expect(await app.vault.cachedRead(file)).toBe('two three');
    await app.vault.rename(file, 'Notes/m.md');
    expect(file.path).toBe('Notes/m.md');
    expect(app.vault.getAbstractFileByPath('Notes/Deep/n.md')).toBeNull();
    await app.vault.delete(file);

    expect(events).toEqual([
      'create Notes',
      'create Notes/Deep',
      'create Notes/Deep/n.md',
      'modify Notes/Deep/n.md',
      'modify Notes/Deep/n.md',
      'rename Notes/m.md Notes/Deep/n.md',
      'delete Notes/m.md',
    ]);
    expect(existsSync(join(app.vault.basePath, 'Notes/m.md'))).toBe(false);
  });

  it('refuses what Obsidian refuses', async () => {
    const app = anApp({ 'a.md': 'A', 'b.md': 'B' });
    await expect(app.vault.create('a.md', 'x')).rejects.toThrow('File already exists.');
    await expect(app.vault.create('Missing/x.md', 'x')).rejects.toThrow(/ENOENT/);
    await app.vault.createFolder('F');
    await expect(app.vault.createFolder('F')).rejects.toThrow('Folder already exists.');
    const a = app.vault.getFileByPath('a.md')!;
    await expect(app.vault.rename(a, 'b.md')).rejects.toThrow('Destination file already exists!');
    await expect(app.vault.create('/x.md', 'x')).rejects.toThrow(/normalizePath/);
  });

  it('moves a folder with everything in it, reporting each old path', async () => {
    const app = anApp({ 'Old/a.md': 'A', 'Old/Sub/b.md': 'B' });
    const events = recordEvents(app);
    await app.vault.rename(app.vault.getFolderByPath('Old')!, 'New');
    expect(app.vault.getFileByPath('New/Sub/b.md')).not.toBeNull();
    expect(events.sort()).toEqual([
      'rename New Old',
      'rename New/Sub Old/Sub',
      'rename New/Sub/b.md Old/Sub/b.md',
      'rename New/a.md Old/a.md',
    ]);
  });

  it('stops calling a listener after offref', async () => {
    const app = anApp();
    const seen: string[] = [];
    const ref = app.vault.on('create', (file) => seen.push((file as TFile).path));
    await app.vault.create('a.md', '');
    app.vault.offref(ref);
    await app.vault.create('b.md', '');
    expect(seen).toEqual(['a.md']);
    expect(app.vault.listenerCount('create')).toBe(0);
  });
});

describe('vault.adapter', () => {
  it('reads and writes text and bytes, lists, checks and removes, outside the index', async () => {
    const app = anApp();
    const adapter = app.vault.adapter;
    await adapter.mkdir('.obsidian/plugins/p');
    await adapter.write('.obsidian/plugins/p/data.json', '{"a":1}');
    await adapter.writeBinary('.obsidian/plugins/p/db.bin', new Uint8Array([1, 2, 3]).buffer);

    expect(await adapter.read('.obsidian/plugins/p/data.json')).toBe('{"a":1}');
    expect([...new Uint8Array(await adapter.readBinary('.obsidian/plugins/p/db.bin'))]).toEqual([
      1, 2, 3,
    ]);
    expect((await adapter.list('.obsidian/plugins/p')).files.sort()).toEqual([
      '.obsidian/plugins/p/data.json',
      '.obsidian/plugins/p/db.bin',
    ]);
    expect(await adapter.exists('.obsidian/plugins/p/db.bin')).toBe(true);
    await adapter.rename('.obsidian/plugins/p/db.bin', '.obsidian/plugins/p/db.old');
    await adapter.remove('.obsidian/plugins/p/db.old');
    expect(await adapter.exists('.obsidian/plugins/p/db.old')).toBe(false);
    expect(app.vault.getAbstractFileByPath('.obsidian/plugins/p/data.json')).toBeNull();
    await expect(adapter.write('nowhere/x.txt', 'x')).rejects.toThrow(/ENOENT/);
  });

  it('writes where the vault’s files are', async () => {
    const app = anApp();
    await app.vault.create('n.md', 'text');
    expect(readFileSync(join(app.vault.basePath, 'n.md'), 'utf8')).toBe('text');
    expect(await app.vault.adapter.read('n.md')).toBe('text');
  });
});
