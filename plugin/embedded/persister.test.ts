import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { seededRandom } from '../../scheduler/testing/seeded-random.ts';
import { ManualClock } from '../../scheduler/testing/manual-clock.ts';
import { FolderBinaryStore } from '../testing/folder-binary-store.ts';
import { ManualTimers } from '../testing/manual-timers.ts';
import { MemoryBinaryStore } from '../testing/memory-binary-store.ts';
import type { BinaryStore } from './binary-store.ts';
import {
  PersistedDatabaseUnreadable,
  Persister,
  type PersisterOptions,
  sha256Hex,
} from './persister.ts';
import { type JournalStatement, SqlJsDriver } from './sqljs-driver.ts';

/** A real sql.js database with numbered rows: what a reload holds is easy to check. */
class RowDatabase {
  exports = 0;
  /** The highest row in the latest export. */
  exportedUpTo = 0;

  private constructor(readonly driver: SqlJsDriver) {
    driver.exec('CREATE TABLE IF NOT EXISTS rows (n INTEGER PRIMARY KEY)');
  }

  static async open(bytes?: Uint8Array | null): Promise<RowDatabase> {
    return new RowDatabase(await SqlJsDriver.open(bytes ?? undefined));
  }

  last(): number {
    return this.driver.get<{ n: number | null }>('SELECT MAX(n) AS n FROM rows')?.n ?? 0;
  }

  insert(): number {
    const n = this.last() + 1;
    this.driver.run('INSERT INTO rows (n) VALUES ($n)', { n });
    return n;
  }

  exportBytes = (): Uint8Array => {
    this.exports++;
    this.exportedUpTo = this.last();
    return this.driver.export();
  };
}

function persisterFor(
  store: BinaryStore,
  db: RowDatabase,
  timers: ManualTimers,
  options: Partial<PersisterOptions> = {},
) {
  return new Persister(store, {
    exportBytes: db.exportBytes,
    debounceMs: 250,
    timers,
    clock: new ManualClock(),
    ...options,
  });
}

/** Saves `count` rows, one save each, and returns the highest row. */
async function saveRows(persister: Persister, db: RowDatabase, count: number): Promise<number> {
  for (let i = 0; i < count; i++) {
    db.insert();
    persister.markDirty();
    await persister.flush();
  }
  return db.last();
}

async function reload(store: BinaryStore): Promise<RowDatabase | null> {
  const bytes = await new Persister(store, { exportBytes: () => new Uint8Array() }).load();
  return bytes ? RowDatabase.open(bytes) : null;
}

