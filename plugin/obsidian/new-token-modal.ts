import { Modal, Setting, type App } from 'obsidian';

/**
 * "New token": an admin gives a worker of a shared pool a new token (one lost or leaked). Asked
 * first, as the token the worker uses now is refused at once; then the new one is shown this once,
 * selected, with a Copy button. A refusal from the pool is shown in words and the dialog stays.
 */
export class NewTokenModal extends Modal {
  private busy = false;
  private problemEl: HTMLElement | null = null;

  constructor(
    app: App,
    private readonly workerName: string,
    private readonly replace: () => Promise<string>,
  ) {
    super(app);
  }

  override onOpen(): void {
    const { contentEl } = this;
    this.setTitle(`New token for ${this.workerName}`);
    contentEl.addClass('owp-modal');
    contentEl.createEl('p', {
      text:
        `The token ${this.workerName} uses now is refused at once. Its leases and history stay, ` +
        'and its work goes on once it has the new one.',
    });
    this.problemEl = contentEl.createDiv({ cls: 'owp-inline-error' });
    new Setting(contentEl)
      .addButton((button) => button.setButtonText('Cancel').onClick(() => this.close()))
      .addButton((button) =>
        button
          .setButtonText('Give a new token')
          .setWarning()
          .onClick(() => void this.give()),
      );
  }

  override onClose(): void {
    this.contentEl.empty();
  }

  private async give(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.problemEl?.setText('');
    try {
      this.show(await this.replace());
    } catch (error) {
      this.problemEl?.setText(error instanceof Error ? error.message : String(error));
    } finally {
      this.busy = false;
    }
  }

  private show(token: string): void {
    const { contentEl } = this;
    contentEl.empty();
    contentEl.createEl('p', {
      text:
        'Shown this once. Hand it over privately: the worker pastes it into its Worker token ' +
        'setting, or saves it with `owp worker token`.',
    });
    let field: HTMLInputElement | null = null;
    new Setting(contentEl)
      .setName('Token')
      .addText((text) => {
        field = text.inputEl;
        text.setValue(token);
        field.readOnly = true;
        field.spellcheck = false;
        field.addClass('owp-token-field');
        window.setTimeout(() => field?.select(), 0);
      })
      .addButton((button) =>
        button.setButtonText('Copy').onClick(() => {
          navigator.clipboard.writeText(token).then(
            () => button.setButtonText('Copied'),
            () => {
              // No clipboard: the field is selected, to copy by hand.
              field?.select();
              button.setButtonText('Selected: press Ctrl+C (⌘C)');
            },
          );
        }),
      );
    new Setting(contentEl).addButton((button) =>
      button
        .setButtonText('Done')
        .setCta()
        .onClick(() => this.close()),
    );
  }
}
