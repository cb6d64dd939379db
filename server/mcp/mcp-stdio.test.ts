/**
 * `owp mcp` as an agent sees it: the real executable spawned by the MCP SDK's own client over
 * stdio, against a real server on 127.0.0.1:0 (remote) or a SQLite file (local). Every child is
 * closed in teardown; each call is bounded by the SDK's request timeout.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  getDefaultEnvironment,
  StdioClientTransport,
} from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpOwpApi } from '../../protocol/http-api.ts';
import type { Task } from '../../protocol/tasks.ts';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { BetterSqlite3Driver } from '../better-sqlite3-driver.ts';
import { startServer } from '../main.ts';
import { LEASES_RESOURCE_URI } from './mcp-server.ts';
import type { LeaseForAgent, NextTask } from './worker-session.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const CALL_TIMEOUT = { timeout: 10_000 };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'owp-mcp-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `node bin/owp.js ARGS… mcp …` as an MCP client would start it; closed after the test. */
async function connect(
  args: string[],
  cwd: string,
): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(REPO_ROOT, 'bin', 'owp.js'), ...args],
    cwd,
    env: { ...getDefaultEnvironment(), HOME: cwd },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'owp-mcp-test', version: '1.0.0' });
  await client.connect(transport, CALL_TIMEOUT);
  cleanups.push(() => client.close());
  return { client, stderr: () => stderr };
}

/** Calls a tool and parses its JSON text; a tool error fails the test with its message. */
async function call<T>(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await client.callTool({ name, arguments: args }, undefined, CALL_TIMEOUT);
  const text = (result.content as Array<{ type: string; text: string }>)[0]!.text;
  if (result.isError) throw new Error(`${name} failed: ${text}`);
  return JSON.parse(text) as T;
}

async function callError(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await client.callTool({ name, arguments: args }, undefined, CALL_TIMEOUT);
  expect(result.isError).toBe(true);
  return (result.content as Array<{ text: string }>)[0]!.text;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A real server on 127.0.0.1:0 with its database in `dir`, and an admin client of it. */
async function serveIn(dir: string) {
  const server = await startServer({
    OWP_HOST: '127.0.0.1',
    OWP_PORT: '0',
    OWP_DB_PATH: join(dir, 'owp.db'),
    OWP_LOG_LEVEL: 'silent',
  });
  cleanups.push(() => server.stop());
  return {
    server,
    admin: new HttpOwpApi({ baseUrl: server.base, adminToken: server.admin.token }),
  };
}

describe('owp mcp against a remote server', () => {
  it('lets an agent register, take a task with its contract, report, open a PR and release', async () => {
    const dir = tempDir();
    const { server, admin } = await serveIn(dir);
    await admin.upsertRepo({ repo: 'acme/app', max_open_prs: 5 });
    const issueTask = await admin.createTask({
      repo: 'acme/app',
      title: 'Parser: empty input',
      description: 'https://github.com/acme/app/issues/7\n\nIt crashes on "".',
      required_skills: ['python'],
      area: 'parser',
      priority: 90,
    });
    const config = join(dir, 'worker.json');
    const { client, stderr } = await connect(
      ['--url', server.base, '--config', config, 'mcp', '--heartbeat', '1'],
      dir,
    );

    const { tools } = await client.listTools(undefined, CALL_TIMEOUT);
    expect(tools.map((t) => t.name).sort()).toEqual([
      'accept_offer',
      'heartbeat',
      'my_leases',
      'next_task',
      'offers',
      'open_pr',
      'register',
      'reject_offer',
      'release',
      'report_progress',
    ]);
    expect(await callError(client, 'next_task')).toContain('call the register tool first');

    // Register: the credentials go to the config file (0600), never into the tool result.
    const registered = await call<{ worker_id: string; already_registered: boolean }>(
      client,
      'register',
      { name: 'agent-1', skills: ['Python'], capacity_points: 3 },
    );
    expect(registered.already_registered).toBe(false);
    const saved = JSON.parse(readFileSync(config, 'utf8')) as { token: string; url: string };
    expect(saved).toMatchObject({ worker_id: registered.worker_id, url: server.base });
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(registered)).not.toContain(saved.token);
    expect(
      await call<{ already_registered: boolean }>(client, 'register', { name: 'agent-1' }),
    ).toMatchObject({ worker_id: registered.worker_id, already_registered: true });

    // next_task: the lease with the description and what is known of the repo's contract.
    const next = await call<NextTask>(client, 'next_task');
    expect(next.lease).toMatchObject({
      task_id: issueTask.task_id,
      status: 'leased',
      description: issueTask.description,
      issue_url: 'https://github.com/acme/app/issues/7',
      area: 'parser',
    });
    expect(next.contract).toMatchObject({ defined_by_repo: false, repo: 'acme/app' });
    const resource = await client.readResource({ uri: LEASES_RESOURCE_URI }, CALL_TIMEOUT);
    const listed = JSON.parse((resource.contents[0] as { text: string }).text) as {
      leases: LeaseForAgent[];
    };
    expect(listed.leases.map((l) => l.task_id)).toEqual([issueTask.task_id]);

    // The keep-alive heartbeat runs on its own while the MCP server does.
    const seen = (await admin.listWorkers())[0]!.last_heartbeat_at!;
    await until(
      async () => (await admin.listWorkers())[0]!.last_heartbeat_at! > seen,
      'a keep-alive heartbeat',
    );

    const started = await call<Task>(client, 'report_progress', {
      task_id: issueTask.task_id,
      status: 'in_progress',
      message: 'reproduced',
    });
    expect(started.status).toBe('in_progress');
    const opened = await call<Task>(client, 'open_pr', {
      task_id: issueTask.task_id,
      pr_url: 'https://github.com/acme/app/pull/8',
      commit_sha: 'abc123',
    });
    expect(opened).toMatchObject({
      status: 'pr_opened',
      artifact: { pr_url: 'https://github.com/acme/app/pull/8', commit_sha: 'abc123' },
    });
    expect(await callError(client, 'open_pr', { task_id: 'nope', pr_url: 'not a url' })).toMatch(
      /pr_url|url/i,
    );

    // Another task: taken, then given back.
    const second = await admin.createTask({ repo: 'acme/app', title: 'Docs', required_skills: [] });
    expect((await call<NextTask>(client, 'next_task')).lease?.task_id).toBe(second.task_id);
    expect(
      await call(client, 'release', { task_id: second.task_id, reason: 'not my area' }),
    ).toEqual({ ok: true, task_id: second.task_id, status: 'ready' });
    expect((await admin.getTask(second.task_id)).status).toBe('ready');
    expect(await callError(client, 'release', { task_id: second.task_id })).toContain(
      'not_lease_holder',
    );
    expect(stderr()).toContain(`serving on stdio for ${server.base} (not registered yet)`);
    expect(stderr()).not.toContain(saved.token);
  }, 60_000);
});