describe('sha256Hex', () => {
  // Large enough for WebCrypto; a view into a larger buffer, of which only its range is hashed.
  const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 31) % 251);
  const view = new Uint8Array(new Uint8Array(3 << 20).buffer, 1 << 20, 1 << 20);
  view.set(bytes);
  const expected = createHash('sha256').update(bytes).digest('hex');

  it('hashes large inputs with WebCrypto, small ones in JS, with the same results', async () => {
    const digest = vi.spyOn(globalThis.crypto.subtle, 'digest');
    try {
      expect(await sha256Hex(bytes)).toBe(expected);
      expect(await sha256Hex(view)).toBe(expected);
      expect(digest).toHaveBeenCalledTimes(2);
      const small = bytes.subarray(0, 1000);
      expect(await sha256Hex(small)).toBe(createHash('sha256').update(small).digest('hex'));
      expect(digest).toHaveBeenCalledTimes(2);
    } finally {
      digest.mockRestore();
    }
  });

  it('falls back to the pure-JS hash, with the same result, when it does not', async () => {
    vi.stubGlobal('crypto', undefined);
    try {
      expect(globalThis.crypto).toBeUndefined();
      expect(await sha256Hex(bytes)).toBe(expected);
      expect(await sha256Hex(view)).toBe(expected);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('Persister: saving', () => {
  it('saves after the debounce window and reloads what it saved', async () => {
    const store = new MemoryBinaryStore();
    const timers = new ManualTimers();
    const db = await RowDatabase.open();
    const persister = persisterFor(store, db, timers);
    const saved: number[] = [];
    persister.onSaved((s) => saved.push(s.generation));

    db.insert();
    persister.markDirty();
    await timers.advance(249);
    expect(saved).toEqual([]);
    await timers.advance(1);
    expect(saved).toEqual([1]);
    expect(await store.list()).toEqual(['owp-db.1.json', 'owp-db.1.sqlite']);

    expect((await reload(store))!.last()).toBe(1);
  });

  it('coalesces many changes within the window into one save', async () => {
    const store = new MemoryBinaryStore();
    const timers = new ManualTimers();
    const db = await RowDatabase.open();
    const persister = persisterFor(store, db, timers);

    for (let i = 0; i < 50; i++) {
      db.insert();
      persister.markDirty();
      await timers.advance(4);
    }
    await timers.advance(250);
    // 50 changes over 200 ms: one save at 250 ms holds them all.
    expect(db.exports).toBe(1);
    expect((await reload(store))!.last()).toBe(50);
  });

  it('never runs two saves at once, and a change during a save schedules exactly one more', async () => {
    const inner = new MemoryBinaryStore();
    let running = 0;
    let maxRunning = 0;
    let release: () => void = () => undefined;
    const gate = () => new Promise<void>((resolve) => (release = resolve));
    let gated = gate();
    const store: BinaryStore = Object.assign(Object.create(inner) as MemoryBinaryStore, {
      write: async (path: string, bytes: Uint8Array) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await gated;
        running--;
        return inner.write(path, bytes);
      },
    });
    const timers = new ManualTimers();
    const db = await RowDatabase.open();
    const persister = persisterFor(store, db, timers);

    db.insert();
    persister.markDirty();
    await timers.advance(250); // the first save starts and waits on the gate
    expect(db.exports).toBe(1);
    for (let i = 0; i < 5; i++) {
      db.insert();
      persister.markDirty();
      await timers.advance(300);
    }
    expect(db.exports).toBe(1); // still one save, held at the gate
    gated = Promise.resolve();
    release();
    await timers.advance(250);
    expect(db.exports).toBe(2); // exactly one more, for the five changes made meanwhile
    await timers.advance(1000);
    expect(db.exports).toBe(2);
    expect(maxRunning).toBe(1);
    expect((await reload(inner))!.last()).toBe(6);
  });

  it('flush waits for the running save, then saves what changed since; reports nothing to do', async () => {
    const store = new MemoryBinaryStore();
    const timers = new ManualTimers();
    const db = await RowDatabase.open();
    const persister = persisterFor(store, db, timers);

    expect(await persister.flush()).toEqual({ wrote: false, saved: null });
    db.insert();
    persister.markDirty();
    const first = await persister.flush();
    expect(first).toMatchObject({ wrote: true, saved: { generation: 1 } });
    expect(await persister.flush()).toEqual({ wrote: false, saved: first.saved });

    db.insert();
    persister.markDirty();
    const [a, b] = await Promise.all([persister.flush(), persister.flush()]);
    expect([a.saved?.generation, b.saved?.generation]).toEqual([2, 2]);
    expect(db.exports).toBe(2);
    expect(timers.pending).toBe(0);
  });

  it('reports a failed save, keeps the change and retries it', async () => {
    const inner = new MemoryBinaryStore();
    let failures = 1;
    const store: BinaryStore = Object.assign(Object.create(inner) as MemoryBinaryStore, {
      write: async (path: string, bytes: Uint8Array) => {
        if (failures-- > 0) throw new Error('disk full');
        return inner.write(path, bytes);
      },
    });
    const timers = new ManualTimers();
    const db = await RowDatabase.open();
    const errors: unknown[] = [];
    const persister = persisterFor(store, db, timers, { onError: (e) => errors.push(e) });

    db.insert();
    persister.markDirty();
    await timers.advance(250);
    expect(errors).toHaveLength(1);
    expect(persister.pending).toBe(true);
    await timers.advance(1000);
    expect(persister.lastSaved).not.toBeNull();
    expect((await reload(inner))!.last()).toBe(1);
  });

  it('ignores changes after close, which flushes first', async () => {
    const store = new MemoryBinaryStore();
    const timers = new ManualTimers();
    const db = await RowDatabase.open();
    const persister = persisterFor(store, db, timers);
    db.insert();
    persister.markDirty();
    expect((await persister.close()).wrote).toBe(true);
    db.insert();
    persister.markDirty();
    expect(timers.pending).toBe(0);
  });
});

describe('Persister: generations on disk', () => {
  it('keeps the newest `keep` generations and never touches other files in the folder', async () => {
    const store = new MemoryBinaryStore();
    await store.writeText('manifest.json', '{"id":"owp-pool"}');
    await store.writeText('data.json', '{}');
    await store.writeText('owp-db.json', 'not ours either');
    const db = await RowDatabase.open();
    const persister = persisterFor(store, db, new ManualTimers(), { keep: 3 });

    await saveRows(persister, db, 6);
    expect(await store.list()).toEqual([
      'data.json',
      'manifest.json',
      'owp-db.4.json',
      'owp-db.4.sqlite',
      'owp-db.5.json',
      'owp-db.5.sqlite',
      'owp-db.6.json',
      'owp-db.6.sqlite',
      'owp-db.json',
    ]);
  });

  it('continues numbering after a reload, past torn leftovers, without reusing a number', async () => {
    const store = new MemoryBinaryStore();
    const first = await RowDatabase.open();
    await saveRows(persisterFor(store, first, new ManualTimers()), first, 2);
    await store.write('owp-db.3.sqlite', new Uint8Array([1, 2, 3])); // a save killed mid-write

    const bytes = await persisterFor(store, first, new ManualTimers()).load();
    const second = await RowDatabase.open(bytes);
    const persister = persisterFor(store, second, new ManualTimers());
    await persister.load();
    await saveRows(persister, second, 1);
    expect(persister.lastSaved?.generation).toBe(4);
    expect(await store.list()).not.toContain('owp-db.3.sqlite');
    expect((await reload(store))!.last()).toBe(3);
  });

  it('falls back to the previous generation when the newest data file is torn', async () => {
    const store = new MemoryBinaryStore();
    const db = await RowDatabase.open();
    await saveRows(persisterFor(store, db, new ManualTimers()), db, 3);
    const torn = (await store.read('owp-db.3.sqlite'))!;
    await store.write('owp-db.3.sqlite', torn.slice(0, torn.length - 100));
    expect((await reload(store))!.last()).toBe(2);
  });

  it('falls back when the newest data file has the right length but a flipped byte', async () => {
    const store = new MemoryBinaryStore();
    const db = await RowDatabase.open();
    await saveRows(persisterFor(store, db, new ManualTimers()), db, 3);
    const bytes = (await store.read('owp-db.3.sqlite'))!;
    bytes[bytes.length - 1] = bytes.at(-1)! ^ 0xff;
    await store.write('owp-db.3.sqlite', bytes);
    expect((await reload(store))!.last()).toBe(2);
  });

  it('falls back when the newest manifest is torn or names another generation', async () => {
    const store = new MemoryBinaryStore();
    const db = await RowDatabase.open();
    await saveRows(persisterFor(store, db, new ManualTimers()), db, 3);
    const manifest = (await store.readText('owp-db.3.json'))!;
    await store.writeText('owp-db.3.json', manifest.slice(0, -1));
    expect((await reload(store))!.last()).toBe(2);

    await store.writeText('owp-db.3.json', manifest.replace('"generation":3', '"generation":2'));
    expect((await reload(store))!.last()).toBe(2);
  });

  it('refuses a file that is not SQLite even when the manifest matches it', async () => {
    const store = new MemoryBinaryStore();
    const persister = new Persister(store, {
      exportBytes: () => new TextEncoder().encode('definitely not a database'),
    });
    persister.markDirty();
    await persister.flush();
    await expect(reload(store)).rejects.toBeInstanceOf(PersistedDatabaseUnreadable);
  });

  it('loads nothing from an empty folder or one holding only a torn first save', async () => {
    const store = new MemoryBinaryStore();
    expect(await reload(store)).toBeNull();
    await store.write('owp-db.1.sqlite', new Uint8Array([0x53, 0x51]));
    await store.writeText('owp-db.1.json', '{"format":"owp-db","gen');
    expect(await reload(store)).toBeNull();
  });

  it('refuses to start empty when every committed generation is damaged, and deletes nothing', async () => {
    const store = new MemoryBinaryStore();
    const db = await RowDatabase.open();
    await saveRows(persisterFor(store, db, new ManualTimers()), db, 3);
    for (const generation of [1, 2, 3]) await store.remove(`owp-db.${generation}.sqlite`);
    await store.write('owp-db.3.sqlite', new Uint8Array(10));
    const before = await store.list();

    const error = await reload(store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PersistedDatabaseUnreadable);
    expect((error as PersistedDatabaseUnreadable).generations).toEqual([3, 2, 1]);
    expect(await store.list()).toEqual(before);
  });
});

/**
 * A store that dies at its `killAt`-th operation, the way a killed process does: a write at that
 * moment leaves a random prefix of its bytes (nothing, some, or all of them), and every operation
 * after it fails. The files it leaves are what the next start finds.
 */
class DyingStore implements BinaryStore {
  private operations = 0;
  dead = false;

  constructor(
    readonly disk: MemoryBinaryStore,
    private readonly killAt: number,
    private readonly random: () => number,
  ) {}

  private step(): void {
    if (this.dead) throw new Error('process killed');
    if (++this.operations === this.killAt) this.dead = true;
  }

  private async tornWrite(path: string, bytes: Uint8Array): Promise<void> {
    this.step();
    if (!this.dead) return this.disk.write(path, bytes);
    await this.disk.write(path, bytes.slice(0, Math.floor(this.random() * (bytes.length + 1))));
    throw new Error('process killed');
  }

  read(path: string) {
    this.step();
    return this.disk.read(path);
  }
  write(path: string, bytes: Uint8Array) {
    return this.tornWrite(path, bytes);
  }
  readText(path: string) {
    this.step();
    return this.disk.readText(path);
  }
  writeText(path: string, text: string) {
    return this.tornWrite(path, new TextEncoder().encode(text));
  }
  /** A killed append leaves a prefix of its text at the end of the file. */
  async append(path: string, text: string) {
    this.step();
    if (!this.dead) return this.disk.append(path, text);
    await this.disk.append(path, text.slice(0, Math.floor(this.random() * (text.length + 1))));
    throw new Error('process killed');
  }
  async remove(path: string) {
    this.step();
    await this.disk.remove(path);
    if (this.dead) throw new Error('process killed');
  }
  list() {
    this.step();
    return this.disk.list();
  }
}

/**
 * One life of a process that will be killed: a store that dies at a random operation, and a
 * persister over it that loads what earlier lives left. Null when the kill came during the load
 * (nothing was written); otherwise the loaded database, with its journal replayed.
 */
async function startLife(
  disk: MemoryBinaryStore,
  random: () => number,
  killWithin: number,
  options: Partial<PersisterOptions>,
) {
  const store = new DyingStore(disk, 1 + Math.floor(random() * killWithin), random);
  const timers = new ManualTimers();
  const open: { db?: RowDatabase } = {};
  const persister = persisterFor(store, await RowDatabase.open(), timers, {
    exportBytes: () => open.db!.exportBytes(),
    ...options,
  });
  let bytes: Uint8Array | null;
  try {
    bytes = await persister.load();
  } catch (error) {
    if (!store.dead) throw error;
    return null;
  }
  const db = (open.db = await RowDatabase.open(bytes));
  db.driver.replay(persister.takeJournal() as JournalStatement[][]);
  return { store, timers, persister, db };
}

describe('Persister: killed mid-save', () => {
  it('after every one of 300 kills, a reload is a valid database with every row reported saved', async () => {
    const random = seededRandom(20260117);
    const disk = new MemoryBinaryStore();
    let reportedSaved = 0;
    let kills = 0;
    let unreported = 0;
    let tornFound = 0;
    for (let life = 0; life < 300; life++) {
      const started = await startLife(disk, random, 40, { keep: 2 + (life % 2) });
      if (!started) {
        kills++;
        continue;
      }
      const { store, timers, persister, db } = started;
      if (persister.skippedOnLoad.length > 0) tornFound++;
      // Every row reported saved by an earlier life is here.
      expect(db.last()).toBeGreaterThanOrEqual(reportedSaved);
      if (db.last() > reportedSaved) unreported++; // a save that committed but was not yet reported
      persister.onSaved(() => (reportedSaved = Math.max(reportedSaved, db.exportedUpTo)));
      for (let change = 0; change < 20 && !store.dead; change++) {
        db.insert();
        persister.markDirty();
        await timers.advance(Math.floor(random() * 400));
      }
      // Still alive: killed now, at a quiet moment or in the middle of a save.
      store.dead = true;
      kills++;
    }
    const final = await reload(disk);
    expect(final!.last()).toBeGreaterThanOrEqual(reportedSaved);
    // The files left behind stay bounded: at most `keep` generations plus one torn leftover.
    expect((await disk.list()).length).toBeLessThanOrEqual(8);
    console.info(
      `persister: ${kills} kills survived, ${reportedSaved} rows reported saved, all present; ` +
        `${tornFound} reloads passed over a torn generation, ` +
        `${unreported} found a save committed just before its kill`,
    );
    expect(tornFound).toBeGreaterThan(0);
    expect(kills).toBe(300);
  });
});

/** Loads the newest generation and replays its journal: what a start does. */
async function reloadJournaled(store: BinaryStore): Promise<RowDatabase | null> {
  const persister = new Persister(store, { exportBytes: () => new Uint8Array() });
  const bytes = await persister.load();
  if (!bytes) return null;
  const db = await RowDatabase.open(bytes);
  db.driver.replay(persister.takeJournal() as JournalStatement[][]);
  return db;
}

/** A database whose committed writes the persister journals, as the embedded backend wires it. */
function journaling(db: RowDatabase, persister: Persister): RowDatabase {
  db.driver.onCommit((writes) => persister.record(writes));
  return db;
}

/**
 * A new database journaling into `store`, whose first row is already in generation 1 (a new
 * folder's first change is a whole generation): every later change is a journal line.
 */
async function journalingAfterGeneration1(
  store: BinaryStore,
  options: Partial<PersisterOptions> = {},
) {
  const timers = new ManualTimers();
  const db = await RowDatabase.open();
  const persister = persisterFor(store, db, timers, options);
  await persister.load();
  journaling(db, persister);
  db.insert();
  await timers.advance(250);
  return { timers, db, persister };
}

describe('Persister: journal', () => {
  it('journals each change after the first generation, and a load replays the journal', async () => {
    const store = new MemoryBinaryStore();
    // Its first change was saved as a whole generation; the next five are journal lines.
    const { db, persister } = await journalingAfterGeneration1(store);
    for (let i = 0; i < 5; i++) db.insert();
    await persister.flush();

    expect(db.exports).toBe(1);
    expect(persister.journaled).toBe(5);
    expect([...store.files.keys()].sort()).toEqual([
      'owp-db.1.journal',
      'owp-db.1.json',
      'owp-db.1.sqlite',
    ]);
    expect((await reload(store))!.last()).toBe(1); // the generation alone
    expect((await reloadJournaled(store))!.last()).toBe(6);
  });

  it('a torn last line ends the replay there', async () => {
    const store = new MemoryBinaryStore();
    const { db, persister } = await journalingAfterGeneration1(store);
    db.insert();
    db.insert();
    await persister.flush();
    // A crash in the middle of the next append.
    await store.append('owp-db.1.journal', '{"seq":3,"entry":[["INSERT INTO rows (n) VAL');

    expect((await reloadJournaled(store))!.last()).toBe(3);
    // A line out of sequence ends it too: nothing after a hole is replayed.
    const whole = new TextDecoder().decode(store.files.get('owp-db.1.journal')!);
    const [first, second] = whole.split('\n');
    const gap = new MemoryBinaryStore();
    for (const [name, bytes] of store.files) gap.files.set(name, bytes);
    gap.files.set(
      'owp-db.1.journal',
      new TextEncoder().encode(
        `${first}\n${second}\n{"seq":4,"entry":[["INSERT INTO rows (n) VALUES ($n)",{"n":99}]]}\n`,
      ),
    );
    expect((await reloadJournaled(gap))!.last()).toBe(3);
  });

  it('writes a whole generation after journalLimit lines, and close() folds the journal in', async () => {
    const store = new MemoryBinaryStore();
    const { timers, db, persister } = await journalingAfterGeneration1(store, { journalLimit: 3 });

    for (let i = 0; i < 3; i++) db.insert(); // the third line reaches the limit
    await timers.advance(250); // generation 2, and its journal starts empty
    expect(db.exports).toBe(2);
    expect(persister.journaled).toBe(0);
    db.insert();
    await persister.flush();
    expect(persister.journaled).toBe(1);

    await persister.close(); // generation 3 holds everything; nothing is left to replay
    expect(db.exports).toBe(3);
    const loader = new Persister(store, { exportBytes: () => new Uint8Array() });
    const bytes = await loader.load();
    expect(loader.lastSaved?.generation).toBe(3);
    expect(loader.takeJournal()).toEqual([]);
    expect((await RowDatabase.open(bytes)).last()).toBe(5);
  });

  it('a quiet spell folds the journal into a generation', async () => {
    const store = new MemoryBinaryStore();
    const { timers, db, persister } = await journalingAfterGeneration1(store, {
      foldAfterIdleMs: 10_000,
    });
    db.insert();
    await timers.advance(9_000);
    db.insert(); // the quiet spell starts again
    await timers.advance(9_000);
    expect(db.exports).toBe(1);
    expect(persister.journaled).toBe(2);

    await timers.advance(1_000 + 250);
    expect(db.exports).toBe(2);
    expect(persister.journaled).toBe(0);
    const loader = new Persister(store, { exportBytes: () => new Uint8Array() });
    expect((await RowDatabase.open(await loader.load())).last()).toBe(3);
    expect(loader.takeJournal()).toEqual([]);
  });

  it('a generation that failed to write: the load falls back and replays across it', async () => {
    const disk = new MemoryBinaryStore();
    let failSqlite = false;
    const store: BinaryStore = Object.assign(Object.create(disk) as MemoryBinaryStore, {
      write: (path: string, bytes: Uint8Array) =>
        failSqlite && path.endsWith('.sqlite')
          ? Promise.reject(new Error('disk full'))
          : disk.write(path, bytes),
    });
    const errors: unknown[] = [];
    const { timers, db } = await journalingAfterGeneration1(store, {
      journalLimit: 2,
      onError: (e) => errors.push(e),
    });
    failSqlite = true;
    db.insert();
    db.insert(); // the limit: generation 2 is taken here, and fails to write
    await timers.advance(250);
    expect(errors).toHaveLength(1);
    db.insert(); // journaled against generation 2, which never committed
    await timers.advance(100);

    expect((await reloadJournaled(disk))!.last()).toBe(4);
  });

  it('a failed append stops the journal until the next generation, which holds every change', async () => {
    const disk = new MemoryBinaryStore();
    let failAppend = false;
    const store: BinaryStore = Object.assign(Object.create(disk) as MemoryBinaryStore, {
      append: (path: string, text: string) =>
        failAppend ? Promise.reject(new Error('disk full')) : disk.append(path, text),
    });
    const errors: unknown[] = [];
    const { timers, db, persister } = await journalingAfterGeneration1(store, {
      onError: (e) => errors.push(e),
    });
    db.insert();
    await persister.flush();
    failAppend = true;
    db.insert();
    await timers.advance(0);
    expect(errors).toHaveLength(1);
    failAppend = false;
    db.insert(); // not journaled: it waits for the generation the failure asked for
    await timers.advance(250);

    expect(db.exports).toBe(2);
    expect((await reloadJournaled(disk))!.last()).toBe(4);
  });
});

describe('Persister: journal, killed mid-write', () => {
  it('after every one of 300 kills, a reload holds every row whose journal line had landed', async () => {
    const random = seededRandom(20261126);
    const disk = new MemoryBinaryStore();
    let durable = 0;
    let tornLines = 0;
    for (let life = 0; life < 300; life++) {
      const started = await startLife(disk, random, 60, {
        journalLimit: 2 + (life % 7),
        keep: 2 + (life % 2),
      });
      if (!started) continue;
      const { store, timers, persister, db } = started;
      expect(db.last()).toBeGreaterThanOrEqual(durable);
      journaling(db, persister);
      for (let change = 0; change < 20 && !store.dead; change++) {
        db.insert();
        if (random() < 0.3) {
          try {
            await persister.flush();
            durable = Math.max(durable, db.last());
          } catch {
            // killed during the flush: nothing more is promised
          }
        }
        await timers.advance(Math.floor(random() * 400));
      }
      const text = new TextDecoder().decode(
        disk.files.get([...disk.files.keys()].filter((k) => k.endsWith('.journal')).at(-1)!) ??
          new Uint8Array(),
      );
      if (text !== '' && !text.endsWith('\n')) tornLines++;
      store.dead = true;
    }
    const final = await reloadJournaled(disk);
    expect(final!.last()).toBeGreaterThanOrEqual(durable);
    expect(durable).toBeGreaterThan(100);
    expect(tornLines).toBeGreaterThan(0);
    console.info(
      `persister journal: 300 kills, ${durable} rows durable, all present; ${tornLines} torn lines passed over`,
    );
  });
});

describe('Persister over a real folder: a writer process killed with SIGKILL', () => {
  const folders: string[] = [];
  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  /** Runs the writer until it reported `minSaves` saves plus a random extra moment, then kills it. */
  function runAndKill(
    folder: string,
    minSaves: number,
    extraMs: number,
    mode: 'generations' | 'journal' = 'generations',
  ) {
    return new Promise<{ loaded: number; saved: number }>((resolve, reject) => {
      const writer = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(import.meta.dirname, '../testing/persister-crash-writer.ts'),
          folder,
          '1000000',
          mode,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let loaded = -1;
      let saved = 0;
      let saves = 0;
      let buffer = '';
      let stderr = '';
      writer.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      writer.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let end: number;
        while ((end = buffer.indexOf('\n')) >= 0) {
          const [word, value] = buffer.slice(0, end).split(' ');
          buffer = buffer.slice(end + 1);
          if (word === 'loaded') loaded = Number(value);
          if (word === 'saved') {
            saved = Number(value);
            if (++saves === minSaves) setTimeout(() => writer.kill('SIGKILL'), extraMs);
          }
        }
      });
      writer.on('exit', (_code, signal) => {
        if (signal === 'SIGKILL') resolve({ loaded, saved });
        else reject(new Error(`writer exited without being killed: ${stderr}`));
      });
    });
  }

  /**
   * Kills the writer six times at random moments; after each, the next run and a reload (with
   * `reloadWith`) hold every row any run reported saved. Returns how many rows were reported.
   */
  async function killSixTimes(
    mode: 'generations' | 'journal',
    seed: number,
    savesBeforeKill: [min: number, spread: number],
    reloadWith: (store: BinaryStore) => Promise<RowDatabase | null>,
  ): Promise<{ folder: string; reportedSaved: number }> {
    const folder = await mkdtemp(join(tmpdir(), `owp-persister-kill-${mode}-`));
    folders.push(folder);
    const random = seededRandom(seed);
    let reportedSaved = 0;
    for (let kill = 0; kill < 6; kill++) {
      const [min, spread] = savesBeforeKill;
      const saves = min + Math.floor(random() * spread);
      const run = await runAndKill(folder, saves, Math.floor(random() * 40), mode);
      // The writer's own load saw everything an earlier run reported saved.
      expect(run.loaded).toBeGreaterThanOrEqual(reportedSaved);
      reportedSaved = Math.max(reportedSaved, run.saved);
      const reloaded = await reloadWith(new FolderBinaryStore(folder));
      expect(reloaded!.last()).toBeGreaterThanOrEqual(reportedSaved);
    }
    console.info(`persister, ${mode} (real process): 6 SIGKILLs survived, ${reportedSaved} rows`);
    return { folder, reportedSaved };
  }

  it('every restart loads a valid database holding every row reported saved', async () => {
    await killSixTimes('generations', 7, [3, 5], reload);
  }, 60_000);

  it('journaling, every restart replays to a database holding every row reported durable', async () => {
    const { folder } = await killSixTimes('journal', 11, [20, 80], reloadJournaled);
    expect((await readdir(folder)).some((name) => name.endsWith('.journal'))).toBe(true);
  }, 60_000);
});
