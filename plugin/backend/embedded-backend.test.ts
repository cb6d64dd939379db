import { describe, expect, it } from 'vitest';
import { runApiContract } from '../../protocol/conformance/api.case.test.ts';
import { ManualClock } from '../../scheduler/testing/manual-clock.ts';
import { ManualTimers } from '../testing/manual-timers.ts';
import { MemoryBinaryStore } from '../testing/memory-binary-store.ts';
import { SqlJsDriver } from '../embedded/sqljs-driver.ts';
import { savedAtOlderSchema } from '../testing/older-pool.ts';
import { EmbeddedBackend } from './embedded-backend.ts';

// The API conformance suite against the embedded backend, as the plugin runs it: sql.js, saved
// through the persister to a store (in memory here), with the real timers.
runApiContract('embedded backend (sql.js + persister)', async () => {
  const backend = new EmbeddedBackend({
    store: new MemoryBinaryStore(),
    credentials: { admin: true },
  });
  await backend.start();
  return {
    admin: backend.api,
    asWorker: (workerToken) => backend.apiAs({ workerToken }),
    anonymous: backend.apiAs({}),
    close: async () => {
      await backend.stop();
    },
  };
});

/** A backend on a given store with hand-driven time, as a plugin session. */
function session(store: MemoryBinaryStore, workerToken?: string) {
  const clock = new ManualClock();
  const timers = new ManualTimers();
  const errors: unknown[] = [];
  const backend = new EmbeddedBackend({
    store,
    credentials: { admin: true, workerToken },
    clock,
    timers,
    onError: (error) => errors.push(error),
  });
  return { backend, clock, timers, errors };
}

