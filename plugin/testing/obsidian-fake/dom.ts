import { Window } from 'happy-dom';

/** Obsidian's `DomElementInfo`: what `createEl` and friends accept. */
export interface DomElementInfo {
  cls?: string | string[];
  text?: string | DocumentFragment;
  attr?: Record<string, string | number | boolean | null>;
  title?: string;
  parent?: Node;
  value?: string;
  type?: string;
  prepend?: boolean;
  placeholder?: string;
  href?: string;
}

type ElementInfo = DomElementInfo | string | undefined;
type Callback<T> = ((el: T) => void) | undefined;

let ownWindow: Window | undefined;

/**
 * The window the fake's views live in: the test's own (with `// @vitest-environment happy-dom`),
 * else one happy-dom window made for the fake — not made global, since a `window` global would make
 * Node libraries (sql.js, say) believe they run in a browser. Obsidian's DOM helpers (`createEl`,
 * `empty`, `setText`, `addClass`, …) are installed on its prototypes, and its globals
 * (`activeWindow`, `activeDocument`, `createEl`, `createDiv`, `createSpan`, `createFragment`,
 * `sleep`) are defined, as Obsidian defines them for plugins.
 */
export function domWindow(): Window {
  const global = globalThis as Record<string, unknown>;
  const win =
    (global.window as Window | undefined) ??
    (ownWindow ??= new Window({ url: 'app://obsidian.md/' }));
  installDomHelpers(win);
  const doc = win.document as unknown as Document;
  global.activeWindow ??= win;
  global.activeDocument ??= doc;
  global.createEl ??= (tag: string, o?: ElementInfo, cb?: Callback<HTMLElement>) =>
    make(doc, tag, o, cb);
  global.createDiv ??= (o?: ElementInfo, cb?: Callback<HTMLElement>) => make(doc, 'div', o, cb);
  global.createSpan ??= (o?: ElementInfo, cb?: Callback<HTMLElement>) => make(doc, 'span', o, cb);
  global.createFragment ??= (cb?: Callback<DocumentFragment>) => {
    const fragment = doc.createDocumentFragment();
    cb?.(fragment);
    return fragment;
  };
  global.sleep ??= (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return win;
}

/** The document of the fake's window. */
export function domDocument(): Document {
  return domWindow().document as unknown as Document;
}

function make(
  doc: Document,
  tag: string,
  o: ElementInfo,
  cb: Callback<HTMLElement>,
  parent?: Node,
): HTMLElement {
  const el = doc.createElement(tag);
  const info: DomElementInfo = typeof o === 'string' ? { cls: o } : (o ?? {});
  if (info.cls) el.className = Array.isArray(info.cls) ? info.cls.join(' ') : info.cls;
  if (info.text !== undefined) {
    if (typeof info.text === 'string') el.textContent = info.text;
    else el.appendChild(info.text);
  }
  for (const [name, value] of Object.entries(info.attr ?? {})) setAttr(el, name, value);
  if (info.title !== undefined) el.title = info.title;
  for (const key of ['value', 'type', 'placeholder', 'href'] as const) {
    if (info[key] !== undefined) el.setAttribute(key, info[key]!);
    if (key === 'value' && info.value !== undefined) (el as HTMLInputElement).value = info.value;
  }
  const into = info.parent ?? parent;
  if (into) {
    if (info.prepend) into.insertBefore(el, into.firstChild);
    else into.appendChild(el);
  }
  cb?.(el);
  return el;
}

function setAttr(el: Element, name: string, value: string | number | boolean | null): void {
  if (value === null || value === false) el.removeAttribute(name);
  else el.setAttribute(name, value === true ? '' : String(value));
}

const installed = new WeakSet<object>();

function define(proto: object, members: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(members)) {
    if (Object.prototype.hasOwnProperty.call(proto, name)) continue;
    Object.defineProperty(proto, name, { value, configurable: true, writable: true });
  }
}

