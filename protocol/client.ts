import type { z } from 'zod';
import { OwpError, errorCodes, type ErrorCode } from './errors.ts';
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
}
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** A transport over the platform `fetch`. */
export const fetchTransport: Transport = async (request) => {
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
};

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
}

/**
 * A typed OWP client generated from the route table: `client.call('getWork', {})`. Errors come
 * back as `OwpError` with the server's code and message.
 */
export class OwpClient {
  readonly baseUrl: string;
  private readonly transport: Transport;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.transport = options.transport ?? fetchTransport;
  }

  async call<N extends RouteName>(name: N, input: CallInput<N>): Promise<CallOutput<N>> {
    const spec: RouteSpec = routes[name];
    const headers: Record<string, string> = { accept: 'application/json' };
    // Where either credential works, the admin one wins: it sees everything.
    if (spec.auth === 'admin' || (spec.auth === 'worker_or_admin' && this.options.adminToken)) {
      if (this.options.adminToken) headers['x-admin-token'] = this.options.adminToken;
    } else if (spec.auth !== 'none' && this.options.workerToken) {
      headers.authorization = `Bearer ${this.options.workerToken}`;
    }
    if (input.idempotencyKey) headers['idempotency-key'] = input.idempotencyKey;
    let body: string | undefined;
    if (spec.method !== 'GET' && spec.method !== 'DELETE') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(input.body ?? {});
    }
    const response = await this.transport({
      method: spec.method,
      url: this.baseUrl + buildPath(spec.path, input.params, input.query),
      headers,
      body,
    });
    if (response.status >= 200 && response.status < 300) {
      // Every OWP answer has a JSON body: without one, something else answered at this address.
      if (response.json === undefined) throw notOwp(this.baseUrl, response, 'without a JSON body');
      return response.json as CallOutput<N>;
    }
    throw errorFromResponse(this.baseUrl, response);
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

function errorFromResponse(baseUrl: string, response: HttpResponse): OwpError {
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
  const error = new OwpError(
    fallbackCode(response.status),
    `${baseUrl} answered HTTP ${response.status} ${what}: is it an OWP Pool server?`,
  );
  return Object.assign(error, { httpStatus: response.status });
}

const fallbackCode = (status: number): ErrorCode =>
  status >= 500 || status < 400 ? 'internal_error' : 'validation_failed';
