/**
 * Where the embedded database is saved: a folder of files. In Obsidian it is the plugin's folder
 * through `app.vault.adapter` (no Node API, so it works on mobile); in tests a temp folder.
 * Paths are relative to the store's folder.
 */
export interface BinaryStore {
  read(path: string): Promise<Uint8Array | null>;
  write(path: string, bytes: Uint8Array): Promise<void>;
  readText(path: string): Promise<string | null>;
  writeText(path: string, text: string): Promise<void>;
  /** Adds text to the end of a file, creating it when missing (the persister's journal). */
  append(path: string, text: string): Promise<void>;
  remove(path: string): Promise<void>;
  list(): Promise<string[]>;
}
