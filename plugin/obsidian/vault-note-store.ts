import {
  TFile,
  getFrontMatterInfo,
  normalizePath,
  parseYaml,
  stringifyYaml,
  type App,
  type EventRef,
  type TAbstractFile,
} from 'obsidian';
import {
  readProperties,
  type NoteChange,
  type NoteMeta,
  type NoteSnapshot,
  type NoteStore,
} from '../sync/note-store.ts';

/**
 * The note sync's `NoteStore` over Obsidian: the vault for files, `processFrontMatter` for the
 * owned keys (so the user's other properties and the body are never touched), and the metadata
 * cache's `changed` event for edits. `read` parses a note's frontmatter from its text rather than
 * taking it from the metadata cache, which lags behind a write: the sync compares what it wrote
 * with what it reads, and a stale cache would look like the user's edit. Only `list` uses the
 * cache, for speed; the sync reads a listed note again before it acts on it.
 */
export class VaultNoteStore implements NoteStore {
  constructor(private readonly app: App) {}

  /**
   * From the metadata cache, which has parsed every note already: reading and parsing 5,000 files
   * here took over a second. A note the cache has not indexed yet is read. The cache may lag behind
   * a recent write; the sync reads a note (`read`) before acting on it.
   */
  async list(folder: string): Promise<NoteMeta[]> {
    const root = normalizeFolder(folder);
    const files = this.app.vault.getMarkdownFiles().filter((file) => isUnder(file.path, root));
    return Promise.all(
      files.map(async (file): Promise<NoteMeta> => {
        const cache = this.app.metadataCache.getFileCache(file);
        // No properties in the cache: none, or a block that is not valid YAML — the text tells.
        if (!cache?.frontmatter) return snapshotOf(file, await this.app.vault.cachedRead(file));
        return { path: file.path, frontmatter: { ...cache.frontmatter }, mtime: file.stat.mtime };
      }),
    );
  }

  async read(path: string): Promise<NoteSnapshot | null> {
    const file = this.app.vault.getAbstractFileByPath(normalizePath(path));
    if (!isNote(file)) return null;
    return snapshotOf(file, await this.app.vault.read(file));
  }

  async create(path: string, frontmatter: Record<string, unknown>, body: string): Promise<void> {
    const target = normalizePath(path);
    await this.ensureFolder(parentOf(target));
    const block =
      Object.keys(frontmatter).length === 0 ? '' : `---\n${stringifyYaml(frontmatter)}---\n`;
    await this.app.vault.create(target, block + body);
  }

  async updateFrontmatter(path: string, changes: Record<string, unknown>): Promise<void> {
    await this.app.fileManager.processFrontMatter(this.requireNote(path), (frontmatter) => {
      const properties = frontmatter as Record<string, unknown>;
      for (const [key, value] of Object.entries(changes)) {
        if (value === undefined) delete properties[key];
        else properties[key] = value;
      }
    });
  }

  async writeBody(path: string, body: string): Promise<void> {
    await this.app.vault.process(this.requireNote(path), (content) => {
      return content.slice(0, getFrontMatterInfo(content).contentStart) + body;
    });
  }

  async move(path: string, newPath: string): Promise<void> {
    const target = normalizePath(newPath);
    await this.ensureFolder(parentOf(target));
    // Through the file manager, so links to the note follow it (the user's preference).
    await this.app.fileManager.renameFile(this.requireNote(path), target);
  }

  watch(listener: (change: NoteChange) => void): () => void {
    const { vault, metadataCache } = this.app;
    const emitRead = (file: TFile, make: (note: NoteSnapshot) => NoteChange) => {
      void vault.cachedRead(file).then((content) => listener(make(snapshotOf(file, content))));
    };
    const refs: [typeof vault | typeof metadataCache, EventRef][] = [
      [
        vault,
        vault.on('create', (file) => {
          if (isNote(file)) emitRead(file, (note) => ({ kind: 'created', note }));
        }),
      ],
      [
        vault,
        vault.on('delete', (file) => {
          if (isNote(file)) listener({ kind: 'deleted', path: file.path });
        }),
      ],
      [
        vault,
        vault.on('rename', (file, oldPath) => {
          if (isNote(file)) emitRead(file, (note) => ({ kind: 'renamed', oldPath, note }));
        }),
      ],
      // After the cache has indexed a write: by then the file's text is final.
      [
        metadataCache,
        metadataCache.on('changed', (file, data) => {
          if (isNote(file)) listener({ kind: 'modified', note: snapshotOf(file, data) });
        }),
      ],
    ];
    return () => refs.forEach(([source, ref]) => source.offref(ref));
  }

  private requireNote(path: string): TFile {
    const file = this.app.vault.getAbstractFileByPath(normalizePath(path));
    if (!isNote(file)) throw new Error(`No note at ${path}`);
    return file;
  }

  private async ensureFolder(folder: string): Promise<void> {
    if (folder === '' || this.app.vault.getAbstractFileByPath(folder)) return;
    await this.ensureFolder(parentOf(folder));
    if (!this.app.vault.getAbstractFileByPath(folder)) await this.app.vault.createFolder(folder);
  }
}

function snapshotOf(file: TFile, content: string): NoteSnapshot {
  const info = getFrontMatterInfo(content);
  return {
    path: file.path,
    ...(info.exists ? readProperties(info.frontmatter, parseYaml) : { frontmatter: {} }),
    body: content.slice(info.contentStart),
    mtime: file.stat.mtime,
  };
}

function isNote(file: TAbstractFile | null): file is TFile {
  return file instanceof TFile && file.extension === 'md';
}

function normalizeFolder(folder: string): string {
  const path = normalizePath(folder);
  return path === '/' ? '' : path;
}

function isUnder(path: string, folder: string): boolean {
  return folder === '' || path.startsWith(`${folder}/`);
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
