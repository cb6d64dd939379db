import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../scheduler/engine.ts';
import { ManualClock } from '../scheduler/testing/manual-clock.ts';
import { buildApp } from './app.ts';
import { BetterSqlite3Driver } from './better-sqlite3-driver.ts';

const ADMIN = 'admin-secret-for-tests';

function setup() {
  const clock = new ManualClock();
  const engine = new Scheduler({ driver: new BetterSqlite3Driver({ path: ':memory:' }), clock });
  const app = buildApp({ engine, adminToken: ADMIN });
  const admin = { 'x-admin-token': ADMIN };
  return { app, engine, clock, admin };
}

describe('OWP v0.1 wire compatibility', () => {
  it('runs the v0.1 flow with the exact requests of the wire document', async () => {
    const { app, admin } = setup();
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ ok: true });

    const repo = await app.inject({
      method: 'POST',
      url: '/v1/admin/repos',
      headers: admin,
      payload: { repo: 'demo', max_open_prs: 3, area_locks_enabled: true },
    });
    expect(repo.statusCode).toBe(200);
    expect(repo.json()).toMatchObject({ ok: true, repo: 'demo' });

    const created = await app.inject({
      method: 'POST',
      url: '/v1/admin/tasks',
      headers: admin,
      payload: {
        repo: 'demo',
        title: 'Docs: Add quickstart',
        description: 'Add a concise quickstart section.',
        estimate_points: 1,
        priority: 10,
        required_skills: ['docs'],
        area: 'docs',
        tier: 0,
      },
    });
    expect(created.statusCode).toBe(200);
    const { task_id } = created.json<{ ok: true; task_id: string }>();
    expect(task_id).toMatch(/^t_/);

    const registered = await app.inject({
      method: 'POST',
      url: '/v1/workers/register',
      payload: {
        name: 'Alice',
        github_handle: 'alice',
        skills: ['python', 'docs'],
        capacity_points: 5,
        max_concurrent_tasks: 2,
      },
    });
    expect(registered.statusCode).toBe(200);
    const { worker_id, token } = registered.json<{ worker_id: string; token: string }>();
    const worker = { authorization: `Bearer ${token}` };

    const beat = await app.inject({
      method: 'POST',
      url: '/v1/workers/heartbeat',
      headers: worker,
      payload: { status: 'idle' },
    });
    expect(beat.json()).toMatchObject({ ok: true, server_time: '2026-01-17T12:00:00.000Z' });

    const work = await app.inject({ method: 'GET', url: '/v1/work', headers: worker });
    expect(work.json()).toEqual({
      worker_id,
      leases: [
        expect.objectContaining({
          task_id,
          repo: 'demo',
          title: 'Docs: Add quickstart',
          description: 'Add a concise quickstart section.',
          estimate_points: 1,
          priority: 10,
          area: 'docs',
          tier: 0,
          required_skills: ['docs'],
          lease_expires_at: '2026-01-17T12:30:00.000Z',
        }),
      ],
    });

    for (const status of ['in_progress', 'pr_opened', 'merged']) {
      const moved = await app.inject({
        method: 'POST',
        url: `/v1/tasks/${task_id}/status`,
        headers: worker,
        payload: {
          status,
          message: `now ${status}`,
          artifact:
            status === 'pr_opened' ? { pr_url: 'https://github.com/o/r/pull/1' } : undefined,
        },
      });
      expect(moved.statusCode).toBe(200);
      expect(moved.json()).toMatchObject({ ok: true });
    }

    const state = await app.inject({ method: 'GET', url: '/v1/admin/state', headers: admin });
    expect(state.json()).toMatchObject({
      workers_online: 1,
      tasks_ready: 0,
      tasks_leased: 0,
      tasks_in_progress: 0,
      tasks_pr_opened: 0,
      tasks_blocked: 0,
      tasks_merged: 1,
    });
  });

  it('answers the v0.1 error statuses with the JSON envelope', async () => {
    const { app, admin, engine } = setup();
    engine.upsertRepo({ repo: 'demo' });
    const other = engine.registerWorker({ name: 'Bob' });
    const task = engine.createTask({ repo: 'demo', title: 'x' });
    const bob = { authorization: `Bearer ${other.token}` };

    const cases = [
      { method: 'GET', url: '/v1/work', headers: {}, status: 401, code: 'unauthorized' },
      {
        method: 'GET',
        url: '/v1/admin/state',
        headers: { 'x-admin-token': 'wrong' },
        status: 401,
        code: 'unauthorized',
      },
      {
        method: 'POST',
        url: '/v1/tasks/t_nope/status',
        headers: bob,
        payload: { status: 'in_progress' },
        status: 404,
        code: 'task_not_found',
      },
      {
        method: 'POST',
        url: `/v1/tasks/${task.task_id}/status`,
        headers: bob,
        payload: { status: 'in_progress' },
        status: 403,
        code: 'not_lease_holder',
      },
      {
        method: 'POST',
        url: `/v1/tasks/${task.task_id}/status`,
        headers: bob,
        payload: { status: 'done' },
        status: 400,
        code: 'validation_failed',
      },
      {
        method: 'POST',
        url: '/v1/admin/tasks',
        headers: admin,
        payload: { repo: 'nope', title: 'x' },
        status: 400,
        code: 'unknown_repo',
      },
      {
        method: 'POST',
        url: '/v1/admin/repos',
        headers: admin,
        payload: { repo: 'demo', max_open_prs: 101 },
        status: 400,
        code: 'validation_failed',
      },
      { method: 'GET', url: '/v1/nope', headers: {}, status: 404, code: 'route_not_found' },
    ] as const;
    for (const c of cases) {
      const res = await app.inject({
        method: c.method,
        url: c.url,
        headers: c.headers,
        ...('payload' in c ? { payload: c.payload } : {}),
      });
      expect({ url: c.url, status: res.statusCode, code: res.json().error?.code }).toEqual({
        url: c.url,
        status: c.status,
        code: c.code,
      });
      expect(res.json().error).toHaveProperty('message');
    }
  });

  it('turns broken JSON, wrong content types and huge bodies into 4xx envelopes', async () => {
    const { app } = setup();
    const broken = await app.inject({
      method: 'POST',
      url: '/v1/workers/register',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('malformed_json');
    // Valid JSON, refused against prototype poisoning: told as that, not as broken JSON.
    for (const payload of [
      '{"name": "Alice", "__proto__": {"admin": true}}',
      '{"name": "Alice", "constructor": {"prototype": {"admin": true}}}',
    ]) {
      const poisoned = await app.inject({
        method: 'POST',
        url: '/v1/workers/register',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        payload,
      });
      expect(poisoned.statusCode).toBe(400);
      expect(poisoned.json().error).toEqual({
        code: 'validation_failed',
        message:
          'The request body has a "__proto__" or "constructor.prototype" key, which is refused.',
        details: null,
      });
    }

    const text = await app.inject({
      method: 'POST',
      url: '/v1/workers/register',
      headers: { 'content-type': 'text/plain' },
      payload: 'name=Alice',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('unsupported_media_type');

    const huge = await app.inject({
      method: 'POST',
      url: '/v1/workers/register',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('payload_too_large');
  });

  it('replays an Idempotency-Key answer instead of applying the call twice', async () => {
    const { app, engine } = setup();
    engine.upsertRepo({ repo: 'demo' });
    const { worker_id, token } = engine.registerWorker({ name: 'Alice' });
    engine.heartbeat(worker_id, {});
    const task = engine.createTask({ repo: 'demo', title: 'x' });
    const headers = { authorization: `Bearer ${token}`, 'idempotency-key': 'k1' };
    const send = () =>
      app.inject({
        method: 'POST',
        url: `/v1/tasks/${task.task_id}/status`,
        headers,
        payload: { status: 'in_progress' },
      });
    const first = await send();
    const replay = await send();
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual(first.json());
    expect(engine.getTask(task.task_id).version).toBe(first.json().task.version);

    // The same body with its keys in another order is the same request; another body is not.
    const artifact = { pr_url: 'https://example.test/pr/1', commit_sha: 'abc' };
    const opened = (body: string) =>
      app.inject({
        method: 'POST',
        url: `/v1/tasks/${task.task_id}/status`,
        headers: { ...headers, 'idempotency-key': 'k2', 'content-type': 'application/json' },
        payload: body,
      });
    const pr = await opened(JSON.stringify({ status: 'pr_opened', artifact }));
    expect(pr.statusCode).toBe(200);
    const reordered = await opened(
      JSON.stringify({
        artifact: { commit_sha: 'abc', pr_url: artifact.pr_url },
        status: 'pr_opened',
      }),
    );
    expect(reordered.json()).toEqual(pr.json());
    const other = await opened(
      JSON.stringify({ status: 'pr_opened', artifact: { ...artifact, commit_sha: 'def' } }),
    );
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('idempotency_key_reused');
  });

  it('makes a task once for one Idempotency-Key, however often the admin sends it', async () => {
    const { app, admin, engine } = setup();
    engine.upsertRepo({ repo: 'demo' });
    const create = (key: string, title = 'Fix the login page') =>
      app.inject({
        method: 'POST',
        url: '/v1/admin/tasks',
        headers: { ...admin, 'idempotency-key': key },
        payload: { repo: 'demo', title },
      });
    const first = await create('note-1');
    expect(first.statusCode).toBe(200);
    const replay = await create('note-1');
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual(first.json());
    // Told apart by a header only: the body is the first answer's.
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(engine.listTasks().tasks.map((task) => task.task_id)).toEqual([
      first.json().task.task_id,
    ]);
    // Another key is another task; the same key with another request is refused, nothing made.
    expect((await create('note-2')).json().task.task_id).not.toBe(first.json().task.task_id);
    const reused = await create('note-1', 'Something else');
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe('idempotency_key_reused');
    expect(engine.listTasks().tasks).toHaveLength(2);

    // A worker's keys are its own: the admin's key names nothing of theirs.
    const { worker_id, token } = engine.registerWorker({ name: 'Alice' });
    engine.heartbeat(worker_id, {});
    const beat = await app.inject({
      method: 'POST',
      url: '/v1/workers/heartbeat',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'note-1' },
      payload: {},
    });
    expect(beat.statusCode).toBe(200);
    expect(beat.json()).toHaveProperty('ok', true);
  });
});

describe('text that cannot be stored', () => {
  it('refuses a lone surrogate anywhere in a body with a 400 naming the field', async () => {
    const { app, admin, engine } = setup();
    engine.upsertRepo({ repo: 'demo' });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/admin/tasks',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: '{"repo": "demo", "title": "broken \\ud800 text", "required_skills": ["ok"]}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'title' }] },
    });
    expect(engine.listTasks().tasks).toEqual([]);
  });

  it('tells a caller with no token which tokens a route takes', async () => {
    const { app } = setup();
    const work = await app.inject({ method: 'GET', url: '/v1/work' });
    expect(work.json().error.message).toBe(
      'Send the worker token as Authorization: Bearer <token>.',
    );
    const history = await app.inject({ method: 'GET', url: '/v1/events/history' });
    expect(history.statusCode).toBe(401);
    expect(history.json().error.message).toBe(
      'Send the worker token as Authorization: Bearer <token>, or the admin token as X-Admin-Token.',
    );
  });

  it('refuses a title or worker name with a control character or nothing visible, naming the field', async () => {
    const { app, admin, engine } = setup();
    engine.upsertRepo({ repo: 'demo' });
    for (const title of ['line one\nline two', 'nul\u0000inside', '\u200b\u200b']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/admin/tasks',
        headers: admin,
        payload: { repo: 'demo', title },
      });
      expect(res.statusCode, JSON.stringify(title)).toBe(400);
      expect(res.json().error).toMatchObject({
        code: 'validation_failed',
        details: { issues: [{ path: 'title' }] },
      });
    }
    const register = await app.inject({
      method: 'POST',
      url: '/v1/workers/register',
      payload: { name: 'tab\there' },
    });
    expect(register.statusCode).toBe(400);
    expect(register.json().error.details.issues).toEqual([
      {
        path: 'name',
        message: 'must be one line without control characters (tabs, line breaks, NUL)',
      },
    ]);
    const handle = await app.inject({
      method: 'POST',
      url: '/v1/workers/register',
      payload: { name: 'x', github_handle: 'a\u0000b\nc' },
    });
    expect(handle.statusCode).toBe(400);
    expect(handle.json().error.details.issues[0].path).toBe('github_handle');
    // An empty handle (a form's blank field) is no handle, as v0.1's null or absent one.
    const blank = await app.inject({
      method: 'POST',
      url: '/v1/workers/register',
      payload: { name: 'Blank', github_handle: ' ' },
    });
    expect(blank.statusCode).toBe(200);
    expect(engine.getWorker(blank.json().worker_id).github_handle).toBeNull();
    expect(engine.listTasks().tasks).toEqual([]);
  });

  it('refuses a body nested thousands deep with a 400, on an open route and an authenticated one', async () => {
    const { app, engine } = setup();
    // ~8 KB: far under the body limit, far over the depth any walk of it could recurse.
    const deep = `${'['.repeat(4000)}${']'.repeat(4000)}`;
    const register = await app.inject({
      method: 'POST',
      url: '/v1/workers/register',
      headers: { 'content-type': 'application/json' },
      payload: `{"name": "x", "skills": ${deep}}`,
    });
    expect(register.statusCode).toBe(400);
    expect(register.json().error).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ message: 'must not nest deeper than 64 levels' }] },
    });
    expect(register.json().error.details.issues[0].path).toMatch(/^skills\.0\.0\./);

    const { token } = engine.registerWorker({ name: 'Alice' });
    const status = await app.inject({
      method: 'POST',
      url: '/v1/tasks/t_0001/status',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: `{"status": "in_progress", "lease_id": "l_1", "artifact": {"extra": {"a": ${deep}}}}`,
    });
    expect(status.statusCode).toBe(400);
    expect(status.json().error.code).toBe('validation_failed');
  });

  it('refuses a JSON null body rather than reading it as an empty one', async () => {
    const { app, engine } = setup();
    const { token } = engine.registerWorker({ name: 'Alice' });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/workers/heartbeat',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: 'null',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
  });

  it('answers a path with a broken percent-encoding with the envelope, not echoing it', async () => {
    const { app } = setup();
    const res = await app.inject({ method: 'GET', url: '/v1/tasks/%ZZ' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    expect(res.body).not.toContain('%ZZ');
  });
});

