import type { RequestUrlParam, RequestUrlResponse } from 'obsidian';
import { expect, it } from 'vitest';
import { HttpOwpApi, OwpError } from '../../protocol/index.ts';
import { requestUrlTransport } from './request-url-transport.ts';

function answer(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): RequestUrlResponse {
  return { status, text, headers, arrayBuffer: new ArrayBuffer(0), json: null };
}

it('sends the request through requestUrl without throwing on error statuses', async () => {
  const sent: RequestUrlParam[] = [];
  const transport = requestUrlTransport(async (request) => {
    sent.push(request);
    return answer(201, '{"ok":true}');
  });
  const response = await transport({
    method: 'POST',
    url: 'https://pool.example.org/v1/admin/repos',
    headers: { 'content-type': 'application/json', authorization: 'Bearer t' },
    body: '{"repo":"a"}',
  });
  expect(response).toEqual({ status: 201, json: { ok: true }, replayed: false });
  expect(sent[0]).toMatchObject({
    method: 'POST',
    contentType: 'application/json',
    body: '{"repo":"a"}',
    throw: false,
  });
});

it('lets the client turn an error envelope into an OwpError with its code', async () => {
  const api = new HttpOwpApi({
    baseUrl: 'https://pool.example.org',
    adminToken: 't',
    transport: requestUrlTransport(async () =>
      answer(404, '{"error":{"code":"task_not_found","message":"No task t_1.","details":{}}}'),
    ),
  });
  const error = await api.getTask('t_1').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(OwpError);
  expect((error as OwpError).code).toBe('task_not_found');
});

it('reads an empty or non-JSON body as no body', async () => {
  const transport = requestUrlTransport(async () => answer(502, '<html>Bad gateway</html>'));
  expect(await transport({ method: 'GET', url: 'https://x', headers: {} })).toEqual({
    status: 502,
    json: undefined,
    replayed: false,
  });
});

it('tells an answer that replays an earlier one, whatever the case of the header', async () => {
  for (const name of ['idempotent-replayed', 'Idempotent-Replayed']) {
    const transport = requestUrlTransport(async () =>
      answer(200, '{"ok":true}', { [name]: 'true' }),
    );
    const response = await transport({ method: 'POST', url: 'https://x', headers: {} });
    expect(response.replayed).toBe(true);
  }
});

it('gives up on a server that never answers, naming it', async () => {
  const transport = requestUrlTransport(() => new Promise<never>(() => {}), { timeoutMs: 20 });
  await expect(
    transport({ method: 'GET', url: 'https://pool.example.org/v1/tasks', headers: {} }),
  ).rejects.toThrow('no answer from https://pool.example.org within 0.02 s');
});

it('marks a failure to reach the server as transient, so a read is tried again', async () => {
  let calls = 0;
  const api = new HttpOwpApi({
    baseUrl: 'https://pool.example.org',
    adminToken: 't',
    retryDelayMs: 1,
    transport: requestUrlTransport(async () => {
      if (++calls === 1) throw new Error('net::ERR_CONNECTION_REFUSED');
      return answer(200, '{"tasks":[],"next_cursor":null}');
    }),
  });
  await expect(api.listTasks()).resolves.toEqual({ tasks: [], next_cursor: null });
  expect(calls).toBe(2);
});
