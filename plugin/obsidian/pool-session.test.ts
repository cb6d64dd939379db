import { afterEach, describe, expect, it, vi } from 'vitest';
import { OwpError } from '../../protocol/index.ts';
import { EmbeddedBackend } from '../backend/embedded-backend.ts';
import { savedAtOlderSchema } from '../testing/older-pool.ts';
import { ManualTimers } from '../testing/manual-timers.ts';
import { MemoryBinaryStore } from '../testing/memory-binary-store.ts';
import { MemoryNoteStore } from '../testing/memory-note-store.ts';
import { PoolSession } from './pool-session.ts';

const SYNC = { folder: 'Tasks', archiveFolder: '', defaultRepo: 'notes', cancelOnDelete: false };

let session: PoolSession | null = null;
afterEach(async () => {
  await session?.stop();
  session = null;
});

/** An embedded session, the way the plugin makes one, with timers the test moves. */
function embeddedSession(options: { notes?: MemoryNoteStore; db?: MemoryBinaryStore } = {}) {
  const timers = new ManualTimers();
  const db = options.db ?? new MemoryBinaryStore();
  const backend = new EmbeddedBackend({ store: db, credentials: { admin: true } });
  const told: string[] = [];
  session = new PoolSession({
    backend,
    admin: true,
    workerId: null,
    notes: options.notes ? { store: options.notes, settings: SYNC } : null,
    notify: (message) => told.push(message),
    timers,
    heartbeatMs: 30_000,
    scheduleBatch: (run) => run(),
  });
  return { session, backend, timers, db, told };
}

