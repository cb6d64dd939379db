import { Modal, Setting, type App, type TFile } from 'obsidian';

/** The vault's YAML files, by path. */
export function yamlFiles(app: App): TFile[] {
  return app.vault
    .getFiles()
    .filter((file) => file.extension === 'yaml' || file.extension === 'yml')
    .sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * "Import tasks from a YAML file": pick one of the vault's `.yaml`/`.yml` files (a list of tasks, as
 * `owp admin import` reads) and the repo the tasks go to. Each task gets its note.
 */
export class ImportTasksModal extends Modal {
  private chosen: TFile | null;
  private repo: string;
  private problemEl: HTMLElement | null = null;
  private busy = false;

  constructor(
    app: App,
    defaults: { repo: string; file?: TFile | null },
    private readonly submit: (file: TFile, repo: string) => Promise<void>,
  ) {
    super(app);
    const files = yamlFiles(app);
    this.chosen = defaults.file ?? files[0] ?? null;
    this.repo = defaults.repo;
  }

  override onOpen(): void {
    const { contentEl } = this;
    this.setTitle('Import tasks from a YAML file');
    contentEl.addClass('owp-modal');
    const files = yamlFiles(this.app);
    if (files.length === 0) {
      contentEl.createEl('p', {
        text: 'There is no .yaml or .yml file in this vault. Add one with a list of tasks, then try again.',
      });
      return;
    }
    new Setting(contentEl)
      .setName('File')
      .setDesc('A list of tasks: title, description, estimate_points, required_skills, area…')
      .addDropdown((dropdown) => {
        for (const file of files) dropdown.addOption(file.path, file.path);
        dropdown.setValue(this.chosen?.path ?? files[0]!.path).onChange((path) => {
          this.chosen = files.find((file) => file.path === path) ?? null;
        });
      });
    new Setting(contentEl)
      .setName('Repo')
      .setDesc('Every task of the file goes to this repo.')
      .addText((text) =>
        text
          .setPlaceholder('Example: acme/app')
          .setValue(this.repo)
          .onChange((value) => {
            this.repo = value.trim();
          }),
      );
    this.problemEl = contentEl.createDiv({ cls: 'owp-inline-error' });
    new Setting(contentEl).addButton((button) =>
      button
        .setButtonText('Import')
        .setCta()
        .onClick(() => void this.import()),
    );
  }

  override onClose(): void {
    this.contentEl.empty();
  }

  private async import(): Promise<void> {
    if (this.busy || !this.chosen) return;
    if (!this.repo) {
      this.problemEl?.setText('Name the repo the tasks go to.');
      return;
    }
    this.busy = true;
    try {
      await this.submit(this.chosen, this.repo);
      this.close();
    } catch (error) {
      this.problemEl?.setText(error instanceof Error ? error.message : String(error));
    } finally {
      this.busy = false;
    }
  }
}
