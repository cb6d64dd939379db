/**
 * The server's own view of a window, from two scrapes of its Prometheus `/metrics`: time per route
 * measured inside the server (Fastify's `reply.elapsedTime`, from the request's arrival at the
 * router to the response), assignment time by trigger, and event-loop delay. The generators'
 * latencies include waiting behind other requests on the single server thread; these do not, so
 * they say which route costs the server the most time per call.
 */

/** One histogram series: cumulative bucket counts by upper bound (seconds), sum and count. */
interface Series {
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

export type MetricsScrape = Map<string, Series | number>;

/** Server time of one route (or trigger) over the window, in ms. */
export interface ServerTime {
  count: number;
  meanMs: number;
  /** Upper bound of the histogram bucket holding the 50th / 99th percentile. */
  p50Ms: number;
  p99Ms: number;
  /**
   * count × mean ÷ window: how many were in progress at once, on average (Little's law). For a
   * synchronous span (assignment) that is the share of the thread's time; a route's requests
   * overlap (an answer waits for the group commit while other requests run).
   */
  inProgress: number;
}

export interface ServerMetricsWindow {
  routes: Record<string, ServerTime>;
  assignment: Record<string, ServerTime>;
  /** Event-loop delay since the previous scrape (prom-client resets it on each collect), ms. */
  eventLoopLagP99Ms: number | null;
  eventLoopLagMaxMs: number | null;
}

export async function scrapeMetrics(base: string): Promise<MetricsScrape | null> {
  try {
    const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return response.ok ? parseMetrics(await response.text()) : null;
  } catch {
    return null;
  }
}

/** Parses the histograms and gauges this report needs from the Prometheus text format. */
export function parseMetrics(text: string): MetricsScrape {
  const out: MetricsScrape = new Map();
  const series = (key: string): Series => {
    let s = out.get(key) as Series | undefined;
    if (!s) out.set(key, (s = { buckets: new Map(), sum: 0, count: 0 }));
    return s;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const [, name, labelText = '', raw] = match;
    const value = Number(raw);
    const labels = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (name!.startsWith('owp_http_request_duration_seconds')) {
      const key = `http ${labels.method} ${labels.route}`;
      addTo(series(key), name!, labels.le, value);
    } else if (name!.startsWith('owp_assignment_duration_seconds')) {
      addTo(series(`assign ${labels.trigger}`), name!, labels.le, value);
    } else if (
      name === 'owp_nodejs_eventloop_lag_p99_seconds' ||
      name === 'owp_nodejs_eventloop_lag_max_seconds'
    ) {
      out.set(name, value);
    }
  }
  return out;
}

/** Statuses are summed into one series per route: the window wants the route's whole cost. */
function addTo(series: Series, name: string, le: string | undefined, value: number): void {
  if (name.endsWith('_bucket') && le !== undefined) {
    const bound = le === '+Inf' ? Infinity : Number(le);
    series.buckets.set(bound, (series.buckets.get(bound) ?? 0) + value);
  } else if (name.endsWith('_sum')) series.sum += value;
  else if (name.endsWith('_count')) series.count += value;
}

function windowOf(before: Series | undefined, after: Series, seconds: number): ServerTime | null {
  const count = after.count - (before?.count ?? 0);
  if (count <= 0) return null;
  const sum = after.sum - (before?.sum ?? 0);
  const bounds = [...after.buckets.keys()].sort((a, b) => a - b);
  const percentile = (p: number) => {
    const rank = (p / 100) * count;
    for (const bound of bounds) {
      const n = after.buckets.get(bound)! - (before?.buckets.get(bound) ?? 0);
      if (n >= rank) return bound * 1000;
    }
    return Infinity;
  };
  return {
    count,
    meanMs: (sum / count) * 1000,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    inProgress: sum / seconds,
  };
}

/** The difference between two scrapes `seconds` apart. */
export function metricsWindow(
  before: MetricsScrape | null,
  after: MetricsScrape | null,
  seconds: number,
): ServerMetricsWindow | null {
  if (!before || !after) return null;
  const routes: Record<string, ServerTime> = {};
  const assignment: Record<string, ServerTime> = {};
  for (const [key, value] of after) {
    if (typeof value === 'number') continue;
    const w = windowOf(before.get(key) as Series | undefined, value, seconds);
    if (!w) continue;
    if (key.startsWith('http ')) {
      const route = key.slice(5);
      if (!route.endsWith('/metrics')) routes[route] = w;
    } else assignment[key.slice(7)] = w;
  }
  const gauge = (name: string) => {
    const v = after.get(name);
    return typeof v === 'number' ? v * 1000 : null;
  };
  return {
    routes,
    assignment,
    eventLoopLagP99Ms: gauge('owp_nodejs_eventloop_lag_p99_seconds'),
    eventLoopLagMaxMs: gauge('owp_nodejs_eventloop_lag_max_seconds'),
  };
}
