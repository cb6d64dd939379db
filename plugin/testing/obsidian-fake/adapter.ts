import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import type * as obsidian from 'obsidian';

/**
 * Obsidian's desktop `FileSystemAdapter` over a real folder: paths are vault-relative and
 * normalized. Like the real one it writes to disk and nothing else — the vault's index and events
 * do not hear of it (Obsidian's file watcher would, later; plugins use the adapter for their own
 * files under the config folder, which the vault does not index).
 */
export class FileSystemAdapter implements obsidian.DataAdapter {
  constructor(private readonly basePath: string) {}

  getName(): string {
    return this.basePath.slice(this.basePath.lastIndexOf('/') + 1);
  }

  getBasePath(): string {
    return this.basePath;
  }

  getFullPath(normalizedPath: string): string {
    return normalizedPath === '/' ? this.basePath : join(this.basePath, normalizedPath);
  }

  async exists(normalizedPath: string): Promise<boolean> {
    return existsSync(this.getFullPath(normalizedPath));
  }

  async stat(normalizedPath: string): Promise<obsidian.Stat | null> {
    try {
      const stat = await fs.stat(this.getFullPath(normalizedPath));
      return {
        type: stat.isDirectory() ? 'folder' : 'file',
        ctime: stat.birthtimeMs,
        mtime: stat.mtimeMs,
        size: stat.size,
      };
    } catch {
      return null;
    }
  }

  /** Non-recursive; entries are vault-relative paths, as in Obsidian. */
  async list(normalizedPath: string): Promise<obsidian.ListedFiles> {
    const entries = await fs.readdir(this.getFullPath(normalizedPath), { withFileTypes: true });
    const prefix = normalizedPath === '/' || normalizedPath === '' ? '' : `${normalizedPath}/`;
    return {
      files: entries.filter((e) => e.isFile()).map((e) => prefix + e.name),
      folders: entries.filter((e) => e.isDirectory()).map((e) => prefix + e.name),
    };
  }

  read(normalizedPath: string): Promise<string> {
    return fs.readFile(this.getFullPath(normalizedPath), 'utf8');
  }

  async readBinary(normalizedPath: string): Promise<ArrayBuffer> {
    const bytes = await fs.readFile(this.getFullPath(normalizedPath));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async write(
    normalizedPath: string,
    data: string,
    options?: obsidian.DataWriteOptions,
  ): Promise<void> {
    await this.writeBytes(normalizedPath, data, options);
  }

  async writeBinary(
    normalizedPath: string,
    data: ArrayBuffer,
    options?: obsidian.DataWriteOptions,
  ): Promise<void> {
    await this.writeBytes(normalizedPath, new Uint8Array(data), options);
  }

  async append(
    normalizedPath: string,
    data: string,
    options?: obsidian.DataWriteOptions,
  ): Promise<void> {
    await fs.appendFile(this.getFullPath(normalizedPath), data);
    await this.setTimes(normalizedPath, options);
  }

  async process(
    normalizedPath: string,
    fn: (data: string) => string,
    options?: obsidian.DataWriteOptions,
  ): Promise<string> {
    const next = fn(await this.read(normalizedPath));
    await this.write(normalizedPath, next, options);
    return next;
  }

  getResourcePath(normalizedPath: string): string {
    return `app://local/${encodeURI(this.getFullPath(normalizedPath))}`;
  }

  /** Creates the folder and any missing parents. */
  async mkdir(normalizedPath: string): Promise<void> {
    await fs.mkdir(this.getFullPath(normalizedPath), { recursive: true });
  }

  async trashSystem(_normalizedPath: string): Promise<boolean> {
    return false;
  }

  async trashLocal(normalizedPath: string): Promise<void> {
    const target = join('.trash', normalizedPath.slice(normalizedPath.lastIndexOf('/') + 1));
    await fs.mkdir(this.getFullPath('.trash'), { recursive: true });
    await fs.rename(this.getFullPath(normalizedPath), this.getFullPath(target));
  }

  async rmdir(normalizedPath: string, recursive: boolean): Promise<void> {
    await fs.rm(this.getFullPath(normalizedPath), { recursive, force: false });
  }

  async remove(normalizedPath: string): Promise<void> {
    await fs.unlink(this.getFullPath(normalizedPath));
  }

  async rename(normalizedPath: string, normalizedNewPath: string): Promise<void> {
    if (await this.exists(normalizedNewPath)) throw new Error('Destination file already exists!');
    await fs.rename(this.getFullPath(normalizedPath), this.getFullPath(normalizedNewPath));
  }

  async copy(normalizedPath: string, normalizedNewPath: string): Promise<void> {
    if (await this.exists(normalizedNewPath)) throw new Error('Destination file already exists!');
    await fs.copyFile(this.getFullPath(normalizedPath), this.getFullPath(normalizedNewPath));
  }

  private async writeBytes(
    normalizedPath: string,
    data: string | Uint8Array,
    options?: obsidian.DataWriteOptions,
  ): Promise<void> {
    // Like Obsidian's, a write into a folder that does not exist fails (ENOENT): create it first.
    await fs.writeFile(this.getFullPath(normalizedPath), data);
    await this.setTimes(normalizedPath, options);
  }

  private async setTimes(normalizedPath: string, options?: obsidian.DataWriteOptions) {
    if (options?.mtime === undefined) return;
    const when = new Date(options.mtime);
    await fs.utimes(this.getFullPath(normalizedPath), when, when);
  }
}