describe('empty bodies, and requests Node refuses before Fastify', () => {
  it('tells a client that sent an empty body labelled as JSON what to send instead', async () => {
    const { app, engine } = setup();
    const { token } = engine.registerWorker({ name: 'Alice' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const empty = await app.inject({
      method: 'POST',
      url: '/v1/workers/heartbeat',
      headers,
      payload: '',
    });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toMatchObject({
      code: 'malformed_json',
      message: expect.stringMatching(/empty.*send \{\}/),
    });
    // Without the header, no body is an empty object, which the heartbeat's schema allows.
    const none = await app.inject({
      method: 'POST',
      url: '/v1/workers/heartbeat',
      headers: { authorization: headers.authorization },
    });
    expect(none.statusCode).toBe(200);
  });

  it('answers an oversized or malformed request with the JSON envelope, over a real socket', async () => {
    const { app } = setup();
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(address);
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(request));
        let answer = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (answer += chunk));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    try {
      const tooLarge = await raw(
        `GET /v1/tasks?repo=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      expect(tooLarge).toMatch(/^HTTP\/1\.1 431 /);
      expect(JSON.parse(tooLarge.slice(tooLarge.indexOf('\r\n\r\n') + 4))).toEqual({
        error: {
          code: 'headers_too_large',
          message: 'The request line or headers are too large.',
          details: null,
        },
      });
      const garbled = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n');
      expect(garbled).toMatch(/^HTTP\/1\.1 400 /);
      expect(garbled).toContain('"code":"validation_failed"');
    } finally {
      await app.close();
    }
  });
});

/** A plain TCP connection to the app; `answer` is all it was sent, once the server closed it. */
async function rawConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const answer = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, answer };
}

describe('stopping', () => {
  it('finishes a request in flight, ending its connection with the answer, and refuses new ones in the envelope', async () => {
    const { app } = setup();
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const port = Number(new URL(address).port);
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // A registration whose body is still arriving when the server starts to close.
    const inFlight = await rawConnection(port);
    const body = '{"name":"Alice"}';
    inFlight.socket.write(
      `POST /v1/workers/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    );
    // And another whose headers are still arriving.
    const late = await rawConnection(port);
    late.socket.write('GET /readyz HTTP/1.1\r\nHost: x\r\n');
    await pause(50);
    const closed = app.close();
    await pause(50);
    late.socket.write('\r\n');
    const lateAnswer = await late.answer;
    inFlight.socket.write(body.slice(5));
    // Kept alive, the connection held the close until its keep-alive ran out.
    const answer = await inFlight.answer;
    await closed;
    expect(lateAnswer).toMatch(/^HTTP\/1\.1 503 /);
    expect(lateAnswer).toMatch(/\r\nconnection: close\r\n/i);
    // Fastify's own answer was {"error":"Service Unavailable",…}: not the envelope.
    expect(JSON.parse(lateAnswer.slice(lateAnswer.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'not_ready', message: 'The server is stopping.', details: null },
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });
});
