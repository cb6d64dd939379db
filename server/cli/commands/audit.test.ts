import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_ADMIN_TOKEN, startCliServer, type CliServer } from '../testing/cli-server.ts';
import { eventDetail, timeArg } from './audit.ts';

const MINUTE = 60_000;
let server: CliServer;

/**
 *   1 repo.upserted acme/app (admin, 12:00)   2 worker.registered w_0001 (12:00)
 *   3 worker.online w_0001 (12:00)            4 task.created t_0001 (admin, 12:01)
 *   5 grant t_0001 → w_0001 (system, 12:01)   6 start t_0001 (w_0001, 12:02)
 */
beforeEach(async () => {
  server = await startCliServer({ heartbeatTtlMs: 3600_000 });
  const { engine, clock } = server;
  engine.upsertRepo({ repo: 'acme/app', max_open_prs: 2 });
  const { worker_id } = engine.registerWorker({ name: 'Alice' });
  engine.heartbeat(worker_id, {});
  clock.advance(MINUTE);
  const task = engine.createTask({ repo: 'acme/app', title: 'Fix "login", again' });
  clock.advance(MINUTE);
  engine.updateStatus(worker_id, task.task_id, { status: 'in_progress' });
});
afterEach(async () => {
  await server.close();
});

describe('owp admin audit', () => {
  it('prints who did what as a table', async () => {
    const result = await server.owp(['admin', 'audit', '--repo', 'acme/app']);
    expect(result).toEqual({
      code: 0,
      stdout: [
        'SEQ  AT                        TYPE                 ACTOR   REPO      TASK    WORKER  DETAIL',
        '  1  2026-01-17T12:00:00.000Z  repo.upserted        admin   acme/app  -       -       budget 2, area locks on',
        '  4  2026-01-17T12:01:00.000Z  task.created         admin   acme/app  t_0001  -       “Fix "login", again”, priority 10',
        '  5  2026-01-17T12:01:00.000Z  task.status_changed  system  acme/app  t_0001  w_0001  ready → leased (grant)',
        '  6  2026-01-17T12:02:00.000Z  task.status_changed  w_0001  acme/app  t_0001  w_0001  leased → in_progress (start)',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('says the --limit default once in its help', async () => {
    const help = await server.owp(['admin', 'audit', '--help']);
    // Was: "(default 100) (default: 100)", the second added by commander.
    expect(help.stdout).toMatch(/--limit <n> +at most this many events \(default: 100\)\n/);
  });

  it('filters by type, actor, task and time, and says how to see more', async () => {
    const byWorker = await server.owp(['admin', 'audit', '--actor', 'w_0001', '--limit', '2']);
    expect(byWorker.stdout.split('\n').map((line) => line.trim().split(/\s+/)[0])).toEqual([
      'SEQ',
      '2',
      '3',
      '',
    ]);
    expect(byWorker.stderr).toBe('more: --after 3\n');
    const rest = await server.owp(['admin', 'audit', '--actor', 'w_0001', '--after', '3']);
    expect(rest.stdout).toContain('leased → in_progress (start)');
    expect(rest.stderr).toBe('');
    const json = await server.owp([
      '--json',
      'admin',
      'audit',
      '--type',
      'task.status_changed',
      '--task',
      't_0001',
      '--since',
      '2026-01-17T12:01:00Z',
      '--until',
      '2026-01-17T12:02:00Z',
    ]);
    expect(JSON.parse(json.stdout)).toEqual({
      events: [expect.objectContaining({ seq: 5, actor: 'system' })],
      next_after: null,
    });
  });

  it('writes the CSV the server exports, byte for byte, to a file', async () => {
    const result = await server.owp(['admin', 'audit', '--task', 't_0001', '--out', 'audit.csv']);
    expect(result).toEqual({ code: 0, stdout: '', stderr: 'wrote 3 events to audit.csv as CSV\n' });
    const file = readFileSync(join(server.cwd, 'audit.csv'), 'utf8');
    expect(file).toBe(
      'seq,at,type,actor,repo,task_id,worker_id,data\r\n' +
        '4,2026-01-17T12:01:00.000Z,task.created,admin,acme/app,t_0001,,' +
        '"{""title"":""Fix \\""login\\"", again"",""priority"":10}"\r\n' +
        '5,2026-01-17T12:01:00.000Z,task.status_changed,system,acme/app,t_0001,w_0001,' +
        '"{""from"":""ready"",""to"":""leased"",""cause"":""grant"",""lease_id"":""l_0001"",' +
        '""epoch"":1,""message"":null,""pr_url"":null,""version"":2}"\r\n' +
        '6,2026-01-17T12:02:00.000Z,task.status_changed,w_0001,acme/app,t_0001,w_0001,' +
        '"{""from"":""leased"",""to"":""in_progress"",""cause"":""start"",""lease_id"":""l_0001"",' +
        '""epoch"":1,""message"":null,""pr_url"":null,""version"":3}"\r\n',
    );
    const base = (await server.owp(['admin', 'audit', '--format', 'csv', '--task', 't_0001']))
      .stdout;
    expect(base).toBe(file);
    const fromServer = await fetch(`${server.url}/v1/audit/events?task_id=t_0001&format=csv`, {
      headers: { 'x-admin-token': CLI_ADMIN_TOKEN },
    });
    expect(await fromServer.text()).toBe(file);
    const json = await server.owp(['admin', 'audit', '--out', 'audit.json', '--limit', '1']);
    expect(json.stderr).toBe('wrote 1 events to audit.json as JSON\nmore: --after 1\n');
    expect(JSON.parse(readFileSync(join(server.cwd, 'audit.json'), 'utf8'))).toMatchObject({
      events: [{ seq: 1, type: 'repo.upserted', actor: 'admin' }],
      next_after: 1,
    });
  });

  it('reads page after page up to the limit', async () => {
    for (let i = 0; i < 1100; i++) server.engine.createTask({ repo: 'acme/app', title: `T${i}` });
    const result = await server.owp([
      'admin',
      'audit',
      '--type',
      'task.created',
      '--limit',
      '1050',
      '--format',
      'json',
    ]);
    const page = JSON.parse(result.stdout) as { events: { seq: number }[]; next_after: number };
    expect(page.events).toHaveLength(1050);
    expect(new Set(page.events.map((e) => e.seq)).size).toBe(1050);
    expect(page.next_after).toBe(page.events.at(-1)!.seq);
    expect(result.stderr).toBe(`more: --after ${page.next_after}\n`);
  });

  it('refuses a bad command line with exit 2 and a bad period with the server’s message', async () => {
    const badType = await server.owp(['admin', 'audit', '--type', 'task.exploded']);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain("option '--type <type>' argument 'task.exploded' is invalid");
    const badTime = await server.owp(['admin', 'audit', '--since', 'yesterday']);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('expected an ISO 8601 time');
    const backwards = await server.owp([
      'admin',
      'audit',
      '--since',
      '2026-01-17T13:00:00Z',
      '--until',
      '2026-01-17T12:00:00Z',
    ]);
    expect(backwards).toEqual({
      code: 1,
      stdout: '',
      stderr: 'owp: since must be before until. (validation_failed)\n',
    });
  });
});

describe('audit helpers', () => {
  it('reads a time as ISO 8601 or as a span back from now', () => {
    const now = Date.UTC(2026, 0, 17, 12, 0, 0);
    expect(timeArg('2026-01-17T13:00:00+01:00', undefined, now)).toBe('2026-01-17T12:00:00.000Z');
    expect(timeArg('90m', undefined, now)).toBe('2026-01-17T10:30:00.000Z');
    expect(timeArg('7d', undefined, now)).toBe('2026-01-10T12:00:00.000Z');
    expect(() => timeArg('2026-01-17', undefined, now)).toThrow('expected an ISO 8601 time');
  });

  it('summarizes an event it has no words for as its data', () => {
    expect(
      eventDetail({
        seq: 1,
        at: '2026-01-17T12:00:00.000Z',
        type: 'worker.paused',
        repo: null,
        task_id: null,
        worker_id: 'w_1',
        actor: 'admin',
        data: {},
      }),
    ).toBe('');
  });
});
