import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { systemClock, type Clock } from '../../scheduler/clock.ts';
import type { BinaryStore } from './binary-store.ts';
import { platformTimers } from '../../scheduler/timers.ts';

/** The timer functions the persister schedules saves with; injected so tests drive time. */
export interface PersisterTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PersisterOptions {
  /** The whole database as bytes (`SqlJsDriver.export()`); called from a timer, never mid-write. */
  exportBytes: () => Uint8Array;
  /** Changes within this window after the first unsaved one are saved together (default 250 ms). */
  debounceMs?: number;
  /** Generations kept on disk, the newest included (default 3, at least 2). */
  keep?: number;
  /** File names start with this (default `owp-db`): `owp-db.<n>.sqlite`, `owp-db.<n>.json`. */
  baseName?: string;
  clock?: Clock;
  timers?: PersisterTimers;
  /** Hears failed background saves (they are retried); `flush()` rejects instead. */
  onError?: (error: unknown) => void;
  /**
   * Journal entries after which the next save is a whole generation again (default 500): they
   * bound how much a start replays.
   */
  journalLimit?: number;
  /**
   * After this long without a change, a journal is folded into a new generation (default 30 s),
   * so a start after a crash or a killed app rarely has much to replay.
   */
  foldAfterIdleMs?: number;
}

/** A journal line: its place in the journal (from 1) and what the host recorded. */
interface JournalLine {
  seq: number;
  entry: unknown;
}

/** One generation on disk, as its manifest describes it. */
export interface SavedGeneration {
  generation: number;
  bytes: number;
  sha256: string;
  /** When it was saved, ms since the epoch. */
  savedAt: number;
}

export interface SaveResult {
  /** Whether this call wrote a new generation (false: nothing had changed since the last save). */
  wrote: boolean;
  /** The newest generation on disk after the call, or null when nothing was ever saved. */
  saved: SavedGeneration | null;
}

/**
 * Thrown by `load()` when generations were committed (their manifests are whole) but none of them
 * verifies. Starting empty would silently replace the user's data, and the next save would delete
 * the damaged files, so the host must stop and tell the user instead.
 */
export class PersistedDatabaseUnreadable extends Error {
  constructor(readonly generations: number[]) {
    super(
      `None of the saved database generations (${generations.join(', ')}) could be verified; ` +
        'the files were left untouched.',
    );
    this.name = 'PersistedDatabaseUnreadable';
  }
}

interface Manifest {
  format: 'owp-db';
  generation: number;
  file: string;
  bytes: number;
  sha256: string;
  saved_at: number;
}

const SQLITE_HEADER = new TextEncoder().encode('SQLite format 3\0');

/** Below this size the pure-JS hash takes about a millisecond: not worth a trip to WebCrypto. */
const NATIVE_HASH_FROM_BYTES = 256 * 1024;