describe('PoolSession', () => {
  it('tells where the database from before an upgrade is kept, once, at the start that upgraded it', async () => {
    const db = new MemoryBinaryStore();
    const { to } = await savedAtOlderSchema(db);

    const first = embeddedSession({ db });
    await first.session.start();
    const copy = `owp-db.before-schema-${to}.sqlite`;
    expect(first.told).toEqual([
      `OWP Pool upgraded its database for this version; the one from before is kept as ${copy} in the plugin's folder.`,
    ]);
    await first.session.stop();
    const second = embeddedSession({ db });
    await second.session.start();
    expect(second.told).toEqual([]);
  });

  it('starts the store, then reconciles the notes: a note without a task becomes one', async () => {
    const notes = new MemoryNoteStore();
    notes.seed('Tasks/Write the docs.md', { points: 2 }, 'All of them.\n');
    const { session } = embeddedSession({ notes });
    const report = await session.start();
    expect(report).toMatchObject({ tasksCreated: 1 });
    const [task] = (await session.api.listTasks({})).tasks;
    expect(task).toMatchObject({ title: 'Write the docs', repo: 'notes', estimate_points: 2 });
    expect(notes.get('Tasks/Write the docs.md').frontmatter.owp_id).toBe(task!.task_id);
    expect(session.store.snapshot.phase).toBe('ready');
  });

  it('online: beats at once and on every interval, gets leases; offline: stops and says paused', async () => {
    const { session, timers } = embeddedSession();
    await session.start();
    await session.api.upsertRepo({ repo: 'notes' });
    await session.api.createTask({ repo: 'notes', title: 'Something to do' });
    await expect(session.setOnline(true)).rejects.toThrow('Register as a worker first.');

    const { worker_id } = await session.registerWorker({ name: 'Me', skills: [] });
    const heard: boolean[] = [];
    session.onOnlineChange((online) => heard.push(online));
    await session.setOnline(true);
    expect(session.online).toBe(true);
    expect(timers.pending).toBe(1);
    const work = await session.api.getWork();
    expect(work.leases).toHaveLength(1);

    const seen = async () =>
      (await session.api.listWorkers()).find((w) => w.worker_id === worker_id)?.last_heartbeat_at;
    const first = await seen();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await timers.advance(30_000);
    expect(await seen()).not.toBe(first);

    await session.setOnline(false);
    expect(session.online).toBe(false);
    expect(timers.pending).toBe(0);
    await session.store.whenIdle();
    expect(session.store.snapshot.workers.get(worker_id)?.status).toBe('paused');
    expect(heard).toEqual([true, false]);
  });

  // Was: the heartbeat went on every 30 s with a worker token the pool refused (revoked, or the
  // worker gone), each beat a failed sign-in the server counts against the address, saying
  // "Heartbeat failed" once and the toggle still showing the worker online.
  it('goes offline at a beat the pool refuses, says so once, and beats no more', async () => {
    const { session, timers, told } = embeddedSession();
    await session.start();
    await session.registerWorker({ name: 'Me', skills: [] });
    const heard: boolean[] = [];
    session.onOnlineChange((online) => heard.push(online));
    await session.setOnline(true);
    const beat = vi
      .spyOn(session.api, 'heartbeat')
      .mockRejectedValue(new OwpError('unauthorized', 'Unknown worker token.'));

    await timers.advance(30_000);
    await vi.waitFor(() => expect(session.online).toBe(false));
    expect(heard).toEqual([true, false]);
    expect(told).toEqual([
      'The pool refused this vault’s worker (Unknown worker token.), so it is offline now. ' +
        'Enter its current token in the settings, or register again, then go online.',
    ]);
    expect(timers.pending).toBe(0);
    await timers.advance(120_000);
    expect(beat).toHaveBeenCalledTimes(1);
  });

  it('stop() ends the heartbeat and saves the database one last time', async () => {
    const db = new MemoryBinaryStore();
    const { session, timers } = embeddedSession({ db });
    await session.start();
    await session.registerWorker({ name: 'Me', skills: [] });
    await session.setOnline(true);
    await session.api.upsertRepo({ repo: 'kept' });
    await session.stop();
    expect(timers.pending).toBe(0);

    const reopened = new EmbeddedBackend({ store: db, credentials: { admin: true } });
    await reopened.start();
    expect((await reopened.api.listRepos()).map((r) => r.repo)).toEqual(['kept']);
    await reopened.stop();
  });

  // Was: the heartbeat just stopped, and the pool counted the worker online — granting it new
  // leases — for up to 90 s more (a settings change replaces the session this way).
  it('stop() while online says the worker is going, as going offline does', async () => {
    const db = new MemoryBinaryStore();
    const { session } = embeddedSession({ db });
    await session.start();
    const { worker_id } = await session.registerWorker({ name: 'Me', skills: [] });
    await session.setOnline(true);
    await session.stop();

    const reopened = new EmbeddedBackend({ store: db, credentials: { admin: true } });
    await reopened.start();
    const me = (await reopened.api.listWorkers()).find((w) => w.worker_id === worker_id);
    expect(me?.status).toBe('paused');
    await reopened.stop();
  });

  it('stop() waits at most 3 s for a pool that does not answer the last beat', async () => {
    const { session, timers } = embeddedSession();
    await session.start();
    await session.registerWorker({ name: 'Me', skills: [] });
    await session.setOnline(true);
    vi.spyOn(session.api, 'heartbeat').mockReturnValue(new Promise(() => undefined));

    let stopped = false;
    const stopping = session.stop().then(() => (stopped = true));
    await timers.advance(2_999);
    expect(stopped).toBe(false);
    await timers.advance(1);
    await stopping;
    expect(timers.pending).toBe(0);
  });

  it('tries the note sync again when it could not start, telling the user once', async () => {
    // Listing the notes fails twice (the vault or the server not ready yet), then works.
    let failuresLeft = 2;
    const notes = new (class extends MemoryNoteStore {
      override async list(folder: string) {
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new Error('not ready yet');
        }
        return super.list(folder);
      }
    })();
    notes.seed('Tasks/Write the docs.md', {}, '');
    const { session, timers, told } = embeddedSession({ notes });
    expect(await session.start()).toBeNull();
    expect(told).toEqual([
      'Could not sync the task notes: not ready yet; trying again in the background.',
    ]);
    const first = session.sync;

    await timers.advance(5_000); // the second try fails too, quietly
    await session.store.whenIdle();
    expect(told).toHaveLength(1);
    expect(notes.get('Tasks/Write the docs.md').frontmatter.owp_id).toBeUndefined();

    await timers.advance(10_000); // the third works: the note becomes a task
    await session.sync!.flush();
    expect(session.sync).not.toBe(first);
    expect(told.at(-1)).toBe('The task notes are in sync with the pool again.');
    const [task] = (await session.api.listTasks({})).tasks;
    expect(notes.get('Tasks/Write the docs.md').frontmatter.owp_id).toBe(task!.task_id);
    expect(timers.pending).toBe(0);
  });

  it('without admin credentials, runs no note sync', () => {
    const backend = new EmbeddedBackend({ store: new MemoryBinaryStore(), credentials: {} });
    const workerOnly = new PoolSession({
      backend,
      admin: false,
      workerId: null,
      notes: { store: new MemoryNoteStore(), settings: SYNC },
      notify: () => undefined,
      timers: new ManualTimers(),
    });
    expect(workerOnly.sync).toBeNull();
    expect(workerOnly.admin).toBe(false);
  });
});
