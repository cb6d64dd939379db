import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BinaryStore } from '../embedded/binary-store.ts';

/**
 * A `BinaryStore` over a real folder with `node:fs`: for tests (the persister's crash tests) and
 * for the future `owp vault-sync`. Never for the plugin itself, which must run on mobile and uses
 * Obsidian's adapter. Like that adapter, it writes files in place — not through a temp file and a
 * rename — so a crash mid-write really leaves a torn file for the persister to survive.
 */
export class FolderBinaryStore implements BinaryStore {
  constructor(readonly folder: string) {}

  private path(name: string): string {
    return join(this.folder, name);
  }

  async read(name: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path(name)));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async write(name: string, bytes: Uint8Array): Promise<void> {
    await mkdir(dirname(this.path(name)), { recursive: true });
    await writeFile(this.path(name), bytes);
  }

  async readText(name: string): Promise<string | null> {
    try {
      return await readFile(this.path(name), 'utf8');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async writeText(name: string, text: string): Promise<void> {
    await mkdir(dirname(this.path(name)), { recursive: true });
    await writeFile(this.path(name), text, 'utf8');
  }

  async append(name: string, text: string): Promise<void> {
    await mkdir(dirname(this.path(name)), { recursive: true });
    await appendFile(this.path(name), text, 'utf8');
  }

  async remove(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  /** The files directly in the folder (none when it does not exist yet). */
  async list(): Promise<string[]> {
    try {
      const entries = await readdir(this.folder, { withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort();
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }
}

function isMissing(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ENOENT';
}
