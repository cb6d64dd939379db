/**
 * A fake GitHub REST API on 127.0.0.1 for tests (the real one is unreachable here): the issues
 * listing with label filters and `Link` pagination, issue comments (list, create, edit), bearer
 * or `token` authentication, and scripted faults — a rate-limit 403 with
 * `x-ratelimit-remaining: 0` and `x-ratelimit-reset`, or any status — for the next matching
 * requests. Every request is recorded, so a test can prove the token never went into a URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeIssueInput {
  title: string;
  body?: string | null;
  labels?: string[];
  state?: 'open' | 'closed';
  /** A pull request: the issues listing returns it with a `pull_request` key. */
  pullRequest?: boolean;
}

export interface FakeIssue extends Required<Omit<FakeIssueInput, 'pullRequest'>> {
  number: number;
  pullRequest: boolean;
}

export interface FakeComment {
  id: number;
  repo: string;
  issue_number: number;
  body: string;
  /** How many times it was edited after being posted. */
  edits: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query, exactly as received. */
  url: string;
  authorization: string | undefined;
  /** The ETag a conditional request names. */
  ifNoneMatch?: string;
  body: unknown;
}

interface Fault {
  method: string;
  path: RegExp;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  times: number;
}

export class FakeGithub {
  readonly requests: RecordedRequest[] = [];
  readonly comments: FakeComment[] = [];
  private readonly issues = new Map<string, FakeIssue[]>();
  private readonly pulls = new Map<string, { state: 'open' | 'closed'; merged: boolean }>();
  private readonly faults: Fault[] = [];
  private server: Server | null = null;
  private nextCommentId = 9000;
  baseUrl = '';

  /** `token`: the only credential accepted (absent: anonymous requests are fine). */
  constructor(private readonly token?: string) {}

  /** Adds issues to `owner/name`, numbered from 1 in order; returns them. */
  addIssues(repo: string, inputs: readonly FakeIssueInput[]): FakeIssue[] {
    const list = this.issues.get(repo) ?? [];
    this.issues.set(repo, list);
    return inputs.map((input) => {
      const issue: FakeIssue = {
        number: list.length + 1,
        title: input.title,
        body: input.body ?? null,
        labels: input.labels ?? [],
        state: input.state ?? 'open',
        pullRequest: input.pullRequest ?? false,
      };
      list.push(issue);
      return issue;
    });
  }

  /** Sets pull request `number` of `owner/name` (state `open`, `closed`; merged or not). */
  setPull(repo: string, number: number, pull: { state: 'open' | 'closed'; merged: boolean }): void {
    this.pulls.set(`${repo}#${number}`, pull);
  }

  issue(repo: string, number: number): FakeIssue {
    const issue = this.issues.get(repo)?.find((i) => i.number === number);
    if (!issue) throw new Error(`no issue ${repo}#${number}`);
    return issue;
  }

