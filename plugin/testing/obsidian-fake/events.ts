import type * as obsidian from 'obsidian';

type Callback = (...data: unknown[]) => unknown;

/** A registration, as `on` returns it; `offref` takes it back. */
export class EventRef implements obsidian.EventRef {
  constructor(
    readonly events: Events,
    readonly name: string,
    readonly callback: Callback,
    readonly ctx: unknown,
  ) {}
}

/**
 * Obsidian's `Events`: named events, callbacks called in registration order with `ctx` as `this`;
 * a callback that throws is reported and does not stop the others (Obsidian logs and goes on).
 */
export class Events implements obsidian.Events {
  private readonly handlers = new Map<string, EventRef[]>();

  on(name: string, callback: Callback, ctx?: unknown): EventRef {
    const ref = new EventRef(this, name, callback, ctx);
    this.handlers.set(name, [...(this.handlers.get(name) ?? []), ref]);
    return ref;
  }

  off(name: string, callback: Callback): void {
    const list = this.handlers.get(name) ?? [];
    this.handlers.set(
      name,
      list.filter((ref) => ref.callback !== callback),
    );
  }

  offref(ref: obsidian.EventRef): void {
    if (!(ref instanceof EventRef)) return;
    const list = this.handlers.get(ref.name) ?? [];
    this.handlers.set(
      ref.name,
      list.filter((r) => r !== ref),
    );
  }

  trigger(name: string, ...data: unknown[]): void {
    for (const ref of this.handlers.get(name) ?? []) this.tryTrigger(ref, data);
  }

  tryTrigger(evt: obsidian.EventRef, args: unknown[]): void {
    if (!(evt instanceof EventRef)) return;
    try {
      evt.callback.apply(evt.ctx, args);
    } catch (error) {
      console.error(error);
    }
  }

  /** Fake-only: how many callbacks listen to `name` (to prove a plugin cleaned up). */
  listenerCount(name: string): number {
    return this.handlers.get(name)?.length ?? 0;
  }
}
