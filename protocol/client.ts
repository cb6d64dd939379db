import type { z } from 'zod';
import { OwpError, errorCodes, type ErrorCode } from './errors.ts';
import { REPLAYED_HEADER } from './leases.ts';
import { routes, type RouteName, type RouteSpec } from './routes.ts';

/** One HTTP exchange; `fetch` in Node and browsers, Obsidian's `requestUrl` in the plugin. */
export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}
export interface HttpResponse {
  status: number;
  /** The parsed JSON body, or undefined when there was none. */
  json: unknown;
  /** Whether the answer replays the first one given for its key (`Idempotent-Replayed: true`). */
  replayed?: boolean;
}

/**
 * Sends one request. A failure to get any answer rejects; an error marked `transient: true` says
 * trying again soon may get one (refused, reset), so the client retries it where that is safe.
 */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** How long one request may take by default before the client gives up on it. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A signal that aborts a request after its time is up, or when `outer` aborts. */
export interface RequestDeadline {
  readonly signal: AbortSignal;
  /** True once the time was up (not an `outer` abort). */
  readonly timedOut: boolean;
  /** The request is over: stops the clock. */
  clear(): void;
}

/**
 * A deadline for one request. Its clock is a plain timer holding the controller it aborts — not
 * `AbortSignal.timeout`: `AbortSignal.any` holds its sources weakly, so on Node 20 a collected
 * timeout signal never fired and a call to a hung server waited for ever. (Nor a listener on
 * `outer` per request: many calls in flight on one signal would pass its listener limit.)
 */
export function requestDeadline(timeoutMs: number, outer?: AbortSignal): RequestDeadline {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  return {
    signal: outer ? AbortSignal.any([outer, controller.signal]) : controller.signal,
    get timedOut() {
      return timedOut;
    },
    clear() {
      clearTimeout(timer);
    },
  };
}

export interface TimedFetchOptions {
  /** How long one request may take, the body included (default 30 s). */
  timeoutMs?: number;
  /** Aborts every request made through the transport (the CLI's Ctrl-C). */
  signal?: AbortSignal;
  /**
   * The error a failed request throws, from fetch's error and whether the time was up. By default
   * the time up names the server, and a network failure stays fetch's `TypeError`, marked
   * transient.
   */
  failure?: (error: unknown, request: HttpRequest, timedOut: boolean) => unknown;
}

/** A transport over the platform `fetch` that gives up after a timeout. */
export function timedFetchTransport({
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  signal,
  failure = (error, request, timedOut) => {
    if (timedOut) {
      return new Error(
        `no answer from ${new URL(request.url).origin} within ${timeoutMs / 1000} s`,
      );
    }
    return error instanceof TypeError ? Object.assign(error, { transient: true }) : error;
  },
}: TimedFetchOptions = {}): Transport {
  return async (request) => {
    const deadline = requestDeadline(timeoutMs, signal);
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: deadline.signal,
      });
      return {
        status: response.status,
        json: parseJsonText(await response.text()),
        replayed: response.headers.get(REPLAYED_HEADER) === 'true',
      };
    } catch (error) {
      throw failure(error, request, deadline.timedOut);
    } finally {
      deadline.clear();
    }
  };
}

/** A transport over the platform `fetch`, with the default timeout. */
export const fetchTransport: Transport = timedFetchTransport();

