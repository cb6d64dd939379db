import { createWriteStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  errorFromResponse,
  parseJsonText,
  requestDeadline,
  timedFetchTransport,
  type Transport,
} from '../../protocol/client.ts';
import { OwpError } from '../../protocol/errors.ts';
import { CliError } from './errors.ts';

/** How long one request may take before the CLI gives up on it. */
export const REQUEST_TIMEOUT_MS = DEFAULT_REQUEST_TIMEOUT_MS;

/** No connection to the server (refused, reset): worth another try, for a call safe to repeat. */
class UnreachableError extends CliError {
  readonly transient = true;
}

/**
 * `fetch` with a per-request timeout (the body included) and the CLI's interrupt signal, so a hung
 * server or Ctrl-C never leaves a command waiting forever; network failures become one readable
 * line naming the URL.
 */
export function cliTransport(signal: AbortSignal, timeoutMs = REQUEST_TIMEOUT_MS): Transport {
  return timedFetchTransport({
    timeoutMs,
    signal,
    failure: (error, request, timedOut) => networkError(request.url, error, signal, timedOut),
  });
}

/**
 * Downloads a file answer to `path` (a backup): `fetch` with the same timeout, interrupt and
 * error lines as `cliTransport`, the body streamed to the file rather than held; an error answer
 * becomes the server's `OwpError`.
 */
export async function downloadTo(
  request: { url: string; headers: Record<string, string> },
  path: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ bytes: number; fileName: string | null }> {
  const deadline = requestDeadline(timeoutMs, signal);
  try {
    const response = await fetch(request.url, {
      headers: request.headers,
      signal: deadline.signal,
    });
    if (!response.ok) {
      const origin = new URL(request.url).origin;
      throw errorFromResponse(origin, {
        status: response.status,
        json: parseJsonText(await response.text()),
      });
    }
    if (!response.body) throw new CliError(`${request.url} answered with no file`);
    await pipeline(Readable.fromWeb(response.body as never), createWriteStream(path));
    const disposition = response.headers.get('content-disposition') ?? '';
    return {
      bytes: statSync(path).size,
      fileName: /filename="([^"/\\]+)"/.exec(disposition)?.[1] ?? null,
    };
  } catch (error) {
    if (error instanceof OwpError || error instanceof CliError) throw error;
    throw networkError(request.url, error, signal, deadline.timedOut);
  } finally {
    deadline.clear();
  }
}

function networkError(
  url: string,
  error: unknown,
  signal: AbortSignal,
  timedOut: boolean,
): CliError {
  const origin = new URL(url).origin;
  if (signal.aborted) return new CliError(`interrupted while calling ${origin}`);
  if (timedOut) return new CliError(`no answer from ${origin} within the timeout`);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return new UnreachableError(`cannot reach ${origin}: ${why}`);
}
