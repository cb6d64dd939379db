import { Platform, Plugin } from 'obsidian';
import { statusBarText } from './state/status-bar.ts';
import type { ReconcileReport } from './sync/note-sync.ts';
import { registerCommands } from './obsidian/commands.ts';
import { PoolController } from './obsidian/pool-controller.ts';
import {
  ActivityView,
  AnalyticsView,
  BoardView,
  MyWorkView,
  VIEW_PLACES,
  VIEW_TYPES,
  WorkersView,
  type PoolViewKind,
} from './obsidian/pool-views.ts';
import { OwpSettingTab } from './obsidian/settings-tab.ts';
import { SettingsStore, findSecretStorage } from './obsidian/settings-store.ts';
import { TaskNotePanels } from './obsidian/task-note-panels.ts';
import { sqlWasmBinary } from './obsidian/sql-wasm.ts';

/**
 * OWP Pool for Obsidian: tasks as notes, a live board, workers, activity and "my work" views,
 * over a pool that runs inside the vault (embedded) or on a shared server (remote). This class only
 * wires the parts into Obsidian's lifecycle; the pool itself is the `PoolController`'s.
 */
export default class OwpPoolPlugin extends Plugin {
  settings!: SettingsStore;
  controller!: PoolController;
  /** Settles once the pool has started after the layout was ready (tests and the harness wait). */
  ready: Promise<ReconcileReport | null> = new Promise(() => undefined);
  /** Settles once `onunload` has saved and closed everything, the data file included. */
  stopped: Promise<void> = Promise.resolve();

  override async onload(): Promise<void> {
    this.settings = await SettingsStore.open(
      { load: () => this.loadData(), save: (data) => this.saveData(data) },
      findSecretStorage(this.app),
    );
    const controller = new PoolController({
      app: this.app,
      settings: this.settings,
      pluginDir: this.manifest.dir ?? `${this.app.vault.configDir}/plugins/${this.manifest.id}`,
      sqlWasm: sqlWasmBinary,
    });
    this.controller = controller;

    this.registerView(VIEW_TYPES.board, (leaf) => new BoardView(leaf, controller));
    this.registerView(VIEW_TYPES.workers, (leaf) => new WorkersView(leaf, controller));
    this.registerView(VIEW_TYPES.activity, (leaf) => new ActivityView(leaf, controller));
    this.registerView(VIEW_TYPES.myWork, (leaf) => new MyWorkView(leaf, controller));
    this.registerView(VIEW_TYPES.analytics, (leaf) => new AnalyticsView(leaf, controller));
    this.addRibbonIcon('layout-dashboard', 'Open pool board', () => void this.openView('board'));
    // Obsidian has no status bar on phones and tablets.
    if (!Platform.isMobile) this.addPoolStatusBar(controller);
    registerCommands({
      plugin: this,
      controller,
      settings: this.settings,
      openView: (kind) => this.openView(kind),
    });
    this.addSettingTab(new OwpSettingTab(this.app, this, this.settings, controller));
    new TaskNotePanels(this.app, controller).register(this);

    // A stream can die silently while the app sleeps; a phone may stop the app in the background.
    this.registerDomEvent(document, 'visibilitychange', () => {
      if (document.visibilityState === 'visible') controller.wake('visible');
      else controller.sleep();
    });
    this.registerDomEvent(window, 'online', () => controller.wake('online'));
    this.register(this.settings.onChange(() => controller.restartSoon()));

    // After the layout is ready, so the vault's notes are indexed and start-up is not slowed.
    this.app.workspace.onLayoutReady(() => {
      this.ready = controller.start();
    });
  }

  override onunload(): void {
    const controller = this.controller;
    const settings = this.settings;
    this.stopped = (async () => {
      await controller?.stop();
      // A settings write a command started just before (a worker registered) ends first.
      await settings?.settled();
    })();
  }

  /** Shows a view, opening it where it belongs if it is not open yet. */
  async openView(kind: PoolViewKind): Promise<void> {
    const type = VIEW_TYPES[kind];
    const { workspace } = this.app;
    const open = workspace.getLeavesOfType(type)[0];
    if (open) {
      await workspace.revealLeaf(open);
    } else if (VIEW_PLACES[kind] === 'tab') {
      const leaf = workspace.getLeaf('tab');
      await leaf.setViewState({ type, active: true });
      await workspace.revealLeaf(leaf);
    } else {
      await workspace.ensureSideLeaf(type, 'right', { active: true, reveal: true });
    }
  }

  private addPoolStatusBar(controller: PoolController): void {
    const item = this.addStatusBarItem();
    item.addClass('mod-clickable');
    item.setAttr('aria-label', 'Open pool board');
    this.registerDomEvent(item, 'click', () => void this.openView('board'));
    this.register(controller.pool.subscribe((snapshot) => item.setText(statusBarText(snapshot))));
  }
}