/**
 * SHA-256 as lower-case hex. Large inputs go to WebCrypto where the platform has it (Obsidian on
 * desktop and mobile, Node): native, and off the main thread, so a save does not freeze the app
 * while a database of megabytes is hashed. Small ones, or a platform without it, use the pure-JS
 * hash: the same result, synchronously.
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // The global `crypto` (a browser's or Node's WebCrypto), not a module: this runs in both.
  const subtle = typeof crypto === 'undefined' ? undefined : crypto.subtle;
  if (subtle && bytes.length >= NATIVE_HASH_FROM_BYTES) {
    const digest = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
    return bytesToHex(new Uint8Array(digest));
  }
  return bytesToHex(sha256(bytes));
}
const DEFAULT_TIMERS: PersisterTimers = platformTimers;

/**
 * Saves the embedded database to a `BinaryStore` after changes, without ever leaving a torn file
 * behind.
 *
 * Each save writes a new generation: first the data file `owp-db.<n>.sqlite`, then — only once
 * that write resolved — its manifest `owp-db.<n>.json` with the length and SHA-256 of the data.
 * The manifest is the commit: a generation without a whole manifest never happened. Nothing is
 * ever overwritten in place (Obsidian's adapter writes files in place, so a crash mid-write leaves
 * a torn file), and generation numbers only grow, so a torn write can damage only the generation
 * being written. `load()` scans the folder and takes the newest generation whose manifest parses
 * and whose data matches it, falling back generation by generation. A single pointer file was
 * rejected: it would have to be overwritten in place, and a torn pointer would hide every
 * generation.
 *
 * Saves are coalesced: the first change starts a `debounceMs` window, everything changed within it
 * is saved together, at most one save runs at a time, and a change during a save schedules exactly
 * one more. "Saved" is reported only after the manifest write resolved.
 *
 * Between generations the host may `record()` each change instead (the database's committed
 * writes): a line appended to `owp-db.<n>.journal`, where n is the generation the journal extends.
 * Appending a line costs a fraction of a millisecond where a generation costs the whole database;
 * a generation is written again after `journalLimit` lines, after a quiet spell of
 * `foldAfterIdleMs`, and on `close()`. The journal switches
 * to the new generation's number at the moment its bytes are taken, so generation n+1 is exactly
 * generation n plus journal n. `load()` therefore takes the newest generation that verifies, b,
 * and hands back the lines of journals b, b+1, … in order (`takeJournal()`), stopping at the first
 * line that is torn or out of sequence: a crash can tear only the last append.
 */
export class Persister {
  private readonly debounceMs: number;
  private readonly keep: number;
  private readonly baseName: string;
  private readonly clock: Clock;
  private readonly timers: PersisterTimers;
  private readonly listeners = new Set<(saved: SavedGeneration) => void>();

  private dirty = false;
  private timer: unknown = null;
  private saving: Promise<SavedGeneration> | null = null;
  private closed = false;
  private scanned = false;
  private nextGeneration = 1;
  /** Generations believed whole, newest first: verified, written here, or older than those. */
  private good: number[] = [];
  private latest: SavedGeneration | null = null;
  private skipped: number[] = [];
  private readonly journalLimit: number;
  /** The generation the journal extends, or null when changes must wait for a whole save. */
  private journalTo: number | null = null;
  private journalSeq = 0;
  private appendQueue: Array<{ file: string; text: string }> = [];
  private appending: Promise<void> | null = null;
  private loadedJournal: unknown[] = [];
  private readonly foldAfterIdleMs: number;
  private idleTimer: unknown = null;

  constructor(
    private readonly store: BinaryStore,
    private readonly options: PersisterOptions,
  ) {
    this.debounceMs = options.debounceMs ?? 250;
    this.keep = Math.max(2, options.keep ?? 3);
    this.baseName = options.baseName ?? 'owp-db';
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? DEFAULT_TIMERS;
    this.journalLimit = Math.max(1, options.journalLimit ?? 500);
    this.foldAfterIdleMs = options.foldAfterIdleMs ?? 30_000;
  }

  /** The newest generation on disk, as far as this persister knows. */
  get lastSaved(): SavedGeneration | null {
    return this.latest;
  }

  /** Generations the last `load()` passed over because they were torn or failed verification. */
  get skippedOnLoad(): readonly number[] {
    return this.skipped;
  }

  /** Whether changes are waiting to be saved (or being saved, or appended to the journal). */
  get pending(): boolean {
    return this.dirty || this.saving !== null || this.appending !== null;
  }

  /** Whether a change now is journaled (a generation to extend exists), rather than waiting. */
  get journaling(): boolean {
    return this.journalTo !== null;
  }

  /** Journal lines written since the newest generation (they are replayed on the next load). */
  get journaled(): number {
    return this.journalTo === null ? 0 : this.journalSeq;
  }

