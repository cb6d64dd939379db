import type { BinaryStore } from '../embedded/binary-store.ts';

/**
 * A `BinaryStore` in memory, for tests. Writes copy their bytes, as a real file would, so a caller
 * that reuses its buffer cannot change what was "saved".
 */
export class MemoryBinaryStore implements BinaryStore {
  readonly files = new Map<string, Uint8Array>();

  async read(path: string): Promise<Uint8Array | null> {
    const bytes = this.files.get(path);
    return bytes ? bytes.slice() : null;
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    this.files.set(path, bytes.slice());
  }

  async readText(path: string): Promise<string | null> {
    const bytes = this.files.get(path);
    return bytes ? new TextDecoder().decode(bytes) : null;
  }

  async writeText(path: string, text: string): Promise<void> {
    this.files.set(path, new TextEncoder().encode(text));
  }

  async append(path: string, text: string): Promise<void> {
    const before = this.files.get(path) ?? new Uint8Array();
    const added = new TextEncoder().encode(text);
    const joined = new Uint8Array(before.length + added.length);
    joined.set(before);
    joined.set(added, before.length);
    this.files.set(path, joined);
  }

  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }

  async list(): Promise<string[]> {
    return [...this.files.keys()].sort();
  }
}
