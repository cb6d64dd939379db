import type { OwpEvent } from '../protocol/index.ts';
import type { EventRefs } from './event-log.ts';
import { countsAgainstBudget, isReserving } from './lifecycle.ts';
import type { SqlDriver } from './storage-port.ts';

export type EventListener = (event: OwpEvent) => void;

/** The actor of admin commands: whoever holds the admin token (or the vault owner, embedded). */
export const ADMIN_ACTOR = 'admin';
/** The actor of the engine's own decisions: the expiry sweep, grants, the assignment timer. */
export const SYSTEM_ACTOR = 'system';

/**
 * Who a write is made by, as stored on its events: `admin`, `system`, a worker id, or — when the
 * id is only known once the write has made it (registration) — a function of the event's refs.
 */
export type ActorOf = string | ((refs: EventRefs) => string);

/** A worker registering itself: the actor is the worker the event is about. */
export const REGISTERING_WORKER: ActorOf = (refs) => refs.worker_id ?? SYSTEM_ACTOR;

/** What may have become assignable during a write, so assignment runs once, at its end. */
export interface Touched {
  tasks: Set<string>;
  repos: Set<string>;
  workers: Set<string>;
}

const nothingTouched = (): Touched => ({ tasks: new Set(), repos: new Set(), workers: new Set() });

/**
 * The engine's unit of work: one transaction per write; at its end, assignment of whatever the
 * write made assignable (`settle`); after commit, delivery of its events to listeners, in order.
 * Nested writes join the outer one. A rolled-back write delivers nothing.
 *
 * The scope also knows who the write is made by (`runAs`), so every event it records carries its
 * actor without each command passing it along. Grants made while settling are the engine's own
 * decision, whoever's write set them off: they are recorded as `system`.
 */
export class WriteScope {
  private readonly listeners = new Set<EventListener>();
  private pending: OwpEvent[] = [];
  private readonly deliveryQueue: OwpEvent[] = [];
  private delivering = false;
  private touched: Touched | null = null;
  private actor: ActorOf = SYSTEM_ACTOR;

  constructor(
    private readonly driver: SqlDriver,
    private readonly settle: (touched: Touched) => void,
  ) {}

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An event appended in the current transaction: heard after commit, and noted for settle. */
  recorded(event: OwpEvent): void {
    this.pending.push(event);
    if (this.touched) noteWhatMayBeAssignable(this.touched, event);
  }

  /** The actor of an event being recorded now. */
  actorOf(refs: EventRefs): string {
    return typeof this.actor === 'function' ? this.actor(refs) : this.actor;
  }

  /** `run`, with the events of `fn` recorded as made by `actor` (a nested write keeps its own). */
  runAs<R>(actor: ActorOf, fn: () => R): R;
  runAs<R, V>(actor: ActorOf, fn: () => R, view: (result: R) => V): V;
  runAs<R, V>(actor: ActorOf, fn: () => R, view?: (result: R) => V): R | V {
    const outer = this.actor;
    this.actor = actor;
    try {
      return view ? this.run(fn, view) : this.run(fn);
    } finally {
      this.actor = outer;
    }
  }

  /** One write. Its events are recorded as `system` unless it runs inside `runAs`. */
  run<R>(fn: () => R): R;
  run<R, V>(fn: () => R, view: (result: R) => V): V;
  run<R, V>(fn: () => R, view?: (result: R) => V): R | V {
    if (this.touched) return view ? view(fn()) : fn();
    this.touched = nothingTouched();
    let result: R | V;
    try {
      result = this.driver.transaction(() => {
        const value = fn();
        const touched = this.touched!;
        // Grants made while settling must not feed back into this settle.
        this.touched = nothingTouched();
        const actor = this.actor;
        this.actor = SYSTEM_ACTOR;
        try {
          this.settle(touched);
        } finally {
          this.actor = actor;
        }
        return view ? view(value) : value;
      });
    } catch (error) {
      this.pending = [];
      throw error;
    } finally {
      this.touched = null;
    }
    const events = this.pending;
    this.pending = [];
    // Under group commit the transaction is a savepoint of a commit still to come.
    if (this.driver.onCommitted) this.driver.onCommitted(() => this.deliver(events));
    else this.deliver(events);
    return result;
  }

  /**
   * Hands committed events to listeners, in sequence order, each to every listener before the
   * next. A listener that writes while being notified queues its events behind the ones being
   * delivered, so no listener ever hears them out of order.
   */
  private deliver(events: OwpEvent[]): void {
    this.deliveryQueue.push(...events);
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let event = this.deliveryQueue.shift(); event; event = this.deliveryQueue.shift()) {
        for (const listener of [...this.listeners]) {
          try {
            listener(event);
          } catch {
            // A failing listener must not undo or block a committed write.
          }
        }
      }
    } finally {
      this.delivering = false;
    }
  }
}

/** What an event may have made assignable. */
function noteWhatMayBeAssignable(touched: Touched, event: OwpEvent): void {
  switch (event.type) {
    case 'task.created':
    case 'task.updated':
      if (event.task_id) touched.tasks.add(event.task_id);
      return;
    case 'task.status_changed': {
      const { from, to, cause } = event.data;
      if (to === 'ready' && event.task_id) touched.tasks.add(event.task_id);
      // Budget, an area lock or a place in the queue may have freed: the repo's queue goes next.
      const freed =
        (countsAgainstBudget(from) && !countsAgainstBudget(to)) ||
        (isReserving(from) && !isReserving(to));
      if (freed && event.repo) touched.repos.add(event.repo);
      // A worker with capacity freed by its own progress may take more; not one that let go.
      if (
        isReserving(from) &&
        !isReserving(to) &&
        !['expire', 'release', 'decline', 'offer_expire'].includes(cause)
      ) {
        if (event.worker_id) touched.workers.add(event.worker_id);
      }
      return;
    }
    case 'repo.upserted':
      if (event.repo) touched.repos.add(event.repo);
      return;
    case 'worker.online':
    case 'worker.resumed':
      if (event.worker_id) touched.workers.add(event.worker_id);
      return;
    case 'worker.status_changed':
      if (event.data.from === 'paused' && event.worker_id) touched.workers.add(event.worker_id);
      return;
    case 'worker.trust_changed':
      if (event.worker_id) touched.workers.add(event.worker_id);
      return;
    default:
      return;
  }
}
