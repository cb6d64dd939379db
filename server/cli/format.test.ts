import { describe, expect, it } from 'vitest';
import { cellText, formatRecord, formatTable, progressBar, relativeTime } from './format.ts';

describe('formatTable', () => {
  const rows = [
    { id: 't_1', title: 'Short', points: 1 },
    { id: 't_22', title: 'A much longer title', points: 13 },
  ];

  it('aligns columns under their headers, numbers to the right, without trailing spaces', () => {
    const table = formatTable(rows, [
      { header: 'ID', value: (r) => r.id },
      { header: 'PTS', value: (r) => r.points, align: 'right' },
      { header: 'TITLE', value: (r) => r.title },
    ]);
    expect(table.split('\n')).toEqual([
      'ID    PTS  TITLE',
      't_1     1  Short',
      't_22   13  A much longer title',
    ]);
  });

  it('cuts long cells with an ellipsis at their column width', () => {
    const table = formatTable(rows, [{ header: 'TITLE', value: (r) => r.title, maxWidth: 8 }]);
    expect(table.split('\n')).toEqual(['TITLE', 'Short', 'A much …']);
  });

  it('replaces control characters so a title cannot drive the terminal', () => {
    const evil = [{ title: 'ok\u001b[2J\nnext line\rback' }];
    const table = formatTable(evil, [{ header: 'TITLE', value: (r) => r.title }]);
    const [, row] = table.split('\n');
    expect(row).toBe('ok [2J next line back');
    expect([...row!].every((char) => char.charCodeAt(0) >= 0x20)).toBe(true);
  });
});

describe('cells and records', () => {
  it('shows nothing as "-", lists joined and booleans as yes/no', () => {
    expect([null, undefined, '', [], ['a', 'b'], true, false, 0].map(cellText)).toEqual([
      '-',
      '-',
      '-',
      '-',
      'a,b',
      'yes',
      'no',
      '0',
    ]);
  });

  it('lines up labels and values', () => {
    expect(
      formatRecord([
        ['tasks ready', 4],
        ['area locks', true],
      ]),
    ).toBe('tasks ready  4\narea locks   yes');
  });
});

describe('relativeTime and progressBar', () => {
  const now = Date.parse('2026-01-17T12:00:00Z');

  it('says how far a timestamp is, in its coarsest unit', () => {
    expect(relativeTime('2026-01-17T12:30:00Z', now)).toBe('in 30m');
    expect(relativeTime('2026-01-17T11:59:57Z', now)).toBe('3s ago');
    expect(relativeTime('2026-01-19T12:00:00Z', now)).toBe('in 2d');
    expect(relativeTime(null, now)).toBe('-');
  });

  it('fills the bar in proportion and counts done/total', () => {
    expect(progressBar(0, 4, 8)).toBe('[--------] 0/4');
    expect(progressBar(2, 4, 8)).toBe('[####----] 2/4');
    expect(progressBar(4, 4, 8)).toBe('[########] 4/4');
  });
});
