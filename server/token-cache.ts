/**
 * Which worker a token hash belongs to, remembered for a short while: every worker request is
 * authenticated, and the lookup was the largest cost of a heartbeat after HTTP itself. Keyed by
 * the hash, never the token. A token stops matching when an admin replaces it, and the server
 * then forgets the worker's entries (`forgetWorker`); the TTL bounds staleness anyway.
 * Only hits are cached: an unknown token is looked up every time (and throttled by the caller).
 */
export class WorkerTokenCache {
  private readonly entries = new Map<string, { workerId: string; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  /** The worker for `tokenHash`: from the cache while fresh, else from `lookup` (then cached). */
  workerFor(tokenHash: string, lookup: (hash: string) => string | undefined): string | undefined {
    const cached = this.entries.get(tokenHash);
    const now = this.now();
    if (cached && now - cached.at < this.ttlMs) return cached.workerId;
    this.entries.delete(tokenHash);
    const workerId = lookup(tokenHash);
    if (workerId === undefined) return undefined;
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest entry.
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(tokenHash, { workerId, at: now });
    return workerId;
  }

  /** Drops every entry of `workerId` (its token was replaced): the next request looks it up. */
  forgetWorker(workerId: string): void {
    for (const [hash, entry] of this.entries) {
      if (entry.workerId === workerId) this.entries.delete(hash);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
