import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import {
  canonicalJson,
  findMalformedInput,
  IDEMPOTENCY_HEADER,
  IdempotencyKey,
  OwpError,
  REPLAYED_HEADER,
  routes,
  toOwpError,
  type RouteName,
  type RouteSpec,
} from '../protocol/index.ts';
import type { Scheduler } from '../scheduler/engine.ts';
import { ADMIN_ACTOR } from '../scheduler/write-scope.ts';
import { adminTokenMatches } from './admin-token.ts';
import { auditAnswer, FileAnswer } from './audit-answer.ts';
import { backupName } from './backup-names.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { WorkerTokenCache } from './token-cache.ts';
import { buildOpenApiDocument } from '../protocol/openapi.ts';
import { registerDocs } from './docs.ts';
import { registerEventStream, withoutActor } from './event-stream.ts';
import { ServerMetrics } from './metrics.ts';

/** The origins the Obsidian app uses on desktop and mobile (DESIGN.md, "Live updates"). */
export const OBSIDIAN_ORIGINS = [
  'app://obsidian.md',
  'capacitor://localhost',
  'http://localhost',
  'https://localhost',
];

export interface AppOptions {
  engine: Scheduler;
  adminToken: string;
  /** Pino options or false; tokens are redacted from every log line. */
  logger?: boolean | object;
  /** Largest accepted request body, in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Registrations allowed per client address per minute (default 20). */
  registrationsPerMinute?: number;
  /** Failed authentications allowed per client address per minute (default 30). */
  authFailuresPerMinute?: number;
  /** Open event streams allowed at once (default 1000). */
  maxEventStreams?: number;
  /** A read-only token for the dashboard (`X-Viewer-Token`): GET admin routes and the event stream. */
  viewerToken?: string;
  /** A client must send its whole request within this (default 30 s): slow clients are cut off. */
  requestTimeoutMs?: number;
  /**
   * How long a close waits for the answers in progress before it ends every connection still
   * open (default 5 s): a client may hold one with no request at all, which the server never
   * sees as idle.
   */
  closeGraceMs?: number;
  /** Extra CORS origins beside Obsidian's. */
  corsOrigins?: string[];
  /**
   * Resolves once every write so far is committed. With group commit (the server's default) a
   * write's answer waits for it, so nothing is acknowledged that a crash could still undo.
   */
  committed?: () => Promise<void>;
  /**
   * Writes a checked copy of the database to a file (`GET /v1/admin/backup`); a server with no
   * database file (in memory) has none, and that route answers 404.
   */
  backup?: (target: string) => Promise<unknown>;
}

/** The app, with what its host needs beside it. */
export interface OwpApp extends FastifyInstance {
  owp: { metrics: ServerMetrics; setStopping(): void };
}

/** Who is calling: set by the auth step, read by the handlers. */
interface Caller {
  /** A viewer reads what an admin reads, and changes nothing. */
  kind: 'none' | 'admin' | 'viewer' | 'worker';
  workerId?: string;
  /** A worker's: the hash of the token it sent (an event stream ends once it is replaced). */
  tokenHash?: string;
}

interface HandlerInput {
  engine: Scheduler;
  metrics: ServerMetrics;
  caller: Caller;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  /** The request's Accept header, for routes that answer more than JSON. */
  accept: string | undefined;
  backup: AppOptions['backup'];
}

type Handler = (input: HandlerInput) => unknown;

const workerOf = (caller: Caller): string => caller.workerId!;

/**
 * `GET /v1/admin/backup`: the copy made into a folder of its own and sent as a download; the
 * folder is gone before the answer starts (see below), so nothing is left however it ends.
 */