/** A body as JSON, or undefined when it is empty or not JSON (a proxy's HTML page). */
export function parseJsonText(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

type Spec<N extends RouteName> = (typeof routes)[N];
type Infer<S> = S extends z.ZodType ? z.input<S> : never;
type Out<S> = S extends z.ZodType ? z.output<S> : never;

export type CallInput<N extends RouteName> = (Spec<N> extends { params: infer P }
  ? { params: Infer<P> }
  : { params?: undefined }) &
  (Spec<N> extends { query: infer Q } ? { query?: Infer<Q> } : { query?: undefined }) &
  (Spec<N> extends { body: infer B } ? { body?: Infer<B> } : { body?: undefined }) & {
    idempotencyKey?: string;
  };
export type CallOutput<N extends RouteName> = Out<Spec<N>['response']>;

export interface ClientOptions {
  baseUrl: string;
  workerToken?: string;
  adminToken?: string;
  transport?: Transport;
  /**
   * Tries again after a transient failure (a transport error marked `transient`, or a 502, 503 or
   * 504 from a proxy or a stopping server), for calls safe to repeat only (default 2).
   */
  retries?: number;
  /** The first wait before trying again, doubled each time (default 250 ms). */
  retryDelayMs?: number;
}

/** Answers that say "not now" rather than "no": a gateway without its server, a server stopping. */
const RETRIED_STATUSES = new Set([502, 503, 504]);

/**
 * A typed OWP client generated from the route table: `client.call('getWork', {})`. Errors come
 * back as `OwpError` with the server's code and message. A call safe to repeat — a GET, or a call
 * with an `Idempotency-Key` — is tried again after a transient failure; any other is sent once,
 * since a repeat could do its work twice (two workers registered, two tasks created).
 */
export class OwpClient {
  readonly baseUrl: string;
  private readonly transport: Transport;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.transport = options.transport ?? fetchTransport;
  }

  async call<N extends RouteName>(name: N, input: CallInput<N>): Promise<CallOutput<N>> {
    return (await this.exchange(name, input)).answer;
  }

  /**
   * `call`, telling also whether the answer replays the first one given for its `Idempotency-Key`
   * (the work was done by an earlier request: an import run again, a request sent twice).
   */
  async exchange<N extends RouteName>(
    name: N,
    input: CallInput<N>,
  ): Promise<{ answer: CallOutput<N>; replayed: boolean }> {
    const spec: RouteSpec = routes[name];
    const headers: Record<string, string> = { accept: 'application/json' };
    // Where either credential works, the admin one wins: it sees everything.
    if (spec.auth === 'admin' || (spec.auth === 'worker_or_admin' && this.options.adminToken)) {
      if (this.options.adminToken) headers['x-admin-token'] = this.options.adminToken;
    } else if (spec.auth !== 'none' && this.options.workerToken) {
      headers.authorization = `Bearer ${this.options.workerToken}`;
    }
    if (input.idempotencyKey !== undefined) headers['idempotency-key'] = input.idempotencyKey;
    let body: string | undefined;
    if (spec.method !== 'GET' && spec.method !== 'DELETE') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(input.body ?? {});
    }
    const request = {
      method: spec.method,
      url: this.baseUrl + buildPath(spec.path, input.params, input.query),
      headers,
      body,
    };
    const repeatable = spec.method === 'GET' || input.idempotencyKey !== undefined;
    const response = await this.send(request, repeatable);
    if (response.status >= 200 && response.status < 300) {
      // Every OWP answer has a JSON body: without one, something else answered at this address.
      if (response.json === undefined) throw notOwp(this.baseUrl, response, 'without a JSON body');
      return { answer: response.json as CallOutput<N>, replayed: response.replayed === true };
    }
    throw errorFromResponse(this.baseUrl, response);
  }

  /** One request, tried again after a transient failure when `repeatable`. */
  private async send(request: HttpRequest, repeatable: boolean): Promise<HttpResponse> {
    const retries = repeatable ? (this.options.retries ?? 2) : 0;
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= retries;
      let response: HttpResponse;
      try {
        response = await this.transport(request);
      } catch (error) {
        if (last || (error as { transient?: unknown } | null)?.transient !== true) throw error;
        await this.pause(attempt);
        continue;
      }
      if (last || !RETRIED_STATUSES.has(response.status)) return response;
      await this.pause(attempt);
    }
  }

  private pause(attempt: number): Promise<void> {
    const ms = (this.options.retryDelayMs ?? 250) * 2 ** attempt;
    return new Promise((done) => setTimeout(done, ms));
  }
}

/** Fills `{name}` and `*` path segments (encoded) and appends the query string. */
export function buildPath(
  path: string,
  params: Record<string, unknown> | undefined,
  query: Record<string, unknown> | undefined,
): string {
  let url = path.replace(/\{(\w+)\}/g, (_, key: string) =>
    encodeURIComponent(String(params?.[key] ?? '')),
  );
  if (url.endsWith('*')) {
    url =
      url.slice(0, -1) +
      String(params?.['*'] ?? '')
        .split('/')
        .map(encodeURIComponent)
        .join('/');
  }
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) search.set(key, String(value));
  }
  const qs = search.toString();
  return qs ? `${url}?${qs}` : url;
}

export function errorFromResponse(baseUrl: string, response: HttpResponse): OwpError {
  const envelope = response.json as {
    error?: { code?: string; message?: string; details?: unknown };
  };
  const code = envelope?.error?.code;
  if (typeof code !== 'string' || typeof envelope.error?.message !== 'string') {
    return notOwp(baseUrl, response, 'without an OWP error');
  }
  const known = (errorCodes as readonly string[]).includes(code);
  const error = new OwpError(
    known ? (code as ErrorCode) : fallbackCode(response.status),
    envelope.error.message,
    (envelope.error.details as Record<string, unknown> | null) ?? null,
  );
  return Object.assign(error, { httpStatus: response.status });
}

/**
 * An answer that is not OWP's (a proxy's error page, another service on the port): said plainly,
 * with the address to check. Its code follows the status, as for an unknown code.
 */
function notOwp(baseUrl: string, response: HttpResponse, what: string): OwpError {
  const why = RETRIED_STATUSES.has(response.status)
    ? 'a proxy in front of the server, or the server starting or stopping: try again shortly'
    : 'is it an OWP Pool server?';
  const error = new OwpError(
    fallbackCode(response.status),
    `${baseUrl} answered HTTP ${response.status} ${what}: ${why}`,
  );
  return Object.assign(error, { httpStatus: response.status });
}

const fallbackCode = (status: number): ErrorCode =>
  status >= 500 || status < 400 ? 'internal_error' : 'validation_failed';
