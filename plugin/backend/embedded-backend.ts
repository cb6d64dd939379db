import type {
  OwpApi,
  RegisterWorkerRequest,
  RegisterWorkerResponse,
  StreamStatus,
  Subscription,
} from '../../protocol/index.ts';
import { systemClock, type Clock } from '../../scheduler/clock.ts';
import type { EngineConfig } from '../../scheduler/context.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import type { IdSource } from '../../scheduler/ids.ts';
import { LocalOwpApi, type LocalApiCredentials } from '../../scheduler/local-api.ts';
import type { BinaryStore } from '../embedded/binary-store.ts';
import { Persister, type PersisterTimers, type SavedGeneration } from '../embedded/persister.ts';
import { type JournalStatement, SqlJsDriver } from '../embedded/sqljs-driver.ts';
import { pendingUpgrade } from '../../scheduler/migrate.ts';
import type { PoolBackend } from './pool-backend.ts';
import { platformTimers } from '../../scheduler/timers.ts';

/** Timers for saves and upkeep; `setInterval` is needed for the sweep/assign cycle. */
export interface BackendTimers extends PersisterTimers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface EmbeddedBackendOptions {
  /** Where the database is saved: the plugin's folder in Obsidian. */
  store: BinaryStore;
  /** Admin calls are the vault owner's; `workerToken` is the local worker's, once registered. */
  credentials: LocalApiCredentials;
  /** The sql.js WASM, inlined by the build; omitted in tests (sql.js finds it in node_modules). */
  wasmBinary?: Uint8Array;
  clock?: Clock;
  timers?: BackendTimers;
  /** Changes within this window are saved together (default 250 ms). */
  saveDebounceMs?: number;
  /** Database generations kept on disk (default 3). */
  keepGenerations?: number;
  /** How often expired leases are swept and the assignment cycle runs (default 5 s). */
  upkeepIntervalMs?: number;
  engineConfig?: Partial<EngineConfig>;
  ids?: IdSource;
  /** Hears failed saves and failed upkeep runs; the host shows a notice. */
  onError?: (error: unknown) => void;
}

const DEFAULT_TIMERS: BackendTimers = platformTimers;

/** A committed save, with the newest event it holds: everything up to it survives a crash. */
export interface EmbeddedSave extends SavedGeneration {
  lastEventSeq: number;
}

interface Running {
  driver: SqlJsDriver;
  engine: Scheduler;
  api: LocalOwpApi;
  upkeep: unknown;
  subscriptions: Set<Subscription>;
}

/**
 * Embedded mode: the OWP engine inside the plugin, on sql.js, saved to the plugin's folder by the
 * Persister. The writes of every committed transaction are appended to the journal (a whole
 * generation is written every few hundred, and on `stop()`); expired leases are swept and the
 * assignment cycle runs on a timer.
 */
export class EmbeddedBackend implements PoolBackend {
  readonly mode = 'embedded' as const;
  readonly persister: Persister;
  private readonly credentials: LocalApiCredentials;
  private readonly timers: BackendTimers;
  private running: Running | null = null;
  /** The newest event committed, and the newest one in the save being written. */
  private lastEventSeq = 0;
  private exportedEventSeq = 0;
  /** The copy kept at this start before the database was upgraded, by file name, if one was. */
  upgradeCopy: string | null = null;

  constructor(private readonly options: EmbeddedBackendOptions) {
    // A copy the backend owns: registerLocalWorker() fills in the token the API then acts with.
    this.credentials = { ...options.credentials };
    this.timers = options.timers ?? DEFAULT_TIMERS;
    this.persister = new Persister(options.store, {
      exportBytes: () => {
        const bytes = this.started().driver.export();
        this.exportedEventSeq = this.lastEventSeq; // saves never overlap, so this is that save's
        return bytes;
      },
      debounceMs: options.saveDebounceMs,
      keep: options.keepGenerations,
      clock: options.clock,
      timers: this.timers,
      onError: options.onError,
    });
  }

  /** The API with the backend's credentials. Throws before `start()`. */
  get api(): OwpApi {
    return this.started().api;
  }

  /** The engine itself, for the host's own upkeep and for tests. Throws before `start()`. */
  get engine(): Scheduler {
    return this.started().engine;
  }

