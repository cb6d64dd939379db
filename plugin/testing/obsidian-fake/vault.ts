import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';
import { FileSystemAdapter } from './adapter.ts';
import { Events } from './events.ts';
import type { TAbstractFile } from './files.ts';
import { TFile, TFolder } from './files.ts';
import { normalizePath } from './paths.ts';

/** What the metadata cache needs to hear from the vault (Obsidian wires these internally). */
export interface VaultIndexer {
  contentChanged(file: TFile, data: string): void;
  removed(file: TFile): void;
  renamed(file: TFile, oldPath: string): void;
}

/**
 * Obsidian's `Vault` over a real folder: an index of `TFile`/`TFolder` built by scanning the folder
 * (skipping the config folder, as Obsidian does), kept in step with every write made through the
 * vault, and the `create`/`modify`/`delete`/`rename` events after each. Stricter than Obsidian in
 * one way: a path that `normalizePath` would change is refused, so a plugin that forgets to
 * normalize fails in tests rather than on a user's Windows machine.
 */
export class Vault extends Events implements Partial<Loose<obsidian.Vault>> {
  readonly adapter: FileSystemAdapter;
  configDir = '.obsidian';
  private readonly index = new Map<string, TAbstractFile>();
  private readonly contents = new Map<string, string>();
  private readonly root: TFolder;
  /** Fake-internal: set by the metadata cache. */
  indexer: VaultIndexer | null = null;

  constructor(readonly basePath: string) {
    super();
    this.adapter = new FileSystemAdapter(basePath);
    this.root = new TFolder(this, '/');
    this.index.set('/', this.root);
    this.scan('');
  }

  getName(): string {
    return this.adapter.getName();
  }

  getRoot(): TFolder {
    return this.root;
  }

  getAbstractFileByPath(path: string): TAbstractFile | null {
    return this.index.get(path === '' ? '/' : path) ?? null;
  }

  getFileByPath(path: string): TFile | null {
    const file = this.getAbstractFileByPath(path);
    return file instanceof TFile ? file : null;
  }

  getFolderByPath(path: string): TFolder | null {
    const folder = this.getAbstractFileByPath(path);
    return folder instanceof TFolder ? folder : null;
  }

  getAllLoadedFiles(): TAbstractFile[] {
    return [...this.index.values()];
  }

  getAllFolders(includeRoot = false): TFolder[] {
    return [...this.index.values()].filter(
      (f): f is TFolder => f instanceof TFolder && (includeRoot || !f.isRoot()),
    );
  }

  getFiles(): TFile[] {
    return [...this.index.values()].filter((f): f is TFile => f instanceof TFile);
  }

  getMarkdownFiles(): TFile[] {
    return this.getFiles().filter((f) => f.extension === 'md');
  }

  static recurseChildren(root: TFolder, cb: (file: TAbstractFile) => unknown): void {
    for (const child of root.children) {
      cb(child);
      if (child instanceof TFolder) Vault.recurseChildren(child, cb);
    }
  }

  async create(path: string, data: string, options?: obsidian.DataWriteOptions): Promise<TFile> {
    this.requireNormalized(path);
    if (this.index.has(path)) throw new Error('File already exists.');
    const parent = this.requireParent(path);
    await this.adapter.write(path, data, options);
    const file = this.addFile(path, parent);
    this.contents.set(path, data);
    this.trigger('create', file);
    this.indexer?.contentChanged(file, data);
    return file;
  }

  async createBinary(
    path: string,
    data: ArrayBuffer,
    options?: obsidian.DataWriteOptions,
  ): Promise<TFile> {
    this.requireNormalized(path);
    if (this.index.has(path)) throw new Error('File already exists.');
    const parent = this.requireParent(path);
    await this.adapter.writeBinary(path, data, options);
    const file = this.addFile(path, parent);
    this.trigger('create', file);
    return file;
  }

  /** Creates the folder and any missing parents; fails if it exists. */
  async createFolder(path: string): Promise<TFolder> {
    this.requireNormalized(path);
    if (this.index.has(path)) throw new Error('Folder already exists.');
    await this.adapter.mkdir(path);
    return this.ensureFolder(path);
  }

  async read(file: TFile): Promise<string> {
    const data = await this.adapter.read(file.path);
    this.contents.set(file.path, data);
    return data;
  }

  async cachedRead(file: TFile): Promise<string> {
    return this.contents.get(file.path) ?? this.read(file);
  }

  readBinary(file: TFile): Promise<ArrayBuffer> {
    return this.adapter.readBinary(file.path);
  }

  getResourcePath(file: TFile): string {
    return this.adapter.getResourcePath(file.path);
  }

  async modify(file: TFile, data: string, options?: obsidian.DataWriteOptions): Promise<void> {
    this.requireIndexed(file);
    await this.adapter.write(file.path, data, options);
    this.contentWritten(file, data);
  }

  async modifyBinary(
    file: TFile,
    data: ArrayBuffer,
    options?: obsidian.DataWriteOptions,
  ): Promise<void> {
    this.requireIndexed(file);
    await this.adapter.writeBinary(file.path, data, options);
    this.refreshStat(file);
    this.trigger('modify', file);
  }

