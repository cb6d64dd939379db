/**
 * The note sync's `NoteStore` over a plain folder on disk, for `owp vault-sync`: a vault kept in
 * git, or one an agent edits with its own tools, takes part without Obsidian running. Files are
 * watched with chokidar; a change is reported once the file has been quiet for a moment (so a
 * half-written file is never read), with the note as it is on disk at that time.
 *
 * What Obsidian gives the plugin for free is done here by hand:
 * - writes are atomic (a temporary dot-file, then a rename), so neither the watcher nor another
 *   program ever reads half a note, and a new note never replaces one that appeared meanwhile;
 * - only the owned properties change (through a YAML document: the user's other properties,
 *   order and comments stay);
 * - a rename reaches the sync as one `renamed` change: the watcher sees a delete and an add, and
 *   the two are paired by the note's `owp_id` within a short window. Without that, moving a task
 *   note would read as "deleted" then "a new copy of a known task".
 * Dot-folders (`.git`, `.obsidian`, `.trash`) and non-Markdown files are ignored.
 */
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { NoteChange, NoteSnapshot, NoteStore } from '../../plugin/sync/note-store.ts';
import { noteText, parseNoteText, withBody, withPropertyChanges } from './note-text.ts';

export interface FolderNoteStoreOptions {
  /** The vault: the folder whose Markdown files are the notes. */
  root: string;
  /** A file must be unchanged this long before its change is reported (default 100 ms). */
  settleMs?: number;
  /** A delete waits this long for the add that makes it a rename (default settleMs + 400 ms). */
  renameWindowMs?: number;
  /** Poll instead of native events (network drives, some containers). */
  usePolling?: boolean;
  /** A watcher failure (the sync goes on; the next change is still seen). */
  onError?: (error: Error) => void;
}

/** Half of a possible rename: a task note that appeared, or one that went away. */
/** How long a move's own watcher events are expected before they are forgotten. */
const ECHO_TIMEOUT_MS = 10_000;

type RenameHalf = { kind: 'add'; note: NoteSnapshot } | { kind: 'unlink'; path: string };
type Held = RenameHalf & { timer: ReturnType<typeof setTimeout> };

export class FolderNoteStore implements NoteStore {
  readonly root: string;
  private readonly listeners = new Set<(change: NoteChange) => void>();
  private watcher: FSWatcher | null = null;
  /** The `owp_id` each note last had: a deleted file can no longer say which task it was. */
  private readonly ids = new Map<string, string>();
  /** Adds and deletes of task notes waiting for their other half, by `owp_id`. */
  private readonly held = new Map<string, Held>();
  /** Watcher events expected from the store's own moves, by `add:PATH` / `unlink:PATH`. */
  private readonly echoes = new Map<string, ReturnType<typeof setTimeout>>();
  /** Watcher events are handled one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private temporaryCount = 0;
  private closed = false;

  constructor(private readonly options: FolderNoteStoreOptions) {
    this.root = resolve(options.root);
  }

  /** Starts watching; resolves once the watcher has seen the whole folder. */
  async start(): Promise<void> {
    if (this.watcher) return;
    mkdirSync(this.root, { recursive: true });
    const settle = this.options.settleMs ?? 100;
    const watcher = watch(this.root, {
      ignoreInitial: true,
      ignored: (path, stats) => this.ignored(path, stats?.isFile() ?? false),
      awaitWriteFinish: { stabilityThreshold: settle, pollInterval: Math.max(10, settle / 4) },
      usePolling: this.options.usePolling ?? false,
      interval: 100,
    });
    this.watcher = watcher;
    watcher.on('add', (path) => this.enqueue(() => this.fileAppeared(path)));
    watcher.on('change', (path) => this.enqueue(() => this.fileChanged(path)));
    watcher.on('unlink', (path) => this.enqueue(() => this.fileRemoved(path)));
    watcher.on('error', (error) => this.options.onError?.(error as Error));
    await new Promise<void>((done) => watcher.once('ready', () => done()));
  }

