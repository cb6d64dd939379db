import { OwpEvent } from './events.ts';
import type { StreamStatus, Subscription } from './api.ts';

export interface EventStreamClientOptions {
  /** Full URL of `GET /v1/events`. */
  url: string;
  /** Authorization or X-Admin-Token header; sent as a header, never in the URL. */
  headers: Record<string, string>;
  /** Resume after this sequence number. */
  after: number;
  onEvent: (event: OwpEvent) => void;
  onStatus?: (status: StreamStatus) => void;
  /** The platform fetch by default; tests inject their own. */
  fetch?: typeof fetch;
  /** Reconnect delays grow from `minDelayMs` to `maxDelayMs` (default 500 ms → 15 s). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Treat the stream as dead after this long without a byte (default 45 s: three keep-alives). */
  idleTimeoutMs?: number;
}

/**
 * Reads the OWP event stream with `fetch` (so it can send the Authorization header, which
 * EventSource cannot), parses Server-Sent Events, and reconnects with `Last-Event-ID` after any
 * failure, backing off. Events arrive in order with no repeats: anything at or below the last
 * sequence seen is dropped.
 */
export class EventStreamClient implements Subscription {
  private lastSeq: number;
  private closed = false;
  private controller: AbortController | null = null;
  private delay: number;
  private status: StreamStatus | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private wakeUp: (() => void) | null = null;
  private skipNextWait = false;

  constructor(private readonly options: EventStreamClientOptions) {
    this.lastSeq = options.after;
    this.delay = options.minDelayMs ?? 500;
    void this.run();
  }

  /** The highest sequence number delivered so far. */
  get lastEventId(): number {
    return this.lastSeq;
  }

  /**
   * Drops the current connection, or cuts short the wait before the next attempt, and connects
   * again at once (e.g. when the app becomes visible or the network comes back).
   */
  reconnectNow(): void {
    this.delay = this.options.minDelayMs ?? 500;
    this.skipNextWait = true;
    this.controller?.abort();
    this.wakeUp?.();
  }

  close(): void {
    this.closed = true;
    this.controller?.abort();
    this.wakeUp?.();
    if (this.idleTimer) clearTimeout(this.idleTimer);
  }

  private setStatus(status: StreamStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.options.onStatus?.(status);
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      this.setStatus(this.status === 'offline' ? 'offline' : 'connecting');
      try {
        await this.connectOnce();
      } catch {
        // Network loss, a refused connection or an abort: all lead to a reconnect.
      }
      if (this.closed) return;
      if (this.skipNextWait) {
        this.skipNextWait = false;
        continue;
      }
      this.setStatus('offline');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.delay);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = null;
      this.delay = Math.min(this.delay * 2, this.options.maxDelayMs ?? 15_000);
    }
  }

  private armIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(
      () => this.controller?.abort(),
      this.options.idleTimeoutMs ?? 45_000,
    );
  }

  private async connectOnce(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    const doFetch = this.options.fetch ?? fetch;
    const response = await doFetch(this.options.url, {
      headers: {
        ...this.options.headers,
        accept: 'text/event-stream',
        'last-event-id': String(this.lastSeq),
      },
      signal: controller.signal,
    });
    if (!response.ok || !response.body) {
      throw new Error(`event stream answered ${response.status}`);
    }
    this.setStatus('live');
    this.delay = this.options.minDelayMs ?? 500;
    this.armIdleTimer();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        this.armIdleTimer();
        buffer += value.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } finally {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      reader.releaseLock();
    }
  }

  private dispatch(block: string): void {
    const data: string[] = [];
    let id: number | null = null;
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('id:')) id = Number(line.slice(3).trim());
    }
    if (data.length === 0) return;
    const parsed = OwpEvent.safeParse(JSON.parse(data.join('\n')));
    if (!parsed.success) {
      // An event this client does not know (a newer server's type): passed over, but counted as
      // seen, or every reconnect would ask for it — and what followed it — again.
      if (id !== null && Number.isSafeInteger(id) && id > this.lastSeq) this.lastSeq = id;
      return;
    }
    if (parsed.data.seq <= this.lastSeq) return;
    this.lastSeq = parsed.data.seq;
    this.options.onEvent(parsed.data);
  }
}
