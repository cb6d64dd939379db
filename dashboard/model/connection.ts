import type { StreamStatus, Subscription } from '../../protocol/api.ts';
import {
  errorFromResponse,
  fetchTransport,
  parseJsonText,
  type Transport,
} from '../../protocol/client.ts';
import { EventStreamClient } from '../../protocol/event-stream-client.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { OwpEvent } from '../../protocol/events.ts';
import { HttpOwpApi } from '../../protocol/http-api.ts';
import type { Credential, Role } from './session.ts';

/**
 * The header a viewer token travels in. The server accepts it on GET routes that need the admin
 * (or a worker) and on `GET /v1/events`, and answers 403 `forbidden` to anything else.
 */
export const VIEWER_HEADER = 'x-viewer-token';

/** A live event stream that can be told to reconnect at once (page visible again, network back). */
export type LiveSubscription = Subscription & { reconnectNow(): void };

export interface ConnectOptions {
  /** REST transport (default: fetch); tests inject one. */
  transport?: Transport;
  /** fetch for the event stream. */
  fetch?: typeof fetch;
  /** Event stream reconnect delays, for tests. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * `OwpApi` over HTTP as the dashboard uses it: the admin through the protocol's own client, a
 * viewer through the same client with its token in `X-Viewer-Token`; plus the per-task history.
 */
export class DashboardApi extends HttpOwpApi {
  readonly role: Role;
  private readonly credentialHeader: Record<string, string>;

  constructor(
    baseUrl: string,
    credential: Credential,
    private readonly connectOptions: ConnectOptions = {},
  ) {
    const base = connectOptions.transport ?? fetchTransport;
    const header: Record<string, string> =
      credential.role === 'admin'
        ? { 'x-admin-token': credential.token }
        : { [VIEWER_HEADER]: credential.token };
    super({
      baseUrl,
      fetch: connectOptions.fetch,
      // The typed client adds the admin header itself; a viewer's header is added here, on
      // every request, since the client knows only admin and worker credentials.
      ...(credential.role === 'admin'
        ? { adminToken: credential.token, transport: base }
        : {
            transport: (request) =>
              base({ ...request, headers: { ...request.headers, ...header } }),
          }),
    });
    this.role = credential.role;
    this.credentialHeader = header;
  }

  /**
   * The live event stream. `onRefused` hears of a 401: the stream client retries every failure,
   * and a token that was rotated or revoked would keep the page "reconnecting" for ever.
   */
  override subscribe(
    after: number,
    onEvent: (event: OwpEvent) => void,
    onStatus?: (status: StreamStatus) => void,
    onRefused?: (error: OwpError) => void,
  ): LiveSubscription {
    const streamFetch = this.connectOptions.fetch ?? fetch;
    return new EventStreamClient({
      url: `${this.client.baseUrl}/v1/events`,
      headers: this.credentialHeader,
      after,
      onEvent,
      onStatus,
      fetch: async (input, init) => {
        const response = await streamFetch(input, init);
        if (response.status === 401) onRefused?.(await refusalOf(response.clone()));
        return response;
      },
      minDelayMs: this.connectOptions.minDelayMs,
      maxDelayMs: this.connectOptions.maxDelayMs,
    });
  }

  /**
   * A copy of the pool's database (`GET /v1/admin/backup`, the admin token only): one consistent
   * snapshot the server makes while it keeps answering. Read whole, as a download is.
   */
  async backup(): Promise<BackupFile> {
    const url = `${this.client.baseUrl}/v1/admin/backup`;
    const response = await (this.connectOptions.fetch ?? fetch)(url, {
      headers: this.credentialHeader,
    });
    if (!response.ok) {
      const text = await response.text();
      throw errorFromResponse(this.client.baseUrl, {
        status: response.status,
        json: parseJsonText(text),
      });
    }
    const disposition = response.headers.get('content-disposition') ?? '';
    return {
      blob: await response.blob(),
      filename: /filename="([^"/\\]+)"/.exec(disposition)?.[1] ?? 'owp-backup.db',
    };
  }

  /**
   * Every event about one task, oldest first. The server filters by `task_id`; this filters again
   * so that an older server, which ignores the parameter, still gives the right answer.
   */
  async taskEvents(taskId: string, pageSize = 1000): Promise<OwpEvent[]> {
    const found: OwpEvent[] = [];
    let after = 0;
    for (;;) {
      const page = (
        await this.client.call('listEvents', { query: { after, limit: pageSize, task_id: taskId } })
      ).events as OwpEvent[];
      found.push(...page.filter((event) => event.task_id === taskId));
      if (page.length < pageSize) return found;
      after = page.at(-1)!.seq;
    }
  }
}

/** A backup as the page downloads it: the file, and the name the server gave it. */
export interface BackupFile {
  blob: Blob;
  filename: string;
}

/** The server's words for a refused stream request, as the REST client would have thrown them. */
async function refusalOf(response: Response): Promise<OwpError> {
  const envelope = (await response.json().catch(() => null)) as {
    error?: { message?: unknown };
  } | null;
  const message = envelope?.error?.message;
  return new OwpError(
    'unauthorized',
    typeof message === 'string' ? message : 'The server no longer accepts this token.',
  );
}
