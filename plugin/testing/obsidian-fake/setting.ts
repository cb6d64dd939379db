import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';

/**
 * Obsidian's `Setting` and its controls, as real DOM: `div.setting-item` with an info part (name,
 * description) and a control part; each control is a real `input`, `textarea`, `select` or
 * `button` firing its callbacks on the DOM events Obsidian uses (`input` for text, `change` for
 * dropdowns, `click` for toggles and buttons), so tests drive settings as a user would.
 */
/**
 * Obsidian's `then(cb)` is a chaining helper, so a component is a thenable: a promise resolved with
 * one calls `then(resolve, reject)`, gets the component again and calls it again, forever, and the
 * app freezes (the microtask loop starves every timer, a test's timeout included). The fake fails
 * that promise instead, naming the mistake, so a test of it fails rather than hangs. Only a promise
 * passes a second function; Obsidian's callers pass one.
 */
function refuseToBeAdopted(component: object, rest: unknown[]): void {
  if (typeof rest[0] === 'function') {
    throw new TypeError(
      `a promise was resolved with ${component.constructor.name}, whose then(cb) is Obsidian's ` +
        'chaining helper: in Obsidian the promise would never settle and the app would freeze',
    );
  }
}

export abstract class BaseComponent implements Partial<Loose<obsidian.BaseComponent>> {
  disabled = false;

  then(cb: (component: this) => unknown, ...rest: unknown[]): this {
    refuseToBeAdopted(this, rest);
    cb(this);
    return this;
  }

  setDisabled(disabled: boolean): this {
    this.disabled = disabled;
    return this;
  }
}

export abstract class ValueComponent<T> extends BaseComponent {
  registerOptionListener(listeners: Record<string, (value?: T) => T>, key: string): this {
    listeners[key] = (value?: T) => {
      if (value !== undefined) this.setValue(value);
      return this.getValue();
    };
    return this;
  }

  abstract getValue(): T;
  abstract setValue(value: T): this;
}

abstract class AbstractTextComponent<
  E extends HTMLInputElement | HTMLTextAreaElement,
> extends ValueComponent<string> {
  private changed: ((value: string) => unknown) | null = null;

  constructor(readonly inputEl: E) {
    super();
    inputEl.addEventListener('input', () => this.onChanged());
  }

  override setDisabled(disabled: boolean): this {
    this.inputEl.disabled = disabled;
    return super.setDisabled(disabled);
  }

  getValue(): string {
    return this.inputEl.value;
  }

  setValue(value: string): this {
    this.inputEl.value = value;
    return this;
  }

  setPlaceholder(placeholder: string): this {
    this.inputEl.placeholder = placeholder;
    return this;
  }

  onChanged(): void {
    void this.changed?.(this.getValue());
  }

  onChange(callback: (value: string) => unknown): this {
    this.changed = callback;
    return this;
  }
}

export class TextComponent extends AbstractTextComponent<HTMLInputElement> {
  constructor(containerEl: HTMLElement) {
    const input = containerEl.ownerDocument.createElement('input');
    input.type = 'text';
    containerEl.appendChild(input);
    super(input);
  }
}

export class TextAreaComponent extends AbstractTextComponent<HTMLTextAreaElement> {
  constructor(containerEl: HTMLElement) {
    super(containerEl.appendChild(containerEl.ownerDocument.createElement('textarea')));
  }
}

export class ToggleComponent extends ValueComponent<boolean> {
  readonly toggleEl: HTMLElement;
  private on = false;
  private changed: ((value: boolean) => unknown) | null = null;

  constructor(containerEl: HTMLElement) {
    super();
    this.toggleEl = containerEl.appendChild(containerEl.ownerDocument.createElement('div'));
    this.toggleEl.className = 'checkbox-container';
    this.toggleEl.setAttribute('role', 'switch');
    this.toggleEl.addEventListener('click', () => {
      if (this.disabled) return;
      this.setValue(!this.on);
      void this.changed?.(this.on);
    });
  }

  override setDisabled(disabled: boolean): this {
    this.toggleEl.classList.toggle('is-disabled', disabled);
    return super.setDisabled(disabled);
  }

  getValue(): boolean {
    return this.on;
  }

  setValue(on: boolean): this {
    this.on = on;
    this.toggleEl.classList.toggle('is-enabled', on);
    this.toggleEl.setAttribute('aria-checked', String(on));
    return this;
  }

  setTooltip(tooltip: string): this {
    this.toggleEl.setAttribute('aria-label', tooltip);
    return this;
  }

  onClick(): void {
    this.toggleEl.click();
  }

  onChange(callback: (value: boolean) => unknown): this {
    this.changed = callback;
    return this;
  }
}

export class DropdownComponent extends ValueComponent<string> {
  readonly selectEl: HTMLSelectElement;
  private changed: ((value: string) => unknown) | null = null;

  constructor(containerEl: HTMLElement) {
    super();
    this.selectEl = containerEl.appendChild(containerEl.ownerDocument.createElement('select'));
    this.selectEl.className = 'dropdown';
    this.selectEl.addEventListener('change', () => void this.changed?.(this.getValue()));
  }

  override setDisabled(disabled: boolean): this {
    this.selectEl.disabled = disabled;
    return super.setDisabled(disabled);
  }

  addOption(value: string, display: string): this {
    const option = this.selectEl.ownerDocument.createElement('option');
    option.value = value;
    option.textContent = display;
    this.selectEl.appendChild(option);
    return this;
  }

  addOptions(options: Record<string, string>): this {
    for (const [value, display] of Object.entries(options)) this.addOption(value, display);
    return this;
  }

