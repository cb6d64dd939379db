import { migrations as bundledMigrations, type Migration } from './sql/migrations.generated.ts';
import type { Clock } from './clock.ts';
import type { SqlDriver } from './storage-port.ts';

/**
 * Brings the database up to the newest schema: each pending migration runs in its own transaction
 * and is recorded, so a crash mid-way leaves the database at the last whole version.
 * Returns the ids applied now.
 */
export function migrate(
  driver: SqlDriver,
  clock: Clock,
  migrations: readonly Migration[] = bundledMigrations,
): number[] {
  driver.exec(
    'CREATE TABLE IF NOT EXISTS owp_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
  );
  const applied = new Set(
    driver.all<{ id: number }>('SELECT id FROM owp_migrations').map((row) => row.id),
  );
  const newest = Math.max(0, ...applied);
  const known = newestSchema(migrations);
  if (newest > known) {
    throw new Error(
      `The database is at schema version ${newest}, newer than this build knows (${known}); upgrade OWP Pool.`,
    );
  }
  const ran: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.id)) continue;
    driver.transaction(() => {
      driver.exec(migration.sql);
      driver.run('INSERT INTO owp_migrations (id, name, applied_at) VALUES ($id, $name, $at)', {
        id: migration.id,
        name: migration.name,
        at: clock.now(),
      });
    });
    ran.push(migration.id);
  }
  return ran;
}

/** The newest schema this build knows: the id of its last migration. */
export function newestSchema(migrations: readonly Migration[] = bundledMigrations): number {
  return Math.max(0, ...migrations.map((m) => m.id));
}

/**
 * Whether opening this database will migrate it: the schema it is at and the one it goes to, or
 * null for a new database (nothing to lose) or one already at the newest schema. Read only: the
 * host keeps a copy of the database as it was before it lets the engine migrate it.
 */
export function pendingUpgrade(
  driver: SqlDriver,
  migrations: readonly Migration[] = bundledMigrations,
): { from: number; to: number } | null {
  const table = driver.get(
    "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'owp_migrations'",
  );
  if (!table) return null;
  const from = driver.get<{ id: number | null }>('SELECT MAX(id) AS id FROM owp_migrations')?.id;
  const to = newestSchema(migrations);
  return from && from < to ? { from, to } : null;
}
