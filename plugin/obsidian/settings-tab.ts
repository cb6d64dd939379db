import { Notice, PluginSettingTab, Setting, type App, type Plugin } from 'obsidian';
import type { PoolController } from './pool-controller.ts';
import { localWorkerId, parseSkills, type OwpSettings, type PoolRole } from './settings.ts';
import type { SettingsStore, TokenName } from './settings-store.ts';

const ROLES: Record<PoolRole, string> = {
  both: 'Admin and worker',
  admin: 'Admin',
  worker: 'Worker',
};

/**
 * The settings: how to reach the pool, who this vault is in it, where the task notes live and who
 * the local worker is. Every field saves through the settings store, which writes the data file
 * only when a value really changed; changes that need a new connection restart it after a pause.
 */
export class OwpSettingTab extends PluginSettingTab {
  constructor(
    app: App,
    plugin: Plugin,
    private readonly store: SettingsStore,
    private readonly controller: PoolController,
  ) {
    super(app, plugin);
  }

  display(): void {
    const { containerEl } = this;
    containerEl.empty();
    const settings = this.store.settings;
    this.connection(containerEl, settings);
    this.notes(containerEl, settings);
    this.localWorker(containerEl, settings);
  }

  private connection(el: HTMLElement, settings: OwpSettings): void {
    new Setting(el)
      .setName('Mode')
      .setDesc(
        'Embedded runs the pool inside this vault, offline, for you alone. Remote connects to a shared server.',
      )
      .addDropdown((dropdown) =>
        dropdown
          .addOptions({ embedded: 'Embedded', remote: 'Remote server' })
          .setValue(settings.mode)
          .onChange(async (value) => {
            await this.store.update({ mode: value === 'remote' ? 'remote' : 'embedded' });
            this.display();
          }),
      );
    if (settings.mode === 'remote') {
      new Setting(el)
        .setName('Server URL')
        .setDesc('The address of the shared server.')
        .addText((text) =>
          text
            .setPlaceholder('https://pool.example.org')
            .setValue(settings.serverUrl)
            .onChange(async (value) => {
              await this.store.update({ serverUrl: value });
            }),
        );
    }
    new Setting(el)
      .setName('Role')
      .setDesc('An admin manages tasks and workers; a worker takes leases and reports progress.')
      .addDropdown((dropdown) =>
        dropdown
          .addOptions(ROLES)
          .setValue(settings.role)
          .onChange(async (value) => {
            await this.store.update({ role: value as PoolRole });
            this.display();
          }),
      );
    if (settings.mode === 'remote') {
      if (settings.role !== 'worker') {
        this.tokenSetting(el, 'admin', 'Admin token', 'The token the server was started with.');
      }
      if (settings.role !== 'admin') {
        this.tokenSetting(
          el,
          'worker',
          'Worker token',
          'Filled in by “Register as worker”; paste one to act as a worker registered elsewhere.',
        );
      }
    }
  }

  private tokenSetting(el: HTMLElement, name: TokenName, label: string, desc: string): void {
    const where =
      this.store.tokenStorage === 'secret-storage'
        ? 'Kept in Obsidian’s secret storage, not in the vault.'
        : 'Kept in this plugin’s data file: this version of Obsidian has no secret storage.';
    new Setting(el)
      .setName(label)
      .setDesc(`${desc} ${where}`)
      .addText((text) => {
        text.inputEl.type = 'password';
        text.inputEl.autocomplete = 'off';
        void this.store.token(name).then((token) => text.setValue(token));
        text.onChange(async (value) => {
          await this.store.setToken(name, value);
          this.controller.restartSoon(true);
        });
      });
  }

  private notes(el: HTMLElement, settings: OwpSettings): void {
    new Setting(el).setName('Task notes').setHeading();
    new Setting(el)
      .setName('Tasks folder')
      .setDesc('Every task is a note in this folder; a new note here becomes a task.')
      .addText((text) =>
        text
          .setPlaceholder('Tasks')
          .setValue(settings.tasksFolder)
          .onChange(async (value) => {
            await this.store.update({ tasksFolder: value });
          }),
      );
    new Setting(el)
      .setName('Archive folder')
      .setDesc('Notes of merged and cancelled tasks move here. Leave empty to keep them in place.')
      .addText((text) =>
        text
          .setPlaceholder('Archive')
          .setValue(settings.archiveFolder)
          .onChange(async (value) => {
            await this.store.update({ archiveFolder: value });
          }),
      );
    new Setting(el)
      .setName('Default repo')
      .setDesc('The repo of a new task note that has no repo property.')
      .addText((text) =>
        text
          .setPlaceholder('Example: acme/app')
          .setValue(settings.defaultRepo)
          .onChange(async (value) => {
            await this.store.update({ defaultRepo: value });
          }),
      );
    new Setting(el)
      .setName('Cancel the task when its note is deleted')
      .setDesc('Off: deleting a note leaves its task in the pool.')
      .addToggle((toggle) =>
        toggle.setValue(settings.cancelOnDelete).onChange(async (value) => {
          await this.store.update({ cancelOnDelete: value });
        }),
      );
  }

  private localWorker(el: HTMLElement, settings: OwpSettings): void {
    if (settings.role === 'admin') return;
    new Setting(el).setName('You as a worker').setHeading();
    new Setting(el)
      .setName('Name')
      .setDesc('How the board and the activity feed name you.')
      .addText((text) =>
        text.setValue(settings.workerName).onChange(async (value) => {
          await this.store.update({ workerName: value });
        }),
      );
    new Setting(el)
      .setName('Skills')
      .setDesc('Comma-separated. You receive only tasks whose skills you all have.')
      .addText((text) =>
        text
          .setPlaceholder('TypeScript, docs')
          .setValue(settings.workerSkills.join(', '))
          .onChange(async (value) => {
            await this.store.update({ workerSkills: parseSkills(value) });
          }),
      );
    new Setting(el)
      .setName('Capacity')
      .setDesc('Points of work you take on at once, and how many tasks.')
      .addText((text) => {
        text.inputEl.type = 'number';
        text.inputEl.setAttr('aria-label', 'Points');
        text.setValue(String(settings.workerCapacityPoints)).onChange(async (value) => {
          await this.store.update({ workerCapacityPoints: Number(value) });
        });
      })
      .addText((text) => {
        text.inputEl.type = 'number';
        text.inputEl.setAttr('aria-label', 'Tasks');
        text.setValue(String(settings.workerMaxTasks)).onChange(async (value) => {
          await this.store.update({ workerMaxTasks: Number(value) });
        });
      });
    const registered = localWorkerId(settings) !== null;
    new Setting(el)
      .setName('Registration')
      .setDesc(
        registered
          ? 'This vault is registered as a worker. Name and skills apply to the next registration.'
          : 'Register to receive leases. Name, skills and capacity above are sent with it.',
      )
      .addButton((button) =>
        button
          .setButtonText(registered ? 'Register again' : 'Register as worker')
          .onClick(async () => {
            button.setDisabled(true);
            try {
              await this.controller.registerWorker();
            } catch (error) {
              new Notice(
                `Could not register: ${error instanceof Error ? error.message : String(error)}`,
              );
            } finally {
              button.setDisabled(false);
              this.display();
            }
          }),
      );
  }
}
