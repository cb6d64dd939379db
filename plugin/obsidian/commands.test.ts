// @vitest-environment happy-dom
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Notice, type App } from '../testing/obsidian-fake/index.ts';
import OwpPoolPlugin from '../main.ts';
import {
  PLUGIN_DIR,
  eventually,
  runCommand,
  startPlugin,
  stopPlugin,
  type StartedPlugin,
} from './testing/plugin-harness.ts';

// Vitest cannot import .wasm as bytes (the build inlines it); hand sql.js the file instead.
vi.mock('./sql-wasm.ts', async () => {
  const { readFileSync } = await import('node:fs');
  return { sqlWasmBinary: new Uint8Array(readFileSync('node_modules/sql.js/dist/sql-wasm.wasm')) };
});

let started: StartedPlugin | null = null;
beforeEach(() => Notice.clear());
afterEach(async () => {
  if (started) {
    await stopPlugin(started).catch(() => undefined);
    started.app.destroy();
    started = null;
  }
});

async function start(options: Parameters<typeof startPlugin>[1] = {}): Promise<StartedPlugin> {
  started = await startPlugin(OwpPoolPlugin, options);
  await started.plugin.controller.running!.sync!.flush();
  return started;
}

const text = (app: App, path: string) => app.vault.read(app.vault.getFileByPath(path)!);
const titles = async ({ plugin }: StartedPlugin) =>
  (await plugin.controller.running!.api.listTasks({})).tasks.map((task) => task.title).sort();
const LEFT_ALONE = /^(\d+) note\(s\) already in "(\w+)" were left as they are/;

describe('“Make the notes in the tasks folder tasks”', () => {
  // Was: enabling the plugin over an existing "Tasks" folder made every note in it a task and
  // wrote owp_* properties into each, unasked.
  it('makes tasks of the notes the first start left as they are, and only when asked', async () => {
    const files = {
      'Tasks/Buy milk.md': '- [ ] milk\n- [ ] eggs\n',
      // In the archive folder: never a task, left alone or not.
      'Tasks/Archive/Old chores.md': '- [x] done\n',
      'Tasks/Call mum.md': '---\nrepo: family calls\n---\nSunday\n',
    };
    const first = await start({ files });
    expect(await titles(first)).toEqual([]);
    for (const [path, content] of Object.entries(files)) {
      expect(await text(first.app, path)).toBe(content);
    }
    expect(Notice.messages.filter((m) => LEFT_ALONE.test(m))).toEqual([
      expect.stringMatching(/^2 note\(s\) already in "Tasks" were left as they are/),
    ]);

    // Obsidian closed and opened again: still left alone, and not told again.
    await stopPlugin(first);
    started = null;
    const vaultPath = first.app.vault.basePath;
    const data = JSON.parse(readFileSync(join(vaultPath, PLUGIN_DIR, 'data.json'), 'utf8'));
    expect(data.leftNotes).toEqual({ embedded: ['Tasks/Buy milk.md', 'Tasks/Call mum.md'] });
    Notice.clear();
    const again = await start({ vaultPath });
    again.app.markTemporary();
    expect(await titles(again)).toEqual([]);
    expect(await text(again.app, 'Tasks/Buy milk.md')).toBe(files['Tasks/Buy milk.md']);
    expect(Notice.messages).toEqual([]);

    runCommand(again.app, 'make-folder-notes-tasks');
    await eventually(() =>
      expect(Notice.messages.at(-1)).toBe(
        '1 note(s) in the tasks folder became tasks. 1 could not; a notice of its own says why for each.',
      ),
    );
    expect(await titles(again)).toEqual(['Buy milk']);
    expect(Notice.messages.join('\n')).toContain('"family calls" is not');
    // None left alone now: the command is not offered.
    expect(again.app.commands.executeCommandById('owp-pool:make-folder-notes-tasks')).toBe(false);
  });

  it('is offered after the tasks folder is set to a folder of the user’s notes, which are left alone', async () => {
    const { app, plugin } = await start({
      files: {
        'Journal/2024-01-01.md': '---\ntags: [daily]\n---\nDear diary.\n',
        'Journal/2024-01-02.md': 'Rain.\n',
      },
    });
    expect(app.commands.executeCommandById('owp-pool:make-folder-notes-tasks')).toBe(false);

    await plugin.settings.update({ tasksFolder: 'Journal' });
    await plugin.controller.restart();
    await plugin.controller.running!.sync!.flush();

    expect(await titles(started!)).toEqual([]);
    expect(await text(app, 'Journal/2024-01-01.md')).toBe('---\ntags: [daily]\n---\nDear diary.\n');
    expect(Notice.messages.filter((m) => LEFT_ALONE.test(m))).toEqual([
      expect.stringMatching(/^2 note\(s\) already in "Journal" were left as they are/),
    ]);
    runCommand(app, 'make-folder-notes-tasks');
    await eventually(() =>
      expect(Notice.messages.at(-1)).toBe('2 note(s) in the tasks folder became tasks.'),
    );
    expect(await titles(started!)).toEqual(['2024-01-01', '2024-01-02']);
  });
});
