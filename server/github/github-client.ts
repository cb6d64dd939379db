/**
 * The GitHub REST client the import and the write-back share: `@octokit/rest` pointed at
 * `GITHUB_API_URL` (GitHub Enterprise works), authenticated with `GITHUB_TOKEN`, every request
 * bounded in time, and rate-limit answers (403 with `x-ratelimit-remaining: 0`, 429, or any
 * `retry-after`) waited out a bounded number of times. The token travels only in the
 * Authorization header Octokit builds; it is never logged and never put in a URL.
 *
 * `@octokit/plugin-throttling` was rejected: it queues every request through Bottleneck and
 * waits as long as GitHub says (up to an hour at the primary limit), where a CLI import should
 * rather stop with a clear message; a small request hook does the bounded version.
 */
import { Octokit } from '@octokit/rest';

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

export interface GithubClientOptions {
  /** A token with read access to issues (and write, for the write-back). Absent: anonymous. */
  token?: string;
  /** The REST API root (default https://api.github.com; GHE: https://HOST/api/v3). */
  baseUrl?: string;
  /** Give up on one request after this long (default 30 s). */
  requestTimeoutMs?: number;
  /** Rate-limit answers retried per request (default 3). */
  rateLimitRetries?: number;
  /** A rate-limit wait longer than this fails at once instead (default 60 s). */
  maxRateLimitWaitMs?: number;
  /** Told before each rate-limit wait: for progress lines and logs. */
  onRateLimit?: (wait: RateLimitWait) => void;
  /** Octokit's own warnings and errors (deprecations, failed requests); debug output is dropped. */
  log?: (level: 'warn' | 'error', message: string) => void;
  /** Tests inject time. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

export interface RateLimitWait {
  method: string;
  url: string;
  status: number;
  waitMs: number;
  attempt: number;
}

/** A rate limit that would take longer to wait out than the client allows. */
export class GithubRateLimitError extends Error {
  override readonly name = 'GithubRateLimitError';
  constructor(
    message: string,
    readonly waitMs: number,
  ) {
    super(message);
  }
}

/** Options from the environment: `GITHUB_TOKEN` and `GITHUB_API_URL`. */
export function githubOptionsFromEnv(
  env: Record<string, string | undefined>,
): Pick<GithubClientOptions, 'token' | 'baseUrl'> {
  return {
    token: env.GITHUB_TOKEN || undefined,
    baseUrl: (env.GITHUB_API_URL || DEFAULT_GITHUB_API_URL).replace(/\/+$/, ''),
  };
}

/** An Octokit with the bounded rate-limit retry and per-request timeout. */
export function createGithubClient(options: GithubClientOptions = {}): Octokit {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise((done) => setTimeout(done, ms)));
  const baseFetch = options.fetch ?? fetch;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const octokit = new Octokit({
    auth: options.token,
    baseUrl: (options.baseUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, ''),
    userAgent: 'owp-pool',
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => options.log?.('warn', message),
      error: (message: string) => options.log?.('error', message),
    },
    request: {
      fetch: (url: string, init: RequestInit = {}) =>
        baseFetch(url, {
          ...init,
          signal: init.signal
            ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
            : AbortSignal.timeout(timeoutMs),
        }),
    },
  });

  const retries = options.rateLimitRetries ?? 3;
  const maxWaitMs = options.maxRateLimitWaitMs ?? 60_000;
  octokit.hook.wrap('request', async (request, requestOptions) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(requestOptions);
      } catch (error) {
        const response = responseOf(error);
        const waitMs = response
          ? rateLimitWaitMs(response.status, response.headers, now(), response.message)
          : null;
        if (waitMs === null || attempt > retries) throw error;
        if (waitMs > maxWaitMs) {
          throw new GithubRateLimitError(
            `GitHub rate limit reached; it resets in ${Math.ceil(waitMs / 1000)} s — try again later`,
            waitMs,
          );
        }
        const method = String(requestOptions.method);
        const url = String(requestOptions.url);
        options.onRateLimit?.({ method, url, status: response!.status, waitMs, attempt });
        await sleep(waitMs);
      }
    }
  });
  return octokit;
}

/**
 * How long to wait before retrying a rate-limited answer, or null when the answer is not a rate
 * limit (a 403 without rate-limit headers or words is a real permission error, not retried).
 */
export function rateLimitWaitMs(
  status: number,
  headers: Record<string, string | number | undefined>,
  nowMs: number,
  message = '',
): number | null {
  if (status !== 403 && status !== 429) return null;
  const retryAfter = Number(headers['retry-after']);
  if (headers['retry-after'] !== undefined && Number.isFinite(retryAfter)) {
    return Math.max(0, retryAfter) * 1000;
  }
  const remaining = headers['x-ratelimit-remaining'];
  const reset = Number(headers['x-ratelimit-reset']);
  if (String(remaining) === '0' && Number.isFinite(reset)) {
    // Reset is in whole seconds: wait past it, by at least a quarter second.
    return Math.max(250, reset * 1000 - nowMs + 250);
  }
  // GitHub's secondary limit may come as a 429 that says nothing, or as a 403 that says so only in
  // its message; either way it asks for at least a minute.
  return status === 429 || /secondary rate limit/i.test(message) ? 60_000 : null;
}

/** The HTTP answer inside an Octokit RequestError, duck-typed (the class is a transitive dep). */
export function responseOf(error: unknown): {
  status: number;
  headers: Record<string, string | number | undefined>;
  /** GitHub's words (its answer's `message`), which Octokit makes the error's message. */
  message: string;
} | null {
  const candidate = error as {
    status?: unknown;
    message?: unknown;
    response?: { headers?: Record<string, string | number | undefined> };
  };
  if (typeof candidate?.status !== 'number') return null;
  return {
    status: candidate.status,
    headers: candidate.response?.headers ?? {},
    message: typeof candidate.message === 'string' ? candidate.message : '',
  };
}