  getValue(): string {
    return this.selectEl.value;
  }

  setValue(value: string): this {
    this.selectEl.value = value;
    return this;
  }

  onChange(callback: (value: string) => unknown): this {
    this.changed = callback;
    return this;
  }
}

export class ButtonComponent extends BaseComponent {
  readonly buttonEl: HTMLButtonElement;
  private clicked: ((evt: MouseEvent) => unknown) | null = null;

  constructor(containerEl: HTMLElement) {
    super();
    this.buttonEl = containerEl.appendChild(containerEl.ownerDocument.createElement('button'));
    this.buttonEl.addEventListener('click', (evt) => void this.clicked?.(evt as MouseEvent));
  }

  override setDisabled(disabled: boolean): this {
    this.buttonEl.disabled = disabled;
    return super.setDisabled(disabled);
  }

  setCta(): this {
    this.buttonEl.classList.add('mod-cta');
    return this;
  }

  removeCta(): this {
    this.buttonEl.classList.remove('mod-cta');
    return this;
  }

  setWarning(): this {
    this.buttonEl.classList.add('mod-warning');
    return this;
  }

  setTooltip(tooltip: string): this {
    this.buttonEl.setAttribute('aria-label', tooltip);
    return this;
  }

  setButtonText(name: string): this {
    this.buttonEl.textContent = name;
    return this;
  }

  setIcon(icon: string): this {
    this.buttonEl.setAttribute('data-icon', icon);
    return this;
  }

  setClass(cls: string): this {
    this.buttonEl.classList.add(cls);
    return this;
  }

  onClick(callback: (evt: MouseEvent) => unknown): this {
    this.clicked = callback;
    return this;
  }
}

export class ExtraButtonComponent extends BaseComponent {
  readonly extraSettingsEl: HTMLElement;
  private clicked: (() => unknown) | null = null;

  constructor(containerEl: HTMLElement) {
    super();
    this.extraSettingsEl = containerEl.appendChild(containerEl.ownerDocument.createElement('div'));
    this.extraSettingsEl.className = 'clickable-icon extra-setting-button';
    this.extraSettingsEl.addEventListener('click', () => {
      if (!this.disabled) void this.clicked?.();
    });
  }

  setTooltip(tooltip: string): this {
    this.extraSettingsEl.setAttribute('aria-label', tooltip);
    return this;
  }

  setIcon(icon: string): this {
    this.extraSettingsEl.setAttribute('data-icon', icon);
    return this;
  }

  onClick(callback: () => unknown): this {
    this.clicked = callback;
    return this;
  }
}

export class Setting implements Partial<Loose<obsidian.Setting>> {
  readonly settingEl: HTMLElement;
  readonly infoEl: HTMLElement;
  readonly nameEl: HTMLElement;
  readonly descEl: HTMLElement;
  readonly controlEl: HTMLElement;
  components: BaseComponent[] = [];

  constructor(containerEl: HTMLElement) {
    const div = (parent: HTMLElement, cls: string) => {
      const el = parent.appendChild(parent.ownerDocument.createElement('div'));
      el.className = cls;
      return el;
    };
    this.settingEl = div(containerEl, 'setting-item');
    this.infoEl = div(this.settingEl, 'setting-item-info');
    this.nameEl = div(this.infoEl, 'setting-item-name');
    this.descEl = div(this.infoEl, 'setting-item-description');
    this.controlEl = div(this.settingEl, 'setting-item-control');
  }

  setName(name: string | DocumentFragment): this {
    setContent(this.nameEl, name);
    return this;
  }

  setDesc(desc: string | DocumentFragment): this {
    setContent(this.descEl, desc);
    return this;
  }

  setClass(cls: string): this {
    this.settingEl.classList.add(cls);
    return this;
  }

  setTooltip(tooltip: string): this {
    this.nameEl.setAttribute('aria-label', tooltip);
    return this;
  }

  setHeading(): this {
    this.settingEl.classList.add('setting-item-heading');
    return this;
  }

  setDisabled(disabled: boolean): this {
    this.settingEl.classList.toggle('is-disabled', disabled);
    for (const component of this.components) component.setDisabled(disabled);
    return this;
  }

  addButton(cb: (component: ButtonComponent) => unknown): this {
    return this.add(new ButtonComponent(this.controlEl), cb);
  }

  addExtraButton(cb: (component: ExtraButtonComponent) => unknown): this {
    return this.add(new ExtraButtonComponent(this.controlEl), cb);
  }

  addToggle(cb: (component: ToggleComponent) => unknown): this {
    return this.add(new ToggleComponent(this.controlEl), cb);
  }

  addText(cb: (component: TextComponent) => unknown): this {
    return this.add(new TextComponent(this.controlEl), cb);
  }

  addTextArea(cb: (component: TextAreaComponent) => unknown): this {
    return this.add(new TextAreaComponent(this.controlEl), cb);
  }

  addDropdown(cb: (component: DropdownComponent) => unknown): this {
    return this.add(new DropdownComponent(this.controlEl), cb);
  }

  then(cb: (setting: this) => unknown, ...rest: unknown[]): this {
    refuseToBeAdopted(this, rest);
    cb(this);
    return this;
  }

  private add<C extends BaseComponent>(component: C, cb: (component: C) => unknown): this {
    this.components.push(component);
    cb(component);
    return this;
  }
}

function setContent(el: HTMLElement, content: string | DocumentFragment): void {
  el.replaceChildren();
  if (typeof content === 'string') el.textContent = content;
  else el.appendChild(content);
}
