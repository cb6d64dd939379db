import type {
  OwpEvent,
  PoolState,
  Repo,
  StreamStatus,
  Task,
  Worker,
  WorkOffer,
} from '../../protocol/index.ts';

/** How far the store got: loading the first picture, showing one, or unable to reach the pool. */
export type StorePhase = 'idle' | 'loading' | 'ready' | 'failed';

/**
 * The live picture of the pool the views read: immutable, replaced as a whole on every change, so
 * a view compares references to know whether to redraw.
 */
export interface PoolSnapshot {
  phase: StorePhase;
  /** The event stream; the data below is the last known while `offline`. */
  connection: StreamStatus;
  /** `admin` sees the whole pool; `worker` only its own tasks and events. */
  scope: 'admin' | 'worker';
  /** The local worker's id, when there is one: "my work" filters by it. */
  me: string | null;
  tasks: ReadonlyMap<string, Task>;
  workers: ReadonlyMap<string, Worker>;
  repos: ReadonlyMap<string, Repo>;
  /**
   * The local worker's open offers (repos that offer work rather than lease it), oldest first;
   * empty without a local worker.
   */
  offers: readonly WorkOffer[];
  /** Server-side counts, when the scope may read them. */
  state: PoolState | null;
  /** The sequence number of the newest event applied. */
  lastSeq: number;
  /** The most recent events, oldest first, for the activity feed. */
  events: readonly OwpEvent[];
  /** What went wrong last (a failed load or refresh), for a notice; null when all is well. */
  error: string | null;
  /**
   * While offline: why the pool refuses this vault's token (changed on the server, say), which
   * the stream alone cannot tell from a network outage; null otherwise.
   */
  refused: string | null;
}

export const EMPTY_SNAPSHOT: PoolSnapshot = Object.freeze({
  phase: 'idle',
  connection: 'connecting',
  scope: 'admin',
  me: null,
  tasks: new Map(),
  workers: new Map(),
  repos: new Map(),
  offers: [],
  state: null,
  lastSeq: 0,
  events: [],
  error: null,
  refused: null,
});
