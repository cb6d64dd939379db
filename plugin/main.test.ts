// @vitest-environment happy-dom
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { get } from 'svelte/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Notice, setMobile, type App } from './testing/obsidian-fake/index.ts';
import {
  PLUGIN_DIR,
  commitInto,
  eventually,
  runCommand,
  startPlugin,
  stopPlugin,
  typeInto,
  withText,
  type StartedPlugin,
} from './obsidian/testing/plugin-harness.ts';
import OwpPoolPlugin from './main.ts';
import { localWorkerId, normalizeSettings } from './obsidian/settings.ts';

// Vitest cannot import .wasm as bytes (the build inlines it); hand sql.js the file instead.
vi.mock('./obsidian/sql-wasm.ts', async () => {
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
  return started;
}

/** The text of a note's frontmatter key, as the metadata cache reads it. */
async function property(app: App, path: string, key: string): Promise<unknown> {
  await app.metadataCache.settled();
  return app.metadataCache.getCache(path)?.frontmatter?.[key];
}

function viewEl(app: App, testId: string): HTMLElement {
  const el = app.workspace.containerEl.querySelector<HTMLElement>(`[data-testid="${testId}"]`);
  if (!el) throw new Error(`${testId} is not open`);
  return el;
}

function click(el: Element | undefined): void {
  if (!el) throw new Error('Nothing to click');
  (el as HTMLElement).click();
}

describe('the plugin in Obsidian', () => {
  it('adds its commands (no default hotkeys), views, ribbon icon and status bar item', async () => {
    const { app } = await start();
    const ids = Object.keys(app.commands.commands).sort();
    expect(ids).toEqual(
      [
        'create-task',
        'go-offline',
        'go-online',
        'import-tasks',
        'make-folder-notes-tasks',
        'open-activity',
        'open-analytics',
        'open-board',
        'open-my-work',
        'open-workers',
        'register-worker',
        'turn-note-into-task',
        'why-task-waits',
      ].map((id) => `owp-pool:${id}`),
    );
    for (const command of Object.values(app.commands.commands))
      expect(command.hotkeys).toBeUndefined();
    expect([...app.viewRegistry.keys()].sort()).toEqual([
      'owp-pool-activity',
      'owp-pool-analytics',
      'owp-pool-board',
      'owp-pool-my-work',
      'owp-pool-workers',
    ]);
    expect(app.ribbonEl.querySelector('[aria-label="Open pool board"]')).not.toBeNull();
    await eventually(() =>
      expect(app.statusBarEl.textContent).toBe('0 online · 0 ready · 0/0 PRs'),
    );
  });

  it('“Create task” makes a task and its note, and opens the note', async () => {
    const { app, plugin } = await start();
    runCommand(app, 'create-task');
    const modal = document.querySelector<HTMLElement>('.modal-container')!;
    const inputs = modal.querySelectorAll<HTMLInputElement>('input');
    typeInto(inputs[0]!, 'Fix the login redirect');
    typeInto(inputs[2]!, '3');
    typeInto(inputs[3]!, 'typescript, auth');
    click(withText(modal, 'button', 'Create')[0]);

    const path = 'Tasks/Fix the login redirect.md';
    await eventually(() => expect(app.vault.getFileByPath(path)).not.toBeNull());
    await eventually(async () => expect(await property(app, path, 'status')).toBe('ready'));
    const id = (await property(app, path, 'owp_id')) as string;
    const task = await plugin.controller.running!.api.getTask(id);
    expect(task).toMatchObject({
      title: 'Fix the login redirect',
      repo: 'default',
      estimate_points: 3,
    });
    expect(task.required_skills.sort()).toEqual(['auth', 'typescript']);
    expect(app.workspace.getActiveFile()?.path).toBe(path);
    expect(document.querySelector('.modal-container')).toBeNull();
  });

  it('writes its settings only when a value changes', async () => {
    const { app, plugin } = await start();
    const save = vi.spyOn(plugin, 'saveData');
    const tab = app.setting.pluginTabs[0]!;
    const el = app.setting.openTab(tab);
    expect(save).not.toHaveBeenCalled(); // opening the settings writes nothing

    const folder = withText<HTMLElement>(el, '.setting-item', 'Tasks folder')[0]!;
    const input = folder.querySelector('input')!;
    typeInto(input, 'Tasks');
    await plugin.settings.update({}); // let any write finish
    expect(save).not.toHaveBeenCalled(); // same value: nothing to write

    // Typed, not yet left: a half-typed folder is never saved.
    typeInto(input, 'Wo');
    await plugin.settings.update({});
    expect(save).not.toHaveBeenCalled();
    commitInto(input, 'Work/Tasks');
    await eventually(() => expect(save).toHaveBeenCalledTimes(1));
    expect(plugin.settings.settings.tasksFolder).toBe('Work/Tasks');
    const data = JSON.parse(await app.vault.adapter.read(`${PLUGIN_DIR}/data.json`)) as {
      settings: { tasksFolder: string };
    };
    expect(data.settings.tasksFolder).toBe('Work/Tasks');
    app.setting.close();
  });

  it('never makes the vault root the tasks folder: an emptied field is put back', async () => {
    const { app, plugin } = await start({
      files: { 'Journal/2026-01-01.md': '---\nmood: good\n---\nDear diary.\n' },
    });
    const el = app.setting.openTab(app.setting.pluginTabs[0]!);
    const input = withText<HTMLElement>(el, '.setting-item', 'Tasks folder')[0]!.querySelector(
      'input',
    )!;
    // Slashes either way round name the root too (`\\` is `/` in a vault path).
    for (const root of [' / ', '\\']) {
      commitInto(input, root);
      expect(input.value).toBe('Tasks');
      expect(Notice.messages.at(-1)).toBe(
        'The tasks folder must be a folder: every note in it becomes a task.',
      );
    }
    await plugin.settings.update({});
    expect(plugin.settings.settings.tasksFolder).toBe('Tasks');
    // A data file edited by hand cannot do it either.
    expect(normalizeSettings({ tasksFolder: '/' }).tasksFolder).toBe('Tasks');
    expect(await property(app, 'Journal/2026-01-01.md', 'owp_id')).toBeUndefined();
    app.setting.close();
  });

  it('does not write a deleted task note again when the sync starts again', async () => {
    const { app, plugin } = await start();
    await plugin.controller.createTask({ repo: 'default', title: 'Unwanted note' });
    await plugin.controller.running!.sync!.flush();
    await app.vault.delete(app.vault.getFileByPath('Tasks/Unwanted note.md')!);
    await plugin.controller.running!.sync!.flush();

    // Any changed setting starts the sync again, as a restart does.
    await plugin.settings.update({ archiveFolder: 'Done' });
    await plugin.controller.restart();
    await plugin.controller.running!.sync!.flush();
    expect(app.vault.getFileByPath('Tasks/Unwanted note.md')).toBeNull();
    const [task] = (await plugin.controller.running!.api.listTasks()).tasks;
    expect(task).toMatchObject({ title: 'Unwanted note', status: 'ready' });
  });

  it('does not write again a task note deleted while Obsidian was closed', async () => {
    const { app, plugin } = await start();
    await plugin.controller.createTask({ repo: 'default', title: 'Deleted while closed' });
    await stopPlugin(started!);
    const vaultPath = app.vault.basePath;
    started = null;

    // Outside Obsidian: the file manager, a shell, git.
    rmSync(join(vaultPath, 'Tasks', 'Deleted while closed.md'));
    const again = await start({ vaultPath });
    again.app.markTemporary();
    await again.plugin.controller.running!.sync!.flush();
    expect(existsSync(join(vaultPath, 'Tasks', 'Deleted while closed.md'))).toBe(false);
    const [task] = (await again.plugin.controller.running!.api.listTasks()).tasks;
    expect(task).toMatchObject({ title: 'Deleted while closed', status: 'ready' });
    const data = JSON.parse(readFileSync(join(vaultPath, PLUGIN_DIR, 'data.json'), 'utf8'));
    expect(data.deletedNotes).toEqual({ embedded: [task!.task_id] });
  });

  it('saves a field typed in when the settings close, and refuses a capacity out of range', async () => {
    const { app, plugin } = await start();
    let el = app.setting.openTab(app.setting.pluginTabs[0]!);
    const field = (label: string) =>
      withText<HTMLElement>(el, '.setting-item', label)[0]!.querySelectorAll('input');
    commitInto(field('Capacity')[0]!, '150');
    expect(Notice.messages.at(-1)).toBe('Points: a whole number from 1 to 100.');
    expect(field('Capacity')[0]!.value).toBe(String(plugin.settings.settings.workerCapacityPoints));
    commitInto(field('Capacity')[1]!, '4');
    await eventually(() => expect(plugin.settings.settings.workerMaxTasks).toBe(4));

    // Typed, and the settings closed with the cursor still in the field: saved all the same.
    typeInto(field('Archive folder')[0]!, 'Done');
    app.setting.close();
    await eventually(() => expect(plugin.settings.settings.archiveFolder).toBe('Done'));
    el = app.setting.openTab(app.setting.pluginTabs[0]!);
    expect(field('Archive folder')[0]!.value).toBe('Done');
    app.setting.close();
  });

  it('keeps the worker token in Obsidian’s secret storage, not in the data file', async () => {
    const { app, plugin } = await start();
    runCommand(app, 'register-worker');
    await eventually(() => expect(localWorkerId(plugin.settings.settings)).not.toBeNull());
    const secrets = app.secretStorage!.listSecrets();
    expect(secrets).toHaveLength(1);
    // One entry per pool's worker: this one is the embedded pool's.
    expect(secrets[0]).toMatch(/^owp-pool-[0-9a-f]{8}-worker-token-[0-9a-f]{8}$/);
    const token = app.secretStorage!.getSecret(secrets[0]!)!;
    expect(token.length).toBeGreaterThan(20);
    const file = await app.vault.adapter.read(`${PLUGIN_DIR}/data.json`);
    expect(file).not.toContain(token);
  });

  it('without secret storage (Obsidian before 1.11.4), keeps the token in its data file', async () => {
    const { createApp } = await import('./testing/obsidian-fake/index.ts');
    const app = createApp();
    delete app.secretStorage;
    const { MANIFEST } = await import('./obsidian/testing/plugin-harness.ts');
    const plugin = await app.loadPlugin(OwpPoolPlugin, MANIFEST);
    started = { app, plugin };
    await app.workspace.setLayoutReady();
    await plugin.ready;
    await plugin.controller.registerWorker();
    const data = JSON.parse(await app.vault.adapter.read(`${PLUGIN_DIR}/data.json`)) as {
      tokens?: Record<string, string>;
    };
    const [key, token] = Object.entries(data.tokens ?? {})[0] ?? [];
    expect(key).toMatch(/^worker:[0-9a-f]{8}$/);
    expect(token).toMatch(/.{20,}/);
    expect(plugin.settings.tokenStorage).toBe('plugin-data');
  });
});

describe('the other commands', () => {
  it('“Turn the current note into a task” moves the note into the tasks folder and makes it a task', async () => {
    const { app, plugin } = await start({
      files: {
        'Ideas/Better search.md': '---\ntags: [idea]\n---\nSearch should find tasks too.\n',
      },
    });
    await app.workspace.getLeaf(false).openFile(app.vault.getFileByPath('Ideas/Better search.md')!);
    runCommand(app, 'turn-note-into-task');
    const path = 'Tasks/Better search.md';
    await eventually(async () => expect(await property(app, path, 'status')).toBe('ready'));
    expect(await property(app, path, 'tags')).toEqual(['idea']); // the user's own property stays
    const id = (await property(app, path, 'owp_id')) as string;
    const task = await plugin.controller.running!.api.getTask(id);
    expect(task).toMatchObject({
      title: 'Better search',
      description: 'Search should find tasks too.',
    });
    // Now a task's note: the command is not offered for it again.
    await app.workspace.getLeaf(false).openFile(app.vault.getFileByPath(path)!);
    expect(app.commands.executeCommandById('owp-pool:turn-note-into-task')).toBe(false);
  });

  it('“Why is this task waiting?” tells, for a task’s note, what holds it back', async () => {
    const { app, plugin } = await start({ files: { 'Ideas/Plain.md': 'Just a note.\n' } });
    const api = plugin.controller.running!.api;
    await api.upsertRepo({ repo: 'default' });
    const first = await api.createTask({ repo: 'default', title: 'Schema' });
    await api.createTask({ repo: 'default', title: 'API', depends_on: [first.task_id] });
    const path = 'Tasks/API.md';
    await eventually(() => expect(app.vault.getFileByPath(path)).not.toBeNull());
    await app.workspace.getLeaf(false).openFile(app.vault.getFileByPath(path)!);
    runCommand(app, 'why-task-waits');
    await eventually(() =>
      expect(Notice.messages.at(-1)).toBe(
        `Waits for 1 task to be merged: ${first.task_id} "Schema" (ready).`,
      ),
    );
    // A note that is not a task's: the command is not offered.
    await app.workspace.getLeaf(false).openFile(app.vault.getFileByPath('Ideas/Plain.md')!);
    expect(app.commands.executeCommandById('owp-pool:why-task-waits')).toBe(false);
  });

  it('“Import tasks from a YAML file” makes a task and a note per valid item and reports the rest', async () => {
    const { app } = await start({
      files: {
        'Backlog/sprint.yaml':
          '- title: Write the release notes\n  estimate_points: 2\n' +
          '- title: Too big\n  estimate_points: 500\n' +
          '- title: Check the links\n  required_skills: [docs]\n',
      },
    });
    runCommand(app, 'import-tasks');
    const modal = document.querySelector<HTMLElement>('.modal-container')!;
    expect(modal.querySelector('select')!.value).toBe('Backlog/sprint.yaml');
    typeInto(modal.querySelector<HTMLInputElement>('input')!, 'acme/docs');
    click(withText(modal, 'button', 'Import')[0]);
    await eventually(() =>
      expect(
        Notice.messages.some((m) =>
          m.startsWith('Imported 2 tasks from Backlog/sprint.yaml. 1 skipped'),
        ),
      ).toBe(true),
    );
    for (const path of ['Tasks/Write the release notes.md', 'Tasks/Check the links.md']) {
      await eventually(async () => expect(await property(app, path, 'repo')).toBe('acme/docs'));
    }
    expect(Notice.messages.join('\n')).toContain('Item 2 (“Too big”)');

    // The same file again: answered with the tasks made, no second task and no second note.
    runCommand(app, 'import-tasks');
    const again = document.querySelector<HTMLElement>('.modal-container')!;
    typeInto(again.querySelector<HTMLInputElement>('input')!, 'acme/docs');
    click(withText(again, 'button', 'Import')[0]);
    await eventually(() =>
      expect(
        Notice.messages.some((m) =>
          m.startsWith(
            'Imported 2 tasks from Backlog/sprint.yaml (2 made by an earlier import, not made again). 1 skipped',
          ),
        ),
      ).toBe(true),
    );
    const notes = app.vault
      .getMarkdownFiles()
      .map((f) => f.path)
      .filter((p) => p.startsWith('Tasks/'));
    expect(notes.sort()).toEqual(['Tasks/Check the links.md', 'Tasks/Write the release notes.md']);
  });

  it('“Go offline” stops the heartbeat; the command list follows the state', async () => {
    const { app, plugin } = await start();
    expect(app.commands.executeCommandById('owp-pool:go-offline')).toBe(false);
    runCommand(app, 'go-online'); // registers first when needed
    await eventually(() => expect(plugin.controller.running!.online).toBe(true));
    expect(localWorkerId(plugin.settings.settings)).not.toBeNull();
    expect(app.commands.executeCommandById('owp-pool:go-online')).toBe(false);
    runCommand(app, 'go-offline');
    await eventually(() => expect(plugin.controller.running!.online).toBe(false));
  });
});

describe('going online, and staying online', () => {
  /** The vault's worker as the pool sees it. */
  async function poolWorker(plugin: OwpPoolPlugin, workerId: string) {
    const workers = await plugin.controller.running!.api.listWorkers();
    return workers.find((w) => w.worker_id === workerId);
  }

  async function goOnline({ app, plugin }: StartedPlugin): Promise<string> {
    runCommand(app, 'go-online'); // registers first
    await eventually(() => expect(plugin.controller.running?.online).toBe(true));
    return plugin.controller.running!.localWorkerId!;
  }

  // Was: any such setting took an online worker offline without a word: its leases stopped being
  // renewed, and the old session stopped without saying so, so the pool went on granting to it.
  it('stays online through a change of folders or role, as the same worker', async () => {
    const { app, plugin } = await start();
    const me = await goOnline(started!);
    const before = plugin.controller.running;

    await plugin.settings.update({ cancelOnDelete: true, role: 'worker' });
    await eventually(() => expect(plugin.controller.running).not.toBe(before));
    await eventually(() => expect(plugin.controller.running!.online).toBe(true));
    expect(plugin.controller.running!.localWorkerId).toBe(me);
    expect(get(plugin.controller.session).online).toBe(true);
    expect(await poolWorker(plugin, me)).toMatchObject({ online: true, status: 'idle' });
    expect(app.commands.executeCommandById('owp-pool:go-offline')).toBe(true);
    expect(Notice.messages.join('\n')).not.toContain('offline');
  });

  it('says the vault is offline now, and how to go online, when the settings change who it works as', async () => {
    const { plugin } = await start();
    await goOnline(started!);
    const before = plugin.controller.running;

    await plugin.settings.update({ role: 'admin' });
    await eventually(() => expect(plugin.controller.running).not.toBe(before));
    await eventually(() =>
      expect(Notice.messages.at(-1)).toBe(
        'You are offline now: the role no longer includes working on tasks. To take tasks ' +
          'again, set it to “worker” or “admin and worker” and go online.',
      ),
    );
    expect(plugin.controller.running!.online).toBe(false);
  });

  it('has the session it replaces say its worker is going, so the pool grants it nothing more', async () => {
    const { plugin } = await start();
    const me = await goOnline(started!);
    const before = plugin.controller.running!;
    const beats: string[] = [];
    const heartbeat = before.api.heartbeat.bind(before.api);
    vi.spyOn(before.api, 'heartbeat').mockImplementation((request) => {
      beats.push(request?.status ?? 'idle');
      return heartbeat(request);
    });

    await plugin.controller.restart(true);
    expect(beats).toEqual(['paused']);
    expect(plugin.controller.running!.online).toBe(true);
    expect(await poolWorker(plugin, me)).toMatchObject({ status: 'idle' });
  });
});

describe('registering again', () => {
  // Was: the new worker replaced the old one at once; the old one's leases vanished from My work
  // and stayed with a worker nobody ran, until they ran out and went back with an attempt counted.
  it('is refused while the worker holds leases, saying how many; once released, it goes', async () => {
    const { app, plugin } = await start();
    const api = plugin.controller.running!.api;
    await api.upsertRepo({ repo: 'notes', area_locks_enabled: false });
    await api.createTask({ repo: 'notes', title: 'First', estimate_points: 1 });
    await api.createTask({ repo: 'notes', title: 'Second', estimate_points: 1 });
    runCommand(app, 'go-online');
    await eventually(async () => expect((await api.getWork()).leases).toHaveLength(2));
    const me = plugin.controller.running!.localWorkerId;

    const el = app.setting.openTab(app.setting.pluginTabs[0]!);
    click(withText(el, 'button', 'Register again')[0]);
    await eventually(() =>
      expect(Notice.messages.at(-1)).toBe(
        'Could not register: This vault’s worker holds 2 tasks. Finish or release them in My ' +
          'work first: a new registration is a new worker, and the old one would keep them ' +
          'until their leases run out.',
      ),
    );
    app.setting.close();
    expect(plugin.controller.running!.localWorkerId).toBe(me);
    expect((await api.getWork()).leases).toHaveLength(2);

    // Given up (released, and cancelled so they are not granted again), it registers a new
    // worker — online, as the old one was.
    await plugin.controller.setOnline(false);
    for (const lease of (await api.getWork()).leases) {
      await api.releaseLease(lease.lease_id);
      await api.cancelTask(lease.task_id);
    }
    await plugin.controller.setOnline(true);
    await plugin.controller.registerWorker();
    const now = plugin.controller.running!.localWorkerId!;
    expect(now).not.toBe(me);
    expect(plugin.controller.running!.online).toBe(true);
    const workers = await api.listWorkers();
    expect(workers.find((w) => w.worker_id === me)).toMatchObject({ status: 'paused' });
  });
});

describe('on a phone', () => {
  afterEach(() => setMobile(false));

  it('adds no status bar item, and lays the views out for touch', async () => {
    setMobile(true);
    const { app, plugin } = await start();
    expect(app.statusBarEl.querySelector('.status-bar-item')).toBeNull();
    await plugin.openView('myWork');
    const content = app.workspace.containerEl.querySelector('.owp-view-container')!;
    expect(content.classList.contains('is-phone')).toBe(true);
  });
});

describe('embedded mode, as a new user tries it', () => {
  it('notes become tasks; registered and online, I get leases; a PR opened shows in the notes, the board and the feed', async () => {
    const { app, plugin } = await start();

    // Three tasks, written as notes.
    await app.vault.createFolder('Tasks');
    await app.vault.create(
      'Tasks/Fix the login redirect.md',
      '---\npriority: 20\npoints: 2\n---\nUsers land on a blank page.\n',
    );
    await app.vault.create('Tasks/Write the changelog.md', '---\npoints: 1\n---\n');
    await app.vault.create('Tasks/Refactor the cache.md', '---\npoints: 5\n---\n');
    const notes = [
      'Tasks/Fix the login redirect.md',
      'Tasks/Write the changelog.md',
      'Tasks/Refactor the cache.md',
    ];
    for (const path of notes) {
      await eventually(async () => expect(await property(app, path, 'status')).toBe('ready'));
    }

    // The board shows them as ready.
    runCommand(app, 'open-board');
    await eventually(() => {
      const ready = viewEl(app, 'owp-board').querySelector(
        '[data-status="ready"] .owp-column-cards',
      )!;
      expect(ready.querySelectorAll('.owp-card')).toHaveLength(3);
    });

    // Register, go online: the pool hands out what fits (5 points, 2 tasks at once).
    runCommand(app, 'register-worker');
    await eventually(() => expect(localWorkerId(plugin.settings.settings)).not.toBeNull());
    runCommand(app, 'go-online');
    runCommand(app, 'open-my-work');
    const myWork = () => viewEl(app, 'owp-my-work');
    await eventually(() => expect(myWork().querySelectorAll('.owp-work')).toHaveLength(2));
    const titles = [...myWork().querySelectorAll('.owp-work .owp-card-title')].map((el) =>
      el.textContent?.trim(),
    );
    expect(titles.sort()).toEqual(['Fix the login redirect', 'Write the changelog']);
    await eventually(async () => expect(await property(app, notes[0]!, 'status')).toBe('leased'));
    expect(await property(app, notes[0]!, 'assignee')).toBe('Me');
    expect(await property(app, notes[0]!, 'lease_expires')).toMatch(/^\d{4}-/);

    // Start the login fix, then open its PR (the view asks for the link).
    const card = () =>
      myWork().querySelector<HTMLElement>(`.owp-work[data-task-id="${taskIdOfCard()}"]`)!;
    const taskIdOfCard = () =>
      withText<HTMLElement>(myWork(), '.owp-work', 'Fix the login redirect')[0]!.dataset.taskId;
    click(withText(card(), 'button', 'Start')[0]);
    await eventually(() => expect(card().dataset.status).toBe('in_progress'));
    click(withText(card(), 'button', 'PR opened')[0]);
    const url = await eventually(() => {
      const input = card().querySelector<HTMLInputElement>('input[type="url"]');
      if (!input) throw new Error('The view does not ask for the link');
      return input;
    });
    typeInto(url, 'https://github.com/acme/app/pull/7');
    click(withText(card(), 'button', 'Save')[0]);

    await eventually(async () => {
      expect(await property(app, notes[0]!, 'status')).toBe('pr_opened');
      expect(await property(app, notes[0]!, 'pr_url')).toBe('https://github.com/acme/app/pull/7');
    });
    await eventually(() => {
      const prColumn = viewEl(app, 'owp-board').querySelector('[data-status="pr_opened"]')!;
      expect(prColumn.textContent).toContain('Fix the login redirect');
    });
    runCommand(app, 'open-activity');
    await eventually(() =>
      expect(viewEl(app, 'owp-activity').textContent).toContain(
        'Me opened a PR for “Fix the login redirect”',
      ),
    );
    expect(app.statusBarEl.textContent).toMatch(/1 online · 1 ready · 1\/\d+ PRs/);

    // A repo that offers its work: the next task there waits in My work for a yes or a no.
    await plugin.controller.running!.api.upsertRepo({ repo: 'acme/docs', assignment: 'offer' });
    const offered = 'Tasks/Proofread the guide.md';
    await app.vault.create(offered, '---\nrepo: acme/docs\npoints: 1\n---\n');
    const offer = await eventually(() => {
      const item = myWork().querySelector<HTMLElement>('.owp-offer');
      if (!item) throw new Error('No offer in My work');
      return item;
    });
    expect(offer.querySelector('.owp-offer-title')!.textContent).toBe('Proofread the guide');
    await eventually(async () => expect(await property(app, offered, 'status')).toBe('offered'));
    click(withText(offer, 'button', 'Accept')[0]);

    // Accepted: the offer is gone and the lease is there, as any other.
    await eventually(() => {
      expect(myWork().querySelector('.owp-offer')).toBeNull();
      const lease = withText<HTMLElement>(myWork(), '.owp-work', 'Proofread the guide')[0]!;
      expect(lease.dataset.status).toBe('leased');
    });
    await eventually(async () => expect(await property(app, offered, 'status')).toBe('leased'));
    await eventually(() =>
      expect(viewEl(app, 'owp-activity').textContent).toContain(
        'Me accepted “Proofread the guide”',
      ),
    );
  });
});

describe('the v1 work rules in Obsidian', () => {
  it('puts the pool’s panel on a task’s note: the repo’s contract and what the task waits on', async () => {
    const { app, plugin } = await start();
    const api = plugin.controller.running!.api;
    await api.upsertRepo({
      repo: 'default',
      contract: { setup: 'npm ci', test: 'npm test', branch_naming: 'owp/<task>' },
    });
    await plugin.controller.createTask({ repo: 'default', title: 'Schema' });
    const schemaId = (await property(app, 'Tasks/Schema.md', 'owp_id')) as string;
    await app.vault.create('Tasks/API.md', `---\ndepends_on: [${schemaId}]\n---\nThe endpoints.\n`);
    await eventually(async () =>
      expect(await property(app, 'Tasks/API.md', 'status')).toBe('ready'),
    );
    await app.workspace.getLeaf(false).openFile(app.vault.getFileByPath('Tasks/API.md')!);

    const leaf = () => app.workspace.activeLeaf!.view.containerEl;
    const panel = await eventually(() => {
      const el = leaf().querySelector<HTMLElement>('.owp-note-panel');
      if (!el) throw new Error('No panel on the note');
      return el;
    });
    // Between the note's header and its content, not in the note.
    expect(panel.closest('.owp-note-panel-host')!.nextElementSibling).toBe(
      leaf().querySelector('.view-content'),
    );
    await eventually(() =>
      expect(panel.querySelector('.owp-note-panel-line')!.textContent).toBe(
        'Ready · waiting on 1 · contract',
      ),
    );
    expect(
      [...panel.querySelectorAll('.owp-contract-line')].map((l) =>
        l.textContent!.replace(/\s+/g, ' ').trim(),
      ),
    ).toEqual(['Setup npm ci', 'Test npm test', 'Branch naming owp/<task>']);
    expect(await app.vault.read(app.vault.getFileByPath('Tasks/API.md')!)).not.toContain('npm ci');

    // A dependency's title opens its note, which shows what it blocks.
    click(withText(panel, '.owp-dependency button', 'Schema')[0]);
    await eventually(() => expect(app.workspace.getActiveFile()?.path).toBe('Tasks/Schema.md'));
    await eventually(() =>
      expect(leaf().querySelector('.owp-note-panel-line')!.textContent).toBe(
        'Ready · blocks 1 · contract',
      ),
    );

    // A note that is not a task's has no panel.
    await app.vault.create('Journal.md', 'Today.\n');
    await app.workspace.getLeaf(false).openFile(app.vault.getFileByPath('Journal.md')!);
    expect(leaf().querySelector('.owp-note-panel')).toBeNull();
  });

  it('changes a worker’s trust tier from the Workers view, with the reason it asks for', async () => {
    const { app, plugin } = await start();
    await plugin.controller.registerWorker();
    runCommand(app, 'open-workers');
    const row = await eventually(() => {
      const el = viewEl(app, 'owp-workers').querySelector<HTMLElement>('.owp-worker');
      if (!el) throw new Error('No worker yet');
      return el;
    });
    expect(row.querySelector('.owp-trust')!.textContent!.trim()).toBe('Basic');
    click(withText(row, 'button', 'Change trust')[0]);

    const modal = document.querySelector<HTMLElement>('.modal-container')!;
    expect(modal.querySelector('.modal-title')!.textContent).toBe('Trust tier of Me');
    await eventually(() =>
      expect(modal.querySelector('.owp-reputation-score')?.textContent).toBe('Reputation 0.50'),
    );
    const select = modal.querySelector<HTMLSelectElement>('select')!;
    select.value = 'trusted';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    click(withText(modal, 'button', 'Change tier')[0]);
    expect(modal.querySelector('.owp-inline-error')!.textContent).toBe(
      'Give a reason: the audit log keeps it with the change.',
    );

    typeInto(modal.querySelector('textarea') as unknown as HTMLInputElement, 'Ten clean merges');
    click(withText(modal, 'button', 'Change tier')[0]);
    await eventually(() => expect(document.querySelector('.modal-container')).toBeNull());
    await eventually(() =>
      expect(viewEl(app, 'owp-workers').querySelector('.owp-trust')!.textContent!.trim()).toBe(
        'Trusted',
      ),
    );
    expect(Notice.messages).toContain('Me is now trusted.');
  });
});

describe('unloading', () => {
  it('removes every listener and interval it added, and saves the embedded database', async () => {
    const windowAdds = vi.spyOn(window, 'addEventListener');
    const windowRemoves = vi.spyOn(window, 'removeEventListener');
    const documentAdds = vi.spyOn(document, 'addEventListener');
    const documentRemoves = vi.spyOn(document, 'removeEventListener');
    const setIntervals = vi.spyOn(window, 'setInterval');
    const clearIntervals = vi.spyOn(window, 'clearInterval');

    const { app, plugin } = await start();
    const vaultListeners = ['create', 'modify', 'delete', 'rename'].map((name) =>
      app.vault.listenerCount(name),
    );
    expect(vaultListeners.some((n) => n > 0)).toBe(true);
    runCommand(app, 'open-board');
    runCommand(app, 'open-my-work');
    await plugin.controller.registerWorker();
    await plugin.controller.setOnline(true);
    await plugin.controller.createTask({ repo: 'default', title: 'Saved before closing' });

    await stopPlugin(started!);

    const added = (spy: typeof windowAdds) => spy.mock.calls.map((c) => c[0]).sort();
    expect(added(windowRemoves)).toEqual(added(windowAdds));
    expect(added(documentRemoves as typeof windowAdds)).toEqual(
      added(documentAdds as typeof windowAdds),
    );
    const intervals = setIntervals.mock.results.map((r) => r.value as number);
    const cleared = clearIntervals.mock.calls.map((c) => c[0]);
    for (const id of intervals) expect(cleared).toContain(id);
    for (const name of ['create', 'modify', 'delete', 'rename']) {
      expect(app.vault.listenerCount(name)).toBe(0);
    }
    expect(app.metadataCache.listenerCount('changed')).toBe(0);
    expect(app.workspace.getLeavesOfType('owp-pool-board')).toHaveLength(0);
    expect(Object.keys(app.commands.commands)).toHaveLength(0);

    // The database on disk has the task created just before closing.
    const files = (await app.vault.adapter.list(`${PLUGIN_DIR}/db`)).files;
    expect(files.some((f) => f.endsWith('.sqlite'))).toBe(true);
    const vaultPath = app.vault.basePath;
    started = null;
    const again = await start({ vaultPath });
    const tasks = await again.plugin.controller.running!.api.listTasks({});
    expect(tasks.tasks.map((t) => t.title)).toContain('Saved before closing');
    again.app.markTemporary();
  });
});
