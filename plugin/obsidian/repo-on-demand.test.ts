import { expect, it } from 'vitest';
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { LocalOwpApi } from '../../scheduler/local-api.ts';
import { SqlJsDriver } from '../embedded/sqljs-driver.ts';
import { creatingReposOnDemand } from './repo-on-demand.ts';

it('creates an unknown repo before its first task, and passes everything else through', async () => {
  const engine = new Scheduler({ driver: await SqlJsDriver.open(), clock: systemClock });
  const api = new LocalOwpApi(engine, { admin: true });
  await expect(api.createTask({ repo: 'notes', title: 'First' })).rejects.toMatchObject({
    code: 'unknown_repo',
  });
  const wrapped = creatingReposOnDemand(api);
  const task = await wrapped.createTask({ repo: 'notes', title: 'First' });
  expect(task.repo).toBe('notes');
  expect((await wrapped.listRepos()).map((r) => r.repo)).toEqual(['notes']);
  await expect(wrapped.getTask('t_missing')).rejects.toMatchObject({ code: 'task_not_found' });
});
