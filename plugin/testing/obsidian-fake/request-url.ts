import type * as obsidian from 'obsidian';

/**
 * Obsidian's `requestUrl`, over `fetch` (in Obsidian it bypasses CORS; a test server needs none).
 * The promise also carries `.json`, `.text` and `.arrayBuffer` promises, and a status of 400 or more
 * rejects with an error carrying `status`, unless `throw: false`.
 */
export function requestUrl(
  request: obsidian.RequestUrlParam | string,
): obsidian.RequestUrlResponsePromise {
  const param = typeof request === 'string' ? { url: request } : request;
  const response = send(param);
  // The derived promises reject with the request; only those awaited should count as unhandled.
  const derived = <T>(pick: (r: obsidian.RequestUrlResponse) => T) => {
    const promise = response.then(pick);
    promise.catch(() => undefined);
    return promise;
  };
  return Object.assign(response, {
    json: derived((r) => r.json as unknown),
    text: derived((r) => r.text),
    arrayBuffer: derived((r) => r.arrayBuffer),
  }) as obsidian.RequestUrlResponsePromise;
}

async function send(param: obsidian.RequestUrlParam): Promise<obsidian.RequestUrlResponse> {
  const headers: Record<string, string> = { ...param.headers };
  if (param.contentType) headers['content-type'] = param.contentType;
  const answer = await fetch(param.url, {
    method: param.method ?? 'GET',
    headers,
    body: param.body,
  });
  const arrayBuffer = await answer.arrayBuffer();
  const text = new TextDecoder().decode(arrayBuffer);
  const response: obsidian.RequestUrlResponse = {
    status: answer.status,
    headers: Object.fromEntries(answer.headers.entries()),
    arrayBuffer,
    text,
    get json() {
      return JSON.parse(text) as unknown;
    },
  };
  if (answer.status >= 400 && param.throw !== false) {
    throw Object.assign(new Error(`Request failed, status ${answer.status}`), {
      status: answer.status,
      headers: response.headers,
      text,
    });
  }
  return response;
}
