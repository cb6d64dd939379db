import type { OwpApi, StreamStatus, Subscription } from '../../protocol/index.ts';

export type BackendMode = 'embedded' | 'remote';

/**
 * What the plugin's views and note sync run against: the OWP API plus a lifecycle. Embedded and
 * remote backends implement it; nothing above this line knows which one it has.
 */
export interface PoolBackend {
  readonly mode: BackendMode;
  /** The API, acting with the credentials from the settings (admin and/or worker). */
  readonly api: OwpApi;
  /** Opens storage or the connection. Must be called before `api` is used. */
  start(): Promise<void>;
  /** Flushes anything pending (embedded: the last save) and closes. */
  stop(): Promise<void>;
  /** Live events after `after`; reconnects and catches up by itself (remote). */
  subscribe(
    after: number,
    onEvent: Parameters<OwpApi['subscribe']>[1],
    onStatus?: (status: StreamStatus) => void,
  ): Subscription;
}
