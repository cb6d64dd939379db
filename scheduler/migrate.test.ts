import { describe, expect, it } from 'vitest';
import { BetterSqlite3Driver } from '../server/better-sqlite3-driver.ts';
import { migrate, newestSchema, pendingUpgrade } from './migrate.ts';
import { migrations } from './sql/migrations.generated.ts';
import { ManualClock } from './testing/manual-clock.ts';

const clock = new ManualClock();

describe('migrate', () => {
  it('applies every migration once, in order, and records it', () => {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    expect(migrate(driver, clock)).toEqual(migrations.map((m) => m.id));
    expect(migrate(driver, clock)).toEqual([]);
    expect(driver.all('SELECT id, name FROM owp_migrations')).toEqual(
      migrations.map((m) => ({ id: m.id, name: m.name })),
    );
  });

  it('tells a pending upgrade: from the schema a database is at to the newest, none for a new one', () => {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    expect(pendingUpgrade(driver)).toBeNull();
    migrate(driver, clock, migrations.slice(0, -1));
    expect(pendingUpgrade(driver)).toEqual({
      from: migrations.at(-2)!.id,
      to: newestSchema(),
    });
    migrate(driver, clock);
    expect(pendingUpgrade(driver)).toBeNull();
  });

  it('leaves no trace of a migration that fails half-way', () => {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    const broken = [
      ...migrations,
      {
        id: 999,
        name: '0999-broken.sql',
        sql: 'CREATE TABLE half (x); SELECT * FROM no_such_table;',
      },
    ];
    expect(() => migrate(driver, clock, broken)).toThrow(/no_such_table/);
    expect(driver.get("SELECT name FROM sqlite_master WHERE name = 'half'")).toBeUndefined();
    expect(
      driver.all('SELECT id FROM owp_migrations').map((r) => (r as { id: number }).id),
    ).toEqual(migrations.map((m) => m.id));
  });

  it('refuses a database written by a newer version', () => {
    const driver = new BetterSqlite3Driver({ path: ':memory:' });
    migrate(driver, clock);
    driver.run("INSERT INTO owp_migrations (id, name, applied_at) VALUES (9999, 'future', 0)");
    expect(() => migrate(driver, clock)).toThrow(/newer than this build knows/);
  });
});
