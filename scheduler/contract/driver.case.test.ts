import { describe, expect, it } from 'vitest';
import type { DriverFactory } from '../testing/engine-harness.ts';

/** What the engine relies on from a driver's rows, whatever builds them (`rowFactory`). */
export function driverCases(makeDriver: DriverFactory): void {
  describe('driver rows', () => {
    it('returns rows as objects keyed by column name, as the SQLite library itself would', async () => {
      const driver = await makeDriver();
      driver.exec('CREATE TABLE t (id TEXT, n INTEGER, note TEXT)');
      driver.run('INSERT INTO t VALUES ($id, $n, NULL)', { id: 'a', n: 1 });
      driver.run('INSERT INTO t VALUES ($id, $n, $note)', { id: 'b', n: 2, note: 'x' });
      expect(driver.get('SELECT * FROM t WHERE id = $id', { id: 'b' })).toEqual({
        id: 'b',
        n: 2,
        note: 'x',
      });
      expect(driver.get('SELECT * FROM t WHERE id = $id', { id: 'zz' })).toBeUndefined();
      expect(driver.all('SELECT id, n * 10 AS tens FROM t ORDER BY id')).toEqual([
        { id: 'a', tens: 10 },
        { id: 'b', tens: 20 },
      ]);
      expect(driver.all('SELECT * FROM t WHERE id = $id', { id: 'zz' })).toEqual([]);
      // Two columns of one name: the later wins, as in the libraries' own objects.
      expect(driver.get('SELECT 1 AS v, 2 AS v')).toEqual({ v: 2 });
      expect(driver.get('UPDATE t SET n = n + 1 WHERE id = $id RETURNING n', { id: 'a' })).toEqual({
        n: 2,
      });
      driver.close();
    });

    it('names the columns a cached query has after the schema changed under it', async () => {
      const driver = await makeDriver();
      driver.exec('CREATE TABLE t (id TEXT, note TEXT)');
      driver.run("INSERT INTO t VALUES ('a', 'x')");
      const read = () => driver.get('SELECT * FROM t');
      expect(read()).toEqual({ id: 'a', note: 'x' });
      driver.exec('ALTER TABLE t ADD COLUMN extra INTEGER');
      expect(read()).toEqual({ id: 'a', note: 'x', extra: null });
      // The same number of columns under other names: only the migration path can tell.
      driver.exec('ALTER TABLE t RENAME COLUMN note TO remark');
      expect(read()).toEqual({ id: 'a', remark: 'x', extra: null });
      // DDL through run(), which keeps the cache: the changed column count gives it away.
      driver.run('ALTER TABLE t DROP COLUMN remark');
      expect(read()).toEqual({ id: 'a', extra: null });
      expect(driver.all('SELECT * FROM t')).toEqual([{ id: 'a', extra: null }]);
      driver.close();
    });
  });

  describe('driver read version', () => {
    it('stays while only the engine’s own statements commit, and moves on a rollback or exec', async () => {
      const driver = await makeDriver();
      expect(driver.readVersion).toBeTypeOf('function');
      const version = () => driver.readVersion!();
      driver.exec('CREATE TABLE t (n INTEGER)');
      const start = version();
      driver.transaction(() => driver.run('INSERT INTO t VALUES (1)'));
      driver.run('INSERT INTO t VALUES (2)');
      driver.get('SELECT COUNT(*) AS n FROM t');
      expect(version()).toBe(start);

      /** A transaction (or savepoint) that writes, then throws: rolled back. */
      const failedWrite = (n: number) => () =>
        driver.transaction(() => {
          driver.run('INSERT INTO t VALUES ($n)', { n });
          throw new Error(`undo ${n}`);
        });

      // A savepoint rolled back inside a transaction that commits.
      driver.transaction(() => expect(failedWrite(3)).toThrow('undo 3'));
      const afterSavepoint = version();
      expect(afterSavepoint).not.toBe(start);
      expect(version()).toBe(afterSavepoint);

      // A whole transaction rolled back.
      expect(failedWrite(4)).toThrow('undo 4');
      const afterRollback = version();
      expect(afterRollback).not.toBe(afterSavepoint);

      driver.exec('DELETE FROM t');
      expect(version()).not.toBe(afterRollback);
      driver.close();
    });
  });
}
