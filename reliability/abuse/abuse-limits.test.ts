/**
 * Part 5 — abuse limits: registration and failed-authentication rate limits, a bound on idle event
 * streams that keeps the API answering, and slow clients cut off.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorEnvelope } from '../../protocol/errors.ts';
import { SseReader } from '../../server/testing/sse-reader.ts';
import { startAppFixture, type AppFixture, type FixtureOptions } from '../support/app-fixture.ts';
import { FigureSheet, measured, required, zero } from '../support/figures.ts';

const sheet = new FigureSheet(5, 'Abuse limits');
const fixtures: AppFixture[] = [];
afterEach(async () => {
  for (const fixture of fixtures.splice(0)) await fixture.close();
});
async function fixture(options: FixtureOptions): Promise<AppFixture> {
  const fx = await startAppFixture(options);
  fixtures.push(fx);
  return fx;
}

async function post(fx: AppFixture, path: string, headers: Record<string, string>, body: unknown) {
  const response = await fetch(fx.base + path, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as unknown };
}

const isEnvelope = (json: unknown) => ErrorEnvelope.safeParse(json).success;

describe('abuse limits', () => {
  it('registration is limited per address per minute', async () => {
    const fx = await fixture({ registrationsPerMinute: 5 });
    const answers = [];
    for (let i = 0; i < 12; i++)
      answers.push(await post(fx, '/v1/workers/register', {}, { name: `flood-${i}` }));
    const accepted = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429 && isEnvelope(a.json)).length;
    sheet.add(
      required(
        'registrations accepted at a limit of 5/min (of 12 sent)',
        accepted,
        '5',
        accepted === 5,
      ),
    );
    sheet.add(required('… refused with 429 and the error envelope', limited, '7', limited === 7));
    expect(accepted).toBe(5);
    expect(limited).toBe(7);
  });

  it('failed authentication is limited per address per minute', async () => {
    const fx = await fixture({ authFailuresPerMinute: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      statuses.push(
        (await fetch(`${fx.base}/v1/admin/state`, { headers: { 'x-admin-token': `wrong-${i}` } }))
          .status,
      );
    }
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await fetch(`${fx.base}/v1/work`, { headers: { authorization: `Bearer guess-${i}` } }))
          .status,
      );
    }
    const unauthorized = statuses.filter((s) => s === 401).length;
    const limited = statuses.filter((s) => s === 429).length;
    // While the address is throttled even the right token is refused: guessing cannot go on.
    const throttled = await fetch(`${fx.base}/v1/admin/state`, {
      headers: { 'x-admin-token': fx.adminToken },
    });
    const rightTokenWhileThrottled = throttled.status;
    const retryAfter = Number(throttled.headers.get('retry-after'));
    // Routes that check no credentials stay open: a guessing client cannot fail a health check.
    const healthWhileThrottled = (await fetch(`${fx.base}/healthz`)).status;
    sheet.add(
      required(
        'failed authentications answered 401 at a limit of 5/min (of 14)',
        unauthorized,
        '5',
        unauthorized === 5,
      ),
      required('… then refused with 429', limited, '9', limited === 9),
      measured('the right admin token from the throttled address', rightTokenWhileThrottled),
      measured('… its Retry-After (s)', retryAfter),
      required(
        '/healthz from the throttled address',
        healthWhileThrottled,
        '200',
        healthWhileThrottled === 200,
      ),
    );
    expect(retryAfter).toBeGreaterThan(0);
    expect(healthWhileThrottled).toBe(200);
    expect(unauthorized).toBe(5);
    expect(limited).toBe(9);
    expect(rightTokenWhileThrottled).toBe(429);
  });

  it('idle event streams are bounded and do not starve the API', { timeout: 60_000 }, async () => {
    const limit = 200;
    const fx = await fixture({ maxEventStreams: limit });
    const streams: SseReader[] = [];
    try {
      for (let i = 0; i < limit; i++) {
        const headers: Record<string, string> =
          i % 2
            ? { 'x-admin-token': fx.adminToken }
            : { authorization: `Bearer ${fx.workerB.token}` };
        streams.push(await new SseReader().open(`${fx.base}/v1/events`, headers));
      }
      const opened = streams.filter((s) => s.status === 200).length;
      const over = await fetch(`${fx.base}/v1/events`, {
        headers: { 'x-admin-token': fx.adminToken },
      });
      const overJson = (await over.json()) as unknown;

      // With every stream slot taken (and every write fanned out to 100 admin streams), the REST
      // API must still answer: heartbeats, task creations, reads.
      const latencies: number[] = [];
      const failures: string[] = [];
      const admin = { 'x-admin-token': fx.adminToken };
      const worker = { authorization: `Bearer ${fx.workerA.token}` };
      for (let i = 0; i < 300; i++) {
        const started = performance.now();
        const response =
          i % 3 === 0
            ? await fetch(`${fx.base}/v1/admin/state`, { headers: admin })
            : i % 3 === 1
              ? await fetch(`${fx.base}/v1/workers/heartbeat`, {
                  method: 'POST',
                  headers: { ...worker, 'content-type': 'application/json' },
                  body: '{"status":"working"}',
                })
              : await fetch(`${fx.base}/v1/admin/tasks`, {
                  method: 'POST',
                  headers: { ...admin, 'content-type': 'application/json' },
                  body: JSON.stringify({ repo: 'owner/held', title: `while streaming ${i}` }),
                });
        await response.arrayBuffer();
        latencies.push(performance.now() - started);
        if (!response.ok) failures.push(`${i}: ${response.status}`);
      }
      latencies.sort((a, b) => a - b);
      const p = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
      // A freed slot can be taken again.
      await streams.pop()!.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = await new SseReader().open(`${fx.base}/v1/events`, {
        'x-admin-token': fx.adminToken,
      });
      streams.push(again);

      sheet.add(
        required(
          `event streams open at a limit of ${limit}`,
          opened,
          String(limit),
          opened === limit,
        ),
        required(
          'one more stream refused',
          `${over.status}${isEnvelope(overJson) ? ' + envelope' : ''}`,
          '503 + envelope',
          over.status === 503 && isEnvelope(overJson),
        ),
        zero('REST calls failed with every stream slot taken (of 300)', failures.length),
        measured(
          'REST latency with the limit reached: p50 / p99 / max',
          `${p(0.5)} / ${p(0.99)} / ${latencies.at(-1)!.toFixed(1)} ms`,
        ),
      );
      expect(opened).toBe(limit);
      expect(over.status).toBe(503);
      expect(isEnvelope(overJson)).toBe(true);
      expect(failures).toEqual([]);
      expect(again.status).toBe(200);
    } finally {
      await Promise.all(streams.map((s) => s.close()));
    }
  });

  it('cuts off slow clients (AppOptions.requestTimeoutMs)', { timeout: 30_000 }, async () => {
    const requestTimeoutMs = 1500;
    // `requestTimeoutMs` is the option buildApp is to grow; until it does, this test fails.
    const fx = await fixture({ requestTimeoutMs } as FixtureOptions);
    const configured = fx.app.server.requestTimeout;
    const allowedMs = requestTimeoutMs + 2500;
    const slow = (kind: 'headers' | 'body' | 'idle') =>
      new Promise<number | null>((resolve) => {
        const started = Date.now();
        const socket = connect(fx.port, '127.0.0.1');
        const head =
          'POST /v1/workers/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
        let pending =
          kind === 'headers'
            ? `${head}X-Slow: ${'a'.repeat(200)}\r\n\r\n`
            : kind === 'body'
              ? `{"name":"${'b'.repeat(200)}"}`
              : '';
        if (kind === 'body') socket.write(`${head}Content-Length: ${pending.length}\r\n\r\n`);
        const drip = setInterval(() => {
          if (pending && !socket.destroyed) {
            socket.write(pending[0]!);
            pending = pending.slice(1);
          }
        }, 150);
        const finish = (cutAfter: number | null) => {
          clearInterval(drip);
          clearTimeout(giveUp);
          socket.destroy();
          resolve(cutAfter);
        };
        const giveUp = setTimeout(() => finish(null), allowedMs + 4000);
        socket.on('close', () => finish(Date.now() - started));
        socket.on('error', () => undefined);
      });
    // An event stream is a long response, not a slow request: it must outlive the timeout.
    const stream = await new SseReader().open(`${fx.base}/v1/events`, {
      'x-admin-token': fx.adminToken,
    });
    const [headers, body, idle] = await Promise.all([slow('headers'), slow('body'), slow('idle')]);
    await post(
      fx,
      '/v1/admin/repos',
      { 'x-admin-token': fx.adminToken },
      { repo: 'after-the-timeout' },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const streamAlive = stream.frames.some((frame) => frame.data?.includes('after-the-timeout'));
    await stream.close();
    const shown = (ms: number | null) => (ms === null ? 'never' : `${ms} ms`);
    const cut = (ms: number | null) => ms !== null && ms <= allowedMs;
    sheet.add(
      required(
        'slow headers (1 byte/150 ms) cut off',
        shown(headers),
        `≤ ${allowedMs} ms`,
        cut(headers),
      ),
      required('slow body (1 byte/150 ms) cut off', shown(body), `≤ ${allowedMs} ms`, cut(body)),
      // Not required: Node 20 does not reliably close a socket that never sent a byte while its
      // request timeouts are being checked (observed); a proxy or maxConnections bounds those.
      measured('idle connection (sends nothing) cut off after', shown(idle)),
      required(
        'an event stream outlives the request timeout',
        streamAlive ? 'yes' : 'no',
        'yes',
        streamAlive,
      ),
    );
    if (!cut(headers) || !cut(body)) {
      sheet.note(
        `slow clients not cut off (Fastify requestTimeout ${configured} ms): Node enforces it on the body only when ` +
          'headersTimeout ≤ requestTimeout, and checks every connectionsCheckingInterval (30 s by default)',
      );
    }
    expect(streamAlive).toBe(true);
    expect({ headers: cut(headers), body: cut(body) }).toEqual({ headers: true, body: true });
  });
});
