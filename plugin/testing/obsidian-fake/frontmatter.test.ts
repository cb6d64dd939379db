import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, getFrontMatterInfo, normalizePath, type App, type TFile } from './index.ts';

const apps: App[] = [];
afterEach(() => apps.splice(0).forEach((app) => app.destroy()));

function appWith(files: Record<string, string>): App {
  const app = createApp({ files });
  apps.push(app);
  return app;
}

const onDisk = (app: App, path: string) => readFileSync(join(app.vault.basePath, path), 'utf8');

describe('getFrontMatterInfo', () => {
  it('finds the block that opens the note and where the body starts', () => {
    const text = '---\ntitle: x\ntags:\n  - a\n---\nBody\n';
    expect(getFrontMatterInfo(text)).toEqual({
      exists: true,
      frontmatter: 'title: x\ntags:\n  - a\n',
      from: 4,
      to: 25,
      contentStart: 29,
    });
    expect(text.slice(29)).toBe('Body\n');
  });

  it('accepts an empty block and a block closing at the end of the file', () => {
    expect(getFrontMatterInfo('---\n---\nBody')).toMatchObject({ exists: true, contentStart: 8 });
    expect(getFrontMatterInfo('---\na: 1\n---')).toMatchObject({ exists: true, contentStart: 12 });
  });

  it('finds none unless `---` is the very first line and is closed', () => {
    expect(getFrontMatterInfo('\n---\na: 1\n---\n').exists).toBe(false);
    expect(getFrontMatterInfo('---\na: 1\n').exists).toBe(false);
    expect(getFrontMatterInfo('text\n---\n').exists).toBe(false);
    expect(getFrontMatterInfo('---\na: "---x"\n----\n---\nB').frontmatter).toBe(
      'a: "---x"\n----\n',
    );
  });
});

describe('metadataCache frontmatter', () => {
  it('parses frontmatter as Obsidian does: YAML 1.2, dates and `yes` stay text', () => {
    const app = appWith({ 'n.md': '---\nwhen: 2026-01-17\nok: yes\nn: 5\nlist: [a, b]\n---\n' });
    const file = app.vault.getFileByPath('n.md')!;
    expect(app.metadataCache.getFileCache(file)?.frontmatter).toEqual({
      when: '2026-01-17',
      ok: 'yes',
      n: 5,
      list: ['a', 'b'],
    });
  });

  it('has no frontmatter for a note without a block or with invalid YAML', () => {
    const app = appWith({ 'a.md': 'just text', 'b.md': '---\n: : :\n  - [\n---\n' });
    for (const path of ['a.md', 'b.md']) {
      const cache = app.metadataCache.getFileCache(app.vault.getFileByPath(path)!);
      expect(cache?.frontmatter).toBeUndefined();
    }
  });

  it('answers the old metadata until it has re-indexed, then fires `changed`', async () => {
    const app = appWith({ 'n.md': '---\nv: 1\n---\n' });
    const file = app.vault.getFileByPath('n.md')!;
    const seen: unknown[] = [];
    app.metadataCache.on('changed', (f, data, cache) =>
      seen.push([(f as TFile).path, data, cache]),
    );

    await app.vault.modify(file, '---\nv: 2\n---\n');
    expect(app.metadataCache.getFileCache(file)?.frontmatter).toEqual({ v: 1 });
    await app.metadataCache.settled();

    expect(app.metadataCache.getFileCache(file)?.frontmatter).toEqual({ v: 2 });
    expect(seen).toEqual([
      ['n.md', '---\nv: 2\n---\n', expect.objectContaining({ frontmatter: { v: 2 } })],
    ]);
  });
});

describe('fileManager.processFrontMatter', () => {
  it('changes the keys it is told to, keeps unknown keys and the body byte for byte', async () => {
    const body = '\n# Heading\n\nSome *text*  with trailing spaces  \n\n---\nnot: frontmatter\n';
    const app = appWith({ 'n.md': `---\nmine: [x, y]\nnested:\n  a: 1\npriority: 5\n---${body}` });
    const file = app.vault.getFileByPath('n.md')!;

    await app.fileManager.processFrontMatter(file, (fm) => {
      fm.priority = 9;
      fm.area = null;
      delete fm.nested;
    });

    expect(onDisk(app, 'n.md')).toBe(`---\nmine:\n  - x\n  - y\npriority: 9\narea:\n---${body}`);
  });

  it('adds a block to a note without one, and leaves the note alone when nothing is added', async () => {
    const app = appWith({ 'a.md': 'Body only', 'b.md': 'Untouched' });
    await app.fileManager.processFrontMatter(app.vault.getFileByPath('a.md')!, (fm) => {
      fm.owp_id = 't_1';
    });
    await app.fileManager.processFrontMatter(app.vault.getFileByPath('b.md')!, () => {});
    expect(onDisk(app, 'a.md')).toBe('---\nowp_id: t_1\n---\nBody only');
    expect(onDisk(app, 'b.md')).toBe('Untouched');
  });

  it('throws on invalid YAML and writes nothing', async () => {
    const text = '---\na: [unclosed\n---\nBody';
    const app = appWith({ 'n.md': text });
    await expect(
      app.fileManager.processFrontMatter(app.vault.getFileByPath('n.md')!, (fm) => {
        fm.b = 1;
      }),
    ).rejects.toThrow();
    expect(onDisk(app, 'n.md')).toBe(text);
  });
});

describe('normalizePath', () => {
  it('behaves as Obsidian’s', () => {
    expect(normalizePath('//a\\\\b//c/')).toBe('a/b/c');
    expect(normalizePath('/')).toBe('/');
    expect(normalizePath('')).toBe('/');
    expect(normalizePath('a\u00A0b\u202Fc')).toBe('a b c');
    expect(normalizePath('Cafe\u0301.md')).toBe('Café.md');
  });
});
