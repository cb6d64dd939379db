import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  IDEMPOTENCY_HEADER,
  IdempotencyKey,
  OwpError,
  routes,
  toOwpError,
  type RouteName,
  type RouteSpec,
} from '../protocol/index.ts';
import type { Scheduler } from '../scheduler/engine.ts';
import { adminTokenMatches } from './admin-token.ts';

export interface AppOptions {
  engine: Scheduler;
  adminToken: string;
  /** Pino options or false; tokens are redacted from every log line. */
  logger?: boolean | object;
  /** Largest accepted request body, in bytes (default 1 MiB). */
  bodyLimit?: number;
}

/** Who is calling: set by the auth step, read by the handlers. */
interface Caller {
  kind: 'none' | 'admin' | 'worker';
  workerId?: string;
}

interface HandlerInput {
  engine: Scheduler;
  caller: Caller;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
}

type Handler = (input: HandlerInput) => unknown;

const workerOf = (caller: Caller): string => caller.workerId!;

/** Each route of the protocol table, adapted to one engine call. Nothing else happens here. */
const handlers: Record<RouteName, Handler> = {
  healthz: () => ({ ok: true }),
  registerWorker: ({ engine, body }) => engine.registerWorker(body as never),
  heartbeat: ({ engine, caller, body }) => engine.heartbeat(workerOf(caller), body as never),
  getWork: ({ engine, caller }) => engine.getWork(workerOf(caller)),
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
  listWorkers: ({ engine }) => ({ workers: engine.listWorkers() }),
  pauseWorker: ({ engine, params }) => engine.pauseWorker(params.worker_id!),
  resumeWorker: ({ engine, params }) => engine.resumeWorker(params.worker_id!),
  listRepos: ({ engine }) => ({ repos: engine.listRepos() }),
  getRepo: ({ engine, params }) => engine.getRepo(params['*']!),
  deleteRepo: ({ engine, params }) => {
    engine.deleteRepo(params['*']!);
    return { ok: true };
  },
};

/** `/v1/tasks/{task_id}/status` → `/v1/tasks/:task_id/status`. */
const toFastifyPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

function parseOr400<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new OwpError('validation_failed', `Invalid ${where}: ${z.prettifyError(result.error)}`, {
    issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

/**
 * Builds the HTTP app over an engine. Does not listen: tests use `app.inject()`, `main.ts` listens.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
  });

  // JSON only: a text/plain body is refused with 415 rather than read as a string.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const owp = fromFastifyError(error);
    if (owp.code === 'internal_error') app.log.error({ err: error }, 'unhandled error');
    void reply.status(owp.status).send(owp.toEnvelope());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new OwpError(
      'route_not_found',
      `No endpoint ${request.method} ${request.url.split('?')[0]}.`,
    );
    void reply.status(404).send(error.toEnvelope());
  });

  for (const [name, spec] of Object.entries(routes) as [RouteName, RouteSpec][]) {
    app.route({
      method: spec.method,
      url: toFastifyPath(spec.path),
      handler: async (request, reply) => {
        const caller = authenticate(options, spec, request);
        const params = spec.params
          ? (parseOr400(spec.params, request.params, 'path') as Record<string, string>)
          : {};
        const query = spec.query ? parseOr400(spec.query, request.query, 'query') : {};
        const body = spec.body ? parseOr400(spec.body, request.body ?? {}, 'body') : undefined;
        const run = () => handlers[name]({ engine: options.engine, caller, params, query, body });
        const key = request.headers[IDEMPOTENCY_HEADER];
        const result =
          spec.idempotent && caller.kind === 'worker' && typeof key === 'string'
            ? options.engine.idempotent(
                caller.workerId!,
                parseOr400(IdempotencyKey, key, 'Idempotency-Key header'),
                fingerprint(request),
                run,
              )
            : run();
        return reply.status(spec.successStatus ?? 200).send(result);
      },
    });
  }
  return app;
}

function authenticate(options: AppOptions, spec: RouteSpec, request: FastifyRequest): Caller {
  if (spec.auth === 'none') return { kind: 'none' };
  const adminHeader = request.headers['x-admin-token'];
  if (spec.auth !== 'worker' && typeof adminHeader === 'string') {
    if (adminTokenMatches(adminHeader, options.adminToken)) return { kind: 'admin' };
    throw new OwpError('unauthorized', 'The admin token is wrong.');
  }
  if (spec.auth !== 'admin') {
    const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const workerId = bearer ? options.engine.authenticateWorker(bearer.trim()) : undefined;
    if (workerId) return { kind: 'worker', workerId };
    throw new OwpError(
      'unauthorized',
      bearer
        ? 'The worker token is not valid.'
        : 'Send the worker token as Authorization: Bearer <token>.',
    );
  }
  throw new OwpError('unauthorized', 'This endpoint needs the X-Admin-Token header.');
}

/** What makes two requests "the same" for an Idempotency-Key replay. */
function fingerprint(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
    .digest('hex');
}

/** Fastify's own failures (bad JSON, body too large, wrong content type) in the OWP envelope. */
function fromFastifyError(error: Error & { statusCode?: number; code?: string }): OwpError {
  if (error instanceof OwpError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new OwpError('malformed_json', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new OwpError('payload_too_large', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new OwpError('unsupported_media_type', 'Send the request body as application/json.');
  }
  if (error instanceof SyntaxError) {
    return new OwpError('malformed_json', 'The request body is not valid JSON.');
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new OwpError('validation_failed', error.message);
  }
  return toOwpError(error);
}

export type { FastifyReply };
