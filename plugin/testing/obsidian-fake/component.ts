import type * as obsidian from 'obsidian';
import type { Loose } from './loose.ts';
import { EventRef } from './events.ts';

/**
 * Obsidian's `Component`: loads and unloads itself and its children, and on unload undoes
 * everything registered with it — callbacks, events, DOM listeners and intervals. Tests can prove a
 * plugin cleans up by unloading it and checking nothing still listens.
 */
export class Component implements Partial<Loose<obsidian.Component>> {
  private active = false;
  private readonly children: Component[] = [];
  private readonly cleanups: (() => void)[] = [];

  /** Fake-internal: what `onload` returned, so a plugin's async `onload` can be awaited. */
  protected loading: void | Promise<void> = undefined;

  load(): void {
    if (this.active) return;
    this.active = true;
    this.loading = this.onload();
    for (const child of this.children) child.load();
  }

  onload(): void | Promise<void> {}

  unload(): void {
    if (!this.active) return;
    this.active = false;
    for (const child of this.children.splice(0).reverse()) child.unload();
    for (const cleanup of this.cleanups.splice(0).reverse()) cleanup();
    this.onunload();
  }

  onunload(): void {}

  /** Fake-only: whether the component is loaded. */
  get isLoaded(): boolean {
    return this.active;
  }

  addChild<T extends obsidian.Component>(component: T): T {
    const child = component as unknown as Component;
    this.children.push(child);
    if (this.active) child.load();
    return component;
  }

  removeChild<T extends obsidian.Component>(component: T): T {
    const child = component as unknown as Component;
    const at = this.children.indexOf(child);
    if (at >= 0) {
      this.children.splice(at, 1);
      child.unload();
    }
    return component;
  }

  register(cb: () => unknown): void {
    this.cleanups.push(() => void cb());
  }

  registerEvent(eventRef: obsidian.EventRef): void {
    if (eventRef instanceof EventRef) this.register(() => eventRef.events.offref(eventRef));
  }

  registerDomEvent(
    el: Window | Document | HTMLElement,
    type: string,
    callback: (this: HTMLElement, ev: Event) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void {
    const target = el as EventTarget;
    target.addEventListener(type, callback as EventListener, options);
    this.register(() => target.removeEventListener(type, callback as EventListener, options));
  }

  registerInterval(id: number): number {
    this.register(() => clearInterval(id));
    return id;
  }
}