  /** Loads the saved database (or starts a new one), migrates it and starts the upkeep timer. */
  async start(): Promise<void> {
    if (this.running) return;
    const bytes = await this.persister.load();
    const driver = await SqlJsDriver.open(bytes ?? undefined, this.options.wasmBinary);
    let engine: Scheduler;
    try {
      // The writes journaled after the saved generation, before anything else touches it (the
      // migrations included: a journal may hold a migration an earlier start ran).
      driver.replay(this.persister.takeJournal() as JournalStatement[][]);
      this.upgradeCopy = await this.keepCopyBeforeUpgrade(driver);
      // Every committed transaction's writes are journaled: any changed row, not only those
      // that record an event (a heartbeat renews leases without one).
      driver.onCommit((writes) => this.persister.record(writes));
      engine = new Scheduler({
        driver,
        clock: this.options.clock ?? systemClock,
        ids: this.options.ids,
        config: this.options.engineConfig,
      });
    } catch (error) {
      driver.close(); // e.g. a database from a newer version of the plugin
      throw error;
    }
    this.lastEventSeq = engine.state().last_event_seq;
    engine.onEvent((event) => {
      this.lastEventSeq = event.seq;
    });
    const upkeep = this.timers.setInterval(
      () => this.runUpkeep(),
      this.options.upkeepIntervalMs ?? 5000,
    );
    this.running = {
      driver,
      engine,
      api: new LocalOwpApi(engine, this.credentials),
      upkeep,
      subscriptions: new Set(),
    };
    // A new database, or one a journal was just replayed into, has no generation a journal may
    // extend: it is saved now, so that the session's changes are journaled from the first one.
    // Else they waited for a whole save, and a crash before it lost them (twice over, after a
    // crash: the replayed journal is not extended either).
    if (!this.persister.journaling) {
      this.persister.markDirty();
      // A failure is told once, by the persister (onError); the changes then wait, as before.
      await this.persister.flush().catch(() => undefined);
    }
  }

  /**
   * A saved pool about to be migrated to a newer schema (the plugin was updated) is first copied,
   * as it was, beside its generations: `owp-db.before-schema-<N>.sqlite`, which the generations
   * never replace or remove. None for a new pool or one at the newest schema. When the copy
   * cannot be written the start stops there, before any migration ran.
   */
  private async keepCopyBeforeUpgrade(driver: SqlJsDriver): Promise<string | null> {
    const upgrade = pendingUpgrade(driver);
    if (!upgrade) return null;
    const { from, to } = upgrade;
    const name = `owp-db.before-schema-${to}.sqlite`;
    try {
      await this.options.store.write(name, driver.export());
    } catch (error) {
      throw new Error(
        `The pool's database is at schema ${from} and this version of the plugin upgrades it to ` +
          `${to}, but the copy kept before that could not be written (${(error as Error).message}); ` +
          'nothing was changed.',
      );
    }
    return name;
  }

  /**
   * Stops the timers and live subscriptions, saves what changed, and closes the database.
   * `persister.lastSaved` then names the generation on disk.
   */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.timers.clearInterval(running.upkeep);
    for (const subscription of running.subscriptions) subscription.close();
    try {
      await this.persister.close();
    } finally {
      this.running = null;
      running.driver.close();
    }
  }

  /** Hears each committed save; returns the unsubscribe function. */
  onSaved(listener: (save: EmbeddedSave) => void): () => void {
    return this.persister.onSaved((saved) =>
      listener({ ...saved, lastEventSeq: this.exportedEventSeq }),
    );
  }

  subscribe(
    after: number,
    onEvent: Parameters<OwpApi['subscribe']>[1],
    onStatus?: (status: StreamStatus) => void,
  ): Subscription {
    const running = this.started();
    const inner = running.api.subscribe(after, onEvent, onStatus);
    const subscription: Subscription = {
      close: () => {
        running.subscriptions.delete(subscription);
        inner.close();
      },
    };
    running.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Registers the vault owner as the local worker and acts as it from now on. Returns the token
   * for the host to keep in the plugin's secret storage (it is shown only once).
   */
  async registerLocalWorker(
    name: string,
    skills: string[],
    extra: Omit<RegisterWorkerRequest, 'name' | 'skills'> = {},
  ): Promise<RegisterWorkerResponse> {
    const registered = await this.api.registerWorker({ ...extra, name, skills });
    this.credentials.workerToken = registered.token;
    return registered;
  }

  /** The API over the same engine with other credentials (another worker, or none). */
  apiAs(credentials: LocalApiCredentials): OwpApi {
    return new LocalOwpApi(this.started().engine, credentials);
  }

  /** Sweeps expired leases and silent workers, then assigns what is assignable. */
  runUpkeep(): void {
    const engine = this.running?.engine;
    if (!engine) return;
    try {
      engine.sweep();
      engine.assignAll();
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private started(): Running {
    if (!this.running) throw new Error('The embedded backend is not started.');
    return this.running;
  }
}
