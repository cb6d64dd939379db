/**
 * The admin process: sets up repos, seeds over HTTP when asked, keeps the ready queue full while
 * workers drain it (the orchestrator forwards how many tasks were merged; each one is replaced by a
 * new POST /v1/admin/tasks), and, for the live-events measure, writes probe tasks whose title
 * carries the send time.
 *
 * Refill tasks are common tasks (no rare skill): in the skill-sparse case the rare ones are hardly
 * ever taken, so the mix stays as seeded.
 */
import { Histogram, type HistogramSnapshot } from '../lib/histogram.mts';
import { HttpConnection } from '../lib/raw-http.mts';
import {
  benchRepos,
  isRareTask,
  repoRequest,
  taskRequest,
  workerRequest,
  type SkillMix,
} from './workload.mts';

export interface AdminConfig {
  host: string;
  port: number;
  adminToken: string;
  lanes: number;
  timeoutMs: number;
  /** The pool's size decides its repos (see `benchRepos`). */
  workers: number;
}

export interface AdminReport {
  type: 'report';
  elapsedMs: number;
  created: number;
  /** Refill orders not yet sent when the report was taken. */
  backlog: number;
  createTask: HistogramSnapshot;
  errors: Record<string, number>;
}

let config: AdminConfig;
let repos: string[] = [];
let adminHeaders = '';
let connections: HttpConnection[] = [];
/** Setup, state reads and probes: never shared with the refill lanes (one request at a time). */
let control: HttpConnection;
const createHistogram = new Histogram();
let errors: Record<string, number> = {};
let created = 0;
let markedAt = performance.now();
let backlog = 0;
let refillSerial = 1_000_000_000;
let running = false;
/** Refill lanes waiting for orders; all are woken when an order comes. */
let waiting: (() => void)[] = [];
let refillLanes: Promise<void>[] = [];

const send = (message: object) => process.send?.(message);
const wakeAll = () => {
  const woken = waiting;
  waiting = [];
  for (const done of woken) done();
};
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function post(
  connection: HttpConnection,
  path: string,
  body: object,
  headers = adminHeaders,
) {
  const response = await connection.request('POST', path, headers, JSON.stringify(body));
  if (response.status >= 300) {
    const error = new Error(`POST ${path} → ${response.status}: ${response.body.slice(0, 300)}`);
    throw Object.assign(error, { status: response.status });
  }
  return JSON.parse(response.body) as Record<string, unknown>;
}

/** Runs `count` jobs over all connections, `job(i)` for i = 0 … count−1. */
async function spread(
  count: number,
  job: (connection: HttpConnection, i: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    connections.map(async (connection) => {
      for (let i = next++; i < count; i = next++) await job(connection, i);
    }),
  );
}

async function createOne(connection: HttpConnection, body: object): Promise<void> {
  const started = performance.now();
  try {
    await post(connection, '/v1/admin/tasks', body);
    createHistogram.record(performance.now() - started);
    created++;
  } catch (error) {
    const key = `create_task ${(error as { status?: number }).status ?? 'net'}`;
    errors[key] = (errors[key] ?? 0) + 1;
    await sleep(10);
  }
}

async function refillLane(connection: HttpConnection): Promise<void> {
  while (running) {
    if (backlog <= 0) {
      await new Promise<void>((done) => {
        waiting.push(done);
        setTimeout(done, 50);
      });
      continue;
    }
    backlog--;
    const i = refillSerial++;
    await createOne(connection, taskRequest(repos, i, false));
  }
}

/** Probe writes for the live-events measure: `ratePerSecond` tasks titled `probe <hrtime ns>`. */
async function probe(ratePerSecond: number, durationMs: number): Promise<number> {
  const connection = control;
  const interval = 1000 / ratePerSecond;
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < durationMs) {
    const due = started + sent * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    // CLOCK_MONOTONIC is one clock for every process on the machine: the SSE clients compare
    // their own hrtime with this one.
    const title = `probe ${process.hrtime.bigint()}`;
    await createOne(connection, taskRequest(repos, sent, false, title));
    sent++;
  }
  return sent;
}

function mark(): void {
  createHistogram.reset();
  errors = {};
  created = 0;
  markedAt = performance.now();
}

process.on('message', (message: Record<string, unknown> & { type: string }) => {
  void (async () => {
    try {
      switch (message.type) {
        case 'config':
          config = message.config as AdminConfig;
          repos = benchRepos(config.workers);
          adminHeaders = `x-admin-token: ${config.adminToken}\r\ncontent-type: application/json\r\n`;
          connections = Array.from(
            { length: config.lanes },
            () => new HttpConnection(config.host, config.port, config.timeoutMs),
          );
          control = new HttpConnection(config.host, config.port, config.timeoutMs);
          send({ type: 'ready' });
          break;
        case 'setup':
          for (const repo of repos) await post(control, '/v1/admin/repos', repoRequest(repo));
          send({ type: 'setup-done' });
          break;
        case 'seed-tasks': {
          const started = performance.now();
          const mix = message.mix as SkillMix;
          await spread(message.count as number, (connection, i) =>
            post(connection, '/v1/admin/tasks', taskRequest(repos, i, isRareTask(i, mix))).then(
              () => {},
            ),
          );
          send({ type: 'seeded-tasks', elapsedMs: performance.now() - started });
          break;
        }
        case 'register': {
          const started = performance.now();
          const mix = message.mix as SkillMix;
          const tokens: string[] = [];
          const json = 'content-type: application/json\r\n';
          await spread(message.count as number, async (connection, i) => {
            const reply = await post(
              connection,
              '/v1/workers/register',
              workerRequest(i, mix),
              json,
            );
            tokens[i] = reply.token as string;
          });
          send({ type: 'registered', tokens, elapsedMs: performance.now() - started });
          break;
        }
        case 'start-refill':
          running = true;
          refillLanes = connections.map((connection) => refillLane(connection));
          send({ type: 'refilling' });
          break;
        case 'create':
          backlog += message.count as number;
          wakeAll();
          break;
        case 'state': {
          const response = await control.request('GET', '/v1/admin/state', adminHeaders);
          send({ type: 'state', state: JSON.parse(response.body) as unknown });
          break;
        }
        case 'probe': {
          const sent = await probe(message.ratePerSecond as number, message.durationMs as number);
          send({ type: 'probe-done', sent });
          break;
        }
        case 'mark':
          mark();
          send({ type: 'marked' });
          break;
        case 'report':
          send({
            type: 'report',
            elapsedMs: performance.now() - markedAt,
            created,
            backlog,
            createTask: createHistogram.snapshot(),
            errors,
          } satisfies AdminReport);
          break;
        case 'stop':
          running = false;
          wakeAll();
          await Promise.race([Promise.all(refillLanes), sleep(config?.timeoutMs ?? 1000)]);
          for (const connection of connections) connection.close();
          control?.close();
          process.exit(0);
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
