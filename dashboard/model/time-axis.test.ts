import { describe, expect, it } from 'vitest';
import { timeAxisFormats, timeAxisLabels } from './time-axis.ts';

const formats = timeAxisFormats('en-US', 'UTC');
const at = (iso: string) => Date.parse(iso) / 1000;

describe('time axis labels', () => {
  it('gives each tick one line, with the day only under the first', () => {
    // A pool a few minutes old: ticks 30 s apart (uPlot's default put "11/27/26 6:45am" first).
    const splits = [at('2026-11-27T06:45:30Z'), at('2026-11-27T06:46:00Z')];
    expect(timeAxisLabels(splits, 30, formats)).toEqual(['6:45:30 AM\nNov 27', '6:46:00 AM']);
    expect(
      timeAxisLabels([at('2026-11-27T06:00:00Z'), at('2026-11-27T12:00:00Z')], 21_600, formats),
    ).toEqual(['6:00 AM\nNov 27', '12:00 PM']);
  });

  it('names the day again where a new one starts, and days alone when ticks are days apart', () => {
    const splits = [
      at('2026-11-26T18:00:00Z'),
      at('2026-11-27T00:00:00Z'),
      at('2026-11-27T06:00:00Z'),
    ];
    expect(timeAxisLabels(splits, 21_600, formats)).toEqual([
      '6:00 PM\nNov 26',
      '12:00 AM\nNov 27',
      '6:00 AM',
    ]);
    expect(
      timeAxisLabels([at('2026-11-26T00:00:00Z'), at('2026-11-27T00:00:00Z')], 86_400, formats),
    ).toEqual(['Nov 26', 'Nov 27']);
  });
});
