import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';
import { domDocument } from './dom.ts';
import { FileManager } from './file-manager.ts';
import { MetadataCache } from './metadata-cache.ts';
import type { Plugin, PluginSettingTab } from './plugin.ts';
import { SecretStorage } from './secret-storage.ts';
import { Vault } from './vault.ts';
import { Workspace } from './workspace.ts';

/** Obsidian's command registry (`app.commands`, not in the public API but what tests drive). */
export class Commands {
  readonly commands: Record<string, obsidian.Command> = {};

  listCommands(): obsidian.Command[] {
    return Object.values(this.commands);
  }

  /** Runs a command as the palette would; false when it does not exist or cannot run now. */
  executeCommandById(id: string): boolean {
    const command = this.commands[id];
    if (!command) return false;
    if (command.checkCallback) {
      if (!command.checkCallback(true)) return false;
      void command.checkCallback(false);
      return true;
    }
    if (command.callback) {
      void command.callback();
      return true;
    }
    return false;
  }
}

/** The settings window's plugin tabs (`app.setting`). */
export class SettingWindow {
  readonly pluginTabs: PluginSettingTab[] = [];
  activeTab: PluginSettingTab | null = null;

  /** Fake-only: shows a plugin's tab as the settings window would. */
  openTab(tab: PluginSettingTab): HTMLElement {
    this.close();
    this.activeTab = tab;
    tab.containerEl.replaceChildren();
    tab.display();
    return tab.containerEl;
  }

  close(): void {
    this.activeTab?.hide();
    this.activeTab = null;
  }
}

export interface CreateAppOptions {
  /** An existing folder to open; by default a new temporary one. */
  vaultPath?: string;
  /** Files to put in the vault before it opens: vault path → text. */
  files?: Record<string, string>;
}

/**
 * Obsidian's `App` over a folder on disk. Fake-only parts: `createApp()` (a vault in a temp
 * folder), `loadPlugin`/`unloadPlugin` (what enabling and disabling a plugin does), `destroy()`
 * (removes a temp vault), and the registries Obsidian keeps privately (`viewRegistry`, `commands`,
 * `setting`). `secretStorage` models Obsidian 1.11.4+; delete it to act as an older app.
 */
export class App implements Partial<Loose<obsidian.App>> {
  readonly vault: Vault;
  readonly metadataCache: MetadataCache;
  readonly fileManager: FileManager;
  readonly workspace: Workspace;
  secretStorage?: SecretStorage = new SecretStorage();
  readonly viewRegistry = new Map<string, obsidian.ViewCreator>();
  readonly commands = new Commands();
  readonly setting = new SettingWindow();
  readonly ribbonEl: HTMLElement;
  readonly statusBarEl: HTMLElement;
  lastEvent = null;
  private readonly localStorage = new Map<string, unknown>();
  private temporary = false;

  constructor(vaultPath: string) {
    mkdirSync(join(vaultPath, '.obsidian'), { recursive: true });
    this.vault = new Vault(vaultPath);
    this.metadataCache = new MetadataCache(this.vault);
    this.fileManager = new FileManager(this.vault);
    this.workspace = new Workspace(this);
    const doc = domDocument();
    this.ribbonEl = doc.body.appendChild(doc.createElement('div'));
    this.ribbonEl.className = 'side-dock-ribbon';
    this.statusBarEl = doc.body.appendChild(doc.createElement('div'));
    this.statusBarEl.className = 'status-bar';
  }

  loadLocalStorage(key: string): unknown {
    return this.localStorage.get(key) ?? null;
  }

  saveLocalStorage(key: string, data: unknown): void {
    if (data === null) this.localStorage.delete(key);
    else this.localStorage.set(key, data);
  }

  /**
   * Fake-only: enables a plugin as Obsidian does — construct, load, await `onload`. Takes the
   * plugin's class as written against the real `obsidian` types (at run time it extends the fake).
   */
  async loadPlugin<P extends obsidian.Plugin>(
    PluginClass: new (app: obsidian.App, manifest: obsidian.PluginManifest) => P,
    manifest: obsidian.PluginManifest,
  ): Promise<P> {
    const dir = manifest.dir ?? `${this.vault.configDir}/plugins/${manifest.id}`;
    await this.vault.adapter.mkdir(dir);
    const plugin = new PluginClass(this as unknown as obsidian.App, { ...manifest, dir });
    const fake = plugin as unknown as Plugin;
    fake.load();
    await fake.loaded();
    return plugin;
  }

  /** Fake-only: disables a plugin (unload, which undoes what it registered). */
  async unloadPlugin(plugin: obsidian.Plugin | Plugin): Promise<void> {
    (plugin as unknown as Plugin).unload();
  }

  /** Fake-only: removes the vault folder if `createApp` made it. */
  destroy(): void {
    this.workspace.containerEl.remove();
    this.ribbonEl.remove();
    this.statusBarEl.remove();
    if (this.temporary) rmSync(this.vault.basePath, { recursive: true, force: true });
  }

  /** Fake-internal. */
  markTemporary(): void {
    this.temporary = true;
  }
}

/** Fake-only: an app over a new temporary vault (or `vaultPath`), with `files` in it. */
export function createApp(options: CreateAppOptions = {}): App {
  const vaultPath = options.vaultPath ?? mkdtempSync(join(tmpdir(), 'owp-fake-vault-'));
  for (const [path, text] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(vaultPath, path)), { recursive: true });
    writeFileSync(join(vaultPath, path), text);
  }
  const app = new App(vaultPath);
  if (!options.vaultPath) app.markTemporary();
  return app;
}
