/**
 * The vault as the note sync sees it: Markdown notes with frontmatter, under folders. Implemented
 * over Obsidian's Vault/MetadataCache/FileManager in the glue (plugin/obsidian/), and over a plain
 * folder on disk for `owp vault-sync`. Paths are vault-relative, '/'-separated, normalized.
 */
export interface NoteMeta {
  path: string;
  /** Parsed frontmatter (empty object when none). */
  frontmatter: Record<string, unknown>;
  /** Modification time, ms. */
  mtime: number;
}

export interface NoteSnapshot extends NoteMeta {
  /** The note body: everything after the frontmatter block. */
  body: string;
}

export type NoteChange =
  | { kind: 'created' | 'modified'; note: NoteSnapshot }
  | { kind: 'deleted'; path: string }
  | { kind: 'renamed'; oldPath: string; note: NoteSnapshot };

export interface NoteStore {
  /**
   * Every Markdown note under `folder` (recursively), without its body: reading 5,000 bodies is
   * most of a start, and the sync needs few of them then. May answer from an index that lags a
   * little behind the files (Obsidian's metadata cache); `read` is always current.
   */
  list(folder: string): Promise<NoteMeta[]>;
  read(path: string): Promise<NoteSnapshot | null>;
  /** Creates a note (and missing folders); fails if it exists. */
  create(path: string, frontmatter: Record<string, unknown>, body: string): Promise<void>;
  /**
   * Changes only the given frontmatter keys (value `undefined` deletes the key), leaving every
   * other property and the body as they are — Obsidian's `processFrontMatter`.
   */
  updateFrontmatter(path: string, changes: Record<string, unknown>): Promise<void>;
  /** Replaces the body, keeping the frontmatter. */
  writeBody(path: string, body: string): Promise<void>;
  move(path: string, newPath: string): Promise<void>;
  /** Subscribes to changes made by anyone (the user, another plugin, this sync). */
  watch(listener: (change: NoteChange) => void): () => void;
}
