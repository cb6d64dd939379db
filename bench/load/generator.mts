/**
 * One load-generator process: a share of the W workers, driven over the OWP v0.1 wire through a
 * fixed number of keep-alive connections ("lanes"). Each lane takes the next idle worker and runs
 * one whole v0.1 loop for it — heartbeat → GET /v1/work → in_progress → pr_opened → merged — then
 * puts the worker back at the end of the queue. A worker is never in two lanes at once, so at most
 * `lanes` tasks are between in_progress and merged (the review budget is sized for that).
 *
 * Latency is measured per call from the moment the request is written on an open connection to the
 * moment its response is parsed: the server's time plus the loopback, with no client-side queueing.
 *
 * Controlled by the orchestrator over IPC: config → online → run → mark → report → stop.
 */
import { Histogram, type HistogramSnapshot } from '../lib/histogram.mts';
import { HttpConnection, type RawResponse } from '../lib/raw-http.mts';

export interface GeneratorConfig {
  host: string;
  port: number;
  /** `cycle`: the full v0.1 loop; `heartbeat`: heartbeats only (for the ratio to bare Fastify). */
  mode: 'cycle' | 'heartbeat';
  tokens: string[];
  lanes: number;
  timeoutMs: number;
}

export type CallType = 'heartbeat' | 'work' | 'in_progress' | 'pr_opened' | 'merged';
const STEPS = ['in_progress', 'pr_opened', 'merged'] as const;

/** What a generator measured since the last mark. */
export interface GeneratorReport {
  type: 'report';
  elapsedMs: number;
  merged: number;
  emptyWork: number;
  calls: Partial<Record<CallType, HistogramSnapshot>>;
  errors: Record<string, number>;
  cycle: HistogramSnapshot;
}

interface Lease {
  task_id: string;
  status?: string;
}

/** A FIFO of worker indexes without Array#shift's O(n) copy. */
class WorkerQueue {
  private items: number[];
  private head = 0;
  constructor(count: number) {
    this.items = Array.from({ length: count }, (_, i) => i);
  }
  take(): number | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++]!;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  give(item: number): void {
    this.items.push(item);
  }
}

let config: GeneratorConfig;
let getHeaders: string[] = [];
let postHeaders: string[] = [];
let connections: HttpConnection[] = [];
const histograms = new Map<CallType, Histogram>();
const cycleHistogram = new Histogram();
let errors: Record<string, number> = {};
let merged = 0;
let unreportedMerged = 0;
let emptyWork = 0;
let markedAt = performance.now();
let running = false;
let lanes: Promise<void>[] = [];
let progressTimer: NodeJS.Timeout | null = null;

const send = (message: object) => process.send?.(message);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function histogram(type: CallType): Histogram {
  let h = histograms.get(type);
  if (!h) histograms.set(type, (h = new Histogram()));
  return h;
}

function countError(type: string, code: string | number): void {
  const key = `${type} ${code}`;
  errors[key] = (errors[key] ?? 0) + 1;
}

async function call(
  connection: HttpConnection,
  type: CallType,
  method: string,
  path: string,
  worker: number,
  body?: string,
): Promise<RawResponse | null> {
  const started = performance.now();
  try {
    const response = await connection.request(
      method,
      path,
      body === undefined ? getHeaders[worker]! : postHeaders[worker]!,
      body,
    );
    histogram(type).record(performance.now() - started);
    if (response.status >= 300) {
      countError(type, response.status);
      return null;
    }
    return response;
  } catch (error) {
    countError(type, (error as Error).message.startsWith('request timed out') ? 'timeout' : 'net');
    await sleep(10); // a refused or reset connection must not become a hot loop
    return null;
  }
}

const HEARTBEAT_BODY = '{"status":"idle"}';

