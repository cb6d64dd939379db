/**
 * The embedded database writer, to be killed (issue 6 §6):
 *   node --import tsx reliability/embedded/engine-writer.ts <folder> <seed>
 * Loads the database saved in <folder> with the plugin's Persister over a real folder, runs the
 * scheduling engine on it (sql.js), and applies numbered changes as fast as it can — new tasks,
 * and edits to earlier ones with descriptions of varying size, so saves take long enough for
 * kills to land inside them. Prints, on stdout:
 *   loaded <k>              the newest change the loaded database holds
 *   change <k> <task> <v>   change k left task <task> at version <v> (in memory, not yet saved)
 *   saved <k> <seq>         a save holding every change up to k (and events up to seq) committed
 */
import { systemClock } from '../../scheduler/clock.ts';
import { Scheduler } from '../../scheduler/engine.ts';
import { Persister } from '../../plugin/embedded/persister.ts';
import { SqlJsDriver } from '../../plugin/embedded/sqljs-driver.ts';
import { FolderBinaryStore } from '../../plugin/testing/folder-binary-store.ts';
import { seededRandom } from '../support/seeded-random.ts';

const [folder, seedArg] = process.argv.slice(2);
if (!folder) throw new Error('usage: engine-writer.ts <folder> <seed>');
const random = seededRandom(Number(seedArg ?? 1));
const MAX_TASKS = 150;

/** Filled once the saved database is loaded; the persister exports through it. */
const open: { driver?: SqlJsDriver; engine?: Scheduler } = {};
let applied = 0;
let exported = { change: 0, seq: 0 };
const persister = new Persister(new FolderBinaryStore(folder), {
  debounceMs: 2,
  exportBytes: () => {
    const bytes = open.driver!.export();
    exported = { change: applied, seq: open.engine!.state().last_event_seq };
    return bytes;
  },
  onError: (error) => process.stderr.write(`save failed: ${String(error)}\n`),
});
persister.onSaved(() => process.stdout.write(`saved ${exported.change} ${exported.seq}\n`));

const driver = await SqlJsDriver.open((await persister.load()) ?? undefined);
const engine = new Scheduler({ driver, clock: systemClock });
Object.assign(open, { driver, engine });
engine.upsertRepo({ repo: 'embedded', max_open_prs: 0 });
const known = engine.listTasks({ repo: 'embedded', limit: 500 }).tasks;
applied = Math.max(0, ...known.map((task) => Number(/^change-(\d+)$/.exec(task.title)?.[1] ?? 0)));
const taskIds = known.map((task) => task.task_id);
process.stdout.write(`loaded ${applied}\n`);

const pad = (size: number) => 'x'.repeat(size);
for (let i = 0; i < 100_000; i++) {
  const change = applied + 1;
  const title = `change-${change}`;
  const create = taskIds.length < MAX_TASKS && (taskIds.length === 0 || random() < 0.3);
  const task = create
    ? engine.createTask({ repo: 'embedded', title, description: pad(2000) })
    : engine.updateTask(taskIds[Math.floor(random() * taskIds.length)]!, {
        title,
        description: pad(2000 + Math.floor(random() * 30_000)),
      });
  if (create) taskIds.push(task.task_id);
  applied = change;
  process.stdout.write(`change ${change} ${task.task_id} ${task.version}\n`);
  persister.markDirty();
  await new Promise((resolve) => setTimeout(resolve, 1));
}
