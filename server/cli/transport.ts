import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  timedFetchTransport,
  type Transport,
} from '../../protocol/client.ts';
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
