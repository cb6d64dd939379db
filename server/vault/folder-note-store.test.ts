/** The folder `NoteStore` on a real temporary folder, with chokidar watching it. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NoteChange } from '../../plugin/sync/note-store.ts';
import { FolderNoteStore } from './folder-note-store.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function vault(): Promise<{ dir: string; store: FolderNoteStore; changes: NoteChange[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'owp-vault-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FolderNoteStore({ root: dir, settleMs: 40, renameWindowMs: 400 });
  await store.start();
  cleanups.push(() => store.close());
  const changes: NoteChange[] = [];
  store.watch((change) => changes.push(change));
  return { dir, store, changes };
}

async function until(check: () => boolean, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const USER_NOTE = `---
# the user's comment stays
tags:
  - idea
owp_id: t_1
status: ready
---
Body text.
`;

describe('FolderNoteStore', () => {
  it('lists Markdown notes under a folder, skipping dot-folders and other files', async () => {
    const { dir, store } = await vault();
    mkdirSync(join(dir, 'Tasks', 'Sub'), { recursive: true });
    mkdirSync(join(dir, '.obsidian'));
    writeFileSync(join(dir, 'Tasks', 'A.md'), USER_NOTE);
    writeFileSync(join(dir, 'Tasks', 'Sub', 'B.md'), 'no properties');
    writeFileSync(join(dir, 'Tasks', 'image.png'), 'x');
    writeFileSync(join(dir, '.obsidian', 'C.md'), 'x');
    writeFileSync(join(dir, 'Elsewhere.md'), 'x');

    const notes = await store.list('Tasks');
    expect(notes.map((n) => n.path).sort()).toEqual(['Tasks/A.md', 'Tasks/Sub/B.md']);
    expect(notes.find((n) => n.path === 'Tasks/A.md')).toMatchObject({
      frontmatter: { tags: ['idea'], owp_id: 't_1', status: 'ready' },
      body: 'Body text.\n',
    });
    expect((await store.list('')).length).toBe(3);
    expect(await store.read('Tasks/missing.md')).toBeNull();
  });

  it('changes only the owned properties, keeping the rest, comments and the body', async () => {
    const { dir, store } = await vault();
    writeFileSync(join(dir, 'A.md'), USER_NOTE);
    await store.updateFrontmatter('A.md', { status: 'leased', assignee: 'Alice', tier: undefined });
    expect(readFileSync(join(dir, 'A.md'), 'utf8')).toBe(`---
# the user's comment stays
tags:
  - idea
owp_id: t_1
status: leased
assignee: Alice
---
Body text.
`);
    await store.writeBody('A.md', 'New body.\n');
    expect(readFileSync(join(dir, 'A.md'), 'utf8')).toMatch(/assignee: Alice\n---\nNew body\.\n$/);
    // No temporary file is left behind.
    expect(readdirSync(dir)).toEqual(['A.md']);
  });

  it('refuses to overwrite a note on create or move, and paths outside the vault', async () => {
    const { dir, store } = await vault();
    await store.create('Tasks/New.md', { owp_id: 't_2', area: null }, 'Hi\n');
    expect(readFileSync(join(dir, 'Tasks', 'New.md'), 'utf8')).toBe(
      '---\nowp_id: t_2\narea:\n---\nHi\n',
    );
    await expect(store.create('Tasks/New.md', {}, 'again')).rejects.toThrow();
    await store.create('Tasks/Other.md', {}, 'x');
    await expect(store.move('Tasks/New.md', 'Tasks/Other.md')).rejects.toThrow('already exists');
    await expect(store.read('../escape.md')).rejects.toThrow('outside the vault');
    await expect(store.updateFrontmatter('Tasks/gone.md', { a: 1 })).rejects.toThrow('No note');
  });

  it('refuses to rewrite properties that are not valid YAML', async () => {
    const { dir, store } = await vault();
    writeFileSync(join(dir, 'Bad.md'), '---\n: : :\n  - [\n---\nBody\n');
    expect((await store.read('Bad.md'))?.frontmatter).toEqual({});
    expect((await store.read('Bad.md'))?.frontmatterError).toMatch(/^not valid YAML: /);
    // A task note keeps its id while the user mends the rest, in the listing too.
    writeFileSync(join(dir, 'Task.md'), '---\nowp_id: t_7\narea: auth: login\n---\nBody\n');
    const [listed] = (await store.list('')).filter((note) => note.path === 'Task.md');
    expect(listed).toMatchObject({ frontmatter: { owp_id: 't_7' } });
    expect(listed?.frontmatterError).toMatch(/^not valid YAML: /);
    writeFileSync(join(dir, 'List.md'), '---\n- a\n- b\n---\n');
    expect((await store.read('List.md'))?.frontmatterError).toBe(
      'not a list of properties (key: value lines)',
    );
    expect((await store.read('Body.md'))?.frontmatterError).toBeUndefined();
    await expect(store.updateFrontmatter('Bad.md', { owp_id: 't_3' })).rejects.toThrow(
      'not valid YAML',
    );
  });

  it('reports edits made by others, as the file is on disk once it settles', async () => {
    const { dir, changes } = await vault();
    writeFileSync(join(dir, 'Idea.md'), 'first');
    await until(() => changes.length === 1, 'the created note');
    expect(changes[0]).toMatchObject({ kind: 'created', note: { path: 'Idea.md', body: 'first' } });

    writeFileSync(join(dir, 'Idea.md'), '---\npriority: 5\n---\nsecond');
    await until(() => changes.length === 2, 'the modification');
    expect(changes[1]).toMatchObject({
      kind: 'modified',
      note: { frontmatter: { priority: 5 }, body: 'second' },
    });

    unlinkSync(join(dir, 'Idea.md'));
    await until(() => changes.length === 3, 'the deletion');
    expect(changes[2]).toEqual({ kind: 'deleted', path: 'Idea.md' });
  });

  it("reports a task note's rename as one change, whoever made it", async () => {
    const { dir, store, changes } = await vault();
    mkdirSync(join(dir, 'Tasks'));
    writeFileSync(join(dir, 'Tasks', 'Old.md'), USER_NOTE);
    await until(() => changes.length === 1, 'the created note');

    renameSync(join(dir, 'Tasks', 'Old.md'), join(dir, 'Tasks', 'New.md'));
    await until(() => changes.length === 2, 'the rename');
    expect(changes[1]).toMatchObject({
      kind: 'renamed',
      oldPath: 'Tasks/Old.md',
      note: { path: 'Tasks/New.md' },
    });

    await store.move('Tasks/New.md', 'Tasks/Archive/New.md');
    await until(() => changes.length === 3, 'the move');
    expect(changes[2]).toMatchObject({
      kind: 'renamed',
      oldPath: 'Tasks/New.md',
      note: { path: 'Tasks/Archive/New.md' },
    });
    expect(existsSync(join(dir, 'Tasks', 'New.md'))).toBe(false);
    // The watcher's own delete and add for that move are not reported again.
    await new Promise((r) => setTimeout(r, 700));
    expect(changes).toHaveLength(3);
  });

  it('tells a task note deleted, or written again, where it was from a rename onto itself', async () => {
    const { dir, changes } = await vault();
    const note = join(dir, 'A.md');
    // Deleted soon after it appeared, while its arrival is held as half of a possible rename.
    writeFileSync(note, USER_NOTE);
    await new Promise((r) => setTimeout(r, 150));
    unlinkSync(note);
    await until(() => changes.length === 1, 'the deletion');
    expect(changes[0]).toEqual({ kind: 'deleted', path: 'A.md' });

    writeFileSync(note, USER_NOTE);
    await until(() => changes.length === 2, 'the note again');
    expect(changes[1]).toMatchObject({ kind: 'created', note: { path: 'A.md' } });
    // Deleted and written again in its place, as a checkout does: an edit.
    unlinkSync(note);
    writeFileSync(note, USER_NOTE.replace('Body text.', 'Checked out.'));
    await until(() => changes.length === 3, 'the edit');
    expect(changes[2]).toMatchObject({
      kind: 'modified',
      note: { path: 'A.md', body: 'Checked out.\n' },
    });
    await new Promise((r) => setTimeout(r, 600));
    expect(changes).toHaveLength(3);
  });
});
