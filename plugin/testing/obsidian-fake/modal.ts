import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';
import type { App } from './app.ts';
import { domDocument } from './dom.ts';

/**
 * Obsidian's `Modal`: `open()` puts `div.modal-container > div.modal > (title, content)` into the
 * document and calls `onOpen`; `close()` calls `onClose` and removes it. Escape closes it.
 */
export class Modal implements Partial<Loose<obsidian.Modal>> {
  app: App;
  containerEl: HTMLElement;
  modalEl: HTMLElement;
  titleEl: HTMLElement;
  contentEl: HTMLElement;
  shouldRestoreSelection = false;
  /** Fake-only: whether the modal is showing. */
  isOpen = false;

  constructor(app: obsidian.App) {
    this.app = app as unknown as App;
    const doc = domDocument();
    const div = (parent: HTMLElement | null, cls: string) => {
      const el = doc.createElement('div');
      el.className = cls;
      parent?.appendChild(el);
      return el;
    };
    this.containerEl = div(null, 'modal-container');
    this.modalEl = div(this.containerEl, 'modal');
    this.titleEl = div(this.modalEl, 'modal-title');
    this.contentEl = div(this.modalEl, 'modal-content');
    this.containerEl.addEventListener('keydown', (evt) => {
      if ((evt as KeyboardEvent).key === 'Escape') this.close();
    });
  }

  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    domDocument().body.appendChild(this.containerEl);
    void this.onOpen();
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    void this.onClose();
    this.containerEl.remove();
  }

  onOpen(): void | Promise<void> {}
  onClose(): void {}

  setTitle(title: string): this {
    this.titleEl.textContent = title;
    return this;
  }

  setContent(content: string | DocumentFragment): this {
    this.contentEl.replaceChildren();
    if (typeof content === 'string') this.contentEl.textContent = content;
    else this.contentEl.appendChild(content);
    return this;
  }
}
