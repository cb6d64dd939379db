import { requestUrl, type RequestUrlParam, type RequestUrlResponse } from 'obsidian';
import { platformTimers, type Timers } from '../../scheduler/timers.ts';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  parseJsonText,
  REPLAYED_HEADER,
  type HttpRequest,
  type HttpResponse,
  type Transport,
} from '../../protocol/index.ts';

export interface RequestUrlTransportOptions {
  /** How long one request may take before the client gives up on it (default 30 s). */
  timeoutMs?: number;
  /** The plugin passes `window`'s, which keep working in popout windows. */
  timers?: Timers;
}

/**
 * The protocol client's REST transport over Obsidian's `requestUrl`, which is not bound by CORS
 * and works the same on desktop and mobile. Error statuses are answers, not failures (`throw:
 * false`): the client turns the JSON error envelope into an `OwpError` with its code. Only a
 * failure to reach the server at all rejects — marked transient, so the client may try a read
 * again — or an answer that does not come in time: `requestUrl` takes no timeout of its own, and a
 * server that accepts the connection and never answers would hold the call for ever.
 */
export function requestUrlTransport(
  send: (request: RequestUrlParam) => Promise<RequestUrlResponse> = requestUrl,
  {
    timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
    timers = platformTimers,
  }: RequestUrlTransportOptions = {},
): Transport {
  return async (request: HttpRequest): Promise<HttpResponse> => {
    let timer: unknown;
    const late = new Promise<never>((_, reject) => {
      timer = timers.setTimeout(
        () =>
          reject(
            new Error(`no answer from ${new URL(request.url).origin} within ${timeoutMs / 1000} s`),
          ),
        timeoutMs,
      );
    });
    const sent = send({
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: request.body,
      contentType: request.headers['content-type'],
      throw: false,
    }).catch((error: unknown) => {
      throw error instanceof Error
        ? Object.assign(error, { transient: true })
        : Object.assign(new Error(String(error)), { transient: true });
    });
    try {
      const response = await Promise.race([sent, late]);
      const replayed = Object.entries(response.headers ?? {}).some(
        ([name, value]) => name.toLowerCase() === REPLAYED_HEADER && value === 'true',
      );
      return { status: response.status, json: parseJsonText(response.text), replayed };
    } finally {
      timers.clearTimeout(timer);
    }
  };
}
