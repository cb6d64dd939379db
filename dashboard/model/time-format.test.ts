import { describe, expect, it } from 'vitest';
import { formatAgo, formatDeadline, formatDuration, formatSpan } from './time-format.ts';

const NOW = Date.parse('2026-01-17T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe('times as the dashboard shows them', () => {
  it('says how long ago, in the largest unit that fits', () => {
    expect(formatAgo(null, NOW)).toBe('never');
    expect(formatAgo(ago(2_000), NOW)).toBe('just now');
    expect(formatAgo(ago(12_000), NOW)).toBe('12 s ago');
    expect(formatAgo(ago(4 * 60_000 + 59_000), NOW)).toBe('4 min ago');
    expect(formatAgo(ago(3 * 3_600_000), NOW)).toBe('3 h ago');
    expect(formatAgo(ago(50 * 3_600_000), NOW)).toBe('2 d ago');
  });

  it('says when a lease runs out, or how long ago it did', () => {
    expect(formatDeadline(ago(-12 * 60_000), NOW)).toBe('in 12 min');
    expect(formatDeadline(ago(2 * 60_000), NOW)).toBe('expired 2 min ago');
    expect(formatDeadline(null, NOW)).toBe('no deadline');
  });

  it('rounds durations down', () => {
    expect(formatDuration(59_999)).toBe('59 s');
    expect(formatDuration(3_600_000)).toBe('1 h');
  });

  it('reads a span in its two largest units', () => {
    expect(formatSpan(0)).toBe('0 s');
    expect(formatSpan(45_000)).toBe('45 s');
    expect(formatSpan(40 * 60_000)).toBe('40 min');
    expect(formatSpan(65 * 60_000 + 30_000)).toBe('1 h 5 min');
    expect(formatSpan(51 * 3_600_000 + 59 * 60_000)).toBe('2 d 3 h');
    expect(formatSpan(86_400_000 + 30_000)).toBe('1 d');
  });
});
