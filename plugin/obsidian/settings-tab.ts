import {
  Notice,
  PluginSettingTab,
  Setting,
  type App,
  type Plugin,
  type TextComponent,
} from 'obsidian';
import type { PoolController } from './pool-controller.ts';
import {
  COUNT_LIMITS,
  foldersClash,
  normalizeFolder,
  localWorkerId,
  parseSkills,
  readServerUrl,
  workerTokenSlot,
  type OwpSettings,
  type PoolRole,
} from './settings.ts';
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
 *
 * A text field saves when the user is done with it — Enter, leaving the field, or closing the
 * settings — never on each keystroke: a folder, address or token typed halfway must not take
 * effect (a pause at "Wo" on the way to "Work/Tasks" wrote a note for every task into Wo/, an
 * emptied folder made the whole vault the task folder, and a half-typed address would have been
 * sent the token).
 */
// Not the declarative settings API yet (`getSettingDefinitions()`, Obsidian 1.13, in insider
// builds now), which the linter suggests: a tab that defines it is drawn from it in place of
// `display()`, and it has no password control, so the tokens would show as plain text.
export class OwpSettingTab extends PluginSettingTab {
  /** Text fields typed in but not yet saved, by input: what saving each would do. */
  private readonly uncommitted = new Map<HTMLInputElement, () => unknown>();

  constructor(
    app: App,
    plugin: Plugin,
    private readonly store: SettingsStore,
    private readonly controller: PoolController,
  ) {
    super(app, plugin);
  }

  display(): void {
    this.commitAll();
    const { containerEl } = this;
    containerEl.empty();
    const settings = this.store.settings;
    this.connection(containerEl, settings);
    this.notes(containerEl, settings);
    this.localWorker(containerEl, settings);
  }

  override hide(): void {
    this.commitAll();
    super.hide();
  }

  private commitAll(): void {
    const saves = [...this.uncommitted.values()];
    this.uncommitted.clear();
    for (const save of saves) void save();
  }

  /** Saves `text` through `save` once the user is done with it (see the class comment). */
  private onCommit(text: TextComponent, save: (value: string) => unknown): TextComponent {
    const input = text.inputEl;
    input.addEventListener('input', () => this.uncommitted.set(input, () => save(text.getValue())));
    input.addEventListener('change', () => {
      this.uncommitted.delete(input);
      void save(text.getValue());
    });
    return text;
  }

  /** A value the field may not take: the saved one goes back in, and a notice says why. */
  private refuse(text: TextComponent, saved: string, why: string): void {
    text.setValue(saved);
    new Notice(why);
  }

  /** A whole number from 1 to its limit; anything else is put back, with a word why. */
  private countField(
    text: TextComponent,
    label: string,
    key: 'workerCapacityPoints' | 'workerMaxTasks',
  ): TextComponent {
    text.inputEl.type = 'number';
    text.inputEl.setAttr('aria-label', label);
    text.inputEl.min = '1';
    text.inputEl.max = String(COUNT_LIMITS[key]);
    return this.onCommit(text.setValue(String(this.store.settings[key])), (value) => {
      const count = Number(value);
      if (!Number.isInteger(count) || count < 1 || count > COUNT_LIMITS[key]) {
        return this.refuse(
          text,
          String(this.store.settings[key]),
          `${label}: a whole number from 1 to ${COUNT_LIMITS[key]}.`,
        );
      }
      return this.store.update({ [key]: count });
    });
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
          this.onCommit(
            text.setPlaceholder('https://pool.example.org').setValue(settings.serverUrl),
            (value) => {
              const read = readServerUrl(value);
              if ('problem' in read) {
                return this.refuse(text, this.store.settings.serverUrl, read.problem);
              }
              text.setValue(read.url);
              return this.store.update({ serverUrl: read.url });
            },
          ),
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
    // The worker token shown is the current pool's: each pool's worker keeps its own.
    const slot = name === 'worker' ? workerTokenSlot(this.store.settings) : '';
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
        // Not `(token) => text.setValue(token)`: that returns the component, and a component
        // has `then(cb)` (Obsidian's chaining helper), so the promise took it for a thenable and
        // resolved it again and again — opening the settings in remote mode froze the app.
        void this.store.token(name, slot).then((token) => {
          text.setValue(token);
        });
        this.onCommit(text, async (value) => {
          // Closing the settings commits every field: an unchanged token is no reason to reconnect.
          if (await this.store.setToken(name, value, slot)) this.controller.restartSoon(true);
        });
      });
  }

  private notes(el: HTMLElement, settings: OwpSettings): void {
    new Setting(el).setName('Task notes').setHeading();
    new Setting(el)
      .setName('Tasks folder')
      .setDesc('Every task is a note in this folder; a new note here becomes a task.')
      .addText((text) =>
        this.onCommit(text.setPlaceholder('Tasks').setValue(settings.tasksFolder), (value) => {
          // The vault's root would make every note in it a task.
          const problem =
            normalizeFolder(value) === ''
              ? 'The tasks folder must be a folder: every note in it becomes a task.'
              : foldersClash(value, this.store.settings.archiveFolder);
          if (problem) return this.refuse(text, this.store.settings.tasksFolder, problem);
          return this.store.update({ tasksFolder: value });
        }),
      );
    new Setting(el)
      .setName('Archive folder')
      .setDesc('Notes of merged and cancelled tasks move here. Leave empty to keep them in place.')
      .addText((text) =>
        this.onCommit(text.setPlaceholder('Archive').setValue(settings.archiveFolder), (value) => {
          const clash = foldersClash(this.store.settings.tasksFolder, value);
          if (clash) return this.refuse(text, this.store.settings.archiveFolder, clash);
          return this.store.update({ archiveFolder: value });
        }),
      );
    new Setting(el)
      .setName('Default repo')
      .setDesc('The repo of a new task note that has no repo property.')
      .addText((text) =>
        this.onCommit(
          text.setPlaceholder('Example: acme/app').setValue(settings.defaultRepo),
          (value) => this.store.update({ defaultRepo: value }),
        ),
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
        this.onCommit(text.setValue(settings.workerName), (value) =>
          this.store.update({ workerName: value }),
        ),
      );
    new Setting(el)
      .setName('Skills')
      .setDesc('Comma-separated. You receive only tasks whose skills you all have.')
      .addText((text) =>
        this.onCommit(
          text.setPlaceholder('TypeScript, docs').setValue(settings.workerSkills.join(', ')),
          (value) => this.store.update({ workerSkills: parseSkills(value) }),
        ),
      );
    new Setting(el)
      .setName('Capacity')
      .setDesc('Points of work you take on at once, and how many tasks.')
      .addText((text) => this.countField(text, 'Points', 'workerCapacityPoints'))
      .addText((text) => this.countField(text, 'Tasks', 'workerMaxTasks'));
    const registered = localWorkerId(settings) !== null;
    new Setting(el)
      .setName('Registration')
      .setDesc(
        registered
          ? 'This vault is registered as a worker. Name and skills apply to the next ' +
              'registration, which makes a new worker: finish or release your tasks first.'
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