  async append(file: TFile, data: string, options?: obsidian.DataWriteOptions): Promise<void> {
    await this.modify(file, (await this.read(file)) + data, options);
  }

  /** Reads, lets `fn` change the text, writes — with nothing else writing between. */
  async process(
    file: TFile,
    fn: (data: string) => string,
    options?: obsidian.DataWriteOptions,
  ): Promise<string> {
    this.requireIndexed(file);
    const before = await this.adapter.read(file.path);
    const after = fn(before);
    if (after !== before) {
      await this.adapter.write(file.path, after, options);
      this.contentWritten(file, after);
    }
    return after;
  }

  async copy<T extends TAbstractFile>(file: T, newPath: string): Promise<T> {
    this.requireNormalized(newPath);
    if (!(file instanceof TFile)) throw new Error('The fake vault copies files only.');
    return (await this.create(newPath, await this.read(file))) as TAbstractFile as T;
  }

  async delete(file: TAbstractFile, _force?: boolean): Promise<void> {
    const target = this.requireIndexed(file);
    if (target instanceof TFolder) {
      for (const child of [...target.children]) await this.delete(child, true);
      await this.adapter.rmdir(target.path, false);
    } else {
      await this.adapter.remove(target.path);
    }
    this.removeFromIndex(target);
    this.trigger('delete', target);
    if (target instanceof TFile) this.indexer?.removed(target);
  }

  async trash(file: TAbstractFile, _system: boolean): Promise<void> {
    await this.delete(file, true);
  }

  /** Moves a file or folder; fails if the destination exists or its folder does not. */
  async rename(file: TAbstractFile, newPath: string): Promise<void> {
    this.requireNormalized(newPath);
    const target = this.requireIndexed(file);
    if (this.index.has(newPath)) throw new Error('Destination file already exists!');
    const parent = this.requireParent(newPath);
    const oldPath = target.path;
    await this.adapter.rename(oldPath, newPath);
    const moved = [target, ...descendants(target)];
    for (const item of moved) this.index.delete(item.path);
    target.parent?.children.splice(target.parent.children.indexOf(target), 1);
    const oldPaths = new Map(moved.map((item) => [item, item.path]));
    for (const item of moved) {
      const before = item.path;
      item.setPath(item === target ? newPath : newPath + before.slice(oldPath.length));
      this.index.set(item.path, item);
      const text = this.contents.get(before);
      if (text !== undefined) {
        this.contents.delete(before);
        this.contents.set(item.path, text);
      }
      if (item instanceof TFile) this.indexer?.renamed(item, before);
    }
    target.parent = parent;
    parent.children.push(target);
    // Obsidian reports the folder and each file under it, each with its own old path.
    for (const item of moved) this.trigger('rename', item, oldPaths.get(item));
  }

  // ── fake-internal ──

  private scan(folder: string): void {
    const full = folder === '' ? this.basePath : join(this.basePath, folder);
    for (const entry of readdirSync(full, { withFileTypes: true })) {
      if (folder === '' && entry.name === this.configDir) continue;
      const path = folder === '' ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        this.ensureFolder(path, false);
        this.scan(path);
      } else if (entry.isFile()) {
        this.addFile(path, this.getFolderByPath(folder === '' ? '/' : folder)!);
      }
    }
  }

  private addFile(path: string, parent: TFolder): TFile {
    const file = new TFile(this, path);
    file.parent = parent;
    parent.children.push(file);
    this.index.set(path, file);
    this.refreshStat(file);
    return file;
  }

  private ensureFolder(path: string, announce = true): TFolder {
    const existing = this.getFolderByPath(path);
    if (existing) return existing;
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? this.root : this.ensureFolder(path.slice(0, slash), announce);
    const folder = new TFolder(this, path);
    folder.parent = parent;
    parent.children.push(folder);
    this.index.set(path, folder);
    if (announce) this.trigger('create', folder);
    return folder;
  }

  private contentWritten(file: TFile, data: string): void {
    this.contents.set(file.path, data);
    this.refreshStat(file);
    this.trigger('modify', file);
    this.indexer?.contentChanged(file, data);
  }

  private refreshStat(file: TFile): void {
    const stat = statSync(join(this.basePath, file.path));
    file.stat = { ctime: stat.birthtimeMs, mtime: stat.mtimeMs, size: stat.size };
  }

  private removeFromIndex(target: TAbstractFile): void {
    this.index.delete(target.path);
    this.contents.delete(target.path);
    target.parent?.children.splice(target.parent.children.indexOf(target), 1);
  }

  private requireIndexed(file: TAbstractFile): TAbstractFile {
    if (this.index.get(file.path) !== file) throw new Error(`File not found: ${file.path}`);
    return file;
  }

  private requireParent(path: string): TFolder {
    const slash = path.lastIndexOf('/');
    const parent = this.getFolderByPath(slash < 0 ? '/' : path.slice(0, slash));
    if (!parent) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return parent;
  }

  private requireNormalized(path: string): void {
    if (normalizePath(path) !== path || path === '/') {
      throw new Error(`Fake vault: "${path}" is not a normalized file path; use normalizePath().`);
    }
  }
}

function descendants(item: TAbstractFile): TAbstractFile[] {
  if (!(item instanceof TFolder)) return [];
  return item.children.flatMap((child) => [child, ...descendants(child)]);
}
