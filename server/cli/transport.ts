import type { Transport } from '../../protocol/client.ts';
import { CliError } from './errors.ts';

/** How long one request may take before the CLI gives up on it. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * `fetch` with a per-request timeout and the CLI's interrupt signal, so a hung server or Ctrl-C
 * never leaves a command waiting forever; network failures become one readable line naming the
 * URL. (The protocol's `fetchTransport` has neither, and it must stay platform-neutral.)
 */
export function cliTransport(signal: AbortSignal, timeoutMs = REQUEST_TIMEOUT_MS): Transport {
  return async (request) => {
    let response: Response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
    } catch (error) {
      throw networkError(request.url, error, signal);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, json };
  };
}

function networkError(url: string, error: unknown, signal: AbortSignal): CliError {
  const origin = new URL(url).origin;
  if (signal.aborted) return new CliError(`interrupted while calling ${origin}`);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') {
    return new CliError(`no answer from ${origin} within the timeout`);
  }
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return new CliError(`cannot reach ${origin}: ${why}`);
}
