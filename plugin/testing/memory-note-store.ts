import type { NoteChange, NoteSnapshot, NoteStore } from '../sync/note-store.ts';

interface StoredNote {
  frontmatter: Record<string, unknown>;
  body: string;
  mtime: number;
  /** Set while the user has left the properties as text that does not read (`breakProperties`). */
  unreadable?: string;
}

/**
 * A `NoteStore` in memory, for fast unit tests of the note sync. Like Obsidian it tells listeners
 * about a change after the write has finished (a microtask later), and it hands out copies, so a
 * caller can never change a note by mutating what it read. `delete` and `edit` stand in for the
 * user, who has more ways to change a vault than the port offers the sync.
 */
export class MemoryNoteStore implements NoteStore {
  private readonly notes = new Map<string, StoredNote>();
  private readonly listeners = new Set<(change: NoteChange) => void>();
  /** How many writes (create, updateFrontmatter, writeBody, move) each path received. */
  readonly writes = new Map<string, number>();
  /** Changes not told yet, while `holdChanges` holds them. */
  private held: NoteChange[] | null = null;

  constructor(private readonly now: () => number = () => 0) {}

  async list(folder: string): Promise<NoteSnapshot[]> {
    const prefix = folder === '' ? '' : `${folder}/`;
    return [...this.notes.keys()].filter((p) => p.startsWith(prefix)).map((p) => this.snapshot(p));
  }

  async read(path: string): Promise<NoteSnapshot | null> {
    return this.notes.has(path) ? this.snapshot(path) : null;
  }

  async create(path: string, frontmatter: Record<string, unknown>, body: string): Promise<void> {
    if (this.notes.has(path)) throw new Error(`File already exists: ${path}`);
    this.notes.set(path, { frontmatter: structuredClone(frontmatter), body, mtime: this.now() });
    this.wrote(path);
    this.emit({ kind: 'created', note: this.snapshot(path) });
  }

  async updateFrontmatter(path: string, changes: Record<string, unknown>): Promise<void> {
    const note = this.require(path);
    // As Obsidian's processFrontMatter and the folder store do: never overwrite what does not read.
    if (note.unreadable) throw new Error(`The properties of ${path} are not valid YAML`);
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete note.frontmatter[key];
      else note.frontmatter[key] = structuredClone(value);
    }
    this.touch(path, note);
  }

  async writeBody(path: string, body: string): Promise<void> {
    const note = this.require(path);
    note.body = body;
    this.touch(path, note);
  }

  async move(path: string, newPath: string): Promise<void> {
    const note = this.require(path);
    if (this.notes.has(newPath)) throw new Error(`Destination file already exists: ${newPath}`);
    this.notes.delete(path);
    this.notes.set(newPath, note);
    this.wrote(newPath);
    this.emit({ kind: 'renamed', oldPath: path, note: this.snapshot(newPath) });
  }

  watch(listener: (change: NoteChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ── the user's side ──

  /** The user deletes a note. */
  async delete(path: string): Promise<void> {
    this.require(path);
    this.notes.delete(path);
    this.emit({ kind: 'deleted', path });
  }

  /** The user edits a note: properties (undefined deletes one) and optionally the body. */
  async edit(path: string, changes: Record<string, unknown>, body?: string): Promise<void> {
    const note = this.require(path);
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete note.frontmatter[key];
      else note.frontmatter[key] = structuredClone(value);
    }
    if (body !== undefined) note.body = body;
    this.touch(path, note);
  }

  /**
   * The user leaves a note's properties as text that does not read (an unquoted colon, say): the
   * store then reads it as Obsidian does — no properties, the reason, and the `owp_id` line's id —
   * until `mendProperties`, which brings the properties back as they were (plus `changes`).
   */
  async breakProperties(path: string, reason = 'not valid YAML: bad indentation'): Promise<void> {
    const note = this.require(path);
    note.unreadable = reason;
    this.touch(path, note);
  }

  async mendProperties(path: string, changes: Record<string, unknown> = {}): Promise<void> {
    const note = this.require(path);
    delete note.unreadable;
    await this.edit(path, changes);
  }

  /**
   * Holds every change until the returned function is called, as a watcher that has not told of a
   * change yet (the folder store waits for a file to settle, and for the other half of a rename).
   */
  holdChanges(): () => void {
    this.held ??= [];
    return () => {
      const changes = this.held ?? [];
      this.held = null;
      changes.forEach((change) => this.emit(change));
    };
  }

  /** Puts a note in place without telling anyone, as if it was there before the sync started. */
  seed(path: string, frontmatter: Record<string, unknown>, body = ''): void {
    this.notes.set(path, { frontmatter: structuredClone(frontmatter), body, mtime: this.now() });
  }

  paths(): string[] {
    return [...this.notes.keys()].sort();
  }

  /** The note as it is now (a copy), or throws. */
  get(path: string): NoteSnapshot {
    this.require(path);
    return this.snapshot(path);
  }

  private touch(path: string, note: StoredNote): void {
    note.mtime = this.now();
    this.wrote(path);
    this.emit({ kind: 'modified', note: this.snapshot(path) });
  }

  private wrote(path: string): void {
    this.writes.set(path, (this.writes.get(path) ?? 0) + 1);
  }

  private require(path: string): StoredNote {
    const note = this.notes.get(path);
    if (!note) throw new Error(`No note at ${path}`);
    return note;
  }

  private snapshot(path: string): NoteSnapshot {
    const note = this.require(path);
    const id = note.frontmatter.owp_id;
    return {
      path,
      ...(note.unreadable
        ? {
            frontmatter: typeof id === 'string' ? { owp_id: id } : {},
            frontmatterError: note.unreadable,
          }
        : { frontmatter: structuredClone(note.frontmatter) }),
      body: note.body,
      mtime: note.mtime,
    };
  }

  private emit(change: NoteChange): void {
    if (this.held) {
      this.held.push(change);
      return;
    }
    queueMicrotask(() => {
      for (const listener of [...this.listeners]) listener(change);
    });
  }
}