  /** Stops watching; changes still held are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const held of this.held.values()) clearTimeout(held.timer);
    this.held.clear();
    for (const timer of this.echoes.values()) clearTimeout(timer);
    this.echoes.clear();
    await this.watcher?.close();
    this.watcher = null;
    await this.chain;
  }

  // ── NoteStore ──

  async list(folder: string): Promise<NoteSnapshot[]> {
    const start = this.absolute(folder);
    if (!existsSync(start)) return [];
    const notes: NoteSnapshot[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile() && entry.name.endsWith('.md')) {
          const note = this.snapshot(this.relativePath(path));
          if (note) notes.push(note);
        }
      }
    };
    walk(start);
    return notes;
  }

  async read(path: string): Promise<NoteSnapshot | null> {
    return this.snapshot(path);
  }

  async create(path: string, frontmatter: Record<string, unknown>, body: string): Promise<void> {
    const target = this.absolute(path);
    mkdirSync(dirname(target), { recursive: true });
    const temporary = this.temporaryFor(target);
    writeFileSync(temporary, noteText(frontmatter, body));
    try {
      // A hard link fails if the name is taken: "create, never replace", atomically.
      linkSync(temporary, target);
    } finally {
      unlinkSync(temporary);
    }
    this.remember(path, frontmatter);
  }

  async updateFrontmatter(path: string, changes: Record<string, unknown>): Promise<void> {
    const target = this.requireNote(path);
    const text = withPropertyChanges(readFileSync(target, 'utf8'), changes);
    this.replace(target, text);
    this.remember(path, parseNoteText(text).frontmatter);
  }

  async writeBody(path: string, body: string): Promise<void> {
    const target = this.requireNote(path);
    this.replace(target, withBody(readFileSync(target, 'utf8'), body));
  }

  async move(path: string, newPath: string): Promise<void> {
    const from = this.requireNote(path);
    const to = this.absolute(newPath);
    if (existsSync(to)) throw new Error(`Destination file already exists: ${newPath}`);
    mkdirSync(dirname(to), { recursive: true });
    // Told as one rename now, as Obsidian does; the watcher's delete and add that follow are
    // this move's echo, not news.
    this.expectEcho(`unlink:${path}`);
    this.expectEcho(`add:${newPath}`);
    renameSync(from, to);
    const id = this.ids.get(path);
    this.ids.delete(path);
    if (id) this.ids.set(newPath, id);
    const note = this.snapshot(newPath);
    if (note) queueMicrotask(() => this.emit({ kind: 'renamed', oldPath: path, note }));
  }

  watch(listener: (change: NoteChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ── watcher events ──

  private enqueue(handle: () => void): void {
    this.chain = this.chain.then(handle).catch((error: unknown) => {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    });
  }

  private fileAppeared(absolutePath: string): void {
    const path = this.relativePath(absolutePath);
    if (this.isEcho(`add:${path}`)) return;
    const note = this.snapshot(path);
    if (!note) return;
    const id = idOf(note);
    if (!id) return this.emit({ kind: 'created', note });
    const held = this.held.get(id);
    if (held?.kind === 'unlink') {
      clearTimeout(held.timer);
      this.held.delete(id);
      // Deleted and written again where it was (a checkout, an editor saving that way): an edit.
      if (held.path === path) return this.emit({ kind: 'modified', note });
      return this.emit({ kind: 'renamed', oldPath: held.path, note });
    }
    this.hold(id, { kind: 'add', note }, () => this.emit({ kind: 'created', note }));
  }

  private fileChanged(absolutePath: string): void {
    const note = this.snapshot(this.relativePath(absolutePath));
    if (note) this.emit({ kind: 'modified', note });
  }

  private fileRemoved(absolutePath: string): void {
    const path = this.relativePath(absolutePath);
    if (this.isEcho(`unlink:${path}`)) return;
    const id = this.ids.get(path);
    this.ids.delete(path);
    if (!id) return this.emit({ kind: 'deleted', path });
    const held = this.held.get(id);
    if (held?.kind === 'add') {
      clearTimeout(held.timer);
      this.held.delete(id);
      // Written and deleted within the window: it is gone, not moved onto itself.
      if (held.note.path === path) return this.emit({ kind: 'deleted', path });
      return this.emit({ kind: 'renamed', oldPath: path, note: held.note });
    }
    this.hold(id, { kind: 'unlink', path }, () => this.emit({ kind: 'deleted', path }));
  }

  /** A watcher event the store's own move will cause; forgotten if it never comes. */
  private expectEcho(key: string): void {
    const previous = this.echoes.get(key);
    if (previous) clearTimeout(previous);
    this.echoes.set(
      key,
      setTimeout(() => this.echoes.delete(key), ECHO_TIMEOUT_MS),
    );
  }

