import { requestUrl, type RequestUrlParam, type RequestUrlResponse } from 'obsidian';
import type { HttpRequest, HttpResponse, Transport } from '../../protocol/index.ts';

/**
 * The protocol client's REST transport over Obsidian's `requestUrl`, which is not bound by CORS
 * and works the same on desktop and mobile. Error statuses are answers, not failures (`throw:
 * false`): the client turns the JSON error envelope into an `OwpError` with its code. Only a
 * failure to reach the server at all rejects.
 */
export function requestUrlTransport(
  send: (request: RequestUrlParam) => Promise<RequestUrlResponse> = requestUrl,
): Transport {
  return async (request: HttpRequest): Promise<HttpResponse> => {
    const response = await send({
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: request.body,
      contentType: request.headers['content-type'],
      throw: false,
    });
    return { status: response.status, json: parseJson(response.text) };
  };
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
