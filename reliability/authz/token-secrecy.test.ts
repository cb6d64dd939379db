/**
 * Part 4 — tokens stay secret: not in the server's logs (at trace level), not in URLs the client
 * builds, not in the database (only their hashes), and not accepted from a query string.
 */
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OwpClient, type HttpRequest } from '../../protocol/client.ts';
import { routes, type RouteName } from '../../protocol/routes.ts';
import { hashToken } from '../../scheduler/ids.ts';
import { startServer } from '../../server/main.ts';
import { SseReader } from '../../server/testing/sse-reader.ts';
import { readDbFacts } from '../support/db-facts.ts';
import { FigureSheet, required, zero } from '../support/figures.ts';

const sheet = new FigureSheet(4, 'Who may do what', 'b-secrecy');
const dir = mkdtempSync(join(tmpdir(), 'owp-secrecy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN_TOKEN = 'owpa_secrecy_admin_token_5f1e0c9a7b3d2e4f6a8b';
const WRONG_ADMIN = 'owpa_secrecy_wrong_admin_9a8b7c6d5e4f3a2b1c0d';
const WRONG_WORKER = 'owpw_secrecy_wrong_worker_0a1b2c3d4e5f6a7b8c9d';

/** A token, or a long enough piece of one to identify it, found in `text`. */
const leaks = (text: string, secrets: string[]) =>
  secrets.filter((secret) => text.includes(secret) || text.includes(secret.slice(5, 25)));

describe('tokens stay secret', () => {
  it('never appear in the server log at trace level, nor in the database files', async () => {
    const lines: string[] = [];
    const server = await startServer(
      {
        OWP_PORT: '0',
        OWP_DB_PATH: join(dir, 'data', 'owp.db'),
        OWP_ADMIN_TOKEN: ADMIN_TOKEN,
        OWP_LOG_LEVEL: 'trace',
      },
      { logStream: { write: (line) => lines.push(line) } },
    );
    const secrets = [ADMIN_TOKEN, WRONG_ADMIN, WRONG_WORKER];
    try {
      const send = async (
        path: string,
        headers: Record<string, string>,
        body?: unknown,
        method = body === undefined ? 'GET' : 'POST',
      ) => {
        const response = await fetch(server.base + path, {
          method,
          headers: {
            ...headers,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return {
          status: response.status,
          json: (await response.json().catch(() => null)) as Record<string, unknown> | null,
        };
      };
      const admin = { 'x-admin-token': ADMIN_TOKEN };
      await send('/v1/admin/repos', admin, { repo: 'secrets', max_open_prs: 5 });
      await send('/v1/admin/tasks', admin, { repo: 'secrets', title: 'a task' });
      const registered = await send('/v1/workers/register', {}, { name: 'secret keeper' });
      const token = String(registered.json?.token);
      secrets.push(token);
      const worker = { authorization: `Bearer ${token}` };
      await send('/v1/workers/heartbeat', worker, { status: 'working' });
      const work = await send('/v1/work', worker);
      const lease = (work.json?.leases as Array<{ task_id: string; lease_id: string }>)[0]!;
      await send(
        `/v1/tasks/${lease.task_id}/status`,
        { ...worker, 'idempotency-key': 'k-1' },
        { status: 'in_progress', lease_id: lease.lease_id },
      );
      await send(`/v1/leases/${lease.lease_id}/renew`, worker, {});
      // Failures log too: wrong tokens, bad bodies, a token where a body field goes.
      await send('/v1/work', { authorization: `Bearer ${WRONG_WORKER}` });
      await send('/v1/admin/state', { 'x-admin-token': WRONG_ADMIN });
      await send('/v1/workers/heartbeat', worker, { status: token });
      await send('/v1/admin/tasks', admin, { repo: 'secrets', title: 42 });
      const stream = await new SseReader().open(`${server.base}/v1/events`, worker);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await stream.close();
      // Tokens in a query string are refused, so no client has a reason to put them there.
      const inQuery = [
        await send(`/v1/work?token=${token}`, {}),
        await send(`/v1/admin/state?admin_token=${ADMIN_TOKEN}`, {}),
      ];
      for (const answer of inQuery) expect(answer.status).toBe(401);
    } finally {
      await server.stop();
    }
    // The query-string requests are the only ones that put a token in a URL (ours, on purpose).
    const logged = lines.filter(
      (line) => !line.includes('token=') && !line.includes('admin_token='),
    );
    const logLeaks = logged.flatMap((line) => leaks(line, secrets).map(() => line.slice(0, 200)));
    const files = readdirSync(join(dir, 'data')).map((name) => join(dir, 'data', name));
    const fileLeaks = files.flatMap((file) =>
      leaks(readFileSync(file).toString('latin1'), secrets).map(() => file),
    );
    const facts = readDbFacts(join(dir, 'data', 'owp.db'));
    const hashed =
      facts.workers.every((w) => /^[0-9a-f]{64}$/.test(w.token_hash)) &&
      facts.workers.some((w) => w.token_hash === hashToken(secrets[3]!));
    const adminTokenFile = files.some((file) => file.endsWith('admin-token'));

    sheet.add(
      zero(`log lines quoting a token (of ${lines.length}, trace level)`, logLeaks.length),
      zero('database files (db, -wal, -shm) holding a token', fileLeaks.length),
      required('worker tokens stored only as SHA-256 hashes', hashed ? 'yes' : 'NO', 'yes', hashed),
      required('tokens in a query string refused', '401', '401', true),
    );
    expect(lines.length).toBeGreaterThan(20);
    expect(logLeaks).toEqual([]);
    expect(fileLeaks).toEqual([]);
    expect(hashed).toBe(true);
    expect(adminTokenFile, 'no admin-token file when OWP_ADMIN_TOKEN is set').toBe(false);
  });

  it('never appear in a URL the protocol client builds', async () => {
    const seen: HttpRequest[] = [];
    const transport = async (request: HttpRequest) => {
      seen.push(request);
      return { status: 200, json: {} };
    };
    const workerToken = 'owpw_client_worker_token_0123456789abcdef';
    const adminToken = 'owpa_client_admin_token_0123456789abcdef';
    const params = { task_id: 't_1', lease_id: 'l_1', worker_id: 'w_1', '*': 'owner/name' };
    for (const client of [
      new OwpClient({ baseUrl: 'http://127.0.0.1:1', workerToken, transport }),
      new OwpClient({ baseUrl: 'http://127.0.0.1:1', adminToken, transport }),
    ]) {
      for (const name of Object.keys(routes) as RouteName[]) {
        await client.call(name, { params, query: { limit: 5 }, body: {} } as never);
      }
    }
    const inUrl = seen.filter(
      (request) => request.url.includes(workerToken) || request.url.includes(adminToken),
    );
    const inHeaders = seen.filter((request) =>
      Object.values(request.headers).some((v) => v.includes(workerToken) || v.includes(adminToken)),
    );
    sheet.add(zero(`client URLs holding a token (of ${seen.length} calls)`, inUrl.length));
    expect(inUrl).toEqual([]);
    expect(inHeaders.length).toBeGreaterThan(0);
  });
});
