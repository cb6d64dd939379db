import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
// Written as plugin code is: against the real module's types, running on the fake (the alias).
import { ItemView, Modal, Plugin, PluginSettingTab, Setting, requestUrl } from 'obsidian';
import { Notice, createApp, type App, type WorkspaceLeaf } from './index.ts';

const apps: App[] = [];
afterEach(() => {
  apps.splice(0).forEach((app) => app.destroy());
  Notice.clear();
});

function anApp(): App {
  const app = createApp();
  apps.push(app);
  return app;
}

const manifest = {
  id: 'sample',
  name: 'Sample',
  version: '1.0.0',
  minAppVersion: '1.8.7',
  description: 'A sample plugin.',
  author: 'Test',
};

class CounterView extends ItemView {
  opened = 0;
  getViewType() {
    return 'counter';
  }
  getDisplayText() {
    return 'Counter';
  }
  protected override async onOpen() {
    this.opened++;
    this.contentEl.createEl('h4', { text: 'Counter', cls: ['title', 'big'] });
  }
}

class SampleTab extends PluginSettingTab {
  values = { name: '', on: false, mode: 'a' };
  display() {
    new Setting(this.containerEl)
      .setName('Name')
      .setDesc('Your name')
      .addText((text) => text.setValue('x').onChange((v) => (this.values.name = v)));
    new Setting(this.containerEl)
      .setName('On')
      .addToggle((t) => t.onChange((v) => (this.values.on = v)));
    new Setting(this.containerEl).setName('Mode').addDropdown((d) =>
      d
        .addOptions({ a: 'A', b: 'B' })
        .setValue('a')
        .onChange((v) => (this.values.mode = v)),
    );
  }
}

class SamplePlugin extends Plugin {
  ran = 0;
  override async onload() {
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.addCommand({ id: 'run', name: 'Run', callback: () => this.ran++ });
    this.addRibbonIcon('dice', 'Open sample', () => this.ran++);
    this.addStatusBarItem().setText('3 online');
    this.registerView('counter', (leaf) => new CounterView(leaf));
    this.addSettingTab(new SampleTab(this.app, this));
    this.registerEvent(this.app.vault.on('create', () => this.ran++));
    this.registerInterval(setInterval(() => {}, 60_000) as unknown as number);
  }
}

describe('plugins', () => {
  it('load through an async onload, register what they add, and remove it all on unload', async () => {
    const app = anApp();
    const plugin = await app.loadPlugin(SamplePlugin, manifest);

    expect(app.commands.executeCommandById('sample:run')).toBe(true);
    expect(app.commands.listCommands().map((c) => c.name)).toEqual(['Sample: Run']);
    (app.ribbonEl.querySelector('[aria-label="Open sample"]') as HTMLElement).click();
    await app.vault.create('n.md', '');
    expect(plugin.ran).toBe(3);
    expect(app.statusBarEl.textContent).toBe('3 online');

    await app.unloadPlugin(plugin);
    expect(app.commands.listCommands()).toEqual([]);
    expect(app.ribbonEl.children).toHaveLength(0);
    expect(app.statusBarEl.children).toHaveLength(0);
    expect(app.vault.listenerCount('create')).toBe(0);
    expect(app.setting.pluginTabs).toEqual([]);
    expect(app.viewRegistry.has('counter')).toBe(false);
  });

  it('keep their data in data.json in the plugin folder', async () => {
    const app = anApp();
    const plugin = await app.loadPlugin(SamplePlugin, manifest);
    expect(await plugin.loadData()).toBeNull();
    await plugin.saveData({ folder: 'Tasks' });
    expect(await plugin.loadData()).toEqual({ folder: 'Tasks' });
    expect(await app.vault.adapter.exists('.obsidian/plugins/sample/data.json')).toBe(true);
  });
});

describe('settings', () => {
  it('are real inputs that call back as a user types, toggles and picks', async () => {
    const app = anApp();
    await app.loadPlugin(SamplePlugin, manifest);
    const tab = app.setting.pluginTabs[0] as unknown as SampleTab;
    const el = app.setting.openTab(tab as never);

    expect([...el.querySelectorAll('.setting-item-name')].map((n) => n.textContent)).toEqual([
      'Name',
      'On',
      'Mode',
    ]);
    const input = el.querySelector('input')!;
    expect(input.value).toBe('x');
    input.value = 'Ada';
    input.dispatchEvent(new input.ownerDocument.defaultView!.Event('input'));
    (el.querySelector('.checkbox-container') as HTMLElement).click();
    const select = el.querySelector('select')!;
    select.value = 'b';
    select.dispatchEvent(new select.ownerDocument.defaultView!.Event('change'));

    expect(tab.values).toEqual({ name: 'Ada', on: true, mode: 'b' });
    expect(el.querySelector('.checkbox-container')!.classList.contains('is-enabled')).toBe(true);
  });

  it('chain through then(cb), and fail a promise resolved with one instead of freezing', async () => {
    const el = anApp().workspace.containerEl.createDiv();
    let chained: unknown;
    const setting = new Setting(el).addText((text) => text.then((t) => (chained = t)));
    expect(chained).toBeDefined();
    expect(setting.then(() => undefined)).toBe(setting);
    // In Obsidian this promise never settles: it adopts the component, whose then(cb) hands the
    // component back to resolve, again and again.
    await expect(Promise.resolve('token').then(() => setting)).rejects.toThrow(
      /resolved with Setting, whose then\(cb\) is Obsidian's chaining helper/,
    );
  });
});

