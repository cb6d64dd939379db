import { describe, expect, it } from 'vitest';
import { agoText, clockTime, countdownText, isPast, spanText } from './time-text.ts';

const NOW = Date.parse('2026-01-17T12:00:00Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();

describe('countdownText', () => {
  it.each([
    [30_000, '<1m left'],
    [45 * 60_000, '45m left'],
    [2 * 3600_000 + 5 * 60_000, '2h 05m left'],
    [3 * 86_400_000 + 4 * 3600_000 + 59 * 60_000, '3d 4h left'],
    [0, 'expired'],
    [-60_000, 'expired'],
  ])('%i ms ahead reads %s', (ms, text) => {
    expect(countdownText(at(ms), NOW)).toBe(text);
  });

  it('is null without a deadline', () => {
    expect(countdownText(null, NOW)).toBeNull();
  });
});

describe('isPast', () => {
  it('tells a passed deadline from a future one or none', () => {
    expect(isPast(at(-1), NOW)).toBe(true);
    expect(isPast(at(1), NOW)).toBe(false);
    expect(isPast(null, NOW)).toBe(false);
  });
});

describe('clockTime', () => {
  it('shows local hours and minutes, zero-padded', () => {
    const local = new Date(2026, 0, 17, 9, 5);
    expect(clockTime(local.toISOString())).toBe('09:05');
  });
});

describe('agoText', () => {
  it.each([
    [10_000, 'just now'],
    [5 * 60_000, '5m ago'],
    [3 * 3600_000, '3h ago'],
    [2 * 86_400_000, '2d ago'],
  ])('%i ms ago reads %s', (ms, text) => {
    expect(agoText(at(-ms), NOW)).toBe(text);
  });

  it('says never without a time', () => {
    expect(agoText(null, NOW)).toBe('never');
  });
});

describe('spanText', () => {
  it.each([
    [45_000, '45s'],
    [40 * 60_000, '40m'],
    [65 * 60_000, '1h 05m'],
    [51 * 3600_000, '2d 3h'],
  ])('%i ms reads %s', (ms, text) => {
    expect(spanText(ms)).toBe(text);
  });
});
