import { runApiContract } from '../protocol/conformance/api.case.test.ts';
import { SqlJsDriver } from '../plugin/embedded/sqljs-driver.ts';
import { systemClock } from './clock.ts';
import { Scheduler } from './engine.ts';
import { LocalOwpApi } from './local-api.ts';

// The embedded backend: the engine in-process on sql.js, as the plugin runs it.
runApiContract('in-process engine on sql.js', async () => {
  const engine = new Scheduler({ driver: await SqlJsDriver.open(), clock: systemClock });
  return {
    admin: new LocalOwpApi(engine, { admin: true }),
    asWorker: (token) => new LocalOwpApi(engine, { workerToken: token }),
    anonymous: new LocalOwpApi(engine, {}),
  };
});