function installDomHelpers(win: Window): void {
  const w = win as unknown as Record<string, { prototype: object }>;
  if (installed.has(w.Node!.prototype)) return;
  installed.add(w.Node!.prototype);

  define(w.Node!.prototype, {
    createEl(this: Node, tag: string, o?: ElementInfo, cb?: Callback<HTMLElement>) {
      return make(this.ownerDocument ?? (this as Document), tag, o, cb, this);
    },
    createDiv(this: Node, o?: ElementInfo, cb?: Callback<HTMLElement>) {
      return make(this.ownerDocument ?? (this as Document), 'div', o, cb, this);
    },
    createSpan(this: Node, o?: ElementInfo, cb?: Callback<HTMLElement>) {
      return make(this.ownerDocument ?? (this as Document), 'span', o, cb, this);
    },
    empty(this: Node) {
      while (this.firstChild) this.removeChild(this.firstChild);
    },
    detach(this: Node) {
      this.parentNode?.removeChild(this);
    },
    appendText(this: Node, text: string) {
      this.appendChild((this.ownerDocument ?? (this as Document)).createTextNode(text));
    },
    indexOf(this: Node, other: Node) {
      return Array.prototype.indexOf.call(this.childNodes, other);
    },
    insertAfter(this: Node, node: Node, child: Node | null) {
      this.insertBefore(node, child ? child.nextSibling : this.firstChild);
      return node;
    },
    setChildrenInPlace(this: Node, children: Node[]) {
      while (this.firstChild) this.removeChild(this.firstChild);
      for (const child of children) this.appendChild(child);
    },
    instanceOf(this: Node, type: new () => unknown) {
      return this instanceof type;
    },
  });
  Object.defineProperty(w.Node!.prototype, 'doc', {
    configurable: true,
    get(this: Node) {
      return this.ownerDocument ?? this;
    },
  });
  Object.defineProperty(w.Node!.prototype, 'win', {
    configurable: true,
    get(this: Node) {
      return (this.ownerDocument ?? (this as Document)).defaultView;
    },
  });

  define(w.Element!.prototype, {
    getText(this: Element) {
      return this.textContent ?? '';
    },
    setText(this: Element, value: string | DocumentFragment) {
      if (typeof value === 'string') this.textContent = value;
      else {
        while (this.firstChild) this.removeChild(this.firstChild);
        this.appendChild(value);
      }
    },
    addClass(this: Element, ...classes: string[]) {
      this.classList.add(...classes.filter(Boolean));
    },
    addClasses(this: Element, classes: string[]) {
      this.classList.add(...classes.filter(Boolean));
    },
    removeClass(this: Element, ...classes: string[]) {
      this.classList.remove(...classes);
    },
    removeClasses(this: Element, classes: string[]) {
      this.classList.remove(...classes);
    },
    toggleClass(this: Element, classes: string | string[], value: boolean) {
      for (const cls of Array.isArray(classes) ? classes : [classes]) {
        this.classList.toggle(cls, value);
      }
    },
    hasClass(this: Element, cls: string) {
      return this.classList.contains(cls);
    },
    setAttr(this: Element, name: string, value: string | number | boolean | null) {
      setAttr(this, name, value);
    },
    setAttrs(this: Element, attrs: Record<string, string | number | boolean | null>) {
      for (const [name, value] of Object.entries(attrs)) setAttr(this, name, value);
    },
    getAttr(this: Element, name: string) {
      return this.getAttribute(name);
    },
    matchParent(this: Element, selector: string, lastParent?: Element) {
      for (let el = this.parentElement; el && el !== lastParent; el = el.parentElement) {
        if (el.matches(selector)) return el;
      }
      return null;
    },
    find(this: Element, selector: string) {
      return this.querySelector(selector);
    },
    findAll(this: Element, selector: string) {
      return Array.from(this.querySelectorAll(selector));
    },
    findAllSelf(this: Element, selector: string) {
      return [...(this.matches(selector) ? [this] : []), ...this.querySelectorAll(selector)];
    },
  });

  define(w.HTMLElement!.prototype, {
    show(this: HTMLElement) {
      this.style.display = '';
    },
    hide(this: HTMLElement) {
      this.style.display = 'none';
    },
    toggle(this: HTMLElement, show: boolean) {
      this.style.display = show ? '' : 'none';
    },
    toggleVisibility(this: HTMLElement, visible: boolean) {
      this.style.visibility = visible ? '' : 'hidden';
    },
    isShown(this: HTMLElement) {
      return this.style.display !== 'none';
    },
    setCssStyles(this: HTMLElement, styles: Record<string, string>) {
      Object.assign(this.style, styles);
    },
    setCssProps(this: HTMLElement, props: Record<string, string>) {
      for (const [name, value] of Object.entries(props)) this.style.setProperty(name, value);
    },
    onClickEvent(this: HTMLElement, listener: (ev: MouseEvent) => unknown, options?: unknown) {
      this.addEventListener('click', listener as EventListener, options as AddEventListenerOptions);
    },
  });
}
