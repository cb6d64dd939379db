/**
 * Counts failed authentications per client address in fixed windows; past the limit the address
 * is refused before its credentials are even checked, so tokens cannot be guessed at speed.
 */
export class AuthThrottle {
  private readonly failures = new Map<string, { count: number; windowStart: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Seconds until the address may try again, or 0 when it may try now. */
  retryAfter(address: string): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    const elapsed = this.now() - entry.windowStart;
    if (elapsed >= this.windowMs) {
      this.failures.delete(address);
      return 0;
    }
    return entry.count >= this.limit ? Math.ceil((this.windowMs - elapsed) / 1000) : 0;
  }

  recordFailure(address: string): void {
    const now = this.now();
    const entry = this.failures.get(address);
    if (!entry || now - entry.windowStart >= this.windowMs) {
      this.failures.set(address, { count: 1, windowStart: now });
      if (this.failures.size > 100_000) this.prune(now);
    } else {
      entry.count++;
    }
  }

  private prune(now: number): void {
    for (const [address, entry] of this.failures) {
      if (now - entry.windowStart >= this.windowMs) this.failures.delete(address);
    }
  }
}