  /** The next `times` requests matching `method` and `path` answer a primary rate limit (403). */
  rateLimitNext(method: string, path: RegExp, times = 1): void {
    this.failNext(method, path, 403, {
      times,
      headers: {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        // The current second: already reached, so a client waits well under a second more.
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000)),
      },
      body: {
        message: 'API rate limit exceeded for user.',
        documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api',
      },
    });
  }

  /** The next `times` requests matching `method` and `path` answer `status`. */
  failNext(
    method: string,
    path: RegExp,
    status: number,
    options: { times?: number; headers?: Record<string, string>; body?: unknown } = {},
  ): void {
    this.faults.push({
      method,
      path,
      status,
      times: options.times ?? 1,
      headers: options.headers ?? {},
      body: options.body ?? { message: `fake failure ${status}` },
    });
  }

  /** Requests to the issues listing, in order: to check pagination. */
  listingRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && /\/issues(\?|$)/.test(r.url));
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      void this.handle(request, response).catch((error: Error) => {
        send(response, 500, { message: error.message });
      });
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readBody(request);
    const body: unknown = text ? JSON.parse(text) : undefined;
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', this.baseUrl);
    this.requests.push({
      method,
      url: request.url ?? '/',
      authorization: request.headers.authorization,
      ifNoneMatch: request.headers['if-none-match'],
      body,
    });

    if (this.token) {
      const given = /^(?:token|bearer) (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (given !== this.token) return send(response, 401, { message: 'Bad credentials' });
    }
    const fault = this.faults.find(
      (f) => f.times > 0 && f.method === method && f.path.test(url.pathname),
    );
    if (fault) {
      fault.times--;
      return send(response, fault.status, fault.body, fault.headers);
    }

    let match: RegExpExecArray | null;
    match = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/.exec(url.pathname);
    if (method === 'GET' && match) {
      const pull = this.pulls.get(`${match[1]}/${match[2]}#${match[3]}`);
      if (!pull) return send(response, 404, { message: 'Not Found' });
      // As GitHub: an ETag, and 304 without a body for a request that names the current one.
      const etag = `"${pull.state}-${pull.merged}"`;
      if (request.headers['if-none-match'] === etag) {
        response.writeHead(304, { etag });
        response.end();
        return;
      }
      return send(response, 200, { number: Number(match[3]), ...pull }, { etag });
    }
    if (method === 'GET' && (match = /^\/repos\/([^/]+)\/([^/]+)\/issues$/.exec(url.pathname))) {
      return this.listIssues(response, url, `${match[1]}/${match[2]}`);
    }
    match = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
    if (match) {
      const repo = `${match[1]}/${match[2]}`;
      const number = Number(match[3]);
      if (!this.issues.get(repo)?.some((i) => i.number === number)) {
        return send(response, 404, { message: 'Not Found' });
      }
      if (method === 'GET') {
        const all = this.comments.filter((c) => c.repo === repo && c.issue_number === number);
        return this.sendPage(response, url, all.map(commentJson));
      }
      if (method === 'POST') {
        const comment: FakeComment = {
          id: this.nextCommentId++,
          repo,
          issue_number: number,
          body: String((body as { body?: unknown })?.body ?? ''),
          edits: 0,
        };
        this.comments.push(comment);
        return send(response, 201, commentJson(comment));
      }
    }
    match = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (match && method === 'PATCH') {
      const comment = this.comments.find(
        (c) => c.id === Number(match![3]) && c.repo === `${match![1]}/${match![2]}`,
      );
      if (!comment) return send(response, 404, { message: 'Not Found' });
      comment.body = String((body as { body?: unknown })?.body ?? '');
      comment.edits++;
      return send(response, 200, commentJson(comment));
    }
    send(response, 404, { message: 'Not Found' });
  }

  private listIssues(response: ServerResponse, url: URL, repo: string): void {
    const list = this.issues.get(repo);
    if (!list) return send(response, 404, { message: 'Not Found' });
    const state = url.searchParams.get('state') ?? 'open';
    const wanted = (url.searchParams.get('labels') ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean);
    const [owner, name] = repo.split('/');
    const matching = list
      .filter((i) => state === 'all' || i.state === state)
      .filter((i) => wanted.every((label) => i.labels.includes(label)))
      // GitHub's default order: newest first.
      .sort((a, b) => b.number - a.number)
      .map((i) => issueJson(owner!, name!, i));
    this.sendPage(response, url, matching);
  }

  /** One page of `items` by `per_page` and `page`, with GitHub's `Link` header. */
  private sendPage(response: ServerResponse, url: URL, items: unknown[]): void {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30) || 30);
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const pageUrl = (n: number) => {
      const next = new URL(url);
      next.searchParams.set('page', String(n));
      return `<${next.toString()}>`;
    };
    const links: string[] = [];
    if (page < last) links.push(`${pageUrl(page + 1)}; rel="next"`, `${pageUrl(last)}; rel="last"`);
    if (page > 1) links.push(`${pageUrl(1)}; rel="first"`, `${pageUrl(page - 1)}; rel="prev"`);
    send(
      response,
      200,
      items.slice((page - 1) * perPage, page * perPage),
      links.length > 0 ? { link: links.join(', ') } : {},
    );
  }
}

function issueJson(owner: string, name: string, issue: FakeIssue) {
  const kind = issue.pullRequest ? 'pull' : 'issues';
  return {
    id: 100_000 + issue.number,
    number: issue.number,
    title: issue.title,
    body: issue.body,
    state: issue.state,
    html_url: `https://github.com/${owner}/${name}/${kind}/${issue.number}`,
    labels: issue.labels.map((label, i) => ({ id: i + 1, name: label })),
    ...(issue.pullRequest
      ? {
          pull_request: {
            url: `https://api.github.com/repos/${owner}/${name}/pulls/${issue.number}`,
          },
        }
      : {}),
  };
}

function commentJson(comment: FakeComment) {
  return {
    id: comment.id,
    body: comment.body,
    html_url: `https://github.com/${comment.repo}/issues/${comment.issue_number}#issuecomment-${comment.id}`,
  };
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