/** One v0.1 worker loop; returns how many tasks it merged. */
async function runCycle(connection: HttpConnection, worker: number): Promise<void> {
  const started = performance.now();
  if (
    !(await call(connection, 'heartbeat', 'POST', '/v1/workers/heartbeat', worker, HEARTBEAT_BODY))
  )
    return;
  if (config.mode === 'heartbeat') return;
  const work = await call(connection, 'work', 'GET', '/v1/work', worker);
  if (!work) return;
  const leases = (JSON.parse(work.body) as { leases: Lease[] }).leases;
  if (leases.length === 0) emptyWork++;
  for (const lease of leases) {
    // A lease left half-way by an earlier failed call resumes where it stands.
    const from = STEPS.indexOf(lease.status as (typeof STEPS)[number]) + 1;
    let done = true;
    for (const status of STEPS.slice(from)) {
      const body =
        status === 'pr_opened'
          ? `{"status":"pr_opened","artifact":{"pr_url":"https://example.test/pr/${lease.task_id}"}}`
          : `{"status":"${status}"}`;
      const ok = await call(
        connection,
        status,
        'POST',
        `/v1/tasks/${lease.task_id}/status`,
        worker,
        body,
      );
      if (!ok) {
        done = false;
        break;
      }
    }
    if (done) {
      merged++;
      unreportedMerged++;
    }
  }
  if (leases.length > 0) cycleHistogram.record(performance.now() - started);
}

async function runLane(connection: HttpConnection, queue: WorkerQueue): Promise<void> {
  while (running) {
    const worker = queue.take();
    if (worker === undefined) {
      await sleep(1);
      continue;
    }
    try {
      await runCycle(connection, worker);
    } finally {
      queue.give(worker);
    }
  }
}

/**
 * Every worker heartbeats once, so all are online before the clock starts. A worker whose first
 * heartbeat failed (a timeout while the server is busy bringing thousands online) gets two more
 * tries; what still failed is reported with the errors seen.
 */
async function bringOnline(): Promise<{
  elapsedMs: number;
  failed: number;
  errors: Record<string, number>;
}> {
  const started = performance.now();
  let pending = config.tokens.map((_, i) => i);
  for (let attempt = 0; attempt < 3 && pending.length > 0; attempt++) {
    const failed: number[] = [];
    let next = 0;
    await Promise.all(
      connections.map(async (connection) => {
        for (let at = next++; at < pending.length; at = next++) {
          const worker = pending[at]!;
          const ok = await call(
            connection,
            'heartbeat',
            'POST',
            '/v1/workers/heartbeat',
            worker,
            HEARTBEAT_BODY,
          );
          if (!ok) failed.push(worker);
        }
      }),
    );
    pending = failed;
  }
  return { elapsedMs: performance.now() - started, failed: pending.length, errors };
}

function mark(): void {
  for (const h of histograms.values()) h.reset();
  cycleHistogram.reset();
  errors = {};
  merged = 0;
  emptyWork = 0;
  markedAt = performance.now();
}

function report(): GeneratorReport {
  return {
    type: 'report',
    elapsedMs: performance.now() - markedAt,
    merged,
    emptyWork,
    calls: Object.fromEntries([...histograms].map(([type, h]) => [type, h.snapshot()])),
    errors,
    cycle: cycleHistogram.snapshot(),
  };
}

async function stop(): Promise<never> {
  running = false;
  if (progressTimer) clearInterval(progressTimer);
  await Promise.race([Promise.all(lanes), sleep(config ? config.timeoutMs : 1000)]);
  for (const connection of connections) connection.close();
  process.exit(0);
}

process.on('message', (message: { type: string; config?: GeneratorConfig }) => {
  void (async () => {
    try {
      switch (message.type) {
        case 'config': {
          config = message.config!;
          getHeaders = config.tokens.map((t) => `authorization: Bearer ${t}\r\n`);
          postHeaders = getHeaders.map((h) => `${h}content-type: application/json\r\n`);
          connections = Array.from(
            { length: config.lanes },
            () => new HttpConnection(config.host, config.port, config.timeoutMs),
          );
          send({ type: 'ready' });
          break;
        }
        case 'online':
          send({ type: 'online-done', ...(await bringOnline()) });
          break;
        case 'run': {
          running = true;
          const queue = new WorkerQueue(config.tokens.length);
          lanes = connections.map((connection) => runLane(connection, queue));
          // The admin refills the queue by what was merged: tell the orchestrator often.
          progressTimer = setInterval(() => {
            if (unreportedMerged > 0) send({ type: 'progress', merged: unreportedMerged });
            unreportedMerged = 0;
          }, 100);
          mark();
          send({ type: 'running' });
          break;
        }
        case 'mark':
          mark();
          send({ type: 'marked' });
          break;
        case 'report':
          send(report());
          break;
        case 'stop':
          await stop();
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