  /**
   * The bytes of the newest generation that verifies, or null when nothing was ever saved.
   * Throws `PersistedDatabaseUnreadable` when committed generations exist but none verifies.
   * Also reopens a closed persister: a load begins a session.
   */
  async load(): Promise<Uint8Array | null> {
    this.closed = false;
    this.dirty = false;
    const generations = await this.scan();
    this.scanned = true;
    const committed: number[] = [];
    this.skipped = generations.all.filter((g) => !generations.withManifest.includes(g));
    for (const generation of generations.withManifest) {
      const manifest = parseManifest(await this.store.readText(this.manifestName(generation)));
      if (!manifest || manifest.generation !== generation) {
        this.skipped.push(generation); // torn: never committed
        continue;
      }
      committed.push(generation);
      const bytes = await this.store.read(this.dataName(generation));
      if (!bytes || !(await matchesManifest(bytes, manifest))) {
        this.skipped.push(generation);
        continue;
      }
      // Older generations with a manifest are presumed whole (they were verified when they were
      // newest); newer ones failed and go with the next save.
      this.good = generations.withManifest.filter((g) => g <= generation);
      this.latest = {
        generation,
        bytes: manifest.bytes,
        sha256: manifest.sha256,
        savedAt: manifest.saved_at,
      };
      await this.readJournals(generation, generations.journals);
      return bytes;
    }
    if (committed.length > 0) throw new PersistedDatabaseUnreadable(committed);
    this.good = [];
    this.loadedJournal = [];
    this.journalTo = null;
    return null;
  }

  /**
   * The journal entries the last `load()` found after its generation, in order, once: the host
   * applies them to the loaded database before anything else writes.
   */
  takeJournal(): unknown[] {
    const entries = this.loadedJournal;
    this.loadedJournal = [];
    return entries;
  }

  /**
   * Journals one change. Before the first generation (or after a failed append) there is nothing
   * to extend: the change is saved with the next generation instead, as `markDirty()` would.
   */
  record(entry: unknown): void {
    if (this.closed) return;
    if (this.journalTo === null) {
      this.markDirty();
      return;
    }
    const line: JournalLine = { seq: ++this.journalSeq, entry };
    this.enqueueAppend(this.journalName(this.journalTo), `${JSON.stringify(line)}\n`);
    if (this.journalSeq >= this.journalLimit) this.markDirty();
    else this.foldWhenIdle();
  }

  /** (Re)starts the quiet-spell timer after which the journal becomes a generation. */
  private foldWhenIdle(): void {
    if (this.idleTimer !== null) this.timers.clearTimeout(this.idleTimer);
    this.idleTimer = this.timers.setTimeout(() => {
      this.idleTimer = null;
      if (this.journaled > 0 && !this.closed) this.markDirty();
    }, this.foldAfterIdleMs);
  }

  /** Reads journals `base`, `base`+1, … and keeps their entries up to the first bad line. */
  private async readJournals(base: number, journals: number[]): Promise<void> {
    const chain = journals.filter((n) => n >= base).sort((a, b) => a - b);
    const entries: unknown[] = [];
    read: for (const journal of chain) {
      const text = (await this.store.readText(this.journalName(journal))) ?? '';
      let expected = 1;
      for (const raw of text.split('\n')) {
        if (raw === '') continue;
        const line = parseJournalLine(raw);
        if (!line || line.seq !== expected) break read;
        entries.push(line.entry);
        expected++;
      }
    }
    this.loadedJournal = entries;
    this.journalSeq = 0;
    if (chain.length === 0) {
      this.journalTo = base;
      return;
    }
    // Appending after a replayed (or torn) journal would mix two runs in one file: the first
    // change of this session goes into a new generation instead, and the journal restarts there.
    this.journalTo = null;
    this.dirty = true;
  }

  private enqueueAppend(file: string, text: string): void {
    const last = this.appendQueue.at(-1);
    if (last && last.file === file) last.text += text;
    else this.appendQueue.push({ file, text });
    this.appending ??= this.drainAppends();
  }

  /** Appends queued lines one write at a time, so they land in the order they were recorded. */
  private async drainAppends(): Promise<void> {
    try {
      while (this.appendQueue.length > 0) {
        const chunk = this.appendQueue.shift()!;
        try {
          await this.store.append(chunk.file, chunk.text);
        } catch (error) {
          // A hole in the journal would make every later line unreplayable: stop journaling
          // until the next generation, which holds every change, and write one.
          this.appendQueue = [];
          this.journalTo = null;
          this.options.onError?.(error);
          this.markDirty();
        }
      }
    } finally {
      this.appending = null;
    }
  }