async function backupAnswer(backup: AppOptions['backup']): Promise<FileAnswer> {
  if (!backup) {
    throw new OwpError('route_not_found', 'This server keeps its pool in memory: no file to copy.');
  }
  const folder = mkdtempSync(join(tmpdir(), 'owp-download-'));
  const file = join(folder, 'owp.db');
  try {
    await backup(file);
    const size = statSync(file).size;
    // Read through a descriptor opened now, and the folder removed at once: the file's bytes stay
    // readable until the answer is done, and nothing is left behind however it ends. (Where an
    // open file cannot be removed, it goes when the stream closes.)
    const body = createReadStream('', { fd: openSync(file, 'r') });
    try {
      rmSync(folder, { recursive: true, force: true });
    } catch {
      body.once('close', () => rmSync(folder, { recursive: true, force: true }));
    }
    return new FileAnswer('application/vnd.sqlite3', body, {
      'content-disposition': `attachment; filename="${backupName(new Date())}"`,
      'content-length': String(size),
    });
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}

/** Resumes after the I/O that is waiting has been handled. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Each route of the protocol table, adapted to one engine call. Nothing else happens here. */
const handlers: Record<RouteName, Handler> = {
  healthz: () => ({ ok: true }),
  registerWorker: ({ engine, body }) => engine.registerWorker(body as never),
  heartbeat: ({ engine, caller, body }) => engine.heartbeat(workerOf(caller), body as never),
  getWork: ({ engine, metrics, caller }) => {
    const end = metrics.assignmentSeconds.startTimer({ trigger: 'work_request' });
    try {
      return engine.getWork(workerOf(caller));
    } finally {
      end();
    }
  },
  updateStatus: ({ engine, caller, params, body }) => ({
    ok: true,
    task: engine.updateStatus(workerOf(caller), params.task_id!, body as never),
  }),
  upsertRepo: ({ engine, body }) => {
    const settings = engine.upsertRepo(body as never);
    return { ok: true, repo: settings.repo, settings };
  },
  createTask: ({ engine, body }) => {
    const task = engine.createTask(body as never);
    return { ok: true, task_id: task.task_id, task };
  },
  poolState: ({ engine }) => engine.state(),
  renewLease: ({ engine, caller, params }) => engine.renewLease(workerOf(caller), params.lease_id!),
  releaseLease: ({ engine, caller, params, body }) =>
    engine.releaseLease(workerOf(caller), params.lease_id!, (body ?? {}) as never),
  listTasks: ({ engine, query }) => engine.listTasks(query as never),
  getTask: ({ engine, caller, params }) => {
    const task = engine.getTask(params.task_id!);
    if (caller.kind === 'worker' && task.assignee !== caller.workerId) {
      throw new OwpError('forbidden', 'A worker may read only the tasks it holds.', {
        task_id: params.task_id,
      });
    }
    return task;
  },
  updateTask: ({ engine, params, body }) => engine.updateTask(params.task_id!, body as never),
  cancelTask: ({ engine, params }) => engine.cancelTask(params.task_id!),
  requeueTask: ({ engine, params }) => engine.requeueTask(params.task_id!),
  mergeTask: ({ engine, params }) => engine.markMerged(params.task_id!),
  explainTask: ({ engine, params }) => engine.explainTask(params.task_id!),
  listEvents: ({ engine, caller, query }) => {
    const { after, limit, task_id } = query as { after: number; limit: number; task_id?: string };
    const events = engine.events({
      after,
      limit,
      task_id,
      worker_id: caller.kind === 'worker' ? caller.workerId : undefined,
    });
    return { events: caller.kind === 'viewer' ? events.map(withoutActor) : events };
  },
  listWorkers: ({ engine }) => ({ workers: engine.listWorkers() }),
  getWorker: ({ engine, params }) => engine.getWorker(params.worker_id!),
  pauseWorker: ({ engine, params }) => engine.pauseWorker(params.worker_id!),
  resumeWorker: ({ engine, params }) => engine.resumeWorker(params.worker_id!),
  replaceWorkerToken: ({ engine, params }) => engine.replaceWorkerToken(params.worker_id!),
  listRepos: ({ engine }) => ({ repos: engine.listRepos() }),
  getRepo: ({ engine, params }) => engine.getRepo(params['*']!),
  deleteRepo: ({ engine, params }) => {
    engine.deleteRepo(params['*']!);
    return { ok: true };
  },
  backupDatabase: ({ backup }) => backupAnswer(backup),
  auditEvents: ({ engine, query, accept }) =>
    auditAnswer(engine, query as Parameters<typeof auditAnswer>[1], accept, nextTurn),
  // A long history is read a page at a time, other requests answered in between.
  repoAnalytics: ({ engine, params, query }) =>
    engine.repoAnalyticsPaced(params['*']!, query, nextTurn),
  listOffers: ({ engine, caller }) => engine.listOffers(workerOf(caller)),
  explainWork: ({ engine, caller }) => engine.explainWork(workerOf(caller)),
  acceptOffer: ({ engine, caller, params }) =>
    engine.acceptOffer(workerOf(caller), params.offer_id!),
  rejectOffer: ({ engine, caller, params, body }) =>
    engine.rejectOffer(workerOf(caller), params.offer_id!, body as never),
  setTrustTier: ({ engine, params, body }) => engine.setTrustTier(params.worker_id!, body as never),
  workerReputation: ({ engine, caller, params }) => {
    if (caller.kind === 'worker' && caller.workerId !== params.worker_id) {
      throw new OwpError('forbidden', 'A worker may read only its own reputation.', {
        worker_id: params.worker_id,
      });
    }
    return engine.reputation(params.worker_id!);
  },
};

/** `/v1/tasks/{task_id}/status` → `/v1/tasks/:task_id/status`. */
const toFastifyPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

function parseOr400<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const malformed = findMalformedInput(value);
  if (malformed !== null) {
    throw new OwpError(
      'validation_failed',
      `Invalid ${where}: ${malformed.path} ${malformed.message}.`,
      { issues: [malformed] },
    );
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new OwpError('validation_failed', `Invalid ${where}: ${z.prettifyError(result.error)}`, {
    issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

/**
 * Builds the HTTP app over an engine. Does not listen: tests use `app.inject()`, `main.ts` listens.
 */
export function buildApp(options: AppOptions): OwpApp {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Slowloris guards: the request (headers and body) must arrive in time, checked every second
    // rather than Node's default 30 s. Open event streams are not affected: their request is
    // complete at once, and their keep-alive comments (every 15 s) stay within connectionTimeout.
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // Refused in the OWP envelope instead, by the onRequest hook below.
    return503OnClosing: false,
    connectionTimeout: 60_000,
    keepAliveTimeout: 10_000,
    http: {
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      headersTimeout: options.requestTimeoutMs ?? 30_000,
      connectionsCheckingInterval: Math.min(1000, options.requestTimeoutMs ?? 30_000),
    },
    // Node's HTTP parser refuses some requests before Fastify sees them (headers or request line
    // too large, a malformed request line or header, the request not arriving in time): the
    // envelope for those too, written to the socket as Node would write its own answer.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const owp =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? new OwpError('headers_too_large', 'The request line or headers are too large.')
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? new OwpError('request_timeout', 'The request did not arrive in time.')
            : new OwpError('validation_failed', 'The request is not valid HTTP.');
      if (socket.writable) {
        const body = JSON.stringify(owp.toEnvelope());
        socket.write(
          `HTTP/1.1 ${owp.status} ${STATUS_CODES[owp.status]}\r\nConnection: close\r\n` +
            `Content-Type: application/json; charset=utf-8\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      }
      socket.destroy(error);
    },
    // Fastify's own early refusals (a bad percent-encoding, an over-long path parameter) get the
    // envelope too, without echoing the path back.
    frameworkErrors: (error, _request, reply) => {
      const owp =
        error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new OwpError('validation_failed', 'The request path is not valid.')
          : fromFastifyError(error);
      // The reply here is typed for no route; the envelope is what every error answers.
      void (reply as unknown as FastifyReply).status(owp.status).send(owp.toEnvelope());
    },
  });
  const metrics = new ServerMetrics(options.engine);
  // Ten seconds of memory for up to 100,000 workers (about 15 MB at the most).
  const tokens = new WorkerTokenCache(10_000, 100_000, () => Date.now());
  // A replaced token is refused from the answer that gives the new one on, not 10 s later.
  const forgetReplaced = options.engine.onEvent((event) => {
    if (event.type === 'worker.token_replaced' && event.worker_id) {
      tokens.forgetWorker(event.worker_id);
    }
  });
  app.addHook('onClose', async () => forgetReplaced());
  const throttle = new AuthThrottle(options.authFailuresPerMinute ?? 30, 60_000, () => Date.now());
  let stopping = false;
  // Once the app is closing, every answer ends its connection (`onSend`): a request still being
  // answered (a long analytics or audit read) would otherwise leave an idle kept-alive connection
  // holding the close (8 s measured), past the grace many supervisors give before SIGKILL. A
  // request that arrives meanwhile is refused as Fastify would, with 503, but in the OWP envelope.
  let closing = false;
  // A connection a client opened and never sent a request on (a spare one, as Node's fetch may
  // open while another of its requests is aborted) is not closed as idle when the server closes,
  // and held a close until the client's own idle timeout (4 s for Node's fetch) or the server's
  // connection timeout (60 s). After the grace every connection left is ended.
  let grace: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    closing = true;
    grace = setTimeout(() => app.server.closeAllConnections(), options.closeGraceMs ?? 5000);
    grace.unref();
  });
  app.addHook('onClose', async () => clearTimeout(grace));
  // Callbacks, not async hooks: no promise on every request for a flag that is almost never set.
  app.addHook('onRequest', (_request, _reply, done) => {
    if (!closing) return done();
    done(new OwpError('not_ready', 'The server is stopping.'));
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });
  const authenticateRequest = (
    spec: Pick<RouteSpec, 'auth' | 'viewerDenied'>,
    request: FastifyRequest,
  ) => {
    // An open route (health, registration) checks no credentials, so a lockout has nothing to
    // guard there: a client that guessed tokens must not make the instance look unhealthy.
    if (spec.auth === 'none') return { kind: 'none' as const };
    const wait = throttle.retryAfter(request.ip);
    if (wait > 0) {
      throw new OwpError('rate_limited', `Too many failed authentications; retry in ${wait} s.`, {
        retry_after_seconds: wait,
      });
    }
    try {
      return authenticate(options, tokens, spec, request);
    } catch (error) {
      if (error instanceof OwpError && error.code === 'unauthorized')
        throttle.recordFailure(request.ip);
      throw error;
    }
  };

  // JSON only: a text/plain body is refused with 415 rather than read as a string.
  app.removeContentTypeParser('text/plain');
  // Fastify's own JSON parser, which refuses `__proto__` and `constructor.prototype` keys (prototype
  // poisoning) as it refuses broken JSON: such a body is told apart, since it is valid JSON.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (error, value) => {
      if (error && isValidJson(body as string)) {
        done(
          new OwpError(
            'validation_failed',
            'The request body has a "__proto__" or "constructor.prototype" key, which is refused.',
          ),
        );
      } else if (error) done(error);
      else done(null, value);
    });
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const owp = fromFastifyError(error);
    if (owp.code === 'internal_error') app.log.error({ err: error }, 'unhandled error');
    const retryAfter = owp.details?.retry_after_seconds;
    if (owp.code === 'rate_limited' && typeof retryAfter === 'number') {
      void reply.header('retry-after', String(retryAfter));
    }
    void reply.status(owp.status).send(owp.toEnvelope());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new OwpError(
      'route_not_found',
      `No endpoint ${request.method} ${request.url.split('?')[0]}.`,
    );
    void reply.status(404).send(error.toEnvelope());
  });

  void app.register(cors, {
    origin: [...OBSIDIAN_ORIGINS, ...(options.corsOrigins ?? [])],
    allowedHeaders: [
      'authorization',
      'x-admin-token',
      'content-type',
      'idempotency-key',
      'last-event-id',
      'x-viewer-token',
    ],
    // Readable by a page of another origin: whether an answer replays an earlier one.
    exposedHeaders: [REPLAYED_HEADER],
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    maxAge: 600,
  });
  void app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      Object.assign(
        new OwpError(
          'rate_limited',
          `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s.`,
          {
            retry_after_seconds: Math.ceil(context.ttl / 1000),
          },
        ),
        { statusCode: 429 },
      ),
  });
  // Routes are added inside a plugin so they load after @fastify/rate-limit and get its hook.
  void app.register(async (api) => {
    metrics.register(api);
    registerEventStream(api, {
      engine: options.engine,
      committed: options.committed,
      maxConnections: options.maxEventStreams,
      authenticate: (request) => {
        const caller = authenticateRequest({ auth: 'worker_or_admin' }, request);
        if (caller.kind === 'worker') {
          return { kind: 'worker', workerId: caller.workerId!, tokenHash: caller.tokenHash! };
        }
        return caller.kind === 'viewer' ? { kind: 'viewer' } : { kind: 'admin' };
      },
    });
    registerDocs(api, buildOpenApiDocument());
    api.get('/readyz', async (_request, reply) => {
      if (stopping) throw new OwpError('not_ready', 'The server is stopping.');
      options.engine.state();
      return reply.send({ ok: true });
    });

    for (const [name, spec] of Object.entries(routes) as [RouteName, RouteSpec][]) {
      api.route({
        method: spec.method,
        url: toFastifyPath(spec.path),
        config:
          name === 'registerWorker'
            ? { rateLimit: { max: options.registrationsPerMinute ?? 20, timeWindow: 60_000 } }
            : {},
        handler: async (request, reply) => {
          const caller = authenticateRequest(spec, request);
          const params = spec.params
            ? (parseOr400(spec.params, request.params, 'path') as Record<string, string>)
            : {};
          const query = spec.query ? parseOr400(spec.query, request.query, 'query') : {};
          // An absent body is an empty object; a JSON `null` is a body, and the schema refuses it.
          const raw = request.body === undefined ? {} : request.body;
          const body = spec.body ? parseOr400(spec.body, raw, 'body') : undefined;
          const accept = request.headers.accept;
          const run = () =>
            handlers[name]({
              engine: options.engine,
              metrics,
              caller,
              params,
              query,
              body,
              accept,
              backup: options.backup,
            });
          const key = request.headers[IDEMPOTENCY_HEADER];
          // Keys are the caller's own: a worker's by its id, the admin's (task creation) as one.
          const keyOwner =
            caller.kind === 'worker'
              ? caller.workerId
              : caller.kind === 'admin'
                ? ADMIN_ACTOR
                : null;
          const answer =
            spec.idempotent && keyOwner && typeof key === 'string'
              ? options.engine.idempotent(
                  keyOwner,
                  parseOr400(IdempotencyKey, key, 'Idempotency-Key header'),
                  fingerprint(request),
                  run,
                  () => void reply.header(REPLAYED_HEADER, 'true'),
                )
              : run();
          // Most handlers answer at once; a long read (analytics) answers as a promise.
          const result = await answer;
          await options.committed?.();
          if (result instanceof FileAnswer) {
            return reply
              .status(200)
              .headers(result.headers)
              .type(result.contentType)
              .send(result.body);
          }
          return reply.status(spec.successStatus ?? 200).send(result);
        },
      });
    }
  });

  return Object.assign(app, {
    owp: {
      metrics,
      setStopping: () => {
        stopping = true;
      },
    },
  });
}

function authenticate(
  options: AppOptions,
  tokens: WorkerTokenCache,
  spec: Pick<RouteSpec, 'auth' | 'viewerDenied'>,
  request: FastifyRequest,
): Caller {
  if (spec.auth === 'none') return { kind: 'none' };
  const viewerHeader = request.headers['x-viewer-token'];
  if (typeof viewerHeader === 'string' && spec.auth !== 'worker') {
    if (!options.viewerToken || !adminTokenMatches(viewerHeader, options.viewerToken)) {
      throw new OwpError('unauthorized', 'The viewer token is wrong.');
    }
    if (request.method !== 'GET') {
      throw new OwpError('forbidden', 'The viewer token is read-only.');
    }
    if (spec.viewerDenied) {
      throw new OwpError(
        'forbidden',
        'This endpoint needs the admin token; a viewer may not read it.',
      );
    }
    return { kind: 'viewer' };
  }
  const adminHeader = request.headers['x-admin-token'];
  if (spec.auth !== 'worker' && typeof adminHeader === 'string') {
    if (adminTokenMatches(adminHeader, options.adminToken)) return { kind: 'admin' };
    throw new OwpError('unauthorized', 'The admin token is wrong.');
  }
  if (spec.auth !== 'admin') {
    const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const tokenHash = bearer ? options.engine.config.hashToken(bearer.trim()) : undefined;
    const workerId = tokenHash
      ? tokens.workerFor(tokenHash, (hash) => options.engine.workerIdByTokenHash(hash))
      : undefined;
    if (workerId) return { kind: 'worker', workerId, tokenHash };
    throw new OwpError(
      'unauthorized',
      bearer
        ? 'The worker token is not valid.'
        : spec.auth === 'worker'
          ? 'Send the worker token as Authorization: Bearer <token>.'
          : 'Send the worker token as Authorization: Bearer <token>, or the admin token as X-Admin-Token.',
    );
  }
  throw new OwpError('unauthorized', 'This endpoint needs the X-Admin-Token header.');
}

/**
 * What makes two requests the same for an Idempotency-Key: method, URL and body. The body as JSON
 * with its object keys sorted, so a client that builds the same body in another key order (a
 * retry from another library, a map with no fixed order) replays rather than being refused.
 */
function fingerprint(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`)
    .digest('hex');
}

/** Fastify's own failures (bad JSON, body too large, wrong content type) in the OWP envelope. */
function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function fromFastifyError(error: Error & { statusCode?: number; code?: string }): OwpError {
  if (error instanceof OwpError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new OwpError('malformed_json', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new OwpError(
        'malformed_json',
        'The request body is empty but its Content-Type says JSON: send {} or no Content-Type.',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new OwpError('payload_too_large', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new OwpError('unsupported_media_type', 'Send the request body as application/json.');
  }
  if (error instanceof SyntaxError) {
    return new OwpError('malformed_json', 'The request body is not valid JSON.');
  }
  if (error.statusCode === 429) return new OwpError('rate_limited', error.message);
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new OwpError('validation_failed', error.message);
  }
  return toOwpError(error);
}
