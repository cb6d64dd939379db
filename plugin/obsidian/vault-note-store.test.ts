import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from 'obsidian';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { sequentialIds } from '../../scheduler/ids.ts';
import { ManualClock } from '../../scheduler/testing/manual-clock.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import type { NoteChange } from '../sync/note-store.ts';
import { NoteSync } from '../sync/note-sync.ts';
import { createApp, type App as FakeApp } from '../testing/obsidian-fake/index.ts';
import { VaultNoteStore } from './vault-note-store.ts';

const apps: FakeApp[] = [];
const syncs: NoteSync[] = [];
afterEach(() => {
  syncs.splice(0).forEach((sync) => sync.stop());
  apps.splice(0).forEach((app) => app.destroy());
});

function vault(files: Record<string, string> = {}) {
  const app = createApp({ files });
  apps.push(app);
  const store = new VaultNoteStore(app as unknown as App);
  const text = (path: string) => readFileSync(join(app.vault.basePath, path), 'utf8');
  return { app, store, text };
}

/** Collects what `watch` reports, as `kind path`. */
function watching(store: VaultNoteStore) {
  const changes: NoteChange[] = [];
  const stop = store.watch((change) => changes.push(change));
  const seen = () =>
    changes.map((c) =>
      c.kind === 'deleted'
        ? `deleted ${c.path}`
        : c.kind === 'renamed'
          ? `renamed ${c.oldPath} → ${c.note.path}`
          : `${c.kind} ${c.note.path}`,
    );
  return { changes, seen, stop };
}

const settle = (app: FakeApp) =>
  new Promise((resolve) => setTimeout(resolve, 5)).then(() => app.metadataCache.settled());

describe('VaultNoteStore over the Obsidian API', () => {
  it('lists the notes under a folder with their properties from the metadata cache', async () => {
    const { store } = vault({
      'Tasks/a.md': '---\nowp_id: t_1\nskills:\n  - go\n---\nBody A\n',
      'Tasks/Sub/b.md': 'No properties',
      'Tasks/image.png': 'not a note',
      'Other/c.md': '---\nx: 1\n---\n',
    });
    const notes = await store.list('Tasks');
    expect(notes.map((n) => [n.path, n.frontmatter]).sort()).toEqual([
      ['Tasks/Sub/b.md', {}],
      ['Tasks/a.md', { owp_id: 't_1', skills: ['go'] }],
    ]);
    expect(notes[0]!.mtime).toBeGreaterThan(0);
    expect(await store.read('Tasks/missing.md')).toBeNull();
  });

  it('reads a task note whose properties are not valid YAML as none but its owp_id, and says why', async () => {
    const { store } = vault({
      'Tasks/Fix login.md': '---\nowp_id: t_1\narea: auth: login\n---\nBody\n',
      'Tasks/Plain.md': 'No properties',
    });
    const listed = await store.list('Tasks');
    const broken = listed.find((note) => note.path === 'Tasks/Fix login.md')!;
    expect(broken.frontmatter).toEqual({ owp_id: 't_1' });
    expect(broken.frontmatterError).toMatch(/^not valid YAML: /);
    expect(listed.find((note) => note.path === 'Tasks/Plain.md')?.frontmatterError).toBe(undefined);
    expect(await store.read('Tasks/Fix login.md')).toMatchObject({
      frontmatter: { owp_id: 't_1' },
      frontmatterError: broken.frontmatterError,
      body: 'Body\n',
    });
  });

  it('reads a note for the listing when the metadata cache has not indexed it', async () => {
    const { app, store } = vault({ 'Tasks/a.md': '---\nowp_id: t_1\n---\nBody\n' });
    const file = app.vault.getFileByPath('Tasks/a.md')!;
    const cache = app.metadataCache as unknown as { getFileCache(f: unknown): unknown };
    cache.getFileCache = () => null;
    const [note] = await store.list('Tasks');
    expect(note).toMatchObject({ path: 'Tasks/a.md', frontmatter: { owp_id: 't_1' } });
    expect(note!.mtime).toBe(file.stat.mtime);
  });

  it('creates a note and its folders, and refuses to overwrite one', async () => {
    const { store, text } = vault();
    await store.create('Tasks/Deep/New.md', { owp_id: 't_9', area: null, skills: [] }, 'Text\n');
    expect(text('Tasks/Deep/New.md')).toBe('---\nowp_id: t_9\narea:\nskills: []\n---\nText\n');
    await expect(store.create('Tasks/Deep/New.md', {}, '')).rejects.toThrow('File already exists.');
  });

  it('changes only the keys it is given, keeping the user’s properties and the body', async () => {
    const body = 'My *notes*\n\n- [ ] a checkbox\n';
    const { store, text } = vault({
      'Tasks/n.md': `---\ntags:\n  - mine\npriority: 5\nstatus: ready\n---\n${body}`,
    });
    await store.updateFrontmatter('Tasks/n.md', { status: 'leased', priority: undefined });
    expect(text('Tasks/n.md')).toBe(`---\ntags:\n  - mine\nstatus: leased\n---\n${body}`);
  });

  it('replaces the body and keeps the frontmatter', async () => {
    const { store, text } = vault({ 'Tasks/n.md': '---\na: 1\n---\nold\n' });
    await store.writeBody('Tasks/n.md', 'new\n');
    expect(text('Tasks/n.md')).toBe('---\na: 1\n---\nnew\n');
  });

  it('moves a note into a folder it creates', async () => {
    const { app, store } = vault({ 'Tasks/n.md': 'x' });
    await store.move('Tasks/n.md', 'Tasks/Archive/n.md');
    expect(app.vault.getFileByPath('Tasks/Archive/n.md')).not.toBeNull();
    expect(await store.read('Tasks/n.md')).toBeNull();
  });

  it('reports creates, edits, renames and deletes of notes, and stops when asked', async () => {
    const { app, store } = vault();
    await app.vault.createFolder('Tasks');
    const { seen, changes, stop } = watching(store);

    const file = await app.vault.create('Tasks/n.md', '---\np: 1\n---\n');
    await settle(app);
    await app.vault.modify(file, '---\np: 2\n---\nbody');
    await settle(app);
    await app.vault.create('Tasks/pic.png', '');
    await app.vault.rename(file, 'Tasks/m.md');
    await settle(app);
    await app.vault.delete(file);
    await settle(app);
    stop();
    await app.vault.create('Tasks/after.md', '');
    await settle(app);

    expect(seen()).toEqual([
      'created Tasks/n.md',
      'modified Tasks/n.md',
      'modified Tasks/n.md',
      'renamed Tasks/n.md → Tasks/m.md',
      'deleted Tasks/m.md',
    ]);
    const edited = changes[2]!;
    expect(edited.kind === 'modified' && edited.note).toMatchObject({
      frontmatter: { p: 2 },
      body: 'body',
    });
    expect(app.vault.listenerCount('create')).toBe(0);
    expect(app.metadataCache.listenerCount('changed')).toBe(0);
  });
});

