/**
 * The vault as the note sync sees it: Markdown notes with frontmatter, under folders. Implemented
 * over Obsidian's Vault/MetadataCache/FileManager in the glue (plugin/obsidian/), and over a plain
 * folder on disk for `owp vault-sync`. Paths are vault-relative, '/'-separated, normalized.
 */
export interface NoteMeta {
  path: string;
  /** Parsed frontmatter (empty object when none). */
  frontmatter: Record<string, unknown>;
  /**
   * Why the frontmatter block could not be read (not valid YAML, or not a map of properties);
   * absent when it was. `frontmatter` then holds only an `owp_id` read from its own plain line, so
   * the note stays its task's while the user mends it, and nothing is written to it meanwhile.
   */
  frontmatterError?: string;
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

/**
 * A frontmatter block's properties, read with `parse` (Obsidian's `parseYaml`, or the `yaml`
 * package on disk). A block that does not read as a map of properties reads as none, with the
 * reason, keeping the `owp_id` of an `owp_id: t_…` line.
 */
export function readProperties(
  yaml: string,
  parse: (yaml: string) => unknown,
): Pick<NoteMeta, 'frontmatter' | 'frontmatterError'> {
  let data: unknown;
  try {
    data = parse(yaml);
  } catch (error) {
    return unreadable(yaml, `not valid YAML: ${firstLine(error)}`);
  }
  if (data === null || data === undefined) return { frontmatter: {} };
  if (typeof data !== 'object' || Array.isArray(data)) {
    return unreadable(yaml, 'not a list of properties (key: value lines)');
  }
  return { frontmatter: data as Record<string, unknown> };
}

function unreadable(
  yaml: string,
  reason: string,
): Pick<NoteMeta, 'frontmatter' | 'frontmatterError'> {
  const id = /^owp_id:[ \t]*(["']?)([A-Za-z0-9_-]+)\1[ \t]*$/m.exec(yaml)?.[2];
  return { frontmatter: id ? { owp_id: id } : {}, frontmatterError: reason };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}
