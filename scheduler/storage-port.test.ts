import { afterEach, describe, expect, it, vi } from 'vitest';
import { rowFactory } from './storage-port.ts';

describe('rowFactory', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('builds a row keyed by column name, in column order', () => {
    const toRow = rowFactory(['id', 'n', 'note']);
    const row = toRow(['a', 1, null]);
    expect(row).toEqual({ id: 'a', n: 1, note: null });
    expect(Object.keys(row)).toEqual(['id', 'n', 'note']);
    // Each call builds a new object: callers may keep or change the rows they get.
    expect(toRow(['a', 1, null])).not.toBe(row);
  });

  it('lets a later column of the same name win, as SQLite drivers do', () => {
    expect(rowFactory(['v', 'v'])([1, 2])).toEqual({ v: 2 });
  });

  it('keeps names that are not identifiers, quotes and all', () => {
    const names = ['count(*)', 'a "b"', "it's", 'back\\slash', 'line\nbreak', '1st', ''];
    const row = rowFactory(names)(names.map((_, i) => i));
    expect(Object.entries(row)).toEqual(names.map((name, i) => [name, i]));
  });

  it('makes a column named __proto__ an own property, not the prototype', () => {
    const row = rowFactory(['__proto__', 'x'])([{ polluted: true }, 1]);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.hasOwn(row, '__proto__')).toBe(true);
    expect((row as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('falls back to setting the keys one by one where code generation is refused', () => {
    let refused = 0;
    vi.stubGlobal(
      'Function',
      class {
        constructor() {
          refused++;
          throw new EvalError('Refused to evaluate a string as JavaScript (CSP)');
        }
      },
    );
    const toRow = rowFactory(['id', 'v', 'v', '__proto__']);
    const row = toRow(['a', 1, 2, 3]);
    expect(refused).toBe(1);
    expect(row).toEqual({ id: 'a', v: 2, ['__proto__']: 3 });
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });
});
