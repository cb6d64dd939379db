import { describe, expect, it } from 'vitest';
import { targetRows } from './report.mts';
import { betterWindow, type BenchResults, type LoadResult } from './results.mts';

const window = (requestsPerSecond: number, otherCpuPercent: number) => ({
  requestsPerSecond,
  otherCpuPercent,
});

describe('betterWindow', () => {
  it('keeps the window with more requests/s when both were quiet, or both shared', () => {
    expect(betterWindow(window(30_000, 2), window(28_000, 5))).toBe(true);
    expect(betterWindow(window(28_000, 2), window(30_000, 5))).toBe(false);
    expect(betterWindow(window(30_000, 60), window(28_000, 90))).toBe(true);
  });

  it('prefers a quiet window to a faster one that other work shared', () => {
    // A bare-route window slowed by other work would inflate the ratio; a faster shared OWP
    // window would too. Either way the quiet one is kept.
    expect(betterWindow(window(24_000, 2), window(26_000, 73))).toBe(true);
    expect(betterWindow(window(26_000, 73), window(24_000, 2))).toBe(false);
  });
});

describe('the heartbeat ratio target', () => {
  const heartbeat = (name: string, perSecond: number, otherCpuPercent: number): LoadResult =>
    ({
      name,
      mode: 'heartbeat',
      requestsPerSecond: perSecond,
      otherCpuPercent,
      calls: { heartbeat: { perSecond } },
    }) as unknown as LoadResult;
  const results = (bareOther: number, owpOther: number) =>
    ({
      load: {
        'bare-heartbeat': heartbeat('bare-heartbeat', 38_000, bareOther),
        'owp-heartbeat': heartbeat('owp-heartbeat', 17_000, owpOther),
      },
    }) as unknown as BenchResults;
  const ratioRow = (r: BenchResults) =>
    targetRows(r).find((row) => row.measure.startsWith('heartbeat req/s'))!;

  it('judges the ratio of two quiet windows', () => {
    expect(ratioRow(results(0, 3))).toMatchObject({
      mark: 'met',
      measured: '0.45 (17,000 ÷ 38,000)',
    });
  });

  it('does not judge a ratio when other work shared a window, and says what to do', () => {
    const row = ratioRow(results(73, 3));
    expect(row.mark).toBe('machine busy');
    expect(row.measured).toContain('73 % / 3 %');
    expect(row.measured).toContain('--only=baseline');
  });
});
