import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OwpError, type OwpEvent } from '../protocol/index.ts';
import type { Scheduler } from '../scheduler/engine.ts';

export interface EventStreamOptions {
  engine: Scheduler;
  /** Resolves the caller; throws OwpError('unauthorized') when neither token is valid. */
  authenticate: (
    request: FastifyRequest,
  ) =>
    | { kind: 'admin' }
    | { kind: 'viewer' }
    | { kind: 'worker'; workerId: string; tokenHash: string };
  /** Resolves once every write so far is committed (group commit); catch-up reads after it. */
  committed?: () => Promise<void>;
  /** Open streams allowed at once; more get 503 so idle streams cannot starve the API. */
  maxConnections?: number;
  /** Comment lines that keep idle connections alive through proxies. */
  keepAliveMs?: number;
  /** A client this far behind (bytes queued) is dropped; it resumes with Last-Event-ID. */
  maxBufferedBytes?: number;
}

interface Connection {
  reply: FastifyReply;
  /** Only this worker's events; undefined for admins. */
  workerId?: string;
  /** The hash of the token a worker's stream was opened with: it ends once that is replaced. */
  tokenHash?: string;
  /** A viewer's stream: who made each event (`actor`) is the audit log's, for the admin only. */
  viewer: boolean;
  /** Highest sequence number written, so catch-up and live events never overlap. */
  lastSeq: number;
  /** Live events that arrived while catch-up was still reading the table. */
  backlog: OwpEvent[] | null;
}

const CATCH_UP_PAGE = 500;

/**
 * `GET /v1/events`: Server-Sent Events with `id:` = event sequence. A client reconnecting with
 * `Last-Event-ID` (or `?after=`) first gets what it missed from the event table, then live events,
 * with no gap and no repeat: live events are held back until catch-up has passed them.
 */
export function registerEventStream(app: FastifyInstance, options: EventStreamOptions): void {
  const connections = new Set<Connection>();
  const maxConnections = options.maxConnections ?? 1000;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;

  const unsubscribe = options.engine.onEvent((event) => {
    for (const connection of connections) {
      if (connection.backlog) connection.backlog.push(event);
      else deliver(connection, event);
    }
  });

  // An event goes to every open stream in turn: its frame is written out once (and once more
  // without `actor`, for viewers), not once per stream.
  let framed: { event: OwpEvent; frame?: string; viewerFrame?: string } | null = null;
  const frameOf = (event: OwpEvent, viewer: boolean): string => {
    if (framed?.event !== event) framed = { event };
    const toFrame = (data: object) =>
      `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
    return viewer
      ? (framed.viewerFrame ??= toFrame(withoutActor(event)))
      : (framed.frame ??= toFrame(event));
  };

  const deliver = (connection: Connection, event: OwpEvent) => {
    if (event.seq <= connection.lastSeq || connection.reply.raw.writableEnded) return;
    if (connection.workerId && event.worker_id !== connection.workerId) return;
    connection.lastSeq = event.seq;
    const raw = connection.reply.raw;
    raw.write(frameOf(event, connection.viewer));
    if (raw.writableLength > maxBuffered) raw.destroy();
    else if (
      event.type === 'worker.token_replaced' &&
      connection.tokenHash !== undefined &&
      options.engine.workerIdByTokenHash(connection.tokenHash) !== connection.workerId
    ) {
      // The token this stream was opened with was replaced: it ends here. (Not a stream opened
      // with the new token, which replays the event from the table as it catches up.)
      connections.delete(connection);
      raw.end();
    }
  };

  const timer = setInterval(() => {
    for (const connection of connections) connection.reply.raw.write(': keep-alive\n\n');
  }, keepAliveMs);
  timer.unref();

  // Streams never finish by themselves, so they are ended before the server waits for open
  // requests to drain (`preClose`); in `onClose` the server would already be waiting on them.
  app.addHook('preClose', async () => {
    clearInterval(timer);
    unsubscribe();
    for (const connection of connections) connection.reply.raw.end();
    connections.clear();
  });

  app.get('/v1/events', async (request, reply) => {
    const caller = options.authenticate(request);
    if (connections.size >= maxConnections) {
      throw new OwpError('not_ready', 'Too many open event streams; retry later.', {
        max_connections: maxConnections,
      });
    }
    const after = resumePoint(request);
    const connection: Connection = {
      reply,
      workerId: caller.kind === 'worker' ? caller.workerId : undefined,
      tokenHash: caller.kind === 'worker' ? caller.tokenHash : undefined,
      viewer: caller.kind === 'viewer',
      lastSeq: after,
      backlog: [],
    };
    reply.hijack();
    reply.raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write(`retry: 2000\n: connected, resuming after ${after}\n\n`);
    connections.add(connection);
    request.raw.on('close', () => connections.delete(connection));

    // Under group commit the table may hold this turn's writes before they commit: read after.
    await options.committed?.();
    // A position past the newest event was read from another log (the database was recreated, or
    // the client talked to another server): waiting for the sequence to get there would deliver
    // nothing for as long. Resume from the end of this log instead, and say so.
    const newest = options.engine.lastEventSeq();
    if (connection.lastSeq > newest) {
      reply.raw.write(
        `: ${after} is past the newest event, ${newest}: resuming after ${newest}\n\n`,
      );
      connection.lastSeq = newest;
    }
    // Catch up from the table, a page at a time, while live events queue in the backlog.
    for (;;) {
      const page = options.engine.events({
        after: connection.lastSeq,
        limit: CATCH_UP_PAGE,
        worker_id: connection.workerId,
      });
      for (const event of page) deliver(connection, event);
      if (page.length < CATCH_UP_PAGE) break;
      if (reply.raw.destroyed) return;
    }
    const backlog = connection.backlog ?? [];
    connection.backlog = null;
    for (const event of backlog) deliver(connection, event);
  });
}

/** An event as the viewer token reads it: without who made it, which is the audit log's. */
export function withoutActor(event: OwpEvent): Omit<OwpEvent, 'actor'> {
  const { actor: _actor, ...rest } = event;
  return rest;
}

function resumePoint(request: FastifyRequest): number {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, unknown>)?.after;
  const value = typeof header === 'string' && header !== '' ? header : query;
  if (value === undefined || value === '') return 0;
  const seq = Number(value);
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new OwpError(
      'validation_failed',
      'Last-Event-ID (or ?after=) must be a non-negative integer.',
      {
        value: String(value),
      },
    );
  }
  return seq;
}