describe('owp mcp when an admin gives its worker a new token', () => {
  it('says at every refused call how to take the new token, and takes it without a restart', async () => {
    const dir = tempDir();
    const { server, admin } = await serveIn(dir);
    const config = join(dir, 'worker.json');
    const { client } = await connect(['--url', server.base, '--config', config, 'mcp'], dir);
    const { worker_id } = await call<{ worker_id: string }>(client, 'register', { name: 'agent' });

    const { token } = await admin.replaceWorkerToken(worker_id);
    const refused = await callError(client, 'my_leases');
    expect(refused).toContain('The worker token is not valid. (unauthorized)');
    expect(refused).toContain('have it saved with `owp worker token`');

    const saved = JSON.parse(readFileSync(config, 'utf8')) as Record<string, string>;
    writeFileSync(config, JSON.stringify({ ...saved, token }), { mode: 0o600 });
    await expect(call(client, 'my_leases')).resolves.toEqual({ leases: [] });
  });
});

describe('owp mcp --db (no server)', () => {
  it('works on a local SQLite file through the engine, and the work lands in that file', async () => {
    const dir = tempDir();
    const db = join(dir, 'pool.db');
    const seed = new BetterSqlite3Driver({ path: db });
    const engine = new Scheduler({ driver: seed, clock: systemClock });
    engine.upsertRepo({ repo: 'demo' });
    const task = engine.createTask({ repo: 'demo', title: 'Local task', description: 'Do it.' });
    seed.close();

    const { client } = await connect(
      ['--config', join(dir, 'worker.json'), 'mcp', '--db', db, '--heartbeat', '1'],
      dir,
    );
    await call(client, 'register', { name: 'local agent' });
    const next = await call<NextTask>(client, 'next_task');
    expect(next.lease).toMatchObject({ task_id: task.task_id, description: 'Do it.' });
    await call(client, 'open_pr', {
      task_id: task.task_id,
      pr_url: 'https://example.com/demo/pull/1',
    });
    const { leases } = await call<{ leases: LeaseForAgent[] }>(client, 'my_leases');
    // With its PR open the task waits for review: it is no longer one of the worker's leases.
    expect(leases).toEqual([]);
    await client.close();

    const check = new BetterSqlite3Driver({ path: db });
    cleanups.push(() => check.close());
    const after = new Scheduler({ driver: check, clock: systemClock }).getTask(task.task_id);
    expect(after).toMatchObject({
      status: 'pr_opened',
      artifact: { pr_url: 'https://example.com/demo/pull/1' },
    });
  }, 60_000);

  it('starts with an unreadable credentials file and says so through the tools', async () => {
    const dir = tempDir();
    const config = join(dir, 'worker.json');
    writeFileSync(config, '{not json');
    // Was: the process died at start; the agent saw only "connection closed".
    const { client } = await connect(
      ['--url', 'http://127.0.0.1:9', '--config', config, 'mcp'],
      dir,
    );
    expect(await callError(client, 'next_task')).toContain(`${config} is not valid JSON`);
  }, 60_000);

  it('names the server it cannot reach, instead of a bare "fetch failed"', async () => {
    const dir = tempDir();
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((ready) => probe.listen(0, '127.0.0.1', ready));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((done) => probe.close(() => done()));
    const { client } = await connect(
      ['--url', `http://127.0.0.1:${port}`, '--config', join(dir, 'worker.json'), 'mcp'],
      dir,
    );
    expect(await callError(client, 'register', { name: 'agent' })).toContain(
      `cannot reach http://127.0.0.1:${port}`,
    );
  }, 60_000);
});
