import { describe, expect, it } from 'vitest';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { EngineHarness } from '../../scheduler/testing/engine-harness.ts';
import { BetterSqlite3Driver } from '../../server/better-sqlite3-driver.ts';
import {
  actorLabel,
  auditQueryOf,
  EMPTY_AUDIT_FILTERS,
  exportAudit,
  type AuditFilterForm,
} from './audit-log.ts';

/** An engine with a little history, read through the in-process API as the admin. */
function aPool() {
  const h = new EngineHarness(new BetterSqlite3Driver({ path: ':memory:' }));
  h.repo({ repo: 'acme/app' });
  const alice = h.onlineWorker({ name: 'Alice' });
  const task = h.task({ repo: 'acme/app', title: 'Fix "login", again' });
  h.engine.updateStatus(alice, task.task_id, { status: 'in_progress' });
  return { h, api: new LocalOwpApi(h.engine, { admin: true }) };
}

describe('the audit filter form', () => {
  it('leaves empty inputs out and reads local times as instants', () => {
    expect(auditQueryOf(EMPTY_AUDIT_FILTERS)).toEqual({
      type: undefined,
      actor: undefined,
      task_id: undefined,
      repo: undefined,
      since: undefined,
      until: undefined,
    });
    const form: AuditFilterForm = {
      type: 'task.created',
      actor: ' admin ',
      task: 't_0001',
      repo: 'acme/app',
      since: '2026-01-17T12:00',
      until: '2026-01-17T13:30',
    };
    expect(auditQueryOf(form)).toEqual({
      type: 'task.created',
      actor: 'admin',
      task_id: 't_0001',
      repo: 'acme/app',
      since: new Date(2026, 0, 17, 12, 0).toISOString(),
      until: new Date(2026, 0, 17, 13, 30).toISOString(),
    });
  });

  it('takes an actor by the name the log shows, in any case, as well as by id', () => {
    const workers = [
      { worker_id: 'w_1', name: 'Alice' },
      { worker_id: 'w_2', name: 'Bob' },
      { worker_id: 'w_3', name: 'Bob' },
    ];
    const actor = (typed: string) =>
      auditQueryOf({ ...EMPTY_AUDIT_FILTERS, actor: typed }, workers).actor;
    expect(actor(' alice ')).toBe('w_1');
    expect(actor('Admin')).toBe('admin');
    expect(actor('SYSTEM')).toBe('system');
    expect(actor('w_2')).toBe('w_2');
    // Two workers of one name: which one is meant is not known; the text goes as typed.
    expect(actor('Bob')).toBe('Bob');
    expect(actor('')).toBeUndefined();
  });

  it('names the actor: the admin, the system, a worker by name, or unknown for old events', () => {
    const names = {
      taskTitle: () => undefined,
      workerName: (id: string) => (id === 'w_1' ? 'Alice' : undefined),
    };
    expect(actorLabel('admin', names)).toBe('Admin');
    expect(actorLabel('system', names)).toBe('System');
    expect(actorLabel('w_1', names)).toBe('Alice');
    expect(actorLabel('w_2', names)).toBe('w_2');
    expect(actorLabel(null, names)).toBe('unknown');
  });
});

describe('exporting the audit log', () => {
  it('writes the same CSV bytes the server exports, every page of it', async () => {
    const { h, api } = aPool();
    for (let i = 0; i < 1100; i++) h.task({ repo: 'acme/app', title: `T${i}` });
    const file = await exportAudit(api, { repo: 'acme/app' }, 'csv');
    expect(file).toMatchObject({ filename: 'owp-audit.csv', mime: 'text/csv;charset=utf-8' });
    // The repo, the first task, its grant and start, 1100 more tasks, and two of them granted to
    // Alice (she takes three at a time).
    expect(file.count).toBe(1106);
    expect(file.truncated).toBe(false);
    const lines = file.content.split('\r\n');
    expect(lines[0]).toBe('seq,at,type,actor,repo,task_id,worker_id,data');
    expect(lines[2]).toBe(
      '4,2026-01-17T12:00:00.000Z,task.created,admin,acme/app,t_0001,,' +
        '"{""title"":""Fix \\""login\\"", again"",""priority"":10}"',
    );
    expect(lines).toHaveLength(1106 + 2);
  });

  it('stops at the most an export takes, and says the file is cut', async () => {
    const { api } = aPool();
    const file = await exportAudit(api, {}, 'json', 3);
    expect(file).toMatchObject({ filename: 'owp-audit.json', count: 3, truncated: true });
    const parsed = JSON.parse(file.content) as { events: { seq: number }[]; next_after: number };
    expect(parsed.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(parsed.next_after).toBe(3);
  });
});