describe('EmbeddedBackend', () => {
  it('saves changes after the debounce window, and a new session finds them', async () => {
    const store = new MemoryBinaryStore();
    const first = session(store);
    await first.backend.start();
    await first.backend.api.upsertRepo({ repo: 'demo' });
    const task = await first.backend.api.createTask({ repo: 'demo', title: 'Persist me' });
    await first.timers.advance(250);
    expect(first.backend.persister.lastSaved).not.toBeNull();
    expect(first.backend.persister.pending).toBe(false);

    // The first session is simply abandoned, as when Obsidian is killed.
    const second = session(store);
    await second.backend.start();
    expect((await second.backend.api.getTask(task.task_id)).title).toBe('Persist me');
    await second.backend.stop();
  });

  it('reports each save with the newest event it holds', async () => {
    const store = new MemoryBinaryStore();
    const first = session(store);
    await first.backend.start();
    const saves: Array<{ generation: number; lastEventSeq: number }> = [];
    first.backend.onSaved(({ generation, lastEventSeq }) =>
      saves.push({ generation, lastEventSeq }),
    );
    // The new database was saved as the session started (its schema, no event yet): every
    // change since went into its journal, one line each, and no second generation was written.
    expect(first.backend.persister.lastSaved?.generation).toBe(1);
    await first.backend.api.upsertRepo({ repo: 'demo' });
    await first.timers.advance(250);
    await first.backend.api.createTask({ repo: 'demo', title: 'One' });
    await first.backend.api.createTask({ repo: 'demo', title: 'Two' });
    await first.timers.advance(250);
    expect(saves).toEqual([]);
    expect(first.backend.persister.journaled).toBe(3);
    expect([...store.files.keys()].sort()).toEqual([
      'owp-db.1.journal',
      'owp-db.1.json',
      'owp-db.1.sqlite',
    ]);

    // Not stopped: what a crash leaves. The next start replays the journal.
    const second = session(store);
    await second.backend.start();
    expect((await second.backend.api.events(0)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await second.backend.api.listTasks()).tasks.map((t) => t.title).sort()).toEqual([
      'One',
      'Two',
    ]);
    // Stopping folds the journal into a generation: the next start has nothing to replay.
    await second.backend.stop();
    expect(second.backend.persister.lastSaved?.generation).toBe(2);
    expect([...store.files.keys()].filter((name) => name.endsWith('.journal'))).toEqual([
      'owp-db.1.journal', // kept while generation 1 is: a fallback to it replays it
    ]);
    const third = session(store);
    await third.backend.start();
    expect(third.backend.persister.pending).toBe(false); // nothing replayed, nothing to fold
    expect((await third.backend.api.events(0)).map((e) => e.seq)).toEqual([1, 2, 3]);
    await third.backend.stop();
  });

  it('journals from the first change of every session, a new vault’s and the one after a crash', async () => {
    const store = new MemoryBinaryStore();
    const titles = async (backend: EmbeddedBackend) =>
      (await backend.api.listTasks()).tasks.map((t) => t.title).sort();
    /** A session that makes one task and is killed once its journal line has landed. */
    const crashAfter = async (title: string) => {
      const { backend } = session(store);
      await backend.start();
      if (title === 'First') await backend.api.upsertRepo({ repo: 'demo' });
      await backend.api.createTask({ repo: 'demo', title });
      await backend.persister.flush(); // the append has landed; no debounced save has run
      expect(backend.persister.journaled).toBeGreaterThan(0);
    };
    // A new vault: its first task was lost to a crash before the first whole save.
    await crashAfter('First');
    // After a crash: the replayed journal is not extended, and the next change was lost too.
    await crashAfter('Second');
    await crashAfter('Third');
    const last = session(store);
    await last.backend.start();
    expect(await titles(last.backend)).toEqual(['First', 'Second', 'Third']);
    await last.backend.stop();
  });

  it('a quiet pool journals nothing: its upkeep changes no row', async () => {
    const store = new MemoryBinaryStore();
    const { backend, timers } = session(store);
    await backend.start();
    await backend.api.upsertRepo({ repo: 'demo' }); // journaled after generation 1 (the start's)
    await timers.advance(30_250); // folded into generation 2 after a quiet spell (and the debounce)
    expect(backend.persister.journaled).toBe(0);
    const files = [...store.files.keys()].sort();

    await timers.advance(60_000); // a dozen upkeep runs (sweep, assignment, key cleanup)

    expect(backend.persister.journaled).toBe(0);
    expect([...store.files.keys()].sort()).toEqual(files);
    await backend.stop();
  });

  it('saves what is left on stop', async () => {
    const store = new MemoryBinaryStore();
    const first = session(store);
    await first.backend.start();
    await first.backend.api.upsertRepo({ repo: 'demo' });
    await first.backend.api.createTask({ repo: 'demo', title: 'Saved on unload' });
    await first.backend.stop(); // no timer ever ran

    const second = session(store);
    await second.backend.start();
    expect((await second.backend.api.listTasks()).tasks.map((t) => t.title)).toEqual([
      'Saved on unload',
    ]);
    await second.backend.stop();
  });

  it('can be stopped and started again, and still saves', async () => {
    const store = new MemoryBinaryStore();
    const { backend } = session(store);
    await backend.start();
    await backend.api.upsertRepo({ repo: 'demo' });
    await backend.stop();
    await backend.start();
    await backend.api.createTask({ repo: 'demo', title: 'After a restart' });
    await backend.stop();

    const next = session(store);
    await next.backend.start();
    expect((await next.backend.api.listTasks()).tasks.map((t) => t.title)).toEqual([
      'After a restart',
    ]);
    await next.backend.stop();
  });

  it('registers the local worker, acts as it, and a session with the kept token is the same worker', async () => {
    const store = new MemoryBinaryStore();
    const first = session(store);
    await first.backend.start();
    await expect(first.backend.api.heartbeat()).rejects.toMatchObject({ code: 'unauthorized' });
    const { worker_id, token } = await first.backend.registerLocalWorker('Alice', ['ts'], {
      capacity_points: 3,
    });
    await first.backend.api.heartbeat({ status: 'idle' });
    expect((await first.backend.api.getWork()).worker_id).toBe(worker_id);
    await first.backend.stop();

    const second = session(store, token);
    await second.backend.start();
    expect((await second.backend.api.getWork()).worker_id).toBe(worker_id);
    expect((await second.backend.api.listWorkers())[0]).toMatchObject({
      name: 'Alice',
      capacity_points: 3,
    });
    await second.backend.stop();
  });

  it('saves a heartbeat that renews a lease, though it records no event', async () => {
    const store = new MemoryBinaryStore();
    const first = session(store);
    await first.backend.start();
    const api = first.backend.api;
    await api.upsertRepo({ repo: 'demo', lease_ttl_seconds: 600 });
    await first.backend.registerLocalWorker('Alice', []);
    await api.heartbeat();
    await api.createTask({ repo: 'demo', title: 'Held' });
    const [lease] = (await api.getWork()).leases;
    await first.timers.advance(250);
    const eventsBefore = (await api.state()).last_event_seq;

    first.clock.advanceSeconds(60); // within the heartbeat TTL: Alice stays online, no event
    expect((await api.heartbeat()).leases_renewed).toBe(1);
    expect((await api.state()).last_event_seq).toBe(eventsBefore);
    await first.backend.persister.flush(); // the journal append has landed

    const second = session(store);
    await second.backend.start();
    const task = await second.backend.api.getTask(lease!.task_id);
    expect(Date.parse(task.lease!.expires_at!)).toBe(first.clock.now() + 600_000);
    await second.backend.stop();
  });

  it('sweeps expired leases and runs assignment on its upkeep timer', async () => {
    const store = new MemoryBinaryStore();
    const { backend, clock, timers } = session(store);
    await backend.start();
    const api = backend.api;
    await api.upsertRepo({ repo: 'demo', lease_ttl_seconds: 60 });
    await backend.registerLocalWorker('Alice', []);
    await api.heartbeat();
    const task = await api.createTask({ repo: 'demo', title: 'Will lapse' });
    expect((await api.getTask(task.task_id)).status).toBe('leased');

    clock.advanceSeconds(120); // past the lease and the heartbeat TTL: Alice went quiet
    await timers.advance(5000);
    expect((await api.getTask(task.task_id)).status).toBe('ready');
    expect((await api.listWorkers())[0]!.online).toBe(false);

    await api.heartbeat(); // back: the next upkeep cycle (or the heartbeat itself) re-grants
    await timers.advance(5000);
    expect((await api.getTask(task.task_id)).status).toBe('leased');
    await backend.stop();
  });

  it('delivers live events through subscribe, and stop closes the subscriptions', async () => {
    const { backend } = session(new MemoryBinaryStore());
    await backend.start();
    const seen: string[] = [];
    const statuses: string[] = [];
    backend.subscribe(
      0,
      (event) => seen.push(event.type),
      (status) => statuses.push(status),
    );
    await backend.api.upsertRepo({ repo: 'demo' });
    await backend.api.createTask({ repo: 'demo', title: 'Announced' });
    expect(seen).toEqual(['repo.upserted', 'task.created']);
    expect(statuses).toEqual(['live']);
    await backend.stop();
    expect(() => backend.api).toThrow(/not started/);
  });

  it('refuses the API before start', () => {
    const { backend } = session(new MemoryBinaryStore());
    expect(() => backend.api).toThrow(/not started/);
  });
});

