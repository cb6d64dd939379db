import { normalizePath, type DataAdapter } from 'obsidian';
import type { BinaryStore } from '../embedded/binary-store.ts';

/**
 * The embedded database's `BinaryStore` over `app.vault.adapter`, in a folder of the plugin's own
 * (under the vault's config folder, which the vault does not index). The adapter works the same on
 * desktop and mobile, so no Node API is needed.
 */
export class VaultBinaryStore implements BinaryStore {
  private readonly folder: string;
  private folderReady: Promise<void> | null = null;

  constructor(
    private readonly adapter: DataAdapter,
    folder: string,
  ) {
    this.folder = normalizePath(folder);
  }

  async read(path: string): Promise<Uint8Array | null> {
    const full = this.pathOf(path);
    if (!(await this.adapter.exists(full))) return null;
    return new Uint8Array(await this.adapter.readBinary(full));
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    await this.ensureFolder();
    // The adapter takes an ArrayBuffer of exactly these bytes, not the view's whole buffer.
    const copy = bytes.slice().buffer;
    await this.adapter.writeBinary(this.pathOf(path), copy);
  }

  async readText(path: string): Promise<string | null> {
    const full = this.pathOf(path);
    if (!(await this.adapter.exists(full))) return null;
    return this.adapter.read(full);
  }

  async writeText(path: string, text: string): Promise<void> {
    await this.ensureFolder();
    await this.adapter.write(this.pathOf(path), text);
  }

  async append(path: string, text: string): Promise<void> {
    await this.ensureFolder();
    await this.adapter.append(this.pathOf(path), text);
  }

  async remove(path: string): Promise<void> {
    const full = this.pathOf(path);
    if (await this.adapter.exists(full)) await this.adapter.remove(full);
  }

  async list(): Promise<string[]> {
    if (!(await this.adapter.exists(this.folder))) return [];
    const listed = await this.adapter.list(this.folder);
    return listed.files.map((file) => file.slice(file.lastIndexOf('/') + 1));
  }

  private pathOf(path: string): string {
    return normalizePath(`${this.folder}/${path}`);
  }

  private ensureFolder(): Promise<void> {
    this.folderReady ??= (async () => {
      if (!(await this.adapter.exists(this.folder))) await this.adapter.mkdir(this.folder);
    })().catch((error: unknown) => {
      this.folderReady = null;
      throw error;
    });
    return this.folderReady;
  }
}
