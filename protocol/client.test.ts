import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OwpClient,
  timedFetchTransport,
  type HttpRequest,
  type HttpResponse,
  type Transport,
} from './client.ts';
import { OwpError } from './errors.ts';
import { stalledServers } from './testing/stalled-server.ts';

/** A client whose every call gets `answer`, and the requests it sent. */
function clientAnswering(answer: HttpResponse) {
  const sent: HttpRequest[] = [];
  const client = new OwpClient({
    baseUrl: 'http://127.0.0.1:9/',
    adminToken: 'owpa_admin-token-for-tests',
    transport: (request) => {
      sent.push(request);
      return Promise.resolve(answer);
    },
  });
  return { client, sent };
}

async function failure(call: Promise<unknown>): Promise<OwpError & { httpStatus?: number }> {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OwpError);
  return error as OwpError & { httpStatus?: number };
}

describe('OwpClient answers', () => {
  it('returns the JSON of a success, with the credential the route takes', async () => {
    const { client, sent } = clientAnswering({ status: 200, json: { ok: true } });
    expect(await client.call('healthz', {})).toEqual({ ok: true });
    await client.call('poolState', {});
    expect(sent.map((r) => [r.method, r.url, r.headers['x-admin-token']])).toEqual([
      ['GET', 'http://127.0.0.1:9/healthz', undefined],
      ['GET', 'http://127.0.0.1:9/v1/admin/state', 'owpa_admin-token-for-tests'],
    ]);
  });

  it("passes the server's error envelope on as it is", async () => {
    const envelope = {
      error: {
        code: 'task_not_found',
        message: 'No task with id t_9.',
        details: { task_id: 't_9' },
      },
    };
    const { client } = clientAnswering({ status: 404, json: envelope });
    const error = await failure(client.call('getTask', { params: { task_id: 't_9' } }));
    expect(error).toMatchObject({ code: 'task_not_found', message: 'No task with id t_9.' });
    expect(error.details).toEqual({ task_id: 't_9' });
    expect(error.httpStatus).toBe(404);
  });

  it('says so when something other than an OWP server answered', async () => {
    // Another service's page or JSON, a success without a body.
    for (const [answer, status, code] of [
      [{ status: 404, json: undefined }, 404, 'validation_failed'],
      [{ status: 400, json: { error: 'Bad Request', statusCode: 400 } }, 400, 'validation_failed'],
      [{ status: 200, json: undefined }, 200, 'internal_error'],
    ] as const) {
      const { client } = clientAnswering(answer);
      const error = await failure(client.call('poolState', {}));
      expect(error.code).toBe(code);
      expect(error.httpStatus).toBe(status);
      expect(error.message).toMatch(
        new RegExp(
          `^http://127\\.0\\.0\\.1:9 answered HTTP ${status} .*: is it an OWP Pool server\\?$`,
        ),
      );
    }
  });
});