  private isEcho(key: string): boolean {
    const timer = this.echoes.get(key);
    if (!timer) return false;
    clearTimeout(timer);
    this.echoes.delete(key);
    return true;
  }

  /** Keeps half a possible rename for the window; `expire` reports it alone. */
  private hold(id: string, half: RenameHalf, expire: () => void): void {
    const previous = this.held.get(id);
    if (previous) clearTimeout(previous.timer);
    const timer = setTimeout(
      () => {
        if (this.held.get(id)?.timer !== timer) return;
        this.held.delete(id);
        expire();
      },
      this.options.renameWindowMs ?? (this.options.settleMs ?? 100) + 400,
    );
    this.held.set(id, { ...half, timer });
  }

  private emit(change: NoteChange): void {
    if (this.closed) return;
    for (const listener of [...this.listeners]) listener(change);
  }

  // ── files ──

  /** The note at a vault path as it is on disk now, or null; remembers its `owp_id`. */
  private snapshot(path: string): NoteSnapshot | null {
    const file = this.absolute(path);
    let text: string;
    let mtime: number;
    try {
      mtime = statSync(file).mtimeMs;
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return null;
      throw error;
    }
    const note = parseNoteText(text);
    this.remember(path, note.frontmatter);
    return { path, ...note, mtime: Math.floor(mtime) };
  }

  private remember(path: string, frontmatter: Record<string, unknown>): void {
    const id = frontmatter.owp_id;
    if (typeof id === 'string' && id.trim() !== '') this.ids.set(path, id.trim());
    else this.ids.delete(path);
  }

  /** Replaces a file's text atomically: the watcher and other programs see old or new, whole. */
  private replace(target: string, text: string): void {
    const temporary = this.temporaryFor(target);
    writeFileSync(temporary, text);
    renameSync(temporary, target);
  }

  private temporaryFor(target: string): string {
    return join(
      dirname(target),
      `.${basename(target)}.owp-${process.pid}-${++this.temporaryCount}.tmp`,
    );
  }

  private requireNote(path: string): string {
    const target = this.absolute(path);
    if (!existsSync(target)) throw new Error(`No note at ${path}`);
    return target;
  }

  /** A vault path on disk; refuses any path that would leave the vault. */
  private absolute(path: string): string {
    const target = resolve(this.root, path);
    const inside = relative(this.root, target);
    if (inside.startsWith('..') || resolve(this.root, inside) !== target) {
      throw new Error(`${path} is outside the vault`);
    }
    return target;
  }

  private relativePath(absolutePath: string): string {
    return relative(this.root, absolutePath).split(sep).join('/');
  }

  private ignored(absolutePath: string, isFile: boolean): boolean {
    const path = relative(this.root, absolutePath);
    if (path === '') return false;
    if (path.split(sep).some((segment) => segment.startsWith('.'))) return true;
    return isFile && !path.endsWith('.md');
  }
}

function idOf(note: NoteSnapshot): string | null {
  const id = note.frontmatter.owp_id;
  return typeof id === 'string' && id.trim() !== '' ? id.trim() : null;
}
