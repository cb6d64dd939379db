import { describe, expect, it } from 'vitest';
import type { HttpRequest, Transport } from '../../protocol/client.ts';
import { OwpError } from '../../protocol/errors.ts';
import type { OwpEvent } from '../../protocol/events.ts';
import { DashboardApi, VIEWER_HEADER } from './connection.ts';
import { EventScript } from './testing/builders.ts';

const BASE = 'http://127.0.0.1:9';

/** A server stand-in that records requests and answers pool-state and event-history reads. */
function recordingTransport(events: OwpEvent[] = []) {
  const requests: HttpRequest[] = [];
  const transport: Transport = async (request) => {
    requests.push(request);
    const url = new URL(request.url);
    if (url.pathname === '/v1/events/history') {
      const after = Number(url.searchParams.get('after'));
      const limit = Number(url.searchParams.get('limit'));
      // Like a server that ignores task_id: every event, paged.
      return { status: 200, json: { events: events.filter((e) => e.seq > after).slice(0, limit) } };
    }
    return { status: 200, json: { workers_online: 0, last_event_seq: 0 } };
  };
  return { requests, transport };
}

/** A fetch for the event stream: records the request, answers one SSE event, then closes. */
function recordingFetch(event: OwpEvent) {
  const seen: Array<{ url: string; headers: Record<string, string> }> = [];
  const fake = (async (url: string, init: RequestInit) => {
    seen.push({ url, headers: init.headers as Record<string, string> });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(
          new TextEncoder().encode(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`),
        );
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  }) as unknown as typeof fetch;
  return { seen, fetch: fake };
}

describe('the dashboard’s connection to the server', () => {
  it('sends the admin token as X-Admin-Token and nothing else', async () => {
    const { requests, transport } = recordingTransport();
    await new DashboardApi(BASE, { role: 'admin', token: 'adm' }, { transport }).state();
    expect(requests[0]!.headers).toMatchObject({ 'x-admin-token': 'adm' });
    expect(requests[0]!.headers[VIEWER_HEADER]).toBeUndefined();
  });

  it('sends a viewer token as X-Viewer-Token on every read, never as the admin header', async () => {
    const { requests, transport } = recordingTransport();
    const api = new DashboardApi(BASE, { role: 'viewer', token: 'view' }, { transport });
    await api.state();
    await api.getTask('t_1');
    expect(api.role).toBe('viewer');
    for (const request of requests) {
      expect(request.headers).toMatchObject({ [VIEWER_HEADER]: 'view' });
      expect(request.headers['x-admin-token']).toBeUndefined();
      expect(request.url).not.toContain('view');
    }
  });

  it('streams events with the credential in a header and resumes after the given sequence', async () => {
    const [event] = new EventScript().created('t_1', 0).events;
    for (const [role, header] of [
      ['viewer', VIEWER_HEADER],
      ['admin', 'x-admin-token'],
    ] as const) {
      const { seen, fetch } = recordingFetch({ ...event!, seq: 8 });
      const api = new DashboardApi(BASE, { role, token: 'secret' }, { fetch });
      const received = await new Promise<OwpEvent>((resolve) => {
        const subscription = api.subscribe(7, (e) => {
          subscription.close();
          resolve(e);
        });
      });
      expect(received.seq).toBe(8);
      expect(seen[0]).toEqual({
        url: `${BASE}/v1/events`,
        headers: expect.objectContaining({ [header]: 'secret', 'last-event-id': '7' }),
      });
    }
  });

  it('tells of a stream refused with 401, in the server’s words, so the page can sign out', async () => {
    const refusing = (async () =>
      Response.json(
        { error: { code: 'unauthorized', message: 'The viewer token is wrong.' } },
        { status: 401 },
      )) as unknown as typeof fetch;
    const api = new DashboardApi(
      BASE,
      { role: 'viewer', token: 'rotated' },
      { fetch: refusing, minDelayMs: 60_000 },
    );
    let subscription: { close(): void } | undefined;
    const refusal = await new Promise<OwpError>((resolve) => {
      subscription = api.subscribe(0, () => {}, undefined, resolve);
    });
    subscription!.close();
    expect(refusal).toBeInstanceOf(OwpError);
    expect(refusal).toMatchObject({ code: 'unauthorized', message: 'The viewer token is wrong.' });
  });

  it("reads a task's history page by page, asking for task_id and keeping only that task", async () => {
    const script = new EventScript();
    for (let i = 0; i < 5; i++) script.created(`t_${i % 2}`, i);
    const { requests, transport } = recordingTransport(script.events);
    const api = new DashboardApi(BASE, { role: 'admin', token: 'adm' }, { transport });
    const history = await api.taskEvents('t_0', 2);
    expect(history.map((e) => e.seq)).toEqual([1, 3, 5]);
    expect(requests.map((r) => new URL(r.url).search)).toEqual([
      '?after=0&limit=2&task_id=t_0',
      '?after=2&limit=2&task_id=t_0',
      '?after=4&limit=2&task_id=t_0',
    ]);
  });
});
