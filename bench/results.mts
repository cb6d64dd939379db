/**
 * What `npm run bench` measures, as plain data: written to docs/performance-results.json and read
 * back to draw docs/performance.md, so a partial run (`--only`) keeps the other figures.
 */
import type { EmbeddedResults } from './embedded-bench.mts';
import type { MachineInfo } from './lib/proc-stats.mts';
import type { ServerMetricsWindow } from './lib/server-metrics.mts';

/** Latency summary of one call type, in ms. */
export interface LatencySummary {
  count: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface ProcessUse {
  /** CPU over the measuring window, % of one core. */
  cpuPercent: number;
  peakRssMb: number;
  endRssMb: number;
}

export interface LoadResult {
  name: string;
  label: string;
  group: string;
  /** `bare` is the Fastify baseline; `owp` the OWP server. */
  target: 'owp' | 'bare';
  mode: 'cycle' | 'heartbeat';
  workers: number;
  readyTarget: number;
  rareTaskFraction: number;
  rareWorkerFraction: number;
  lanes: number;
  generators: number;
  seed: 'engine' | 'http' | 'none';
  seedSeconds: number;
  onlineSeconds: number;
  build: 'src' | 'dist' | 'bare';
  windowSeconds: number;
  completedPerSecond: number;
  requestsPerSecond: number;
  calls: Record<string, LatencySummary>;
  cycle: LatencySummary | null;
  createTask: LatencySummary | null;
  emptyWork: number;
  errors: Record<string, number>;
  server: ProcessUse;
  /** The server's own timing of the window, from its /metrics (null for the bare baseline). */
  serverMetrics: ServerMetricsWindow | null;
  generatorsCpuPercent: number;
  adminCpuPercent: number;
  /** CPU of processes outside this bench during the window (% of one core): noise. */
  otherCpuPercent: number;
  iowaitPercent: number;
  readyAtEnd: number | null;
  /** Runs of this scenario in the last bench; the best is kept (`betterWindow`). */
  attempts?: number;
  /** Path of the CPU profile summary, when run with --profile. */
  profile?: string;
}

/**
 * Other processes used at most this much CPU (% of one core) during a window that counts as quiet.
 * On 2 cores, more than that is CPU taken from the server or the generators it measures.
 */
export const QUIET_OTHER_CPU_PERCENT = 20;

export const isQuietWindow = (result: Pick<LoadResult, 'otherCpuPercent'>): boolean =>
  result.otherCpuPercent <= QUIET_OTHER_CPU_PERCENT;

/**
 * Of two windows of one scenario, whether `candidate` is the one to keep: a quiet window beats a
 * shared one (a burst of other work lowers one side of a ratio only), then more requests/s.
 */
export function betterWindow(
  candidate: Pick<LoadResult, 'otherCpuPercent' | 'requestsPerSecond'>,
  kept: Pick<LoadResult, 'otherCpuPercent' | 'requestsPerSecond'>,
): boolean {
  if (isQuietWindow(candidate) !== isQuietWindow(kept)) return isQuietWindow(candidate);
  return candidate.requestsPerSecond > kept.requestsPerSecond;
}

export interface SseResult {
  clients: number;
  processes: number;
  probesSent: number;
  ratePerSecond: number;
  deliveries: number;
  expected: number;
  dropped: number;
  latency: LatencySummary;
  server: ProcessUse;
  otherCpuPercent: number;
}

export interface BenchResults {
  machine: MachineInfo;
  command: string;
  settings: {
    warmupSeconds: number;
    measureSeconds: number;
    generators: number;
    connections: number;
    build: string;
    /** CPU the machine used before the run started (% of one core): other jobs on it. */
    backgroundCpuPercent: number;
  };
  /** When each part was last measured (partial runs merge into the previous results). */
  measuredAt: Record<string, string>;
  load: Record<string, LoadResult>;
  sse: SseResult | null;
  /** RSS of an idle server on an empty database, MB, by how it runs (tsx adds its loader). */
  idleRss?: { src: number; dist: number | null };
  embedded: EmbeddedResults | null;
  failures: Record<string, string>;
  /** Server CPU profile summaries in docs/ (from `--profile` runs), by file name. */
  profiles?: string[];
}