describe('the workspace', () => {
  it('opens registered views in side leaves with a real container, and finds them by type', async () => {
    const app = anApp();
    await app.loadPlugin(SamplePlugin, manifest);
    let ready = false;
    app.workspace.onLayoutReady(() => (ready = true));
    expect(ready).toBe(false);
    await app.workspace.setLayoutReady();
    expect(ready).toBe(true);

    const leaf = app.workspace.getRightLeaf(false)!;
    await leaf.setViewState({ type: 'counter', active: true });
    await app.workspace.revealLeaf(leaf);

    const [found] = app.workspace.getLeavesOfType('counter') as WorkspaceLeaf[];
    const view = found!.view as unknown as CounterView;
    expect(view.opened).toBe(1);
    expect(view.containerEl.children[1]).toBe(view.contentEl);
    expect(view.contentEl.querySelector('h4.title.big')?.textContent).toBe('Counter');
    expect(app.workspace.activeLeaf).toBe(leaf);
  });

  it('tells who listens when the active leaf changes, and knows the active file', async () => {
    const app = anApp();
    const file = await app.vault.create('Note.md', 'x');
    const changes: unknown[] = [];
    app.workspace.on('active-leaf-change', (leaf) => changes.push(leaf));
    await app.workspace.openLinkText('Note', '', false);
    expect(app.workspace.getActiveFile()).toBe(file);
    expect(changes).toHaveLength(1);
  });
});

describe('Obsidian’s DOM helpers', () => {
  it('are installed on elements', () => {
    const app = anApp();
    const el = app.workspace.containerEl.createDiv({ cls: 'a', attr: { 'data-x': 1 } });
    el.createSpan({ text: 'hi' });
    el.addClass('b');
    el.toggleClass('a', false);
    expect(el.outerHTML).toBe('<div class="b" data-x="1"><span>hi</span></div>');
    el.empty();
    el.setText('done');
    expect(el.getText()).toBe('done');
  });
});

describe('modals and notices', () => {
  it('puts a modal in the document while it is open', () => {
    const app = anApp();
    class Ask extends Modal {
      override onOpen() {
        this.setTitle('Pull request URL');
        this.contentEl.createEl('input', { type: 'url' });
      }
    }
    const modal = new Ask(app as never);
    modal.open();
    const doc = modal.containerEl.ownerDocument;
    expect(doc.querySelector('.modal-title')?.textContent).toBe('Pull request URL');
    modal.close();
    expect(doc.querySelector('.modal')).toBeNull();
  });

  it('records every notice shown', () => {
    new Notice('One');
    new Notice('Two').setMessage('Two, updated');
    expect(Notice.messages).toEqual(['One', 'Two', 'Two, updated']);
  });
});

describe('secret storage (Obsidian 1.11.4+)', () => {
  it('keeps secrets by id, outside the vault', async () => {
    const app = anApp();
    app.secretStorage!.setSecret('owp-admin-token', 's3cret');
    expect(app.secretStorage!.getSecret('owp-admin-token')).toBe('s3cret');
    expect(app.secretStorage!.getSecret('missing')).toBeNull();
    expect(app.secretStorage!.listSecrets()).toEqual(['owp-admin-token']);
    expect((await app.vault.adapter.list('/')).files).toEqual([]);
  });
});

describe('requestUrl', () => {
  it('sends over fetch and rejects a 4xx unless told not to throw', async () => {
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await requestUrl({
        url: `${base}/x`,
        method: 'POST',
        headers: { Authorization: 'Bearer t' },
      });
      expect(ok.status).toBe(200);
      expect(ok.json).toEqual({ method: 'POST', auth: 'Bearer t' });
      expect(await requestUrl(`${base}/x`).json).toEqual({ method: 'GET', auth: null });
      await expect(requestUrl(`${base}/missing`)).rejects.toMatchObject({ status: 404 });
      expect((await requestUrl({ url: `${base}/missing`, throw: false })).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
