/**
 * Latencies in log-spaced buckets, each 1 % wider than the last, from 1 µs to about 100 s. Fixed
 * buckets (rather than every sample) let each load process keep millions of samples in a few KB
 * and let the orchestrator merge processes by adding counts; the price is ≤ 1 % error on a
 * percentile, far below run-to-run noise.
 */
const MIN_MS = 0.001;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(100_000 / MIN_MS) / LOG_GROWTH) + 1;

/** What crosses a process boundary: non-empty buckets only. */
export interface HistogramSnapshot {
  buckets: [index: number, count: number][];
  count: number;
  sumMs: number;
  maxMs: number;
}

export class Histogram {
  private counts = new Float64Array(BUCKETS);
  count = 0;
  sumMs = 0;
  maxMs = 0;

  record(ms: number): void {
    const index =
      ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
    this.counts[index]! += 1;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumMs = 0;
    this.maxMs = 0;
  }

  snapshot(): HistogramSnapshot {
    const buckets: [number, number][] = [];
    this.counts.forEach((n, i) => {
      if (n > 0) buckets.push([i, n]);
    });
    return { buckets, count: this.count, sumMs: this.sumMs, maxMs: this.maxMs };
  }

  merge(snapshot: HistogramSnapshot): this {
    for (const [index, n] of snapshot.buckets) this.counts[index]! += n;
    this.count += snapshot.count;
    this.sumMs += snapshot.sumMs;
    this.maxMs = Math.max(this.maxMs, snapshot.maxMs);
    return this;
  }

  /** The latency at or below which `p` (0–100) percent of samples fall (bucket upper bound). */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(MIN_MS * GROWTH ** i, this.maxMs);
    }
    return this.maxMs;
  }

  get meanMs(): number {
    return this.count === 0 ? NaN : this.sumMs / this.count;
  }
}

/** Merges snapshots from several processes into one histogram. */
export function mergeSnapshots(snapshots: (HistogramSnapshot | undefined)[]): Histogram {
  const merged = new Histogram();
  for (const snapshot of snapshots) if (snapshot) merged.merge(snapshot);
  return merged;
}
