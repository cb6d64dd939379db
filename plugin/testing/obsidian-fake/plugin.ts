import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';
import type { App } from './app.ts';
import { Component } from './component.ts';
import { domDocument } from './dom.ts';

/** Obsidian's `SettingTab`: `display()` fills `containerEl`; `hide()` empties it. */
export abstract class SettingTab implements Partial<Loose<obsidian.SettingTab>> {
  app: App;
  containerEl: HTMLElement;

  constructor(app: obsidian.App) {
    this.app = app as unknown as App;
    this.containerEl = domDocument().createElement('div');
    this.containerEl.className = 'vertical-tab-content';
  }

  abstract display(): void;

  hide(): void {
    this.containerEl.replaceChildren();
  }
}

export abstract class PluginSettingTab
  extends SettingTab
  implements Partial<Loose<obsidian.PluginSettingTab>>
{
  constructor(
    app: obsidian.App,
    readonly plugin: obsidian.Plugin,
  ) {
    super(app);
  }
}

/**
 * Obsidian's `Plugin`. What it adds — commands, ribbon icons, status-bar items, setting tabs,
 * views — goes into the fake app's registries and comes out again on unload, as in Obsidian.
 * `loadData`/`saveData` use `data.json` in the plugin's folder in the vault's config folder.
 */
export abstract class Plugin extends Component implements Partial<Loose<obsidian.Plugin>> {
  app: App;
  manifest: obsidian.PluginManifest;

  constructor(app: obsidian.App, manifest: obsidian.PluginManifest) {
    super();
    this.app = app as unknown as App;
    this.manifest = manifest;
  }

  override onload(): void | Promise<void> {}

  /** Fake-only: resolves when `onload` (maybe async) has finished. */
  async loaded(): Promise<void> {
    await this.loading;
  }

  addRibbonIcon(icon: string, title: string, callback: (evt: MouseEvent) => unknown): HTMLElement {
    const el = this.app.ribbonEl.appendChild(domDocument().createElement('div'));
    el.className = 'side-dock-ribbon-action clickable-icon';
    el.setAttribute('aria-label', title);
    el.setAttribute('data-icon', icon);
    el.addEventListener('click', (evt) => void callback(evt as MouseEvent));
    this.register(() => el.remove());
    return el;
  }

  /** A status-bar item; Obsidian has no status bar on mobile, but the element is still returned. */
  addStatusBarItem(): HTMLElement {
    const el = this.app.statusBarEl.appendChild(domDocument().createElement('div'));
    el.className = `status-bar-item plugin-${this.manifest.id}`;
    this.register(() => el.remove());
    return el;
  }

  addCommand(command: obsidian.Command): obsidian.Command {
    const full = {
      ...command,
      id: `${this.manifest.id}:${command.id}`,
      name: `${this.manifest.name}: ${command.name}`,
    };
    this.app.commands.commands[full.id] = full;
    this.register(() => delete this.app.commands.commands[full.id]);
    return full;
  }

  removeCommand(commandId: string): void {
    delete this.app.commands.commands[`${this.manifest.id}:${commandId}`];
  }

  addSettingTab(settingTab: obsidian.PluginSettingTab): void {
    const tab = settingTab as unknown as PluginSettingTab;
    this.app.setting.pluginTabs.push(tab);
    this.register(() => {
      const at = this.app.setting.pluginTabs.indexOf(tab);
      if (at >= 0) this.app.setting.pluginTabs.splice(at, 1);
    });
  }

  registerView(type: string, viewCreator: obsidian.ViewCreator): void {
    this.app.viewRegistry.set(type, viewCreator);
    this.register(() => {
      this.app.viewRegistry.delete(type);
      this.app.workspace.detachLeavesOfType(type);
    });
  }

  registerExtensions(_extensions: string[], _viewType: string): void {}
  registerHoverLinkSource(_id: string, _info: obsidian.HoverLinkSource): void {}
  registerEditorExtension(_extension: unknown): void {}
  registerObsidianProtocolHandler(
    _action: string,
    _handler: obsidian.ObsidianProtocolHandler,
  ): void {}
  registerEditorSuggest(_editorSuggest: unknown): void {}

  async loadData(): Promise<unknown> {
    const path = this.dataPath();
    if (!(await this.app.vault.adapter.exists(path))) return null;
    return JSON.parse(await this.app.vault.adapter.read(path)) as unknown;
  }

  async saveData(data: unknown): Promise<void> {
    await this.app.vault.adapter.mkdir(this.pluginDir());
    await this.app.vault.adapter.write(this.dataPath(), JSON.stringify(data, null, 2));
  }

  onUserEnable(): void {}

  private pluginDir(): string {
    return this.manifest.dir ?? `${this.app.vault.configDir}/plugins/${this.manifest.id}`;
  }

  private dataPath(): string {
    return `${this.pluginDir()}/data.json`;
  }
}