  /** Notes that the database changed; a save follows within `debounceMs`. */
  markDirty(): void {
    if (this.closed) return;
    this.dirty = true;
    this.schedule(this.debounceMs);
  }

  /** Saves now if anything changed (waiting for a save already running first). */
  async flush(): Promise<SaveResult> {
    this.cancelTimer();
    while (this.saving || this.appending) {
      await this.saving?.catch(() => undefined);
      await this.appending;
    }
    if (!this.dirty) return { wrote: false, saved: this.latest };
    const saved = await this.startSave();
    return { wrote: true, saved };
  }

  /**
   * Flushes, then ignores further changes: for the host's shutdown. A journal is folded into a
   * new generation first, so the next start has nothing to replay.
   */
  async close(): Promise<SaveResult> {
    try {
      if (this.journaled > 0) this.dirty = true;
      return await this.flush();
    } finally {
      this.closed = true;
      this.cancelTimer();
      if (this.idleTimer !== null) this.timers.clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
  }

  /** Hears each committed save; returns the unsubscribe function. */
  onSaved(listener: (saved: SavedGeneration) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private schedule(delayMs: number): void {
    if (this.timer !== null || this.saving || this.closed) return;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      if (this.dirty && !this.saving && !this.closed) {
        this.startSave().catch(() => undefined); // reported through onError by startSave
      }
    }, delayMs);
  }

