import type * as obsidian from 'obsidian';
import { domDocument } from './dom.ts';

/** Obsidian's `debounce`: `resetTimer` restarts the wait on each call; `run()` fires now. */
export function debounce<T extends unknown[], V>(
  cb: (...args: [...T]) => V,
  timeout = 0,
  resetTimer = false,
): obsidian.Debouncer<T, V> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending: T | null = null;
  const fire = (): V | void => {
    timer = null;
    if (!pending) return;
    const args = pending;
    pending = null;
    return cb(...args);
  };
  const debounced = (...args: [...T]) => {
    pending = args as T;
    if (timer && resetTimer) clearTimeout(timer);
    if (!timer || resetTimer) timer = setTimeout(fire, timeout);
    return debounced;
  };
  debounced.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    pending = null;
    return debounced;
  };
  debounced.run = () => {
    if (timer) clearTimeout(timer);
    return fire();
  };
  return debounced as unknown as obsidian.Debouncer<T, V>;
}

/** Icons are not drawn; the icon's name is kept in `data-icon` so tests can see which. */
export function setIcon(parent: HTMLElement, iconId: string): void {
  parent.setAttribute('data-icon', iconId);
}

export function addIcon(_iconId: string, _svgContent: string): void {}

export function setTooltip(el: HTMLElement, tooltip: string): void {
  el.setAttribute('aria-label', tooltip);
}

/** Obsidian's `Menu`, enough for context menus: items with a title, an icon and a click. */
export class MenuItem {
  title = '';
  icon = '';
  disabled = false;
  private clicked: ((evt: MouseEvent | KeyboardEvent) => unknown) | null = null;

  setTitle(title: string | DocumentFragment): this {
    this.title = typeof title === 'string' ? title : (title.textContent ?? '');
    return this;
  }

  setIcon(icon: string | null): this {
    this.icon = icon ?? '';
    return this;
  }

  setDisabled(disabled: boolean): this {
    this.disabled = disabled;
    return this;
  }

  setChecked(_checked: boolean | null): this {
    return this;
  }

  setSection(_section: string): this {
    return this;
  }

  onClick(callback: (evt: MouseEvent | KeyboardEvent) => unknown): this {
    this.clicked = callback;
    return this;
  }

  /** Fake-only: clicks the item. */
  click(): void {
    if (!this.disabled) void this.clicked?.(new (domDocument().defaultView!.MouseEvent)('click'));
  }
}

export class Menu {
  /** Fake-only: the menu showing now, if any. */
  static current: Menu | null = null;
  readonly items: MenuItem[] = [];

  addItem(cb: (item: MenuItem) => unknown): this {
    const item = new MenuItem();
    cb(item);
    this.items.push(item);
    return this;
  }

  addSeparator(): this {
    return this;
  }

  showAtMouseEvent(_evt: MouseEvent): this {
    Menu.current = this;
    return this;
  }

  showAtPosition(_position: { x: number; y: number }): this {
    Menu.current = this;
    return this;
  }

  hide(): this {
    if (Menu.current === this) Menu.current = null;
    return this;
  }
}

export const apiVersion = '1.8.7';

export function requireApiVersion(version: string): boolean {
  const [a, b] = [apiVersion, version].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) {
    if ((a![i] ?? 0) !== (b![i] ?? 0)) return (a![i] ?? 0) > (b![i] ?? 0);
  }
  return true;
}
