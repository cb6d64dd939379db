import {
  HttpOwpApi,
  type OwpEvent,
  type StreamStatus,
  type Subscription,
  type Transport,
} from '../../protocol/index.ts';
import type { PoolBackend } from './pool-backend.ts';

export interface RemoteBackendOptions {
  /** The server, e.g. `https://owp.example.org`. */
  baseUrl: string;
  adminToken?: string;
  workerToken?: string;
  /** REST: the glue passes one over Obsidian's `requestUrl`; tests one over `fetch`. */
  transport: Transport;
  /** For the event stream, which `requestUrl` cannot read; the platform fetch by default. */
  fetch?: typeof fetch;
}

/**
 * Remote mode: the OWP API of a shared server, REST through the given transport and live events
 * through fetch-based SSE that resumes with `Last-Event-ID`. Reports one connection status for
 * an offline banner, and reconnects at once when the app becomes visible or the network returns.
 */
export class RemoteBackend implements PoolBackend {
  readonly mode = 'remote' as const;
  readonly api: HttpOwpApi;
  private readonly streams = new Set<ResumableStream>();
  private readonly statusListeners = new Set<(status: StreamStatus) => void>();
  private lastStatus: StreamStatus = 'connecting';

  constructor(options: RemoteBackendOptions) {
    this.api = new HttpOwpApi({
      baseUrl: options.baseUrl,
      adminToken: options.adminToken,
      workerToken: options.workerToken,
      transport: options.transport,
      fetch: options.fetch,
    });
  }

  /**
   * The connection as the views should show it: `offline` when any stream is, `connecting` while
   * any is (re)connecting, else `live`. With no stream open it stays at its last value.
   */
  get status(): StreamStatus {
    return this.lastStatus;
  }

  /** Hears status changes; returns the unsubscribe function. */
  onStatus(listener: (status: StreamStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Nothing to open up front: REST needs no session and each stream connects by itself. */
  async start(): Promise<void> {}

  /** Closes every stream. */
  async stop(): Promise<void> {
    for (const stream of [...this.streams]) stream.close();
  }

  subscribe(
    after: number,
    onEvent: (event: OwpEvent) => void,
    onStatus?: (status: StreamStatus) => void,
  ): Subscription {
    const stream = new ResumableStream(
      (from, deliver, report) => this.api.subscribe(from, deliver, report),
      after,
      onEvent,
      (status) => {
        onStatus?.(status);
        this.updateStatus();
      },
      () => {
        this.streams.delete(stream);
        this.updateStatus();
      },
    );
    this.streams.add(stream);
    stream.connect();
    return stream;
  }

  /** The app became visible: a stream may have died silently while it slept. */
  notifyVisible(): void {
    this.reconnectAll();
  }

  /** The network is back. */
  notifyOnline(): void {
    this.reconnectAll();
  }

  private reconnectAll(): void {
    for (const stream of this.streams) stream.reconnectNow();
  }

  private updateStatus(): void {
    if (this.streams.size === 0) return;
    const statuses = [...this.streams].map((s) => s.status);
    const status: StreamStatus = statuses.includes('offline')
      ? 'offline'
      : statuses.includes('connecting')
        ? 'connecting'
        : 'live';
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    for (const listener of this.statusListeners) listener(status);
  }
}

type OpenStream = (
  after: number,
  onEvent: (event: OwpEvent) => void,
  onStatus: (status: StreamStatus) => void,
) => Subscription;

/**
 * One live subscription that survives reconnecting from scratch: `reconnectNow()` replaces the
 * client with a new one that resumes after the last event delivered (the same `Last-Event-ID`
 * resume), and callbacks from a replaced client are ignored, so a late event or status from a
 * connection being torn down can never reach the views.
 */
class ResumableStream implements Subscription {
  private reported: StreamStatus | null = null;
  private lastSeq: number;
  private client: Subscription | null = null;
  private closed = false;
  private generation = 0;

  constructor(
    private readonly open: OpenStream,
    after: number,
    private readonly onEvent: (event: OwpEvent) => void,
    private readonly onStatus: (status: StreamStatus) => void,
    private readonly onClose: () => void,
  ) {
    this.lastSeq = after;
  }

  connect(): void {
    if (this.closed) return;
    // Each client gets a number; callbacks from a client that was replaced are ignored. (The client
    // reports its first status from inside its constructor, so the number is fixed beforehand.)
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    this.client = this.open(
      this.lastSeq,
      (event) => {
        if (!current() || event.seq <= this.lastSeq) return;
        this.lastSeq = event.seq;
        this.onEvent(event);
      },
      (status) => {
        if (current()) this.setStatus(status);
      },
    );
  }

  reconnectNow(): void {
    if (this.closed) return;
    const old = this.client;
    // Past events the client passed over (types it does not know), or the new one asks for them.
    this.lastSeq = Math.max(this.lastSeq, old?.lastEventId ?? 0);
    this.generation++;
    old?.close();
    this.setStatus('connecting');
    this.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    this.client?.close();
    this.client = null;
    this.onClose();
  }

  get status(): StreamStatus {
    return this.reported ?? 'connecting';
  }

  private setStatus(status: StreamStatus): void {
    if (status === this.reported) return;
    this.reported = status;
    this.onStatus(status);
  }
}
