import { systemClock } from '../../scheduler/clock.ts';
import { migrate } from '../../scheduler/migrate.ts';
import { migrations } from '../../scheduler/sql/migrations.generated.ts';
import type { BinaryStore } from '../embedded/binary-store.ts';
import { Persister } from '../embedded/persister.ts';
import { SqlJsDriver } from '../embedded/sqljs-driver.ts';

/**
 * Saves into `store` an embedded pool as an older plugin left it: its database at the schema
 * before the newest, as a generation the persister loads. The two schema versions.
 */
export async function savedAtOlderSchema(
  store: BinaryStore,
): Promise<{ from: number; to: number }> {
  const older = await SqlJsDriver.open();
  migrate(older, systemClock, migrations.slice(0, -1));
  const persister = new Persister(store, { exportBytes: () => older.export() });
  persister.markDirty();
  await persister.close();
  older.close();
  return { from: migrations.at(-2)!.id, to: migrations.at(-1)!.id };
}
