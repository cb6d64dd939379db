import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface RawRequest {
  method: string;
  /** Sent exactly as given: no normalisation of `..`, no re-encoding. */
  path: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  /** Send the body with chunked transfer encoding instead of a Content-Length. */
  chunked?: boolean;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Set when no answer came: the connection failed, or the request could not be sent. */
  error?: string;
}

/**
 * One HTTP/1.1 exchange with `node:http`, bypassing `fetch` (which normalises paths and refuses
 * some headers). Resolves with the answer even if the server closed the connection while a large
 * body was still being written — what counts is what the server said.
 */
export function rawRequest(
  port: number,
  req: RawRequest,
  agent?: Agent,
  timeoutMs = 15_000,
): Promise<RawResponse> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (response: RawResponse) => {
      if (settled) return;
      settled = true;
      resolve(response);
    };
    let outgoing;
    try {
      const headers: Record<string, string | number> = { ...req.headers };
      if (req.body !== undefined && !req.chunked)
        headers['content-length'] = Buffer.byteLength(req.body);
      outgoing = request({
        host: '127.0.0.1',
        port,
        method: req.method,
        path: req.path,
        headers,
        agent,
        timeout: timeoutMs,
      });
    } catch (error) {
      return done({
        status: 0,
        headers: {},
        body: '',
        error: `not sendable: ${(error as Error).message}`,
      });
    }
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        done({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', (error) =>
        done({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: '',
          error: error.message,
        }),
      );
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
    outgoing.on('error', (error) => {
      // An early answer (413) followed by a closed socket still resolves through 'response'.
      setTimeout(() => done({ status: 0, headers: {}, body: '', error: error.message }), 50);
    });
    if (req.body !== undefined) outgoing.write(req.body);
    outgoing.end();
  });
}

/** A keep-alive agent for many small requests. */
export const keepAliveAgent = () => new Agent({ keepAlive: true, maxSockets: 8 });
