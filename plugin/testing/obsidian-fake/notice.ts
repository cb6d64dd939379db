import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';
import { domDocument } from './dom.ts';

/**
 * Obsidian's `Notice`. Every message shown is recorded in `Notice.messages` (fake-only), in order,
 * so a test can assert what the user was told; the elements are real DOM in a notice container.
 */
export class Notice implements Partial<Loose<obsidian.Notice>> {
  /** Fake-only: every message shown, oldest first. */
  static readonly messages: string[] = [];

  noticeEl: HTMLElement;
  containerEl: HTMLElement;
  messageEl: HTMLElement;
  hidden = false;

  constructor(
    message: string | DocumentFragment,
    readonly duration?: number,
  ) {
    const doc = domDocument();
    let container = doc.body.querySelector<HTMLElement>('.notice-container');
    if (!container) {
      container = doc.createElement('div');
      container.className = 'notice-container';
      doc.body.appendChild(container);
    }
    this.containerEl = doc.createElement('div');
    this.containerEl.className = 'notice';
    this.noticeEl = this.containerEl;
    this.messageEl = this.containerEl.appendChild(doc.createElement('div'));
    this.messageEl.className = 'notice-message';
    container.appendChild(this.containerEl);
    this.setMessage(message);
  }

  setMessage(message: string | DocumentFragment): this {
    if (typeof message === 'string') this.messageEl.textContent = message;
    else {
      this.messageEl.replaceChildren();
      this.messageEl.appendChild(message);
    }
    Notice.messages.push(this.messageEl.textContent ?? '');
    return this;
  }

  hide(): void {
    this.hidden = true;
    this.containerEl.remove();
  }

  /** Fake-only: forgets recorded messages (between tests). */
  static clear(): void {
    Notice.messages.splice(0);
  }
}
