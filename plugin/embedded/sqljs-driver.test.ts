import { describe, expect, it } from 'vitest';
import { runEngineContract } from '../../scheduler/engine.case.test.ts';
import { EngineHarness } from '../../scheduler/testing/engine-harness.ts';
import { SqlJsDriver } from './sqljs-driver.ts';

runEngineContract('sql.js', () => SqlJsDriver.open());

describe('SqlJsDriver persistence', () => {
  it('exports to bytes that reopen with every task and event', async () => {
    const first = new EngineHarness(await SqlJsDriver.open());
    first.repo();
    const task = first.task({ title: 'Saved to bytes' });
    const bytes = (first.driver as SqlJsDriver).export();

    const second = new EngineHarness(await SqlJsDriver.open(bytes));
    expect(second.engine.getTask(task.task_id).title).toBe('Saved to bytes');
    expect(second.engine.events().map((e) => e.type)).toEqual(['repo.upserted', 'task.created']);
  });

  it('keeps foreign keys enforced after an export', async () => {
    const driver = await SqlJsDriver.open();
    new EngineHarness(driver);
    driver.export();
    expect(driver.get('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
    expect(() =>
      driver.run(
        `INSERT INTO tasks (id, repo, title, description, estimate_points, priority, skill_set_id,
                            tier, status, created_at, updated_at)
         VALUES ('t_x', 'no-such-repo', 'x', '', 1, 1, 0, 0, 'ready', 0, 0)`,
      ),
    ).toThrow(/FOREIGN KEY/);
  });

  it('refuses to export inside a transaction rather than write a torn copy', async () => {
    const driver = await SqlJsDriver.open();
    expect(() => driver.transaction(() => driver.export())).toThrow(/during a transaction/);
  });
});
