import { existsSync } from 'node:fs';
import { appendRecord, type CallOp, type CallRecord } from './call-history.ts';

export interface RecordingClientOptions {
  base: string;
  history: string;
  actor: string;
  /** When this file exists the client stops retrying and its owner winds down. */
  stopFile: string;
  /** Hard end of the process's work, whatever happens (ms since the epoch). */
  deadline: number;
  random: () => number;
}

export interface Answer {
  http: number;
  json: unknown;
}

const REQUEST_TIMEOUT_MS = 4000;
/** How long one call keeps retrying across server restarts before it gives up. */
const RETRY_WINDOW_MS = 30_000;

/**
 * An HTTP client for the crash test's client processes. Each call is retried on connection errors
 * (the server is being killed) with the same body and Idempotency-Key, and written to the history
 * file once the server answers.
 */
export class RecordingClient {
  workerId: string | undefined;
  token: string | undefined;
  adminToken: string | undefined;
  /** Attempts that failed on the network and were retried. */
  networkRetries = 0;

  constructor(private readonly options: RecordingClientOptions) {}

  stopping(): boolean {
    return Date.now() > this.options.deadline || existsSync(this.options.stopFile);
  }

  /** Sends until answered; null when it gave up (stopping, or the retry window passed). */
  async call(
    op: CallOp,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: { idempotencyKey?: string; retry?: boolean } = {},
  ): Promise<Answer | null> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.adminToken) headers['x-admin-token'] = this.adminToken;
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const firstSent = Date.now();
    let attempts = 0;
    while (!this.stopping() && Date.now() - firstSent < RETRY_WINDOW_MS) {
      attempts++;
      try {
        const response = await fetch(this.options.base + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = { unparsable: text.slice(0, 200) };
        }
        const record: CallRecord = {
          actor: this.options.actor,
          worker_id: this.workerId,
          op,
          method,
          path,
          body,
          idempotency_key: options.idempotencyKey,
          first_sent: firstSent,
          acked: Date.now(),
          attempts,
          http: response.status,
          response: json,
        };
        appendRecord(this.options.history, record);
        return { http: response.status, json };
      } catch {
        // Connection refused or reset: the server is down or was killed mid-call.
        if (options.retry === false) return null;
        this.networkRetries++;
        await sleep(60 + this.options.random() * 140);
      }
    }
    return null;
  }

  /** Notes an intent before a call that is not retried (task creation has no Idempotency-Key). */
  recordIntent(op: CallOp, body: unknown): void {
    const now = Date.now();
    appendRecord(this.options.history, {
      actor: this.options.actor,
      op,
      method: 'POST',
      path: '',
      body,
      first_sent: now,
      acked: now,
      attempts: 0,
      http: 0,
    });
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
