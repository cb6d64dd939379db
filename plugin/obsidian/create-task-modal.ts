import { Modal, Setting, type App } from 'obsidian';
import type { TaskCreateRequest } from '../../protocol/index.ts';
import { taskFormRequest, type TaskFormValues } from './task-form.ts';

/**
 * "Create task": a title (the note's name), the repo, an estimate, skills and an area. The rest
 * of a task — its description above all — is written in the note that opens afterwards.
 */
export class CreateTaskModal extends Modal {
  private readonly values: TaskFormValues;
  private problemEl: HTMLElement | null = null;
  private busy = false;

  constructor(
    app: App,
    defaults: { repo: string },
    private readonly submit: (request: TaskCreateRequest) => Promise<void>,
  ) {
    super(app);
    this.values = { title: '', repo: defaults.repo, points: '1', skills: '', area: '' };
  }

  override onOpen(): void {
    const { contentEl } = this;
    this.setTitle('Create task');
    contentEl.addClass('owp-modal');
    const field = (name: string, key: keyof TaskFormValues, placeholder: string, desc = '') =>
      new Setting(contentEl)
        .setName(name)
        .setDesc(desc)
        .addText((text) => {
          text
            .setPlaceholder(placeholder)
            .setValue(this.values[key])
            .onChange((value) => {
              this.values[key] = value;
            });
          text.inputEl.addEventListener('keydown', (event) => {
            if (event.key === 'Enter') void this.create();
          });
          if (key === 'title') window.setTimeout(() => text.inputEl.focus(), 0);
        });
    field('Title', 'title', 'Fix the login redirect');
    field('Repo', 'repo', 'Example: acme/app');
    field('Points', 'points', '1', 'The estimate, from 1 to 100.');
    field('Skills', 'skills', 'TypeScript, CSS', 'Comma-separated; a worker needs all of them.');
    field(
      'Area',
      'area',
      'Authentication',
      'Optional: tasks in one area are not worked on at once.',
    );
    this.problemEl = contentEl.createDiv({ cls: 'owp-inline-error' });
    new Setting(contentEl).addButton((button) =>
      button
        .setButtonText('Create')
        .setCta()
        .onClick(() => void this.create()),
    );
  }

  override onClose(): void {
    this.contentEl.empty();
  }

  private async create(): Promise<void> {
    if (this.busy) return;
    const result = taskFormRequest(this.values);
    if (!result.ok) {
      this.problemEl?.setText(result.problem);
      return;
    }
    this.busy = true;
    try {
      await this.submit(result.request);
      this.close();
    } catch (error) {
      this.problemEl?.setText(error instanceof Error ? error.message : String(error));
    } finally {
      this.busy = false;
    }
  }
}
