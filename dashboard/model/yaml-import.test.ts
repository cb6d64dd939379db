import { afterEach, describe, expect, it } from 'vitest';
import { OwpClient, type Transport } from '../../protocol/client.ts';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { buildApp } from '../../server/app.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import { previewImport, runImport, type ImportRow } from './yaml-import.ts';

const FILE = `# tasks for the docs sprint
- title: Write the upgrade guide
  priority: 20
- title: Broken item
  priority: high
- title: Add a changelog check
  estimate_points: 2
- title: Misspelt field
  priorty: 5
`;

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** The protocol client against the real app, through inject (no port). */
function clientForApp() {
  const engine = new Scheduler({
    driver: new BetterSqlite3Driver({ path: ':memory:' }),
    clock: systemClock,
  });
  const app = buildApp({ engine, adminToken: 'import-test-admin-token' });
  closers.push(() => app.close());
  const transport: Transport = async (request) => {
    const res = await app.inject({
      method: request.method as 'POST',
      url: request.url.replace(/^http:\/\/[^/]+/, ''),
      headers: request.headers,
      payload: request.body,
    });
    return {
      status: res.statusCode,
      json: res.body ? res.json() : undefined,
      replayed: res.headers['idempotent-replayed'] === 'true',
    };
  };
  const client = new OwpClient({
    baseUrl: 'http://owp.test',
    adminToken: 'import-test-admin-token',
    transport,
  });
  return { engine, client };
}

describe('importing tasks from YAML in the page', () => {
  it('lists every item with its line and the problem of each bad one, an unknown key included', () => {
    const preview = previewImport(FILE);
    expect(preview.fileError).toBeNull();
    expect(preview.rows.map((r) => [r.item, r.title, r.problem])).toEqual([
      [1, 'Write the upgrade guide', null],
      [2, 'Broken item', expect.stringMatching(/^priority: /)],
      [3, 'Add a changelog check', null],
      [4, 'Misspelt field', 'priorty: not a task field (did you mean priority?)'],
    ]);
    expect(preview.rows[1]).toMatchObject({
      line: 4,
      problem: expect.stringMatching(/^priority: /),
    });
    expect(preview.valid.map((v) => v.item)).toEqual([1, 3]);
  });

  it('refuses a file that is not YAML or not a list, as a whole', () => {
    expect(previewImport('title: [unclosed').fileError).toMatch(/not valid YAML/);
    expect(previewImport('title: one task\n').fileError).toMatch(/list/);
    expect(previewImport('').fileError).toMatch(/no tasks/);
  });

  it('creates the valid items in file order, reporting each on its own row', async () => {
    const { engine, client } = clientForApp();
    engine.upsertRepo({ repo: 'docs' });
    const preview = previewImport(FILE);
    const progress: Array<[number, number]> = [];
    const outcomes = new Map<number, ImportRow['outcome']>();
    const run = await runImport(client, 'docs', preview, {
      signal: new AbortController().signal,
      onProgress: (sent, total) => progress.push([sent, total]),
      onRow: (item, outcome) => outcomes.set(item, outcome),
    });
    expect(run).toEqual({ created: 2, earlier: 0, failed: 0, stopped: null });
    expect(progress).toEqual([
      [1, 2],
      [2, 2],
    ]);
    const tasks = engine.listTasks({ repo: 'docs' }).tasks;
    expect(tasks.map((t) => [t.title, t.priority, t.estimate_points])).toEqual([
      ['Write the upgrade guide', 20, 1],
      ['Add a changelog check', 10, 2],
    ]);
    expect(outcomes.get(3)).toEqual({ kind: 'created', taskId: tasks[1]!.task_id, earlier: false });
    expect(outcomes.has(2)).toBe(false);

    // The same file again (a page reloaded after a run cut short): the items already made are
    // answered with their tasks, marked so, and none is made twice.
    const again = await runImport(client, 'docs', previewImport(FILE), {
      signal: new AbortController().signal,
      onProgress: () => {},
      onRow: (item, outcome) => outcomes.set(item, outcome),
    });
    expect(again).toEqual({ created: 2, earlier: 2, failed: 0, stopped: null });
    expect(engine.listTasks({ repo: 'docs' }).tasks).toHaveLength(2);
    expect(outcomes.get(3)).toEqual({ kind: 'created', taskId: tasks[1]!.task_id, earlier: true });
  });

  it('shows the server’s refusal on the item it refused', async () => {
    const { client } = clientForApp();
    const outcomes = new Map<number, ImportRow['outcome']>();
    const run = await runImport(client, 'no-such-repo', previewImport(FILE), {
      signal: new AbortController().signal,
      onProgress: () => {},
      onRow: (item, outcome) => outcomes.set(item, outcome),
    });
    expect(run).toEqual({ created: 0, earlier: 0, failed: 2, stopped: null });
    expect(outcomes.get(1)).toEqual({
      kind: 'failed',
      code: 'unknown_repo',
      message: expect.stringContaining('no-such-repo'),
    });
  });
});
