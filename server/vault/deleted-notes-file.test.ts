/** vault-sync's state file, and the note sync over a folder that keeps its record there. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NoteSync } from '../../plugin/sync/note-sync.ts';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { BetterSqlite3Driver } from '../better-sqlite3-driver.ts';
import { deletedNotesFile } from './deleted-notes-file.ts';
import { FolderNoteStore } from './folder-note-store.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempVault(): string {
  const dir = mkdtempSync(join(tmpdir(), 'owp-vault-state-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const stateOf = (vault: string) =>
  JSON.parse(readFileSync(join(vault, '.owp', 'vault-sync.json'), 'utf8')) as unknown;

describe('deletedNotesFile', () => {
  it('reads a file written before notedTasks existed, and keeps the other pools’ entries', () => {
    const vault = tempVault();
    mkdirSync(join(vault, '.owp'));
    writeFileSync(
      join(vault, '.owp', 'vault-sync.json'),
      JSON.stringify({ deletedNotes: { 'file:a.db': ['t_1'], 'http://other': ['t_9'] } }),
    );
    const warnings: string[] = [];
    const state = deletedNotesFile(vault, 'file:a.db', (message) => warnings.push(message));

    expect(state.load()).toEqual({ deleted: ['t_1'], noted: [] });
    void state.save({ deleted: [], noted: ['t_2'] });
    expect(stateOf(vault)).toEqual({
      deletedNotes: { 'http://other': ['t_9'] },
      notedTasks: { 'file:a.db': ['t_2'] },
    });
    expect(warnings).toEqual([]);
  });

  it('keeps the fingerprints of synced notes and the tasks folder per pool', () => {
    const vault = tempVault();
    const state = deletedNotesFile(vault, 'file:a.db', () => {});
    void state.save({
      deleted: [],
      noted: ['t_2'],
      synced: { t_2: 'abcdefghijklmnopqrst' },
      folder: 'Tasks',
    });
    expect(stateOf(vault)).toEqual({
      deletedNotes: {},
      notedTasks: { 'file:a.db': ['t_2'] },
      syncedNotes: { 'file:a.db': { t_2: 'abcdefghijklmnopqrst' } },
      notesFolder: { 'file:a.db': 'Tasks' },
    });
    expect(state.load()).toEqual({
      deleted: [],
      noted: ['t_2'],
      synced: { t_2: 'abcdefghijklmnopqrst' },
      folder: 'Tasks',
    });
  });

  it('keeps the task creations not answered yet per pool, sent again by the next run', () => {
    const vault = tempVault();
    const pending = { key: 'note-1', request: { repo: 'demo', title: 'New idea' } };
    const state = deletedNotesFile(vault, 'file:a.db', () => {});
    void state.save({ deleted: [], noted: [], creating: { 'Tasks/New idea.md': pending } });
    expect(stateOf(vault)).toEqual({
      deletedNotes: {},
      creatingNotes: { 'file:a.db': { 'Tasks/New idea.md': pending } },
    });
    expect(deletedNotesFile(vault, 'file:a.db', () => {}).load()).toEqual({
      deleted: [],
      noted: [],
      creating: { 'Tasks/New idea.md': pending },
    });
    expect(deletedNotesFile(vault, 'http://other', () => {}).load()).toEqual({
      deleted: [],
      noted: [],
    });
    void state.save({ deleted: [], noted: [] });
    expect(stateOf(vault)).toEqual({ deletedNotes: {} });
  });

  it('writes no file while there is nothing to keep', () => {
    const vault = tempVault();
    void deletedNotesFile(vault, 'file:a.db', () => {}).save({ deleted: [], noted: [] });
    expect(existsSync(join(vault, '.owp'))).toBe(false);
  });
});

describe('vault-sync over a folder, run after run', () => {
  it('does not write again a note deleted while vault-sync was not running', async () => {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    cleanups.push(() => driver.close());
    const engine = new Scheduler({ driver, clock: systemClock });
    engine.upsertRepo({ repo: 'demo' });
    const dropped = engine.createTask({ repo: 'demo', title: 'Dropped' });
    const kept = engine.createTask({ repo: 'demo', title: 'Kept' });
    const vault = tempVault();
    /** One run of `owp vault-sync --once` against this pool. */
    const run = async () => {
      const sync = new NoteSync({
        api: new LocalOwpApi(engine, { admin: true }),
        store: new FolderNoteStore({ root: vault }),
        settings: { folder: 'Tasks', archiveFolder: '', defaultRepo: '', cancelOnDelete: false },
        deletedNotes: deletedNotesFile(vault, 'file:pool.db', () => {}),
      });
      const report = await sync.start();
      await sync.flush();
      sync.stop();
      return report;
    };

    await expect(run()).resolves.toMatchObject({ notesCreated: 2 });
    rmSync(join(vault, 'Tasks', 'Dropped.md')); // between runs: `git rm`, a shell, a file manager

    // Was: written again, as if it had never been.
    await expect(run()).resolves.toMatchObject({ notesCreated: 0, notesDeleted: 1 });
    expect(existsSync(join(vault, 'Tasks', 'Dropped.md'))).toBe(false);
    expect(existsSync(join(vault, 'Tasks', 'Kept.md'))).toBe(true);
    expect(engine.getTask(dropped.task_id).status).toBe('ready');
    expect(stateOf(vault)).toMatchObject({
      deletedNotes: { 'file:pool.db': [dropped.task_id] },
      notedTasks: { 'file:pool.db': [kept.task_id] },
      notesFolder: { 'file:pool.db': 'Tasks' },
    });
    expect(
      Object.keys(
        (stateOf(vault) as { syncedNotes: Record<string, object> }).syncedNotes['file:pool.db']!,
      ),
    ).toEqual([kept.task_id]);
  });
});