describe('EmbeddedBackend after the plugin was updated', () => {
  const schemaOf = async (bytes: Uint8Array) => {
    const driver = await SqlJsDriver.open(bytes);
    const { id } = driver.get<{ id: number }>('SELECT MAX(id) AS id FROM owp_migrations')!;
    driver.close();
    return id;
  };

  it('keeps a copy of the database as it was before upgrading it, which later saves leave alone', async () => {
    const store = new MemoryBinaryStore();
    const { from, to } = await savedAtOlderSchema(store);
    const first = session(store);
    await first.backend.start();
    const copy = `owp-db.before-schema-${to}.sqlite`;
    expect(first.backend.upgradeCopy).toBe(copy);
    expect(await schemaOf(store.files.get(copy)!)).toBe(from);
    expect(first.backend.engine.state().tasks_ready).toBe(0);
    // Many saves later (more generations than are kept), the copy is still there.
    await first.backend.api.upsertRepo({ repo: 'demo' });
    for (let i = 0; i < 5; i++) {
      await first.backend.api.createTask({ repo: 'demo', title: `after ${i}` });
      first.backend.persister.markDirty();
      await first.backend.persister.flush();
    }
    await first.backend.stop();
    const generations = [...store.files.keys()].filter((name) =>
      /^owp-db\.\d+\.sqlite$/.test(name),
    );
    expect(generations).not.toContain('owp-db.1.sqlite');
    expect(store.files.has(copy)).toBe(true);

    const second = session(store);
    await second.backend.start();
    expect(second.backend.upgradeCopy).toBeNull();
    await second.backend.stop();
  });

  it('does not upgrade a database it could not copy first', async () => {
    const store = new MemoryBinaryStore();
    const { from, to } = await savedAtOlderSchema(store);
    const write = store.write.bind(store);
    store.write = async (path, bytes) => {
      if (path.includes('before-schema')) throw new Error('disk full');
      return write(path, bytes);
    };
    const refused = session(store);
    await expect(refused.backend.start()).rejects.toThrow(
      `The pool's database is at schema ${from} and this version of the plugin upgrades it to ${to}, ` +
        'but the copy kept before that could not be written (disk full); nothing was changed.',
    );
    // Nothing was saved over the old pool: a start that can copy it upgrades it then.
    store.write = write;
    const later = session(store);
    await later.backend.start();
    expect(later.backend.upgradeCopy).toBe(`owp-db.before-schema-${to}.sqlite`);
    await later.backend.stop();
  });
});