  private cancelTimer(): void {
    if (this.timer === null) return;
    this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Exports and writes one generation. Sets `saving` synchronously so saves never overlap. */
  private startSave(): Promise<SavedGeneration> {
    this.cancelTimer();
    const save = (async () => {
      this.dirty = false;
      let bytes: Uint8Array;
      try {
        bytes = this.options.exportBytes();
      } catch (error) {
        this.dirty = true;
        throw error;
      }
      // From here on, changes are journaled against the generation these bytes become (once the
      // folder has been scanned, its number is known now): it holds everything recorded before.
      const generation = this.scanned ? this.nextGeneration++ : null;
      this.journalTo = generation;
      this.journalSeq = 0;
      try {
        return await this.writeGeneration(bytes, generation);
      } catch (error) {
        this.dirty = true;
        throw error;
      }
    })();
    this.saving = save;
    save.then(
      (saved) => {
        this.saving = null;
        for (const listener of this.listeners) {
          try {
            listener(saved);
          } catch (error) {
            this.options.onError?.(error);
          }
        }
        if (this.dirty) this.schedule(this.debounceMs);
      },
      (error: unknown) => {
        this.saving = null;
        this.options.onError?.(error);
        // Retry later rather than spin: the store may be full or briefly unavailable.
        if (this.dirty) this.schedule(Math.max(this.debounceMs, 1000));
      },
    );
    return save;
  }

  private async writeGeneration(
    bytes: Uint8Array,
    numbered: number | null,
  ): Promise<SavedGeneration> {
    if (!this.scanned) {
      // Saving without a load (a new database): whatever has a manifest counts as good.
      this.good = (await this.scan()).withManifest;
      this.scanned = true;
    }
    const generation = numbered ?? this.nextGeneration++;
    const saved: SavedGeneration = {
      generation,
      bytes: bytes.length,
      sha256: await sha256Hex(bytes),
      savedAt: this.clock.now(),
    };
    await this.store.write(this.dataName(generation), bytes);
    const manifest: Manifest = {
      format: 'owp-db',
      generation,
      file: this.dataName(generation),
      bytes: saved.bytes,
      sha256: saved.sha256,
      saved_at: saved.savedAt,
    };
    // The commit point: once this write resolved, load() will find this generation.
    await this.store.writeText(this.manifestName(generation), JSON.stringify(manifest));
    this.latest = saved;
    this.good = [generation, ...this.good];
    await this.removeStale();
    return saved;
  }

  /**
   * Deletes every generation but the newest `keep` good ones: old, torn and failed alike; and the
   * journals older than the oldest kept generation (a load falling back to it replays the rest).
   */
  private async removeStale(): Promise<void> {
    const kept = new Set(this.good.slice(0, this.keep));
    this.good = this.good.slice(0, this.keep);
    const oldestKept = Math.min(...kept);
    // The save is already committed: a failed cleanup leaves files behind, it loses nothing.
    try {
      const found = await this.scan();
      for (const generation of found.all) {
        if (kept.has(generation)) continue;
        // Manifest first: a crash in between leaves a data file without one, which load() skips.
        await this.store.remove(this.manifestName(generation));
        await this.store.remove(this.dataName(generation));
      }
      for (const journal of found.journals) {
        if (journal < oldestKept) await this.store.remove(this.journalName(journal));
      }
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /** Generations present in the folder, newest first, and the journals. */
  private async scan(): Promise<{ all: number[]; withManifest: number[]; journals: number[] }> {
    const pattern = new RegExp(`^${escapeRegExp(this.baseName)}\\.(\\d+)\\.(sqlite|json|journal)$`);
    const all = new Set<number>();
    const withManifest = new Set<number>();
    const journals = new Set<number>();
    for (const name of await this.store.list()) {
      // By the last segment, so a store that lists full paths still has its generations found
      // (and numbering never restarts over a file that exists).
      const match = pattern.exec(name.split('/').pop() ?? '');
      if (!match) continue;
      const generation = Number(match[1]);
      if (match[2] === 'journal') {
        journals.add(generation);
        continue;
      }
      all.add(generation);
      if (match[2] === 'json') withManifest.add(generation);
    }
    const newestFirst = (set: Set<number>) => [...set].sort((a, b) => b - a);
    // Never reuse a number, not even a torn one's or a journal's: every write goes to a file no
    // one relies on.
    const newest = newestFirst(new Set([...all, ...journals]))[0] ?? 0;
    this.nextGeneration = Math.max(this.nextGeneration, newest + 1);
    return {
      all: newestFirst(all),
      withManifest: newestFirst(withManifest),
      journals: newestFirst(journals),
    };
  }

  private dataName(generation: number): string {
    return `${this.baseName}.${generation}.sqlite`;
  }

  private manifestName(generation: number): string {
    return `${this.baseName}.${generation}.json`;
  }

  private journalName(generation: number): string {
    return `${this.baseName}.${generation}.journal`;
  }
}

function parseJournalLine(raw: string): JournalLine | null {
  try {
    const value = JSON.parse(raw) as Partial<JournalLine> | null;
    if (value && typeof value === 'object' && Number.isSafeInteger(value.seq) && 'entry' in value)
      return value as JournalLine;
  } catch {
    // torn: the last append of a crashed session
  }
  return null;
}

function parseManifest(text: string | null): Manifest | null {
  if (!text) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null; // a torn manifest is never valid JSON: the closing brace is written last
  }
  const m = value as Partial<Manifest> | null;
  const valid =
    m !== null &&
    typeof m === 'object' &&
    m.format === 'owp-db' &&
    Number.isSafeInteger(m.generation) &&
    Number.isSafeInteger(m.bytes) &&
    typeof m.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(m.sha256) &&
    typeof m.saved_at === 'number';
  return valid ? (m as Manifest) : null;
}

/** Length, SHA-256 and the SQLite header: the file is exactly what was exported. */
async function matchesManifest(bytes: Uint8Array, manifest: Manifest): Promise<boolean> {
  if (bytes.length !== manifest.bytes || bytes.length < SQLITE_HEADER.length) return false;
  for (let i = 0; i < SQLITE_HEADER.length; i++) {
    if (bytes[i] !== SQLITE_HEADER[i]) return false;
  }
  return (await sha256Hex(bytes)) === manifest.sha256;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