/** A client over `answers` in turn (the last one repeats); `sent` counts the requests. */
function clientOver(answers: Array<HttpResponse | Error>, options = {}) {
  const sent: HttpRequest[] = [];
  const transport: Transport = (request) => {
    const answer = answers[Math.min(sent.length, answers.length - 1)]!;
    sent.push(request);
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  const client = new OwpClient({
    baseUrl: 'http://127.0.0.1:9',
    workerToken: 'owpw_worker-token-for-tests',
    transport,
    retryDelayMs: 0,
    ...options,
  });
  return { client, sent };
}

const refused = () =>
  Object.assign(new Error('cannot reach http://127.0.0.1:9'), { transient: true });
const OK_WORK = { status: 200, json: { worker_id: 'w_1', leases: [] } };

describe('OwpClient retries', () => {
  it('tries a GET again after a refused connection or a gateway without its server', async () => {
    for (const failure of [
      refused(),
      { status: 502, json: undefined },
      { status: 503, json: { error: { code: 'not_ready', message: 'Stopping.', details: null } } },
      { status: 504, json: undefined },
    ]) {
      const { client, sent } = clientOver([failure, OK_WORK]);
      await expect(client.call('getWork', {})).resolves.toEqual(OK_WORK.json);
      expect(sent).toHaveLength(2);
    }
  });

  it('gives up after its retries with the last failure, and never retries a meant answer', async () => {
    const { client, sent } = clientOver([{ status: 502, json: undefined }]);
    const error = await failure(client.call('getWork', {}));
    expect(sent).toHaveLength(3);
    expect(error.httpStatus).toBe(502);
    // A proxy's error page is not "another service": the server behind it is away.
    expect(error.message).toBe(
      'http://127.0.0.1:9 answered HTTP 502 without an OWP error: a proxy in front of the server, or the server starting or stopping: try again shortly',
    );
    // A timeout (already waited), a server error, a refusal: trying again would not help.
    for (const answer of [
      new Error('no answer from http://127.0.0.1:9 within the timeout'),
      { status: 500, json: undefined },
      { status: 409, json: { error: { code: 'stale_lease', message: 'Stale.', details: null } } },
    ]) {
      const once = clientOver([answer, OK_WORK]);
      await expect(once.client.call('getWork', {})).rejects.toBeDefined();
      expect(once.sent).toHaveLength(1);
    }
  });

  it('tells an answer that replays an earlier one for its key', async () => {
    const { client } = clientOver([
      { status: 200, json: { task: { task_id: 't_1' } } },
      { status: 200, json: { task: { task_id: 't_1' } }, replayed: true },
    ]);
    const input = { body: { repo: 'demo', title: 'x' }, idempotencyKey: 'k-1' };
    expect(await client.exchange('createTask', input)).toMatchObject({ replayed: false });
    expect(await client.exchange('createTask', input)).toEqual({
      answer: { task: { task_id: 't_1' } },
      replayed: true,
    });
  });

  it('tries a mutating call again only when it carries an Idempotency-Key', async () => {
    const keyed = clientOver([refused(), { status: 200, json: { ok: true } }]);
    await keyed.client.call('updateStatus', {
      params: { task_id: 't_1' },
      body: { status: 'in_progress' },
      idempotencyKey: 'k-1',
    });
    expect(keyed.sent.map((r) => r.headers['idempotency-key'])).toEqual(['k-1', 'k-1']);
    // Without one a repeat could do its work twice: two workers registered, a status sent twice.
    for (const failure of [refused(), { status: 502, json: undefined }]) {
      const register = clientOver([failure, { status: 200, json: { worker_id: 'w_2' } }]);
      await expect(
        register.client.call('registerWorker', { body: { name: 'Alice' } }),
      ).rejects.toBeDefined();
      expect(register.sent).toHaveLength(1);
      const status = clientOver([failure, { status: 200, json: { ok: true } }]);
      await expect(
        status.client.call('updateStatus', {
          params: { task_id: 't_1' },
          body: { status: 'in_progress' },
        }),
      ).rejects.toBeDefined();
      expect(status.sent).toHaveLength(1);
    }
  });
});

describe('timedFetchTransport', () => {
  const stalled = stalledServers();
  afterEach(() => stalled.close());
  const stalledServer = (answer?: string) => stalled.start(answer);

  it('gives up on a server that never answers, or never ends its body, naming it', async () => {
    // Was: no timeout at all; the dashboard waited on a hung server for ever.
    for (const answer of ['', 'HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{"ok":']) {
      const base = await stalledServer(answer);
      const call = timedFetchTransport({ timeoutMs: 100 })({
        method: 'GET',
        url: `${base}/v1/work`,
        headers: {},
      });
      await expect(call).rejects.toThrow(`no answer from ${base} within 0.1 s`);
    }
  });

  it("reads a proxy's HTML page as no JSON, and marks a refused connection transient", async () => {
    const base = await stalledServer(
      'HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: 21\r\nconnection: close\r\n\r\n<h1>Bad Gateway</h1>\n',
    );
    await expect(
      timedFetchTransport({ timeoutMs: 5000 })({
        method: 'GET',
        url: `${base}/healthz`,
        headers: {},
      }),
    ).resolves.toEqual({ status: 502, json: undefined, replayed: false });

    const probe = createServer();
    await new Promise<void>((ready) => probe.listen(0, '127.0.0.1', ready));
    const port = (probe.address() as { port: number }).port;
    await new Promise((done) => probe.close(done));
    const error: unknown = await timedFetchTransport({ timeoutMs: 5000 })({
      method: 'GET',
      url: `http://127.0.0.1:${port}/healthz`,
      headers: {},
    }).catch((e: unknown) => e);
    // Still fetch's TypeError, which the dashboard reads as "cannot reach the server".
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ transient: true });
  });
});
