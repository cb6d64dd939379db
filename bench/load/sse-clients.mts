/**
 * A process holding many live-event streams (GET /v1/events with the admin token). For each probe
 * event (a task titled `probe <hrtime ns>`) it records the time from the admin's write to the
 * event's arrival here. CLOCK_MONOTONIC (process.hrtime) is shared by every process on the machine,
 * so send and arrival times are comparable without clock sync.
 *
 * `node:http` here, not the raw client: an event stream is one long chunked response, and only
 * a few hundred of them are open — the per-request cost that matters for the load lanes does not.
 */
import { request, type ClientRequest } from 'node:http';
import { Histogram, type HistogramSnapshot } from '../lib/histogram.mts';

export interface SseConfig {
  host: string;
  port: number;
  adminToken: string;
  clients: number;
}

export interface SseReport {
  type: 'report';
  deliveries: number;
  latency: HistogramSnapshot;
  /** Streams that ended or failed during the run. */
  dropped: number;
}

const latency = new Histogram();
let deliveries = 0;
let dropped = 0;
const requests: ClientRequest[] = [];
const send = (message: object) => process.send?.(message);

function openStream(config: SseConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    let connected = false;
    let buffer = '';
    const req = request(
      {
        host: config.host,
        port: config.port,
        path: '/v1/events',
        agent: false,
        headers: { 'x-admin-token': config.adminToken, accept: 'text/event-stream' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET /v1/events → ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const arrived = process.hrtime.bigint();
          if (!connected) {
            connected = true;
            resolve();
          }
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
            if (!block.includes('event: task.created')) continue;
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (!data) continue;
            const title = (JSON.parse(data) as { data?: { title?: string } }).data?.title ?? '';
            if (!title.startsWith('probe ')) continue;
            deliveries++;
            latency.record(Number(arrived - BigInt(title.slice(6))) / 1e6);
          }
        });
        res.on('close', () => {
          if (connected) dropped++;
        });
      },
    );
    req.on('error', (error) => (connected ? dropped++ : reject(error)));
    req.end();
    requests.push(req);
  });
}

process.on('message', (message: { type: string; config?: SseConfig }) => {
  void (async () => {
    try {
      switch (message.type) {
        case 'config': {
          const config = message.config!;
          // Open in small groups: a burst of hundreds of connects would time out the slowest.
          for (let i = 0; i < config.clients; i += 25) {
            const group = Array.from({ length: Math.min(25, config.clients - i) }, () =>
              openStream(config),
            );
            await Promise.all(group);
          }
          send({ type: 'connected', count: config.clients });
          break;
        }
        case 'mark':
          latency.reset();
          deliveries = 0;
          send({ type: 'marked' });
          break;
        case 'report':
          send({
            type: 'report',
            deliveries,
            latency: latency.snapshot(),
            dropped,
          } satisfies SseReport);
          break;
        case 'stop':
          for (const req of requests) req.destroy();
          process.exit(0);
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