describe('the note sync on the fake Obsidian', () => {
  it('starts again without a new task or note for a task note whose properties broke', async () => {
    const engine = new Scheduler({
      driver: new BetterSqlite3Driver({ path: ':memory:' }),
      clock: new ManualClock(),
      ids: sequentialIds(),
    });
    engine.upsertRepo({ repo: 'demo', max_open_prs: 5, area_locks_enabled: false });
    const task = engine.createTask({ repo: 'demo', title: 'Fix login' });
    const { app, store, text } = vault({
      // An unquoted colon typed into a value: the block is not valid YAML any more.
      'Tasks/Fix login.md': `---\nowp_id: ${task.task_id}\nrepo: demo\narea: auth: login\n---\nBody\n`,
    });
    const notices: string[] = [];
    for (let start = 0; start < 2; start++) {
      const sync = new NoteSync({
        api: new LocalOwpApi(engine, { admin: true }),
        store,
        settings: {
          folder: 'Tasks',
          archiveFolder: '',
          defaultRepo: 'demo',
          cancelOnDelete: false,
        },
        notify: (message) => notices.push(message),
        debounceMs: 10,
      });
      syncs.push(sync);
      await sync.start();
      await settle(app);
      await sync.flush();
      sync.stop();
    }
    // Was: read as a note without an id, so every start made it a new task and gave the old task
    // a new note, "Fix login (2).md".
    expect(engine.listTasks().tasks).toHaveLength(1);
    expect(app.vault.getMarkdownFiles().map((file) => file.path)).toEqual(['Tasks/Fix login.md']);
    expect(text('Tasks/Fix login.md')).toContain('area: auth: login');
    expect(notices[0]).toMatch(/^"Tasks\/Fix login.md": its properties are not valid YAML: /);
  });

  it('makes notes on disk, and a property typed into a note reaches the task', async () => {
    const { app, store, text } = vault({
      'Tasks/Idea.md': '---\ntags:\n  - idea\npriority: 30\n---\nFrom the user.\n',
    });
    const engine = new Scheduler({
      driver: new BetterSqlite3Driver({ path: ':memory:' }),
      clock: new ManualClock(),
      ids: sequentialIds(),
    });
    engine.upsertRepo({ repo: 'demo', max_open_prs: 5, area_locks_enabled: false });
    const existing = engine.createTask({ repo: 'demo', title: 'From the pool' });
    const sync = new NoteSync({
      api: new LocalOwpApi(engine, { admin: true }),
      store,
      settings: { folder: 'Tasks', archiveFolder: '', defaultRepo: 'demo', cancelOnDelete: false },
      debounceMs: 10,
    });
    syncs.push(sync);

    const report = await sync.start();
    await settle(app);
    await sync.flush();

    expect(report).toMatchObject({ notesCreated: 1, tasksCreated: 1 });
    expect(text('Tasks/From the pool.md')).toBe(
      [
        '---',
        `owp_id: ${existing.task_id}`,
        'repo: demo',
        'status: ready',
        'priority: 10',
        'points: 1',
        'skills: []',
        'area:',
        'tier: 0',
        'depends_on: []',
        'assignee:',
        'lease_expires:',
        'pr_url:',
        'owp_version: 1',
        '---',
        '',
      ].join('\n'),
    );
    const idea = engine.listTasks().tasks.find((t) => t.title === 'Idea')!;
    expect(idea).toMatchObject({ priority: 30, description: 'From the user.' });
    expect(text('Tasks/Idea.md')).toMatch(
      /^---\ntags:\n {2}- idea\npriority: 30\nowp_id: t_0002\n/,
    );
    expect(text('Tasks/Idea.md').endsWith('---\nFrom the user.\n')).toBe(true);

    // The user edits a property in Obsidian.
    await app.fileManager.processFrontMatter(app.vault.getFileByPath('Tasks/Idea.md')!, (fm) => {
      fm.priority = 80;
    });
    await settle(app);
    await sync.flush();
    await settle(app);

    expect(engine.getTask(idea.task_id).priority).toBe(80);
    expect(text('Tasks/Idea.md')).toContain(`owp_version: ${engine.getTask(idea.task_id).version}`);
    expect(text('Tasks/Idea.md')).toContain('tags:\n  - idea');
  });
});
