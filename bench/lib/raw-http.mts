import { connect, type Socket } from 'node:net';

/** One parsed HTTP response. */
export interface RawResponse {
  status: number;
  body: string;
}

/**
 * One keep-alive HTTP/1.1 connection that carries one request at a time, with a minimal response
 * parser (status line, `content-length` or `chunked` bodies, `connection: close`).
 *
 * Why not `fetch` or `node:http`: the load generator shares a 2-core machine with the server, and
 * every microsecond the client spends per request is taken from the server it measures. Node's
 * `fetch` cannot even be given a bigger connection pool without the `undici` package, and
 * `node:http` builds a ClientRequest, an IncomingMessage and their streams per call; writing
 * pre-built request heads onto a raw socket costs a fraction of either. The same client loads the
 * bare Fastify baseline, so the ratio compares servers, not clients.
 */
export class HttpConnection {
  private socket: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pending: {
    resolve: (response: RawResponse) => void;
    reject: (error: Error) => void;
    timer: NodeJS.Timeout;
  } | null = null;
  private readonly hostHeader: string;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs = 30_000,
  ) {
    this.hostHeader = `Host: ${host}:${port}\r\n`;
  }

  /**
   * Sends one request. `headerLines` are extra header lines, each ending in CRLF (pre-built by the
   * caller so a loop does not rebuild them).
   */
  async request(
    method: string,
    path: string,
    headerLines: string,
    body?: string,
  ): Promise<RawResponse> {
    if (this.pending) throw new Error('HttpConnection: one request at a time');
    const socket = await this.open();
    const length = body === undefined ? 0 : Buffer.byteLength(body);
    const head =
      `${method} ${path} HTTP/1.1\r\n${this.hostHeader}${headerLines}` +
      (body === undefined ? '\r\n' : `content-length: ${length}\r\n\r\n`);
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new Error(`request timed out after ${this.timeoutMs} ms: ${method} ${path}`));
      }, this.timeoutMs);
      this.pending = { resolve, reject, timer };
      socket.write(body === undefined ? head : head + body);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port });
      socket.setNoDelay(true);
      const onError = (error: Error) => {
        this.connecting = null;
        reject(error);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        // Events from a socket this connection already let go of (after `connection: close`)
        // must not touch the one that replaced it.
        socket.on('error', (error) => {
          if (this.socket === socket) this.fail(error);
        });
        socket.on('close', () => {
          if (this.socket === socket) this.fail(new Error('connection closed'));
        });
        socket.on('data', (chunk: Buffer) => {
          if (this.socket === socket) this.onData(chunk);
        });
        this.socket = socket;
        this.connecting = null;
        resolve(socket);
      });
    });
    return this.connecting;
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    this.chunks = [];
    this.buffered = 0;
    this.socket?.destroy();
    this.socket = null;
    if (pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.buffered);
    const parsed = parseResponse(data);
    if (parsed === 'incomplete') {
      this.chunks = [data];
      return;
    }
    this.chunks = [];
    this.buffered = 0;
    const pending = this.pending;
    this.pending = null;
    if (parsed.close) {
      this.socket?.end();
      this.socket = null;
    }
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.resolve({ status: parsed.status, body: parsed.body });
  }
}

interface Parsed {
  status: number;
  body: string;
  close: boolean;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Parses one whole response from `data`, or says more bytes are needed. */
export function parseResponse(data: Buffer): Parsed | 'incomplete' {
  const headEnd = data.indexOf(HEAD_END);
  if (headEnd < 0) return 'incomplete';
  const head = data.toString('latin1', 0, headEnd);
  const lines = head.split('\r\n');
  const status = Number(lines[0]!.slice(9, 12));
  let contentLength = -1;
  let chunked = false;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') contentLength = Number(value);
    else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
    else if (name === 'connection') close = value.toLowerCase() === 'close';
  }
  const bodyStart = headEnd + 4;
  if (chunked) {
    const parts: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = data.indexOf('\r\n', at, 'latin1');
      if (lineEnd < 0) return 'incomplete';
      const size = parseInt(data.toString('latin1', at, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      if (size === 0) {
        if (data.length < lineEnd + 4) return 'incomplete';
        return { status, body: Buffer.concat(parts).toString('utf8'), close };
      }
      if (data.length < lineEnd + 2 + size + 2) return 'incomplete';
      parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = contentLength < 0 ? 0 : contentLength;
  if (data.length < bodyStart + length) return 'incomplete';
  return { status, body: data.toString('utf8', bodyStart, bodyStart + length), close };
}
