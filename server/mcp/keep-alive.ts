/**
 * The heartbeat `owp mcp` sends by itself while it runs: a chain of timeouts rather than an
 * interval, each as far off as the session asks (sooner while a short lease is held), brought
 * forward when the session learns of a shorter one.
 */
import type { WorkerSession } from './worker-session.ts';

/** The quickest a keep-alive beats, however short a lease's TTL (the pool's least is 10 s). */
const MIN_BEAT_MS = 2_000;

/**
 * Milliseconds between heartbeats: the interval asked for, or a third of the shortest lease TTL
 * held when that is less (a repo may lease for as little as 10 s; a lease renewed only every 30 s
 * would expire under a worker at work).
 */
export function beatIntervalMs(askedMs: number, shortestTtlMs: number | null): number {
  if (shortestTtlMs === null) return askedMs;
  return Math.min(askedMs, Math.max(MIN_BEAT_MS, Math.floor(shortestTtlMs / 3)));
}

export class KeepAlive {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the next beat is due (epoch ms); Infinity while one is under way. */
  private dueAt = Infinity;
  private stopped = false;

  constructor(
    private readonly session: Pick<WorkerSession, 'keepAlive' | 'nextBeatMs'>,
    private readonly onError: (message: string) => void,
  ) {}

  start(): void {
    this.schedule();
  }

  /**
   * The session's interval may have shortened (a lease with a short TTL came): the beat waiting
   * is brought forward. Was: the beat already waited for ran first, and a 15 s lease granted
   * just after a 30 s beat was scheduled expired under a working agent.
   */
  reschedule(): void {
    if (this.stopped || this.dueAt === Infinity) return;
    if (Date.now() + this.session.nextBeatMs() >= this.dueAt) return;
    clearTimeout(this.timer);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    const ms = this.session.nextBeatMs();
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.dueAt = Infinity;
      void this.session.keepAlive(this.onError).finally(() => this.schedule());
    }, ms);
  }
}
