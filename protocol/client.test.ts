import { describe, expect, it } from 'vitest';
import { OwpClient, type HttpRequest, type HttpResponse } from './client.ts';
import { OwpError } from './errors.ts';

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
    // A proxy's HTML error page, another service's JSON, a success without a body.
    for (const [answer, status, code] of [
      [{ status: 404, json: undefined }, 404, 'validation_failed'],
      [{ status: 502, json: undefined }, 502, 'internal_error'],
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
